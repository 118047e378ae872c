//! An article's history over HTTP, on both databases: the timeline of revisions with who,
//! when and why in words (a rejection with its reason); two revisions side by side with the
//! changed words marked, everything typed shown as text; restoring an earlier revision as a
//! new one (a save's rights, a stale page refused, readers' cached pages purged); and the
//! refusals: other categories, unknown or foreign revision numbers, forged forms.

use axum::http::StatusCode;
use bantin_app::{Actor, NewAccount, ProfileChange};
use bantin_core::account::{DisplayName, Email, NewPassword, Role, Username};
use bantin_core::{ArticleId, ArticleStatus, CategoryId};

use crate::helpers::*;

/// Creates an account with a display name of its own, limited to `categories` (all if empty).
async fn account(
    app: &TestApp,
    username: &str,
    display: &str,
    role: Role,
    categories: &[CategoryId],
) {
    let account = NewAccount {
        username: Username::parse(username).unwrap(),
        password: NewPassword::parse(PASSWORD).unwrap(),
        profile: ProfileChange {
            display_name: DisplayName::parse(display).unwrap(),
            email: Email::default(),
            role,
            all_categories: categories.is_empty(),
            categories: categories.to_vec(),
        },
    };
    app.app()
        .create_account(&Actor::cli(), account)
        .await
        .unwrap();
}

/// The edit form's fields for `title` and `body` in category `category`.
fn fields(category: &str, title: &str, body: &str) -> Vec<(String, String)> {
    [
        ("title", title),
        ("slug", ""),
        ("lead", "Tóm tắt bài viết."),
        ("body", body),
        ("category", category),
        ("tags", "Lịch sử"),
        ("author", "Phóng viên"),
        ("source", ""),
        ("image_url", ""),
        ("image_alt", ""),
        ("image_caption", ""),
        ("publish_at", ""),
        ("expire_at", ""),
        ("expiry_action", "archive"),
        ("allow_rating", "1"),
        ("show_on_home", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn post_fields(a: &mut Agent<'_>, path: &str, f: &[(String, String)]) -> TestResponse {
    let csrf = a.csrf().await;
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    all.extend(f.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    a.post(path, &all).await
}

/// Creates an article through the form; returns its id.
async fn create(a: &mut Agent<'_>, category: &str, title: &str, body: &str) -> ArticleId {
    let res = post_fields(a, "/admin/articles", &fields(category, title, body)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = res
        .location()
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    ArticleId::new(id.parse().unwrap())
}

/// Saves the form over article `id` from its current revision.
async fn save(a: &mut Agent<'_>, id: ArticleId, category: &str, title: &str, body: &str) {
    let revision = a
        .app
        .store()
        .article(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let mut f = fields(category, title, body);
    f.push(("revision".to_owned(), revision));
    let res = post_fields(a, &format!("/admin/articles/{id}"), &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

async fn act(a: &mut Agent<'_>, id: ArticleId, action: &str, reason: &str) {
    let csrf = a.csrf().await;
    let res = a
        .post(
            &format!("/admin/articles/{id}/action"),
            &[("csrf", &csrf), ("action", action), ("reason", reason)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{action}: {}", res.body);
}

async fn restore(a: &mut Agent<'_>, id: ArticleId, revision: i64, base: i64) -> TestResponse {
    let csrf = a.csrf().await;
    a.post(
        &format!("/admin/articles/{id}/restore"),
        &[
            ("csrf", &csrf),
            ("revision", &revision.to_string()),
            ("base", &base.to_string()),
        ],
    )
    .await
}

async fn revision(app: &TestApp, id: ArticleId) -> i64 {
    app.store().article(id).await.unwrap().unwrap().revision
}

#[tokio::test]
async fn the_history_lists_every_revision_and_the_diff_marks_changed_words() {
    let app = TestApp::with_demo().await;
    account(&app, "bientap", "Nguyễn Thị Biên", Role::Editor, &[]).await;
    account(&app, "duyetbai", "Trần Văn Duyệt", Role::EditorInChief, &[]).await;
    let cat = category(&app, "xay-dung-dang").await.to_string();
    let mut editor = Agent::new(&app, "198.51.100.140:4000");
    editor.sign_in("bientap", PASSWORD).await;
    let mut chief = Agent::new(&app, "198.51.100.141:4000");
    chief.sign_in("duyetbai", PASSWORD).await;

    let id = create(
        &mut editor,
        &cat,
        "Hội nghị tổng kết",
        "<p>Hôm nay trời mưa to.</p><p>Đoạn giữ nguyên.</p>",
    )
    .await;
    app.advance(60);
    save(
        &mut editor,
        id,
        &cat,
        "Hội nghị tổng kết năm",
        "<p>Hôm nay trời nắng to.</p><p>Đoạn giữ nguyên.</p><p>Đoạn mới thêm.</p>",
    )
    .await;
    app.advance(60);
    save(
        &mut editor,
        id,
        &cat,
        "Hội nghị tổng kết năm 2026",
        "<p>Hôm nay trời nắng to.</p><p>Đoạn giữ nguyên.</p><p>Đoạn mới thêm.</p>",
    )
    .await;
    app.advance(60);
    act(&mut editor, id, "submit", "").await;
    app.advance(60);
    act(&mut chief, id, "reject", "Cần bổ sung số liệu").await;
    assert_eq!(revision(&app, id).await, 5);

    // The edit page links to the history, and the history back to it.
    let edit = editor.get(&format!("/admin/articles/{id}")).await;
    assert!(
        edit.body
            .contains(&format!("href=\"/admin/articles/{id}/history\""))
    );
    let page = editor.get(&format!("/admin/articles/{id}/history")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("href=\"/admin/articles/{id}\""))
    );
    let table = between(&page.body, "<tbody>", "</tbody>");
    assert_eq!(table.matches("<tr").count(), 5, "{table}");
    let text = text_of(table);
    for want in [
        "Nguyễn Thị Biên",
        "Trần Văn Duyệt",
        "Tạo bài",
        "Lưu nội dung",
        "Gửi duyệt",
        "Trả lại",
        "Cần bổ sung số liệu",
        "Bản nháp",
        "Chờ duyệt",
        "Bị trả lại",
        "Hội nghị tổng kết năm 2026",
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    // Newest first, each with its Vietnamese date.
    let first = text.find("Trả lại").unwrap();
    let last = text.find("Tạo bài").unwrap();
    assert!(first < last, "{text}");
    let created = bantin_core::format_date_time(app.now().minus(240), &app.state.settings().zone);
    assert!(text.contains(&created), "{created} in {text}");
    // Revisions 4 and 5 are preselected for comparison.
    assert!(
        page.body
            .contains("name=\"a\" value=\"4\" aria-label=\"A: 4\" checked")
    );
    assert!(
        page.body
            .contains("name=\"b\" value=\"5\" aria-label=\"B: 5\" checked")
    );

    // Revision 1 beside revision 3: the changed words marked, the unchanged line shown once
    // per side, the added paragraph on the right only.
    let diff = editor
        .get(&format!("/admin/articles/{id}/diff?a=1&b=3"))
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    let body = between(&diff.body, "id=\"diff\"", "</section>");
    assert!(body.contains("<del>mưa</del>"), "{body}");
    assert!(body.contains("<ins>nắng</ins>"), "{body}");
    assert!(body.contains("<ins>Đoạn mới thêm.</ins>"), "{body}");
    assert!(body.contains("Đoạn giữ nguyên."));
    assert!(body.contains("<ins> năm 2026</ins>") || body.contains("<ins>năm 2026</ins>"));
    assert!(text_of(body).contains("Tiêu đề"));
    assert!(
        !text_of(body).contains("Tác giả"),
        "unchanged fields are left out"
    );
    // Revision 3 and 4 hold the same content but the status.
    let diff = editor
        .get(&format!("/admin/articles/{id}/diff?a=3&b=4"))
        .await;
    let body = between(&diff.body, "id=\"diff\"", "</section>");
    assert!(body.contains("<del>Bản nháp</del>"), "{body}");
    assert!(body.contains("<ins>Chờ duyệt</ins>"), "{body}");
    let same = editor
        .get(&format!("/admin/articles/{id}/diff?a=3&b=3"))
        .await;
    assert!(same.body.contains("id=\"diff-same\""));
}

#[tokio::test]
async fn markup_in_titles_and_bodies_stays_text_in_history_and_diff() {
    let app = TestApp::with_demo().await;
    account(&app, "quantri", "<b>Quản trị</b>", Role::Administrator, &[]).await;
    let cat = category(&app, "xay-dung-dang").await.to_string();
    let mut a = Agent::new(&app, "198.51.100.142:4000");
    a.sign_in("quantri", PASSWORD).await;
    let id = create(&mut a, &cat, "Bài thường", "<p>Đoạn văn.</p>").await;
    app.advance(60);
    let title = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    save(
        &mut a,
        id,
        &cat,
        title,
        "<p>&lt;svg onload=alert(3)&gt; và &lt;/td&gt;&lt;script&gt;alert(4)&lt;/script&gt;</p>\
         <p><img src=\"/media/a.jpg\" alt=\"&quot;><script>alert(5)</script>\"></p>",
    )
    .await;
    let history = a.get(&format!("/admin/articles/{id}/history")).await;
    let diff = a.get(&format!("/admin/articles/{id}/diff?a=1&b=2")).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    for page in [&history.body, &diff.body] {
        for live in [
            "<script>alert",
            "<img src=x",
            "<svg",
            "</td><script>",
            "<b>Quản trị</b>",
        ] {
            assert!(!page.contains(live), "{live} live in {page}");
        }
    }
    assert!(
        history
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(history.body.contains("&lt;b&gt;Quản trị&lt;/b&gt;"));
    assert!(
        diff.body.contains("&lt;svg onload=alert(3)&gt;"),
        "{}",
        diff.body
    );
    assert!(diff.body.contains("&lt;/td&gt;&lt;script&gt;alert(4)"));
}

#[tokio::test]
async fn restoring_brings_old_content_back_as_a_new_revision_and_readers_see_it() {
    let app = TestApp::with_demo().await;
    account(&app, "duyetbai", "Trần Văn Duyệt", Role::EditorInChief, &[]).await;
    let cat_id = category(&app, "xay-dung-dang").await;
    let cat = cat_id.to_string();
    let mut chief = Agent::new(&app, "198.51.100.143:4000");
    chief.sign_in("duyetbai", PASSWORD).await;
    let id = create(&mut chief, &cat, "Bản đầu tiên", "<p>Nội dung gốc.</p>").await;
    app.advance(60);
    act(&mut chief, id, "approve", "").await;
    app.advance(60);
    save(
        &mut chief,
        id,
        &cat,
        "Bản sửa sai",
        "<p>Nội dung bị sửa nhầm.</p>",
    )
    .await;
    app.settle().await;
    let a = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(a.status(), ArticleStatus::Published);
    let url = format!("/xay-dung-dang/{}-{id}.html", a.slug);
    // Readers' page, cached.
    for _ in 0..2 {
        let public = app.get(&url).await;
        assert_eq!(public.status, StatusCode::OK);
        assert!(public.body.contains("Nội dung bị sửa nhầm."));
    }

    // A page opened before someone else saved: refused, nothing changed.
    let base = revision(&app, id).await;
    assert_eq!(base, 3);
    app.advance(60);
    save(
        &mut chief,
        id,
        &cat,
        "Bản sửa sai",
        "<p>Nội dung bị sửa nhầm lần nữa.</p>",
    )
    .await;
    let stale = restore(&mut chief, id, 1, base).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("id=\"history-error\""));
    assert_eq!(revision(&app, id).await, 4);

    // From the page as it is now: revision 1's content comes back as revision 5.
    app.advance(60);
    let res = restore(&mut chief, id, 1, 4).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(
        res.location()
            .starts_with(&format!("/admin/articles/{id}/history"))
    );
    let a = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(a.revision, 5);
    assert_eq!(a.title, "Bản đầu tiên");
    assert!(a.body().as_str().contains("Nội dung gốc."));
    assert_eq!(a.status(), ArticleStatus::Published, "the status stays");
    assert_eq!(
        app.store().article_tags(id).await.unwrap(),
        vec!["Lịch sử".to_owned()],
        "tags stay"
    );
    let page = chief.get(res.location()).await;
    assert!(page.body.contains("id=\"history-notice\""));
    let table = text_of(between(&page.body, "<tbody>", "</tbody>"));
    assert!(table.contains("Khôi phục từ phiên bản 1"), "{table}");
    let restored = app
        .store()
        .article_revision_content(id, 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.note, "restored from revision 1");
    let audit = app
        .store()
        .audit_entries(
            &bantin_store::AuditFilter {
                action: Some("article.restored".to_owned()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].target, format!("article:{id}"));

    // Readers see it once the change is applied: the cached page was purged.
    app.settle().await;
    let public = app.get(&url).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("Nội dung gốc."), "{}", public.body);
    assert!(!public.body.contains("sửa nhầm"));
}

#[tokio::test]
async fn history_diff_and_restore_refuse_what_they_should() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let culture = category(&app, "van-hoa-the-thao").await;
    account(&app, "duyetbai", "Trần Văn Duyệt", Role::EditorInChief, &[]).await;
    account(&app, "vanhoa", "Lê Văn Hóa", Role::Editor, &[culture]).await;
    account(&app, "dangbo", "Phạm Đảng Bộ", Role::Editor, &[party]).await;
    let cat = party.to_string();
    let mut chief = Agent::new(&app, "198.51.100.144:4000");
    chief.sign_in("duyetbai", PASSWORD).await;
    let id = create(&mut chief, &cat, "Bài có nhiều bản", "<p>Một.</p>").await;
    save(&mut chief, id, &cat, "Bài có nhiều bản", "<p>Hai.</p>").await;
    save(&mut chief, id, &cat, "Bài có nhiều bản", "<p>Ba.</p>").await;
    let other = create(&mut chief, &cat, "Bài chỉ một bản", "<p>Một.</p>").await;

    // An editor of another category: refused everywhere, as on the edit page.
    let mut outsider = Agent::new(&app, "198.51.100.145:4000");
    outsider.sign_in("vanhoa", PASSWORD).await;
    assert_eq!(
        outsider.get(&format!("/admin/articles/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    for path in [
        format!("/admin/articles/{id}/history"),
        format!("/admin/articles/{id}/diff?a=1&b=2"),
    ] {
        let res = outsider.get(&path).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!res.body.contains("Hai."), "{path}");
    }
    assert_eq!(
        restore(&mut outsider, id, 1, 3).await.status,
        StatusCode::FORBIDDEN
    );
    // An editor of the category sees the history, but may not save someone else's article.
    let mut colleague = Agent::new(&app, "198.51.100.146:4000");
    colleague.sign_in("dangbo", PASSWORD).await;
    let page = colleague
        .get(&format!("/admin/articles/{id}/history"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/restore\""), "no restore button");
    assert_eq!(
        restore(&mut colleague, id, 1, 3).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(revision(&app, id).await, 3);

    // Unknown numbers, numbers of another article's revisions, unknown articles: not found.
    for path in [
        format!("/admin/articles/{id}/diff?a=1&b=99"),
        format!("/admin/articles/{id}/diff?a=-1&b=2"),
        format!("/admin/articles/{other}/diff?a=1&b=3"),
        "/admin/articles/999999/diff?a=1&b=2".to_owned(),
        "/admin/articles/999999/history".to_owned(),
    ] {
        assert_eq!(
            chief.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        format!("/admin/articles/{id}/diff"),
        format!("/admin/articles/{id}/diff?a=x&b=2"),
        format!("/admin/articles/{id}/diff?a=99999999999999999999&b=2"),
    ] {
        assert_eq!(
            chief.get(&path).await.status,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let base = revision(&app, other).await;
    assert_eq!(
        restore(&mut chief, other, 3, base).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        restore(&mut chief, id, 42, 3).await.status,
        StatusCode::NOT_FOUND
    );

    let csrf = chief.csrf().await;
    let res = chief
        .post(
            &format!("/admin/articles/{id}/restore"),
            &[("csrf", &csrf), ("revision", "một"), ("base", "3")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // A forged form (no token, or another session's) changes nothing.
    let res = chief
        .post(
            &format!("/admin/articles/{id}/restore"),
            &[("revision", "1"), ("base", "3")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let foreign = outsider.csrf().await;
    let res = chief
        .post(
            &format!("/admin/articles/{id}/restore"),
            &[("csrf", &foreign), ("revision", "1"), ("base", "3")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(revision(&app, id).await, 3);
    let body = app.store().article(id).await.unwrap().unwrap().body();
    assert!(body.as_str().contains("Ba."));
}

#[tokio::test]
async fn imported_articles_keep_their_original_as_the_first_revision() {
    let app = TestApp::with_demo().await;
    account(&app, "duyetbai", "Trần Văn Duyệt", Role::EditorInChief, &[]).await;
    let cat = category(&app, "xay-dung-dang").await.to_string();
    let (id, url) = app.seed().await;
    let original = app.store().article(id).await.unwrap().unwrap();
    assert!(app.store().article_history(id).await.unwrap().is_empty());
    let mut chief = Agent::new(&app, "198.51.100.147:4000");
    chief.sign_in("duyetbai", PASSWORD).await;
    let page = chief.get(&format!("/admin/articles/{id}/history")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("chưa có phiên bản"));

    app.advance(60);
    save(
        &mut chief,
        id,
        &cat,
        SEED_TITLE,
        "<p>Thay toàn bộ nội dung.</p>",
    )
    .await;
    let history = app.store().article_history(id).await.unwrap();
    let numbers: Vec<i64> = history.iter().map(|r| r.revision).collect();
    assert_eq!(numbers, vec![2, 1]);
    assert_eq!(
        history[1].at, original.updated_at,
        "dated by its last change"
    );
    let page = chief.get(&format!("/admin/articles/{id}/history")).await;
    assert!(
        text_of(&page.body).contains("Hệ thống"),
        "demo content has no author account"
    );

    app.advance(60);
    let res = restore(&mut chief, id, 1, 2).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let now = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(now.body().as_str(), original.body().as_str());
    app.settle().await;
    let public = app.get(&url).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(!public.body.contains("Thay toàn bộ nội dung."));
}

/// What the page's head says about itself: the meta, Open Graph and Twitter descriptions and
/// the `NewsArticle`'s, read back from the HTML.
fn head_descriptions(html: &str) -> (String, String, String, String) {
    let meta = |attr: &str| {
        let start = format!("{attr}\" content=\"");
        let rest = &html[html.find(&start).unwrap_or_else(|| panic!("{attr}")) + start.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let ld = html
        .split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|rest| {
            let block = &rest[..rest.find("</script>").expect("the block ends")];
            serde_json::from_str::<serde_json::Value>(block).unwrap()
        })
        .flat_map(|v| match v {
            serde_json::Value::Array(items) => items,
            v => vec![v],
        })
        .find(|v| v["@type"] == "NewsArticle")
        .unwrap_or_else(|| panic!("a NewsArticle in {html}"));
    (
        meta("name=\"description"),
        meta("property=\"og:description"),
        meta("name=\"twitter:description"),
        ld["description"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_meta_description_describes_the_page_and_follows_revisions() {
    let app = TestApp::with_demo().await;
    account(&app, "duyetbai", "Trần Văn Duyệt", Role::EditorInChief, &[]).await;
    let cat = category(&app, "xay-dung-dang").await.to_string();
    let mut chief = Agent::new(&app, "198.51.100.144:4000");
    chief.sign_in("duyetbai", PASSWORD).await;
    let with = |description: &str| {
        let mut f = fields(&cat, "Mô tả riêng", "<p>Nội dung.</p>");
        f.push(("meta_description".to_owned(), description.to_owned()));
        f
    };

    // Bad descriptions are refused with the form's message; nothing is created.
    let before = app
        .store()
        .newsroom_articles(&Default::default(), 1000, 0)
        .await
        .unwrap()
        .len();
    for (bad, message) in [
        ("Có <b>thẻ</b> HTML", "không dùng dấu &lt; hoặc &gt;"),
        ("Dấu > lẻ", "không dùng dấu &lt; hoặc &gt;"),
        (&"ạ".repeat(301) as &str, "tối đa 300 ký tự"),
        ("Ký tự\u{7}điều khiển", "tối đa 300 ký tự"),
    ] {
        let res = post_fields(&mut chief, "/admin/articles", &with(bad)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}: {}", res.body);
        assert!(res.body.contains(message), "{bad}: {message}");
    }
    assert_eq!(
        app.store()
            .newsroom_articles(&Default::default(), 1000, 0)
            .await
            .unwrap()
            .len(),
        before
    );

    // Written with line breaks and decomposed diacritics: one line, NFC, exactly 300 fits.
    let first = "Mo\u{302}\u{301} ta\u{309} đầu tiên\r\ncho máy tìm kiếm.";
    let res = post_fields(&mut chief, "/admin/articles", &with(first)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = ArticleId::new(
        res.location()
            .split('?')
            .next()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let a = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(a.meta_description, "Mố tả đầu tiên  cho máy tìm kiếm.");
    let form = chief.get(&format!("/admin/articles/{id}")).await;
    assert!(
        form.body
            .contains("Mố tả đầu tiên  cho máy tìm kiếm.</textarea>")
    );
    act(&mut chief, id, "approve", "").await;
    app.settle().await;
    let url = format!("/xay-dung-dang/{}-{id}.html", a.slug);
    let page = app.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    let d = "Mố tả đầu tiên  cho máy tìm kiếm.".to_owned();
    assert_eq!(
        head_descriptions(&page.body),
        (d.clone(), d.clone(), d.clone(), d.clone())
    );

    // A second revision with another description, then none: the lead describes the page.
    app.advance(60);
    let mut f = with(&"ạ".repeat(300));
    f.push(("revision".to_owned(), revision(&app, id).await.to_string()));
    let res = post_fields(&mut chief, &format!("/admin/articles/{id}"), &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    app.advance(60);
    let mut f = with("");
    f.push(("revision".to_owned(), revision(&app, id).await.to_string()));
    let res = post_fields(&mut chief, &format!("/admin/articles/{id}"), &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    app.settle().await;
    let page = app.get(&url).await;
    let lead = "Tóm tắt bài viết.".to_owned();
    assert_eq!(
        head_descriptions(&page.body),
        (lead.clone(), lead.clone(), lead.clone(), lead)
    );

    // Each revision keeps its own; the diff names the field; restoring brings it back.
    let kept = |r| {
        let app = &app;
        async move {
            app.store()
                .article_revision_content(id, r)
                .await
                .unwrap()
                .unwrap()
                .meta_description
        }
    };
    assert_eq!(kept(1).await, d);
    assert_eq!(kept(3).await, "ạ".repeat(300));
    assert_eq!(kept(4).await, "");
    let diff = chief
        .get(&format!("/admin/articles/{id}/diff?a=1&b=4"))
        .await;
    let body = between(&diff.body, "id=\"diff\"", "</section>");
    assert!(text_of(body).contains("Mô tả cho máy tìm kiếm"), "{body}");
    assert!(body.contains("<del>"), "{body}");
    let res = restore(&mut chief, id, 1, 4).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.store()
            .article(id)
            .await
            .unwrap()
            .unwrap()
            .meta_description,
        d
    );
    app.settle().await;
    let page = app.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(head_descriptions(&page.body).3, d);
}
