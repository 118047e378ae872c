//! The admin area under `/admin`. Every route is declared once in [`entries`] with the access
//! it requires; the router is built from that table with the access gate in front of each
//! handler, and the authorisation test walks the same table, so no route can skip the check.

mod account;
mod login;
mod reset;
mod users;

use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::Method;
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use bantin_core::access::Capability;
use minijinja::{Value, context};
use serde::de::DeserializeOwned;

use crate::auth::{self, Access, CurrentUser};
use crate::{AppState, WebError};

/// One admin route, as the authorisation test sees it.
#[derive(Clone, Debug)]
pub struct AdminRoute {
    /// HTTP method.
    pub method: Method,
    /// Path pattern as routed.
    pub path: &'static str,
    /// A concrete path to request (placeholders filled with `1`).
    pub sample: &'static str,
    /// What the route requires.
    pub access: Access,
}

struct Entry {
    route: AdminRoute,
    handler: MethodRouter<AppState>,
}

fn entry(
    method: Method,
    path: &'static str,
    sample: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> Entry {
    Entry {
        route: AdminRoute {
            method,
            path,
            sample,
            access,
        },
        handler,
    }
}

fn entries() -> Vec<Entry> {
    use Access::{Allowed, Enrolling, Public};
    use Capability::{ManageUsers, SignIn, ViewAudit};
    let (g, p) = (Method::GET, Method::POST);
    vec![
        entry(
            g.clone(),
            "/admin/login",
            "/admin/login",
            Public,
            get(login::login_form),
        ),
        entry(
            p.clone(),
            "/admin/login",
            "/admin/login",
            Public,
            post(login::login),
        ),
        entry(
            g.clone(),
            "/admin/login/two-step",
            "/admin/login/two-step",
            Public,
            get(login::two_step_form),
        ),
        entry(
            p.clone(),
            "/admin/login/two-step",
            "/admin/login/two-step",
            Public,
            post(login::two_step),
        ),
        entry(
            g.clone(),
            "/admin/forgot",
            "/admin/forgot",
            Public,
            get(reset::forgot_form),
        ),
        entry(
            p.clone(),
            "/admin/forgot",
            "/admin/forgot",
            Public,
            post(reset::forgot),
        ),
        entry(
            g.clone(),
            "/admin/reset/{token}",
            "/admin/reset/1",
            Public,
            get(reset::reset_form),
        ),
        entry(
            p.clone(),
            "/admin/reset/{token}",
            "/admin/reset/1",
            Public,
            post(reset::reset),
        ),
        entry(
            p.clone(),
            "/admin/logout",
            "/admin/logout",
            Enrolling,
            post(login::logout),
        ),
        entry(
            g.clone(),
            "/admin/session",
            "/admin/session",
            Enrolling,
            get(login::session_status),
        ),
        entry(
            p.clone(),
            "/admin/session",
            "/admin/session",
            Enrolling,
            post(login::keep_alive),
        ),
        entry(
            g.clone(),
            "/admin",
            "/admin",
            Allowed(SignIn),
            get(account::dashboard),
        ),
        entry(
            g.clone(),
            "/admin/sessions",
            "/admin/sessions",
            Enrolling,
            get(account::sessions),
        ),
        entry(
            p.clone(),
            "/admin/sessions/end-others",
            "/admin/sessions/end-others",
            Enrolling,
            post(account::end_other_sessions),
        ),
        entry(
            p.clone(),
            "/admin/sessions/{id}/end",
            "/admin/sessions/1/end",
            Enrolling,
            post(account::end_session),
        ),
        entry(
            g.clone(),
            "/admin/account",
            "/admin/account",
            Enrolling,
            get(account::account),
        ),
        entry(
            p.clone(),
            "/admin/account/password",
            "/admin/account/password",
            Enrolling,
            post(account::change_password),
        ),
        entry(
            g.clone(),
            "/admin/account/two-step",
            "/admin/account/two-step",
            Enrolling,
            get(account::two_step_enrol),
        ),
        entry(
            p.clone(),
            "/admin/account/two-step",
            "/admin/account/two-step",
            Enrolling,
            post(account::two_step_confirm),
        ),
        entry(
            p.clone(),
            "/admin/account/two-step/off",
            "/admin/account/two-step/off",
            Allowed(SignIn),
            post(account::two_step_off),
        ),
        entry(
            g.clone(),
            "/admin/audit",
            "/admin/audit",
            Allowed(ViewAudit),
            get(account::audit),
        ),
        entry(
            g.clone(),
            "/admin/users",
            "/admin/users",
            Allowed(ManageUsers),
            get(users::list),
        ),
        entry(
            p.clone(),
            "/admin/users",
            "/admin/users",
            Allowed(ManageUsers),
            post(users::create),
        ),
        entry(
            g.clone(),
            "/admin/users/{id}",
            "/admin/users/1",
            Allowed(ManageUsers),
            get(users::edit_form),
        ),
        entry(
            p.clone(),
            "/admin/users/{id}",
            "/admin/users/1",
            Allowed(ManageUsers),
            post(users::edit),
        ),
        entry(
            p.clone(),
            "/admin/users/{id}/password",
            "/admin/users/1/password",
            Allowed(ManageUsers),
            post(users::reset_password),
        ),
        entry(
            p.clone(),
            "/admin/users/{id}/active",
            "/admin/users/1/active",
            Allowed(ManageUsers),
            post(users::set_active),
        ),
        entry(
            p,
            "/admin/users/{id}/two-step-reset",
            "/admin/users/1/two-step-reset",
            Allowed(ManageUsers),
            post(users::reset_two_step),
        ),
    ]
}

/// Every admin route with the access it requires.
pub fn admin_routes() -> Vec<AdminRoute> {
    entries().into_iter().map(|e| e.route).collect()
}

/// The admin router: each route behind the access gate declared for it.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let mut r = Router::new();
    for e in entries() {
        let gate = middleware::from_fn_with_state((state.clone(), e.route.access), auth::gate);
        r = r.route(e.route.path, e.handler.route_layer(gate));
    }
    r
}

/// A form body (repeated fields fill `Vec`s); a malformed one is a 400 page with a clear message instead of plain text.
pub(crate) struct AdminForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let malformed = || {
            WebError::BadRequest(state.catalog().get("form.malformed").to_owned()).into_response()
        };
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| malformed())?;
        // Form decoding replaces invalid UTF-8 with U+FFFD; we refuse it instead, so a
        // mangled password is never hashed and compared.
        if !strictly_utf8(&bytes) {
            tracing::info!("admin form with invalid UTF-8");
            return Err(malformed());
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(v)) => Ok(Self(v)),
            Err(e) => {
                tracing::info!(error = %e, "malformed admin form");
                Err(
                    WebError::BadRequest(state.catalog().get("form.malformed").to_owned())
                        .into_response(),
                )
            }
        }
    }
}

/// Whether every key and value of a URL-encoded body decodes to valid UTF-8.
fn strictly_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.split(|b| *b == b'='))
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

/// Renders an admin page: `ctx` plus what every admin page shows.
pub(crate) fn render(
    state: &AppState,
    cu: Option<&CurrentUser>,
    template: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, WebError> {
    let me = cu.map(|cu| {
        context! {
            username => cu.user.username.clone(),
            display_name => cu.user.display_name.clone(),
            role => state.catalog().get(&format!("role.{}", cu.user.role().as_str())),
            csrf => cu.csrf.clone(),
            can_users => cu.rights.allows(Capability::ManageUsers, None),
            can_audit => cu.rights.allows(Capability::ViewAudit, None),
        }
    });
    let full = context! {
        title => title,
        me => me,
        admin_css => state.assets().url("admin.css"),
        ..ctx
    };
    let html = state.renderer().render(template, full)?;
    Ok(Html(html).into_response())
}

/// Runs password hashing or verification off the async executor, a few at a time, so a
/// flood of sign-ins cannot starve page rendering.
pub(crate) async fn argon2_work<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WebError> {
    let _permit = state
        .hash_permits()
        .acquire()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))
}

/// The message of a stale or missing CSRF token.
pub(crate) fn stale(state: &AppState) -> String {
    state.catalog().get("form.stale").to_owned()
}
