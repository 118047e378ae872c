//! The newsroom's article pages over HTTP, on both databases: writing, bad input shown back
//! field by field, a stale save refused with both texts kept, the workflow's buttons, the edit
//! lock seen by a second editor.

use axum::http::StatusCode;
use bantin_core::account::Role;

use crate::helpers::*;

/// The fields of a new article in the seed's category (`category` is its id).
fn fields<'a>(category: &'a str, title: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("slug", ""),
        ("lead", "Tóm tắt bài viết."),
        ("body", body),
        ("category", category),
        ("tags", "Học tập, Làm theo"),
        ("author", "Đ/c Hà Ngọc Giáp"),
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
}

async fn seed_category(app: &TestApp) -> String {
    app.store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.slug == "xay-dung-dang")
        .unwrap()
        .id
        .to_string()
}

async fn post_article(a: &mut Agent<'_>, path: &str, extra: &[(&str, &str)]) -> TestResponse {
    let page = a.get("/admin/articles/new").await;
    let csrf = csrf_of(&page.body);
    let mut f: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    f.extend_from_slice(extra);
    a.post(path, &f).await
}

#[tokio::test]
async fn an_editor_writes_an_article_and_bad_input_comes_back_field_by_field() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    let cat = seed_category(&app).await;
    let mut a = Agent::new(&app, "198.51.100.100:4000");
    a.sign_in("bientap", PASSWORD).await;

    // Nothing right: every problem named next to its field, everything typed kept.
    let mut bad = fields(&cat, "", "<p>Giữ nguyên đoạn này</p>");
    bad.retain(|(k, _)| *k != "publish_at" && *k != "expire_at" && *k != "image_url");
    bad.extend([
        ("publish_at", "2022-10-25T13:19"),
        ("expire_at", "2022-10-24T08:00"),
        ("image_url", "javascript:alert(1)"),
    ]);
    let res = post_article(&mut a, "/admin/articles", &bad).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    for field in ["title", "expire_at", "image_url"] {
        assert!(
            res.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
    }
    assert!(res.body.contains("Giữ nguyên đoạn này"), "the body is kept");
    assert!(
        res.body.contains("value=\"2022-10-25T13:19\""),
        "the time is kept"
    );

    // A good one, with a pasted script that never reaches a reader.
    let good = fields(
        &cat,
        "Đảng bộ phường học tập và làm theo gương Bác",
        "<p class=\"MsoNormal\" style=\"margin:0\">Đoạn dán từ Word<o:p></o:p></p><script>alert(1)</script>\
         <figure><img src=\"/media/a.jpg\" alt=\"DSC 5191\"><figcaption>Chú thích ảnh</figcaption></figure>",
    );
    let res = post_article(&mut a, "/admin/articles", &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let edit = res.location().split('?').next().unwrap().to_owned();
    let id: i64 = edit.rsplit('/').next().unwrap().parse().unwrap();
    let stored = app
        .store()
        .article(bantin_core::ArticleId::new(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status(), bantin_core::ArticleStatus::Draft);
    let body = stored.body().into_string();
    assert!(body.contains("Đoạn dán từ Word"));
    assert!(
        !body.contains("<script") && !body.contains("style=") && !body.contains("Mso"),
        "{body}"
    );
    let page = a.get(&edit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Gửi duyệt"), "an editor may submit it");
    assert!(!page.body.contains("Duyệt và đăng"), "but not publish it");
}

#[tokio::test]
async fn a_stale_save_is_refused_and_both_texts_are_shown() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap-a", Role::EditorInChief).await;
    app.add_user("bientap-b", Role::EditorInChief).await;
    let cat = seed_category(&app).await;
    let mut a = Agent::new(&app, "198.51.100.101:4000");
    a.sign_in("bientap-a", PASSWORD).await;
    let mut b = Agent::new(&app, "198.51.100.102:4000");
    b.sign_in("bientap-b", PASSWORD).await;
    let res = post_article(
        &mut a,
        "/admin/articles",
        &fields(&cat, "Bài hai người cùng sửa", "<p>Gốc</p>"),
    )
    .await;
    let edit = res.location().split('?').next().unwrap().to_owned();

    // Both open it at the same revision.
    let page_a = a.get(&edit).await;
    let page_b = b.get(&edit).await;
    assert!(
        page_b.body.contains("id=\"lock-held\""),
        "b sees who is editing"
    );
    let revision = between(&page_a.body, "name=\"revision\" value=\"", "\"").to_owned();
    let save = |who: &'static str| {
        let mut f = fields(&cat, "Bài hai người cùng sửa", who);
        f.push(("revision", &revision));
        f.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
    };
    let csrf_a = csrf_of(&page_a.body);
    let mut fa: Vec<(&str, &str)> = vec![("csrf", &csrf_a)];
    let first = save("<p>Bản của A</p>");
    fa.extend(first.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(a.post(&edit, &fa).await.status, StatusCode::SEE_OTHER);

    let csrf_b = csrf_of(&page_b.body);
    let mut fb: Vec<(&str, &str)> = vec![("csrf", &csrf_b)];
    let second = save("<p>Bản của B</p>");
    fb.extend(second.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let res = b.post(&edit, &fb).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("id=\"stale\""));
    assert!(
        res.body.contains("Bản của B"),
        "B's text is kept in the form"
    );
    assert!(
        res.body.contains("Bản của A"),
        "beside the version saved meanwhile"
    );
    let id = bantin_core::ArticleId::new(edit.rsplit('/').next().unwrap().parse().unwrap());
    let stored = app.store().article(id).await.unwrap().unwrap();
    assert!(
        stored.body().as_str().contains("Bản của A"),
        "never a silent overwrite"
    );
}

#[tokio::test]
async fn an_editor_in_chief_approves_what_an_editor_submitted() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    app.add_user("bientapchinh", Role::EditorInChief).await;
    let cat = seed_category(&app).await;
    let mut editor = Agent::new(&app, "198.51.100.103:4000");
    editor.sign_in("bientap", PASSWORD).await;
    let res = post_article(
        &mut editor,
        "/admin/articles",
        &fields(&cat, "Bài chờ duyệt", "<p>Nội dung</p>"),
    )
    .await;
    let edit = res.location().split('?').next().unwrap().to_owned();
    let csrf = editor.csrf().await;
    let res = editor
        .post(
            &format!("{edit}/action"),
            &[("csrf", &csrf), ("action", "submit"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = editor
        .post(
            &format!("{edit}/action"),
            &[("csrf", &csrf), ("action", "approve"), ("reason", "")],
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "an editor cannot publish"
    );

    let mut chief = Agent::new(&app, "198.51.100.104:4000");
    chief.sign_in("bientapchinh", PASSWORD).await;
    let csrf = chief.csrf().await;
    let res = chief
        .post(
            &format!("{edit}/action"),
            &[("csrf", &csrf), ("action", "approve"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let id = edit.rsplit('/').next().unwrap();
    let public = app
        .get(&format!("/xay-dung-dang/bai-cho-duyet-{id}.html"))
        .await;
    assert_eq!(public.status, StatusCode::OK, "on its public page at once");
    let list = chief.get("/admin/articles?status=published").await;
    assert!(list.body.contains("Bài chờ duyệt"));
}

#[tokio::test]
async fn markup_in_titles_is_kept_as_text_and_never_fails() {
    let app = TestApp::with_demo().await;
    app.add_user("quantri", Role::Administrator).await;
    let cat = seed_category(&app).await;
    let mut a = Agent::new(&app, "198.51.100.105:4000");
    a.sign_in("quantri", PASSWORD).await;
    for title in [
        "<form id=\"test\" /><button form=\"test\" formaction=\"javascript:alert(1)\">CLICK</button>",
        "<input onfocus=alert(\"XSS\") autofocus>",
        "<meter onmouseover=alert(\"XSS\")>50</meter>",
        "<META HTTP-EQUIV=\"Set-Cookie\" Content=\"USERID=<SCRIPT>alert('XSS')</SCRIPT>\">",
    ] {
        let res = post_article(&mut a, "/admin/articles", &fields(&cat, title, "<p>x</p>")).await;
        assert!(res.status.as_u16() < 500, "{title}: {}", res.status);
    }
}
