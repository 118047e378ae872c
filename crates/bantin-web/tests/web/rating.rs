//! Star ratings: one vote per visitor per article, on the server.

use crate::helpers::*;

async fn token_of(app: &TestApp, url: &str) -> String {
    let html = app.get(url).await.body;
    between(&html, r#"name="token" value=""#, "\"").to_owned()
}

const PEER: &str = "198.51.100.20:40000";

#[tokio::test]
async fn a_form_vote_counts_once_and_redirects_back() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;

    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=4&token={token}"),
            &[],
            PEER,
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), format!("{url}?danh-gia=cam-on#danh-gia"));
    let cookie = res.cookie().expect("a voter cookie");
    assert!(res.header("set-cookie").unwrap().contains("HttpOnly"));

    let page = app.get(&format!("{url}?danh-gia=cam-on")).await.body;
    assert!(page.contains("Tổng số điểm của bài viết là: 4 trong 1 đánh giá"));
    assert!(page.contains("Xếp hạng: 4,0 - 1 phiếu bầu"));
    assert!(page.contains("Cảm ơn bạn đã đánh giá bài viết."));

    // The same voter again: a clear message, nothing changes.
    let again = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=1&token={token}"),
            &[("cookie", &cookie)],
            PEER,
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(
        again.location(),
        format!("{url}?danh-gia=da-danh-gia#danh-gia")
    );
    let page = app.get(&format!("{url}?danh-gia=da-danh-gia")).await.body;
    assert!(page.contains("Tổng số điểm của bài viết là: 4 trong 1 đánh giá"));
    assert!(page.contains("Bạn đã đánh giá bài viết này rồi."));
    let article = app.store().article(id).await.unwrap().unwrap();
    assert_eq!((article.rating_total, article.rating_count), (4, 1));
}

#[tokio::test]
async fn a_script_vote_gets_json_totals() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;
    let json = [("accept", "application/json")];
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=5&token={token}"),
            &json,
            PEER,
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["total"], 5);
    assert_eq!(v["count"], 1);
    assert_eq!(
        v["summary"],
        "Tổng số điểm của bài viết là: 5 trong 1 đánh giá"
    );
    assert_eq!(v["rank"], "Xếp hạng: 5,0 - 1 phiếu bầu");

    let cookie = res.cookie().unwrap();
    let mut headers = json.to_vec();
    headers.push(("cookie", &cookie));
    let again = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=3&token={token}"),
            &headers,
            PEER,
        )
        .await;
    assert_eq!(again.status, 409);
    let v: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["message"], "Bạn đã đánh giá bài viết này rồi.");
    assert_eq!(v["count"], 1);
}

#[tokio::test]
async fn bad_votes_are_refused_and_store_nothing() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;
    let json = [("accept", "application/json")];
    let other_token = "0".repeat(32);
    let cases: Vec<(String, String, u16)> = vec![
        (format!("/rate/{id}"), format!("point=0&token={token}"), 422),
        (format!("/rate/{id}"), format!("point=6&token={token}"), 422),
        (
            format!("/rate/{id}"),
            format!("point=abc&token={token}"),
            422,
        ),
        (
            format!("/rate/{id}"),
            format!("point=3.5&token={token}"),
            422,
        ),
        (format!("/rate/{id}"), format!("token={token}"), 422),
        (format!("/rate/{id}"), "point=3".to_owned(), 403),
        (
            format!("/rate/{id}"),
            format!("point=3&token={other_token}"),
            403,
        ),
        (
            format!("/rate/{id}"),
            "point=3&token=%ZZ%00".to_owned(),
            403,
        ),
        (
            "/rate/999999".to_owned(),
            format!("point=3&token={token}"),
            403,
        ),
        (
            "/rate/abc".to_owned(),
            format!("point=3&token={token}"),
            404,
        ),
        ("/rate/-1".to_owned(), format!("point=3&token={token}"), 404),
    ];
    for (path, body, status) in cases {
        let res = app.post_form(&path, &body, &json, PEER).await;
        assert_eq!(res.status.as_u16(), status, "{path} {body}: {}", res.body);
        let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(v["ok"], false);
        assert!(!v["message"].as_str().unwrap().is_empty());
        // Without JavaScript the same mistakes get a styled page with the message.
        let html = app.post_form(&path, &body, &[], PEER).await;
        assert_eq!(html.status.as_u16(), status, "{path} {body}");
        assert!(html.body.contains("<!doctype html>"));
    }
    let article = app.store().article(id).await.unwrap().unwrap();
    assert_eq!((article.rating_total, article.rating_count), (0, 0));
}

#[tokio::test]
async fn votes_on_hidden_articles_are_not_found() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;
    app.set_status(id, bantin_core::ArticleStatus::Draft).await;
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=3&token={token}"),
            &[("accept", "application/json")],
            PEER,
        )
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn clearing_cookies_is_capped_per_address() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;
    let json = [("accept", "application/json")];
    // Five fresh voters (no cookie) from one address are allowed, the sixth is not.
    for i in 0..5 {
        let res = app
            .post_form(
                &format!("/rate/{id}"),
                &format!("point=5&token={token}"),
                &json,
                PEER,
            )
            .await;
        assert_eq!(res.status, 200, "vote {i}");
    }
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=5&token={token}"),
            &json,
            PEER,
        )
        .await;
    assert_eq!(res.status, 429);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert!(v["message"].as_str().unwrap().contains("quá nhiều"));
    // Another address is not affected.
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=1&token={token}"),
            &json,
            "192.0.2.1:1",
        )
        .await;
    assert_eq!(res.status, 200);
    let article = app.store().article(id).await.unwrap().unwrap();
    assert_eq!((article.rating_total, article.rating_count), (26, 6));
}

#[tokio::test]
async fn a_tampered_voter_cookie_is_ignored() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let token = token_of(&app, &url).await;
    let json = [("accept", "application/json")];
    let first = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=2&token={token}"),
            &json,
            PEER,
        )
        .await;
    let cookie = first.cookie().unwrap();
    // Flip one character of the signed value: it no longer verifies, so it is a new voter.
    let mut bytes = cookie.into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(bytes).unwrap();
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=2&token={token}"),
            &[("accept", "application/json"), ("cookie", &tampered)],
            PEER,
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.cookie().is_some(), "a fresh voter key is issued");
}
