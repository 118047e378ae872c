//! Persistence for bantin behind one seam: [`Store`] runs the same SQL on SQLite (the embedded
//! default) or PostgreSQL. Backend differences stay inside this crate: the two migration
//! folders, connection set-up and the `with_db!` dispatch.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod articles;
mod audit;
mod categories;
pub mod demo;
mod meta;
mod models;
mod ratings;
mod sessions;
mod users;

pub use articles::{NewArticle, PAGE_MAX};
pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use categories::NewCategory;
pub use models::{Article, ArticleSummary, Category};
pub use ratings::{Vote, VoteOutcome};
pub use sessions::Session;
pub use users::{NewUser, User, UserUpdate};

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

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend we support.
    #[error("unsupported database URL (expected sqlite://… or postgres://…)")]
    UnsupportedUrl,
    /// A database call failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The bundled demo content is malformed (a build problem, caught by tests).
    #[error("demo content: {0}")]
    Demo(String),
    /// A unique value (a username, a slug) is taken.
    #[error("already exists")]
    Conflict,
    /// Input that breaks a rule the store enforces, e.g. an unknown category.
    #[error("{0}")]
    Invalid(String),
}

/// Storage result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database, shared by every request (cheap to clone).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// Bumped after every write that changes what readers see, so caches of rendered pages
    /// know they are stale. View counts do not bump it (they may lag).
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite runs in WAL mode
    /// with a busy timeout so readers never wait on the writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Self::sqlite_pool(SqliteConnectOptions::from_str(url)?, max_connections).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Self::new(Db::Postgres(pool)))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    fn new(db: Db) -> Self {
        Self {
            db,
            generation: Default::default(),
        }
    }

    /// Content generation: changes whenever content readers see has changed through this
    /// store.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks content as changed.
    pub(crate) fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Opens (creating if missing) the SQLite file at `path`.
    pub async fn open_sqlite(path: &std::path::Path, max_connections: u32) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::sqlite_pool(opts, max_connections).await
    }

    async fn sqlite_pool(opts: SqliteConnectOptions, max_connections: u32) -> Result<Self> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Self::new(Db::Sqlite(pool)))
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
        Ok(())
    }

    /// Answers when the database does: the health check.
    pub async fn ping(&self) -> Result<()> {
        with_db!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Waits for in-flight queries and closes the pool.
    pub async fn close(&self) {
        with_db!(self, |p| p.close().await);
    }
}

impl Store {
    /// Every `(table, column)` of our schema, sorted: lets a test check that the two
    /// migration folders build the same schema.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let mut rows: Vec<(String, String)> = match &self.db {
            Db::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'",
                )
                .fetch_all(p)
                .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as(
                    "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
                )
                .fetch_all(p)
                .await?
            }
        };
        rows.sort();
        Ok(rows)
    }
}
