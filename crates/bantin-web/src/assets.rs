//! CSS and JavaScript, fingerprinted by content hash and compressed once at start-up, served
//! with a one-year immutable cache lifetime.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

const SOURCES: &[(&str, &str, &str)] = &[
    (
        "site.css",
        "text/css; charset=utf-8",
        include_str!("../assets/site.css"),
    ),
    (
        "rating.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/rating.js"),
    ),
    (
        "session.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/session.js"),
    ),
    (
        "article.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/article.js"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_str!("../assets/print.css"),
    ),
    (
        "share.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/share.js"),
    ),
    (
        "logo.svg",
        "image/svg+xml",
        include_str!("../assets/logo.svg"),
    ),
    (
        "tags.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/tags.js"),
    ),
    (
        "media.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/media.js"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../assets/admin.css"),
    ),
    // The article editor, built from `editor/` (see editor/README.md).
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/editor.js"),
    ),
    (
        "editor.css",
        "text/css; charset=utf-8",
        include_str!("../assets/editor.css"),
    ),
];

struct Asset {
    content_type: &'static str,
    etag: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
}

/// The built assets: logical name → fingerprinted URL, and the bodies by file name.
#[derive(Clone)]
pub(crate) struct Assets {
    urls: Arc<HashMap<&'static str, String>>,
    files: Arc<HashMap<String, Asset>>,
}

/// Gzip at the best level (the callers keep the result for long and copy it exactly).
pub(crate) fn gzip(data: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::best(),
    );
    enc.write_all(data).expect("writing to a Vec cannot fail");
    Bytes::from(enc.finish().expect("writing to a Vec cannot fail"))
}

/// The bytes a gzip stream holds (the page cache makes a plain body from its gzip form and
/// copies it into the entry).
pub(crate) fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 5);
    std::io::copy(&mut flate2::read::GzDecoder::new(data), &mut out)?;
    Ok(out)
}

/// Brotli at `quality` (the callers keep the result for long and copy it exactly).
pub(crate) fn brotli(data: &[u8], quality: u32) -> Bytes {
    brotli_with(data, quality, brotli::enc::StandardAlloc::default())
}

/// Brotli at `quality`, its working memory kept by this thread for its next call: for the
/// threads that compress pages all day (see `brotli_memory`).
pub(crate) fn brotli_reusing(data: &[u8], quality: u32) -> Bytes {
    brotli_with(data, quality, crate::brotli_memory::Reusing)
}

fn brotli_with<A: brotli::enc::BrotliAlloc>(data: &[u8], quality: u32, mut alloc: A) -> Bytes {
    // A smaller window than 22 for small pages sounds thrifty but makes the encoder choose
    // a hasher with much larger tables at quality 5 (tried: 30× slower, mmap churn).
    let buffer = <A as brotli::Allocator<u8>>::alloc_cell(&mut alloc, 4096);
    let mut out = Vec::with_capacity(data.len() / 4);
    {
        let mut w = brotli::enc::writer::CompressorWriterCustomAlloc::new(
            &mut out, buffer, alloc, quality, 22,
        );
        w.write_all(data).expect("writing to a Vec cannot fail");
    }
    Bytes::from(out)
}

/// The encoding to answer with, from `Accept-Encoding` (brotli, then gzip, else none).
/// Only exact tokens count and a `q=0` refuses, so odd headers fall back to identity.
pub(crate) fn preferred_encoding(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    if accept.len() > 1024 {
        return None;
    }
    let accepts = |name: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            token.eq_ignore_ascii_case(name) && !refused
        })
    };
    if accepts("br") {
        Some("br")
    } else if accepts("gzip") {
        Some("gzip")
    } else {
        None
    }
}

impl Assets {
    /// The assets, compressed once per process: they depend only on the embedded sources, and
    /// compressing the editor's script is the slow part of building an application state.
    pub(crate) fn build() -> Self {
        static BUILT: LazyLock<Assets> = LazyLock::new(Assets::compress);
        BUILT.clone()
    }

    fn compress() -> Self {
        let mut urls = HashMap::new();
        let mut files = HashMap::new();
        for (name, content_type, body) in SOURCES {
            let hash = hex::encode(Sha256::digest(body.as_bytes()));
            let (stem, ext) = name
                .rsplit_once('.')
                .expect("asset names have an extension");
            let file = format!("{stem}.{}.{ext}", &hash[..12]);
            urls.insert(*name, format!("/assets/{file}"));
            let asset = Asset {
                content_type,
                etag: HeaderValue::from_str(&format!("\"{}\"", &hash[..32]))
                    .expect("hex is a valid header"),
                identity: Bytes::from_static(body.as_bytes()),
                gzip: gzip(body.as_bytes()),
                // On the editor's script (~450 KiB) brotli's best quality takes half a
                // second (seconds unoptimised) for 8 % less than quality 9 in a tenth of it.
                brotli: brotli(
                    body.as_bytes(),
                    if body.len() > 128 * 1024 { 9 } else { 11 },
                ),
            };
            files.insert(file, asset);
        }
        Self {
            urls: Arc::new(urls),
            files: Arc::new(files),
        }
    }

    /// URL of an asset by logical name (`site.css`).
    pub(crate) fn url(&self, name: &str) -> &str {
        self.urls
            .get(name)
            .map(String::as_str)
            .unwrap_or("/assets/missing")
    }
}

impl Assets {
    /// The answer to `GET /assets/{file}`; `None` when there is no such file.
    pub(crate) fn response(&self, file: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.files.get(file)?;
        let mut res = if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v == asset.etag)
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let (body, encoding) = match preferred_encoding(headers) {
                Some("br") => (asset.brotli.clone(), Some("br")),
                Some("gzip") => (asset.gzip.clone(), Some("gzip")),
                _ => (asset.identity.clone(), None),
            };
            let mut res = body.into_response();
            if let Some(enc) = encoding {
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
            }
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            res
        };
        let h = res.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        h.insert(header::ETAG, asset.etag.clone());
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        Some(res)
    }
}
