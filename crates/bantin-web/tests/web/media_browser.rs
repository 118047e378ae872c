//! The media library in headless Chromium: several files uploaded at once through the file
//! picker, each with its progress bar and its outcome (a refused file names its problem); the
//! new item appears in the grid; the article form's picker fills the main image fields, and
//! the editor's "picture from the library" puts the chosen item in the body at the cursor.

use std::time::{Duration, Instant};

use bantin_core::account::Role;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use image::ImageEncoder;

use crate::admin_browser::{click, sign_in_form, wait_url};
use crate::browser::{browser, chromedriver, serve, start_driver, try_text};
use crate::helpers::*;

/// Seconds to wait for what the browser shows: a second or two alone, but on CI's two cores
/// the other browser tests run at the same time (a run there once took over 10 s to show the
/// picker's grid).
const WAIT: u64 = 30;

async fn wait_for(client: &Client, css: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while client.find(Locator::Css(css)).await.is_err() {
        assert!(Instant::now() < deadline, "{css} did not appear");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn media_upload_and_picker_in_the_browser() {
    let path = chromedriver();
    let app = TestApp::with_real_clock(Default::default()).await;
    app.add_user("bientap", Role::Editor).await;
    let base = serve(&app).await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;
    sign_in_form(&client, &base, "bientap", PASSWORD).await;
    wait_url(&client, WAIT, |u| u.ends_with("/admin")).await;

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("Ảnh_hội_nghị.jpg");
    let px: Vec<u8> = (0..900 * 600 * 3).map(|i| (i % 253) as u8).collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .write_image(&px, 900, 600, image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(&good, &jpeg).unwrap();
    let bad = dir.path().join("not-a-photo.jpg");
    std::fs::write(&bad, b"MZ this is a program").unwrap();

    client.goto(&format!("{base}/admin/media")).await.unwrap();
    let input = client.find(Locator::Css("#media-files")).await.unwrap();
    input
        .send_keys(&format!("{}\n{}", good.display(), bad.display()))
        .await
        .unwrap();
    wait_for(&client, ".upload.ok", WAIT).await;
    wait_for(&client, ".upload.error", WAIT).await;
    let done = try_text(&client, ".upload.ok .upload-status")
        .await
        .unwrap();
    assert_eq!(done, "Đã tải lên");
    let value = client
        .execute(
            "return document.querySelector('.upload.ok progress').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(value, serde_json::json!(100));
    let refused = try_text(&client, ".upload.error .upload-status")
        .await
        .unwrap();
    assert!(refused.contains("không phải ảnh"), "{refused}");
    let card = try_text(&client, "[data-media-grid] .media-card .media-name")
        .await
        .unwrap();
    assert_eq!(card, "Ảnh_hội_nghị.jpg");
    let thumb = client
        .find(Locator::Css("[data-media-grid] .media-card img"))
        .await
        .unwrap()
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    assert!(thumb.ends_with("-320.webp"), "{thumb}");
    let loaded = client
        .execute(
            "return document.querySelector('[data-media-grid] .media-card img').complete",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, serde_json::json!(true));

    // The picker, from the article form.
    client
        .goto(&format!("{base}/admin/articles/new"))
        .await
        .unwrap();
    let main = client.window().await.unwrap();
    click(&client, r#"[data-media-picker-open=""]"#).await;
    let deadline = Instant::now() + Duration::from_secs(WAIT);
    let picker = loop {
        let windows = client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != main) {
            break w;
        }
        assert!(Instant::now() < deadline, "the picker did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    client.switch_to_window(picker).await.unwrap();
    wait_for(&client, "[data-pick]", WAIT).await;
    let url = client
        .find(Locator::Css("[data-pick]"))
        .await
        .unwrap()
        .attr("data-url")
        .await
        .unwrap()
        .unwrap();
    click(&client, "[data-pick]").await;
    client.switch_to_window(main).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(WAIT);
    loop {
        let v = client
            .find(Locator::Css("#image_url"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        if v.as_deref() == Some(url.as_str()) {
            break;
        }
        assert!(Instant::now() < deadline, "image_url is {v:?}, not {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alt = client
        .find(Locator::Css("#image_alt"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(alt.as_deref(), Some("Ảnh hội nghị"));
    client.close().await.unwrap();
}

/// Switches to the window that is not `main` (the picker), waiting for it to open.
async fn switch_to_picker(client: &Client, main: &fantoccini::wd::WindowHandle) {
    let deadline = Instant::now() + Duration::from_secs(WAIT);
    let picker = loop {
        let windows = client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| w != main) {
            break w;
        }
        assert!(Instant::now() < deadline, "the picker did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    client.switch_to_window(picker).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn media_editor_picks_a_picture_from_the_library() {
    let path = chromedriver();
    let app = TestApp::with_real_clock(Default::default()).await;
    // The seed article is published: its editor is someone who may change it.
    app.add_user("quantri", Role::Administrator).await;
    let (id, public) = app.seed().await;
    let before = app
        .store()
        .article(id)
        .await
        .unwrap()
        .unwrap()
        .body()
        .into_string();
    let pictures = before.matches("<img").count();
    assert_eq!(app.get(&public).await.body.matches("<picture>").count(), 3);
    let base = serve(&app).await;
    let driver = start_driver(path).await;
    let client = browser(&driver, true).await;
    sign_in_form(&client, &base, "quantri", PASSWORD).await;
    wait_url(&client, WAIT, |u| u.ends_with("/admin")).await;

    client
        .goto(&format!("{base}/admin/articles/{id}"))
        .await
        .unwrap();
    let main = client.window().await.unwrap();
    // Both ways in: the library, and an address for a picture on another site.
    wait_for(&client, r#"[data-action="figure-library"]"#, WAIT).await;
    let labels = client
        .execute(
            "return [...document.querySelectorAll('.bantin-editor-toolbar button')]\
             .map(b => b.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let labels = labels.to_string();
    assert!(labels.contains("Ảnh từ thư viện"), "{labels}");
    assert!(labels.contains("Ảnh theo địa chỉ"), "{labels}");
    // The cursor at the end of the body.
    click(&client, ".ProseMirror").await;
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(&(Key::Control + &Key::End))
        .await
        .unwrap();
    click(&client, r#"[data-action="figure-library"]"#).await;
    switch_to_picker(&client, &main).await;
    wait_for(&client, "[data-pick]", WAIT).await;
    // A library item the article does not show yet.
    let mut chosen = None;
    for b in client.find_all(Locator::Css("[data-pick]")).await.unwrap() {
        let url = b.attr("data-url").await.unwrap().unwrap();
        let thumb = client
            .execute(
                "return arguments[0].closest('.media-card').querySelector('img') !== null",
                vec![serde_json::to_value(&b).unwrap()],
            )
            .await
            .unwrap();
        if !before.contains(&url) && thumb == serde_json::json!(true) {
            let alt = b.attr("data-alt").await.unwrap().unwrap_or_default();
            let caption = b.attr("data-caption").await.unwrap().unwrap_or_default();
            chosen = Some((b, url, alt, caption));
            break;
        }
    }
    let (button, url, alt, caption) = chosen.expect("a demo picture the seed article does not use");
    button.click().await.unwrap();
    client.switch_to_window(main).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(WAIT);
    loop {
        let value = client
            .find(Locator::Css("#body"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        if value.contains(&url) {
            assert!(value.contains(&format!("alt=\"{alt}\"")), "{value}");
            break;
        }
        assert!(Instant::now() < deadline, "the picture is not in the body");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The main image fields are untouched.
    let image_url = client
        .find(Locator::Css("#image_url"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_ne!(image_url, url);

    // Saved: the body holds the picture last (in a figure with the item's caption, if it
    // has one), the reader's page shows it as a responsive
    // library picture.
    client
        .execute(
            "document.getElementById('body').form\
             .querySelector('button[type=submit]:not([name])').click()",
            vec![],
        )
        .await
        .unwrap();
    wait_url(&client, WAIT, |u| u.ends_with("?tb=luu")).await;
    let body = app
        .store()
        .article(id)
        .await
        .unwrap()
        .unwrap()
        .body()
        .into_string();
    assert_eq!(body.matches("<img").count(), pictures + 1, "{body}");
    let tail = &body[body.rfind("<img").unwrap()..];
    assert!(
        tail.starts_with(&format!("<img src=\"{url}\" alt=\"{alt}\"")),
        "{tail}"
    );
    if !caption.is_empty() {
        assert!(
            tail.contains(&format!("<figcaption>{caption}</figcaption></figure>")),
            "{tail}"
        );
    }
    let page = app.get(&public).await.body;
    assert_eq!(page.matches("<picture>").count(), 4, "{page}");
    let key = url
        .trim_start_matches("/media/lib/")
        .rsplit_once('.')
        .unwrap()
        .0;
    assert!(
        page.contains(&format!("srcset=\"/media/lib/{key}-320.webp 320w")),
        "{page}"
    );
    client.close().await.unwrap();
}
