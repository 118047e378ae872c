//! Views are counted in memory, once per visitor per article per day, and written in batches.

use crate::helpers::*;

#[tokio::test]
async fn views_are_counted_once_per_visitor_and_flushed_in_one_batch() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    for _ in 0..3 {
        assert_eq!(
            app.get_with(&url, &[("user-agent", "reader-a")])
                .await
                .status,
            200
        );
    }
    app.get_with(&url, &[("user-agent", "reader-b")]).await;
    // Nothing written yet: no database write per request.
    assert_eq!(
        app.store().article(id).await.unwrap().unwrap().view_count,
        0
    );
    assert_eq!(app.state.views().pending(), 2);

    let written = app.state.views().flush(app.store()).await.unwrap();
    assert_eq!(written, 2);
    assert_eq!(app.state.views().pending(), 0);
    assert_eq!(
        app.store().article(id).await.unwrap().unwrap().view_count,
        2
    );
    // Cached pages may show counts up to a minute old; drop them to see the new count now.
    app.state.page_cache().unwrap().clear();
    let page = app.get_with(&url, &[("user-agent", "reader-b")]).await.body;
    assert!(
        page.contains("Lượt xem: 2"),
        "{}",
        between(&page, r#"<p class="views">"#, "</p>")
    );

    // The same visitors on the same day add nothing; a flush with nothing pending is a no-op.
    app.get_with(&url, &[("user-agent", "reader-a")]).await;
    assert_eq!(app.state.views().flush(app.store()).await.unwrap(), 0);
}

#[tokio::test]
async fn cache_hits_count_views_too() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let first = app.get_with(&url, &[("user-agent", "reader-a")]).await;
    let hit = app.get_with(&url, &[("user-agent", "reader-b")]).await;
    assert_eq!(
        first.header("etag"),
        hit.header("etag"),
        "the second answer came from the cache"
    );
    assert_eq!(app.state.views().pending(), 2);
}

#[tokio::test]
async fn redirects_and_missing_pages_count_no_views() {
    let app = TestApp::with_demo().await;
    let (id, _) = app.seed().await;
    app.get(&format!("/xay-dung-dang/wrong-{id}.html")).await;
    app.get("/xay-dung-dang/x-999999.html").await;
    assert_eq!(app.state.views().pending(), 0);
}
