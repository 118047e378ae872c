//! The rendered-page cache: anonymous GET/HEAD of public pages are rendered once, compressed
//! once (gzip and brotli), and then served from memory with a strong ETag until content
//! changes.
//!
//! Freshness: an entry is valid only for the store's content generation it was rendered at
//! (every publish, edit, unpublish, category change or rating vote bumps it), only until the
//! next scheduled publish or expiry time, and at most [`MAX_AGE`] so view counts lag by at
//! most that much.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::assets::{brotli, gzip, preferred_encoding};
use crate::pages::now;
use crate::security::ClientIp;

/// Longest an entry lives, so counters on pages (views) lag by at most this.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// What browsers and shared caches may do with a cached page.
const CACHE_CONTROL: &str = "public, max-age=10, stale-while-revalidate=60";

/// Cookie names that mark a signed-in newsroom user; their pages are never cached.
pub(crate) const SESSION_COOKIE: &str = "bantin_session";

/// Largest page body we cache; bigger ones are served uncached.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The article a page shows, so cache hits still count views.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ViewedArticle(pub i64);

struct CachedPage {
    generation: u64,
    etag: HeaderValue,
    content_type: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
    article: Option<i64>,
}

/// The cache of rendered pages.
pub struct PageCache {
    pages: moka::future::Cache<String, Arc<CachedPage>>,
    /// Unix second at which a scheduled publish or expiry changes some page.
    next_change: AtomicI64,
    /// Content generation `next_change` was looked up at, plus one (0: never looked up).
    schedule_generation: AtomicU64,
    refreshing: AtomicBool,
}

impl PageCache {
    /// A cache bounded to about `max_bytes` of page bodies (all three encodings counted).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            pages: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, page: &Arc<CachedPage>| {
                    let bytes =
                        key.len() + page.identity.len() + page.gzip.len() + page.brotli.len() + 256;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(MAX_AGE)
                .build(),
            next_change: AtomicI64::new(i64::MAX),
            schedule_generation: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Entries held (after pending maintenance).
    pub async fn entry_count(&self) -> u64 {
        self.pages.run_pending_tasks().await;
        self.pages.entry_count()
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.pages.invalidate_all();
    }
}

/// The cache key: the path plus only the query parameters pages use, in canonical form, so
/// cache-busting query strings share one entry. `None` when the request is not cacheable.
fn cache_key(req: &Request) -> Option<String> {
    let uri = req.uri();
    let mut key = String::with_capacity(uri.path().len() + 16);
    key.push_str(uri.path());
    let mut page = None;
    let mut notice = None;
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()).take(32) {
            match k.as_ref() {
                // The page number in canonical form; an unparseable one is an error page.
                "page" if page.is_none() => page = Some(v.parse::<u32>().ok()?),
                "danh-gia" if notice.is_none() => {
                    notice = matches!(v.as_ref(), "cam-on" | "da-danh-gia" | "gioi-han")
                        .then(|| v.into_owned())
                }
                _ => {}
            }
        }
    }
    if let Some(p) = page {
        key.push_str(&format!("?page={p}"));
    }
    if let Some(n) = notice {
        key.push_str(if page.is_some() {
            "&danh-gia="
        } else {
            "?danh-gia="
        });
        key.push_str(&n);
    }
    Some(key)
}

/// Reader pages: `/`, `/{category}/` and `/{category}/{slug}-{id}.html`. The cache layer sits
/// outside the router, so everything else (assets, media, health, votes) passes straight by.
fn is_page_path(path: &str) -> bool {
    (path == "/" || path.ends_with('/') || path.ends_with(".html"))
        && !path.starts_with("/assets/")
        && !path.starts_with("/media/")
}

fn bypass(req: &Request) -> bool {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return true;
    }
    if !is_page_path(req.uri().path()) {
        return true;
    }
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.split(';').any(|kv| kv.trim().starts_with(SESSION_COOKIE)))
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

fn respond(page: &CachedPage, headers: &HeaderMap) -> Response {
    let mut res = if not_modified(headers, &page.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (body, encoding) = match preferred_encoding(headers) {
            Some("br") => (page.brotli.clone(), Some("br")),
            Some("gzip") => (page.gzip.clone(), Some("gzip")),
            _ => (page.identity.clone(), None),
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
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    crate::add_security_headers(h);
    res
}

/// Invalidates everything once a scheduled publish or expiry time has passed, and looks up
/// the next such time whenever it may have moved (that time passed, or content changed, e.g.
/// an article was scheduled). Only one request at a time does the lookup.
async fn refresh_schedule(state: &AppState, cache: &PageCache, now: i64) {
    let generation = state.store().generation();
    let due = now >= cache.next_change.load(Ordering::Acquire);
    let moved = cache.schedule_generation.load(Ordering::Acquire) != generation + 1;
    if !due && !moved {
        return;
    }
    if cache.refreshing.swap(true, Ordering::AcqRel) {
        return;
    }
    if due {
        cache.clear();
    }
    match state.store().next_visibility_change(now).await {
        Ok(t) => {
            cache
                .next_change
                .store(t.unwrap_or(i64::MAX), Ordering::Release);
            cache
                .schedule_generation
                .store(generation + 1, Ordering::Release);
        }
        Err(e) => tracing::warn!(error = %e, "looking up the next scheduled change failed"),
    }
    cache.refreshing.store(false, Ordering::Release);
}

/// Middleware on the public page routes.
pub(crate) async fn layer(
    State(state): State<AppState>,
    ip: ClientIp,
    req: Request,
    next: Next,
) -> Response {
    let Some(cache) = state.page_cache() else {
        return next.run(req).await;
    };
    if bypass(&req) {
        return next.run(req).await;
    }
    let Some(key) = cache_key(&req) else {
        return next.run(req).await;
    };
    let now = now();
    refresh_schedule(&state, cache, now).await;
    let generation = state.store().generation();
    if let Some(page) = cache.pages.get(&key).await {
        if page.generation == generation {
            if let Some(id) = page.article {
                crate::pages::count_view(&state, ip.0, req.headers(), id, now);
            }
            return respond(&page, req.headers());
        }
        cache.pages.invalidate(&key).await;
    }

    // A miss. Concurrent misses of one page wait for a single render instead of all
    // rendering it (a cold cache under a spike would otherwise render it hundreds of times).
    let headers = req.headers().clone();
    // The cache makes its own compressed copies; the layers inside must hand it plain HTML.
    let mut req = req;
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let mut slot = Some((req, next));
    let mut uncacheable: Option<Response> = None;
    let entry = cache
        .pages
        .entry(key)
        .or_optionally_insert_with(async {
            let (req, next) = slot.take().expect("the init future runs once");
            match render(generation, next.run(req).await).await {
                Ok(page) => Some(page),
                Err(res) => {
                    uncacheable = Some(res);
                    None
                }
            }
        })
        .await;
    match (entry, uncacheable, slot) {
        // If content changed while rendering, the entry carries the older generation and the
        // next request replaces it.
        (Some(entry), _, _) => respond(&entry.into_value(), &headers),
        (None, Some(res), _) => res,
        // Another request's render turned out uncacheable: render our own.
        (None, None, Some((req, next))) => next.run(req).await,
        (None, None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Turns a rendered response into a cache entry, or hands it back when it must not be
/// cached (errors, redirects, cookies, huge bodies).
async fn render(generation: u64, res: Response) -> Result<Arc<CachedPage>, Response> {
    let cacheable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
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
    // Compression is CPU work; keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let hash = Sha256::digest(&bytes);
        Arc::new(CachedPage {
            generation,
            etag: HeaderValue::from_str(&format!("\"{}\"", hex::encode(&hash[..16])))
                .expect("hex is a valid header"),
            content_type,
            gzip: gzip(&bytes),
            brotli: brotli(&bytes, 5),
            identity: bytes,
            article,
        })
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "compressing a page failed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> Option<String> {
        cache_key(&Request::get(uri).body(Body::empty()).unwrap())
    }

    #[test]
    fn keys_keep_only_what_pages_use() {
        assert_eq!(key("/").unwrap(), "/");
        assert_eq!(key("/?utm_source=x&fbclid=y").unwrap(), "/");
        assert_eq!(key("/a/?page=2&x=1").unwrap(), "/a/?page=2");
        assert_eq!(key("/a/?page=0002").unwrap(), "/a/?page=2");
        assert_eq!(key("/a/?page=abc"), None);
        assert_eq!(
            key("/a/b-1.html?danh-gia=cam-on&z=9").unwrap(),
            "/a/b-1.html?danh-gia=cam-on"
        );
        assert_eq!(key("/a/b-1.html?danh-gia=bogus").unwrap(), "/a/b-1.html");
    }
}
