//! The article page `/{category}/{slug}-{id}.html`, as the seed page shows it: the id decides;
//! any other category or slug is redirected to the canonical URL.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use bantin_core::time::format_rfc3339;
use bantin_core::url::{RatingNotice, parse_article_file};
use bantin_core::{ArticleId, Slug, format_date_line};
use bantin_store::{Article, ArticleSummary};
use minijinja::context;

use super::category::{moved_permanently, page_query};
use crate::client_ip::ClientIp;
use crate::layout::{Head, layout, ser};
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::seo;
use crate::site::Site;
use crate::views::ViewedArticle;
use crate::{AppState, WebError};

/// The parts of an article URL.
pub(crate) struct ArticlePath {
    category: String,
    slug: String,
    id: ArticleId,
}

impl FromRequestParts<AppState> for ArticlePath {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Path((category, file)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::NotFound)?;
        let (slug, id) = parse_article_file(&file).ok_or(WebError::NotFound)?;
        Ok(Self {
            slug: slug.to_owned(),
            id: ArticleId::new(id),
            category,
        })
    }
}

/// `GET /{category}/{slug}-{id}.html`.
pub(crate) async fn article(
    State(state): State<AppState>,
    path: ArticlePath,
    uri: Uri,
    RawQuery(query): RawQuery,
    ClientIp(ip): ClientIp,
    origin: Origin,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let query = page_query(&state, query.as_deref())?;
    let now = state.now();
    let related = state.settings().related;
    let page = state
        .store()
        .article_page(path.id, now, related, |a| {
            super::pictures::keys(main_image(a).map(|m| m.0), a.body_str())
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let article = page.article;
    let site = state.site_cache().get(state.store()).await?;
    let canonical = site.article_url(article.category_id, &article.slug, article.id);
    let main_slug = site.get(article.category_id).map(|c| c.slug.as_str());
    // The path as sent must be the canonical one, not just decode to it: other spellings
    // (`%61`, a zero-padded id, `%2Ehtml`) would each be a cache entry of their own, or
    // bypass the cache.
    if path.slug != article.slug
        || Some(path.category.as_str()) != main_slug
        || uri.path() != canonical
    {
        return Ok(moved_permanently(&canonical));
    }

    state.views().record_visit(
        ip,
        headers.get(header::USER_AGENT).map(|v| v.as_bytes()),
        article.id,
        state.settings().zone.day_number(now),
    );

    let (newer, older, tags) = (page.newer, page.older, page.tags);
    let mut cache_tags = vec![Tag::Article(article.id), Tag::Related(article.category_id)];
    cache_tags.extend(newer.iter().chain(&older).map(|a| Tag::Listed(a.id)));
    let pictures =
        super::pictures::responsive(page.media, main_image(&article), article.body_str());
    let ctx = article_context(
        &state,
        &site,
        Address {
            origin: &origin,
            canonical: &canonical,
            pictures,
        },
        &article,
        (newer, older),
        tags,
        query.rating_notice,
    );
    let mut res = Html(state.renderer().render("article.html", ctx)?).into_response();
    res.extensions_mut().insert(ViewedArticle(article.id));
    res.extensions_mut().insert(CacheTags(cache_tags));
    Ok(res)
}

/// The main image (URL and alt text), shown above the body unless the body already holds it.
fn main_image(a: &Article) -> Option<(&str, &str)> {
    a.image_url
        .as_deref()
        .filter(|url| !a.body_str().contains(*url))
        .map(|url| (url, a.image_alt.as_str()))
}

/// Where an article page is (the origin of absolute URLs and its canonical path) and its
/// pictures made responsive (the main image's HTML, and the body's).
struct Address<'a> {
    origin: &'a Origin,
    canonical: &'a str,
    pictures: (Option<String>, String),
}

fn article_context(
    state: &AppState,
    site: &Site,
    Address {
        origin,
        canonical,
        pictures: (image_html, body),
    }: Address<'_>,
    a: &Article,
    (newer, older): (Vec<ArticleSummary>, Vec<ArticleSummary>),
    tags: Vec<String>,
    notice: Option<RatingNotice>,
) -> minijinja::Value {
    let zone = &state.settings().zone;
    // Not a deleted library item's address.
    let og_image = a.image_url.clone().filter(|u| {
        bantin_media::key_of_url(u).is_none_or(|k| {
            body.contains(k) || image_html.as_deref().is_some_and(|h| h.contains(k))
        })
    });
    let rating = a.rating();
    // The newsroom's own description when written (validated to fit), else the lead cut to
    // what a search result shows.
    let description = if !a.meta_description.is_empty() {
        a.meta_description.clone()
    } else if a.lead.chars().count() > 200 {
        let cut: String = a.lead.chars().take(197).collect();
        format!("{cut}…")
    } else {
        a.lead.clone()
    };
    let category = site.get(a.category_id);
    let section = category.map(|c| c.title.as_str());
    let crumbs = site.breadcrumbs(state.catalog().get("nav.home"), a.category_id);
    let json_ld = vec![
        seo::news_article(
            state,
            origin,
            a,
            seo::ArticleMeta {
                path: canonical,
                section,
                tags: &tags,
                image: og_image.as_deref(),
            },
        ),
        seo::breadcrumbs(origin, &crumbs, Some((&a.title, canonical))),
    ];
    let feeds = category
        .map(|c| {
            let path = crate::site::category_url(c);
            vec![(crate::routes::category_feed(&path), c.title.clone())]
        })
        .unwrap_or_default();
    let head = Head {
        title: &a.title,
        description: &description,
        path: canonical,
        og_type: "article",
        image: og_image.as_deref().map(|u| (u, a.image_alt.as_str())),
        feeds,
        json_ld,
        ..Head::default()
    };
    let url = origin.url(canonical);
    context! {
        layout => layout(state, Some(site), origin, head),
        share => context! {
            url => url.clone(),
            facebook => format!("https://www.facebook.com/sharer/sharer.php?u={}", encode(&url)),
            print => print_path(canonical),
        },
        article => context! {
            id => a.id.get(),
            title => a.title.clone(),
            url => url,
            modified => format_rfc3339(a.updated_at.max(a.publish_at), zone),
            section => section,
            date_line => format_date_line(a.publish_at, zone),
            datetime => format_rfc3339(a.publish_at, zone),
            lead => a.lead.clone(),
            body => minijinja::Value::from_safe_string(body),
            image_html => image_html.map(minijinja::Value::from_safe_string),
            og_image => og_image,
            image_alt => a.image_alt.clone(),
            image_caption => a.image_caption.clone(),
            author => a.author.clone(),
            author_url => Some(bantin_store::author_slug(&a.author)).filter(|s| !s.is_empty()).map(|s| crate::site::author_url(&s)),
            source => a.source.clone(),
            tags => tags.iter().map(|t| context! { name => t.clone(), url => Slug::from_title(t).ok().map(|s| crate::site::tag_url(s.as_str())) }).collect::<Vec<_>>(),
            views => a.view_count,
        },
        breadcrumbs => ser(crumbs),
        rating => context! {
            total => rating.total,
            count => rating.count,
            average => rating.average_vi(),
            filled => rating.average().round() as i64,
            token => state.signer().token("rate", a.id.to_string().as_bytes()),
            action => format!("/rate/{}", a.id),
            notice => notice.map(RatingNotice::message_key),
        },
        newer => ser(site.items(zone, &newer)),
        older => ser(site.items(zone, &older)),
    }
}

/// A URL component, percent-encoded.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The print view of the article at `canonical` (`/{category}/{slug}-{id}.html`):
/// `/in/{slug}-{id}.html`.
pub(crate) fn print_path(canonical: &str) -> String {
    let file = canonical.rsplit('/').next().unwrap_or_default();
    format!("/in/{file}")
}

/// `GET /in/{slug}-{id}.html`: the article to print, without the site's chrome: title, date,
/// lead, pictures with captions, author, source and the article's address.
pub(crate) async fn print(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    uri: Uri,
    origin: Origin,
) -> Result<Response, WebError> {
    let (slug, id) = parse_article_file(&file).ok_or(WebError::NotFound)?;
    let now = state.now();
    let a = state
        .store()
        .article(ArticleId::new(id))
        .await?
        .ok_or(WebError::NotFound)?;
    if !a.visibility().is_public(now) {
        return Err(WebError::NotFound);
    }
    let site = state.site_cache().get(state.store()).await?;
    let canonical = site.article_url(a.category_id, &a.slug, a.id);
    let here = print_path(&canonical);
    if slug != a.slug || uri.path() != here {
        return Ok(moved_permanently(&here));
    }
    let zone = &state.settings().zone;
    let body = a.body();
    let show_image = a
        .image_url
        .as_deref()
        .filter(|url| !body.as_str().contains(*url));
    let ctx = context! {
        lang => state.catalog().get("lang.code"),
        article => context! {
            title => a.title.clone(),
            url => origin.url(&canonical),
            date_line => format_date_line(a.publish_at, zone),
            datetime => format_rfc3339(a.publish_at, zone),
            lead => a.lead.clone(),
            body => minijinja::Value::from_safe_string(body.into_string()),
            image_url => show_image,
            image_alt => a.image_alt.clone(),
            image_caption => a.image_caption.clone(),
            author => a.author.clone(),
            source => a.source.clone(),
        },
    };
    let mut res = Html(state.renderer().render("print.html", ctx)?).into_response();
    // Its text changes with every edit (which purges `Listed`); a vote does not show here.
    res.extensions_mut()
        .insert(CacheTags(vec![Tag::Listed(a.id)]));
    Ok(res)
}
