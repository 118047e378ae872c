//! Pulling remote pictures into the library: a small HTTP server started by each test serves
//! real pictures made here (and every kind of bad answer); the service and the article form
//! fetch them through the SSRF guard, take them in like uploads and point the body at them.
//! Refusals (loopback with the setting off, `file://`, `ftp://`, a redirect to a private
//! address, too large, too slow, not a picture) leave nothing in the library.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use bantin_app::{Actor, AddressPolicy, NetError, PullError, RemoteFetch};
use bantin_core::ArticleId;
use bantin_core::access::Rights;
use bantin_core::account::Role;
use bantin_web::WebSettings;
use image::ImageEncoder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// Bytes of an EXIF block the intake must strip (a stand-in for a camera's GPS position).
const SECRET: &[u8] = b"BANTIN-SECRET-GPS-21.0285N-105.8542E";

/// A photo-like JPEG (gradients) carrying an EXIF segment with [`SECRET`] in it.
fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
        }
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .write_image(&px, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    // APP1 "Exif": a big-endian TIFF header with an empty IFD, then the secret.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(SECRET);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn make_png(w: u32, h: u32) -> Vec<u8> {
    let px: Vec<u8> = (0..w * h * 4).map(|i| (i % 253) as u8).collect();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&px, w, h, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// A test HTTP server written on a bare socket, so it can answer as badly as needed: no
/// length, a false length, too slowly.
struct Remote {
    base: String,
    port: u16,
    hits: Arc<AtomicUsize>,
}

/// A server on `ip` (port 0: any); `private_target` is where `/to-private` redirects.
async fn serve(ip: &str, private_target: Option<String>) -> Remote {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let jpeg = Arc::new(camera_jpeg(800, 500));
    let png = Arc::new(make_png(300, 200));
    let other_png = Arc::new(make_png(240, 160));
    let private_target = Arc::new(private_target);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let (jpeg, png, other_png, target) = (
                jpeg.clone(),
                png.clone(),
                other_png.clone(),
                private_target.clone(),
            );
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let ok = |ctype: &str, body: &[u8]| {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                };
                let redirect = |to: &str| {
                    format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                    .into_bytes()
                };
                let reply = match path.as_str() {
                    "/a/DSC_0042.JPG" => ok("image/jpeg", &jpeg),
                    "/b/photo.png" => ok("image/png", &png),
                    // A picture under a misleading type and name is still taken by content.
                    "/c/picture.txt" => ok("text/plain", &other_png),
                    "/to-png" => redirect("/b/photo.png"),
                    "/to-private" => redirect(target.as_deref().unwrap_or("/")),
                    "/to-file" => redirect("file:///etc/passwd"),
                    "/loop" => redirect("/loop"),
                    "/page.html" => ok("image/jpeg", b"<!doctype html><title>Not a picture</title>"),
                    "/doc.pdf" => ok("image/jpeg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
                    "/declared-big" => {
                        b"HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 5000000\r\nconnection: close\r\n\r\n\xFF\xD8\xFF".to_vec()
                    }
                    "/unsized-big" => {
                        // No length: read until the connection closes; 2 MiB of "JPEG".
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\nconnection: close\r\n\r\n\xFF\xD8\xFF")
                            .await;
                        let chunk = vec![0x55u8; 64 * 1024];
                        for _ in 0..32 {
                            if sock.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                        return;
                    }
                    "/slow" => {
                        // Headers, the start of a picture, then nothing for longer than the
                        // timeout.
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n\xFF\xD8\xFF")
                            .await;
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        return;
                    }
                    _ => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_vec(),
                };
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Remote {
        base: format!("http://{ip}:{port}"),
        port,
        hits,
    }
}

/// Fetching from 127.0.0.1 only (the test server), every other non-public address refused;
/// a short timeout and a 1 MiB limit.
fn fetch_settings() -> RemoteFetch {
    RemoteFetch {
        policy: AddressPolicy {
            allow_private: false,
            allow_addresses: vec!["127.0.0.1".parse::<IpAddr>().unwrap()],
        },
        timeout: Duration::from_secs(1),
        max_bytes: Some(1024 * 1024),
        ..RemoteFetch::default()
    }
}

async fn library_count(app: &TestApp) -> usize {
    app.store()
        .media_list(&Default::default(), 500, 0)
        .await
        .unwrap()
        .len()
}

fn article_fields(category: &str, body: &str) -> Vec<(String, String)> {
    [
        ("title", "Bài dán từ trang khác"),
        ("slug", ""),
        ("lead", "Tóm tắt bài viết."),
        ("body", body),
        ("category", category),
        ("tags", ""),
        ("author", "Phóng viên"),
        ("source", ""),
        ("image_url", ""),
        ("image_alt", ""),
        ("image_caption", ""),
        ("publish_at", ""),
        ("expire_at", ""),
        ("expiry_action", "archive"),
        ("allow_rating", "1"),
        ("show_on_home", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn post_fields(
    a: &mut Agent<'_>,
    path: &str,
    csrf: &str,
    f: &[(String, String)],
) -> TestResponse {
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf)];
    all.extend(f.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    a.post(path, &all).await
}

async fn category_of_seed(app: &TestApp) -> String {
    let (id, _) = app.seed().await;
    let a = app.store().article(id).await.unwrap().unwrap();
    a.category_id.to_string()
}

/// Creates a draft through the form as the signed-in agent.
async fn create(a: &mut Agent<'_>, category: &str, body: &str) -> ArticleId {
    let csrf = a.csrf().await;
    let res = post_fields(a, "/admin/articles", &csrf, &article_fields(category, body)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = res
        .location()
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    ArticleId::new(id.parse().unwrap())
}

/// Saves article `id` with the "pull remote pictures" button.
async fn pull(a: &mut Agent<'_>, id: ArticleId, category: &str, body: &str) -> TestResponse {
    let revision = a.app.store().article(id).await.unwrap().unwrap().revision;
    let csrf = a.csrf().await;
    let mut f = article_fields(category, body);
    f.push(("revision".into(), revision.to_string()));
    f.push(("pull_images".into(), "1".into()));
    post_fields(a, &format!("/admin/articles/{id}"), &csrf, &f).await
}

#[tokio::test]
async fn the_article_form_pulls_remote_pictures_into_the_library() {
    let inner = serve("127.0.0.2", None).await;
    let remote = serve("127.0.0.1", Some(format!("{}/a/DSC_0042.JPG", inner.base))).await;
    let app = TestApp::with_settings(WebSettings {
        media_fetch: fetch_settings(),
        ..WebSettings::default()
    })
    .await;
    let category = category_of_seed(&app).await;
    app.add_user("pull-editor", Role::Editor).await;
    let mut editor = Agent::new(&app, "198.51.100.60:5000");
    editor.sign_in("pull-editor", PASSWORD).await;
    let id = create(&mut editor, &category, "<p>Bản nháp.</p>").await;
    let before = library_count(&app).await;

    let b = &remote.base;
    let p = remote.port;
    let body = format!(
        r#"<p>Bài dán từ trang khác.</p>
        <figure><img src="{b}/a/DSC_0042.JPG" alt=""><figcaption>Ảnh máy ảnh</figcaption></figure>
        <p><img src="{b}/to-png" alt="Sơ đồ"> <img src="{b}/c/picture.txt" alt="Ảnh đổi tên"></p>
        <p><img src="{b}/to-private" alt="1"><img src="ftp://127.0.0.1:{p}/a/DSC_0042.JPG" alt="2">
        <img src="{b}/to-file" alt="3"><img src="{b}/loop" alt="4"><img src="{b}/declared-big" alt="5">
        <img src="{b}/unsized-big" alt="6"><img src="{b}/slow" alt="7"><img src="{b}/page.html" alt="8">
        <img src="{b}/doc.pdf" alt="9"><img src="{b}/missing.jpg" alt="10"></p>
        <p><img src="/media/lib/0123456789abcdef0123456789abcdef.jpg" alt="đã có"></p>"#
    );
    let res = pull(&mut editor, id, &category, &body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("Đã tải 3 ảnh"), "{}", res.body);

    // Three pictures came in, nothing else was stored (no half-stored refusal).
    assert_eq!(library_count(&app).await, before + 3);
    let saved = app.store().article(id).await.unwrap().unwrap();
    let stored = saved.body().into_string();
    assert_eq!(stored.matches("src=\"/media/lib/").count(), 4, "{stored}");
    assert!(!stored.contains("/a/DSC_0042.JPG\" alt=\"\""), "{stored}");
    // Each refusal keeps its address in the body and is named in the notice.
    for (path, reason) in [
        ("/to-private", "mạng nội bộ"),
        ("/to-file", "chỉ tải được địa chỉ http và https"),
        ("/loop", "chuyển hướng quá nhiều lần"),
        ("/declared-big", "quá lớn"),
        ("/unsized-big", "quá lớn"),
        ("/slow", "không trả lời trong 1 giây"),
        ("/page.html", "không phải ảnh"),
        ("/doc.pdf", "không phải ảnh"),
        ("/missing.jpg", "lỗi 404"),
    ] {
        let url = format!("{b}{path}");
        assert!(stored.contains(&url), "{url} kept in {stored}");
        let line = format!("{url} — ");
        let at = res
            .body
            .find(&line)
            .unwrap_or_else(|| panic!("{url} reported"));
        let rest = &res.body[at + line.len()..];
        assert!(
            rest.starts_with(reason) || rest[..120.min(rest.len())].contains(reason),
            "{url}: {rest:.120}"
        );
    }
    assert!(res.body.contains(&format!(
        "ftp://127.0.0.1:{p}/a/DSC_0042.JPG — chỉ tải được"
    )));
    // The private address behind the redirect was never contacted.
    assert_eq!(inner.hits.load(Ordering::SeqCst), 0);

    // The camera picture: a library item named by its file, its EXIF block gone.
    let items = app
        .store()
        .media_list(&Default::default(), 500, 0)
        .await
        .unwrap();
    let camera = items
        .iter()
        .find(|m| m.file_name == "DSC_0042.JPG")
        .expect("camera picture");
    assert_eq!(camera.alt, "DSC 0042");
    assert_eq!((camera.width, camera.height), (Some(800), Some(500)));
    assert_eq!(
        app.get(&format!("/media/lib/{}", camera.file()))
            .await
            .status,
        StatusCode::OK
    );
    let file = app
        .app()
        .media()
        .unwrap()
        .storage()
        .get(&camera.file())
        .await
        .unwrap()
        .unwrap();
    assert!(file.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(
        !file.windows(SECRET.len()).any(|w| w == SECRET),
        "EXIF stripped"
    );
    assert!(
        items
            .iter()
            .any(|m| m.file_name == "photo.png" && m.width == Some(300))
    );
    assert!(
        items
            .iter()
            .any(|m| m.file_name == "picture.txt" && m.ext == "png")
    );
    // The audit log says where each came from.
    let audit = app
        .store()
        .audit_entries(&Default::default(), 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "media.uploaded"
            && e.detail.contains(&format!("from {b}/a/DSC_0042.JPG"))),
        "audited with its source"
    );
}

#[tokio::test]
async fn only_those_who_may_edit_the_article_can_make_the_server_fetch() {
    let remote = serve("127.0.0.1", None).await;
    let app = TestApp::with_settings(WebSettings {
        media_fetch: fetch_settings(),
        ..WebSettings::default()
    })
    .await;
    let category = category_of_seed(&app).await;
    app.add_user("pull-owner", Role::Editor).await;
    let other_id = app.add_user("pull-other", Role::Editor).await;
    let mut owner = Agent::new(&app, "198.51.100.61:5000");
    owner.sign_in("pull-owner", PASSWORD).await;
    let id = create(&mut owner, &category, "<p>Bản nháp.</p>").await;
    let body = format!(
        r#"<p><img src="{}/a/DSC_0042.JPG" alt=""></p>"#,
        remote.base
    );
    let before = library_count(&app).await;

    // Another editor may not save someone else's draft, so may not pull for it either.
    let mut other = Agent::new(&app, "198.51.100.62:5000");
    other.sign_in("pull-other", PASSWORD).await;
    let res = pull(&mut other, id, &category, &body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // A forged request without the form's token: refused before anything is read.
    let revision = app.store().article(id).await.unwrap().unwrap().revision;
    let mut f = article_fields(&category, &body);
    f.push(("revision".into(), revision.to_string()));
    f.push(("pull_images".into(), "1".into()));
    let res = post_fields(&mut owner, &format!("/admin/articles/{id}"), "forged", &f).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Signed out: sent to sign in.
    let mut anon = Agent::new(&app, "198.51.100.63:5000");
    let res = post_fields(&mut anon, &format!("/admin/articles/{id}"), "x", &f).await;
    assert_ne!(res.status, StatusCode::OK);
    assert_eq!(remote.hits.load(Ordering::SeqCst), 0, "nothing fetched");
    assert_eq!(library_count(&app).await, before);

    // The owner may.
    let res = pull(&mut owner, id, &category, &body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(remote.hits.load(Ordering::SeqCst), 1);
    assert_eq!(library_count(&app).await, before + 1);

    // The service checks the same rule on its own.
    let actor = Actor {
        user_id: Some(other_id),
        username: "pull-other".into(),
        ip: "test".into(),
    };
    let rights = Rights {
        role: Role::Editor,
        all_categories: true,
        categories: vec![],
    };
    let refused = app
        .app()
        .pull_remote_images(
            &actor,
            &rights,
            id,
            &body,
            app.state.html(),
            &fetch_settings(),
        )
        .await;
    assert!(refused.is_err());
    assert_eq!(remote.hits.load(Ordering::SeqCst), 1, "nothing fetched");
}

#[tokio::test]
async fn loopback_is_refused_when_the_setting_is_off() {
    let remote = serve("127.0.0.1", None).await;
    let app = TestApp::with_demo().await;
    let category = category_of_seed(&app).await;
    app.add_user("pull-admin", Role::Administrator).await;
    let mut admin = Agent::new(&app, "198.51.100.64:5000");
    admin.sign_in("pull-admin", PASSWORD).await;
    let id = create(&mut admin, &category, "<p>Bản nháp.</p>").await;
    let before = library_count(&app).await;
    let p = remote.port;
    let body = format!(
        r#"<p><img src="http://127.0.0.1:{p}/a/DSC_0042.JPG" alt="a">
        <img src="http://localhost:{p}/a/DSC_0042.JPG" alt="b">
        <img src="http://[::ffff:127.0.0.1]:{p}/a/DSC_0042.JPG" alt="c">
        <img src="http://2130706433:{p}/a/DSC_0042.JPG" alt="d">
        <img src="http://0x7f.0.0.1:{p}/a/DSC_0042.JPG" alt="e"></p>"#
    );
    let res = pull(&mut admin, id, &category, &body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("Đã tải 0 ảnh"), "{}", res.body);
    assert_eq!(res.body.matches("mạng nội bộ").count(), 5, "{}", res.body);
    assert_eq!(remote.hits.load(Ordering::SeqCst), 0, "never contacted");
    assert_eq!(library_count(&app).await, before);

    // The service, with the default settings, says why.
    let fetch = RemoteFetch::default();
    let actor = Actor::cli();
    for url in [
        format!("http://127.0.0.1:{p}/a/DSC_0042.JPG"),
        format!("http://localhost:{p}/a/DSC_0042.JPG"),
        format!("http://[::ffff:7f00:1]:{p}/a/DSC_0042.JPG"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://100.64.0.1/a.jpg".to_owned(),
        "http://[fe80::1]/a.jpg".to_owned(),
        "http://0.0.0.0/a.jpg".to_owned(),
        "http://224.0.0.1/a.jpg".to_owned(),
    ] {
        let r = app
            .app()
            .fetch_remote_media(&actor, &url, &fetch)
            .await
            .unwrap();
        assert!(
            matches!(r, Err(PullError::Net(NetError::NotPublic { .. }))),
            "{url}: {r:?}"
        );
    }
    for url in [
        "file:///etc/passwd",
        "ftp://example.vn/a.jpg",
        "data:image/png;base64,AAAA",
    ] {
        let r = app
            .app()
            .fetch_remote_media(&actor, url, &fetch)
            .await
            .unwrap();
        assert_eq!(r.unwrap_err(), PullError::Net(NetError::Scheme), "{url}");
    }
    assert_eq!(remote.hits.load(Ordering::SeqCst), 0, "never contacted");
    assert_eq!(library_count(&app).await, before);
}

#[tokio::test]
async fn the_service_fetches_checks_each_hop_and_gives_up_on_bad_answers() {
    let inner = serve("127.0.0.2", None).await;
    let remote = serve("127.0.0.1", Some(format!("{}/a/DSC_0042.JPG", inner.base))).await;
    let app = TestApp::with_demo().await;
    let fetch = fetch_settings();
    let actor = Actor::cli();
    let before = library_count(&app).await;
    let b = &remote.base;
    let get = |path: &str| format!("{b}{path}");

    let item = app
        .app()
        .fetch_remote_media(&actor, &get("/a/DSC_0042.JPG"), &fetch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.ext, "jpg");
    assert!(!item.variant_widths().is_empty(), "variants made");
    let again = app
        .app()
        .fetch_remote_media(&actor, &get("/a/DSC_0042.JPG"), &fetch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, item.id, "the same picture is one item");
    let via = app
        .app()
        .fetch_remote_media(&actor, &get("/to-png"), &fetch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(via.ext, "png");

    /// What a refusal must be.
    type Expect = fn(&PullError) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        (get("/to-private"), |e| {
            matches!(e, PullError::Net(NetError::NotPublic { .. }))
        }),
        (get("/to-file"), |e| *e == PullError::Net(NetError::Scheme)),
        (get("/loop"), |e| {
            matches!(e, PullError::TooManyRedirects(5))
        }),
        (get("/declared-big"), |e| {
            *e == PullError::TooLarge { max: 1024 * 1024 }
        }),
        (get("/unsized-big"), |e| {
            *e == PullError::TooLarge { max: 1024 * 1024 }
        }),
        (get("/slow"), |e| *e == PullError::Timeout(1)),
        (get("/page.html"), |e| *e == PullError::NotAnImage),
        (get("/doc.pdf"), |e| *e == PullError::NotAnImage),
        (get("/missing.jpg"), |e| *e == PullError::Status(404)),
    ];
    for (url, expected) in cases {
        let started = std::time::Instant::now();
        let r = app
            .app()
            .fetch_remote_media(&actor, &url, &fetch)
            .await
            .unwrap();
        let e = r.expect_err(&url);
        assert!(expected(&e), "{url}: {e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{url} gave up in time"
        );
    }
    assert_eq!(
        inner.hits.load(Ordering::SeqCst),
        0,
        "the private hop was never contacted"
    );
    assert_eq!(library_count(&app).await, before + 2);
}
