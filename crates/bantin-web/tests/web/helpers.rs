//! The test application: a real store, the real router, requests sent in-process.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use bantin_core::{ArticleStatus, SanitizedHtml};
use bantin_store::{NewArticle, Store};
use bantin_web::{AppState, WebSettings};
use http_body_util::BodyExt;
use sqlx::{Connection, Executor};
use tower::ServiceExt;

/// A running application over its own database.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _dir: tempfile::TempDir,
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

async fn fresh_store(dir: &tempfile::TempDir) -> Store {
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
            store
        }
        _ => {
            let store = Store::open_sqlite(&dir.path().join("bantin.db"), 4)
                .await
                .expect("open sqlite");
            store.migrate().await.expect("migrate");
            store
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

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
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

    async fn build(demo: bool, mut settings: WebSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh_store(&dir).await;
        if demo {
            store.load_demo(now()).await.expect("load demo");
        }
        settings.media_dir = dir.path().join("media");
        let state = AppState::new(store, settings, &[7u8; 64]);
        let router = bantin_web::router(state.clone());
        Self {
            router,
            state,
            _dir: dir,
        }
    }

    pub fn store(&self) -> &Store {
        self.state.store()
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
    pub async fn article_id(&self, title: &str) -> i64 {
        for id in 1..=500 {
            if let Some(a) = self.store().article(id).await.unwrap()
                && a.title == title
            {
                return id;
            }
        }
        panic!("no article titled {title:?}");
    }

    /// The seed article's id and canonical URL.
    pub async fn seed(&self) -> (i64, String) {
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
        publish_at: i64,
        expire_at: Option<i64>,
    ) -> i64 {
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
            slug: None,
            lead: "Tóm tắt bài thử nghiệm.".to_owned(),
            body: SanitizedHtml::sanitize("<p>Nội dung thử nghiệm.</p>"),
            image_url: None,
            image_alt: String::new(),
            image_caption: String::new(),
            author: "Người thử".to_owned(),
            source: String::new(),
            tags: vec![],
            status,
            publish_at,
            expire_at,
            category_id,
            extra_category_ids: vec![],
        };
        self.store().insert_article(&a, now()).await.unwrap()
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
    pub async fn add_user(&self, username: &str, role: bantin_core::account::Role) -> i64 {
        let name = bantin_core::account::Username::parse(username).unwrap();
        let hash = bantin_core::account::NewPassword::parse(PASSWORD)
            .unwrap()
            .hash();
        self.store()
            .insert_user(
                &bantin_store::NewUser {
                    username: &name,
                    display_name: username,
                    email: "",
                    password_hash: &hash,
                    role,
                },
                now(),
            )
            .await
            .unwrap()
    }
}
