//! Webhooks: the addresses told about article events, the deliveries to them (each claimed by
//! one process at a time through a lease, so several processes on one database never send the
//! same delivery together), and what the webhook feed last knew of each article.

use bantin_core::{ArticleId, ChangeId, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// A registered webhook.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The HMAC key of its signatures.
    pub secret: String,
    /// Comma-separated event names it receives.
    pub events: String,
    /// Paused webhooks get no new deliveries.
    pub active: bool,
    /// Registered.
    pub created_at: UnixTime,
    /// By whom.
    pub created_by: Option<UserId>,
}

impl Webhook {
    /// Whether it wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.active && self.events.split(',').any(|e| e == event)
    }
}

/// A delivery: one event for one webhook, and how sending it went.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Delivery {
    /// Id (also sent in the `X-Bantin-Delivery` header).
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The change-feed row it came from.
    pub change_id: ChangeId,
    /// Event name.
    pub event: String,
    /// The article concerned.
    pub article_id: Option<ArticleId>,
    /// The JSON body sent.
    pub payload: String,
    /// Created.
    pub created_at: UnixTime,
    /// `pending`, `delivered` or `failed` (retries used up).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_at: UnixTime,
    /// HTTP status of the last attempt, if an answer came.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: String,
    /// When it was delivered.
    pub delivered_at: Option<UnixTime>,
}

/// A delivery to record.
#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    /// The webhook.
    pub webhook_id: i64,
    /// The change it came from.
    pub change_id: ChangeId,
    /// Event name.
    pub event: &'a str,
    /// The article.
    pub article_id: Option<ArticleId>,
    /// JSON body.
    pub payload: &'a str,
}

/// How an attempt ended.
#[derive(Clone, Debug)]
pub enum Attempt {
    /// The receiver answered 2xx with this status.
    Delivered(i64),
    /// It failed (`status` if an answer came, `error` says what); retry at `retry_at`, or
    /// never (`None`: retries used up).
    Failed {
        /// HTTP status, if any.
        status: Option<i64>,
        /// What went wrong.
        error: String,
        /// When to try again.
        retry_at: Option<UnixTime>,
    },
}

const WEBHOOK_COLUMNS: &str = "id, url, secret, events, active, created_at, created_by";
const DELIVERY_COLUMNS: &str = "id, webhook_id, change_id, event, article_id, payload, created_at, status, attempts, next_at, last_status, last_error, delivered_at";

impl Store {
    /// Every webhook, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, Webhook>(sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"
            )))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// One webhook.
    pub async fn webhook(&self, id: i64) -> Result<Option<Webhook>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, Webhook>(sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// What the webhook feed last knew of an article: whether it was public, at which
    /// revision.
    pub async fn webhook_article_state(&self, id: ArticleId) -> Result<Option<(bool, i64)>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, (bool, i64)>(
                "SELECT public, revision FROM webhook_article_state WHERE article_id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// Pending deliveries due at `now` and not leased by anyone, oldest first.
    pub async fn due_deliveries(&self, now: UnixTime, limit: i64) -> Result<Vec<Delivery>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE status = 'pending' AND next_at <= $1 AND lease_until <= $1
                 ORDER BY next_at, id LIMIT $2"
            )))
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Claims a due delivery until `lease_until`: one conditional statement, so of several
    /// processes claiming at once exactly one succeeds (true).
    pub async fn claim_delivery(
        &self,
        id: i64,
        now: UnixTime,
        lease_until: UnixTime,
    ) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query(
                "UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1
                 WHERE id = $2 AND status = 'pending' AND next_at <= $3 AND lease_until <= $3",
            )
            .bind(lease_until)
            .bind(id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Records how a claimed attempt ended and releases the lease.
    pub async fn finish_delivery(&self, id: i64, attempt: &Attempt, now: UnixTime) -> Result<()> {
        with_db!(self, |p| {
            match attempt {
                Attempt::Delivered(status) => sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'delivered', last_status = $1,
                     last_error = '', delivered_at = $2, lease_until = 0 WHERE id = $3",
                )
                .bind(status)
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(|_| ()),
                Attempt::Failed {
                    status,
                    error,
                    retry_at,
                } => sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, last_status = $2, last_error = $3,
                     next_at = $4, lease_until = 0 WHERE id = $5",
                )
                .bind(if retry_at.is_some() {
                    "pending"
                } else {
                    "failed"
                })
                .bind(status)
                .bind(error)
                .bind(retry_at.unwrap_or(now))
                .bind(id)
                .execute(p)
                .await
                .map(|_| ()),
            }
        })?;
        Ok(())
    }

    /// The latest deliveries of a webhook, newest first.
    pub async fn webhook_deliveries(&self, webhook_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
            )))
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}

impl Tx {
    /// Registers a webhook; returns its id.
    pub async fn insert_webhook(
        &mut self,
        url: &str,
        secret: &str,
        events: &str,
        by: Option<UserId>,
        now: UnixTime,
    ) -> Result<i64> {
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO webhooks (url, secret, events, active, created_at, created_by)
                 VALUES ($1, $2, $3, TRUE, $4, $5) RETURNING id",
            )
            .bind(url)
            .bind(secret)
            .bind(events)
            .bind(now)
            .bind(by)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(id)
    }

    /// Deletes a webhook and its deliveries; false when there was none.
    pub async fn delete_webhook(&mut self, id: i64) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Records a delivery to make, once: the same (webhook, change, event) again is ignored.
    pub async fn insert_delivery(&mut self, d: &NewDelivery<'_>, now: UnixTime) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, change_id, event, article_id, payload, created_at, next_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)
                 ON CONFLICT (webhook_id, change_id, event) DO NOTHING",
            )
            .bind(d.webhook_id)
            .bind(d.change_id)
            .bind(d.event)
            .bind(d.article_id)
            .bind(d.payload)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Remembers what the webhook feed now knows of an article.
    pub async fn set_webhook_article_state(
        &mut self,
        id: ArticleId,
        public: bool,
        revision: i64,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO webhook_article_state (article_id, public, revision) VALUES ($1, $2, $3)
                 ON CONFLICT (article_id) DO UPDATE SET public = excluded.public, revision = excluded.revision",
            )
            .bind(id)
            .bind(public)
            .bind(revision)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
