//! Pulling remote pictures into the library: an editor pastes an article from another site and,
//! in one action, its `<img>` sources on other hosts are fetched, taken in like uploads
//! (content sniffed, pixel limits checked before decoding, metadata stripped, variants made)
//! and the body pointed at the library copies.
//!
//! Fetching is the risky part, so it is narrow: only `http` and `https`; the host is resolved
//! and checked by the guard webhooks use ([`crate::net`]: no loopback, private, link-local,
//! CGNAT, unspecified or multicast address, in any spelling, unless a setting allows it) and
//! the request goes to exactly the addresses checked; redirects are followed by hand, each hop
//! checked again, a few at most; the body is read up to the library's size limit and the whole
//! fetch gives up after a timeout.

use std::collections::HashMap;
use std::time::Duration;

use bantin_core::access::Rights;
use bantin_core::workflow::{Action, Subject, next_status};
use bantin_core::{ArticleId, HtmlPolicy, SanitizedHtml};
use bantin_media::IntakeError;
use bantin_store::MediaItem;
use bytes::{Bytes, BytesMut};

use crate::net::{AddressPolicy, NetError, error_chain, pinned_client, resolve_checked};
use crate::{Actor, App, AppError, Result};

/// How remote pictures are fetched (settings `media_fetch_allow_private`, …).
#[derive(Clone, Debug)]
pub struct RemoteFetch {
    /// Which addresses may be fetched from.
    pub policy: AddressPolicy,
    /// Longest one fetch may take, redirects and body included.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Largest body read, bytes; `None`: the library's upload limit.
    pub max_bytes: Option<u64>,
    /// Pictures fetched in one action; the rest are left as they are and reported.
    pub max_images: usize,
}

impl Default for RemoteFetch {
    fn default() -> Self {
        Self {
            policy: AddressPolicy::default(),
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            max_bytes: None,
            max_images: 50,
        }
    }
}

/// Why one remote picture was not pulled in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    /// Not sent: not `http`/`https`, unresolvable, or a refused address.
    #[error(transparent)]
    Net(#[from] NetError),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// The server answered with an error (or a redirect without a place to go).
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the limit.
    #[error("the file is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The server took longer than the timeout.
    #[error("the server did not answer within {0} seconds")]
    Timeout(u64),
    /// The connection failed.
    #[error("fetching failed: {0}")]
    Transfer(String),
    /// The content is not a picture the library takes.
    #[error("the content is not a JPEG, PNG, WebP or GIF picture")]
    NotAnImage,
    /// The picture was refused by the library.
    #[error(transparent)]
    Intake(IntakeError),
    /// More pictures than one action fetches.
    #[error("more than {0} pictures in one action")]
    TooMany(usize),
}

/// What pulling an article's pictures did.
#[derive(Debug)]
pub struct Pulled {
    /// The body, sanitised, each pulled picture pointing at its library copy.
    pub body: SanitizedHtml,
    /// Each remote URL taken in, with its library item.
    pub fetched: Vec<(String, MediaItem)>,
    /// Each remote URL left as it was, and why.
    pub failed: Vec<(String, PullError)>,
}

/// The file name a URL suggests (its last path segment), for the library's alt-text rule.
fn name_of(url: &reqwest::Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    // Escapes decoded, invalid UTF-8 replaced: the library makes the name safe.
    let decoded = percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned();
    if decoded.trim().is_empty() {
        "remote-image".to_owned()
    } else {
        decoded
    }
}

/// Fetches `url` under `fetch`'s rules: each hop's host checked and pinned, redirects
/// followed by hand, the body read up to `max` bytes. Answers the body and the URL it came
/// from after redirects.
async fn fetch_bytes(
    url: &str,
    fetch: &RemoteFetch,
    max: u64,
) -> Result<(Bytes, reqwest::Url), PullError> {
    let mut url = reqwest::Url::parse(url.trim()).map_err(|_| NetError::Scheme)?;
    for _ in 0..=fetch.max_redirects {
        let pinned = resolve_checked(&url, &fetch.policy).await?;
        let client = pinned_client(&pinned, fetch.timeout, "bantin-media/1")?;
        let mut res = client
            .get(url.clone())
            .header(
                "accept",
                "image/webp,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.1",
            )
            .send()
            .await
            .map_err(|e| transfer(&e, fetch))?;
        let status = res.status();
        if status.is_redirection() {
            let next = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or(PullError::Status(status.as_u16()))?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(PullError::Status(status.as_u16()));
        }
        if res.content_length().is_some_and(|n| n > max) {
            return Err(PullError::TooLarge { max });
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| transfer(&e, fetch))? {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(PullError::TooLarge { max });
            }
            body.extend_from_slice(&chunk);
        }
        return Ok((body.freeze(), url));
    }
    Err(PullError::TooManyRedirects(fetch.max_redirects))
}

fn transfer(e: &reqwest::Error, fetch: &RemoteFetch) -> PullError {
    if e.is_timeout() {
        PullError::Timeout(fetch.timeout.as_secs())
    } else {
        PullError::Transfer(error_chain(e))
    }
}

impl App {
    /// Fetches one remote picture into the library (the same picture already there answers
    /// with that item). Refused fetches and files leave nothing behind.
    pub async fn fetch_remote_media(
        &self,
        actor: &Actor,
        url: &str,
        fetch: &RemoteFetch,
    ) -> Result<std::result::Result<MediaItem, PullError>> {
        let media = self
            .media()
            .ok_or_else(|| AppError::Internal("no media library configured".into()))?;
        let limit = media.settings().max_bytes;
        let max = fetch.max_bytes.map_or(limit, |m| m.min(limit));
        // The client's own timeout covers each request; this one covers the whole fetch,
        // redirects included, so a chain of slow hops cannot add up.
        let (bytes, last) =
            match tokio::time::timeout(fetch.timeout, fetch_bytes(url, fetch, max)).await {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => return Ok(Err(e)),
                Err(_) => return Ok(Err(PullError::Timeout(fetch.timeout.as_secs()))),
            };
        // Named by where the picture really was (a redirect's target).
        let name = name_of(&last);
        match self.take_in(actor, &name, bytes, Some(url)).await {
            Ok(item) => Ok(Ok(item)),
            Err(AppError::Media(IntakeError::NotAccepted | IntakeError::Svg)) => {
                Ok(Err(PullError::NotAnImage))
            }
            Err(AppError::Media(e)) => Ok(Err(PullError::Intake(e))),
            Err(e) => Err(e),
        }
    }

    /// Pulls the remote pictures of `body` (an edit of article `id` that `actor` is about to
    /// save) into the library: the body comes back sanitised by `html`, each picture fetched
    /// pointing at its library copy; pictures that could not be fetched keep their URL and are
    /// reported. Only someone who may save the article may make the server fetch for it.
    pub async fn pull_remote_images(
        &self,
        actor: &Actor,
        rights: &Rights,
        id: ArticleId,
        body: &str,
        html: &HtmlPolicy,
        fetch: &RemoteFetch,
    ) -> Result<Pulled> {
        let current = self.store().article(id).await?.ok_or(AppError::NotFound)?;
        let subject = Subject {
            status: current.status(),
            category: current.category_id,
            own: current.created_by.is_some() && current.created_by == actor.user_id,
            publish_at: current.publish_at,
        };
        next_status(rights, &subject, Action::Save, false, self.now())?;
        // Relative sources (the library's own `/media/…`) are not remote.
        let remote: Vec<String> = html
            .image_sources(body)
            .into_iter()
            .filter(|s| reqwest::Url::parse(s.trim()).is_ok())
            .collect();
        let mut fetched = Vec::new();
        let mut failed = Vec::new();
        let mut map = HashMap::new();
        for (i, src) in remote.into_iter().enumerate() {
            if i >= fetch.max_images {
                failed.push((src, PullError::TooMany(fetch.max_images)));
                continue;
            }
            match self.fetch_remote_media(actor, &src, fetch).await? {
                Ok(item) => {
                    map.insert(src.clone(), bantin_media::url(&item.file()));
                    fetched.push((src, item));
                }
                Err(e) => {
                    tracing::info!(url = %src, error = %e, "a remote picture was not pulled in");
                    failed.push((src, e));
                }
            }
        }
        Ok(Pulled {
            body: html.replace_image_sources(body, map),
            fetched,
            failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls() {
        let n = |u: &str| name_of(&reqwest::Url::parse(u).unwrap());
        assert_eq!(n("https://x.vn/a/DSC_5191.JPG?w=1"), "DSC_5191.JPG");
        assert_eq!(
            n("https://x.vn/%E1%BA%A3nh%20m%E1%BB%9Bi.jpg"),
            "ảnh mới.jpg"
        );
        assert_eq!(n("https://x.vn/"), "remote-image");
        assert_eq!(n("https://x.vn/a/%2e%2e%2f%2e%2e%2fetc"), "../../etc");
    }
}
