//! Tag pages `/tag/{slug}/?page=N`: the articles readers can reach under a tag, newest first,
//! paged like categories.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use bantin_core::Slug;
use minijinja::context;

use super::category::{Paging, moved_permanently, page_query};
use super::feeds::tag_url;
use crate::extract::Parsed;
use crate::layout::{Head, layout, ser};
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::seo;
use crate::{AppState, WebError};

/// `GET /tag/{slug}/`.
pub(crate) async fn tag(
    State(state): State<AppState>,
    Parsed(slug): Parsed<Slug>,
    uri: Uri,
    RawQuery(query): RawQuery,
    origin: Origin,
) -> Result<Response, WebError> {
    let page = i64::from(page_query(&state, query.as_deref())?.page.unwrap_or(1));
    let t = state
        .store()
        .tag_by_slug(slug.as_str())
        .await?
        .ok_or(WebError::NotFound)?;
    let base = tag_url(&t.slug);
    let page_url = |p: i64| {
        if p == 1 {
            base.clone()
        } else {
            format!("{base}?page={p}")
        }
    };
    if uri.path() != base {
        return Ok(moved_permanently(&page_url(page)));
    }
    let now = state.now();
    let per_page = state.settings().per_page.max(1);
    let counted = state
        .store()
        .tag_article_count(t.id, now, Paging::horizon(page, per_page) + 1)
        .await?;
    if counted == 0 {
        return Err(WebError::NotFound);
    }
    let paging = Paging::new(page, per_page, counted).ok_or(WebError::NotFound)?;
    let list = state
        .store()
        .tag_articles(t.id, now, per_page, (page - 1) * per_page)
        .await?;
    let site = state.site_cache().get(state.store()).await?;
    let heading = state.catalog().format("tag.heading", &[("name", &t.name)]);
    let title = if page > 1 {
        format!(
            "{heading} - {}",
            state
                .catalog()
                .format("pager.page", &[("n", &page.to_string())])
        )
    } else {
        heading.clone()
    };
    let home = state.catalog().get("nav.home");
    let crumbs = site.breadcrumbs_home(home);
    let path = page_url(page);
    let head = Head {
        title: &title,
        description: &heading,
        path: &path,
        prev: (page > 1).then(|| page_url(page - 1)),
        next: (page < paging.last_known).then(|| page_url(page + 1)),
        json_ld: vec![seo::breadcrumbs(&origin, &crumbs, Some((&heading, &base)))],
        ..Head::default()
    };
    let mut tags: Vec<Tag> = vec![Tag::Home];
    tags.extend(list.iter().map(|a| Tag::Listed(a.id)));
    let ctx = context! {
        layout => layout(&state, Some(&*site), &origin, head),
        tag => context! { name => t.name.clone(), url => base.clone() },
        breadcrumbs => ser(crumbs),
        items => ser(site.items(&state.settings().zone, &list)),
        pager => paging.context(&page_url),
    };
    let mut res = Html(state.renderer().render("tag.html", ctx)?).into_response();
    res.extensions_mut().insert(CacheTags(tags));
    Ok(res)
}
