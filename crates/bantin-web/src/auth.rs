//! Who is signed in: the session cookie, the per-request session lookup with its idle and
//! absolute limits, CSRF tokens, the access gate of admin routes, and the idle warning added
//! to the pages signed-in users see (never to anonymous visitors: their pages stay cacheable).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use bantin_core::access::{Capability, Rights};
use bantin_core::account::Role;
use bantin_store::{NewAuditEntry, Session, User};
use minijinja::context;
use sha2::{Digest, Sha256};

use crate::pages::now;
use crate::security::{ClientIp, wants_json};
use crate::{AppState, WebError};

/// The session cookie. The page cache lets requests carrying it through.
pub const SESSION_COOKIE: &str = crate::cache::SESSION_COOKIE;

/// Path of the JSON session endpoint (GET: status without counting as activity; POST:
/// keep-alive).
pub(crate) const SESSION_PATH: &str = "/admin/session";

/// The signed-in account of a request, put in the request's extensions by [`resolve`].
#[derive(Clone)]
pub(crate) struct CurrentUser {
    pub user: Arc<User>,
    pub rights: Rights,
    pub session: Session,
    token_hash: String,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

impl CurrentUser {
    /// Checks a form's or header's CSRF token.
    pub(crate) fn csrf_ok(&self, state: &AppState, token: &str) -> bool {
        token.len() <= 64
            && state
                .signer()
                .verify("csrf", self.token_hash.as_bytes(), token)
    }

    /// Seconds left before the session ends, counting from its last recorded activity.
    pub(crate) fn remaining(&self, state: &AppState, now: i64) -> i64 {
        remaining(state, &self.session, now)
    }

    /// Whether the role requires two-step sign-in and this account has not set it up.
    pub(crate) fn must_enrol_totp(&self, state: &AppState) -> bool {
        self.user.totp_secret().is_none()
            && state
                .settings()
                .totp_required_roles
                .contains(&self.user.role())
    }

    /// Appends an audit entry attributed to this account.
    pub(crate) async fn record(
        &self,
        state: &AppState,
        action: &str,
        target: &str,
        detail: &str,
        ip: &str,
    ) -> Result<(), WebError> {
        let entry = self.audit(action, target, detail, ip);
        Ok(state.store().append_audit(&entry, now()).await?)
    }

    /// Audit entry attributed to this account.
    pub(crate) fn audit<'a>(
        &'a self,
        action: &'a str,
        target: &'a str,
        detail: &'a str,
        ip: &'a str,
    ) -> NewAuditEntry<'a> {
        NewAuditEntry {
            user_id: Some(self.user.id),
            username: &self.user.username,
            action,
            target,
            detail,
            ip,
        }
    }
}

fn remaining(state: &AppState, s: &Session, now: i64) -> i64 {
    let st = state.settings();
    (s.last_seen + st.session_idle_timeout)
        .min(s.created_at + st.session_absolute_timeout)
        .saturating_sub(now)
}

/// SHA-256 of a session token, as stored.
pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token (256 bits, hex).
pub(crate) fn random_token() -> Result<String, WebError> {
    crate::security::random_hex(32)
}

/// A cookie with the attributes every cookie of ours carries.
pub(crate) fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(state.settings().secure_cookies);
    c.set_path("/");
    c
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub(crate) fn removal(state: &AppState, name: &'static str) -> HeaderValue {
    let mut c = cookie(state, name, String::new());
    c.make_removal();
    set_cookie(&c)
}

/// A `Set-Cookie` header value.
pub(crate) fn set_cookie(c: &Cookie<'static>) -> HeaderValue {
    HeaderValue::from_str(&c.encoded().to_string()).expect("cookie encodes to a header value")
}

/// Paths that never need the session: static files and the health check.
fn skips_session(path: &str) -> bool {
    path.starts_with("/assets/") || path.starts_with("/media/") || path == "/healthz"
}

/// Looks up the session of the request's cookie, enforces its limits, records activity,
/// and on the way out adds the idle warning to HTML pages.
pub(crate) async fn resolve(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = CookieJar::from_headers(req.headers())
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned());
    let Some(token) = token.filter(|_| !skips_session(req.uri().path())) else {
        return next.run(req).await;
    };
    let counts_as_activity = !(req.method() == Method::GET && req.uri().path() == SESSION_PATH);
    let ip = ClientIp::of(&req, &state).to_string();
    let current = match load(&state, &token, counts_as_activity, &ip).await {
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
                .append(header::SET_COOKIE, removal(&state, SESSION_COOKIE));
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
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let store = state.store();
    let token_hash = hash_token(token);
    let Some(mut session) = store.session_by_token(&token_hash).await? else {
        return Ok(None);
    };
    let now = now();
    let Some(user) = store.user(session.user_id).await? else {
        return Ok(None);
    };
    if remaining(state, &session, now) <= 0 || !user.active {
        store.delete_session(session.user_id, session.id).await?;
        let entry = NewAuditEntry {
            user_id: Some(user.id),
            username: &user.username,
            action: "session.expired",
            target: &format!("session:{}", session.id),
            detail: "",
            ip,
        };
        store.append_audit(&entry, now).await?;
        return Ok(None);
    }
    // Writing on every request would turn page views into writes; a few seconds of slack is
    // invisible next to an idle limit of minutes.
    let granularity = (state.settings().session_idle_timeout / 60).clamp(1, 30);
    if activity && now - session.last_seen >= granularity {
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
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return WebError::Internal("page body unreadable".to_owned()).into_response();
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

fn idle_dialog(state: &AppState, cu: &CurrentUser) -> Result<String, WebError> {
    let s = state.settings();
    state.renderer().render(
        "idle.html",
        context! {
            idle => s.session_idle_timeout,
            warning => s.session_warning.min(s.session_idle_timeout),
            remaining => cu.remaining(state, now()),
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
    Redirect::to(&format!("/admin/login?{q}")).into_response()
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
            .ok_or_else(|| Redirect::to("/admin/login").into_response())
    }
}

/// The signed-in account, if any (public pages and the sign-in page).
pub(crate) struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<CurrentUser>().cloned()))
    }
}
