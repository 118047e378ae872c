//! `GET /admin/audit`: the audit log, filtered by user, action and dates, newest first.

use axum::extract::{Query, State};
use axum::response::Response;
use bantin_core::{day_start, format_date_time};
use bantin_store::AuditFilter;
use minijinja::context;
use serde::Deserialize;

use super::page::render;
use crate::auth::CurrentUser;
use crate::{AppState, WebError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditQuery {
    user: String,
    action: String,
    from: String,
    to: String,
    truoc: String,
}

/// Actions the filter offers (prefixes match their sub-actions).
const AUDIT_ACTIONS: &[&str] = &[
    "login",
    "login.failed",
    "login.locked",
    "logout",
    "session",
    "account",
    "user",
    "article",
    "category",
];

/// Entries per audit page.
const AUDIT_PAGE: i64 = 50;

/// `GET /admin/audit`.
pub(crate) async fn audit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let zone = &state.settings().zone;
    let bad = |s: &str| s.len() > 64;
    if bad(&q.user) || bad(&q.action) || bad(&q.from) || bad(&q.to) || bad(&q.truoc) {
        return Err(WebError::BadRequest(
            state.catalog().get("form.malformed").to_owned(),
        ));
    }
    let nonempty = |s: &str| Some(s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        username: nonempty(&q.user),
        action: nonempty(&q.action).filter(|a| AUDIT_ACTIONS.contains(&a.as_str())),
        from: day_start(&q.from, zone),
        until: day_start(&q.to, zone).map(|t| t.plus(86_400)),
        before_id: q.truoc.parse().ok(),
    };
    let entries = state.store().audit_entries(&filter, AUDIT_PAGE + 1).await?;
    let more = entries.len() as i64 > AUDIT_PAGE;
    let rows: Vec<_> = entries
        .iter()
        .take(AUDIT_PAGE as usize)
        .map(|e| {
            context! {
                at => format_date_time(e.at, zone),
                username => e.username.clone(),
                action => e.action.clone(),
                target => e.target.clone(),
                detail => e.detail.clone(),
                ip => e.ip.clone(),
            }
        })
        .collect();
    let next = more
        .then(|| entries.get(AUDIT_PAGE as usize - 1).map(|e| e.id))
        .flatten()
        .map(|id| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("user", &q.user)
                .append_pair("action", &q.action)
                .append_pair("from", &q.from)
                .append_pair("to", &q.to)
                .append_pair("truoc", &id.to_string())
                .finish()
        });
    render(
        &state,
        Some(&cu),
        "admin/audit.html",
        state.catalog().get("audit.title"),
        context! {
            rows => rows,
            next => next,
            actions => AUDIT_ACTIONS.to_vec(),
            f => context! { user => q.user, action => q.action, from => q.from, to => q.to },
        },
    )
}
