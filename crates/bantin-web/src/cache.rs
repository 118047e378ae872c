//! The page-cache middleware: anonymous GET/HEAD of reader pages are answered from
//! [`crate::page_cache::PageCache`] when a current entry exists, else rendered once (concurrent
//! misses of one page wait for a single render) and stored. Answers from memory carry an `Age`
//! header, as RFC 9111 caches do.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bantin_core::UnixTime;
use bantin_core::url::PageQuery;
use http_body_util::BodyExt;

use crate::AppState;
use crate::assets::{gunzip, preferred_encoding};
use crate::auth::session_token;
use crate::client_ip::ClientIp;
use crate::origin::origin_of;
use crate::page_cache::{CacheTags, CachedPage, PageCache};
use crate::routes::is_reader_page;
use crate::views::ViewedArticle;

/// What browsers and shared caches may do with a cached page.
const CACHE_CONTROL: &str = "public, max-age=10, stale-while-revalidate=60";

/// Largest page body we cache; bigger ones are served uncached.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The cache key: the path plus, in canonical form, only the query parameters that page
/// uses (category pages: `page`; article pages: the rating notice; the home page: none), read
/// by the same parser the handlers use. `None` when the request cannot be cached (a malformed
/// or repeated parameter: the handler answers 400).
pub(crate) fn cache_key(path: &str, query: Option<&str>) -> Option<String> {
    let q = PageQuery::parse(query).ok()?;
    let (uses_page, uses_notice) =
        if path == "/" || path.ends_with(".xml") || path.ends_with(".txt") {
            (false, false)
        } else if path.ends_with(".html") {
            (false, true)
        } else {
            (true, false)
        };
    Some(format!("{path}{}", q.canonical(uses_page, uses_notice)))
}

/// Requests the cache leaves alone: other methods, other paths, and signed-in users (only a
/// session cookie we issued counts, checked by its MAC without the database).
fn bypass(state: &AppState, req: &Request) -> bool {
    (req.method() != Method::GET && req.method() != Method::HEAD)
        || !is_reader_page(req.uri().path())
        || session_token(state, req.headers()).is_some()
}

fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.as_bytes().len() <= 4096
            && v.to_str().is_ok_and(|s| {
                s.split(',')
                    .any(|t| t.trim() == "*" || t.trim().as_bytes() == etag.as_bytes())
            })
    })
}

/// `page` ready to answer a client wanting `encoding`: when it wants the plain body and the
/// entry lacks one, the body is made from the gzip form and the entry kept under `key` with
/// it (weighed again: a client that asked once asks again). `None` when it cannot be made.
async fn ready_for(
    cache: &PageCache,
    key: &str,
    page: Arc<CachedPage>,
    headers: &HeaderMap,
    encoding: Option<&'static str>,
) -> Option<Arc<CachedPage>> {
    if page.identity.is_some() || encoding.is_some() || not_modified(headers, &page.etag) {
        return Some(page);
    }
    let body = gunzip(&page.gzip)
        .inspect_err(
            |e| tracing::error!(error = %e, "a cached page's gzip form does not decompress"),
        )
        .ok()?;
    let [gzip, brotli, identity] = crate::page_cache::pack([&page.gzip, &page.brotli, &body]);
    let full = Arc::new(CachedPage {
        identity: Some(identity),
        gzip,
        brotli,
        ..(*page).clone()
    });
    cache.pages().insert(key.to_owned(), full.clone()).await;
    Some(full)
}

/// Answers from `page` in `encoding` (from [`preferred_encoding`]); the plain body must be
/// there when `encoding` is `None` (see [`ready_for`]).
fn respond(
    page: &CachedPage,
    headers: &HeaderMap,
    encoding: Option<&'static str>,
    now: UnixTime,
) -> Response {
    let mut res = if not_modified(headers, &page.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (body, encoding) = match encoding {
            Some("br") => (page.brotli.clone(), Some("br")),
            Some("gzip") => (page.gzip.clone(), Some("gzip")),
            _ => match &page.identity {
                Some(body) => (body.clone(), None),
                None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
        };
        let len = body.len();
        let mut res = Response::new(Body::from(body));
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, page.content_type.clone());
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if let Some(enc) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
        }
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, page.etag.clone());
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::AGE,
        HeaderValue::from(now.since(page.rendered_at).max(0)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    res
}

/// Middleware in front of everything (a hit is a memory lookup, not a trip through the
/// stack).
pub(crate) async fn layer(
    State(state): State<AppState>,
    ip: ClientIp,
    req: Request,
    next: Next,
) -> Response {
    let Some(cache) = state.page_cache() else {
        return next.run(req).await;
    };
    if bypass(&state, &req) {
        return next.run(req).await;
    }
    let Some(key) = cache_key(req.uri().path(), req.uri().query()) else {
        return next.run(req).await;
    };
    // Pages hold absolute URLs made with the request's origin (unless `public_url` fixes
    // it): one entry per origin, and only allowed hosts make one.
    let key = match origin_of(&state, req.headers()).0 {
        Some(origin) => format!("{origin}{key}"),
        None => key,
    };
    let now = state.now();
    let encoding = preferred_encoding(req.headers());
    if let Some(page) = cache.pages().get(&key).await {
        if cache.is_current(&page) {
            let Some(page) = ready_for(cache, &key, page, req.headers(), encoding).await else {
                cache.pages().invalidate(&key).await;
                return next.run(req).await;
            };
            cache.count_hit();
            if let Some(id) = page.article {
                state.views().record_visit(
                    ip.0,
                    req.headers().get(header::USER_AGENT).map(|v| v.as_bytes()),
                    id,
                    state.settings().zone.day_number(now),
                );
            }
            return respond(&page, req.headers(), encoding, now);
        }
        cache.pages().invalidate(&key).await;
    }

    // A miss. Concurrent misses of one page wait for a single render instead of all
    // rendering it (a cold cache under a spike would otherwise render it hundreds of times).
    cache.count_miss();
    let headers = req.headers().clone();
    let keep_plain = encoding.is_none();
    // The cache makes its own compressed copies; the layers inside must hand it plain HTML.
    let mut req = req;
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let seq = cache.seq();
    let mut slot = Some((req, next));
    let mut uncacheable: Option<Response> = None;
    let entry = cache
        .pages()
        .entry(key.clone())
        .or_optionally_insert_with(async {
            let (req, next) = slot.take().expect("the init future runs once");
            match store(cache, seq, now, next.run(req).await, keep_plain).await {
                Ok(page) => Some(page),
                Err(res) => {
                    uncacheable = Some(res);
                    None
                }
            }
        })
        .await;
    match (entry, uncacheable, slot) {
        // If content changed while rendering, the entry is not current and the next request
        // replaces it.
        // Another request's render may lack the plain body this client wants.
        (Some(entry), _, _) => {
            match ready_for(cache, &key, entry.into_value(), &headers, encoding).await {
                Some(page) => respond(&page, &headers, encoding, now),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        (None, Some(res), _) => res,
        // Another request's render turned out uncacheable: render our own.
        (None, None, Some((req, next))) => next.run(req).await,
        (None, None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Turns a rendered response into a cache entry (with its plain body when `keep_plain`: the
/// request wanted it), or hands it back when it must not be cached (errors, redirects,
/// cookies, huge bodies, pages that declared no tags).
async fn store(
    cache: &PageCache,
    seq: u64,
    now: UnixTime,
    res: Response,
    keep_plain: bool,
) -> Result<Arc<CachedPage>, Response> {
    let cacheable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res.extensions().get::<CacheTags>().is_some()
        && res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            let v = v.as_bytes();
            v.starts_with(b"text/html")
                || v.starts_with(b"application/rss+xml")
                || v.starts_with(b"application/xml")
                || v.starts_with(b"text/plain")
        });
    if !cacheable {
        return Err(res);
    }
    let (parts, body) = res.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::error!(error = %e, "reading a rendered page failed");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    if bytes.len() > MAX_BODY {
        return Err(Response::from_parts(parts, Body::from(bytes)));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("text/html; charset=utf-8"));
    let article = parts.extensions.get::<ViewedArticle>().map(|v| v.0);
    let tags = parts
        .extensions
        .get::<CacheTags>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    // Compression is CPU work: it runs on the cache's own threads, off the async workers.
    let Some(crate::compress::Compressed {
        sha256: hash,
        gzip: gz,
        brotli: br,
    }) = cache.compress(bytes.clone()).await
    else {
        tracing::error!("compressing a page failed (it panicked, or no compression thread runs)");
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    // What the entry keeps for long is copied into one mapping of its own, exactly its
    // length (the rendered body sits in a buffer up to twice as long).
    let (gzip, brotli, identity) = if keep_plain {
        let [g, b, i] = crate::page_cache::pack([&gz, &br, &bytes]);
        (g, b, Some(i))
    } else {
        let [g, b] = crate::page_cache::pack([&gz, &br]);
        (g, b, None)
    };
    Ok(Arc::new(CachedPage {
        seq,
        rendered_at: now,
        tags,
        etag: HeaderValue::from_str(&format!("\"{}\"", hex::encode(&hash[..16])))
            .expect("hex is a valid header"),
        content_type,
        gzip,
        brotli,
        identity,
        article,
    }))
}

#[cfg(test)]
mod tests {
    use super::cache_key;

    fn key(uri: &str) -> Option<String> {
        let (path, query) = uri
            .split_once('?')
            .map_or((uri, None), |(p, q)| (p, Some(q)));
        cache_key(path, query)
    }

    #[test]
    fn keys_keep_only_what_each_page_uses() {
        assert_eq!(key("/").unwrap(), "/");
        assert_eq!(key("/?utm_source=x&fbclid=y").unwrap(), "/");
        assert_eq!(key("/?page=7").unwrap(), "/", "the home page has no pages");
        assert_eq!(key("/a/?page=2&x=1").unwrap(), "/a/?page=2");
        assert_eq!(key("/a/?page=0002").unwrap(), "/a/?page=2");
        assert_eq!(key("/a/?page=1").unwrap(), "/a/");
        assert_eq!(key("/a/?page=abc"), None);
        assert_eq!(
            key("/a/?page=2&page=1"),
            None,
            "one parser: repeats are refused"
        );
        assert_eq!(
            key("/a/b-1.html?danh-gia=cam-on&z=9").unwrap(),
            "/a/b-1.html?danh-gia=cam-on"
        );
        assert_eq!(key("/a/b-1.html?page=5").unwrap(), "/a/b-1.html");
        assert_eq!(key("/a/b-1.html?danh-gia=bogus").unwrap(), "/a/b-1.html");
    }
}
