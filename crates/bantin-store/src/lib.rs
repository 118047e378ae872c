//! Persistence for bantin behind one seam: [`Store`] runs the same SQL on SQLite (the embedded
//! default) or PostgreSQL. Backend differences stay inside this crate: the two migration
//! folders, connection set-up and the `with_db!` dispatch.

use std::str::FromStr;
use std::time::Duration;

use bantin_core::{ArticleId, ChangeId};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod api_reads;
mod articles;
mod audit;
mod categories;
mod changes;
mod editing;
mod listings;
mod media;
mod meta;
mod models;
mod ratings;
mod reader;
mod reads;
mod revisions;
mod schema;
mod search;
mod sessions;
mod tags;
mod tokens;
mod users;
mod webhooks;

pub use api_reads::{PublicArticleQuery, TagCount};
pub use articles::author_slug;
pub use articles::{
    ArticleFilter, ArticleOptions, ArticlePlacement, ArticleSort, NewArticle, NewsroomArticle,
    PAGE_MAX, Saved,
};
pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use categories::{CategoryUpdate, CategoryUpdated, Direction, NewCategory};
pub use changes::{Change, ChangeKind, ChangeWaker, NewChange};
pub use editing::{Autosave, EditLock};
pub use listings::{PublicTag, SitemapEntry};
pub use media::{MediaFilter, MediaItem, MediaUse, NewMedia};
pub use models::{Article, ArticleSummary, Category};
pub use ratings::{Vote, VoteOutcome};
pub use reader::{Query, Value};
pub use reads::{ArticlePage, CategoryListing, PlanSample, reader_queries};
pub use revisions::{ArticleEvent, HISTORY_MAX, Revision, RevisionSummary};
pub use schema::SchemaItem;
pub use search::{SearchDoc, SearchFilter, SearchHit};
pub use sessions::{LoginAttempt, Session};
pub use tags::TagRow;
pub use tokens::{ApiToken, NewApiToken};
pub use users::{ADMINISTRATORS_LOCK, NewUser, User, UserUpdate};
pub use webhooks::{Attempt, Delivery, NewDelivery, Webhook};

/// Runs the same code against whichever pool the store holds. The body is compiled once per
/// backend, so SQL must be portable: `$n` placeholders, `BIGINT` instants, cast aggregates.
macro_rules! with_db {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

/// Runs the same code on the connection of an open transaction (see [`with_db!`]); `$conn`
/// is a `&mut` connection, reborrowed with `&mut *$conn` for each statement.
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// The connection pool of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Errors of the storage layer, by kind: callers decide on the kind, never on message text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend we support.
    #[error("unsupported database URL (expected sqlite://… or postgres://…)")]
    UnsupportedUrl,
    /// A unique value (a username, a slug) is taken.
    #[error("already exists")]
    Conflict,
    /// A referenced row (a category, an account) does not exist.
    #[error("refers to a row that does not exist")]
    UnknownReference,
    /// The database could not be reached or the pool is exhausted or closed.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A read on the SQLite read pool failed (or the thread running it panicked).
    #[error("database error")]
    Read(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Applying migrations failed.
    #[error("migrating the database failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => Self::UnknownReference,
            // PostgreSQL ending the connection (restart, shutdown, failover) answers with an
            // error first: class 08 connection exceptions, 57P01–57P03 shutting down.
            sqlx::Error::Database(d)
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|e| {
                        e.code().starts_with("08")
                            || matches!(e.code(), "57P01" | "57P02" | "57P03")
                    }) =>
            {
                Self::Unavailable(e)
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e)
            }
            _ => Self::Database(e),
        }
    }
}

/// Storage result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database, shared by every request (cheap to clone).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// On a SQLite file: the rusqlite connections reader pages read through (see [`reader`]).
    read: Option<std::sync::Arc<reader::ReadPool>>,
    /// The highest change-feed id this process committed, so its followers wake at once and
    /// its handlers can wait until their own change is applied (other processes learn through
    /// NOTIFY or their poll).
    committed: std::sync::Arc<tokio::sync::watch::Sender<ChangeId>>,
}

/// An open transaction. Every write of the application runs in one, together with its audit
/// entry and change-feed rows; dropping it without [`Tx::commit`] rolls everything back.
pub struct Tx {
    inner: TxInner,
    last_change: Option<ChangeId>,
    committed: std::sync::Arc<tokio::sync::watch::Sender<ChangeId>>,
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Makes every write of the transaction permanent.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if let Some(id) = self.last_change {
            self.committed.send_if_modified(|n| {
                let newer = id > *n;
                if newer {
                    *n = id;
                }
                newer
            });
        }
        Ok(())
    }

    /// Serialises transactions that use the same `key` until this one ends (a check and the
    /// write it allows, e.g. counting sign-in failures, become atomic). SQLite transactions
    /// are already serialised (they begin IMMEDIATE); PostgreSQL takes an advisory lock.
    pub async fn lock(&mut self, key: &str) -> Result<()> {
        if let TxInner::Postgres(t) = &mut self.inner {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite runs in WAL mode
    /// with a busy timeout so readers never wait on the writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?;
            // An in-memory database cannot be opened a second time by another library.
            let file = !(url.contains(":memory:") || url.contains("mode=memory"));
            let read = file.then(|| reader::ReadPool::new(opts.get_filename(), max_connections));
            Self::sqlite_pool(opts, max_connections, read).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Self::new(Db::Postgres(pool), None))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    fn new(db: Db, read: Option<std::sync::Arc<reader::ReadPool>>) -> Self {
        Self {
            db,
            read,
            committed: std::sync::Arc::new(tokio::sync::watch::channel(ChangeId::new(0)).0),
        }
    }

    /// Begins a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// a transaction that reads before it writes never fails to upgrade its lock.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.db {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            last_change: None,
            committed: self.committed.clone(),
        })
    }

    /// Opens (creating if missing) the SQLite file at `path`.
    pub async fn open_sqlite(path: &std::path::Path, max_connections: u32) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let read = reader::ReadPool::new(path, max_connections);
        Self::sqlite_pool(opts, max_connections, Some(read)).await
    }

    async fn sqlite_pool(
        opts: SqliteConnectOptions,
        max_connections: u32,
        read: Option<std::sync::Arc<reader::ReadPool>>,
    ) -> Result<Self> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // Writes and the few reads outside `reader` (see `reader::READ_CACHE_KIB`).
            .pragma("cache_size", "-256");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self::new(Db::Sqlite(pool), read))
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        self.backfill_author_slugs().await
    }

    /// Gives articles written before author pages existed their author's page segment (a
    /// Rust rule, not one SQL can express the same way on both databases).
    async fn backfill_author_slugs(&self) -> Result<()> {
        loop {
            let rows = with_db!(self, |p| {
                sqlx::query_as::<_, (ArticleId, String)>(
                    "SELECT id, author FROM articles WHERE author_slug = '' AND author <> '' ORDER BY id LIMIT 1000",
                )
                .fetch_all(p)
                .await
            })?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin().await?;
            for (id, author) in &rows {
                // An author line with no letters or digits gets `-`, so it is not read again.
                let slug = Some(articles::author_slug(author))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "-".to_owned());
                tx.set_author_slug(*id, &slug).await?;
            }
            tx.commit().await?;
        }
    }

    /// Answers when the database does: the health check.
    pub async fn ping(&self) -> Result<()> {
        with_db!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The highest change-feed id committed by this process so far.
    pub fn committed_change(&self) -> ChangeId {
        *self.committed.borrow()
    }

    /// Waits for in-flight queries and closes the pool.
    pub async fn close(&self) {
        if let Some(read) = &self.read {
            read.close();
        }
        with_db!(self, |p| p.close().await);
    }
}
