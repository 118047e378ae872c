//! Protections every request passes: abusive request targets are refused before routing,
//! POSTs are limited per address, and every response carries the security headers (a strict
//! Content-Security-Policy among them: no inline scripts anywhere, the admin included).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};

use crate::client_ip::ClientIp;
use crate::error::wants_json;
use crate::routes::{is_login_attempt, uri_limit};
use crate::{AppState, WebError};

/// Adds the headers every response should carry unless it has its own.
pub fn add_security_headers(h: &mut HeaderMap, csp: &HeaderValue, hsts: bool) {
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| csp.clone());
    if hsts {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
}

/// The security headers, as a response mapper.
pub(crate) async fn security_headers(State(state): State<AppState>, mut res: Response) -> Response {
    add_security_headers(res.headers_mut(), state.csp(), state.settings().hsts);
    res
}

/// Rejects request targets no page of ours has: overlong ones (414) and paths holding
/// control characters or dot segments (404), before routing does any work.
pub(crate) async fn guard_request(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > uri_limit(uri.path()) {
        return (StatusCode::URI_TOO_LONG, "URI too long").into_response();
    }
    let path = uri.path();
    if path.split('/').any(|seg| seg == ".." || seg == ".") || path.contains("%00") {
        return WebError::NotFound.into_response();
    }
    next.run(req).await
}

/// Applies the per-address limits to POST requests (sign-in attempts have the stricter one),
/// answering 429 with `Retry-After` before any hashing or database work of the handler.
pub(crate) async fn limit_posts(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    // The API counts every request per token in its own limiter, answering in its own format.
    if req.method() != Method::POST || crate::routes::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let login = is_login_attempt(req.uri().path());
    let Some(wait) = state.limiters().check(ip, login) else {
        return next.run(req).await;
    };
    // The path is not logged: a reset link's token is part of it.
    tracing::info!(%ip, wait, login, "request limit reached");
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

/// After a request that may have changed something (a form's POST, the API's PUT, PATCH and
/// DELETE), waits until this process's caches reflect it, so the page fetched next shows the
/// change.
pub(crate) async fn settle_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let res = next.run(req).await;
    if write {
        state.settle().await;
    }
    res
}
