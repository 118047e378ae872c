//! The newsroom's flows in headless Chromium, on the real router with the real scheduler and
//! change-feed follower running beside it as in the binary: an editor writes (a Word paste, a
//! table, a captioned photo) and submits; an editor-in-chief schedules it a minute ahead; it
//! appears to readers at that minute with no request from the newsroom; an editor is held to
//! their categories; a stale save is refused without losing text; text typed before a forced
//! sign-out comes back; the seed article recreated through the admin reads as the demo copy.

use std::time::{Duration, Instant};

use bantin_app::{Actor, Scheduler};
use bantin_core::account::Role;
use bantin_core::time::format_local_input;
use bantin_core::{ArticleId, ArticleStatus, CategoryId, UnixTime};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::admin_browser::{click, fill, sign_in_form, wait_url};
use crate::browser::{browser, chromedriver, serve, start_driver, try_text, wait_text};
use crate::editor::{WORD, answer_prompt, key, paste, wait_for};
use crate::helpers::*;

/// The application with its scheduler and change-feed follower running in the background,
/// as `bantin serve` runs them, served on a loopback port.
async fn running(app: &TestApp) -> String {
    tokio::spawn(app.state.follower().clone().run(Duration::from_millis(100)));
    tokio::spawn(Scheduler::new(app.app().clone()).run(Duration::from_millis(200)));
    serve(app).await
}

/// Signs in through the form and waits to leave the sign-in page.
async fn sign_in(client: &Client, base: &str, who: &str) {
    sign_in_form(client, base, who, PASSWORD).await;
    wait_url(client, 10, |u| !u.contains("/admin/login")).await;
}

/// Sets a form field's value as a picker would (date inputs take no typed text reliably).
async fn set_value(client: &Client, css: &str, value: &str) {
    client
        .execute(
            "var el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

/// The status code of a request made from the page, with its session and CSRF token.
async fn fetch_status(client: &Client, method: &str, path: &str, body: &str) -> u16 {
    let v = client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             var csrf = (document.querySelector(\"input[name='csrf']\") || {}).value || '';
             var init = { method: arguments[0], credentials: 'same-origin', redirect: 'manual' };
             if (arguments[0] === 'POST') {
               init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
               init.body = 'csrf=' + encodeURIComponent(csrf) + '&' + arguments[2];
             }
             fetch(arguments[1], init).then(function (r) { done(r.status); }, function () { done(0); });",
            vec![json!(method), json!(path), json!(body)],
        )
        .await
        .unwrap();
    v.as_u64().unwrap() as u16
}

/// The article id in an edit page's URL.
fn edited(url: &str) -> ArticleId {
    let id = url.split('?').next().unwrap().rsplit('/').next().unwrap();
    ArticleId::new(id.parse().unwrap())
}

async fn editor_html(client: &Client) -> String {
    client
        .execute(
            "return document.querySelector('.ProseMirror').innerHTML",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until the article is in `status` by the database (not by asking the server).
async fn wait_status(app: &TestApp, id: ArticleId, status: ArticleStatus) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = app.store().article(id).await.unwrap().unwrap().status();
        if now == status {
            return;
        }
        assert!(Instant::now() < deadline, "still {now:?}, not {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn written_submitted_scheduled_and_published_at_its_minute() {
    let driver = start_driver(chromedriver()).await;
    let app = TestApp::with_demo().await;
    let home = category(&app, "xay-dung-dang").await;
    let elsewhere = category(&app, "kinh-te-xa-hoi").await;
    app.add_user_in("bientap", Role::Editor, &[home]).await;
    app.add_user("bientapchinh", Role::EditorInChief).await;
    let base = running(&app).await;

    // The editor writes: a typed paragraph, a paste from Word, a table, a captioned photo.
    let ed = browser(&driver, true).await;
    sign_in(&ed, &base, "bientap").await;
    ed.goto(&format!("{base}/admin/articles/new"))
        .await
        .unwrap();
    let offered: Vec<String> = serde_json::from_value(
        ed.execute(
            "return Array.from(document.querySelectorAll('#category option')).map(o => o.value)",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        offered,
        vec![home.to_string()],
        "only the editor's own category"
    );
    fill(&ed, "#title", "Hội nghị sơ kết công tác quý IV").await;
    fill(&ed, "#lead", "Thành ủy sơ kết công tác quý IV.").await;
    fill(&ed, "#author", "Phóng viên Thành ủy").await;
    wait_for(&ed, ".ProseMirror").await.click().await.unwrap();
    key(&ed, &format!("Mở đầu bài viết.{}", Key::Enter)).await;
    paste(&ed, WORD).await;
    key(&ed, &(Key::Control + &Key::End)).await;
    key(&ed, &Key::Enter.to_string()).await;
    click(&ed, r#"[data-action="table"]"#).await;
    key(
        &ed,
        &format!("Quý{}Kết quả{}IV{}Tốt", Key::Tab, Key::Tab, Key::Tab),
    )
    .await;
    key(&ed, &(Key::Control + &Key::End)).await;
    click(&ed, r#"[data-action="figure"]"#).await;
    answer_prompt(&ed, "/media/samples/anh-mau-1.jpg").await;
    answer_prompt(&ed, "Hội trường").await;
    answer_prompt(&ed, "Toàn cảnh hội nghị sơ kết").await;
    wait_for(&ed, ".ProseMirror figure img").await;
    click(&ed, "#article-form button[type=submit]").await;
    let url = wait_url(&ed, 10, |u| u.contains("tb=luu")).await;
    let id = edited(&url);
    click(&ed, "#workflow button[value=submit]").await;
    wait_text(&ed, "#article-status", "Chờ duyệt").await;
    assert!(
        ed.find(Locator::Css("#workflow button[value=approve]"))
            .await
            .is_err(),
        "an editor is offered no publishing"
    );
    // What an editor may not do is refused by the server too, whatever the page offers.
    let edit = format!("/admin/articles/{id}");
    assert_eq!(
        fetch_status(&ed, "POST", &format!("{edit}/action"), "action=approve").await,
        403
    );
    let foreign = app
        .store()
        .newsroom_articles(
            &bantin_store::ArticleFilter {
                category: Some(elsewhere),
                ..Default::default()
            },
            1,
            0,
        )
        .await
        .unwrap()[0]
        .id;
    assert_eq!(
        fetch_status(&ed, "GET", &format!("/admin/articles/{foreign}"), "").await,
        403
    );
    let other_place =
        format!("title=X&category={elsewhere}&body=x&publish_at=&expiry_action=archive&revision=1");
    assert_eq!(
        fetch_status(&ed, "POST", "/admin/articles", &other_place).await,
        400
    );
    assert_eq!(
        fetch_status(
            &ed,
            "POST",
            &format!("/admin/articles/{foreign}/action"),
            "action=trash"
        )
        .await,
        403
    );

    // The editor-in-chief schedules it a minute ahead and approves.
    let chief = browser(&driver, true).await;
    sign_in(&chief, &base, "bientapchinh").await;
    chief.goto(&format!("{base}{edit}")).await.unwrap();
    wait_for(&chief, ".ProseMirror").await;
    let at = app.now().plus(60);
    let zone = &app.state.settings().zone;
    set_value(&chief, "#publish_at", &format_local_input(at, zone)).await;
    click(&chief, "#article-form button[type=submit]").await;
    wait_url(&chief, 10, |u| u.contains("tb=luu")).await;
    click(&chief, "#workflow button[value=approve]").await;
    wait_text(&chief, "#article-status", "Hẹn giờ đăng").await;

    // A reader sees nothing of it yet; the pages they saw are cached.
    let reader = browser(&driver, false).await;
    let title = "Hội nghị sơ kết công tác quý IV";
    let public = format!("/xay-dung-dang/hoi-nghi-so-ket-cong-tac-quy-iv-{id}.html");
    reader
        .goto(&format!("{base}/xay-dung-dang/"))
        .await
        .unwrap();
    assert!(!reader.source().await.unwrap().contains(title));
    reader.goto(&format!("{base}/")).await.unwrap();
    assert!(!reader.source().await.unwrap().contains(title));
    assert_eq!(app.get(&public).await.status, 404);

    // Its minute comes; nobody asks anything of the server; the scheduler publishes it.
    app.advance(61);
    wait_status(&app, id, ArticleStatus::Published).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // A reader arriving now (the first one's browser may keep its copy for the seconds
    // `Cache-Control` allows; the server's own cache must not).
    reader.close().await.unwrap();
    let reader = browser(&driver, false).await;
    reader
        .goto(&format!("{base}/xay-dung-dang/"))
        .await
        .unwrap();
    assert!(
        reader.source().await.unwrap().contains(title),
        "in its category at once"
    );
    reader.goto(&format!("{base}/")).await.unwrap();
    assert!(
        reader.source().await.unwrap().contains(title),
        "and on the home page"
    );
    reader.goto(&format!("{base}{public}")).await.unwrap();
    let page = reader.source().await.unwrap();
    let body = between(&page, "<div class=\"body\">", "<p class=\"views\">");
    for expected in [
        "<p>Mở đầu bài viết.</p>",
        "<h2>Kết quả hội nghị Word</h2>",
        "<strong>ba nội dung trọng tâm</strong>",
        "<td><p>Quý</p></td><td><p>Kết quả</p></td>",
        "<img src=\"/media/samples/anh-mau-1.jpg\" alt=\"Hội trường\"",
        "<figcaption>Toàn cảnh hội nghị sơ kết</figcaption>",
    ] {
        assert!(body.contains(expected), "{expected} not in\n{body}");
    }
    for clutter in ["mso-", "Mso", "<o:p", "style=", "<span", "<!--"] {
        assert!(!body.contains(clutter), "{clutter} in\n{body}");
    }
    for c in [ed, chief, reader] {
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn a_stale_save_loses_no_text_and_typing_survives_a_forced_sign_out() {
    let driver = start_driver(chromedriver()).await;
    let app = TestApp::with_demo().await;
    let home = category(&app, "xay-dung-dang").await;
    let editor_id = app.add_user_in("bientap", Role::Editor, &[home]).await;
    app.add_user("bientapchinh", Role::EditorInChief).await;
    let base = running(&app).await;
    let id = app
        .app()
        .create_article(
            &Actor {
                user_id: Some(editor_id),
                username: "bientap".to_owned(),
                ip: "127.0.0.1".to_owned(),
            },
            &draft_in(home, "Bài hai người cùng sửa", app.now()),
        )
        .await
        .unwrap();
    let edit = format!("{base}/admin/articles/{id}");

    // Both open it at the same revision; the editor-in-chief saves first.
    let ed = browser(&driver, true).await;
    sign_in(&ed, &base, "bientap").await;
    ed.goto(&edit).await.unwrap();
    wait_for(&ed, ".ProseMirror").await;
    let chief = browser(&driver, true).await;
    sign_in(&chief, &base, "bientapchinh").await;
    chief.goto(&edit).await.unwrap();
    wait_for(&chief, "#lock-held").await;
    wait_for(&chief, ".ProseMirror")
        .await
        .click()
        .await
        .unwrap();
    key(&chief, &(Key::Control + &Key::End)).await;
    key(&chief, &format!("{}Đoạn của tổng biên tập.", Key::Enter)).await;
    click(&chief, "#article-form button[type=submit]").await;
    wait_url(&chief, 10, |u| u.contains("tb=luu")).await;

    // The editor's save from the old revision is refused; their text stays in the editor,
    // the saved version beside it.
    wait_for(&ed, ".ProseMirror").await.click().await.unwrap();
    key(&ed, &(Key::Control + &Key::End)).await;
    key(&ed, &format!("{}Đoạn của biên tập viên.", Key::Enter)).await;
    click(&ed, "#article-form button[type=submit]").await;
    wait_for(&ed, "#stale").await;
    let mine = editor_html(&ed).await;
    assert!(mine.contains("Đoạn của biên tập viên."), "{mine}");
    assert!(
        try_text(&ed, "#current-version")
            .await
            .unwrap()
            .contains("Đoạn của tổng biên tập."),
        "the version saved meanwhile is shown"
    );
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert!(stored.body().as_str().contains("Đoạn của tổng biên tập."));
    assert!(
        !stored.body().as_str().contains("Đoạn của biên tập viên."),
        "never silent"
    );
    // Having seen both, the editor merges and saves: that save goes through.
    wait_for(&ed, ".ProseMirror").await.click().await.unwrap();
    key(&ed, &(Key::Control + &Key::End)).await;
    key(&ed, &format!("{}Đoạn của tổng biên tập.", Key::Enter)).await;
    click(&ed, "#article-form button[type=submit]").await;
    wait_url(&ed, 10, |u| u.contains("tb=luu")).await;
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert!(stored.body().as_str().contains("Đoạn của biên tập viên."));
    assert!(stored.body().as_str().contains("Đoạn của tổng biên tập."));

    // Typing, then the server's autosave; then the account is signed out everywhere.
    wait_for(&ed, ".ProseMirror").await.click().await.unwrap();
    key(&ed, &(Key::Control + &Key::End)).await;
    key(&ed, &format!("{}Chữ chưa kịp lưu.", Key::Enter)).await;
    let deadline = Instant::now() + Duration::from_secs(25);
    while try_text(&ed, "#autosave-status")
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no autosave within 25 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.app()
        .set_active(&Actor::cli(), editor_id, false)
        .await
        .unwrap();
    app.app()
        .set_active(&Actor::cli(), editor_id, true)
        .await
        .unwrap();

    // Back in the same browser: signed out, signed in again, the copy on this device is
    // offered, and restoring it shows it in the editor.
    ed.goto(&edit).await.unwrap();
    wait_url(&ed, 10, |u| u.contains("/admin/login")).await;
    fill(&ed, "#username", "bientap").await;
    fill(&ed, "#password", PASSWORD).await;
    click(&ed, "#sign-in").await;
    wait_url(&ed, 10, |u| u.starts_with(&edit)).await;
    wait_for(&ed, "#restore-local button")
        .await
        .click()
        .await
        .unwrap();
    let restored = editor_html(&ed).await;
    assert!(restored.contains("Chữ chưa kịp lưu."), "{restored}");

    // On another device (no local copy), the server's autosaved copy is offered instead.
    let other = browser(&driver, true).await;
    sign_in(&other, &base, "bientap").await;
    other.goto(&edit).await.unwrap();
    wait_for(&other, "#restore-server button")
        .await
        .click()
        .await
        .unwrap();
    let restored = editor_html(&other).await;
    assert!(restored.contains("Chữ chưa kịp lưu."), "{restored}");
    for c in [ed, chief, other] {
        c.close().await.unwrap();
    }
}

/// A draft whose body's first paragraph the editor test finds.
fn draft_in(category_id: CategoryId, title: &str, at: UnixTime) -> bantin_store::NewArticle {
    bantin_store::NewArticle {
        body: bantin_core::SanitizedHtml::sanitize("<p>Đoạn đầu.</p>"),
        ..draft(title, category_id, at)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn the_seed_article_recreated_through_the_admin_reads_as_the_demo_copy() {
    let driver = start_driver(chromedriver()).await;
    let app = TestApp::with_demo().await;
    let (seed_id, seed_path) = app.seed().await;
    let seed = app.store().article(seed_id).await.unwrap().unwrap();
    let tags = app.store().article_tags(seed_id).await.unwrap();
    let extra = app.store().extra_categories(seed_id).await.unwrap();
    app.add_user("quantri", Role::Administrator).await;
    let base = running(&app).await;

    let c = browser(&driver, true).await;
    sign_in(&c, &base, "quantri").await;
    c.goto(&format!("{base}/admin/articles/new")).await.unwrap();
    fill(&c, "#title", &seed.title).await;
    // Long texts are pasted, as a newsroom does, not typed.
    set_value(&c, "#lead", &seed.lead).await;
    wait_for(&c, ".ProseMirror").await.click().await.unwrap();
    paste(&c, seed.body().as_str()).await;
    c.find(Locator::Css("#category"))
        .await
        .unwrap()
        .select_by_value(&seed.category_id.to_string())
        .await
        .unwrap();
    for e in &extra {
        click(&c, &format!("input[name=extra][value='{e}']")).await;
    }
    fill(&c, "#tags", &tags.join(", ")).await;
    fill(&c, "#author", &seed.author).await;
    fill(&c, "#image_url", seed.image_url.as_deref().unwrap()).await;
    fill(&c, "#image_alt", &seed.image_alt).await;
    fill(&c, "#image_caption", &seed.image_caption).await;
    set_value(&c, "#publish_at", "2022-10-25T13:19").await;
    click(&c, "#article-form button[type=submit]").await;
    let url = wait_url(&c, 10, |u| u.contains("tb=luu")).await;
    let id = edited(&url);
    click(&c, "#workflow button[value=approve]").await;
    wait_text(&c, "#article-status", "Đã đăng").await;
    c.close().await.unwrap();

    let made = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(
        made.publish_at, seed.publish_at,
        "25/10/2022 13:19 in the site's zone"
    );
    let page = |path: String| {
        let app = &app;
        async move {
            let res = app.get(&path).await;
            assert_eq!(res.status, 200, "{path}");
            let article = between(&res.body, "<article", "<p class=\"views\">").to_owned();
            // Where the two copies may differ: the id in attributes.
            article
                .replace(&format!("data-article-id=\"{}\"", seed_id), "")
                .replace(&format!("data-article-id=\"{}\"", id), "")
        }
    };
    let demo = page(seed_path).await;
    let again = page(format!("/xay-dung-dang/{}-{id}.html", made.slug)).await;
    assert_eq!(text_of(&again), text_of(&demo), "the page reads the same");
    let figures = |html: &str| -> Vec<String> {
        html.split("<figure")
            .skip(1)
            .map(|f| {
                let src = between(f, "src=\"", "\"").to_owned();
                let cap = between(f, "<figcaption>", "</figcaption>").to_owned();
                format!("{src} | {cap}")
            })
            .collect()
    };
    assert_eq!(
        figures(&again),
        figures(&demo),
        "the same photos with the same captions"
    );
    // The main image is the body's first photo, so it is shown once, in the body.
    assert_eq!(figures(&demo).len(), 3, "three photos with captions");
}
