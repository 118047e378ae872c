//! What machines read: RSS 2.0 feeds of the site and of each category, the sitemap index with
//! its article sitemaps (fixed id ranges of at most 50 000 URLs, so each is one range scan),
//! the Google News sitemap of the last 48 hours, the sitemap of sections (categories and
//! tags), and `robots.txt`. All URLs are absolute (the request's [`Origin`]); without a known
//! origin these answer 404, since a relative URL in them would be wrong anyway. XML text is
//! escaped and characters XML forbids are dropped.

use std::io::Cursor;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bantin_core::time::format_rfc3339;
use bantin_core::{Slug, UnixTime};
use bantin_store::{ArticleSummary, SitemapEntry};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::extract::Parsed;
use crate::origin::Origin;
use crate::page_cache::{CacheTags, Tag};
use crate::site::{Site, category_url, tag_url};
use crate::{AppState, WebError};

/// URLs per article sitemap (the protocol's limit).
pub(crate) const SITEMAP_IDS: i64 = 50_000;
/// Items in a feed.
const FEED_ITEMS: i64 = 30;
/// How far back the news sitemap reaches.
const NEWS_SECONDS: i64 = 48 * 3600;

type Xml = Writer<Cursor<Vec<u8>>>;
type XmlResult = std::io::Result<()>;

/// Text as XML 1.0 allows it: without the control characters (and noncharacters) it forbids.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|c| {
            matches!(*c, '\t' | '\n' | '\r')
                || (('\u{20}'..='\u{D7FF}').contains(c)
                    || ('\u{E000}'..='\u{FFFD}').contains(c)
                    || *c >= '\u{10000}')
        })
        .collect()
}

fn element(w: &mut Xml, name: &str, text: &str) -> XmlResult {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_text(text)))?;
    Ok(())
}

fn document(
    root: &str,
    attrs: &[(&str, &str)],
    inner: impl FnOnce(&mut Xml) -> XmlResult,
) -> Result<Vec<u8>, WebError> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| {
            w.create_element(root)
                .with_attributes(attrs.iter().copied())
                .write_inner_content(inner)
                .map(|_| ())
        });
    written.map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(w.into_inner().into_inner())
}

fn xml_response(content_type: &'static str, body: Vec<u8>, tags: Vec<Tag>) -> Response {
    let mut res = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    res.extensions_mut().insert(CacheTags(tags));
    res
}

/// The MIME type of an image, from its file name.
fn image_type(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or_default();
    match ext {
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        _ => "image/jpeg",
    }
}

fn absolute(origin: &Origin, url: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        url.to_owned()
    } else {
        origin.url(url)
    }
}

/// The origin, or the 404 these documents answer without one.
fn known(origin: &Origin) -> Result<&str, WebError> {
    origin.0.as_deref().ok_or(WebError::NotFound)
}

/// The byte size of a file under `/media`, for a feed's enclosure (0 when unknown).
async fn media_length(state: &AppState, url: &str) -> u64 {
    let Some(rel) = url.strip_prefix("/media/") else {
        return 0;
    };
    if rel.split('/').any(|s| s == ".." || s.is_empty()) {
        return 0;
    }
    if let Ok(m) = tokio::fs::metadata(state.settings().media_dir.join(rel)).await {
        return m.len();
    }
    // A library file kept elsewhere (object storage).
    match (rel.strip_prefix("lib/"), state.app().media()) {
        (Some(name), Some(media)) if bantin_media::storage::valid_name(name) => media
            .storage()
            .get(name)
            .await
            .ok()
            .flatten()
            .map_or(0, |b| b.len() as u64),
        _ => 0,
    }
}

struct Channel<'a> {
    title: &'a str,
    link: String,
    self_url: String,
    description: &'a str,
}

async fn rss(
    state: &AppState,
    site: &Site,
    origin: &Origin,
    channel: Channel<'_>,
    items: &[ArticleSummary],
) -> Result<Vec<u8>, WebError> {
    let host = known(origin)?
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut lengths = Vec::with_capacity(items.len());
    for a in items {
        lengths.push(match &a.image_url {
            Some(u) => media_length(state, u).await,
            None => 0,
        });
    }
    let language = state.catalog().get("lang.code").to_owned();
    document(
        "rss",
        &[
            ("version", "2.0"),
            ("xmlns:atom", "http://www.w3.org/2005/Atom"),
        ],
        |w| {
            w.create_element("channel").write_inner_content(|w| {
                element(w, "title", channel.title)?;
                element(w, "link", &channel.link)?;
                element(w, "description", channel.description)?;
                element(w, "language", &language)?;
                w.create_element("atom:link")
                    .with_attribute(("href", channel.self_url.as_str()))
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", "application/rss+xml"))
                    .write_empty()?;
                if let Some(first) = items.first() {
                    element(w, "lastBuildDate", &rfc2822(first.publish_at))?;
                }
                for (a, len) in items.iter().zip(&lengths) {
                    let url = origin.url(&site.article_url(a.category_id, &a.slug, a.id));
                    w.create_element("item").write_inner_content(|w| {
                        element(w, "title", &a.title)?;
                        element(w, "link", &url)?;
                        // The id is the article's for good; its URL changes with its slug.
                        w.create_element("guid")
                            .with_attribute(("isPermaLink", "false"))
                            .write_text_content(BytesText::new(&xml_text(&format!(
                                "tag:{host},2022:article:{}",
                                a.id
                            ))))?;
                        element(w, "pubDate", &rfc2822(a.publish_at))?;
                        if !a.lead.is_empty() {
                            element(w, "description", &a.lead)?;
                        }
                        if let Some(c) = site.get(a.category_id) {
                            element(w, "category", &c.title)?;
                        }
                        if let Some(img) = &a.image_url {
                            let len = len.to_string();
                            w.create_element("enclosure")
                                .with_attribute(("url", absolute(origin, img).as_str()))
                                .with_attribute(("length", len.as_str()))
                                .with_attribute(("type", image_type(img)))
                                .write_empty()?;
                        }
                        Ok::<(), std::io::Error>(())
                    })?;
                }
                Ok::<(), std::io::Error>(())
            })?;
            Ok(())
        },
    )
}

/// RFC 2822 dates, as RSS wants them (in UTC).
fn rfc2822(at: UnixTime) -> String {
    jiff::fmt::rfc2822::to_string(&at.timestamp().to_zoned_datetime(jiff::tz::TimeZone::UTC))
        .unwrap_or_default()
}

/// `GET /rss.xml`: the site's 30 latest articles.
pub(crate) async fn site_feed(
    State(state): State<AppState>,
    origin: Origin,
) -> Result<Response, WebError> {
    known(&origin)?;
    let site = state.site_cache().get(state.store()).await?;
    let items = state
        .store()
        .latest_articles(state.now(), FEED_ITEMS)
        .await?;
    let name = state.settings().site_name.clone();
    let body = rss(
        &state,
        &site,
        &origin,
        Channel {
            title: &name,
            link: origin.url("/"),
            self_url: origin.url(crate::routes::SITE_FEED),
            description: &name,
        },
        &items,
    )
    .await?;
    let mut tags = vec![Tag::Home];
    tags.extend(items.iter().map(|a| Tag::Listed(a.id)));
    Ok(xml_response(
        "application/rss+xml; charset=utf-8",
        body,
        tags,
    ))
}

/// `GET /{category}/rss.xml`: a category's 30 latest articles (its subcategories' included).
pub(crate) async fn category_feed(
    State(state): State<AppState>,
    Parsed(slug): Parsed<Slug>,
    origin: Origin,
) -> Result<Response, WebError> {
    known(&origin)?;
    let site = state.site_cache().get(state.store()).await?;
    let c = site.by_slug(slug.as_str()).ok_or(WebError::NotFound)?;
    if c.status() != bantin_core::CategoryStatus::Active {
        return Err(WebError::NotFound);
    }
    let items = state
        .store()
        .category_articles(c.id, state.now(), FEED_ITEMS, 0)
        .await?;
    let path = category_url(c);
    let title = format!("{} - {}", c.title, state.settings().site_name);
    let description = if c.description.is_empty() {
        c.title.clone()
    } else {
        c.description.clone()
    };
    let body = rss(
        &state,
        &site,
        &origin,
        Channel {
            title: &title,
            link: origin.url(&path),
            self_url: origin.url(&crate::routes::category_feed(&path)),
            description: &description,
        },
        &items,
    )
    .await?;
    let mut tags: Vec<Tag> = site.subtree(c.id).into_iter().map(Tag::Category).collect();
    tags.extend(items.iter().map(|a| Tag::Listed(a.id)));
    Ok(xml_response(
        "application/rss+xml; charset=utf-8",
        body,
        tags,
    ))
}

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// `GET /sitemap.xml`: the index of every other sitemap.
pub(crate) async fn sitemap_index(
    State(state): State<AppState>,
    origin: Origin,
) -> Result<Response, WebError> {
    known(&origin)?;
    let max = state.store().max_article_id().await?;
    let files = (max + SITEMAP_IDS - 1) / SITEMAP_IDS;
    let mut urls = vec![
        origin.url("/sitemap-sections.xml"),
        origin.url("/sitemap-news.xml"),
    ];
    urls.extend((1..=files.max(1)).map(|n| origin.url(&format!("/sitemap-articles-{n}.xml"))));
    let body = document("sitemapindex", &[("xmlns", SITEMAP_NS)], |w| {
        for u in &urls {
            w.create_element("sitemap")
                .write_inner_content(|w| element(w, "loc", u))?;
        }
        Ok(())
    })?;
    Ok(xml_response(
        "application/xml; charset=utf-8",
        body,
        vec![Tag::Home],
    ))
}

/// `GET /sitemap-articles-{n}.xml`: reachable articles with ids in the `n`-th range of
/// 50 000, with their last change and main image.
pub(crate) async fn sitemap_articles(
    state: &AppState,
    origin: &Origin,
    n: i64,
) -> Result<Response, WebError> {
    known(origin)?;
    let max = state.store().max_article_id().await?;
    if n < 1 || n > ((max + SITEMAP_IDS - 1) / SITEMAP_IDS).max(1) {
        return Err(WebError::NotFound);
    }
    let site = state.site_cache().get(state.store()).await?;
    let from = (n - 1) * SITEMAP_IDS + 1;
    let rows = state
        .store()
        .sitemap_articles(state.now(), from, from + SITEMAP_IDS - 1)
        .await?;
    let zone = state.settings().zone.clone();
    let body = document(
        "urlset",
        &[
            ("xmlns", SITEMAP_NS),
            (
                "xmlns:image",
                "http://www.google.com/schemas/sitemap-image/1.1",
            ),
        ],
        |w| {
            for a in &rows {
                url_entry(w, &site, origin, a, &zone)?;
            }
            Ok(())
        },
    )?;
    Ok(xml_response(
        "application/xml; charset=utf-8",
        body,
        vec![Tag::Sitemap],
    ))
}

fn url_entry(
    w: &mut Xml,
    site: &Site,
    origin: &Origin,
    a: &SitemapEntry,
    zone: &bantin_core::SiteZone,
) -> XmlResult {
    w.create_element("url").write_inner_content(|w| {
        element(
            w,
            "loc",
            &origin.url(&site.article_url(a.category_id, &a.slug, a.id)),
        )?;
        element(
            w,
            "lastmod",
            &format_rfc3339(a.updated_at.max(a.publish_at), zone),
        )?;
        if let Some(img) = &a.image_url {
            w.create_element("image:image").write_inner_content(|w| {
                element(w, "image:loc", &absolute(origin, img))?;
                Ok::<(), std::io::Error>(())
            })?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}

/// `GET /sitemap-news.xml`: what was published in the last 48 hours (at most 1 000), in the
/// Google News format.
pub(crate) async fn sitemap_news(
    State(state): State<AppState>,
    origin: Origin,
) -> Result<Response, WebError> {
    known(&origin)?;
    let site = state.site_cache().get(state.store()).await?;
    let now = state.now();
    let rows = state
        .store()
        .articles_published_since(now, now.minus(NEWS_SECONDS), 1000)
        .await?;
    let zone = state.settings().zone.clone();
    let name = state.settings().site_name.clone();
    let language = state.catalog().get("lang.code").to_owned();
    let body = document(
        "urlset",
        &[
            ("xmlns", SITEMAP_NS),
            (
                "xmlns:news",
                "http://www.google.com/schemas/sitemap-news/0.9",
            ),
        ],
        |w| {
            for a in &rows {
                w.create_element("url").write_inner_content(|w| {
                    element(
                        w,
                        "loc",
                        &origin.url(&site.article_url(a.category_id, &a.slug, a.id)),
                    )?;
                    w.create_element("news:news").write_inner_content(|w| {
                        w.create_element("news:publication")
                            .write_inner_content(|w| {
                                element(w, "news:name", &name)?;
                                element(w, "news:language", &language)
                            })?;
                        element(
                            w,
                            "news:publication_date",
                            &format_rfc3339(a.publish_at, &zone),
                        )?;
                        element(w, "news:title", &a.title)
                    })?;
                    Ok::<(), std::io::Error>(())
                })?;
            }
            Ok(())
        },
    )?;
    let mut tags = vec![Tag::Home];
    tags.extend(rows.iter().map(|a| Tag::Listed(a.id)));
    Ok(xml_response("application/xml; charset=utf-8", body, tags))
}

/// `GET /sitemap-sections.xml`: the home page, listed categories and tags with articles.
pub(crate) async fn sitemap_sections(
    State(state): State<AppState>,
    origin: Origin,
) -> Result<Response, WebError> {
    known(&origin)?;
    let site = state.site_cache().get(state.store()).await?;
    let mut urls = vec![origin.url("/")];
    urls.extend(
        site.listed_in_order()
            .into_iter()
            .map(|c| origin.url(&category_url(c))),
    );
    let tags = state
        .store()
        .sitemap_tags(state.now(), 50_000 - urls.len() as i64)
        .await?;
    urls.extend(tags.iter().map(|t| origin.url(&tag_url(&t.slug))));
    let body = document("urlset", &[("xmlns", SITEMAP_NS)], |w| {
        for u in &urls {
            w.create_element("url")
                .write_inner_content(|w| element(w, "loc", u))?;
        }
        Ok(())
    })?;
    Ok(xml_response(
        "application/xml; charset=utf-8",
        body,
        vec![Tag::Sitemap, Tag::Home],
    ))
}

/// `GET /robots.txt`: the `robots_txt` setting, and where the sitemap is.
pub(crate) async fn robots(State(state): State<AppState>, origin: Origin) -> Response {
    let mut text = state.settings().robots_txt.trim_end().to_owned();
    text.push('\n');
    if let Some(o) = &origin.0 {
        text.push_str(&format!("\nSitemap: {o}/sitemap.xml\n"));
    }
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response();
    res.extensions_mut().insert(CacheTags(vec![Tag::Home]));
    res
}

/// `GET /{file}` for files at the top that are not categories: the numbered article
/// sitemaps (`sitemap-articles-{n}.xml`).
pub(crate) async fn top_file(
    state: &AppState,
    origin: &Origin,
    file: &str,
) -> Option<Result<Response, WebError>> {
    let n = file
        .strip_prefix("sitemap-articles-")?
        .strip_suffix(".xml")?;
    if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
        return Some(Err(WebError::NotFound));
    }
    Some(sitemap_articles(state, origin, n.parse().ok()?).await)
}

/// The path of an article in a sitemap, for tests of the id ranges.
#[cfg(test)]
fn range_of(id: bantin_core::ArticleId) -> i64 {
    (id.get() - 1) / SITEMAP_IDS + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_forbids() {
        assert_eq!(
            xml_text("a\u{0}b\u{8}c\u{b}d\u{1f}e\tf\ng\u{fffe}h"),
            "abcde\tf\ngh"
        );
        assert_eq!(xml_text("Đảng bộ 😀"), "Đảng bộ 😀");
    }

    #[test]
    fn ids_fall_in_ranges_of_fifty_thousand() {
        use bantin_core::ArticleId;
        assert_eq!(range_of(ArticleId::new(1)), 1);
        assert_eq!(range_of(ArticleId::new(50_000)), 1);
        assert_eq!(range_of(ArticleId::new(50_001)), 2);
    }
}
