//! `GET /`: the latest articles and a block per listed category.

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;

use crate::layout::{Head, layout, ser};
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::seo;
use crate::site::category_url;
use crate::{AppState, WebError};

/// `GET /`.
pub(crate) async fn home(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    origin: Origin,
) -> Result<Response, WebError> {
    // Read like every reader page, so the cache key and the page always agree.
    super::category::page_query(&state, query.as_deref())?;
    let site = state.site_cache().get(state.store()).await?;
    let now = state.now();
    let s = state.settings();
    let zone = &s.zone;
    let listed = site.listed_in_order();
    let ids: Vec<_> = listed.iter().map(|c| c.id).collect();
    let (latest, per_category) = state
        .store()
        .home_lists(now, s.home_latest, &ids, s.home_per_category)
        .await?;
    let mut blocks = Vec::new();
    for c in listed {
        let list: Vec<_> = per_category
            .iter()
            .filter(|a| a.category_id == c.id)
            .cloned()
            .collect();
        if !list.is_empty() {
            let items = super::pictures::thumbnails(&state, site.items(zone, &list)).await?;
            blocks.push(
                context! { title => c.title.clone(), url => category_url(c), items => ser(items) },
            );
        }
    }
    let mut tags = vec![Tag::Home];
    tags.extend(
        latest
            .iter()
            .chain(&per_category)
            .map(|a| Tag::Listed(a.id)),
    );
    let ctx = context! {
        layout => layout(&state, Some(&*site), &origin, Head {
            description: &s.site_name,
            path: "/",
            json_ld: seo::home(&state, &origin),
            ..Head::default()
        }),
        latest => ser(super::pictures::thumbnails(&state, site.items(zone, &latest)).await?),
        blocks => blocks,
    };
    let mut res = Html(state.renderer().render("home.html", ctx)?).into_response();
    res.extensions_mut().insert(CacheTags(tags));
    Ok(res)
}
