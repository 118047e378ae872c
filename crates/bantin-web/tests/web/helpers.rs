//! The test application: a real store, the real router, requests sent in-process.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use bantin_app::{Actor, App, NewAccount, Policy, ProfileChange};
use bantin_core::account::{DisplayName, Email};
use bantin_core::{ArticleId, ArticleStatus, Clock, SanitizedHtml, Slug, UnixTime, UserId};
use bantin_store::{NewArticle, Store};
use bantin_web::{AppState, WebSettings};
use http_body_util::BodyExt;
use sqlx::{Connection, Executor};
use tower::ServiceExt;

/// A running application over its own database, with a manual clock: tests move time
/// forward instead of sleeping.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: Clock,
    _db: TestDb,
}

/// The test's database: a temporary folder (SQLite) or a PostgreSQL database dropped when the
/// test ends.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    /// (server URL, database name) on PostgreSQL.
    pub postgres: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async code: a small runtime of its own on another thread.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the test database");
            rt.block_on(async {
                if let Ok(mut conn) =
                    sqlx::PgConnection::connect(&format!("{server}/postgres")).await
                {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    conn.close().await.ok();
                }
            });
        });
        let _ = done.join();
    }
}

/// A response, body read to the end.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    /// The `name=value` part of the first `Set-Cookie`.
    pub fn cookie(&self) -> Option<String> {
        self.header("set-cookie")
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }
}

/// A fresh, migrated database: PostgreSQL when `BANTIN_TEST_DATABASE_URL` is set, else a
/// SQLite file in a temporary folder.
pub async fn fresh_store() -> (Store, TestDb) {
    let dir = tempfile::tempdir().unwrap();
    match std::env::var("BANTIN_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let mut bytes = [0u8; 8];
            unique_bytes(&mut bytes);
            let name = format!("bantin_test_{}", hex(&bytes));
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to BANTIN_TEST_DATABASE_URL");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create a test database");
            conn.close().await.ok();
            let (prefix, _) = base
                .split_once('?')
                .map_or((base.as_str(), ""), |(a, b)| (a, b));
            let (server, _) = prefix.rsplit_once('/').expect("database URL has a path");
            let store = Store::connect(&format!("{server}/{name}"), 4)
                .await
                .expect("connect to the test database");
            store.migrate().await.expect("migrate");
            let db = TestDb {
                dir,
                postgres: Some((server.to_owned(), name)),
            };
            (store, db)
        }
        _ => {
            let store = Store::open_sqlite(&dir.path().join("bantin.db"), 4)
                .await
                .expect("open sqlite");
            store.migrate().await.expect("migrate");
            (
                store,
                TestDb {
                    dir,
                    postgres: None,
                },
            )
        }
    }
}

fn unique_bytes(buf: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    // Uniqueness across parallel tests is all that matters here.
    for chunk in buf.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The real time (what a manual clock starts at).
pub fn now() -> UnixTime {
    Clock::system().now()
}

/// The services' rules for these web settings.
pub fn policy(s: &WebSettings) -> Policy {
    Policy {
        login_max_failures: s.login_max_failures,
        login_failure_window: s.login_failure_window,
        login_lock_seconds: s.login_lock_seconds,
        session_idle_timeout: s.session_idle_timeout,
        session_absolute_timeout: s.session_absolute_timeout,
        rating_votes_per_address: s.rating_votes_per_address,
        rating_window: s.rating_address_window,
        ..Policy::default()
    }
}

impl TestApp {
    /// An application with the demo content loaded, as a newcomer sees it.
    pub async fn with_demo() -> Self {
        Self::build(true, WebSettings::default()).await
    }

    /// An application with the demo content and the given settings.
    pub async fn with_settings(settings: WebSettings) -> Self {
        Self::build(true, settings).await
    }

    /// An application on the system clock, for browser tests whose scripts count real
    /// seconds.
    pub async fn with_real_clock(settings: WebSettings) -> Self {
        Self::build_with(true, settings, Clock::system()).await
    }

    async fn build(demo: bool, settings: WebSettings) -> Self {
        Self::build_with(demo, settings, Clock::manual(now())).await
    }

    async fn build_with(demo: bool, mut settings: WebSettings, clock: Clock) -> Self {
        // Errors the application logs (the causes of 500s) appear with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("BANTIN_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
            )
            .with_test_writer()
            .try_init();
        let (store, db) = fresh_store().await;
        settings.media_dir = db.dir.path().join("media");
        let media = bantin_media::Media::new(
            std::sync::Arc::new(bantin_media::LocalFolder::new(
                settings.media_dir.join("lib"),
            )),
            bantin_media::IntakeSettings::default(),
            2,
        );
        let app = App::new(store, clock.clone(), policy(&settings)).with_media(media);
        if demo {
            app.load_demo().await.expect("load demo");
        }
        let state = AppState::new(app, settings, &[7u8; 64])
            .await
            .expect("application state");
        // The search index is built in the background, as at a real start.
        tokio::spawn(state.search().clone().run());
        assert!(
            state
                .search()
                .wait_ready(std::time::Duration::from_secs(20))
                .await,
            "search index built"
        );
        let router = bantin_web::router(state.clone());
        let app = Self {
            router,
            state,
            clock,
            _db: db,
        };
        // The scheduler's first run marks where announcements start.
        app.tick().await;
        app
    }

    pub fn store(&self) -> &Store {
        self.state.store()
    }

    /// The services.
    pub fn app(&self) -> &App {
        self.state.app()
    }

    /// Now, by the application's (manual) clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Moves the application's clock `seconds` forward.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// Applies every committed change to the caches, as the background follower would.
    pub async fn settle(&self) {
        self.state.follower().catch_up().await.expect("catch up");
    }

    /// Runs the scheduler once (announcing publications and expiries now due), then settles.
    pub async fn tick(&self) {
        bantin_app::Scheduler::new(self.app().clone())
            .tick()
            .await
            .expect("scheduler tick");
        self.settle().await;
    }

    /// Moves an article to `status`, keeping its times, through the services.
    pub async fn set_status(&self, id: ArticleId, status: ArticleStatus) {
        let a = self.store().article(id).await.unwrap().unwrap();
        let v = bantin_core::Visibility {
            status,
            ..a.visibility()
        };
        self.app()
            .set_article_visibility(&Actor::cli(), id, v)
            .await
            .unwrap();
        self.settle().await;
    }

    pub async fn request(&self, req: Request<Body>, peer: &str) -> TestResponse {
        let mut req = req;
        let addr: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.request(b.body(Body::empty()).unwrap(), "203.0.113.7:5000")
            .await
    }

    /// Posts a form from the address `peer` (`ip:port`).
    pub async fn post_form(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
        peer: &str,
    ) -> TestResponse {
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.request(b.body(Body::from(body.to_owned())).unwrap(), peer)
            .await
    }

    /// Id of the demo article whose title is `title`.
    pub async fn article_id(&self, title: &str) -> ArticleId {
        for id in (1..=500).map(ArticleId::new) {
            if let Some(a) = self.store().article(id).await.unwrap()
                && a.title == title
            {
                return id;
            }
        }
        panic!("no article titled {title:?}");
    }

    /// The seed article's id and canonical URL.
    pub async fn seed(&self) -> (ArticleId, String) {
        let id = self.article_id(SEED_TITLE).await;
        (
            id,
            format!("/xay-dung-dang/dang-bo-thanh-pho-hoc-tap-va-lam-theo-guong-bac-{id}.html"),
        )
    }

    /// Creates an article in the seed's category and returns its id.
    pub async fn add_article(
        &self,
        title: &str,
        status: ArticleStatus,
        publish_at: UnixTime,
        expire_at: Option<UnixTime>,
    ) -> ArticleId {
        let category_id = self
            .store()
            .categories()
            .await
            .unwrap()
            .iter()
            .find(|c| c.slug == "xay-dung-dang")
            .unwrap()
            .id;
        let a = NewArticle {
            title: title.to_owned(),
            slug: Slug::from_title(title).unwrap(),
            lead: "Tóm tắt bài thử nghiệm.".to_owned(),
            body: SanitizedHtml::sanitize("<p>Nội dung thử nghiệm.</p>"),
            image_url: None,
            image_alt: String::new(),
            image_caption: String::new(),
            meta_description: String::new(),
            author: "Người thử".to_owned(),
            source: String::new(),
            tags: vec![],
            status,
            publish_at,
            expire_at,
            category_id,
            extra_category_ids: vec![],
            options: Default::default(),
        };
        let id = self.app().create_article(&Actor::cli(), &a).await.unwrap();
        self.settle().await;
        id
    }
}

pub const SEED_TITLE: &str = "Đảng bộ Thành phố học tập và làm theo gương Bác";

/// Text content of an HTML fragment, tags dropped and the few entities we emit decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The part of `html` between the first `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"))
        + start.len();
    let to = html[from..].find(end).map_or(html.len(), |i| from + i);
    &html[from..to]
}

/// A password every test account uses.
pub const PASSWORD: &str = "Cao Bằng mùa thu 2026";

impl TestResponse {
    /// Every `Set-Cookie` as (name, value); a removal has an empty value.
    pub fn set_cookies(&self) -> Vec<(String, String, String)> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| {
                let (nv, attrs) = c.split_once(';').unwrap_or((c, ""));
                let (n, v) = nv.split_once('=')?;
                Some((n.trim().to_owned(), v.trim().to_owned(), attrs.to_owned()))
            })
            .collect()
    }
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    between(html, "name=\"csrf\" value=\"", "\"").to_owned()
}

/// A browser stand-in: keeps cookies, sends requests from one address.
pub struct Agent<'a> {
    pub app: &'a TestApp,
    pub cookies: std::collections::BTreeMap<String, String>,
    pub peer: String,
}

impl<'a> Agent<'a> {
    pub fn new(app: &'a TestApp, peer: &str) -> Self {
        Self {
            app,
            cookies: Default::default(),
            peer: peer.to_owned(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, res: &TestResponse) {
        for (name, value, attrs) in res.set_cookies() {
            if value.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, value);
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut b = Request::get(path).header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let res = self
            .app
            .request(b.body(Body::empty()).unwrap(), &self.peer)
            .await;
        self.absorb(&res);
        res
    }

    /// Posts form fields (URL-encoded here).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post_raw(path, body.into_bytes(), &[]).await
    }

    pub async fn post_raw(
        &mut self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let res = self
            .app
            .request(b.body(Body::from(body)).unwrap(), &self.peer)
            .await;
        self.absorb(&res);
        res
    }

    /// Opens the sign-in page and submits it.
    pub async fn try_sign_in(&mut self, username: &str, password: &str) -> TestResponse {
        let page = self.get("/admin/login").await;
        let csrf = csrf_of(&page.body);
        self.post(
            "/admin/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("tiep", "/admin"),
            ],
        )
        .await
    }

    /// Signs in or panics.
    pub async fn sign_in(&mut self, username: &str, password: &str) {
        let res = self.try_sign_in(username, password).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert!(self.cookies.contains_key("bantin_session"));
    }

    /// The CSRF token of this session (from the dashboard's sign-out form).
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/admin/sessions").await;
        assert_eq!(page.status, StatusCode::OK);
        csrf_of(&page.body)
    }
}

impl TestApp {
    /// Creates an account with [`PASSWORD`].
    pub async fn add_user(&self, username: &str, role: bantin_core::account::Role) -> UserId {
        self.add_user_in(username, role, &[]).await
    }

    /// Creates an account with [`PASSWORD`] whose rights cover only `categories` (all of them
    /// when empty).
    pub async fn add_user_in(
        &self,
        username: &str,
        role: bantin_core::account::Role,
        categories: &[bantin_core::CategoryId],
    ) -> UserId {
        let account = NewAccount {
            username: bantin_core::account::Username::parse(username).unwrap(),
            password: bantin_core::account::NewPassword::parse(PASSWORD).unwrap(),
            profile: ProfileChange {
                display_name: DisplayName::parse(username).unwrap(),
                email: Email::default(),
                role,
                all_categories: categories.is_empty(),
                categories: categories.to_vec(),
            },
        };
        self.app()
            .create_account(&Actor::cli(), account)
            .await
            .unwrap()
    }
}

/// The id of the category with `slug` (the demo content's, or one a test made).
pub async fn category(app: &TestApp, slug: &str) -> bantin_core::CategoryId {
    app.store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.slug == slug)
        .unwrap()
        .id
}

/// A draft titled `title` in `category_id`, to publish at `publish_at`: a lead, one
/// paragraph, an author line and nothing else.
pub fn draft(
    title: &str,
    category_id: bantin_core::CategoryId,
    publish_at: UnixTime,
) -> NewArticle {
    NewArticle {
        title: title.to_owned(),
        slug: Slug::from_title(title).unwrap(),
        lead: "Tóm tắt.".to_owned(),
        body: SanitizedHtml::sanitize("<p>Nội dung.</p>"),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: "Phóng viên".to_owned(),
        source: String::new(),
        tags: vec![],
        status: ArticleStatus::Draft,
        publish_at,
        expire_at: None,
        category_id,
        extra_category_ids: vec![],
        options: Default::default(),
    }
}
