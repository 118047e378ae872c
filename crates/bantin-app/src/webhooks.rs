//! Webhooks: an administrator registers addresses for article events; the events come from the
//! change feed and are delivered signed, retried with backoff and logged.
//!
//! Two steps, each safe with several processes on one database:
//!
//! 1. **Reading the feed.** Whichever process gets there first reads the changes after the
//!    shared cursor (`meta` key `webhooks.cursor`), tells each touched article's change as the
//!    event it was by comparing what readers see now with what the feed last knew
//!    (`webhook_article_state`), and, in one transaction that first checks the cursor has not
//!    moved, records the deliveries and moves the cursor. A process that lost the race drops
//!    its work: every event is recorded once.
//! 2. **Delivering.** A due delivery is claimed with a lease by one conditional update, so only
//!    one process sends it at a time; the outcome is written back with the next attempt's time
//!    (exponential backoff) or the final status.
//!
//! Targets are checked when each delivery is sent, by the guard in [`crate::net`]: the host's
//! addresses are resolved and any loopback, private, link-local or otherwise non-public
//! address refuses the delivery unless the `webhooks_allow_private` setting allows it; the
//! request then goes to exactly the addresses checked (no second lookup to rebind), through no
//! proxy, following no redirect.

use std::sync::Arc;
use std::time::Duration;

use bantin_core::{ArticleId, ArticleStatus, ChangeId, UnixTime};
use bantin_store::{Attempt, Change, ChangeKind, Delivery, NewDelivery};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::net::{AddressPolicy, error_chain, pinned_client, resolve_checked};
use crate::{Actor, App, AppError, ChangeSink, Result, random_hex};

/// The meta key of the feed cursor.
const CURSOR_KEY: &str = "webhooks.cursor";

/// Changes read per pass.
const BATCH: i64 = 200;

/// Deliveries sent per pass.
const SEND_BATCH: i64 = 20;

/// The article events a webhook can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// An article became visible to readers.
    Published,
    /// A visible article's content changed.
    Updated,
    /// A visible article was taken down (unpublished or expired).
    Unpublished,
    /// A visible article was moved to the trash or deleted.
    Deleted,
}

impl WebhookEvent {
    /// Every event.
    pub const ALL: [Self; 4] = [
        Self::Published,
        Self::Updated,
        Self::Unpublished,
        Self::Deleted,
    ];

    /// The name sent in `X-Bantin-Event` and the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "article.published",
            Self::Updated => "article.updated",
            Self::Unpublished => "article.unpublished",
            Self::Deleted => "article.deleted",
        }
    }

    /// The event of a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A webhook target as registered: an absolute `http` or `https` URL with a host, no user
/// name or password, at most 2 048 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(reqwest::Url);

impl WebhookUrl {
    /// The URL, if acceptable.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() > 2048 {
            return None;
        }
        let u = reqwest::Url::parse(s).ok()?;
        let ok = matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some_and(|h| !h.is_empty())
            && u.username().is_empty()
            && u.password().is_none();
        ok.then_some(Self(u))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// How webhooks are delivered (settings `webhooks_allow_private`, `public_url`).
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Deliver to loopback, private and link-local addresses too (tests, intranets).
    pub allow_private: bool,
    /// The site's public address, for the article URLs in payloads.
    pub public_url: Option<String>,
    /// Longest a receiver may take to answer.
    pub timeout: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: i64,
    /// Seconds before the first retry; each later one waits twice as long (at most 6 hours).
    pub retry_base: i64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            public_url: None,
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            retry_base: 30,
        }
    }
}

/// `X-Bantin-Signature` of `body` sent at `t` with `secret`: `t=<unix seconds>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">`. Receivers recompute it and reject old timestamps.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl App {
    /// Registers a webhook for `events`; returns its id and its signing secret.
    pub async fn register_webhook(
        &self,
        actor: &Actor,
        url: &WebhookUrl,
        events: &[WebhookEvent],
    ) -> Result<(i64, String)> {
        let secret = random_hex(32)?;
        let names: Vec<&str> = WebhookEvent::ALL
            .into_iter()
            .filter(|e| events.contains(e))
            .map(WebhookEvent::as_str)
            .collect();
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let id = tx
            .insert_webhook(url.as_str(), &secret, &names.join(","), actor.user_id, now)
            .await?;
        tx.audit(
            &actor.entry("webhook.created", &format!("webhook:{id}"), url.as_str()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((id, secret))
    }

    /// Deletes a webhook and its delivery log.
    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.delete_webhook(id).await? {
            return Err(AppError::NotFound);
        }
        tx.audit(
            &actor.entry("webhook.deleted", &format!("webhook:{id}"), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Wakes the webhook worker when changes arrive (the follower calls sinks synchronously; the
/// work happens on the worker's task).
struct Wake(Arc<Notify>);

impl ChangeSink for Wake {
    fn apply(&self, changes: &[Change]) {
        if changes
            .iter()
            .any(|c| c.article.is_some() || c.kind.is_none())
        {
            self.0.notify_one();
        }
    }

    fn reset(&self) {
        self.0.notify_one();
    }
}

/// An event found in the feed, before it is fanned out to webhooks.
struct Found {
    change: ChangeId,
    article: ArticleId,
    event: Option<WebhookEvent>,
    public: bool,
    revision: i64,
    payload: String,
}

/// The webhook worker of one process.
pub struct Webhooks {
    app: App,
    settings: WebhookSettings,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Webhooks {
    /// The worker over `app`.
    pub fn new(app: App, settings: WebhookSettings) -> Arc<Self> {
        Arc::new(Self {
            app,
            settings,
            wake: Arc::new(Notify::new()),
        })
    }

    /// The change-feed sink that wakes this worker.
    pub fn sink(&self) -> Arc<dyn ChangeSink> {
        Arc::new(Wake(self.wake.clone()))
    }

    /// Runs until the task is dropped: after each wake-up (or `poll`), records the events of
    /// new changes and sends the deliveries due.
    pub async fn run(self: Arc<Self>, poll: Duration) {
        loop {
            if let Err(e) = self.pass().await {
                tracing::warn!(error = %e, "webhooks: a pass failed; retrying");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One pass: record events, then deliver what is due. Returns the deliveries attempted.
    pub async fn pass(&self) -> Result<usize> {
        while self.record_events().await? > 0 {}
        self.deliver_due().await
    }

    fn article_path(categories: &[bantin_store::Category], a: &bantin_store::Article) -> String {
        let cat = categories
            .iter()
            .find(|c| c.id == a.category_id)
            .map_or("bai-viet", |c| c.slug.as_str());
        format!("/{cat}/{}-{}.html", a.slug, a.id)
    }

    /// Reads one batch of the feed after the shared cursor and records its events; returns
    /// how many changes it consumed (0: nothing new, or another process took the batch).
    pub async fn record_events(&self) -> Result<usize> {
        let store = self.app.store();
        let cursor = match store.meta_get(CURSOR_KEY).await? {
            Some(v) => ChangeId::new(v.parse().unwrap_or(0)),
            None => {
                // A new installation starts from now: what came before was never announced.
                let last = store.last_change_id().await?;
                let v = store
                    .meta_get_or_insert(CURSOR_KEY, &last.get().to_string())
                    .await?;
                ChangeId::new(v.parse().unwrap_or(0))
            }
        };
        let pruned = store.changes_pruned_through().await?;
        let from = if cursor < pruned {
            tracing::warn!(%cursor, %pruned, "webhooks: changes were pruned before they were read");
            pruned
        } else {
            cursor
        };
        let batch = store.changes_after(from, BATCH).await?;
        let Some(last) = batch.last().map(|c| c.id) else {
            if from != cursor {
                self.move_cursor(cursor, from, &[]).await?;
            }
            return Ok(0);
        };
        // The newest change of each article in the batch; its state now says what happened.
        let mut touched: Vec<(ArticleId, ChangeId, Option<ChangeKind>)> = Vec::new();
        for c in &batch {
            if let Some(a) = c.article {
                match touched.iter_mut().find(|(id, ..)| *id == a) {
                    Some(t) => {
                        t.1 = c.id;
                        if t.2 != Some(ChangeKind::ArticleListed) {
                            t.2 = c.kind;
                        }
                    }
                    None => touched.push((a, c.id, c.kind)),
                }
            }
        }
        let now = self.app.now();
        let categories = store.categories().await?;
        let mut found = Vec::new();
        for (id, change, kind) in touched {
            let before = store.webhook_article_state(id).await?;
            let article = store.article(id).await?;
            let public = article
                .as_ref()
                .is_some_and(|a| a.visibility().is_public(now));
            let revision = article.as_ref().map_or(0, |a| a.revision);
            let event = match (before, &article) {
                (Some((true, rev)), Some(_)) if public => {
                    (rev != revision).then_some(WebhookEvent::Updated)
                }
                (Some((true, _)), Some(a)) if a.status() == ArticleStatus::Trash => {
                    Some(WebhookEvent::Deleted)
                }
                (Some((true, _)), Some(_)) => Some(WebhookEvent::Unpublished),
                (Some((true, _)), None) => Some(WebhookEvent::Deleted),
                // Unknown before (changed before webhooks were followed): an edit that did not
                // move it in lists was an update of what readers already saw.
                (None, Some(_)) if public && kind == Some(ChangeKind::ArticleEdited) => {
                    Some(WebhookEvent::Updated)
                }
                (_, Some(_)) if public => Some(WebhookEvent::Published),
                _ => None,
            };
            let payload = match event {
                Some(e) => self.payload(e, id, change, article.as_ref(), &categories, now),
                None => String::new(),
            };
            found.push(Found {
                change,
                article: id,
                event,
                public,
                revision,
                payload,
            });
        }
        self.move_cursor(cursor, last, &found).await?;
        Ok(batch.len())
    }

    /// Records `found` and moves the cursor from `expected` to `to`, unless another process
    /// moved it meanwhile (then nothing is written).
    async fn move_cursor(&self, expected: ChangeId, to: ChangeId, found: &[Found]) -> Result<()> {
        let now = self.app.now();
        let hooks = self.app.store().webhooks().await?;
        let mut tx = self.app.store().begin().await?;
        tx.lock("webhooks.feed").await?;
        let current = tx
            .meta_get_for_update(CURSOR_KEY)
            .await?
            .and_then(|v| v.parse::<i64>().ok());
        if current != Some(expected.get()) {
            return Ok(());
        }
        for f in found {
            if let Some(event) = f.event {
                for h in hooks.iter().filter(|h| h.wants(event.as_str())) {
                    tx.insert_delivery(
                        &NewDelivery {
                            webhook_id: h.id,
                            change_id: f.change,
                            event: event.as_str(),
                            article_id: Some(f.article),
                            payload: &f.payload,
                        },
                        now,
                    )
                    .await?;
                }
            }
            tx.set_webhook_article_state(f.article, f.public, f.revision)
                .await?;
        }
        tx.meta_set(CURSOR_KEY, &to.get().to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    fn payload(
        &self,
        event: WebhookEvent,
        id: ArticleId,
        change: ChangeId,
        article: Option<&bantin_store::Article>,
        categories: &[bantin_store::Category],
        now: UnixTime,
    ) -> String {
        let time = |t: UnixTime| t.timestamp().to_string();
        let article = match article {
            Some(a) => {
                let path = Self::article_path(categories, a);
                let url = self
                    .settings
                    .public_url
                    .as_deref()
                    .map(|base| format!("{}{path}", base.trim_end_matches('/')));
                serde_json::json!({
                    "id": a.id.get(),
                    "title": a.title,
                    "slug": a.slug,
                    "path": path,
                    "url": url,
                    "status": a.status().as_str(),
                    "revision": a.revision,
                    "category_id": a.category_id.get(),
                    "publish_at": time(a.publish_at),
                    "updated_at": time(a.updated_at),
                })
            }
            None => serde_json::json!({ "id": id.get() }),
        };
        serde_json::json!({
            "event": event.as_str(),
            "change_id": change.get(),
            "occurred_at": time(now),
            "article": article,
        })
        .to_string()
    }

    /// Sends the deliveries due now (each claimed first); returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let store = self.app.store();
        let now = self.app.now();
        let due = store.due_deliveries(now, SEND_BATCH).await?;
        let mut n = 0;
        for d in due {
            let lease = now.plus(self.settings.timeout.as_secs() as i64 * 3 + 30);
            if !store.claim_delivery(d.id, now, lease).await? {
                continue;
            }
            n += 1;
            let Some(hook) = store.webhook(d.webhook_id).await? else {
                continue;
            };
            let outcome = self.send(&hook.url, &hook.secret, &d).await;
            let attempts = d.attempts + 1;
            let attempt = match outcome {
                Ok(status) if (200..300).contains(&status) => Attempt::Delivered(status),
                other => {
                    let (status, error) = match other {
                        Ok(s) => (Some(s), format!("HTTP {s}")),
                        Err(e) => (None, e),
                    };
                    let retry_at = (attempts < self.settings.max_attempts).then(|| {
                        let wait = self
                            .settings
                            .retry_base
                            .saturating_mul(1 << (attempts - 1).clamp(0, 20))
                            .min(6 * 3600);
                        self.app.now().plus(wait)
                    });
                    tracing::info!(delivery = d.id, webhook = hook.id, %error, "webhook delivery failed");
                    Attempt::Failed {
                        status,
                        error,
                        retry_at,
                    }
                }
            };
            store
                .finish_delivery(d.id, &attempt, self.app.now())
                .await?;
        }
        Ok(n)
    }

    /// Sends one delivery; the receiver's status, or why nothing was sent or answered.
    async fn send(&self, url: &str, secret: &str, d: &Delivery) -> Result<i64, String> {
        let url = WebhookUrl::parse(url).ok_or_else(|| "invalid URL".to_owned())?;
        let policy = AddressPolicy {
            allow_private: self.settings.allow_private,
            allow_addresses: Vec::new(),
        };
        let pinned = resolve_checked(&url.0, &policy)
            .await
            .map_err(|e| e.to_string())?;
        let client = pinned_client(&pinned, self.settings.timeout, "bantin-webhooks/1")
            .map_err(|e| e.to_string())?;
        let t = self.app.now().as_second();
        let res = client
            .post(url.0.clone())
            .header("content-type", "application/json")
            .header("x-bantin-event", &d.event)
            .header("x-bantin-delivery", d.id.to_string())
            .header("x-bantin-signature", signature(secret, t, &d.payload))
            .body(d.payload.clone())
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        Ok(i64::from(res.status().as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_signatures() {
        assert!(WebhookUrl::parse("https://example.vn/hook").is_some());
        assert!(WebhookUrl::parse("ftp://example.vn/").is_none());
        assert!(WebhookUrl::parse("https://u:p@example.vn/").is_none());
        assert!(WebhookUrl::parse("not a url").is_none());
        let s = signature("k", 1, "{}");
        assert!(s.starts_with("t=1,v1=") && s.len() == "t=1,v1=".len() + 64);
        assert_eq!(
            WebhookEvent::parse("article.updated"),
            Some(WebhookEvent::Updated)
        );
    }
}
