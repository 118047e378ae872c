//! The change feed: a row for every committed change readers could see, written in the
//! transaction of the change. Followers (the page cache of every process; later the search
//! index, feeds and webhooks) read it from their last seen id, so nothing reacts to a change
//! that was rolled back and a process that was away catches up.

use std::time::Duration;

use bantin_core::{ArticleId, CategoryId, ChangeId, UnixTime};

use crate::{Db, Result, Store, Tx, TxInner, with_db, with_tx};

/// The PostgreSQL channel woken after each commit that wrote changes.
const CHANNEL: &str = "bantin_changes";

/// Advisory lock key held from a change row's insert to commit, so PostgreSQL hands out and
/// commits feed ids in the same order and a follower never skips a late-committing id.
const FEED_LOCK: i64 = 0x6261_6e74_696e_0001;

/// What kind of change happened, which decides what reacts to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// An article appeared in, left or moved within lists: created, published, unpublished,
    /// rescheduled, expired, recategorised, or its slug changed.
    ArticleListed,
    /// Only what an article shows changed (title, lead, body, image, author…), not where it
    /// is listed.
    ArticleEdited,
    /// An article's rating totals changed.
    Rating,
    /// The category tree changed.
    Category,
    /// Site-wide settings changed.
    Site,
}

impl ChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticleListed => "article.listed",
            Self::ArticleEdited => "article.edited",
            Self::Rating => "rating",
            Self::Category => "category",
            Self::Site => "site",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "article.listed" => Self::ArticleListed,
            "article.edited" => Self::ArticleEdited,
            "rating" => Self::Rating,
            "category" => Self::Category,
            "site" => Self::Site,
            _ => return None,
        })
    }
}

/// A change to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The article concerned, if any.
    pub article: Option<ArticleId>,
    /// Every category concerned, before and after the change.
    pub categories: Vec<CategoryId>,
}

/// A change as followers read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Position in the feed.
    pub id: ChangeId,
    /// When it was committed (the writer's clock).
    pub at: UnixTime,
    /// What happened; `None` for a kind this version does not know (a newer process wrote
    /// it): followers must then treat it as "everything may have changed".
    pub kind: Option<ChangeKind>,
    /// The article concerned.
    pub article: Option<ArticleId>,
    /// The categories concerned.
    pub categories: Vec<CategoryId>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ChangeId,
    at: UnixTime,
    kind: String,
    article_id: Option<ArticleId>,
    category_ids: String,
}

impl From<Row> for Change {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            at: r.at,
            kind: ChangeKind::parse(&r.kind),
            article: r.article_id,
            categories: r
                .category_ids
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect(),
        }
    }
}

impl Tx {
    /// Records a change in this transaction; followers see it once the transaction commits.
    pub async fn record_change(&mut self, c: &NewChange, at: UnixTime) -> Result<ChangeId> {
        let mut categories = c.categories.clone();
        categories.sort_unstable();
        categories.dedup();
        let list = categories
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        if let TxInner::Postgres(t) = &mut self.inner {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FEED_LOCK)
                .execute(&mut **t)
                .await?;
        }
        let id = with_tx!(self, |c_| {
            sqlx::query_scalar::<_, ChangeId>(
                "INSERT INTO changes (at, kind, article_id, category_ids) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(at)
            .bind(c.kind.as_str())
            .bind(c.article)
            .bind(&list)
            .fetch_one(&mut *c_)
            .await
        })?;
        if let TxInner::Postgres(t) = &mut self.inner {
            // Delivered at commit, and not at all on rollback.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&mut **t)
                .await?;
        }
        self.last_change = Some(id);
        Ok(id)
    }
}

impl Store {
    /// Changes after `after`, oldest first, at most `limit`.
    pub async fn changes_after(&self, after: ChangeId, limit: i64) -> Result<Vec<Change>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, Row>(
                "SELECT id, at, kind, article_id, category_ids FROM changes
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(Change::from).collect())
    }

    /// The id of the newest change (0 when there is none): where a fresh follower starts.
    pub async fn last_change_id(&self) -> Result<ChangeId> {
        let id = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM changes")
                .fetch_one(p)
                .await
        })?;
        Ok(ChangeId::new(id))
    }

    /// Deletes changes recorded before `before` and remembers the highest id deleted, so a
    /// follower that had not yet read them knows it missed some.
    pub async fn prune_changes(&self, before: UnixTime) -> Result<u64> {
        let mut tx = self.begin().await?;
        let (n, through) = with_tx!(tx, |c| {
            let through = sqlx::query_scalar::<_, Option<i64>>(
                "SELECT CAST(MAX(id) AS BIGINT) FROM changes WHERE at < $1",
            )
            .bind(before)
            .fetch_one(&mut *c)
            .await?;
            let Some(through) = through else {
                return Ok(0);
            };
            let n = sqlx::query("DELETE FROM changes WHERE id <= $1")
                .bind(through)
                .execute(&mut *c)
                .await?
                .rows_affected();
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('changes_pruned_through', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(through.to_string())
            .execute(&mut *c)
            .await?;
            Ok::<_, crate::StoreError>((n, through))
        })?;
        tx.commit().await?;
        tracing::debug!(deleted = n, through, "pruned the change feed");
        Ok(n)
    }

    /// The highest change id pruned so far (0 when none).
    pub async fn changes_pruned_through(&self) -> Result<ChangeId> {
        let v = self.meta_get("changes_pruned_through").await?;
        Ok(ChangeId::new(
            v.and_then(|s| s.parse().ok()).unwrap_or_default(),
        ))
    }

    /// A waker for followers: returns when this process committed changes, when PostgreSQL
    /// says another process did, or after a poll interval at the latest.
    pub async fn change_waker(&self, poll: Duration) -> ChangeWaker {
        let local = self.committed.subscribe();
        let listener = match &self.db {
            Db::Postgres(pool) => match listen(pool).await {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN failed; following the change feed by polling");
                    None
                }
            },
            Db::Sqlite(_) => None,
        };
        ChangeWaker {
            local,
            listener,
            pool: match &self.db {
                Db::Postgres(p) => Some(p.clone()),
                Db::Sqlite(_) => None,
            },
            poll,
        }
    }
}

async fn listen(pool: &sqlx::PgPool) -> Result<sqlx::postgres::PgListener> {
    let mut l = sqlx::postgres::PgListener::connect_with(pool).await?;
    l.listen(CHANNEL).await?;
    Ok(l)
}

/// Wakes a change-feed follower (see [`Store::change_waker`]).
pub struct ChangeWaker {
    local: tokio::sync::watch::Receiver<ChangeId>,
    listener: Option<sqlx::postgres::PgListener>,
    pool: Option<sqlx::PgPool>,
    poll: Duration,
}

impl ChangeWaker {
    /// Waits until there may be new changes. A lost PostgreSQL connection is not an error
    /// for the caller: the wait ends (so the follower catches up by reading the table) and
    /// the listener reconnects on a later call.
    pub async fn wait(&mut self) {
        enum Woke {
            Local(bool),
            Remote(std::result::Result<Option<sqlx::postgres::PgNotification>, sqlx::Error>),
            Timeout,
        }
        async fn recv(
            l: &mut Option<sqlx::postgres::PgListener>,
        ) -> std::result::Result<Option<sqlx::postgres::PgNotification>, sqlx::Error> {
            match l {
                Some(l) => l.try_recv().await,
                None => std::future::pending().await,
            }
        }
        let woke = tokio::select! {
            r = self.local.changed() => Woke::Local(r.is_ok()),
            r = recv(&mut self.listener) => Woke::Remote(r),
            () = tokio::time::sleep(self.poll) => Woke::Timeout,
        };
        match woke {
            Woke::Local(true) | Woke::Remote(Ok(Some(_))) => {}
            // The store is gone; keep polling.
            Woke::Local(false) => tokio::time::sleep(self.poll).await,
            // The connection was lost and the notifications meanwhile with it: the caller
            // catches up from the table; the listener reconnects on its next receive.
            Woke::Remote(Ok(None)) => tracing::warn!("change-feed listener lost its connection"),
            Woke::Remote(Err(e)) => {
                tracing::warn!(error = %e, "change-feed listener failed; polling until it is back");
                self.listener = None;
            }
            Woke::Timeout => {
                if self.listener.is_none()
                    && let Some(pool) = &self.pool
                {
                    match listen(pool).await {
                        Ok(l) => self.listener = Some(l),
                        Err(e) => tracing::debug!(error = %e, "change-feed listener still down"),
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for ChangeWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeWaker")
            .field("listening", &self.listener.is_some())
            .field("poll", &self.poll)
            .finish()
    }
}
