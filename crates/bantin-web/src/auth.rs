//! Who is signed in: the per-request session lookup with its idle and absolute limits, CSRF
//! tokens of the session's forms, the access gate of admin routes, and the idle warning added
//! to the pages signed-in users see (never to anonymous visitors: their pages stay cacheable).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Redirect, Response};
use bantin_app::{Actor, hash_token};
use bantin_core::UnixTime;
use bantin_core::access::{Capability, Rights};
use bantin_core::account::Role;
use bantin_store::{Session, User};
use minijinja::context;

use crate::client_ip::{ClientIp, secure_cookies};
use crate::cookies::{SESSION_COOKIE, removal};
use crate::error::wants_json;
use crate::routes::{LOGIN_PATH, SESSION_PATH, is_static};
use crate::{AppState, WebError};

/// The signed-in account of a request, put in the request's extensions by [`resolve`].
#[derive(Clone)]
pub struct CurrentUser {
    /// The account.
    pub user: Arc<User>,
    /// What it may do.
    pub rights: Rights,
    /// The session.
    pub session: Session,
    token_hash: String,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// The client address of the request.
    pub ip: String,
}

impl CurrentUser {
    /// Checks a form's or header's CSRF token.
    pub fn csrf_ok(&self, state: &AppState, token: &str) -> bool {
        token.len() <= 64
            && state
                .signer()
                .verify("csrf", self.token_hash.as_bytes(), token)
    }

    /// Seconds left before the session ends, counting from its last recorded activity.
    pub fn remaining(&self, state: &AppState, now: UnixTime) -> i64 {
        remaining(state, &self.session, now)
    }

    /// Whether the role requires two-step sign-in and this account has not set it up.
    pub fn must_enrol_totp(&self, state: &AppState) -> bool {
        self.user.totp_secret().is_none() && two_step_required(state, self.user.role())
    }

    /// This account acting from this request's address, for the services' audit entries.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// Whether the settings require two-step sign-in of `role`.
pub fn two_step_required(state: &AppState, role: Role) -> bool {
    state.settings().totp_required_roles.contains(&role)
}

fn remaining(state: &AppState, s: &Session, now: UnixTime) -> i64 {
    let st = state.settings();
    s.last_seen
        .plus(st.session_idle_timeout)
        .min(s.created_at.plus(st.session_absolute_timeout))
        .since(now)
}

/// The session token of the request's cookie, if it is one we issued (checked by its MAC,
/// without the database).
pub fn session_token<'a>(state: &AppState, headers: &'a axum::http::HeaderMap) -> Option<&'a str> {
    crate::cookies::find(headers, SESSION_COOKIE).and_then(|v| state.signer().session_token(v))
}

/// The `Set-Cookie` value of a new session, in the response to a request with `headers`.
pub fn session_cookie(state: &AppState, headers: &HeaderMap, token: &str) -> HeaderValue {
    crate::cookies::set_cookie(&crate::cookies::cookie(
        SESSION_COOKIE,
        state.signer().session_cookie(token),
        secure_cookies(state, headers),
    ))
}

/// Looks up the session of the request's cookie, enforces its limits, records activity,
/// and on the way out adds the idle warning to HTML pages.
pub(crate) async fn resolve(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let has_cookie = crate::cookies::find(req.headers(), SESSION_COOKIE).is_some();
    if !has_cookie || is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let token = session_token(&state, req.headers()).map(str::to_owned);
    let counts_as_activity = !(req.method() == Method::GET && req.uri().path() == SESSION_PATH);
    let ip = ClientIp::of(&req, &state).to_string();
    let secure = secure_cookies(&state, req.headers());
    let current = match token {
        None => Ok(None),
        Some(token) => load(&state, &token, counts_as_activity, &ip).await,
    };
    let current = match current {
        Ok(c) => c,
        Err(e) => {
            // A database hiccup reads as signed out for this request, never as a 500, and
            // keeps the cookie: the session may be fine on the next request.
            tracing::error!(error = %e, "looking up a session failed");
            return next.run(req).await;
        }
    };
    let Some(current) = current else {
        let mut res = next.run(req).await;
        if !res.headers().contains_key(header::SET_COOKIE) {
            res.headers_mut()
                .append(header::SET_COOKIE, removal(SESSION_COOKIE, secure));
        }
        return res;
    };
    req.extensions_mut().insert(current.clone());
    let res = next.run(req).await;
    personalise(&state, &current, res).await
}

async fn load(
    state: &AppState,
    token: &str,
    activity: bool,
    ip: &str,
) -> Result<Option<CurrentUser>, WebError> {
    let store = state.store();
    let token_hash = hash_token(token);
    let Some(mut session) = store.session_by_token(&token_hash).await? else {
        return Ok(None);
    };
    let now = state.now();
    let Some(user) = store.user(session.user_id).await? else {
        return Ok(None);
    };
    if remaining(state, &session, now) <= 0 || !user.active {
        let actor = Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            ip: ip.to_owned(),
        };
        state
            .app()
            .end_session(&actor, user.id, session.id, "session.expired")
            .await
            .map_err(|e| WebError::from_app(e, state.catalog()))?;
        return Ok(None);
    }
    // Writing on every request would turn page views into writes; a few seconds of slack is
    // invisible next to an idle limit of minutes.
    let granularity = (state.settings().session_idle_timeout / 60).clamp(1, 30);
    if activity && now.since(session.last_seen) >= granularity {
        store.touch_session(session.id, now).await?;
        session.last_seen = now;
    }
    let role = user.role();
    let all = user.all_categories || role == Role::Administrator;
    let categories = if all {
        Vec::new()
    } else {
        store.user_categories(user.id).await?
    };
    let csrf = state.signer().token("csrf", token_hash.as_bytes());
    Ok(Some(CurrentUser {
        rights: Rights {
            role,
            all_categories: all,
            categories,
        },
        user: Arc::new(user),
        session,
        token_hash,
        csrf,
        ip: ip.to_owned(),
    }))
}

/// Marks a signed-in user's response private and adds the idle warning to HTML pages.
async fn personalise(state: &AppState, cu: &CurrentUser, res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let is_html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html || parts.headers.contains_key(header::CONTENT_ENCODING) {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return WebError::internal(e).into_response(),
    };
    let dialog = match idle_dialog(state, cu) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "rendering the idle dialog failed");
            return Response::from_parts(parts, Body::from(bytes));
        }
    };
    // Our templates end every page with one `</body>`; the dialog goes right before it.
    let html = String::from_utf8_lossy(&bytes);
    let out = match html.rfind("</body>") {
        Some(i) => format!("{}{}{}", &html[..i], dialog, &html[i..]),
        None => return Response::from_parts(parts, Body::from(bytes)),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    Response::from_parts(parts, Body::from(out))
}

fn idle_dialog(state: &AppState, cu: &CurrentUser) -> Result<String, minijinja::Error> {
    let s = state.settings();
    state.renderer().render(
        "idle.html",
        context! {
            idle => s.session_idle_timeout,
            warning => s.session_warning.min(s.session_idle_timeout),
            remaining => cu.remaining(state, state.now()),
            csrf => cu.csrf.clone(),
            session_js => state.assets().url("session.js"),
        },
    )
}

/// What a route requires of the requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the sign-in pages).
    Public,
    /// Any signed-in account, even one that still has to set up two-step sign-in.
    Enrolling,
    /// A signed-in account holding this capability.
    Allowed(Capability),
}

/// Checks [`Access`] before a route's handler runs.
pub(crate) async fn gate(
    State((state, access)): State<(AppState, Access)>,
    req: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(cu) = req.extensions().get::<CurrentUser>() else {
        return sign_in_first(&req);
    };
    match access {
        Access::Allowed(cap) if !cu.rights.allows(cap, None) => {
            return WebError::Refused(
                StatusCode::FORBIDDEN,
                state.catalog().get("admin.forbidden").to_owned(),
            )
            .into_response();
        }
        Access::Allowed(_) if cu.must_enrol_totp(&state) => {
            return Redirect::to("/admin/account/two-step?bat-buoc=1").into_response();
        }
        _ => {}
    }
    next.run(req).await
}

/// Anonymous request to a protected route: JSON 401 for scripts, else the sign-in page with
/// the way back.
fn sign_in_first(req: &Request) -> Response {
    if wants_json(req.headers()) || req.uri().path() == SESSION_PATH {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "signed_in": false, "remaining": 0 })),
        )
            .into_response();
    }
    let back = if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map_or("/admin", |pq| pq.as_str())
    } else {
        "/admin"
    };
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("tiep", back)
        .finish();
    Redirect::to(&format!("{LOGIN_PATH}?{q}")).into_response()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| Redirect::to(LOGIN_PATH).into_response())
    }
}

/// The signed-in account, if any (public pages and the sign-in page).
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<CurrentUser>().cloned()))
    }
}
