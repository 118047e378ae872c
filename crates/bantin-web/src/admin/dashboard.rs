//! `GET /admin`: article counts by status in the account's categories, and what waits for it.

use axum::extract::State;
use axum::response::Response;
use bantin_core::access::Capability;
use minijinja::context;

use super::page::render;
use crate::auth::CurrentUser;
use crate::{AppState, WebError};

/// `GET /admin`.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    let store = state.store();
    let scope = cu.rights.category_scope();
    let in_scope = |c| scope.is_none_or(|s| s.contains(&c));
    let mut counts: Vec<(String, i64)> = ["draft", "pending", "published", "unpublished"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    for (cat, status, n) in store.article_counts().await? {
        if in_scope(cat)
            && let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status)
        {
            slot.1 += n;
        }
    }
    let catalog = state.catalog();
    let counts: Vec<_> = counts
        .into_iter()
        .map(|(s, n)| context! { label => catalog.get(&format!("status.{s}")), n => n })
        .collect();
    let reviewer = cu.rights.allows(Capability::Publish, None);
    let waiting: Vec<_> = if reviewer {
        store
            .pending_articles(200)
            .await?
            .into_iter()
            .filter(|a| in_scope(a.category_id))
            .take(20)
            .map(|a| context! { id => a.id.get(), title => a.title })
            .collect()
    } else {
        Vec::new()
    };
    render(
        &state,
        Some(&cu),
        "admin/dashboard.html",
        catalog.get("dashboard.title"),
        context! { counts => counts, waiting => waiting, reviewer => reviewer },
    )
}
