//! Found and connected, on both databases: absolute URLs from `public_url` or an allowed
//! `Host` (never a forged one, never into a cached page), the head of each page (Open Graph,
//! Twitter card, JSON-LD that parses and cannot be broken out of), RSS feeds read back with a
//! feed parser, sitemaps that only hold reachable articles, `robots.txt`, tag pages and the
//! print view.

use axum::http::StatusCode;
use bantin_core::{ArticleStatus, SanitizedHtml, Slug};
use bantin_web::WebSettings;

use crate::helpers::*;

const ORIGIN: &str = "https://cong.example.vn";

async fn with_public_url() -> TestApp {
    TestApp::with_settings(WebSettings {
        public_url: Some(ORIGIN.to_owned()),
        ..Default::default()
    })
    .await
}

/// Every JSON-LD block of a page, parsed.
fn json_ld(html: &str) -> Vec<serde_json::Value> {
    html.split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|rest| {
            let block = &rest[..rest.find("</script>").expect("the block ends")];
            serde_json::from_str(block).unwrap_or_else(|e| panic!("{e}: {block}"))
        })
        .collect()
}

fn all_of_type<'a>(blocks: &'a [serde_json::Value], ty: &str) -> Vec<&'a serde_json::Value> {
    let mut out = Vec::new();
    for b in blocks {
        match b {
            serde_json::Value::Array(items) => {
                out.extend(items.iter().filter(|i| i["@type"] == ty));
            }
            v if v["@type"] == ty => out.push(v),
            _ => {}
        }
    }
    out
}

/// Whether `xml` is well-formed, read to its end by an XML parser.
fn well_formed(xml: &str) -> bool {
    let mut r = quick_xml::Reader::from_str(xml);
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Eof) => return true,
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{xml}"),
        }
    }
}

fn draft(
    title: &str,
    category_id: bantin_core::CategoryId,
    at: bantin_core::UnixTime,
) -> bantin_store::NewArticle {
    bantin_store::NewArticle {
        title: title.to_owned(),
        slug: Slug::from_title("bai thu nghiem").unwrap(),
        lead: "Tóm tắt\u{1} có ký tự điều khiển.".to_owned(),
        body: SanitizedHtml::sanitize("<p>Nội dung.</p>"),
        image_url: Some("/media/samples/anh-mau-2.jpg".to_owned()),
        image_alt: "Ảnh".to_owned(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: String::new(),
        source: String::new(),
        tags: vec!["Thử nghiệm <b>".to_owned()],
        status: ArticleStatus::Published,
        publish_at: at,
        expire_at: None,
        category_id,
        extra_category_ids: vec![],
        options: Default::default(),
    }
}

#[tokio::test]
async fn the_seed_page_describes_itself_with_absolute_urls() {
    let app = with_public_url().await;
    let (seed_id, path) = app.seed().await;
    let image = app
        .store()
        .article(seed_id)
        .await
        .unwrap()
        .unwrap()
        .image_url
        .unwrap();
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    let url = format!("{ORIGIN}{path}");
    for expected in [
        format!(r#"<link rel="canonical" href="{url}">"#),
        format!(r#"<meta property="og:url" content="{url}">"#),
        r#"<meta property="og:type" content="article">"#.to_owned(),
        format!(r#"<meta property="og:image" content="{ORIGIN}{image}">"#),
        r#"<meta property="og:image:alt" content="DSC 5191">"#.to_owned(),
        r#"<meta property="article:published_time" content="2022-10-25T13:19:00+07:00">"#
            .to_owned(),
        r#"<meta property="article:section" content="Xây dựng Đảng">"#.to_owned(),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_owned(),
        format!(
            r#"<link rel="alternate" type="application/rss+xml" title="Xây dựng Đảng" href="{ORIGIN}/xay-dung-dang/rss.xml">"#
        ),
    ] {
        assert!(html.contains(&expected), "{expected} not in the head");
    }
    let blocks = json_ld(html);
    let article = all_of_type(&blocks, "NewsArticle");
    assert_eq!(article.len(), 1, "{blocks:#?}");
    let a = article[0];
    assert_eq!(
        a["headline"],
        "Đảng bộ Thành phố học tập và làm theo gương Bác"
    );
    assert_eq!(a["url"], url.as_str());
    assert_eq!(a["datePublished"], "2022-10-25T13:19:00+07:00");
    assert!(a["dateModified"].is_string());
    assert_eq!(a["image"][0], format!("{ORIGIN}{image}"));
    assert_eq!(a["author"]["@type"], "Person");
    assert_eq!(a["publisher"]["@type"], "Organization");
    assert!(
        a["publisher"]["logo"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{ORIGIN}/assets/logo."))
    );
    assert!(
        a.get("aggregateRating").is_none(),
        "no rating before any vote"
    );
    let crumbs = all_of_type(&blocks, "BreadcrumbList");
    let items = crumbs[0]["itemListElement"].as_array().unwrap();
    assert_eq!(items[0]["item"], format!("{ORIGIN}/"));
    assert_eq!(items.last().unwrap()["item"], url.as_str());
    for item in items {
        assert!(item["item"].as_str().unwrap().starts_with(ORIGIN));
    }

    // The home page: the organisation and the site with its search.
    let home = app.get("/").await.body;
    let blocks = json_ld(&home);
    let site = all_of_type(&blocks, "WebSite");
    assert_eq!(
        site[0]["potentialAction"]["target"]["urlTemplate"],
        format!("{ORIGIN}/search?q={{search_term_string}}")
    );
    assert_eq!(all_of_type(&blocks, "Organization").len(), 1);

    // Once rated, the rating is part of it.
    let token = between(html, r#"name="token" value=""#, "\"").to_owned();
    let seed = app.seed().await.0;
    let res = app
        .post_form(
            &format!("/rate/{seed}"),
            &format!("point=4&token={token}"),
            &[("accept", "application/json")],
            "198.51.100.140:4000",
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    app.settle().await;
    let blocks = json_ld(&app.get(&path).await.body);
    let rating = &all_of_type(&blocks, "NewsArticle")[0]["aggregateRating"];
    assert_eq!(rating["ratingCount"], 1);
    assert_eq!(rating["ratingValue"], 4.0);
    assert_eq!(rating["bestRating"], 5);
}

#[tokio::test]
async fn markup_in_a_title_cannot_break_out_of_json_ld() {
    let app = with_public_url().await;
    let cat = app.store().categories().await.unwrap()[0].id;
    let evil = "</script><script>alert(1)</script> & <!-- \u{2028} -->";
    let id = app
        .app()
        .create_article(
            &bantin_app::Actor::cli(),
            &draft(evil, cat, app.now().minus(60)),
        )
        .await
        .unwrap();
    app.settle().await;
    let a = app.store().article(id).await.unwrap().unwrap();
    let cat_slug = app
        .store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == a.category_id)
        .unwrap()
        .slug;
    let path = format!("/{cat_slug}/{}-{id}.html", a.slug);
    let html = app.get(&path).await.body;
    assert!(!html.contains("<script>alert(1)"), "never raw in the page");
    let blocks = json_ld(&html);
    let article = all_of_type(&blocks, "NewsArticle");
    assert_eq!(article[0]["headline"], evil, "the title survives, escaped");
}

#[tokio::test]
async fn absolute_urls_come_only_from_allowed_hosts() {
    let app = TestApp::with_demo().await;
    let (_, path) = app.seed().await;
    let allowed = app.get_with(&path, &[("host", "localhost:8080")]).await;
    assert!(
        allowed.body.contains(&format!(
            r#"<link rel="canonical" href="http://localhost:8080{path}">"#
        )),
        "an allowed host makes the absolute URLs"
    );
    // A forged host reaches no link, and no cached page: not its own, not the allowed one's.
    for _ in 0..2 {
        let forged = app.get_with(&path, &[("host", "evil.example")]).await;
        assert_eq!(forged.status, StatusCode::OK);
        assert!(!forged.body.contains("evil.example"));
        assert!(
            forged
                .body
                .contains(&format!(r#"<link rel="canonical" href="{path}">"#))
        );
    }
    let again = app.get_with(&path, &[("host", "localhost:8080")]).await;
    assert_eq!(again.body, allowed.body);
    for bad in [
        "evil.example",
        "localhost.evil.example",
        "localhost:80@evil",
        "local host",
    ] {
        let feed = app.get_with("/rss.xml", &[("host", bad)]).await;
        assert_eq!(feed.status, StatusCode::NOT_FOUND, "{bad}");
    }
    // Behind a TLS proxy that says so, the scheme is https.
    let proxied = TestApp::with_settings(WebSettings {
        trusted_proxy_hops: 1,
        allowed_hosts: vec!["cong.example.vn".to_owned()],
        ..Default::default()
    })
    .await;
    let page = proxied
        .get_with(
            &path,
            &[
                ("host", "cong.example.vn"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
    assert!(
        page.body
            .contains(&format!("https://cong.example.vn{path}"))
    );
    // With public_url the Host header does not matter.
    let fixed = with_public_url().await;
    let page = fixed.get_with(&path, &[("host", "evil.example")]).await;
    assert!(page.body.contains(&format!("{ORIGIN}{path}")) && !page.body.contains("evil"));
}

#[tokio::test]
async fn feeds_parse_back_and_follow_publication() {
    let app = with_public_url().await;
    // The pictures where `serve` puts them, so enclosures can give their size.
    for (path, bytes) in bantin_app::demo::media_files() {
        let dest = app.state.settings().media_dir.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
    let res = app.get("/rss.xml").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/rss+xml")
    );
    let feed = feed_rs::parser::parse(res.body.as_bytes()).expect("a valid feed");
    assert!(!feed.entries.is_empty() && feed.entries.len() <= 30);
    assert!(feed.title.unwrap().content.contains("Cổng thông tin"));
    for e in &feed.entries {
        assert!(!e.id.is_empty(), "a guid");
        assert!(e.links[0].href.starts_with(ORIGIN), "{:?}", e.links);
        assert!(e.published.is_some());
        assert!(e.title.is_some());
    }
    assert!(
        res.body
            .contains(&format!(r#"<atom:link href="{ORIGIN}/rss.xml" rel="self""#))
    );
    let seed = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content.contains("gương Bác"))
        .expect("the seed article is in the site feed");
    let (seed_id, _) = app.seed().await;
    let image = app
        .store()
        .article(seed_id)
        .await
        .unwrap()
        .unwrap()
        .image_url
        .unwrap();
    assert!(
        seed.media.iter().any(|m| m.content.iter().any(|c| c
            .url
            .as_ref()
            .is_some_and(|u| u.as_str() == format!("{ORIGIN}{image}")))),
        "{seed:#?}"
    );
    assert!(res.body.contains(r#"type="image/jpeg""#));
    assert!(
        !res.body.contains(r#"length="0""#),
        "local images have their size"
    );

    let cat = app.get("/xay-dung-dang/rss.xml").await;
    let cat_feed = feed_rs::parser::parse(cat.body.as_bytes()).expect("a valid category feed");
    assert!(
        cat_feed
            .entries
            .iter()
            .any(|e| e.title.as_ref().unwrap().content.contains("gương Bác"))
    );
    assert_eq!(
        app.get("/khong-co/rss.xml").await.status,
        StatusCode::NOT_FOUND
    );

    // A new article, with a control character and markup: in the feed once published (the
    // cached feed is purged), the character gone, the markup text.
    let category = app.store().categories().await.unwrap()[0].id;
    let mut a = draft("Bài <mới> & \u{7}nhất", category, app.now().minus(10));
    a.status = ArticleStatus::Draft;
    let id = app
        .app()
        .create_article(&bantin_app::Actor::cli(), &a)
        .await
        .unwrap();
    app.settle().await;
    assert!(
        !app.get("/rss.xml").await.body.contains("Bài &lt;mới&gt;"),
        "not while a draft"
    );
    app.set_status(id, ArticleStatus::Published).await;
    let body = app.get("/rss.xml").await.body;
    assert!(body.contains("Bài &lt;mới&gt; &amp; nhất"), "{body}");
    assert!(!body.contains('\u{7}') && !body.contains('\u{1}'));
    feed_rs::parser::parse(body.as_bytes()).expect("still valid");
}

#[tokio::test]
async fn sitemaps_list_only_what_readers_can_reach() {
    let app = with_public_url().await;
    let index = app.get("/sitemap.xml").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(well_formed(&index.body));
    for part in [
        "/sitemap-sections.xml",
        "/sitemap-news.xml",
        "/sitemap-articles-1.xml",
    ] {
        assert!(
            index.body.contains(&format!("<loc>{ORIGIN}{part}</loc>")),
            "{part}"
        );
    }
    let (seed, path) = app.seed().await;
    let articles = app.get("/sitemap-articles-1.xml").await.body;
    assert!(well_formed(&articles));
    assert!(articles.contains(&format!("<loc>{ORIGIN}{path}</loc>")));
    let image = app
        .store()
        .article(seed)
        .await
        .unwrap()
        .unwrap()
        .image_url
        .unwrap();
    assert!(articles.contains(&format!("<image:loc>{ORIGIN}{image}</image:loc>")));
    assert!(articles.contains("<lastmod>"));
    for missing in [
        "/sitemap-articles-2.xml",
        "/sitemap-articles-0.xml",
        "/sitemap-articles-01.xml",
        "/sitemap-articles-x.xml",
    ] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    // Unpublished or expired: gone from the sitemap at once.
    app.set_status(seed, ArticleStatus::Unpublished).await;
    let articles = app.get("/sitemap-articles-1.xml").await.body;
    assert!(
        !articles.contains(&path),
        "an unpublished article is not listed"
    );
    app.set_status(seed, ArticleStatus::Published).await;
    let a = app.store().article(seed).await.unwrap().unwrap();
    let v = bantin_core::Visibility {
        expire_at: Some(app.now().minus(1)),
        ..a.visibility()
    };
    app.app()
        .set_article_visibility(&bantin_app::Actor::cli(), seed, v)
        .await
        .unwrap();
    app.settle().await;
    assert!(
        !app.get("/sitemap-articles-1.xml")
            .await
            .body
            .contains(&path),
        "nor an expired one"
    );

    // News: the last 48 hours only.
    let category = app.store().categories().await.unwrap()[0].id;
    app.app()
        .create_article(
            &bantin_app::Actor::cli(),
            &draft("Tin hôm nay", category, app.now().minus(3600)),
        )
        .await
        .unwrap();
    app.settle().await;
    let news = app.get("/sitemap-news.xml").await.body;
    assert!(well_formed(&news));
    assert!(news.contains("<news:title>Tin hôm nay</news:title>"));
    assert!(!news.contains("gương Bác"), "2022 is not news");

    let sections = app.get("/sitemap-sections.xml").await.body;
    assert!(well_formed(&sections));
    assert!(sections.contains(&format!("<loc>{ORIGIN}/xay-dung-dang/</loc>")));
    assert!(sections.contains(&format!("<loc>{ORIGIN}/tag/")));
    assert!(
        !sections.contains("/thong-bao/"),
        "a hidden category is not listed"
    );

    let robots = app.get("/robots.txt").await;
    assert!(
        robots
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(robots.body.contains("Disallow: /admin/"));
    assert!(
        robots
            .body
            .contains(&format!("Sitemap: {ORIGIN}/sitemap.xml"))
    );
}

#[tokio::test]
async fn tag_pages_list_a_tags_articles_and_the_print_view_prints() {
    let app = with_public_url().await;
    let page = app.get("/tag/thanh-uy-cao-bang/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("gương Bác"));
    assert!(page.body.contains("Thành ủy Cao Bằng"));
    assert!(page.body.contains(&format!(
        r#"<link rel="canonical" href="{ORIGIN}/tag/thanh-uy-cao-bang/">"#
    )));
    assert_eq!(
        app.get("/tag/khong-co-tu-nay/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/tag/thanh-uy-cao-bang/?page=9").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/tag/Thanh-Uy/").await.status,
        StatusCode::NOT_FOUND
    );

    let (seed, path) = app.seed().await;
    let file = path.rsplit('/').next().unwrap();
    let print = app.get(&format!("/in/{file}")).await;
    assert_eq!(print.status, StatusCode::OK);
    let html = &print.body;
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(html.contains(&format!(r#"<link rel="canonical" href="{ORIGIN}{path}">"#)));
    assert_eq!(
        html.matches("<figcaption>").count(),
        3,
        "the photos with their captions"
    );
    assert!(
        html.contains(&format!("{ORIGIN}{path}")),
        "the source address is printed"
    );
    assert!(!html.contains("class=\"menu\""), "no site chrome");
    let moved = app.get(&format!("/in/sai-duong-dan-{seed}.html")).await;
    assert_eq!(moved.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(moved.location(), format!("/in/{file}"));
    app.set_status(seed, ArticleStatus::Unpublished).await;
    assert_eq!(
        app.get(&format!("/in/{file}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The article page links its print view and shares without third-party scripts.
    app.set_status(seed, ArticleStatus::Published).await;
    let page = app.get(&path).await.body;
    assert!(page.contains(&format!(r#"href="/in/{file}""#)));
    assert!(
        page.contains("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fcong.example.vn")
    );
    assert!(!page.contains("connect.facebook.net") && !page.contains("sp.zalo.me/plugins"));
}

#[tokio::test]
async fn paged_lists_link_their_neighbours() {
    let app = TestApp::with_settings(WebSettings {
        public_url: Some(ORIGIN.to_owned()),
        per_page: 2,
        ..Default::default()
    })
    .await;
    let page = app.get("/xay-dung-dang/?page=2").await.body;
    assert!(
        page.contains(&format!(
            r#"<link rel="prev" href="{ORIGIN}/xay-dung-dang/">"#
        )),
        "{page}"
    );
    assert!(page.contains(&format!(
        r#"<link rel="next" href="{ORIGIN}/xay-dung-dang/?page=3">"#
    )));
    assert!(page.contains(&format!(
        r#"<link rel="canonical" href="{ORIGIN}/xay-dung-dang/?page=2">"#
    )));
}

#[tokio::test]
async fn author_pages_list_an_author_lines_articles() {
    let app = with_public_url().await;
    let (seed, path) = app.seed().await;
    let page = app.get(&path).await.body;
    let author = between(&page, "<p class=\"author\">", "</p>");
    let href = between(author, "href=\"", "\"").to_owned();
    assert_eq!(
        href,
        "/tac-gia/d-c-ha-ngoc-giap-uvbtv-tinh-uy-bi-thu-thanh-uy-cao-bang/"
    );
    let list = app.get(&href).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Bài viết của Đ/c Hà Ngọc Giáp"));
    assert!(list.body.contains("gương Bác"));
    assert_eq!(
        app.get("/tac-gia/khong-ai/").await.status,
        StatusCode::NOT_FOUND
    );
    // Only what readers can reach: with the article unpublished the page has nothing to show.
    app.set_status(seed, ArticleStatus::Unpublished).await;
    assert_eq!(app.get(&href).await.status, StatusCode::NOT_FOUND);
    // Tags on the article page link to their pages.
    app.set_status(seed, ArticleStatus::Published).await;
    let page = app.get(&path).await.body;
    assert!(page.contains(r#"<a href="/tag/thanh-uy-cao-bang/" rel="tag">Thành ủy Cao Bằng</a>"#));
}
