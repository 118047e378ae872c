//! Pictures on reader pages: every `<img>` whose source is a library item becomes a
//! `<picture>` with WebP and own-format `srcset`s, `sizes`, its `width`/`height` (no layout
//! shift) and `loading="lazy"` below the fold; the first picture of a page loads eagerly (an
//! animated GIF is shown as itself, to keep its animation). An
//! image whose library item was deleted becomes a placeholder with its alt text, never a
//! broken image.

use std::collections::HashMap;

use bantin_media::{key_of_url, srcset, url, variant_name};
use bantin_store::MediaItem;

use crate::{AppState, WebError};

/// The column pictures fill: the whole screen less the margins on a phone, 48 rem beyond.
pub(crate) const SIZES: &str = "(max-width: 800px) calc(100vw - 2rem), 768px";

/// One `<img …>` tag's attributes, as the sanitiser wrote them (values still escaped).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let inner = tag
        .trim_start_matches("<img")
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut rest = inner;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
                let end = q.find('"').unwrap_or(q.len());
                (&q[..end], q.get(end + 1..).unwrap_or(""))
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            out.push((name, value.to_owned()));
            rest = remaining;
        } else {
            out.push((name, String::new()));
        }
    }
    out
}

fn get<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Escapes text for an attribute value.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The markup of a library picture. `alt` is already escaped.
pub(crate) fn picture(item: &MediaItem, alt: &str, eager: bool) -> String {
    let (Some(w), Some(h)) = (item.width, item.height) else {
        return format!("<a href=\"{}\">{alt}</a>", url(&item.file()));
    };
    let (w, h) = (w as u32, h as u32);
    let loading = if eager {
        "eager\" fetchpriority=\"high"
    } else {
        "lazy"
    };
    if item.ext == "gif" {
        // An animated GIF is shown as itself: its variants are WebP stills of the first frame
        // (for thumbnails), which would stop the animation.
        return format!(
            "<img src=\"{}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\" loading=\"{loading}\" \
             decoding=\"async\">",
            url(&item.file())
        );
    }
    let widths = item.variant_widths();
    let webp = srcset(&item.key, &item.ext, w, &widths, true);
    let own = srcset(&item.key, &item.ext, w, &widths, false);
    // The fallback `src` for browsers without srcset: the widest variant up to 1024 px, or
    // the original.
    let src = widths.iter().rev().find(|&&v| v <= 1024).map_or_else(
        || url(&item.file()),
        |&v| url(&variant_name(&item.key, v, &item.ext)),
    );
    let source = if item.ext == "webp" {
        String::new()
    } else {
        format!("<source type=\"image/webp\" srcset=\"{webp}\" sizes=\"{SIZES}\">")
    };
    format!(
        "<picture>{source}<img src=\"{src}\" srcset=\"{own}\" sizes=\"{SIZES}\" width=\"{w}\" \
         height=\"{h}\" alt=\"{alt}\" loading=\"{loading}\" decoding=\"async\"></picture>"
    )
}

fn placeholder(alt: &str) -> String {
    format!("<span class=\"media-removed\" role=\"img\" aria-label=\"{alt}\">{alt}</span>")
}

/// The library keys an article's pictures name: its main image shown above the body (its
/// URL, if any) and the body's `<img>` sources.
pub(crate) fn keys(main: Option<&str>, body: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if let Some(k) = main.and_then(key_of_url) {
        keys.push(k.to_owned());
    }
    let mut pos = 0;
    while let Some(start) = body[pos..].find("<img") {
        let start = pos + start;
        let end = body[start..]
            .find('>')
            .map_or(body.len(), |e| start + e + 1);
        if let Some(k) = get(&attributes(&body[start..end]), "src").and_then(key_of_url) {
            keys.push(k.to_owned());
        }
        pos = end;
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Reader-page HTML for an article's main image (`main`: URL and alt text, unescaped) and its
/// sanitised `body`, given the library `items` their [`keys`] name: `(main image markup,
/// body)`.
pub(crate) fn responsive(
    items: Vec<MediaItem>,
    main: Option<(&str, &str)>,
    body: &str,
) -> (Option<String>, String) {
    let items: HashMap<String, MediaItem> = items.into_iter().map(|m| (m.key.clone(), m)).collect();
    let mut first = true;
    let main_html = main.map(|(u, alt)| {
        let alt = escape(alt);
        let html = match key_of_url(u) {
            Some(k) => match items.get(k) {
                Some(item) => picture(item, &alt, true),
                None => placeholder(&alt),
            },
            None => format!("<img src=\"{}\" alt=\"{alt}\">", escape(u)),
        };
        first = false;
        html
    });
    let mut out = String::with_capacity(body.len() + 1024);
    let mut pos = 0;
    while let Some(start) = body[pos..].find("<img") {
        let start = pos + start;
        out.push_str(&body[pos..start]);
        let end = body[start..]
            .find('>')
            .map_or(body.len(), |e| start + e + 1);
        let tag = &body[start..end];
        let attrs = attributes(tag);
        let alt = get(&attrs, "alt").unwrap_or_default();
        let eager = std::mem::replace(&mut first, false);
        match get(&attrs, "src").and_then(key_of_url) {
            Some(k) => match items.get(k) {
                Some(item) => out.push_str(&picture(item, alt, eager)),
                None => out.push_str(&placeholder(alt)),
            },
            None => {
                // Other pictures keep their tag, lazy below the first.
                let rebuilt: Vec<String> = attrs
                    .iter()
                    .filter(|(n, _)| n != "loading")
                    .map(|(n, v)| format!("{n}=\"{v}\""))
                    .collect();
                let loading = if eager { "eager" } else { "lazy" };
                out.push_str(&format!(
                    "<img {} loading=\"{loading}\">",
                    rebuilt.join(" ")
                ));
            }
        }
        pos = end;
    }
    out.push_str(&body[pos..]);
    (main_html, out)
}

/// Responsive sources for the thumbnails of a list: one query for every library picture the
/// entries show. A picture whose library item was deleted is dropped from its entry, never
/// shown broken; other images (an outside URL, a file under `/media/`) are left as they are.
pub(crate) async fn thumbnails(
    state: &AppState,
    mut items: Vec<crate::site::Item>,
) -> Result<Vec<crate::site::Item>, WebError> {
    let mut keys: Vec<String> = items
        .iter()
        .filter_map(|i| i.image_url().and_then(key_of_url).map(str::to_owned))
        .collect();
    if keys.is_empty() {
        return Ok(items);
    }
    keys.sort();
    keys.dedup();
    let found: HashMap<String, MediaItem> = state
        .store()
        .media_by_keys(&keys)
        .await?
        .into_iter()
        .map(|m| (m.key.clone(), m))
        .collect();
    for item in &mut items {
        let Some(key) = item.image_url().and_then(key_of_url).map(str::to_owned) else {
            continue;
        };
        let thumb = found.get(&key).and_then(|m| {
            let (w, _) = (m.width?, m.height?);
            let w = u32::try_from(w).ok()?;
            let widths = m.variant_widths();
            // An animated GIF's list thumbnail is its WebP still: a list need not move.
            let own_ext = if m.ext == "gif" {
                "webp"
            } else {
                m.ext.as_str()
            };
            let src = widths.first().map_or_else(
                || url(&m.file()),
                |&v| url(&variant_name(&m.key, v, own_ext)),
            );
            Some(crate::site::Thumb {
                webp: srcset(&m.key, &m.ext, w, &widths, true),
                own: srcset(&m.key, &m.ext, w, &widths, m.ext == "gif"),
                src,
            })
        });
        item.set_thumb(thumb);
    }
    Ok(items)
}

/// `GET /media/lib/{file}`: a library file from the storage, cached for a year by browsers
/// and proxies (names are content addresses: a file never changes under its name).
pub(crate) async fn serve(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<axum::response::Response, WebError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let media = state.app().media().ok_or(WebError::NotFound)?;
    if !bantin_media::storage::valid_name(&file) {
        return Err(WebError::NotFound);
    }
    let bytes = media
        .storage()
        .get(&file)
        .await
        .map_err(WebError::internal)?
        .ok_or(WebError::NotFound)?;
    let ext = file.rsplit('.').next().unwrap_or_default();
    let (mime, attachment) = match ext {
        "jpg" => ("image/jpeg", false),
        "png" => ("image/png", false),
        "webp" => ("image/webp", false),
        "gif" => ("image/gif", false),
        "pdf" => ("application/pdf", true),
        _ => ("application/octet-stream", true),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{file}\"")).map_err(WebError::internal)?,
    );
    if attachment {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sanitised_attributes() {
        let a = attributes(r#"<img src="/media/lib/x.jpg" alt="A &quot;b&quot;" width="800">"#);
        assert_eq!(get(&a, "src"), Some("/media/lib/x.jpg"));
        assert_eq!(get(&a, "alt"), Some("A &quot;b&quot;"));
        assert_eq!(get(&a, "width"), Some("800"));
    }
}
