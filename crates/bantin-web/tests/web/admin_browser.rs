//! The admin in headless Chromium: signing in and out, lockout, CSRF rejection, and the idle
//! warning (appearing, counting down, keep-alive, expiry, several tabs) with short limits.

use std::time::{Duration, Instant};

use bantin_core::account::Role;
use bantin_web::WebSettings;
use fantoccini::{Client, Locator};

use crate::browser::{browser, chromedriver, serve, start_driver, try_text, wait_text};
use crate::helpers::*;

pub(crate) async fn fill(client: &Client, css: &str, value: &str) {
    let el = client.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

pub(crate) async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub(crate) async fn sign_in_form(client: &Client, base: &str, username: &str, password: &str) {
    client.goto(&format!("{base}/admin/login")).await.unwrap();
    fill(client, "#username", username).await;
    fill(client, "#password", password).await;
    click(client, "#sign-in").await;
}

/// Waits until `pred` holds for the current URL, for at most `secs` seconds.
pub(crate) async fn wait_url(client: &Client, secs: u64, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let url = client.current_url().await.map(|u| u.to_string());
        if let Ok(url) = &url
            && pred(url)
        {
            return url.clone();
        }
        assert!(
            Instant::now() < deadline,
            "URL did not change as expected; it is {url:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the idle dialog is shown.
async fn dialog_shown(client: &Client) -> bool {
    match client.find(Locator::Css("#bantin-idle")).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn wait_dialog(client: &Client, shown: bool, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while dialog_shown(client).await != shown {
        assert!(
            Instant::now() < deadline,
            "the idle dialog should be {}",
            if shown { "shown" } else { "hidden" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn sign_in_sign_out_lockout_and_csrf_in_the_browser() {
    let path = chromedriver();
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let base = serve(&app).await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;

    // A tampered token: the form comes back with the message and the name still typed.
    client.goto(&format!("{base}/admin/login")).await.unwrap();
    fill(&client, "#username", "admin").await;
    fill(&client, "#password", PASSWORD).await;
    client
        .execute(
            "document.querySelector('input[name=csrf]').value = 'gia-mao'",
            vec![],
        )
        .await
        .unwrap();
    click(&client, "#sign-in").await;
    wait_text(
        &client,
        "#login-message",
        "Biểu mẫu đã hết hạn hoặc không hợp lệ (mã bảo mật không khớp). Nội dung bạn nhập vẫn còn, hãy gửi lại.",
    )
    .await;
    let kept = client
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("admin"));

    // Signing in and out.
    sign_in_form(&client, &base, "admin", PASSWORD).await;
    wait_url(&client, 10, |u| u.ends_with("/admin")).await;
    wait_text(&client, "h1", "Xin chào, admin").await;
    click(&client, "#sign-out").await;
    wait_url(&client, 10, |u| u.contains("/admin/login?ly-do=da-thoat")).await;
    client.goto(&format!("{base}/admin")).await.unwrap();
    wait_url(&client, 10, |u| u.contains("/admin/login?tiep=")).await;

    // Five wrong passwords lock this name from this address, with the time to wait.
    // Each attempt starts on a fresh form without a message, so the message is the answer.
    for _ in 0..4 {
        sign_in_form(&client, &base, "admin", "không phải mật khẩu").await;
        wait_text(
            &client,
            "#login-message",
            "Tên đăng nhập hoặc mật khẩu không đúng.",
        )
        .await;
    }
    sign_in_form(&client, &base, "admin", "không phải mật khẩu").await;
    wait_text(
        &client,
        "#login-message",
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 30 phút.",
    )
    .await;
    sign_in_form(&client, &base, "admin", PASSWORD).await;
    wait_text(
        &client,
        "#login-message",
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 30 phút.",
    )
    .await;
    client.close().await.unwrap();
}

/// The warning appears `idle - warning` seconds after the last activity.
fn short_sessions(idle: i64, warning: i64) -> WebSettings {
    WebSettings {
        session_idle_timeout: idle,
        session_warning: warning,
        ..WebSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn the_idle_warning_counts_down_keeps_alive_and_expires() {
    let path = chromedriver();
    // The countdown runs in the browser on real time; the server must agree with it.
    let app = TestApp::with_real_clock(short_sessions(10, 7)).await;
    app.add_user("admin", Role::Administrator).await;
    let base = serve(&app).await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;

    sign_in_form(&client, &base, "admin", PASSWORD).await;
    wait_url(&client, 10, |u| u.ends_with("/admin")).await;
    assert!(
        !dialog_shown(&client).await,
        "no warning right after sign-in"
    );
    wait_dialog(&client, true, 10).await;
    let text = try_text(&client, "#bantin-idle-text").await.unwrap();
    assert!(
        text.starts_with(
            "Bạn đã không sử dụng Site, Bấm vào đây để duy trì trạng thái đăng nhập. Thời gian chờ:"
        ) && text.ends_with("giây"),
        "{text}"
    );
    let first: i64 = try_text(&client, "#bantin-idle-count")
        .await
        .unwrap()
        .parse()
        .unwrap();
    // Wait for the count to move (it ticks each second), not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(5);
    let later = loop {
        let now: i64 = try_text(&client, "#bantin-idle-count")
            .await
            .unwrap_or_default()
            .parse()
            .unwrap_or(first);
        if now < first || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(later < first && later >= 1, "{first} → {later}");

    // The link keeps the session: the dialog goes and the server agrees.
    click(&client, "#bantin-idle-keep").await;
    wait_dialog(&client, false, 5).await;
    let status: serde_json::Value = client
        .execute(
            "return fetch('/admin/session', {headers: {Accept: 'application/json'}}).then(r => r.json())",
            vec![],
        )
        .await
        .unwrap();
    assert!(status["remaining"].as_i64().unwrap() >= 8, "{status}");

    // Left alone, the warning comes back, runs out, and the session ends with a message.
    wait_dialog(&client, true, 10).await;
    let url = wait_url(&client, 15, |u| u.contains("/admin/login?ly-do=het-han")).await;
    assert!(url.contains("tiep=%2Fadmin"), "{url}");
    wait_text(
        &client,
        ".notice.ok",
        "Phiên đăng nhập đã kết thúc vì bạn không sử dụng trang trong thời gian dài. Vui lòng đăng nhập lại.",
    )
    .await;
    client.goto(&format!("{base}/admin")).await.unwrap();
    wait_url(&client, 10, |u| u.contains("/admin/login?tiep=")).await;
    let actions: Vec<String> = app
        .store()
        .audit_entries(&Default::default(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"session.expired".to_owned()),
        "{actions:?}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn tabs_keep_each_other_alive_and_sign_out_together() {
    let path = chromedriver();
    // Long enough that a slow, shared machine does not run the session out mid-test.
    let app = TestApp::with_real_clock(short_sessions(30, 26)).await;
    app.add_user("admin", Role::Administrator).await;
    let (_, seed_url) = app.seed().await;
    let base = serve(&app).await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;

    sign_in_form(&client, &base, "admin", PASSWORD).await;
    wait_url(&client, 10, |u| u.ends_with("/admin")).await;
    let first = client.window().await.unwrap();
    // The second tab shows a public page: signed-in readers get the warning there too.
    let second = client.new_window(true).await.unwrap();
    client
        .switch_to_window(second.handle.clone())
        .await
        .unwrap();
    client.goto(&format!("{base}{seed_url}")).await.unwrap();
    wait_dialog(&client, true, 15).await;
    client.switch_to_window(first.clone()).await.unwrap();
    wait_dialog(&client, true, 15).await;

    // Keep-alive in the first tab clears the warning in the second.
    click(&client, "#bantin-idle-keep").await;
    wait_dialog(&client, false, 5).await;
    client
        .switch_to_window(second.handle.clone())
        .await
        .unwrap();
    wait_dialog(&client, false, 5).await;

    // Signing out in the first tab signs the second out too.
    client.switch_to_window(first.clone()).await.unwrap();
    click(&client, "#sign-out").await;
    wait_url(&client, 10, |u| u.contains("ly-do=da-thoat")).await;
    client
        .switch_to_window(second.handle.clone())
        .await
        .unwrap();
    wait_url(&client, 10, |u| u.contains("/admin/login?ly-do=da-thoat")).await;
    client.close().await.unwrap();
}
