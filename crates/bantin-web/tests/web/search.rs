//! Search as readers type it, on the demo content: without diacritics, either tone placement,
//! Telex left in, document numbers; highlighting; only what readers may see; changes reach
//! the index within a second; bad input is plain text; the database answers while the index
//! is built; a missing or corrupt index folder is rebuilt.

use std::time::Duration;

use bantin_app::{Actor, App};
use bantin_core::{ArticleId, ArticleStatus, ChangeId, SanitizedHtml, Slug};
use bantin_store::NewArticle;
use bantin_web::{AppState, WebSettings};

use crate::helpers::*;

/// The ids of the first page of `/api/v1/search?q=…`.
async fn ids(app: &TestApp, q: &str) -> Vec<i64> {
    let json = search_json(app, q).await;
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

async fn search_json(app: &TestApp, query: &str) -> serde_json::Value {
    let url = format!("/api/v1/search?q={}", encode(query));
    let res = app.get(&url).await;
    assert_eq!(res.status, 200, "{url}: {}", res.body);
    serde_json::from_str(&res.body).unwrap()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Waits (at most a second) until `q` finds `id` or not, as `present` says.
async fn within_a_second(app: &TestApp, q: &str, id: ArticleId, present: bool) {
    let start = std::time::Instant::now();
    loop {
        if ids(app, q).await.contains(&id.get()) == present {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{q:?}: article {id} {} after a second",
            if present { "not found" } else { "still found" }
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn queries_without_diacritics_find_the_seed_article_first() {
    let app = TestApp::with_demo().await;
    let (seed, _) = app.seed().await;
    for q in [
        "hoc tap lam theo guong bac",
        "Học tập và làm theo",
        "HOC TAP VA LAM THEO GUONG BAC",
        "đảng bộ thành phố học tập",
    ] {
        let found = ids(&app, q).await;
        assert_eq!(found.first(), Some(&seed.get()), "{q}: {found:?}");
    }
    let json = search_json(&app, "hoc tap lam theo guong bac").await;
    assert_eq!(json["indexed"], true);
    assert!(json["total"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn folded_syllables_and_tone_placements_match() {
    let app = TestApp::with_demo().await;
    let page = app.get("/search?q=dang+bo").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<mark>Đảng</mark> <mark>bộ</mark>"),
        "{}",
        page.body
    );

    let old = ids(&app, "hòa").await;
    assert!(!old.is_empty(), "\"Hòa Chung\" is in the demo content");
    assert_eq!(old, ids(&app, "hoà").await);
    assert_eq!(ids(&app, "Hòa Chung").await, ids(&app, "hoà chung").await);
}

#[tokio::test]
async fn exact_diacritics_rank_above_folded_matches() {
    let app = TestApp::with_demo().await;
    let now = app.now();
    let exact = app
        .add_article(
            "Lễ hội hoa ban nở rộ",
            ArticleStatus::Published,
            now.minus(60),
            None,
        )
        .await;
    let toned = app
        .add_article(
            "Lễ hội hòa nhạc mùa thu",
            ArticleStatus::Published,
            now.minus(60),
            None,
        )
        .await;
    app.state.search().wait_ready(Duration::from_secs(5)).await;
    within_a_second(&app, "le hoi", toned, true).await;
    let by_tone = ids(&app, "lễ hội hòa").await;
    assert_eq!(by_tone.first(), Some(&toned.get()), "{by_tone:?}");
    let plain = ids(&app, "lễ hội hoa").await;
    assert_eq!(plain.first(), Some(&exact.get()), "{plain:?}");
}

#[tokio::test]
async fn document_numbers_and_telex_find_what_they_mean() {
    let app = TestApp::with_demo().await;
    let (seed, _) = app.seed().await;
    let cited = ids(&app, "05-CT/TW").await;
    assert!(cited.contains(&seed.get()), "{cited:?}");
    for id in &cited {
        let a = app
            .store()
            .article(ArticleId::new(*id))
            .await
            .unwrap()
            .unwrap();
        let tags = app.store().article_tags(a.id).await.unwrap().join(" ");
        let all = format!("{} {} {} {tags}", a.title, a.lead, a.body().as_str());
        assert!(
            all.contains("05-CT/TW"),
            "article {id} does not cite 05-CT/TW"
        );
    }
    // A number it does not cite finds nothing, even though its parts are common.
    assert!(ids(&app, "99-CT/TW").await.is_empty());

    // The same articles, in the same order up to ties (scores add up in another order).
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let meant = search_json(&app, "học tập").await;
    assert!(meant["total"].as_u64().unwrap() > 0);
    for q in ["hocj taapj", "ho5c ta6p5", "hoc tap"] {
        let other = search_json(&app, q).await;
        assert_eq!(other["total"], meant["total"], "{q}");
        assert_eq!(other["results"][0]["id"], meant["results"][0]["id"], "{q}");
    }
    assert_eq!(
        sorted(ids(&app, "hocj taapj").await),
        sorted(ids(&app, "học tập").await)
    );
}

#[tokio::test]
async fn matched_words_are_highlighted_in_both_forms() {
    let app = TestApp::with_demo().await;
    for q in ["guong bac", "gương Bác", "guowng bacs"] {
        let page = app.get(&format!("/search?q={}", encode(q))).await;
        assert_eq!(page.status, 200);
        let results = between(&page.body, "<ol class=\"search-results\">", "</ol>");
        assert!(
            results.contains("<mark>gương</mark> <mark>Bác</mark>"),
            "{q}: {results}"
        );
        assert!(
            page.body.contains("search-count"),
            "{q}: the count is shown"
        );
    }
}

#[tokio::test]
async fn only_what_readers_may_see_is_found() {
    let app = TestApp::with_demo().await;
    let (seed, _) = app.seed().await;
    let now = app.now();
    let draft = app
        .add_article(
            "Bản nháp về chuyển đổi số",
            ArticleStatus::Draft,
            now.minus(60),
            None,
        )
        .await;
    let later = app
        .add_article(
            "Bài hẹn giờ về chuyển đổi số",
            ArticleStatus::Scheduled,
            now.plus(3600),
            None,
        )
        .await;
    let expiring = app
        .add_article(
            "Thông báo hết hạn về chuyển đổi số",
            ArticleStatus::Published,
            now.minus(60),
            Some(now.plus(600)),
        )
        .await;
    within_a_second(&app, "chuyen doi so", expiring, true).await;
    let found = ids(&app, "chuyen doi so").await;
    assert!(!found.contains(&draft.get()) && !found.contains(&later.get()));

    // Unpublished: gone within a second.
    app.set_status(seed, ArticleStatus::Unpublished).await;
    within_a_second(&app, "guong bac", seed, false).await;

    // Expired: gone as soon as its time passes, even before the index hears of it.
    app.advance(601);
    assert!(!ids(&app, "chuyen doi so").await.contains(&expiring.get()));

    // Scheduled: found once the scheduler publishes it.
    app.advance(3600);
    app.tick().await;
    within_a_second(&app, "chuyen doi so", later, true).await;
}

#[tokio::test]
async fn an_edit_is_searchable_within_a_second() {
    let app = TestApp::with_demo().await;
    let now = app.now();
    let id = app
        .add_article(
            "Tin ngắn buổi sáng",
            ArticleStatus::Published,
            now.minus(60),
            None,
        )
        .await;
    within_a_second(&app, "tin ngan buoi sang", id, true).await;
    let category_id = app.store().article(id).await.unwrap().unwrap().category_id;
    let edited = NewArticle {
        title: "Khánh thành cầu Bằng Giang mới".to_owned(),
        slug: Slug::from_title("Khánh thành cầu Bằng Giang mới").unwrap(),
        lead: "Cây cầu nối hai bờ sông.".to_owned(),
        body: SanitizedHtml::sanitize("<p>Nội dung mới.</p>"),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: String::new(),
        source: String::new(),
        tags: vec![],
        status: ArticleStatus::Published,
        publish_at: now.minus(60),
        expire_at: None,
        category_id,
        extra_category_ids: vec![],
        options: Default::default(),
    };
    app.app()
        .update_article(&Actor::cli(), id, &edited)
        .await
        .unwrap();
    app.settle().await;
    within_a_second(&app, "khanh thanh cau bang giang", id, true).await;
    within_a_second(&app, "tin ngan buoi sang", id, false).await;
}

#[tokio::test]
async fn category_and_date_filters_narrow_the_results() {
    let app = TestApp::with_demo().await;
    let (seed, _) = app.seed().await;
    let all = ids(&app, "dang").await;
    assert!(all.contains(&seed.get()));
    let in_cat = app.get("/api/v1/search?q=dang&cat=van-hoa-the-thao").await;
    let in_cat: serde_json::Value = serde_json::from_str(&in_cat.body).unwrap();
    assert!(
        in_cat["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["category_url"] == "/van-hoa-the-thao/"),
        "{in_cat}"
    );
    let future = app.get("/api/v1/search?q=dang&from=2999-01-01").await;
    let future: serde_json::Value = serde_json::from_str(&future.body).unwrap();
    assert_eq!(future["total"], 0);
    let past = app.get("/api/v1/search?q=dang&to=2000-01-01").await;
    let past: serde_json::Value = serde_json::from_str(&past.body).unwrap();
    assert_eq!(past["total"], 0);
}

#[tokio::test]
async fn pages_of_ten_and_a_search_box_everywhere() {
    let app = TestApp::with_demo().await;
    let json = search_json(&app, "thành phố").await;
    let total = json["total"].as_u64().unwrap();
    assert!(total > 10, "{total}");
    assert_eq!(json["results"].as_array().unwrap().len(), 10);
    let second = app
        .get(&format!("/api/v1/search?q={}&page=2", encode("thành phố")))
        .await;
    let second: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    let first_ids: Vec<_> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert!(
        second["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !first_ids.contains(&&r["id"]))
    );
    let page = app.get("/search?q=th%C3%A0nh+ph%E1%BB%91").await;
    assert!(page.body.contains("rel=\"next\""));
    for path in ["/", "/xay-dung-dang/", &app.seed().await.1] {
        let res = app.get(path).await;
        assert!(
            res.body.contains("action=\"/search\""),
            "{path} has a search box"
        );
    }
}

#[tokio::test]
async fn results_are_not_kept_in_the_page_cache() {
    let app = TestApp::with_demo().await;
    let res = app.get("/search?q=guong+bac").await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(
        res.header("etag").is_none(),
        "not served from the page cache"
    );
    assert_eq!(
        app.get("/api/v1/search?q=guong+bac")
            .await
            .header("cache-control"),
        Some("no-store")
    );
}

#[tokio::test]
async fn empty_short_and_overlong_queries_get_a_helpful_page() {
    let app = TestApp::with_demo().await;
    for (q, words) in [
        ("", "Nhập từ khóa"),
        ("%20%20", "Nhập từ khóa"),
        ("a", "quá ngắn"),
        (&"a".repeat(201), "quá dài"),
        ("zzzxxqqq", "Không tìm thấy"),
    ] {
        let res = app.get(&format!("/search?q={q}")).await;
        assert_eq!(res.status, 200, "{q}");
        assert!(res.body.contains(words), "{q}: {}", res.body);
    }
    assert_eq!(app.get("/search").await.status, 200);
}

#[tokio::test]
async fn bad_input_is_plain_text() {
    let app = TestApp::with_demo().await;
    let long = "học tập ".repeat(1300);
    let cases = [
        "title:Đảng",
        "guong AND bac OR",
        "*",
        "\"hoc tap",
        "guong~2 bac^3",
        "((dang bo)",
        "'; DROP TABLE articles; --",
        "1' OR '1'='1",
        "%_\\",
        "a\u{0}b\u{7}c\u{1b}[31m",
        "-05-CT/TW/",
        long.as_str(),
    ];
    for q in cases {
        for path in ["/search", "/api/v1/search"] {
            let res = app.get(&format!("{path}?q={}", encode(q))).await;
            assert_eq!(res.status, 200, "{path} {q:?}: {}", res.body);
        }
    }
    for raw in [
        "q=%ZZ%",
        "q=%C3",
        "q=%00%01",
        "q=a&q=b",
        "page=-1&q=dang",
        "page=99999&q=dang",
    ] {
        let res = app.get(&format!("/search?{raw}")).await;
        assert_eq!(res.status, 200, "{raw}");
    }
    // Syntax-looking queries find what their words find.
    let plain = ids(&app, "gương Bác").await;
    assert!(!plain.is_empty());
    for q in [
        "(gương* Bác)",
        "\"gương~ +Bác",
        "gương:Bác",
        "gương AND Bác",
    ] {
        let found = ids(&app, q).await;
        if q.contains("AND") {
            assert!(
                found.is_empty() || found.iter().all(|i| plain.contains(i)),
                "{q}"
            );
        } else {
            assert_eq!(found, plain, "{q}");
        }
    }
    assert!(
        app.store()
            .article(app.seed().await.0)
            .await
            .unwrap()
            .is_some()
    );
}

/// An application whose search index task is not running: searches answer from the database.
#[tokio::test]
async fn the_database_answers_while_the_index_is_built() {
    let (store, _db) = fresh_store().await;
    let settings = WebSettings::default();
    let app = App::new(store, bantin_core::Clock::manual(now()), policy(&settings));
    app.load_demo().await.unwrap();
    let state = AppState::new(app, settings, &[7u8; 64]).await.unwrap();
    assert!(!state.search().ready());
    let router = bantin_web::router(state.clone());
    let req = axum::http::Request::get(format!("/api/v1/search?q={}", encode("gương Bác")))
        .extension(axum::extract::ConnectInfo(
            "203.0.113.7:5000".parse::<std::net::SocketAddr>().unwrap(),
        ))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["indexed"], false);
    assert!(json["total"].as_u64().unwrap() >= 1, "{json}");
    assert!(
        json["results"][0]["title_html"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{json}"
    );
    // Once the index is built, it answers.
    tokio::spawn(state.search().clone().run());
    assert!(state.search().wait_ready(Duration::from_secs(10)).await);
}

/// An index folder survives a restart (and catches up with what changed meanwhile); a
/// corrupt one is rebuilt.
#[tokio::test]
async fn the_index_folder_is_reused_caught_up_or_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store, settings, _db) = demo_with_index_folder(&dir, |_| {}).await;

    let open = |settings: WebSettings| {
        let app = app.clone();
        async move {
            let state = AppState::new(app, settings, &[7u8; 64]).await.unwrap();
            let task = tokio::spawn(state.search().clone().run());
            (state, task)
        }
    };
    let count = |state: AppState, q: &'static str| async move { found(&state, q).await };

    let (first, task) = open(settings.clone()).await;
    assert!(!first.search().ready(), "a new folder is built first");
    assert!(first.search().wait_ready(Duration::from_secs(10)).await);
    assert!(count(first.clone(), "guong bac").await.0 >= 1);
    task.abort();
    let _ = task.await;
    drop(first);

    // While no process runs, an article is published.
    let id = app
        .create_article(
            &Actor::cli(),
            &NewArticle {
                title: "Hội thi cắm trại xuyên Việt".to_owned(),
                slug: Slug::from_title("Hội thi cắm trại xuyên Việt").unwrap(),
                lead: String::new(),
                body: SanitizedHtml::sanitize("<p>Nội dung.</p>"),
                image_url: None,
                image_alt: String::new(),
                image_caption: String::new(),
                meta_description: String::new(),
                author: String::new(),
                source: String::new(),
                tags: vec![],
                status: ArticleStatus::Published,
                publish_at: app.now().minus(60),
                expire_at: None,
                category_id: store.categories().await.unwrap()[0].id,
                extra_category_ids: vec![],
                options: Default::default(),
            },
        )
        .await
        .unwrap();
    let _ = id;

    let (second, task) = open(settings.clone()).await;
    assert!(second.search().ready(), "an index on disk answers at once");
    let start = std::time::Instant::now();
    while count(second.clone(), "cam trai xuyen viet").await.0 == 0 {
        assert!(start.elapsed() < Duration::from_secs(2), "caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    drop(second);

    // A corrupt folder is rebuilt in the background.
    std::fs::write(dir.path().join("search").join("meta.json"), b"{not json").unwrap();
    let (third, _task) = open(settings).await;
    assert!(!third.search().ready());
    assert!(third.search().wait_ready(Duration::from_secs(10)).await);
    assert_eq!(count(third.clone(), "cam trai xuyen viet").await, (1, true));
}

/// A rebuild leaves one segment: otherwise the first edit afterwards merges the whole index
/// while readers are served (at 100,000 articles, 140 MB of index files mapped at once).
#[tokio::test]
async fn a_rebuilt_index_is_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    // Two indexing threads write a segment each.
    let (app, _store, settings, _db) =
        demo_with_index_folder(&dir, |s| s.search.writer_threads = 2).await;
    let state = AppState::new(app, settings, &[7u8; 64]).await.unwrap();
    let search = state.search();
    let n = search.rebuild(&|_, _| {}).await.unwrap();
    assert!(n >= 10, "demo content indexed: {n}");
    assert_eq!(search.segments(), 1);
    let (total, indexed) = found(&state, "guong bac").await;
    assert!(indexed && total >= 1);
}

/// A vote changes nothing the index holds: the index records its place in the feed with the
/// next real update, or after `save_place_after`, instead of a commit per vote.
#[tokio::test]
async fn votes_do_not_commit_the_index_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = WebSettings::default();
    settings.search.dir = Some(dir.path().join("search"));
    settings.search.save_place_after = Duration::from_secs(4);
    let app = TestApp::with_settings(settings).await;
    let search = app.state.search();
    assert!(search.wait_ready(Duration::from_secs(20)).await);
    let (seed, _) = app.seed().await;
    let vote = |voter: &'static str| {
        app.app().vote(bantin_app::VoteRequest {
            article: seed,
            voter,
            ip_hash: voter,
            rating: bantin_core::Rating::new(4).unwrap(),
        })
    };
    vote("v1").await.unwrap();
    app.settle().await;
    let voted = app.store().last_change_id().await.unwrap();
    let saved = || search.saved_through().unwrap().unwrap_or(ChangeId::new(0));
    // Well inside `save_place_after`: not committed for the vote.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(saved() < voted, "{:?} < {voted:?}", saved());
    // Then it is, without another change.
    assert!(
        eventually(Duration::from_secs(20), || saved() >= voted).await,
        "{:?} ≥ {voted:?}",
        saved()
    );
    // An article change commits at once, with the votes before it.
    vote("v2").await.unwrap();
    let id = app
        .add_article(
            "Tin vừa đăng",
            ArticleStatus::Published,
            app.now().minus(60),
            None,
        )
        .await;
    app.settle().await;
    let added = app.store().last_change_id().await.unwrap();
    within_a_second(&app, "tin vua dang", id, true).await;
    assert!(
        eventually(Duration::from_secs(2), || saved() >= added).await,
        "{:?} ≥ {added:?}",
        saved()
    );
}

/// Whether `done` holds within `limit`, asked every 50 ms.
async fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// The demo content in a fresh database, and settings (changed by `tune`) that keep the
/// search index in `dir`.
async fn demo_with_index_folder(
    dir: &tempfile::TempDir,
    tune: impl FnOnce(&mut WebSettings),
) -> (App, bantin_store::Store, WebSettings, TestDb) {
    let (store, db) = fresh_store().await;
    let mut settings = WebSettings::default();
    settings.search.dir = Some(dir.path().join("search"));
    tune(&mut settings);
    let app = App::new(
        store.clone(),
        bantin_core::Clock::system(),
        policy(&settings),
    );
    app.load_demo().await.unwrap();
    (app, store, settings, db)
}

/// How many articles the search service finds for `q`, and whether its index answered.
async fn found(state: &AppState, q: &str) -> (usize, bool) {
    let r = state
        .search()
        .search(&bantin_search::Request {
            text: q,
            filter: Default::default(),
            now: state.now(),
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap();
    (r.total, r.indexed)
}
