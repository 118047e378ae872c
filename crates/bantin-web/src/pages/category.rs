//! Category pages: `/{category}/?page=N`, the articles of a category and its subcategories,
//! newest first, with a pager that counts no further than it shows.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use bantin_core::url::PageQuery;
use bantin_core::{CategoryStatus, Slug};
use minijinja::context;

use crate::extract::Parsed;
use crate::layout::{Head, layout, ser};
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::seo;
use crate::site::category_url;
use crate::{AppState, WebError};

/// A 301 to `url` (axum's `Redirect::permanent` answers 308, which old crawlers and the
/// portals we replace do not use for moved pages). Browsers may keep it for an hour only: a
/// category renamed and then renamed back turns the redirect around, and a 301 kept forever
/// would then send readers in a circle.
pub(crate) fn moved_permanently(url: &str) -> Response {
    match axum::http::HeaderValue::from_str(url) {
        Ok(loc) => (
            StatusCode::MOVED_PERMANENTLY,
            [
                (header::LOCATION, loc),
                (
                    header::CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
        )
            .into_response(),
        Err(_) => WebError::NotFound.into_response(),
    }
}

/// The query of a reader page, read by the same parser as the page cache's key; a repeated
/// or malformed parameter is a 400.
pub(crate) fn page_query(state: &AppState, raw: Option<&str>) -> Result<PageQuery, WebError> {
    PageQuery::parse(raw)
        .map_err(|_| WebError::BadRequest(state.catalog().get("error.bad_page").to_owned()))
}

/// `GET /{category}`: categories live under a trailing slash.
pub(crate) async fn category_without_slash(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    origin: Origin,
) -> Result<Response, WebError> {
    // Numbered sitemaps live at the top too (`/sitemap-articles-3.xml`).
    if let Some(res) = super::feeds::top_file(&state, &origin, &segment).await {
        return res;
    }
    let slug = Slug::parse(&segment).map_err(|_| WebError::NotFound)?;
    let site = state.site_cache().get(state.store()).await?;
    let c = site
        .by_slug(slug.as_str())
        .or_else(|| site.redirected(slug.as_str()))
        .ok_or(WebError::NotFound)?;
    Ok(moved_permanently(&category_url(c)))
}

/// `GET /{category}/?page=N`.
pub(crate) async fn category(
    State(state): State<AppState>,
    Parsed(slug): Parsed<Slug>,
    uri: Uri,
    RawQuery(query): RawQuery,
    origin: Origin,
) -> Result<Response, WebError> {
    let page = i64::from(page_query(&state, query.as_deref())?.page.unwrap_or(1));
    let site = state.site_cache().get(state.store()).await?;
    let c = match site.by_slug(slug.as_str()) {
        Some(c) => c,
        // A renamed category's old address: to the new one, same page. Never cached (only
        // 200s are), and the tree holding the old slugs is read again after every category
        // change.
        None => {
            let c = site.redirected(slug.as_str()).ok_or(WebError::NotFound)?;
            let url = category_url(c);
            return Ok(moved_permanently(&if page > 1 {
                format!("{url}?page={page}")
            } else {
                url
            }));
        }
    };
    let base = category_url(c);
    let page_url = |p: i64| {
        if p == 1 {
            base.clone()
        } else {
            format!("{base}?page={p}")
        }
    };
    // Other spellings of the path (`%61` for `a`) would each be a cache entry of their own.
    if uri.path() != base {
        return Ok(moved_permanently(&page_url(page)));
    }
    let now = state.now();
    let zone = &state.settings().zone;
    let per_page = state.settings().per_page.max(1);
    let listing = state
        .store()
        .category_listing(
            c.id,
            now,
            Paging::horizon(page, per_page) + 1,
            per_page,
            (page - 1) * per_page,
        )
        .await?;
    let paging = Paging::new(page, per_page, listing.counted).ok_or(WebError::NotFound)?;
    let last_known = paging.last_known;
    let list = listing.articles;
    let pager = paging.context(&page_url);
    let subcategories: Vec<_> = site
        .children(Some(c.id))
        .filter(|c| c.status() == CategoryStatus::Active)
        .map(|c| context! { title => c.title.clone(), url => category_url(c) })
        .collect();
    let title = if page > 1 {
        format!(
            "{} - {}",
            c.title,
            state
                .catalog()
                .format("pager.page", &[("n", &page.to_string())])
        )
    } else {
        c.title.clone()
    };
    let mut tags: Vec<Tag> = site.subtree(c.id).into_iter().map(Tag::Category).collect();
    tags.extend(list.iter().map(|a| Tag::Listed(a.id)));
    let crumbs = site.breadcrumbs(state.catalog().get("nav.home"), c.id);
    let path = page_url(page);
    let head = Head {
        title: &title,
        description: &c.description,
        path: &path,
        prev: (page > 1).then(|| page_url(page - 1)),
        next: (page < last_known).then(|| page_url(page + 1)),
        feeds: vec![(crate::routes::category_feed(&base), c.title.clone())],
        json_ld: vec![seo::breadcrumbs(&origin, &crumbs, None)],
        ..Head::default()
    };
    let ctx = context! {
        layout => layout(&state, Some(&*site), &origin, head),
        category => context! { title => c.title.clone(), description => c.description.clone(), url => base.clone() },
        breadcrumbs => ser(crumbs),
        subcategories => subcategories,
        items => ser(super::pictures::thumbnails(&state, site.items(zone, &list)).await?),
        pager => pager,
    };
    let mut res = Html(state.renderer().render("category.html", ctx)?).into_response();
    res.extensions_mut().insert(CacheTags(tags));
    Ok(res)
}

/// Where a paged list stands: counting only as far as the pager shows (five pages ahead), so
/// deep archives cost nothing until someone pages into them.
pub(crate) struct Paging {
    page: i64,
    /// The last page known to exist.
    pub(crate) last_known: i64,
    more_beyond: bool,
}

impl Paging {
    const AHEAD: i64 = 5;

    /// How many items to count (at most) for page `page`.
    pub(crate) fn horizon(page: i64, per_page: i64) -> i64 {
        (page + Self::AHEAD) * per_page
    }

    /// The paging of page `page` given `counted` items (counted to the horizon plus one);
    /// `None` when the page is beyond the last.
    pub(crate) fn new(page: i64, per_page: i64, counted: i64) -> Option<Self> {
        let horizon = Self::horizon(page, per_page);
        let more_beyond = counted > horizon;
        let last_known = ((counted.min(horizon) + per_page - 1) / per_page).max(1);
        (page <= last_known).then_some(Self {
            page,
            last_known,
            more_beyond,
        })
    }

    /// The pager's template values, with `url` giving each page's address.
    pub(crate) fn context(&self, url: &dyn Fn(i64) -> String) -> minijinja::Value {
        let (page, last_known) = (self.page, self.last_known);
        let pages: Vec<_> = (1..=last_known)
            .filter(|p| *p == 1 || (*p == last_known && !self.more_beyond) || (p - page).abs() <= 2)
            .map(|p| context! { n => p, url => url(p), current => p == page })
            .collect();
        context! {
            page => page,
            last => if self.more_beyond { last_known + 1 } else { last_known },
            more => self.more_beyond,
            prev_url => (page > 1).then(|| url(page - 1)),
            next_url => (page < last_known).then(|| url(page + 1)),
            pages => pages,
        }
    }
}
