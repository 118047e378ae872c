//! A fresh, migrated store per test (SQLite in a temporary folder, or its own PostgreSQL
//! database when `BANTIN_TEST_DATABASE_URL` is set), a plain pool on the same database to look
//! behind the store's back, and a few rows to work with.

use std::sync::atomic::{AtomicU32, Ordering};

use bantin_core::account::{DisplayName, Email, Role, Username};
use bantin_core::{
    ArticleId, ArticleStatus, CategoryId, CategoryStatus, SanitizedHtml, Slug, UnixTime, UserId,
};
use bantin_store::{NewArticle, NewCategory, NewUser, Store, Tx, UserUpdate};
use sqlx::{Connection, Executor};

/// The instant tests pretend it is; articles published before it are public.
pub const NOW: UnixTime = UnixTime::from_second(1_700_000_000);

/// The PostgreSQL server to test on, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("BANTIN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A plain pool on the test database, for what the store deliberately cannot do (count rows,
/// try to change the audit log).
#[derive(Clone, Debug)]
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    /// Runs one statement.
    pub async fn execute(&self, sql: &'static str) -> Result<u64, sqlx::Error> {
        match self {
            Self::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Self::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
    }

    /// The single BIGINT a query answers.
    pub async fn scalar(&self, sql: &'static str) -> i64 {
        match self {
            Self::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The BIGINTs a query answers, in its order.
    pub async fn column(&self, sql: &'static str) -> Vec<i64> {
        match self {
            Self::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
            Self::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// One test's database; dropping it deletes the SQLite folder or drops the PostgreSQL
/// database.
pub struct TestDb {
    pub store: Store,
    pub raw: Raw,
    /// What [`TestDb::another_store`] connects to.
    url: String,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped with this value.
    postgres: Option<DropDatabase>,
}

impl TestDb {
    /// A fresh database on the backend under test, with a store of `connections`.
    pub async fn new(connections: u32) -> Self {
        match postgres_url() {
            Some(base) => Self::postgres(&base, connections).await,
            None => Self::sqlite(connections).await,
        }
    }

    /// A fresh SQLite database, whatever the environment says.
    pub async fn sqlite(connections: u32) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("bantin.db");
        let store = Store::open_sqlite(&path, connections)
            .await
            .expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        let url = format!("sqlite://{}", path.display());
        let raw = Raw::Sqlite(sqlx::SqlitePool::connect(&url).await.expect("raw sqlite"));
        Self {
            store,
            raw,
            url,
            _dir: dir,
            postgres: None,
        }
    }

    /// A fresh database on the PostgreSQL server at `base`.
    pub async fn postgres(base: &str, connections: u32) -> Self {
        // Unique across the tests of this process and across processes running at once.
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
            .subsec_nanos();
        let name = format!(
            "bantin_store_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::PgConnection::connect(base)
            .await
            .expect("connect to BANTIN_TEST_DATABASE_URL");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create a test database");
        conn.close().await.ok();
        let prefix = base.split_once('?').map_or(base, |(a, _)| a);
        let (server, _) = prefix.rsplit_once('/').expect("database URL has a path");
        let url = format!("{server}/{name}");
        // From here on the database exists: a failing step below still drops it.
        let guard = DropDatabase {
            server: server.to_owned(),
            name,
        };
        let raw = Raw::Postgres(sqlx::PgPool::connect(&url).await.expect("raw postgres"));
        let store = Store::connect(&url, connections)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate postgres");
        Self {
            store,
            raw,
            url,
            _dir: tempfile::tempdir().expect("a temporary folder"),
            postgres: Some(guard),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A second store on the same database: another process, as far as the store can tell.
    pub async fn another_store(&self, connections: u32) -> Store {
        Store::connect(&self.url, connections)
            .await
            .expect("connect a second store")
    }
}

/// Drops a test's PostgreSQL database when it goes away.
struct DropDatabase {
    /// The server URL without a database.
    server: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop is not async and may run inside the test's runtime: drop the database from a
        // thread with a runtime of its own. FORCE ends the pools' connections still open.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the test database");
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await?;
                conn.close().await
            })
        });
        if let Ok(Err(e)) = dropped.join() {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

/// A profile for [`NewUser`] and [`bantin_store::Tx::update_user`].
pub fn profile(role: Role, categories: Vec<CategoryId>) -> UserUpdate {
    UserUpdate {
        display_name: DisplayName::parse("Người thử").expect("a display name"),
        email: Email::default(),
        role,
        all_categories: categories.is_empty(),
        categories,
    }
}

/// Creates an account (the hash is never checked here).
pub async fn user(tx: &mut Tx, name: &str, role: Role) -> Result<UserId, bantin_store::StoreError> {
    let new = NewUser {
        username: Username::parse(name).expect("a username"),
        password_hash: "$argon2id$not-a-real-hash".to_owned(),
        profile: profile(role, Vec::new()),
    };
    tx.insert_user(&new, NOW).await
}

/// Creates a listed top-level category.
pub async fn category(tx: &mut Tx, slug: &str) -> CategoryId {
    let new = NewCategory {
        parent_id: None,
        slug: Slug::parse(slug).expect("a slug"),
        title: format!("Chuyên mục {slug}"),
        description: String::new(),
        position: 0,
        status: CategoryStatus::Active,
    };
    tx.insert_category(&new, NOW)
        .await
        .expect("insert a category")
}

/// Creates an article published an hour before [`NOW`], tagged "Thử".
pub async fn article(tx: &mut Tx, category_id: CategoryId, title: &str) -> ArticleId {
    article_tagged(tx, category_id, title, &["Thử"]).await
}

/// Creates an article published an hour before [`NOW`] with these tags.
pub async fn article_tagged(
    tx: &mut Tx,
    category_id: CategoryId,
    title: &str,
    tags: &[&str],
) -> ArticleId {
    let new = NewArticle {
        title: title.to_owned(),
        slug: Slug::from_title(title).expect("a slug"),
        lead: String::new(),
        body: SanitizedHtml::sanitize("<p>Nội dung.</p>"),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: String::new(),
        source: String::new(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        status: ArticleStatus::Published,
        publish_at: NOW.minus(3600),
        expire_at: None,
        category_id,
        extra_category_ids: Vec::new(),
        options: Default::default(),
    };
    tx.insert_article(&new, None, NOW)
        .await
        .expect("insert an article")
}

/// A small deterministic generator for delays and orders (no dependency for it).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1))
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}
