//! Bad input gets a 4xx and a styled page, never a 500 or a panic.

use crate::helpers::*;

#[tokio::test]
async fn unknown_paths_get_the_styled_404() {
    let app = TestApp::with_demo().await;
    let res = app.get("/khong/co/trang/nay").await;
    assert_eq!(res.status, 404);
    assert!(res.body.contains("Không tìm thấy trang"));
    assert!(
        res.body.contains(r#"href="/xay-dung-dang/""#),
        "the menu is there to go on from"
    );
    assert!(res.body.contains("Về trang chủ"));
}

#[tokio::test]
async fn malformed_requests_never_fail_the_server() {
    let app = TestApp::with_demo().await;
    let (id, _) = app.seed().await;
    let long = format!("/xay-dung-dang/{}-1.html", "a".repeat(5000));
    let paths = [
        "/xay-dung-dang/abc.html".to_owned(),
        "/xay-dung-dang/x-0.html".to_owned(),
        "/xay-dung-dang/x--1.html".to_owned(),
        "/xay-dung-dang/x-99999999999999999999999999.html".to_owned(),
        "/xay-dung-dang/x-9223372036854775807.html".to_owned(),
        format!("/xay-dung-dang/x-{id}.htm"),
        format!("/xay-dung-dang/x-{id}"),
        "/%ff%fe/".to_owned(),
        "/xay-dung-dang/%ff-1.html".to_owned(),
        "/%E1%BA%A0/".to_owned(),
        "/../etc/passwd".to_owned(),
        "/assets/..%2f..%2fCargo.toml".to_owned(),
        "/media/../bantin.db".to_owned(),
        "/xay-dung-dang/?page=%ff".to_owned(),
        "/xay-dung-dang/?page=99999999999999999999".to_owned(),
        "/xay-dung-dang/?page=-1".to_owned(),
        format!("/xay-dung-dang/x-{id}.html?danh-gia=%ff%00"),
        "/?q=%".to_owned(),
        "/rate/1".to_owned(),
        long,
    ];
    for path in &paths {
        let res = app.get(path).await;
        let code = res.status.as_u16();
        assert!(
            (300..500).contains(&code) || code == 200,
            "{path} answered {code}"
        );
    }
    let too_long = app.get(&format!("/{}", "a".repeat(3000))).await;
    assert_eq!(too_long.status, 414);
    // Refused before routing, yet with the headers every answer carries.
    assert_eq!(too_long.header("x-content-type-options"), Some("nosniff"));
    assert!(too_long.header("content-security-policy").is_some());
}

#[tokio::test]
async fn pages_carry_basic_security_headers() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    for path in ["/", url.as_str(), "/khong-co/"] {
        let res = app.get(path).await;
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("x-frame-options"), Some("SAMEORIGIN"), "{path}");
        assert!(res.header("referrer-policy").is_some(), "{path}");
    }
}

#[tokio::test]
async fn health_check_answers() {
    let app = TestApp::with_demo().await;
    let res = app.get("/healthz").await;
    assert_eq!((res.status.as_u16(), res.body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn assets_are_fingerprinted_compressed_and_immutable() {
    let app = TestApp::with_demo().await;
    let html = app.get("/").await.body;
    let css = between(&html, r#"<link rel="stylesheet" href=""#, "\"").to_owned();
    assert!(
        css.starts_with("/assets/site.") && css.ends_with(".css"),
        "{css}"
    );
    let plain = app.get(&css).await;
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        plain.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let br = app.get_with(&css, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let gz = app
        .get_with(&css, &[("accept-encoding", "gzip;q=1, br;q=0")])
        .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let etag = plain.header("etag").unwrap().to_owned();
    assert_eq!(
        app.get_with(&css, &[("if-none-match", &etag)]).await.status,
        304
    );
    assert_eq!(app.get("/assets/site.000000000000.css").await.status, 404);
}

#[tokio::test]
async fn the_interface_speaks_english_when_asked() {
    let settings = bantin_web::WebSettings {
        language: bantin_web::Language::En,
        ..Default::default()
    };
    let app = TestApp::with_settings(settings).await;
    let (_, url) = app.seed().await;
    let html = app.get(&url).await.body;
    assert!(html.contains("<h2>Newer articles</h2>"));
    assert!(html.contains("Total score of this article: 0 from 0 ratings"));
    assert!(html.contains(r#"<html lang="en">"#));
}
