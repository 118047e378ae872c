//! The article page `/{category}/{slug}-{id}.html`, as the seed page shows it: the id decides;
//! any other category or slug is redirected to the canonical URL.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use bantin_core::time::format_rfc3339;
use bantin_core::url::{RatingNotice, parse_article_file};
use bantin_core::{ArticleId, format_date_line};
use bantin_store::{Article, ArticleSummary};
use minijinja::context;

use super::category::{moved_permanently, page_query};
use crate::client_ip::ClientIp;
use crate::layout::{layout, ser};
use crate::page_cache::{CacheTags, Tag};
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
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let query = page_query(&state, query.as_deref())?;
    let now = state.now();
    let article = state
        .store()
        .article(path.id)
        .await?
        .ok_or(WebError::NotFound)?;
    if !article.visibility().is_public(now) {
        return Err(WebError::NotFound);
    }
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

    let related = state.settings().related;
    let (newer, older) = state
        .store()
        .related_articles(&article, now, related)
        .await?;
    let tags = state.store().article_tags(article.id).await?;
    let mut cache_tags = vec![Tag::Article(article.id), Tag::Related(article.category_id)];
    cache_tags.extend(newer.iter().chain(&older).map(|a| Tag::Listed(a.id)));
    let body = article.body();
    // The main image is shown above the body unless the body already holds it.
    let main = article
        .image_url
        .as_deref()
        .filter(|url| !body.as_str().contains(*url))
        .map(|url| (url, article.image_alt.as_str()));
    let pictures = super::pictures::responsive(&state, main, body.as_str()).await?;
    let ctx = article_context(
        &state,
        pictures,
        &site,
        &article,
        &canonical,
        (newer, older),
        tags,
        query.rating_notice,
    );
    let mut res = Html(state.renderer().render("article.html", ctx)?).into_response();
    res.extensions_mut().insert(ViewedArticle(article.id));
    res.extensions_mut().insert(CacheTags(cache_tags));
    Ok(res)
}

fn article_context(
    state: &AppState,
    (image_html, body): (Option<String>, String),
    site: &Site,
    a: &Article,
    canonical: &str,
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
    let description = if a.lead.chars().count() > 200 {
        let cut: String = a.lead.chars().take(197).collect();
        format!("{cut}…")
    } else {
        a.lead.clone()
    };
    context! {
        layout => layout(state, Some(site), &a.title, &description, canonical),
        article => context! {
            id => a.id.get(),
            title => a.title.clone(),
            url => canonical,
            date_line => format_date_line(a.publish_at, zone),
            datetime => format_rfc3339(a.publish_at, zone),
            lead => a.lead.clone(),
            body => minijinja::Value::from_safe_string(body),
            image_html => image_html.map(minijinja::Value::from_safe_string),
            og_image => og_image,
            image_alt => a.image_alt.clone(),
            image_caption => a.image_caption.clone(),
            author => a.author.clone(),
            source => a.source.clone(),
            tags => tags,
            views => a.view_count,
        },
        breadcrumbs => ser(site.breadcrumbs(state.catalog().get("nav.home"), a.category_id)),
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
