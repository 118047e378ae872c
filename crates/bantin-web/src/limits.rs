//! Per-address request limits (GCRA, via governor): sign-in attempts and every POST. Over the
//! limit the answer is 429 with `Retry-After`, before any database or hashing work.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::security::{ClientIp, wants_json};
use crate::{AppState, WebError, WebSettings};

/// The limiters of one process.
pub(crate) struct Limiters {
    login: DefaultKeyedRateLimiter<IpAddr>,
    posts: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"))
}

impl Limiters {
    pub(crate) fn new(settings: &WebSettings) -> Self {
        Self {
            login: RateLimiter::keyed(per_minute(settings.login_attempts_per_minute)),
            posts: RateLimiter::keyed(per_minute(settings.posts_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Seconds to wait when `ip` is over a limit for this request, else `None`.
    fn check(&self, ip: IpAddr, login: bool) -> Option<u64> {
        // Addresses that stopped sending are forgotten now and then, so memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.login.retain_recent();
            self.posts.retain_recent();
        }
        let wait = |r: &DefaultKeyedRateLimiter<IpAddr>| {
            r.check_key(&ip)
                .err()
                .map(|nu| nu.wait_time_from(self.clock.now()).as_secs() + 1)
        };
        if login && let Some(w) = wait(&self.login) {
            return Some(w);
        }
        wait(&self.posts)
    }
}

/// Whether a request is a sign-in attempt (the stricter limit).
fn is_login(req: &Request) -> bool {
    let path = req.uri().path();
    matches!(
        path,
        "/admin/login" | "/admin/login/two-step" | "/admin/forgot"
    ) || path.starts_with("/admin/reset/")
}

/// Applies the limits to POST requests.
pub(crate) async fn limit_posts(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(wait) = state.limiters().check(ip, is_login(&req)) else {
        return next.run(req).await;
    };
    tracing::info!(%ip, wait, path = req.uri().path(), "request limit reached");
    let message = state
        .catalog()
        .format("limit.too_many", &[("seconds", &wait.to_string())]);
    let mut res = if wants_json(req.headers()) {
        (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({ "ok": false, "message": message })),
        )
            .into_response()
    } else {
        WebError::Refused(StatusCode::TOO_MANY_REQUESTS, message).into_response()
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}
