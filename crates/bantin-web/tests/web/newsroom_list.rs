//! The newsroom's list and dashboard over HTTP, on both databases: bulk actions decided by the
//! rules article by article, filters by author and date with sorting, "who must act next" on
//! the dashboard, and forms sent twice (a double click, the back button) making one article
//! and one save; slugs kept unique.

use axum::http::StatusCode;
use bantin_core::account::Role;
use bantin_core::{ArticleId, ArticleStatus, CategoryId};

use crate::helpers::*;

/// A new article's form as the page gives it, filled in: its CSRF token and form key kept.
async fn new_form(
    a: &mut Agent<'_>,
    cat: CategoryId,
    title: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = a.get("/admin/articles/new").await;
    assert_eq!(page.status, StatusCode::OK);
    let key = between(&page.body, "name=\"form_key\" value=\"", "\"").to_owned();
    assert_eq!(key.len(), 32, "the new-article form carries its own key");
    let mut f: Vec<(String, String)> = [
        ("csrf", csrf_of(&page.body)),
        ("form_key", key),
        ("title", title.to_owned()),
        ("slug", String::new()),
        ("lead", "Tóm tắt.".to_owned()),
        ("body", "<p>Nội dung.</p>".to_owned()),
        ("category", cat.to_string()),
        ("tags", String::new()),
        ("author", "Phóng viên".to_owned()),
        ("publish_at", String::new()),
        ("expiry_action", "archive".to_owned()),
        ("allow_rating", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        f.retain(|(key, _)| key != k);
        f.push(((*k).to_owned(), (*v).to_owned()));
    }
    f
}

async fn send(a: &mut Agent<'_>, path: &str, f: &[(String, String)]) -> TestResponse {
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    a.post(path, &f).await
}

fn id_of(location: &str) -> ArticleId {
    let id = location
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    ArticleId::new(id.parse().unwrap())
}

async fn create(
    a: &mut Agent<'_>,
    cat: CategoryId,
    title: &str,
    extra: &[(&str, &str)],
) -> ArticleId {
    let f = new_form(a, cat, title, extra).await;
    let res = send(a, "/admin/articles", &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    id_of(res.location())
}

async fn count_titled(app: &TestApp, title: &str) -> usize {
    let f = bantin_store::ArticleFilter {
        title: Some(title.to_owned()),
        ..Default::default()
    };
    app.store()
        .newsroom_articles(&f, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.title == title)
        .count()
}

#[tokio::test]
async fn a_form_sent_twice_makes_one_article_and_one_save() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    let cat = category(&app, "xay-dung-dang").await;
    let mut a = Agent::new(&app, "198.51.100.120:4000");
    a.sign_in("bientap", PASSWORD).await;

    let f = new_form(&mut a, cat, "Bấm đúp vào nút tạo", &[]).await;
    let first = send(&mut a, "/admin/articles", &f).await;
    let second = send(&mut a, "/admin/articles", &f).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.location(),
        second.location(),
        "the same article both times"
    );
    assert_eq!(count_titled(&app, "Bấm đúp vào nút tạo").await, 1);
    // A second page of the form is a second article.
    create(&mut a, cat, "Bấm đúp vào nút tạo", &[]).await;
    assert_eq!(count_titled(&app, "Bấm đúp vào nút tạo").await, 2);

    // The same save sent twice from one revision: both answers say saved; a different text
    // from that revision is stale.
    let id = id_of(first.location());
    let edit = format!("/admin/articles/{id}");
    let page = a.get(&edit).await;
    let revision = between(&page.body, "name=\"revision\" value=\"", "\"").to_owned();
    let mut save = new_form(
        &mut a,
        cat,
        "Bấm đúp vào nút lưu",
        &[("body", "<p>Sửa một lần.</p>")],
    )
    .await;
    save.retain(|(k, _)| k != "form_key");
    save.push(("revision".to_owned(), revision.clone()));
    let r1 = send(&mut a, &edit, &save).await;
    let r2 = send(&mut a, &edit, &save).await;
    assert_eq!(r1.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r2.status,
        StatusCode::SEE_OTHER,
        "a repeated save is no conflict"
    );
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(
        stored.revision,
        revision.parse::<i64>().unwrap() + 1,
        "saved once"
    );
    let mut other = save.clone();
    other.retain(|(k, _)| k != "body");
    other.push(("body".to_owned(), "<p>Một bản khác.</p>".to_owned()));
    let r3 = send(&mut a, &edit, &other).await;
    assert_eq!(
        r3.status,
        StatusCode::CONFLICT,
        "another text from an old revision is stale"
    );
    assert!(r3.body.contains("Một bản khác."), "and kept in the form");
}

#[tokio::test]
async fn slugs_are_unique_numbered_when_made_refused_when_typed() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    let cat = category(&app, "xay-dung-dang").await;
    let mut a = Agent::new(&app, "198.51.100.121:4000");
    a.sign_in("bientap", PASSWORD).await;

    let one = create(&mut a, cat, "Thông báo lịch họp", &[]).await;
    let two = create(&mut a, cat, "Thông báo lịch họp", &[]).await;
    let slug = |id| {
        let app = &app;
        async move { app.store().article(id).await.unwrap().unwrap().slug }
    };
    assert_eq!(slug(one).await, "thong-bao-lich-hop");
    assert_eq!(slug(two).await, "thong-bao-lich-hop-2");

    // Typed and taken: the form comes back with the problem next to the slug.
    let f = new_form(
        &mut a,
        cat,
        "Một thông báo khác",
        &[("slug", "thong-bao-lich-hop")],
    )
    .await;
    let res = send(&mut a, "/admin/articles", &f).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("id=\"slug-error\""), "{}", res.body);
    assert!(
        res.body.contains("Một thông báo khác"),
        "what was typed is kept"
    );

    // Saving an article under its own slug is no clash; taking another's is.
    let edit = format!("/admin/articles/{one}");
    let page = a.get(&edit).await;
    let revision = between(&page.body, "name=\"revision\" value=\"", "\"").to_owned();
    let mut save = new_form(
        &mut a,
        cat,
        "Thông báo lịch họp",
        &[("slug", "thong-bao-lich-hop")],
    )
    .await;
    save.push(("revision".to_owned(), revision));
    assert_eq!(
        send(&mut a, &edit, &save).await.status,
        StatusCode::SEE_OTHER
    );
    let page = a.get(&edit).await;
    let revision = between(&page.body, "name=\"revision\" value=\"", "\"").to_owned();
    let mut save = new_form(
        &mut a,
        cat,
        "Thông báo lịch họp",
        &[("slug", "thong-bao-lich-hop-2")],
    )
    .await;
    save.push(("revision".to_owned(), revision));
    assert_eq!(
        send(&mut a, &edit, &save).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn bulk_actions_are_decided_article_by_article() {
    let app = TestApp::with_demo().await;
    let cat = category(&app, "xay-dung-dang").await;
    app.add_user("bientap", Role::Editor).await;
    app.add_user("bientap2", Role::Editor).await;
    app.add_user("bientapchinh", Role::EditorInChief).await;
    let mut ed = Agent::new(&app, "198.51.100.122:4000");
    ed.sign_in("bientap", PASSWORD).await;
    let mut ed2 = Agent::new(&app, "198.51.100.123:4000");
    ed2.sign_in("bientap2", PASSWORD).await;
    let mine1 = create(&mut ed, cat, "Bài hàng loạt một", &[]).await;
    let mine2 = create(&mut ed, cat, "Bài hàng loạt hai", &[]).await;
    let theirs = create(&mut ed2, cat, "Bài của người khác", &[]).await;

    // The editor is offered only what an editor may do.
    let list = ed.get("/admin/articles?status=draft").await;
    assert!(list.body.contains("id=\"bulk\""));
    assert!(list.body.contains("value=\"submit\""));
    assert!(
        !list.body.contains("value=\"approve\""),
        "no publishing for an editor"
    );
    let csrf = csrf_of(&list.body);
    let (m1, m2, t) = (mine1.to_string(), mine2.to_string(), theirs.to_string());
    let res = ed
        .post(
            "/admin/articles/bulk",
            &[
                ("csrf", &csrf),
                ("action", "submit"),
                ("id", &m1),
                ("id", &m2),
                ("id", &t),
                ("back", "status=draft&sort=title&evil=https://x.example/"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let back = res.location().to_owned();
    assert!(back.starts_with("/admin/articles?"), "{back}");
    assert!(
        back.contains("status=draft") && back.contains("sort=title"),
        "{back}"
    );
    assert!(
        !back.contains("evil"),
        "only the list's own keys go back: {back}"
    );
    assert!(back.contains("xong=2") && back.contains("loi=1"), "{back}");
    let page = ed.get(&back).await;
    assert!(page.body.contains("id=\"bulk-done\""));
    for (id, status) in [
        (mine1, ArticleStatus::Pending),
        (mine2, ArticleStatus::Pending),
        (theirs, ArticleStatus::Draft),
    ] {
        assert_eq!(
            app.store().article(id).await.unwrap().unwrap().status(),
            status
        );
    }
    // Sent anyway, an action the editor may not take changes nothing.
    let res = ed
        .post(
            "/admin/articles/bulk",
            &[
                ("csrf", &csrf),
                ("action", "approve"),
                ("id", &m1),
                ("id", &m2),
            ],
        )
        .await;
    assert!(res.location().contains("xong=0") && res.location().contains("loi=2"));
    // Without a token, or with an action the list does not offer, nothing happens.
    let res = ed
        .post("/admin/articles/bulk", &[("action", "submit"), ("id", &t)])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = ed
        .post(
            "/admin/articles/bulk",
            &[("csrf", &csrf), ("action", "reject"), ("id", &m1)],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    let mut chief = Agent::new(&app, "198.51.100.124:4000");
    chief.sign_in("bientapchinh", PASSWORD).await;
    let csrf = chief.csrf().await;
    let res = chief
        .post(
            "/admin/articles/bulk",
            &[
                ("csrf", &csrf),
                ("action", "approve"),
                ("id", &m1),
                ("id", &m2),
            ],
        )
        .await;
    assert!(res.location().contains("xong=2"), "{}", res.location());
    assert_eq!(
        app.store().article(mine1).await.unwrap().unwrap().status(),
        ArticleStatus::Published
    );
}

#[tokio::test]
async fn the_list_filters_by_author_and_dates_and_sorts() {
    let app = TestApp::with_demo().await;
    let cat = category(&app, "xay-dung-dang").await;
    let me = app.add_user("bientap", Role::Editor).await;
    app.add_user("bientap2", Role::Editor).await;
    let mut ed = Agent::new(&app, "198.51.100.125:4000");
    ed.sign_in("bientap", PASSWORD).await;
    let mut ed2 = Agent::new(&app, "198.51.100.126:4000");
    ed2.sign_in("bientap2", PASSWORD).await;
    create(
        &mut ed,
        cat,
        "Bài B tháng ba",
        &[("publish_at", "2024-03-10T08:00")],
    )
    .await;
    create(
        &mut ed,
        cat,
        "Bài A tháng năm",
        &[("publish_at", "2024-05-01T00:00")],
    )
    .await;
    create(
        &mut ed2,
        cat,
        "Bài C tháng tư",
        &[("publish_at", "2024-04-30T23:59")],
    )
    .await;

    let list = ed
        .get("/admin/articles?from=2024-04-01&to=2024-04-30")
        .await;
    assert!(
        list.body.contains("Bài C tháng tư"),
        "the last minute of the 'to' day is in"
    );
    assert!(!list.body.contains("Bài A tháng năm") && !list.body.contains("Bài B tháng ba"));
    assert!(
        list.body.contains("value=\"2024-04-01\""),
        "the filter is shown as understood"
    );

    let list = ed
        .get(&format!("/admin/articles?author={me}&sort=title"))
        .await;
    let (a, b) = (
        list.body.find("Bài A tháng năm").unwrap(),
        list.body.find("Bài B tháng ba").unwrap(),
    );
    assert!(a < b, "sorted by title");
    assert!(!list.body.contains("Bài C tháng tư"), "only this author's");
    let list = ed
        .get("/admin/articles?from=2024-01-01&to=2024-12-31&sort=oldest")
        .await;
    let (b, c, a) = (
        list.body.find("Bài B tháng ba").unwrap(),
        list.body.find("Bài C tháng tư").unwrap(),
        list.body.find("Bài A tháng năm").unwrap(),
    );
    assert!(b < c && c < a, "oldest publish time first");

    // Nonsense in the query is ignored, never an error.
    for q in [
        "from=2024-13-45",
        "to=yesterday",
        "sort=drop",
        "author=abc",
        "author=-1&from=&to=",
    ] {
        let res = ed.get(&format!("/admin/articles?{q}")).await;
        assert_eq!(res.status, StatusCode::OK, "{q}");
    }
}

#[tokio::test]
async fn the_dashboard_shows_who_must_act_next() {
    let app = TestApp::with_demo().await;
    let cat = category(&app, "xay-dung-dang").await;
    let other = app
        .app()
        .create_category(
            &bantin_app::Actor::cli(),
            &bantin_app::CategoryDraft {
                parent: None,
                slug: bantin_core::Slug::parse("the-thao").unwrap(),
                title: "Thể thao".to_owned(),
                description: String::new(),
                position: 9,
                status: bantin_core::CategoryStatus::Active,
            },
        )
        .await
        .unwrap();
    app.add_user("bientap", Role::Editor).await;
    app.add_user_in("bientapchinh", Role::EditorInChief, &[cat])
        .await;
    app.add_user_in("bientapthethao", Role::EditorInChief, &[other])
        .await;
    let mut ed = Agent::new(&app, "198.51.100.127:4000");
    ed.sign_in("bientap", PASSWORD).await;
    let sent = create(&mut ed, cat, "Bài gửi duyệt", &[]).await;
    let back = create(&mut ed, cat, "Bài bị trả lại", &[]).await;
    create(&mut ed, cat, "Bài còn nháp", &[]).await;
    let csrf = ed.csrf().await;
    for id in [sent, back] {
        let res = ed
            .post(
                &format!("/admin/articles/{id}/action"),
                &[("csrf", &csrf), ("action", "submit")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    }

    let mut chief = Agent::new(&app, "198.51.100.128:4000");
    chief.sign_in("bientapchinh", PASSWORD).await;
    let dash = chief.get("/admin").await;
    let review = between(&dash.body, "id=\"act-review\"", "</section>");
    assert!(
        review.contains("Bài gửi duyệt") && review.contains("Bài bị trả lại"),
        "{review}"
    );
    let csrf = chief.csrf().await;
    let res = chief
        .post(
            &format!("/admin/articles/{back}/action"),
            &[
                ("csrf", &csrf),
                ("action", "reject"),
                ("reason", "Thiếu nguồn <ảnh>"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);

    // The reviewer of another category has nothing to review here.
    let mut sport = Agent::new(&app, "198.51.100.129:4000");
    sport.sign_in("bientapthethao", PASSWORD).await;
    let dash = sport.get("/admin").await;
    assert!(
        !dash.body.contains("Bài gửi duyệt"),
        "not in this reviewer's categories"
    );

    let dash = ed.get("/admin").await;
    let rejected = between(&dash.body, "id=\"act-rejected\"", "</section>");
    assert!(
        rejected.contains("Bài bị trả lại"),
        "the writer must act: {rejected}"
    );
    assert!(
        rejected.contains("Thiếu nguồn &lt;ảnh&gt;"),
        "with the reason, escaped"
    );
    let drafts = between(&dash.body, "id=\"act-drafts\"", "</section>");
    assert!(drafts.contains("Bài còn nháp"));
    let submitted = between(&dash.body, "id=\"act-submitted\"", "</section>");
    assert!(submitted.contains("Bài gửi duyệt"));
    assert!(
        !dash.body.contains("id=\"act-review\""),
        "an editor reviews nothing"
    );
}

#[tokio::test]
async fn embedded_frames_follow_the_embed_hosts_setting() {
    let settings = bantin_web::WebSettings {
        embeds: bantin_core::EmbedHosts::parse("https://player.vimeo.com/video/").unwrap(),
        ..Default::default()
    };
    let app = TestApp::with_settings(settings).await;
    let csp = app
        .get("/")
        .await
        .header("content-security-policy")
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-src https://player.vimeo.com;"), "{csp}");
    assert!(!csp.contains("youtube"), "{csp}");
    app.add_user("bientap", Role::Editor).await;
    let cat = category(&app, "xay-dung-dang").await;
    let mut a = Agent::new(&app, "198.51.100.130:4000");
    a.sign_in("bientap", PASSWORD).await;
    let body = r#"<iframe src="https://player.vimeo.com/video/76979871"></iframe><iframe src="https://www.youtube.com/embed/x"></iframe>"#;
    let id = create(&mut a, cat, "Bài có video", &[("body", body)]).await;
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert!(
        stored
            .body()
            .as_str()
            .contains("player.vimeo.com/video/76979871")
    );
    assert!(
        !stored.body().as_str().contains("youtube"),
        "{}",
        stored.body().as_str()
    );

    let none = bantin_web::WebSettings {
        embeds: bantin_core::EmbedHosts::none(),
        ..Default::default()
    };
    let app = TestApp::with_settings(none).await;
    let csp = app
        .get("/")
        .await
        .header("content-security-policy")
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-src 'none'"), "{csp}");
}
