//! Behaviour that lives in the browser, checked in headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`). Without a ChromeDriver (found when the tests
//! are built) they are reported as ignored, except under CI (`CI` set), where a missing
//! browser is a failure.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::*;

/// A ChromeDriver process, killed on drop.
pub(crate) struct Driver {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn chromedriver() -> PathBuf {
    std::env::var_os("BANTIN_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

/// Under CI a missing browser is a failure, not a quietly ignored test.
#[test]
fn ci_has_a_browser() {
    if std::env::var_os("CI").is_some() {
        assert!(
            cfg!(chromium) && chromedriver().exists(),
            "ChromeDriver not found at {}: install Debian's chromium and chromium-driver",
            chromedriver().display()
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn start_driver(path: PathBuf) -> Driver {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

pub(crate) async fn browser(driver: &Driver, javascript: bool) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let mut options = json!({
        "binary": std::env::var("BANTIN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--window-size=800,1000",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if !javascript {
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("open a Chromium session")
}

/// Serves the app on a loopback port; the server task ends with the test's runtime.
pub(crate) async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

pub(crate) async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The element's text, or `None` while the page is being replaced by a navigation.
pub(crate) async fn try_text(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Waits until the element's text is `expected`, for at most ten seconds.
pub(crate) async fn wait_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = try_text(client, css).await;
        if got.as_deref() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: expected {expected:?}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn rating_with_javascript_updates_in_place_and_once() {
    let path = chromedriver();
    let app = TestApp::with_demo().await;
    let base = serve(&app).await;
    let (_, url) = app.seed().await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;

    client.goto(&format!("{base}{url}")).await.unwrap();
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 0 trong 0 đánh giá"
    );
    client
        .find(Locator::Css(r#"[data-rating-form] button[value="4"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "[data-rating-notice]",
        "Cảm ơn bạn đã đánh giá bài viết.",
    )
    .await;
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 4 trong 1 đánh giá"
    );
    assert_eq!(
        text(&client, "[data-rating-rank]").await,
        "Xếp hạng: 4,0 - 1 phiếu bầu"
    );
    // No reload happened: still the same URL, without the no-script notice parameter.
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{base}{url}")
    );

    // A second click is refused by the server and changes nothing.
    client
        .find(Locator::Css(r#"[data-rating-form] button[value="1"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "[data-rating-notice]",
        "Bạn đã đánh giá bài viết này rồi.",
    )
    .await;
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 4 trong 1 đánh giá"
    );
    // After a reload the totals come from the server.
    client.refresh().await.unwrap();
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 4 trong 1 đánh giá"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn rating_without_javascript_posts_the_form_and_comes_back() {
    let path = chromedriver();
    let app = TestApp::with_demo().await;
    let base = serve(&app).await;
    let (_, url) = app.seed().await;
    let driver = start_driver(path).await;
    let client = browser(&driver, false).await;

    client.goto(&format!("{base}{url}")).await.unwrap();
    client
        .find(Locator::Css(r#"[data-rating-form] button[value="5"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "[data-rating-notice]",
        "Cảm ơn bạn đã đánh giá bài viết.",
    )
    .await;
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{base}{url}?danh-gia=cam-on#danh-gia")
    );
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 5 trong 1 đánh giá"
    );

    client.goto(&format!("{base}{url}")).await.unwrap();
    client
        .find(Locator::Css(r#"[data-rating-form] button[value="2"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &client,
        "[data-rating-notice]",
        "Bạn đã đánh giá bài viết này rồi.",
    )
    .await;
    assert_eq!(
        text(&client, "[data-rating-summary]").await,
        "Tổng số điểm của bài viết là: 5 trong 1 đánh giá"
    );
    client.close().await.unwrap();
}

/// ChromeDriver's passthrough to the DevTools protocol: a script run in every new document of
/// the tab (and its frames) before the document's own, and not subject to its CSP.
#[derive(Debug)]
pub(crate) struct AddScriptOnNewDocument(pub String);

impl fantoccini::wd::WebDriverCompatibleCommand for AddScriptOnNewDocument {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({
            "cmd": "Page.addScriptToEvaluateOnNewDocument",
            "params": { "source": self.0 },
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}
