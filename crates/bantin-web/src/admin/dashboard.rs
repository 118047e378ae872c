//! `GET /admin`: article counts by status in the account's categories, and what waits for
//! whom: reviews for reviewers, articles sent back and drafts for their writers, what is
//! scheduled next.

use axum::extract::State;
use axum::response::Response;
use bantin_core::access::Capability;
use bantin_core::{ArticleStatus, CategoryId, format_date_time};
use bantin_store::{ArticleFilter, ArticleSort, NewsroomArticle};
use minijinja::context;

use super::page::render;
use crate::auth::CurrentUser;
use crate::{AppState, WebError};

/// Rows in each list of the dashboard.
const ROWS: i64 = 10;

/// `GET /admin`.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    let store = state.store();
    let scope = cu.rights.category_scope();
    let in_scope = |c| scope.is_none_or(|s| s.contains(&c));
    let mut counts: Vec<(ArticleStatus, i64)> =
        ArticleStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for (cat, status, n) in store.article_counts().await? {
        if in_scope(cat)
            && let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status)
        {
            slot.1 += n;
        }
    }
    let catalog = state.catalog();
    let counts: Vec<_> = counts
        .into_iter()
        .map(|(s, n)| {
            context! {
                status => s.as_str(),
                label => catalog.get(&format!("status.{}", s.as_str())),
                n => n,
            }
        })
        .collect();
    let categories = store.categories().await?;
    let zone = &state.settings().zone;
    let rows = |list: Vec<NewsroomArticle>| -> Vec<minijinja::Value> {
        list.into_iter()
            .map(|a| {
                let category = categories
                    .iter()
                    .find(|c| c.id == a.category_id)
                    .map(|c| c.title.clone())
                    .unwrap_or_default();
                context! {
                    id => a.id.get(),
                    title => a.title,
                    category => category,
                    publish => format_date_time(a.publish_at, zone),
                    updated => format_date_time(a.updated_at, zone),
                    reason => a.rejection_reason,
                }
            })
            .collect()
    };
    let list = |status: ArticleStatus, mine: bool, sort: ArticleSort| ArticleFilter {
        status: Some(status),
        scope: scope.map(<[CategoryId]>::to_vec),
        author: mine.then_some(cu.user.id),
        sort,
        ..ArticleFilter::default()
    };
    let reviewer = cu.rights.allows(Capability::Publish, None);
    let (waiting, scheduled) = if reviewer {
        (
            rows(
                store
                    .newsroom_articles(
                        &list(ArticleStatus::Pending, false, ArticleSort::PublishOldest),
                        ROWS,
                        0,
                    )
                    .await?,
            ),
            rows(
                store
                    .newsroom_articles(
                        &list(ArticleStatus::Scheduled, false, ArticleSort::PublishOldest),
                        ROWS,
                        0,
                    )
                    .await?,
            ),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mine = |status| list(status, true, ArticleSort::Updated);
    let rejected = rows(
        store
            .newsroom_articles(&mine(ArticleStatus::Rejected), ROWS, 0)
            .await?,
    );
    let drafts = rows(
        store
            .newsroom_articles(&mine(ArticleStatus::Draft), ROWS, 0)
            .await?,
    );
    let submitted = rows(
        store
            .newsroom_articles(&mine(ArticleStatus::Pending), ROWS, 0)
            .await?,
    );
    render(
        &state,
        Some(&cu),
        "admin/dashboard.html",
        catalog.get("dashboard.title"),
        context! {
            counts => counts,
            reviewer => reviewer,
            waiting => waiting,
            scheduled => scheduled,
            rejected => rejected,
            drafts => drafts,
            submitted => submitted,
        },
    )
}
