//! Readers see only published articles whose time has come and that have not expired; the
//! others answer exactly like an id that never existed.

use bantin_core::ArticleStatus;

use crate::helpers::*;

#[tokio::test]
async fn unpublished_scheduled_and_expired_articles_are_indistinguishable_from_missing() {
    let app = TestApp::with_demo().await;
    let now = app.now();
    let hour = 3600;
    let cases = [
        ("Bản nháp chưa gửi", ArticleStatus::Draft, now - hour, None),
        (
            "Bài đang chờ duyệt",
            ArticleStatus::Pending,
            now - hour,
            None,
        ),
        (
            "Bài đã gỡ xuống",
            ArticleStatus::Unpublished,
            now - hour,
            None,
        ),
        (
            "Bài hẹn giờ đăng",
            ArticleStatus::Published,
            now + hour,
            None,
        ),
        (
            "Bài đã hết hạn",
            ArticleStatus::Published,
            now - 2 * hour,
            Some(now - hour),
        ),
    ];
    let missing = app.get("/xay-dung-dang/khong-co-999999.html").await;
    assert_eq!(missing.status, 404);
    for (title, status, publish_at, expire_at) in cases {
        let id = app.add_article(title, status, publish_at, expire_at).await;
        let slug = bantin_core::Slug::from_title(title).unwrap();
        let url = format!("/xay-dung-dang/{slug}-{id}.html");
        let res = app.get(&url).await;
        assert_eq!(res.status, 404, "{title}");
        assert!(!res.body.contains(title), "{title} must not leak");
        // Same page as a missing id, apart from nothing.
        assert_eq!(res.body, missing.body, "{title}");
        // Not in any list either.
        for list in ["/", "/xay-dung-dang/"] {
            assert!(
                !app.get(list).await.body.contains(title),
                "{title} listed on {list}"
            );
        }
        // Nor reachable by a wrong slug (no redirect that would confirm it exists).
        assert_eq!(
            app.get(&format!("/xay-dung-dang/x-{id}.html")).await.status,
            404
        );
    }
    // A published article whose time has come, with a future expiry, is visible.
    let id = app
        .add_article(
            "Bài còn hiệu lực",
            ArticleStatus::Published,
            now - hour,
            Some(now + hour),
        )
        .await;
    let res = app
        .get(&format!("/xay-dung-dang/bai-con-hieu-luc-{id}.html"))
        .await;
    assert_eq!(res.status, 200);
    assert!(app.get("/").await.body.contains("Bài còn hiệu lực"));
}

#[tokio::test]
async fn unpublishing_hides_an_article_from_its_neighbours_lists() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let seed = app.store().article(id).await.unwrap().unwrap();
    let (newer, _) = app
        .store()
        .related_articles(&seed, app.now(), 1)
        .await
        .unwrap();
    let neighbour = &newer[0];
    let neighbour_url = format!("/xay-dung-dang/{}-{}.html", neighbour.slug, neighbour.id);
    assert!(app.get(&neighbour_url).await.body.contains(&url));
    app.set_status(id, ArticleStatus::Unpublished).await;
    assert_eq!(app.get(&url).await.status, 404);
    assert!(!app.get(&neighbour_url).await.body.contains(&url));
}

#[tokio::test]
async fn text_is_stored_as_nfc() {
    let app = TestApp::with_demo().await;
    // "Việt Nam" typed with combining marks.
    let decomposed = "Vie\u{0323}\u{0302}t Nam vào mùa";
    let id = app
        .add_article(decomposed, ArticleStatus::Published, app.now() - 60, None)
        .await;
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(stored.title, "Việt Nam vào mùa");
    assert_eq!(stored.slug, "viet-nam-vao-mua");
}
