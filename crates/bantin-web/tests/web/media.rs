//! The media library through the web: the seed article's photos are library items served as
//! responsive pictures; uploads are taken or refused with a message naming the problem and
//! nothing stored; deleting a used item needs confirmation and leaves a placeholder, never a
//! broken image.

use axum::http::StatusCode;
use bantin_core::account::Role;
use image::ImageEncoder;

use crate::helpers::*;

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let px: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .write_image(&px, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A PNG header claiming `side`×`side` pixels with a little zlib data: a bomb's shape.
fn png_header_bomb(side: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x01";
    out.extend_from_slice(&2u32.to_be_bytes());
    out.extend_from_slice(idat);
    out.extend_from_slice(&crc(idat).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc(b"IEND").to_be_bytes());
    out
}

fn crc(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

async fn upload(a: &mut Agent<'_>, csrf: &str, name: &str, bytes: Vec<u8>) -> TestResponse {
    let path = format!(
        "/admin/media/upload?name={}",
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    a.post_raw(
        &path,
        bytes,
        &[
            ("x-csrf-token", csrf),
            ("content-type", "application/octet-stream"),
        ],
    )
    .await
}

async fn count(app: &TestApp) -> usize {
    app.store()
        .media_list(&Default::default(), 200, 0)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn media_seed_page_serves_responsive_pictures() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let page = app.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert_eq!(body.matches("<picture>").count(), 3, "{body}");
    assert!(body.contains("type=\"image/webp\" srcset=\"/media/lib/"));
    assert!(body.contains("-320.webp 320w, /media/lib/"));
    // A phone's candidate: 480 px for a 358 px column at one device pixel per CSS pixel.
    assert!(body.contains("-480.webp 480w"));
    assert!(body.contains("width=\"800\" height=\"533\""));
    assert!(body.contains("sizes=\"(max-width: 800px) calc(100vw - 2rem), 768px\""));
    assert_eq!(body.matches("loading=\"eager\"").count(), 1);
    assert_eq!(body.matches("loading=\"lazy\"").count(), 2);
    let first_eager = body.find("loading=\"eager\"").unwrap();
    assert!(first_eager < body.find("loading=\"lazy\"").unwrap());
    assert!(
        !body.contains("/media/2022_10/"),
        "originals no longer linked"
    );
    // Library files: content-addressed, cached for a year.
    let start = body.find("srcset=\"/media/lib/").unwrap() + 8;
    let end = start + body[start..].find([' ', '"']).unwrap();
    let file = app.get(&body[start..end]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", &body[start..end]);
    assert_eq!(file.header("content-type"), Some("image/webp"));
    assert_eq!(
        file.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        app.get("/media/lib/..%2Fbantin.db").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/media/lib/0123.jpg").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn media_upload_takes_pictures_and_refuses_bad_input() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    let mut a = Agent::new(&app, "10.0.0.5:40000");
    a.sign_in("bientap", PASSWORD).await;
    let csrf = a.csrf().await;
    let before = count(&app).await;

    let res = upload(&mut a, &csrf, "DSC_0001.JPG", jpeg(700, 400)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["item"]["alt"], "DSC 0001");
    assert_eq!(v["item"]["file_name"], "DSC_0001.JPG");
    assert_eq!(v["item"]["width"], 700);
    assert_eq!(count(&app).await, before + 1);
    let thumb = v["item"]["thumb"].as_str().unwrap();
    assert!(thumb.ends_with("-320.webp"), "{thumb}");
    assert_eq!(app.get(thumb).await.status, StatusCode::OK);

    // Names made safe.
    let long = format!("../../{}\u{7}.jpg", "a".repeat(300));
    let res = upload(&mut a, &csrf, &long, jpeg(64, 48)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let name = v["item"]["file_name"].as_str().unwrap();
    assert!(
        !name.contains('/') && !name.contains('\u{7}') && name.chars().count() <= 120,
        "{name}"
    );

    let full = jpeg(300, 200);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("empty.jpg", Vec::new(), StatusCode::BAD_REQUEST, "0 byte"),
        (
            "photo.jpg",
            b"MZ\x90\0not a picture".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "không phải ảnh",
        ),
        (
            "cut.jpg",
            full[..full.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
            "cắt cụt",
        ),
        (
            "huge.png",
            png_header_bomb(20_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "20000×20000",
        ),
        (
            "x.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "SVG",
        ),
        (
            "big.jpg",
            vec![0xFF; 31 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "30 MB",
        ),
    ];
    for (name, bytes, status, says) in cases {
        let res = upload(&mut a, &csrf, name, bytes).await;
        assert_eq!(res.status, status, "{name}: {}", res.body);
        let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
    }
    assert_eq!(count(&app).await, before + 2, "nothing half-stored");
    let lib = std::fs::read_dir(app.state.settings().media_dir.join("lib")).unwrap();
    assert!(
        lib.filter_map(Result::ok)
            .all(|f| !f.file_name().to_string_lossy().ends_with(".tmp"))
    );

    // Without the token: refused.
    let res = upload(&mut a, "wrong", "a.jpg", jpeg(10, 10)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // The grid finds it by its readable name, folded.
    let grid = a.get("/admin/media?q=dsc+0001").await;
    assert_eq!(grid.status, StatusCode::OK);
    assert!(grid.body.contains("DSC_0001.JPG"));
    assert!(!grid.body.contains("DSC_5191.jpg"));
    let picker = a.get("/admin/media/picker").await;
    assert!(picker.body.contains("data-pick"));
}

#[tokio::test]
async fn media_delete_in_use_needs_confirmation_and_leaves_a_placeholder() {
    let app = TestApp::with_demo().await;
    let mut a = Agent::new(&app, "10.0.0.6:40000");
    app.add_user("sep", Role::Administrator).await;
    a.sign_in("sep", PASSWORD).await;
    let csrf = a.csrf().await;
    let (_, url) = app.seed().await;
    let items = app
        .store()
        .media_list(&Default::default(), 200, 0)
        .await
        .unwrap();
    let dsc = items
        .iter()
        .find(|m| m.file_name == "DSC_5191.jpg")
        .unwrap();
    assert_eq!(dsc.alt, "DSC 5191");

    let page = a.get(&format!("/admin/media/{}", dsc.id)).await;
    assert!(
        page.body
            .contains("Đảng bộ Thành phố học tập và làm theo gương Bác"),
        "where used"
    );

    let res = a
        .post(
            &format!("/admin/media/{}/delete", dsc.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("1 bài viết"), "{}", res.body);
    assert!(app.store().media(dsc.id).await.unwrap().is_some());

    let res = a
        .post(
            &format!("/admin/media/{}/delete", dsc.id),
            &[("csrf", &csrf), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(app.store().media(dsc.id).await.unwrap().is_none());
    app.settle().await;
    let page = app.get(&url).await;
    assert_eq!(page.body.matches("<picture>").count(), 2);
    assert!(
        page.body
            .contains("class=\"media-removed\" role=\"img\" aria-label=\"DSC 5191\"")
    );
    assert!(!page.body.contains(&dsc.key), "no link to a deleted file");
    assert_eq!(
        app.get(&format!("/media/lib/{}.jpg", dsc.key)).await.status,
        StatusCode::NOT_FOUND
    );

    // Alt text and caption edits.
    let other = items
        .iter()
        .find(|m| m.file_name != "DSC_5191.jpg")
        .unwrap();
    let res = a
        .post(
            &format!("/admin/media/{}", other.id),
            &[
                ("csrf", &csrf),
                ("alt", "Hội nghị"),
                ("caption", "Ảnh: Thành ủy"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let found = a.get("/admin/media?q=hoi+nghi").await;
    assert!(found.body.contains(&other.file_name));
}

/// A 3-frame animated GIF, 400×100, looping.
fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        let frames = [[200u8, 20, 20], [20, 200, 20], [20, 20, 200]].map(|[r, g, b]| {
            image::Frame::from_parts(
                image::RgbaImage::from_pixel(400, 100, image::Rgba([r, g, b, 255])),
                0,
                0,
                image::Delay::from_numer_denom_ms(100, 1),
            )
        });
        enc.encode_frames(frames).unwrap();
    }
    out
}

#[tokio::test]
async fn media_animated_gif_stays_animated_on_reader_pages() {
    let app = TestApp::with_demo().await;
    app.add_user("gif-editor", Role::Editor).await;
    let mut a = Agent::new(&app, "10.0.0.9:40000");
    a.sign_in("gif-editor", PASSWORD).await;
    let csrf = a.csrf().await;
    let res = upload(&mut a, &csrf, "dang-tai.gif", animated_gif()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let file = v["item"]["url"].as_str().unwrap().to_owned();
    assert!(file.ends_with(".gif"), "{file}");
    // Its thumbnail in the library is a WebP still.
    assert!(v["item"]["thumb"].as_str().unwrap().ends_with(".webp"));

    let id = app
        .add_article(
            "Ảnh động trong bài",
            bantin_core::ArticleStatus::Published,
            app.now().minus(60),
            None,
        )
        .await;
    let mut article = app.store().article(id).await.unwrap().unwrap();
    let body = format!(r#"<p>Trước.</p><p><img src="{file}" alt="Đang tải"></p>"#);
    let stored = bantin_store::NewArticle {
        title: article.title.clone(),
        slug: bantin_core::Slug::from_title(&article.title).unwrap(),
        lead: article.lead.clone(),
        body: bantin_core::SanitizedHtml::sanitize(&body),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        author: article.author.clone(),
        source: String::new(),
        tags: vec![],
        status: article.status(),
        publish_at: article.publish_at,
        expire_at: None,
        category_id: article.category_id,
        extra_category_ids: vec![],
        options: Default::default(),
        meta_description: String::new(),
    };
    let rights = bantin_core::access::Rights {
        role: Role::Administrator,
        all_categories: true,
        categories: vec![],
    };
    app.app()
        .save_article(
            &bantin_app::Actor::cli(),
            &rights,
            id,
            &stored,
            article.revision,
        )
        .await
        .unwrap();
    app.settle().await;
    article = app.store().article(id).await.unwrap().unwrap();
    let page = app
        .get(&format!("/xay-dung-dang/{}-{id}.html", article.slug))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let tag = format!(r#"<img src="{file}" width="400" height="100" alt="Đang tải""#);
    assert!(page.body.contains(&tag), "{}", page.body);
    let key = &file["/media/lib/".len()..file.len() - ".gif".len()];
    assert!(
        !page.body.contains(&format!("{key}-")),
        "no still variant offered on the page"
    );
    // The file served is the animation, every frame kept.
    let served = app.get(&file).await;
    assert_eq!(served.header("content-type"), Some("image/gif"));
    let bytes = app
        .app()
        .media()
        .unwrap()
        .storage()
        .get(&file["/media/lib/".len()..])
        .await
        .unwrap()
        .unwrap();
    let decoder =
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use image::AnimationDecoder;
    assert_eq!(decoder.into_frames().count(), 3);
}

#[tokio::test]
async fn media_list_thumbnails_are_responsive_and_never_broken() {
    let app = TestApp::with_demo().await;
    let page = app.get("/xay-dung-dang/").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // Library thumbnails come from the variants, sized for the list's 9rem/15rem column.
    let thumbs = body.matches("<a class=\"thumb\"").count();
    assert!(thumbs > 0, "{body}");
    assert_eq!(
        body.matches("<picture><source type=\"image/webp\" srcset=\"/media/lib/")
            .count(),
        thumbs,
        "every demo thumbnail is a library picture: {body}"
    );
    assert!(body.contains("sizes=\"(min-width: 60rem) 15rem, 9rem\""));
    let start = body.find("<a class=\"thumb\"").unwrap();
    let card = &body[start..start + body[start..].find("</a>").unwrap()];
    assert!(card.contains("-320.webp 320w"), "{card}");
    let src = between(card, "<img src=\"", "\"");
    assert!(
        src.ends_with("-320.jpg"),
        "a small fallback, not the original: {src}"
    );
    assert_eq!(app.get(src).await.status, StatusCode::OK);
    // The home page's category blocks show a 9rem thumbnail.
    let home = app.get("/").await;
    assert!(home.body.contains("sizes=\"9rem\""), "{}", home.body);

    // A thumbnail whose library item is deleted disappears from the list (no broken image).
    let key = bantin_media::key_of_url(src).unwrap().to_owned();
    let showing = body
        .split("<a class=\"thumb\"")
        .skip(1)
        .filter(|c| c[..c.find("</a>").unwrap()].contains(&key))
        .count();
    let item = app
        .store()
        .media_by_keys(std::slice::from_ref(&key))
        .await
        .unwrap()
        .pop()
        .unwrap();
    app.app()
        .delete_media(&bantin_app::Actor::cli(), item.id, true)
        .await
        .unwrap();
    app.settle().await;
    let page = app.get("/xay-dung-dang/").await;
    assert!(!page.body.contains(&key), "no link to a deleted file");
    assert_eq!(
        page.body.matches("<a class=\"thumb\"").count(),
        thumbs - showing
    );
}
