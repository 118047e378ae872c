//! The admin area under `/admin`. Every route is declared once in [`entries`] with the access
//! it requires; the router is built from that table with the access gate in front of each
//! handler, and the authorisation test walks the same table, so no route can skip the check.

mod account;
mod articles;
mod audit;
mod categories;
mod dashboard;
mod history;
mod login;
mod media;
mod page;
mod reset;
mod sessions;
mod tags;
mod tokens;
mod users;
mod webhooks;

use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use bantin_core::access::Capability;

use crate::AppState;
use crate::auth::{self, Access};

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
    use Capability::{
        ManageCategories, ManageSettings, ManageUsers, Publish, SignIn, ViewAudit, Write,
    };
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
            get(dashboard::dashboard),
        ),
        entry(
            g.clone(),
            "/admin/sessions",
            "/admin/sessions",
            Enrolling,
            get(sessions::sessions),
        ),
        entry(
            p.clone(),
            "/admin/sessions/end-others",
            "/admin/sessions/end-others",
            Enrolling,
            post(sessions::end_other_sessions),
        ),
        entry(
            p.clone(),
            "/admin/sessions/{id}/end",
            "/admin/sessions/1/end",
            Enrolling,
            post(sessions::end_session),
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
            get(audit::audit),
        ),
        entry(
            g.clone(),
            "/admin/articles",
            "/admin/articles",
            Allowed(Write),
            get(articles::list),
        ),
        entry(
            g.clone(),
            "/admin/articles/new",
            "/admin/articles/new",
            Allowed(Write),
            get(articles::new_form),
        ),
        entry(
            p.clone(),
            "/admin/articles",
            "/admin/articles",
            Allowed(Write),
            post(articles::create),
        ),
        entry(
            p.clone(),
            "/admin/articles/bulk",
            "/admin/articles/bulk",
            Allowed(Write),
            post(articles::bulk),
        ),
        entry(
            g.clone(),
            "/admin/articles/{id}",
            "/admin/articles/1",
            Allowed(Write),
            get(articles::edit_form),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}",
            "/admin/articles/1",
            Allowed(Write),
            post(articles::save),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}/action",
            "/admin/articles/1/action",
            Allowed(Write),
            post(articles::action),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}/take-over",
            "/admin/articles/1/take-over",
            Allowed(Publish),
            post(articles::take_over),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}/lock",
            "/admin/articles/1/lock",
            Allowed(Write),
            post(articles::heartbeat),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}/autosave",
            "/admin/articles/1/autosave",
            Allowed(Write),
            post(articles::autosave),
        ),
        entry(
            g.clone(),
            "/admin/articles/{id}/history",
            "/admin/articles/1/history",
            Allowed(Write),
            get(history::history),
        ),
        entry(
            g.clone(),
            "/admin/articles/{id}/diff",
            "/admin/articles/1/diff?a=1&b=1",
            Allowed(Write),
            get(history::diff),
        ),
        entry(
            p.clone(),
            "/admin/articles/{id}/restore",
            "/admin/articles/1/restore",
            Allowed(Write),
            post(history::restore),
        ),
        entry(
            g.clone(),
            "/admin/categories",
            "/admin/categories",
            Allowed(ManageCategories),
            get(categories::list),
        ),
        entry(
            g.clone(),
            "/admin/categories/new",
            "/admin/categories/new",
            Allowed(ManageCategories),
            get(categories::new_form),
        ),
        entry(
            p.clone(),
            "/admin/categories",
            "/admin/categories",
            Allowed(ManageCategories),
            post(categories::create),
        ),
        entry(
            g.clone(),
            "/admin/categories/{id}",
            "/admin/categories/1",
            Allowed(ManageCategories),
            get(categories::edit_form),
        ),
        entry(
            p.clone(),
            "/admin/categories/{id}",
            "/admin/categories/1",
            Allowed(ManageCategories),
            post(categories::save),
        ),
        entry(
            p.clone(),
            "/admin/categories/{id}/move",
            "/admin/categories/1/move",
            Allowed(ManageCategories),
            post(categories::move_category),
        ),
        entry(
            g.clone(),
            "/admin/tags",
            "/admin/tags",
            Allowed(ManageCategories),
            get(tags::list),
        ),
        entry(
            g.clone(),
            "/admin/tags/suggest",
            "/admin/tags/suggest?q=gi",
            Allowed(Write),
            get(tags::suggest),
        ),
        entry(
            p.clone(),
            "/admin/tags/{id}/rename",
            "/admin/tags/1/rename",
            Allowed(ManageCategories),
            post(tags::rename),
        ),
        entry(
            p.clone(),
            "/admin/tags/{id}/merge",
            "/admin/tags/1/merge",
            Allowed(ManageCategories),
            post(tags::merge),
        ),
        entry(
            g.clone(),
            "/admin/media",
            "/admin/media",
            Allowed(Write),
            get(media::list),
        ),
        entry(
            g.clone(),
            "/admin/media/picker",
            "/admin/media/picker",
            Allowed(Write),
            get(media::picker),
        ),
        entry(
            p.clone(),
            "/admin/media/upload",
            "/admin/media/upload?name=a.jpg",
            Allowed(Write),
            post(media::upload),
        ),
        entry(
            g.clone(),
            "/admin/media/{id}",
            "/admin/media/1",
            Allowed(Write),
            get(media::item),
        ),
        entry(
            p.clone(),
            "/admin/media/{id}",
            "/admin/media/1",
            Allowed(Write),
            post(media::save),
        ),
        entry(
            p.clone(),
            "/admin/media/{id}/delete",
            "/admin/media/1/delete",
            Allowed(Write),
            post(media::delete),
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
            g.clone(),
            "/admin/tokens",
            "/admin/tokens",
            Allowed(SignIn),
            get(tokens::list),
        ),
        entry(
            p.clone(),
            "/admin/tokens",
            "/admin/tokens",
            Allowed(SignIn),
            post(tokens::create),
        ),
        entry(
            p.clone(),
            "/admin/tokens/{id}/revoke",
            "/admin/tokens/1/revoke",
            Allowed(SignIn),
            post(tokens::revoke),
        ),
        entry(
            g.clone(),
            "/admin/webhooks",
            "/admin/webhooks",
            Allowed(ManageSettings),
            get(webhooks::list),
        ),
        entry(
            p.clone(),
            "/admin/webhooks",
            "/admin/webhooks",
            Allowed(ManageSettings),
            post(webhooks::create),
        ),
        entry(
            p.clone(),
            "/admin/webhooks/{id}/delete",
            "/admin/webhooks/1/delete",
            Allowed(ManageSettings),
            post(webhooks::delete),
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
