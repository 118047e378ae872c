//! The rendered-page cache: fast answers that are never stale after a change.

use bantin_core::{ArticleStatus, CategoryStatus, Slug};
use bantin_web::WebSettings;

use crate::helpers::*;

#[tokio::test]
async fn repeated_requests_are_served_from_memory_with_validators() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let first = app.get(&url).await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert!(
        first
            .header("cache-control")
            .unwrap()
            .contains("stale-while-revalidate")
    );
    assert_eq!(
        first.header("content-length").unwrap(),
        first.body.len().to_string()
    );
    assert_eq!(first.header("vary"), Some("accept-encoding"));

    let again = app.get(&url).await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(
        app.get_with(&url, &[("if-none-match", &etag)]).await.status,
        304
    );
    assert_eq!(
        app.get_with(&url, &[("if-none-match", "\"other\", *")])
            .await
            .status,
        304
    );
    assert_eq!(
        app.get_with(&url, &[("if-none-match", "\"other\"")])
            .await
            .status,
        200
    );

    let br = app
        .get_with(&url, &[("accept-encoding", "gzip, deflate, br")])
        .await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let br_len: usize = br.header("content-length").unwrap().parse().unwrap();
    assert!(
        br_len < first.body.len() / 3,
        "{br_len} vs {}",
        first.body.len()
    );
    let gz = app.get_with(&url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let head = app
        .request(
            axum::http::Request::head(&url)
                .body(axum::body::Body::empty())
                .unwrap(),
            "127.0.0.1:1",
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn odd_headers_get_correct_answers() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let plain = app.get(&url).await;
    let huge = "x".repeat(8000);
    for headers in [
        vec![("if-none-match", huge.as_str())],
        vec![("accept-encoding", huge.as_str())],
        vec![("accept-encoding", "br;q=0, gzip;q=0")],
        vec![("range", "bytes=0-10")],
        vec![("range", huge.as_str())],
    ] {
        let res = app.get_with(&url, &headers).await;
        assert_eq!(res.status, 200, "{:?}", headers[0].0);
        assert_eq!(res.body, plain.body);
        assert_eq!(res.header("content-encoding"), None);
    }
}

#[tokio::test]
async fn cache_busting_query_strings_share_one_entry() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let cache = app.state.page_cache().unwrap();
    app.get(&url).await;
    let before = cache.entry_count().await;
    for i in 0..300 {
        let res = app.get(&format!("{url}?v={i}&utm_source=x{i}")).await;
        assert_eq!(res.status, 200);
    }
    for i in 0..100 {
        app.get(&format!("/xay-dung-dang/?page=1&x={i}")).await;
        app.get(&format!("/?fbclid={i}")).await;
    }
    assert!(
        cache.entry_count().await <= before + 2,
        "entries: {}",
        cache.entry_count().await
    );
}

#[tokio::test]
async fn signed_in_users_and_errors_bypass_the_cache() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let cached = app.get(&url).await;
    // Only a session cookie we issued bypasses the cache: made-up ones (a cheap way to force
    // uncached renders) get the cached page.
    for forged in [
        "bantin_session=abc",
        "bantin_session_x=1",
        &format!("bantin_session={}.{}", "a".repeat(64), "0".repeat(32)),
    ] {
        let res = app.get_with(&url, &[("cookie", forged)]).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("etag"), cached.header("etag"), "{forged}");
        assert!(res.header("age").is_some(), "{forged}: served from memory");
    }
    app.add_user("bientap", bantin_core::account::Role::Editor)
        .await;
    let mut a = Agent::new(&app, "198.51.100.77:1");
    a.sign_in("bientap", PASSWORD).await;
    let signed_in = a.get(&url).await;
    assert_eq!(signed_in.status, 200);
    assert_eq!(
        signed_in.header("etag"),
        None,
        "rendered for this user, not from the cache"
    );
    assert_eq!(signed_in.header("age"), None);
    let cache = app.state.page_cache().unwrap();
    let before = cache.entry_count().await;
    for i in 0..50 {
        assert_eq!(
            app.get(&format!("/xay-dung-dang/x-{}.html", 900_000 + i))
                .await
                .status,
            404
        );
    }
    assert_eq!(cache.entry_count().await, before, "404s are not cached");
}

/// After each kind of change, the very next request sees it.
#[tokio::test]
async fn every_change_is_visible_at_once() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let now = app.now();
    // Warm the cache.
    assert!(!app.get("/").await.body.contains("Bài mới đăng"));
    app.get("/xay-dung-dang/").await;
    app.get(&url).await;

    // Publish.
    let new_id = app
        .add_article("Bài mới đăng", ArticleStatus::Published, now - 10, None)
        .await;
    assert!(app.get("/").await.body.contains("Bài mới đăng"));
    assert!(
        app.get("/xay-dung-dang/")
            .await
            .body
            .contains("Bài mới đăng")
    );

    // Unpublish.
    app.set_status(id, ArticleStatus::Unpublished).await;
    assert_eq!(app.get(&url).await.status, 404);
    // And back (re-publish with the same time).
    app.set_status(id, ArticleStatus::Published).await;
    assert_eq!(app.get(&url).await.status, 200);

    // Edit: new lead, same slug; then a new title and slug, which moves the page.
    let current = app.store().article(id).await.unwrap().unwrap();
    let mut edit = bantin_store::NewArticle {
        title: current.title.clone(),
        slug: Slug::parse(&current.slug).unwrap(),
        lead: "Phần tóm tắt đã được biên tập lại.".to_owned(),
        body: current.body(),
        image_url: current.image_url.clone(),
        image_alt: current.image_alt.clone(),
        image_caption: current.image_caption.clone(),
        meta_description: current.meta_description.clone(),
        author: current.author.clone(),
        source: current.source.clone(),
        tags: app.store().article_tags(id).await.unwrap(),
        status: ArticleStatus::Published,
        publish_at: current.publish_at,
        expire_at: None,
        category_id: current.category_id,
        extra_category_ids: vec![],
        options: Default::default(),
    };
    let cli = bantin_app::Actor::cli();
    app.app().update_article(&cli, id, &edit).await.unwrap();
    app.settle().await;
    assert!(
        app.get(&url)
            .await
            .body
            .contains("Phần tóm tắt đã được biên tập lại.")
    );
    edit.title = "Tiêu đề đã sửa".to_owned();
    edit.slug = Slug::from_title(&edit.title).unwrap();
    app.app().update_article(&cli, id, &edit).await.unwrap();
    app.settle().await;
    let moved = app.get(&url).await;
    assert_eq!(moved.status, 301);
    assert_eq!(
        moved.location(),
        format!("/xay-dung-dang/tieu-de-da-sua-{id}.html")
    );
    let url = format!("/xay-dung-dang/tieu-de-da-sua-{id}.html");
    assert!(app.get(&url).await.body.contains("<h1>Tiêu đề đã sửa</h1>"));
    assert!(
        !app.get("/hoc-tap-va-lam-theo-bac/")
            .await
            .body
            .contains(&url),
        "extra category dropped"
    );

    // Category change.
    let cat = bantin_app::CategoryDraft {
        parent: None,
        slug: Slug::parse("chuyen-muc-moi").unwrap(),
        title: "Chuyên mục mới".to_owned(),
        description: String::new(),
        position: 9,
        status: CategoryStatus::Active,
    };
    app.app().create_category(&cli, &cat).await.unwrap();
    app.settle().await;
    assert!(
        app.get(&url).await.body.contains("Chuyên mục mới"),
        "the menu shows it"
    );

    // A rating vote.
    let token = between(&app.get(&url).await.body, r#"name="token" value=""#, "\"").to_owned();
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=3&token={token}"),
            &[],
            "192.0.2.9:1",
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(
        app.get(&url)
            .await
            .body
            .contains("Tổng số điểm của bài viết là: 3 trong 1 đánh giá")
    );
    let _ = new_id;
}

/// Scheduled publication and expiry take effect on time even though nothing was written: the
/// scheduler announces them on the change feed when the (manual) clock reaches them.
#[tokio::test]
async fn scheduled_publication_and_expiry_take_effect_on_time() {
    let app = TestApp::with_demo().await;
    let now = app.now();
    let expiring = app
        .add_article(
            "Bài sắp hết hạn",
            ArticleStatus::Published,
            now - 60,
            Some(now + 5),
        )
        .await;
    app.add_article(
        "Bài hẹn giờ sắp đăng",
        ArticleStatus::Published,
        now + 5,
        None,
    )
    .await;
    let expiring_url = format!("/xay-dung-dang/bai-sap-het-han-{expiring}.html");
    let home = app.get("/").await.body;
    assert!(home.contains("Bài sắp hết hạn"));
    assert!(!home.contains("Bài hẹn giờ sắp đăng"));
    assert_eq!(app.get(&expiring_url).await.status, 200);

    app.advance(6);
    app.tick().await;
    let home = app.get("/").await.body;
    assert!(!home.contains("Bài sắp hết hạn"), "expired");
    assert!(
        home.contains("Bài hẹn giờ sắp đăng"),
        "published on schedule"
    );
    assert_eq!(app.get(&expiring_url).await.status, 404);
}

/// The article page with its CSS and JavaScript stays under 60 KB compressed and asks no
/// other host for anything.
#[tokio::test]
async fn the_article_page_is_light_and_self_contained() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let html = app.get(&url).await.body;
    let css = between(&html, r#"<link rel="stylesheet" href=""#, "\"").to_owned();
    let js = between(&html, r#"<script src=""#, "\"").to_owned();
    let mut total = 0;
    for path in [url.as_str(), css.as_str(), js.as_str()] {
        let res = app.get_with(path, &[("accept-encoding", "br")]).await;
        assert_eq!(res.header("content-encoding"), Some("br"), "{path}");
        total += res
            .header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap();
    }
    assert!(total < 60 * 1024, "{total} bytes");
    // Nothing loaded from elsewhere: no remote script, picture or stylesheet (links to other
    // sites, such as a share page, are only followed when clicked).
    for attr in ["src=\"http", "src=\"//", "url(http"] {
        assert!(!html.contains(attr), "third-party reference: {attr}");
    }
    for link in html.split("<link ").skip(1) {
        let tag = &link[..link.find('>').unwrap()];
        if tag.contains("rel=\"stylesheet\"") || tag.contains("preload") || tag.contains("icon") {
            assert!(
                !tag.contains("href=\"http") && !tag.contains("href=\"//"),
                "{tag}"
            );
        }
    }
}

/// An article scheduled after the cache was warm still appears on time.
#[tokio::test]
async fn scheduling_after_the_cache_is_warm_still_publishes_on_time() {
    let app = TestApp::with_demo().await;
    assert_eq!(app.get("/").await.status, 200);
    let now = app.now();
    app.add_article(
        "Bài hẹn giờ khi bộ nhớ đệm đã đầy",
        ArticleStatus::Published,
        now + 5,
        None,
    )
    .await;
    assert!(
        !app.get("/")
            .await
            .body
            .contains("Bài hẹn giờ khi bộ nhớ đệm đã đầy")
    );
    app.advance(6);
    app.tick().await;
    assert!(
        app.get("/")
            .await
            .body
            .contains("Bài hẹn giờ khi bộ nhớ đệm đã đầy")
    );
}

/// Browsers ask for compressed pages; the first such request fills the cache like any other.
#[tokio::test]
async fn compressed_requests_fill_the_cache_too() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let cache = app.state.page_cache().unwrap();
    let before = cache.entry_count().await;
    let enc = [("accept-encoding", "gzip, deflate, br")];
    let first = app.get_with(&url, &enc).await;
    assert_eq!(first.header("content-encoding"), Some("br"));
    assert_eq!(cache.entry_count().await, before + 1);
    let second = app.get_with(&url, &enc).await;
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(second.header("x-content-type-options"), Some("nosniff"));
}

/// The strong ETag a cached page's plain body should carry (SHA-256 of the body, 16 bytes).
fn etag_of(body: &str) -> String {
    use sha2::Digest;
    format!(
        "\"{}\"",
        hex::encode(&sha2::Sha256::digest(body.as_bytes())[..16])
    )
}

/// An entry filled by a browser keeps only gzip and brotli; the first plain request is
/// answered from memory with the exact page, made from gzip, and the entry is weighed again.
#[tokio::test]
async fn plain_pages_are_made_from_the_compressed_forms_and_kept() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let enc = [("accept-encoding", "gzip, deflate, br")];
    let first = app.get_with(&url, &enc).await;
    assert_eq!(first.header("content-encoding"), Some("br"));
    let compact = metric(&app, "bantin_page_cache_bytes").await;
    app.advance(3);

    let plain = app.get(&url).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("age"), Some("3"), "from memory");
    assert_eq!(plain.header("etag"), first.header("etag"));
    assert_eq!(plain.header("etag").unwrap(), etag_of(&plain.body));
    assert_eq!(
        plain.header("content-length").unwrap(),
        plain.body.len().to_string()
    );
    assert!(plain.body.contains("</html>"));
    let full = metric(&app, "bantin_page_cache_bytes").await;
    assert!(
        full >= compact + plain.body.len() as u64,
        "{compact} → {full} for a {} byte page",
        plain.body.len()
    );
    // Kept: the next plain request finds it, and compressed answers are unchanged.
    assert_eq!(app.get(&url).await.body, plain.body);
    assert_eq!(metric(&app, "bantin_page_cache_bytes").await, full);
    let gz = app.get_with(&url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("age"), Some("3"));
    // A conditional request needs no body: a 304 without making one.
    app.state.page_cache().unwrap().clear();
    let etag = app
        .get_with(&url, &enc)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let compact = metric(&app, "bantin_page_cache_bytes").await;
    assert_eq!(
        app.get_with(&url, &[("if-none-match", &etag)]).await.status,
        304
    );
    assert_eq!(metric(&app, "bantin_page_cache_bytes").await, compact);
}

/// On a cold cache, plain and compressed requests for one page arriving together share one
/// render and each gets the whole page in its encoding.
#[tokio::test]
async fn concurrent_plain_and_compressed_misses_all_get_the_page() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let enc = [("accept-encoding", "gzip")];
    let (a, b, c, d) = tokio::join!(
        app.get_with(&url, &enc),
        app.get(&url),
        app.get_with(&url, &enc),
        app.get(&url)
    );
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("etag"), a.header("etag"));
    }
    for r in [&b, &d] {
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("etag").unwrap(), etag_of(&r.body));
    }
    for r in [&a, &c] {
        assert_eq!(r.header("content-encoding"), Some("gzip"));
    }
}

/// The article URLs a page links to.
fn article_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|u| u.starts_with('/') && u.ends_with(".html"))
        .map(str::to_owned)
        .collect()
}

/// Warms `urls`, moves the clock five seconds, and returns each page's etag.
async fn warm(app: &TestApp, urls: &[String]) -> Vec<String> {
    let mut etags = Vec::new();
    for u in urls {
        let res = app.get(u).await;
        assert_eq!(res.status, 200, "{u}");
        etags.push(res.header("etag").unwrap().to_owned());
    }
    app.advance(5);
    etags
}

/// Whether `url` is answered from memory with the page rendered before the clock moved.
async fn from_memory(app: &TestApp, url: &str, etag: &str) -> bool {
    let res = app.get(url).await;
    res.header("age") == Some("5") && res.header("etag") == Some(etag)
}

/// A rating vote on a warm cache purges that article's page and nothing else.
#[tokio::test]
async fn a_vote_purges_only_its_article_page() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let seed_page = app.get(&url).await.body;
    let neighbours = article_links(&seed_page);
    let other_category = article_links(&app.get("/kinh-te-xa-hoi/").await.body);
    let mut others = vec![
        "/".to_owned(),
        "/xay-dung-dang/".to_owned(),
        "/hoc-tap-va-lam-theo-bac/".to_owned(),
        "/kinh-te-xa-hoi/".to_owned(),
    ];
    others.extend(neighbours.iter().filter(|u| **u != url).take(6).cloned());
    others.extend(other_category.into_iter().take(2));
    assert!(others.len() >= 10, "{others:?}");
    let etags = warm(&app, &others).await;
    app.get(&url).await;

    let token = between(&seed_page, r#"name="token" value=""#, "\"").to_owned();
    let res = app
        .post_form(
            &format!("/rate/{id}"),
            &format!("point=4&token={token}"),
            &[],
            "192.0.2.50:1",
        )
        .await;
    assert_eq!(res.status, 303);

    let voted = app.get(&url).await;
    assert_eq!(
        voted.header("age"),
        Some("0"),
        "its page was rendered again"
    );
    assert!(
        voted
            .body
            .contains("Tổng số điểm của bài viết là: 4 trong 1 đánh giá")
    );
    for (u, etag) in others.iter().zip(&etags) {
        assert!(from_memory(&app, u, etag).await, "{u} was purged by a vote");
    }
}

/// An edit that does not move an article purges its page and the pages that list it, and
/// leaves the rest of the site in memory.
#[tokio::test]
async fn an_edit_purges_the_pages_that_show_the_article() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    let neighbour = article_links(&app.get(&url).await.body)
        .into_iter()
        .find(|u| u.starts_with("/xay-dung-dang/") && *u != url)
        .unwrap();
    let unrelated = article_links(&app.get("/kinh-te-xa-hoi/").await.body)
        .into_iter()
        .next()
        .unwrap();
    let pages = [
        url.clone(),
        neighbour.clone(),
        "/".to_owned(),
        "/xay-dung-dang/".to_owned(),
        "/kinh-te-xa-hoi/".to_owned(),
        unrelated.clone(),
    ];
    let etags = warm(&app, &pages).await;

    let current = app.store().article(id).await.unwrap().unwrap();
    let edit = bantin_store::NewArticle {
        title: format!("{} (đã sửa)", current.title),
        slug: Slug::parse(&current.slug).unwrap(),
        lead: current.lead.clone(),
        body: current.body(),
        image_url: current.image_url.clone(),
        image_alt: current.image_alt.clone(),
        image_caption: current.image_caption.clone(),
        meta_description: current.meta_description.clone(),
        author: current.author.clone(),
        source: current.source.clone(),
        tags: app.store().article_tags(id).await.unwrap(),
        status: ArticleStatus::Published,
        publish_at: current.publish_at,
        expire_at: None,
        category_id: current.category_id,
        // Where it is listed stays the same: only what it shows changes.
        extra_category_ids: app
            .store()
            .categories()
            .await
            .unwrap()
            .iter()
            .filter(|c| c.slug == "hoc-tap-va-lam-theo-bac")
            .map(|c| c.id)
            .collect(),
        options: Default::default(),
    };
    app.app()
        .update_article(&bantin_app::Actor::cli(), id, &edit)
        .await
        .unwrap();
    app.settle().await;

    for shows_it in [&url, &neighbour, &"/xay-dung-dang/".to_owned()] {
        let res = app.get(shows_it).await;
        assert_eq!(res.header("age"), Some("0"), "{shows_it} rendered again");
        assert!(
            res.body.contains("(đã sửa)"),
            "{shows_it} shows the new title"
        );
    }
    for (u, etag) in pages.iter().zip(&etags).skip(4) {
        assert!(
            from_memory(&app, u, etag).await,
            "{u} does not show the article"
        );
    }
}

/// The value of a metric in `/metrics`.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    res.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in {}", res.body))
        .parse()
        .unwrap()
}

/// `/metrics` counts hits and misses of cacheable pages only, and says what the cache holds.
#[tokio::test]
async fn page_cache_hits_and_misses_are_counted_in_metrics() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let (hits, misses) = (
        metric(&app, "bantin_page_cache_hits_total").await,
        metric(&app, "bantin_page_cache_misses_total").await,
    );
    app.get(&url).await;
    app.get(&url).await;
    app.get(&format!("{url}?utm_source=x")).await;
    app.get("/healthz").await;
    app.get("/api/v1/categories").await;
    assert_eq!(metric(&app, "bantin_page_cache_hits_total").await, hits + 2);
    assert_eq!(
        metric(&app, "bantin_page_cache_misses_total").await,
        misses + 1
    );
    assert!(metric(&app, "bantin_page_cache_entries").await >= 1);
    assert!(metric(&app, "bantin_page_cache_bytes").await > 0);
    assert_eq!(
        metric(&app, "bantin_page_cache_max_bytes").await,
        WebSettings::default().page_cache_bytes
    );
}
