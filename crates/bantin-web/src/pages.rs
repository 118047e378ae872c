//! Reader pages: home, category lists, the article page, errors and the health check.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bantin_core::time::format_rfc3339;
use bantin_core::{CategoryStatus, Slug, format_date, format_date_line};
use bantin_store::{Article, ArticleSummary, Category};
use minijinja::context;
use serde::Serialize;

use crate::cache::ViewedArticle;
use crate::security::ClientIp;
use crate::{AppState, WebError};

/// Current time, Unix seconds.
pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The category tree of one request.
pub(crate) struct Site {
    categories: Vec<Category>,
    by_id: HashMap<i64, usize>,
    by_slug: HashMap<String, usize>,
}

#[derive(Serialize)]
struct NavItem {
    title: String,
    url: String,
    children: Vec<NavItem>,
}

#[derive(Serialize)]
pub(crate) struct Crumb {
    title: String,
    url: String,
}

/// What lists show of an article.
#[derive(Serialize)]
struct Item {
    title: String,
    url: String,
    date: String,
    datetime: String,
    lead: String,
    image_url: Option<String>,
    image_alt: String,
    category_title: String,
    category_url: String,
}

impl Site {
    /// The category tree, read once per content generation (categories change rarely and
    /// every page needs them).
    pub(crate) async fn load(state: &AppState) -> Result<Arc<Self>, WebError> {
        let generation = state.store().generation();
        if let Some(site) = state.cached_site(generation) {
            return Ok(site);
        }
        let categories = state.store().categories().await?;
        let by_id = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        let by_slug = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.slug.clone(), i))
            .collect();
        let site = Arc::new(Self {
            categories,
            by_id,
            by_slug,
        });
        state.cache_site(generation, site.clone());
        Ok(site)
    }

    fn get(&self, id: i64) -> Option<&Category> {
        self.by_id.get(&id).map(|&i| &self.categories[i])
    }

    fn by_slug(&self, slug: &str) -> Option<&Category> {
        self.by_slug.get(slug).map(|&i| &self.categories[i])
    }

    fn children(&self, id: Option<i64>) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.parent_id == id)
    }

    /// Listed categories in menu order, depth first.
    fn listed_in_order(&self) -> Vec<&Category> {
        fn walk<'a>(site: &'a Site, parent: Option<i64>, out: &mut Vec<&'a Category>) {
            for c in site
                .children(parent)
                .filter(|c| c.status() == CategoryStatus::Active)
            {
                out.push(c);
                walk(site, Some(c.id), out);
            }
        }
        let mut out = Vec::new();
        walk(self, None, &mut out);
        out
    }

    fn nav(&self) -> Vec<NavItem> {
        self.children(None)
            .filter(|c| c.status() == CategoryStatus::Active)
            .map(|c| NavItem {
                title: c.title.clone(),
                url: category_url(c),
                children: self
                    .children(Some(c.id))
                    .filter(|c| c.status() == CategoryStatus::Active)
                    .map(|c| NavItem {
                        title: c.title.clone(),
                        url: category_url(c),
                        children: Vec::new(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Home, then the category's ancestors from the top, then the category.
    fn breadcrumbs(&self, state: &AppState, id: i64) -> Vec<Crumb> {
        let mut chain = Vec::new();
        let mut cur = self.get(id);
        // The depth bound guards against a cycle in corrupt data.
        while let Some(c) = cur
            && chain.len() < 16
        {
            chain.push(Crumb {
                title: c.title.clone(),
                url: category_url(c),
            });
            cur = c.parent_id.and_then(|p| self.get(p));
        }
        chain.push(Crumb {
            title: state.catalog().get("nav.home").to_owned(),
            url: "/".to_owned(),
        });
        chain.reverse();
        chain
    }

    pub(crate) fn article_url(&self, category_id: i64, slug: &str, id: i64) -> String {
        let cat = self
            .get(category_id)
            .map_or("bai-viet", |c| c.slug.as_str());
        format!("/{cat}/{slug}-{id}.html")
    }

    fn item(&self, state: &AppState, a: &ArticleSummary) -> Item {
        let zone = &state.settings().zone;
        let cat = self.get(a.category_id);
        Item {
            title: a.title.clone(),
            url: self.article_url(a.category_id, &a.slug, a.id),
            date: format_date(a.publish_at, zone),
            datetime: format_rfc3339(a.publish_at, zone),
            lead: a.lead.clone(),
            image_url: a.image_url.clone(),
            image_alt: a.image_alt.clone(),
            category_title: cat.map(|c| c.title.clone()).unwrap_or_default(),
            category_url: cat.map(category_url).unwrap_or_default(),
        }
    }

    fn items(&self, state: &AppState, list: &[ArticleSummary]) -> Vec<Item> {
        list.iter().map(|a| self.item(state, a)).collect()
    }
}

fn category_url(c: &Category) -> String {
    format!("/{}/", c.slug)
}

/// The parts of every page's layout.
fn layout(
    state: &AppState,
    site: Option<&Site>,
    title: &str,
    description: &str,
    canonical: &str,
) -> minijinja::Value {
    let full_title = if title.is_empty() {
        state.settings().site_name.clone()
    } else {
        format!("{title} - {}", state.settings().site_name)
    };
    context! {
        lang => state.catalog().get("lang.code"),
        title => full_title,
        description => description,
        canonical => canonical,
        nav => ser(site.map(Site::nav).unwrap_or_default()),
    }
}

/// Template value of any serialisable Rust value.
pub(crate) fn ser<T: Serialize>(v: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .take(32)
            .collect()
    })
    .unwrap_or_default()
}

/// A 301 to `url` (axum's `Redirect::permanent` answers 308, which old crawlers and the
/// portals we replace do not use for moved pages).
fn moved_permanently(url: &str) -> Response {
    match axum::http::HeaderValue::from_str(url) {
        Ok(loc) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, loc)]).into_response(),
        Err(_) => WebError::NotFound.into_response(),
    }
}

fn html(body: String) -> Response {
    Html(body).into_response()
}

/// `GET /`.
pub(crate) async fn home(State(state): State<AppState>) -> Result<Response, WebError> {
    let site = Site::load(&state).await?;
    let now = now();
    let s = state.settings();
    let latest = state.store().latest_articles(now, s.home_latest).await?;
    let listed = site.listed_in_order();
    let ids: Vec<i64> = listed.iter().map(|c| c.id).collect();
    let per_category = state
        .store()
        .articles_per_category(&ids, now, s.home_per_category)
        .await?;
    let blocks: Vec<_> = listed
        .into_iter()
        .filter_map(|c| {
            let list: Vec<_> = per_category.iter().filter(|a| a.category_id == c.id).cloned().collect();
            (!list.is_empty()).then(|| {
                context! { title => c.title.clone(), url => category_url(c), items => ser(site.items(&state, &list)) }
            })
        })
        .collect();
    let ctx = context! {
        layout => layout(&state, Some(&*site), "", &s.site_name, "/"),
        latest => ser(site.items(&state, &latest)),
        blocks => blocks,
    };
    Ok(html(state.renderer().render("home.html", ctx)?))
}

/// `GET /{category}`: categories live under a trailing slash.
pub(crate) async fn category_without_slash(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, WebError> {
    let Ok(Path(slug)) = path else {
        return Err(WebError::NotFound);
    };
    let Ok(slug) = Slug::parse(&slug) else {
        return Err(WebError::NotFound);
    };
    let site = Site::load(&state).await?;
    let c = site.by_slug(slug.as_str()).ok_or(WebError::NotFound)?;
    Ok(moved_permanently(&category_url(c)))
}

/// `GET /{category}/?page=N`.
pub(crate) async fn category(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let Ok(Path(slug)) = path else {
        return Err(WebError::NotFound);
    };
    let slug = Slug::parse(&slug).map_err(|_| WebError::NotFound)?;
    let mut page: i64 = 1;
    for (k, v) in query_pairs(query.as_deref()) {
        if k == "page" {
            page = v
                .parse::<u32>()
                .ok()
                .filter(|&p| p >= 1)
                .map(i64::from)
                .ok_or_else(|| {
                    WebError::BadRequest(state.catalog().get("error.bad_page").to_owned())
                })?;
        }
    }
    let site = Site::load(&state).await?;
    let c = site.by_slug(slug.as_str()).ok_or(WebError::NotFound)?;
    let now = now();
    let per_page = state.settings().per_page.max(1);
    // Count only as far as the pager shows (five pages ahead), so deep archives cost nothing
    // until someone pages into them.
    const AHEAD: i64 = 5;
    let horizon = (page + AHEAD) * per_page;
    let counted = state
        .store()
        .category_article_count(c.id, now, horizon + 1)
        .await?;
    let more_beyond = counted > horizon;
    let last_known = ((counted.min(horizon) + per_page - 1) / per_page).max(1);
    if page > last_known {
        return Err(WebError::NotFound);
    }
    let list = state
        .store()
        .category_articles(c.id, now, per_page, (page - 1) * per_page)
        .await?;
    let base = category_url(c);
    let page_url = |p: i64| {
        if p == 1 {
            base.clone()
        } else {
            format!("{base}?page={p}")
        }
    };
    let pages: Vec<_> = (1..=last_known)
        .filter(|p| *p == 1 || (*p == last_known && !more_beyond) || (p - page).abs() <= 2)
        .map(|p| context! { n => p, url => page_url(p), current => p == page })
        .collect();
    let pager = context! {
        page => page,
        last => if more_beyond { last_known + 1 } else { last_known },
        more => more_beyond,
        prev_url => (page > 1).then(|| page_url(page - 1)),
        next_url => (page < last_known).then(|| page_url(page + 1)),
        pages => pages,
    };
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
    let ctx = context! {
        layout => layout(&state, Some(&*site), &title, &c.description, &page_url(page)),
        category => context! { title => c.title.clone(), description => c.description.clone(), url => base.clone() },
        breadcrumbs => ser(site.breadcrumbs(&state, c.id)),
        subcategories => subcategories,
        items => ser(site.items(&state, &list)),
        pager => pager,
    };
    Ok(html(state.renderer().render("category.html", ctx)?))
}

/// Splits `{slug}-{id}.html` into the slug and a positive id; anything else is no article.
fn parse_article_file(file: &str) -> Option<(&str, i64)> {
    let stem = file.strip_suffix(".html")?;
    let (slug, id) = match stem.rsplit_once('-') {
        Some((slug, id)) => (slug, id),
        None => ("", stem),
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    (id > 0).then_some((slug, id))
}

/// `GET /{category}/{slug}-{id}.html`: the id decides; any other category or slug is
/// redirected to the canonical URL.
pub(crate) async fn article(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    RawQuery(query): RawQuery,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Ok(Path((category_slug, file))) = path else {
        return Err(WebError::NotFound);
    };
    let (slug, id) = parse_article_file(&file).ok_or(WebError::NotFound)?;
    let now = now();
    let article = state.store().article(id).await?.ok_or(WebError::NotFound)?;
    if !article.visibility().is_public(now) {
        return Err(WebError::NotFound);
    }
    let site = Site::load(&state).await?;
    let canonical = site.article_url(article.category_id, &article.slug, article.id);
    let main_slug = site.get(article.category_id).map(|c| c.slug.as_str());
    if slug != article.slug || Some(category_slug.as_str()) != main_slug {
        return Ok(moved_permanently(&canonical));
    }

    count_view(&state, ip, &headers, article.id, now);

    let notice = query_pairs(query.as_deref())
        .into_iter()
        .find(|(k, _)| k == "danh-gia")
        .and_then(|(_, v)| match v.as_str() {
            "cam-on" => Some("rating.thanks"),
            "da-danh-gia" => Some("rating.already"),
            "gioi-han" => Some("rating.address_limit"),
            _ => None,
        });
    let related = state.settings().related;
    let (newer, older) = state
        .store()
        .related_articles(&article, now, related)
        .await?;
    let tags = state.store().article_tags(article.id).await?;
    let ctx = article_context(
        &state, &site, &article, &canonical, newer, older, tags, notice,
    );
    let mut res = html(state.renderer().render("article.html", ctx)?);
    res.extensions_mut().insert(ViewedArticle(article.id));
    Ok(res)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename the arguments"
)]
fn article_context(
    state: &AppState,
    site: &Site,
    a: &Article,
    canonical: &str,
    newer: Vec<ArticleSummary>,
    older: Vec<ArticleSummary>,
    tags: Vec<String>,
    notice: Option<&str>,
) -> minijinja::Value {
    let zone = &state.settings().zone;
    let body = a.body();
    // The main image is shown above the body unless the body already holds it.
    let show_image = a
        .image_url
        .as_deref()
        .filter(|url| !body.as_str().contains(*url));
    let rating = a.rating();
    let description = if a.lead.chars().count() > 200 {
        let cut: String = a.lead.chars().take(197).collect();
        format!("{cut}…")
    } else {
        a.lead.clone()
    };
    context! {
        layout => layout(state, Some(site), &a.title, &description, canonical),
        article => context! {
            id => a.id,
            title => a.title.clone(),
            url => canonical,
            date_line => format_date_line(a.publish_at, zone),
            datetime => format_rfc3339(a.publish_at, zone),
            lead => a.lead.clone(),
            body => minijinja::Value::from_safe_string(body.into_string()),
            image_url => show_image,
            og_image => a.image_url.clone(),
            image_alt => a.image_alt.clone(),
            image_caption => a.image_caption.clone(),
            author => a.author.clone(),
            source => a.source.clone(),
            tags => tags,
            views => a.view_count,
        },
        breadcrumbs => ser(site.breadcrumbs(state, a.category_id)),
        rating => context! {
            total => rating.total,
            count => rating.count,
            average => rating.average_vi(),
            filled => rating.average().round() as i64,
            token => state.signer().token("rate", a.id.to_string().as_bytes()),
            action => format!("/rate/{}", a.id),
            notice => notice,
        },
        newer => ser(site.items(state, &newer)),
        older => ser(site.items(state, &older)),
    }
}

/// Counts a view of an article by the visitor (address and browser) unless already counted
/// today.
pub(crate) fn count_view(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    article_id: i64,
    now: i64,
) {
    // A keyed SipHash: cheap on every page hit and not reversible to the address.
    let mut h = state.visitor_hasher().build_hasher();
    ip.hash(&mut h);
    headers
        .get(header::USER_AGENT)
        .map(|v| v.as_bytes())
        .hash(&mut h);
    state.views().record(
        h.finish(),
        article_id,
        state.settings().zone.day_number(now),
    );
}

/// Fallback for unknown paths: the styled 404.
pub(crate) async fn not_found() -> WebError {
    WebError::NotFound
}

/// Renders the styled error page; the menu is shown when the database answers.
pub(crate) async fn error_page(
    state: &AppState,
    status: StatusCode,
    message: Option<&str>,
) -> Result<String, WebError> {
    let site = Site::load(state).await.ok();
    let key = match status.as_u16() {
        404 => "error.404",
        414 => "error.414",
        429 => "error.429",
        400..=499 => "error.400",

        _ => "error.500",
    };
    let title = state.catalog().get(&format!("{key}.title")).to_owned();
    let body = match message {
        Some(m) => m.to_owned(),
        None if key == "error.404" => state.catalog().get("error.404.body").to_owned(),
        None => state.catalog().get("error.500.body").to_owned(),
    };
    let ctx = context! {
        layout => layout(state, site.as_deref(), &title, "", ""),
        status => status.as_u16(),
        title => title,
        message => body,
    };
    state.renderer().render("error.html", ctx)
}

/// `GET /healthz`: 200 when the database answers.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_article_file;

    #[test]
    fn article_file_names() {
        assert_eq!(parse_article_file("dang-bo-1.html"), Some(("dang-bo", 1)));
        assert_eq!(parse_article_file("12.html"), Some(("", 12)));
        assert_eq!(parse_article_file("a-b-c-42.html"), Some(("a-b-c", 42)));
        for bad in [
            "x.html",
            "x-0.html",
            "x-.html",
            "x-12",
            "x-12.htm",
            "x-99999999999999999999.html",
            "x-+1.html",
            "x-1 .html",
        ] {
            assert_eq!(parse_article_file(bad), None, "{bad}");
        }
    }
}
