//! The media library in headless Chromium: several files uploaded at once through the file
//! picker, each with its progress bar and its outcome (a refused file names its problem); the
//! new item appears in the grid; the article form's picker fills the main image fields.

use std::time::{Duration, Instant};

use bantin_core::account::Role;
use fantoccini::{Client, Locator};
use image::ImageEncoder;

use crate::admin_browser::{click, sign_in_form, wait_url};
use crate::browser::{browser, chromedriver, serve, start_driver, try_text};
use crate::helpers::*;

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
    wait_url(&client, 10, |u| u.ends_with("/admin")).await;

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
    wait_for(&client, ".upload.ok", 30).await;
    wait_for(&client, ".upload.error", 30).await;
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
    click(&client, "[data-media-picker-open]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let picker = loop {
        let windows = client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != main) {
            break w;
        }
        assert!(Instant::now() < deadline, "the picker did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    client.switch_to_window(picker).await.unwrap();
    wait_for(&client, "[data-pick]", 10).await;
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
    let deadline = Instant::now() + Duration::from_secs(10);
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
