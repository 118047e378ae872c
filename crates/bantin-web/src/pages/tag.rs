//! Lists outside the category tree, paged like categories: tag pages `/tag/{slug}/` and
//! author pages `/tac-gia/{slug}/` (the articles of one author line), each only what readers
//! can reach, newest first.

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use bantin_core::Slug;
use bantin_store::ArticleSummary;
use minijinja::context;

use super::category::{Paging, moved_permanently, page_query};
use crate::extract::Parsed;
use crate::layout::{Head, layout, ser};
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::seo;
use crate::site::{author_url, tag_url};
use crate::{AppState, WebError};

/// A list page being answered: its address, page number and heading.
struct List<'a> {
    base: String,
    page: i64,
    heading: String,
    origin: &'a Origin,
}

impl List<'_> {
    fn page_url(&self, p: i64) -> String {
        if p == 1 {
            self.base.clone()
        } else {
            format!("{}?page={p}", self.base)
        }
    }

    async fn render(
        &self,
        state: &AppState,
        paging: &Paging,
        list: &[ArticleSummary],
    ) -> Result<Response, WebError> {
        let page = self.page;
        let site = state.site_cache().get(state.store()).await?;
        let title = if page > 1 {
            format!(
                "{} - {}",
                self.heading,
                state
                    .catalog()
                    .format("pager.page", &[("n", &page.to_string())])
            )
        } else {
            self.heading.clone()
        };
        let crumbs = site.breadcrumbs_home(state.catalog().get("nav.home"));
        let path = self.page_url(page);
        let head = Head {
            title: &title,
            description: &self.heading,
            path: &path,
            prev: (page > 1).then(|| self.page_url(page - 1)),
            next: (page < paging.last_known).then(|| self.page_url(page + 1)),
            json_ld: vec![seo::breadcrumbs(
                self.origin,
                &crumbs,
                Some((&self.heading, &self.base)),
            )],
            ..Head::default()
        };
        let mut tags: Vec<Tag> = vec![Tag::Home];
        tags.extend(list.iter().map(|a| Tag::Listed(a.id)));
        let ctx = context! {
            layout => layout(state, Some(&*site), self.origin, head),
            heading => self.heading.clone(),
            breadcrumbs => ser(crumbs),
            items => ser(super::pictures::thumbnails(state, site.items(&state.settings().zone, list)).await?),
            pager => paging.context(&|p| self.page_url(p)),
        };
        let mut res = Html(state.renderer().render("list.html", ctx)?).into_response();
        res.extensions_mut().insert(CacheTags(tags));
        Ok(res)
    }
}

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
    let list = List {
        base: tag_url(&t.slug),
        page,
        heading: state.catalog().format("tag.heading", &[("name", &t.name)]),
        origin: &origin,
    };
    if uri.path() != list.base {
        return Ok(moved_permanently(&list.page_url(page)));
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
    let items = state
        .store()
        .tag_articles(t.id, now, per_page, (page - 1) * per_page)
        .await?;
    list.render(&state, &paging, &items).await
}

/// `GET /tac-gia/{slug}/`.
pub(crate) async fn author(
    State(state): State<AppState>,
    Parsed(slug): Parsed<Slug>,
    uri: Uri,
    RawQuery(query): RawQuery,
    origin: Origin,
) -> Result<Response, WebError> {
    let page = i64::from(page_query(&state, query.as_deref())?.page.unwrap_or(1));
    let now = state.now();
    let name = state
        .store()
        .author_name(slug.as_str(), now)
        .await?
        .ok_or(WebError::NotFound)?;
    let list = List {
        base: author_url(slug.as_str()),
        page,
        heading: state.catalog().format("author.heading", &[("name", &name)]),
        origin: &origin,
    };
    if uri.path() != list.base {
        return Ok(moved_permanently(&list.page_url(page)));
    }
    let per_page = state.settings().per_page.max(1);
    let counted = state
        .store()
        .author_article_count(slug.as_str(), now, Paging::horizon(page, per_page) + 1)
        .await?;
    let paging = Paging::new(page, per_page, counted).ok_or(WebError::NotFound)?;
    let items = state
        .store()
        .author_articles(slug.as_str(), now, per_page, (page - 1) * per_page)
        .await?;
    list.render(&state, &paging, &items).await
}
