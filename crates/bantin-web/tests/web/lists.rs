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
