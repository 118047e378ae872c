//! Lists show what they should: categories include subcategories and extra categories.

use crate::helpers::*;

#[tokio::test]
async fn category_lists_include_extra_categories_and_children() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    // The seed article's extra category lists it too, under its canonical URL.
    let sub = app.get("/hoc-tap-va-lam-theo-bac/").await;
    assert_eq!(sub.status, 200);
    assert!(sub.body.contains(&url));
    // Parent category pages list the children's articles.
    let sub_ids: Vec<&str> = sub
        .body
        .split(r#"<h3><a href=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let mut parent_all = String::new();
    for page in 1..=3 {
        let res = app.get(&format!("/xay-dung-dang/?page={page}")).await;
        if res.status != 200 {
            break;
        }
        parent_all.push_str(&res.body);
    }
    for href in sub_ids {
        assert!(parent_all.contains(href), "{href} listed under its parent");
    }
}

#[tokio::test]
async fn home_lists_are_newest_first() {
    let app = TestApp::with_demo().await;
    let html = app.get("/").await.body;
    let latest = between(&html, "<h2>Tin mới nhất</h2>", "</section>");
    let dates: Vec<String> = latest
        .split(r#"<time datetime=""#)
        .skip(1)
        .map(|s| s[..25].to_owned())
        .collect();
    assert_eq!(dates.len(), 10);
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
}

#[tokio::test]
async fn the_pager_counts_only_a_few_pages_ahead() {
    let settings = bantin_web::WebSettings {
        per_page: 2,
        ..Default::default()
    };
    let app = TestApp::with_settings(settings).await;
    let cat = app
        .store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.slug == "xay-dung-dang")
        .unwrap();
    let total = app
        .store()
        .category_article_count(cat.id, app.now(), 10_000)
        .await
        .unwrap();
    let last = (total + 1) / 2;
    assert!(last > 8, "enough demo articles for the test: {total}");
    let first = app.get("/xay-dung-dang/").await.body;
    let pager = between(&first, r#"<nav class="pager""#, "</nav>");
    assert!(
        pager.contains(r#"href="/xay-dung-dang/?page=3""#),
        "{pager}"
    );
    assert!(
        !pager.contains(&format!("?page={last}\"")),
        "the last page is not counted from page 1: {pager}"
    );
    assert!(pager.contains("…"));
    assert!(pager.contains(r#"<a rel="next" href="/xay-dung-dang/?page=2">"#));

    let near_end = app.get(&format!("/xay-dung-dang/?page={}", last - 1)).await;
    assert_eq!(near_end.status, 200);
    let pager = between(&near_end.body, r#"<nav class="pager""#, "</nav>");
    assert!(
        pager.contains(&format!("?page={last}\"")),
        "the end is in sight: {pager}"
    );
    let end = app.get(&format!("/xay-dung-dang/?page={last}")).await;
    assert_eq!(end.status, 200);
    assert!(!end.body.contains(r#"rel="next""#));
    assert_eq!(
        app.get(&format!("/xay-dung-dang/?page={}", last + 1))
            .await
            .status,
        404
    );
    assert_eq!(app.get("/xay-dung-dang/?page=400").await.status, 404);
}
