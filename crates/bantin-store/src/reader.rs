//! Reads for reader pages, defined once and run two ways: a [`Query`] is SQL text with its
//! values; [`Store`](crate::Store) runs it through sqlx on PostgreSQL (and on SQLite without a
//! file), and through a small pool of rusqlite connections on a SQLite file, where a page's
//! reads go to a blocking thread in one hand-off instead of sqlx's per-query and per-row
//! channel trips (the profile in bench/RESULTS.md put most of the uncached page there).
//!
//! deadpool-sqlite would be the ready-made pool, but its rusqlite needs an older
//! libsqlite3-sys than sqlx 0.9, and only one crate may link SQLite.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bantin_core::{ArticleId, CategoryId, UnixTime, UserId};
use rusqlite::{Connection, OpenFlags};

use crate::{Article, ArticleSummary, MediaItem, Result, StoreError};

/// One value bound to a query's `$n` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An integer (ids, instants, limits).
    Int(i64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<ArticleId> for Value {
    fn from(v: ArticleId) -> Self {
        Self::Int(v.get())
    }
}

impl From<CategoryId> for Value {
    fn from(v: CategoryId) -> Self {
        Self::Int(v.get())
    }
}

impl From<UnixTime> for Value {
    fn from(v: UnixTime) -> Self {
        Self::Int(v.as_second())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

/// SQL text (portable: `$n` placeholders, `BIGINT` instants) and the values of its
/// placeholders, `$1` first.
#[derive(Clone, Debug)]
pub struct Query {
    /// A name for reports (the query-plan test names the query that scans).
    pub name: &'static str,
    /// The statement.
    pub sql: Cow<'static, str>,
    /// `$1`, `$2`, … in order.
    pub values: Vec<Value>,
}

impl Query {
    pub(crate) fn new(
        name: &'static str,
        sql: impl Into<Cow<'static, str>>,
        values: Vec<Value>,
    ) -> Self {
        Self {
            name,
            sql: sql.into(),
            values,
        }
    }
}

/// A row type the rusqlite pool can build (the sqlx path uses `sqlx::FromRow`), by column
/// name, so both read the same `SELECT`.
pub(crate) trait FromReadRow: Sized {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

impl FromReadRow for (i64,) {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

impl FromReadRow for (String,) {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

fn time(row: &rusqlite::Row<'_>, col: &str) -> rusqlite::Result<UnixTime> {
    Ok(UnixTime::from_second(row.get(col)?))
}

fn time_opt(row: &rusqlite::Row<'_>, col: &str) -> rusqlite::Result<Option<UnixTime>> {
    Ok(row.get::<_, Option<i64>>(col)?.map(UnixTime::from_second))
}

fn user_opt(row: &rusqlite::Row<'_>, col: &str) -> rusqlite::Result<Option<UserId>> {
    Ok(row.get::<_, Option<i64>>(col)?.map(UserId::new))
}

impl FromReadRow for ArticleSummary {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: ArticleId::new(row.get("id")?),
            slug: row.get("slug")?,
            title: row.get("title")?,
            lead: row.get("lead")?,
            image_url: row.get("image_url")?,
            image_alt: row.get("image_alt")?,
            publish_at: time(row, "publish_at")?,
            category_id: CategoryId::new(row.get("category_id")?),
        })
    }
}

impl FromReadRow for Article {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: ArticleId::new(row.get("id")?),
            slug: row.get("slug")?,
            title: row.get("title")?,
            lead: row.get("lead")?,
            body_html: row.get("body_html")?,
            image_url: row.get("image_url")?,
            image_alt: row.get("image_alt")?,
            image_caption: row.get("image_caption")?,
            author: row.get("author")?,
            source: row.get("source")?,
            status: row.get("status")?,
            publish_at: time(row, "publish_at")?,
            expire_at: time_opt(row, "expire_at")?,
            category_id: CategoryId::new(row.get("category_id")?),
            view_count: row.get("view_count")?,
            rating_total: row.get("rating_total")?,
            rating_count: row.get("rating_count")?,
            created_by: user_opt(row, "created_by")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
            expiry_action: row.get("expiry_action")?,
            rejection_reason: row.get("rejection_reason")?,
            allow_rating: row.get("allow_rating")?,
            show_on_home: row.get("show_on_home")?,
            trashed_at: time_opt(row, "trashed_at")?,
            revision: row.get("revision")?,
            updated_by: user_opt(row, "updated_by")?,
            meta_description: row.get("meta_description")?,
        })
    }
}

impl FromReadRow for MediaItem {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            key: row.get("media_key")?,
            kind: row.get("kind")?,
            file_name: row.get("file_name")?,
            ext: row.get("ext")?,
            mime: row.get("mime")?,
            bytes: row.get("bytes")?,
            width: row.get("width")?,
            height: row.get("height")?,
            widths: row.get("widths")?,
            original_kept: row.get("original_kept")?,
            alt: row.get("alt")?,
            caption: row.get("caption")?,
            uploaded_by: user_opt(row, "uploaded_by")?,
            uploader: row.get("uploader")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
        })
    }
}

/// Binds `q`'s values by the number in each placeholder's name (`$3` takes the third value,
/// wherever it appears), as sqlx's SQLite driver does, so one text serves both.
fn bind(st: &mut rusqlite::Statement<'_>, q: &Query) -> rusqlite::Result<()> {
    for i in 1..=st.parameter_count() {
        let n = match st.parameter_name(i) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
            None => i,
        };
        let value = q
            .values
            .get(n - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(n, q.values.len()))?;
        match value {
            Value::Int(v) => st.raw_bind_parameter(i, v)?,
            Value::Text(v) => st.raw_bind_parameter(i, v.as_str())?,
        }
    }
    Ok(())
}

/// Every row of `q`, on a rusqlite connection.
pub(crate) fn all<T: FromReadRow>(c: &Connection, q: &Query) -> rusqlite::Result<Vec<T>> {
    let mut st = c.prepare_cached(&q.sql)?;
    bind(&mut st, q)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_read_row(row)?);
    }
    Ok(out)
}

/// The first row of `q`, if any.
pub(crate) fn first<T: FromReadRow>(c: &Connection, q: &Query) -> rusqlite::Result<Option<T>> {
    let mut st = c.prepare_cached(&q.sql)?;
    bind(&mut st, q)?;
    let mut rows = st.raw_query();
    rows.next()?.map(T::from_read_row).transpose()
}

/// Each read connection's page cache, as SQLite's `cache_size` (negative: KiB). Pages the
/// cache misses come from the kernel's page cache with one `pread`; SQLite's default of 2 MiB
/// a connection, kept by every connection of both pools, was 19 MB of the server's heap under
/// the traffic benchmark.
const READ_CACHE_KIB: i64 = -256;

/// Read-only connections to one SQLite file, used one at a time on tokio's blocking threads.
/// WAL mode lets them read while the sqlx pool writes; a read sees every committed write.
#[derive(Debug)]
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: tokio::sync::Semaphore,
}

impl ReadPool {
    /// A pool of at most `size` connections to the file at `path`, opened when first needed
    /// (after migrations have made the schema).
    pub(crate) fn new(path: &Path, size: u32) -> Arc<Self> {
        let size = usize::try_from(size.max(1)).unwrap_or(1);
        Arc::new(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: tokio::sync::Semaphore::new(size),
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(Duration::from_secs(5))?;
        // Read-only by intent: writes go through `Tx` and its audit and change-feed rows.
        c.pragma_update(None, "query_only", true)?;
        c.pragma_update(None, "cache_size", READ_CACHE_KIB)?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Refuses reads from now on and closes the idle connections (one in use closes when
    /// its read ends).
    pub(crate) fn close(&self) {
        self.permits.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Runs `f` on one connection on a blocking thread: all of a page's reads in one hand-off.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        let pool = Arc::clone(self);
        let out = tokio::task::spawn_blocking(move || {
            let idle = pool.idle.lock().map(|mut v| v.pop()).unwrap_or_default();
            let conn = match idle {
                Some(c) => c,
                None => pool.open()?,
            };
            let out = f(&conn);
            if !pool.permits.is_closed()
                && let Ok(mut v) = pool.idle.lock()
            {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Read(Box::new(e)))?;
        out.map_err(|e| StoreError::Read(Box::new(e)))
    }
}
