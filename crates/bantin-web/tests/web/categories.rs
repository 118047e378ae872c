//! Categories and tags in the newsroom, over HTTP on both databases: a renamed category's old
//! addresses answer 301 (and stop once the slug is taken back), no category goes under its own
//! subtree, up/down reorders the menu, hiding takes a category out of every list, the forms
//! keep what was typed, tags are renamed and merged, suggestions find tags with or without
//! diacritics; and only administrators and editors-in-chief may do any of it.

use axum::http::StatusCode;
use bantin_core::CategoryId;
use bantin_core::account::Role;
use bantin_web::WebSettings;

use crate::helpers::*;

/// The demo with limits out of the way (these tests post a lot from one address).
async fn demo() -> TestApp {
    TestApp::with_settings(WebSettings {
        posts_per_minute: 100_000,
        login_attempts_per_minute: 100_000,
        ..WebSettings::default()
    })
    .await
}

async fn category_id(app: &TestApp, slug: &str) -> CategoryId {
    app.store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.slug == slug)
        .unwrap_or_else(|| panic!("no category {slug}"))
        .id
}

/// The form fields of a category as the edit form would send them.
async fn form_of(app: &TestApp, id: CategoryId) -> Vec<(String, String)> {
    let c = app.store().category(id).await.unwrap().unwrap();
    let hidden = c.status() == bantin_core::CategoryStatus::Hidden;
    vec![
        ("title".to_owned(), c.title),
        ("slug".to_owned(), c.slug),
        ("description".to_owned(), c.description),
        (
            "parent".to_owned(),
            c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        ),
        (
            "hidden".to_owned(),
            if hidden {
                "1".to_owned()
            } else {
                String::new()
            },
        ),
    ]
}

fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if k == name {
                    value.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

/// Posts a category form with the session's token.
async fn post_category(
    agent: &mut Agent<'_>,
    path: &str,
    fields: &[(String, String)],
) -> TestResponse {
    let csrf = agent.csrf().await;
    let mut all: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("csrf", &csrf));
    agent.post(path, &all).await
}

async fn signed_in<'a>(app: &'a TestApp, name: &str, role: Role) -> Agent<'a> {
    app.add_user(name, role).await;
    let mut agent = Agent::new(app, "198.51.100.40:4000");
    agent.sign_in(name, PASSWORD).await;
    agent
}

/// The menu's links, in order (subcategories included).
fn menu(html: &str) -> Vec<String> {
    let nav = between(html, "<nav class=\"menu\"", "</nav>");
    nav.split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

/// The menu's top-level category links, in order.
fn top_menu(html: &str) -> Vec<String> {
    let nav = between(html, "<ul class=\"wrap\">", "</nav>");
    // Drop each submenu (one level deep).
    let mut top = String::new();
    let mut rest = nav;
    while let Some(i) = rest.find("<ul>") {
        top.push_str(&rest[..i]);
        rest = rest[i..].split_once("</ul>").map_or("", |(_, r)| r);
    }
    top.push_str(rest);
    top.split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_owned())
        .filter(|u| u != "/")
        .collect()
}

#[tokio::test]
async fn a_renamed_category_answers_301_at_its_old_addresses_until_the_slug_is_taken_back() {
    let app = demo().await;
    let mut admin = signed_in(&app, "quantri", Role::Administrator).await;
    let id = category_id(&app, "xay-dung-dang").await;
    let (article, old_article_url) = app.seed().await;
    // Warm the page cache with the old addresses.
    for url in [
        "/xay-dung-dang/",
        "/xay-dung-dang/?page=2",
        &old_article_url,
    ] {
        assert_eq!(app.get(url).await.status, StatusCode::OK, "{url}");
    }

    let fields = with(&form_of(&app, id).await, "slug", "xay-dung-dang-bo");
    let res = post_category(&mut admin, &format!("/admin/categories/{id}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), format!("/admin/categories/{id}?tb=luu"));

    let new_article_url = old_article_url.replace("/xay-dung-dang/", "/xay-dung-dang-bo/");
    for (old, new) in [
        ("/xay-dung-dang/", "/xay-dung-dang-bo/"),
        ("/xay-dung-dang", "/xay-dung-dang-bo/"),
        ("/xay-dung-dang/?page=2", "/xay-dung-dang-bo/?page=2"),
        (
            "/xay-dung-dang/?page=2&utm_source=x",
            "/xay-dung-dang-bo/?page=2",
        ),
        (old_article_url.as_str(), new_article_url.as_str()),
    ] {
        // Twice: an answer from the cache would be the old page.
        for _ in 0..2 {
            let res = app.get(old).await;
            assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY, "{old}");
            assert_eq!(res.location(), new, "{old}");
            // Kept by browsers for a while, not forever: renaming back turns it around.
            assert_eq!(res.header("cache-control"), Some("public, max-age=3600"));
        }
        assert_eq!(app.get(new).await.status, StatusCode::OK, "{new}");
    }
    // The menu, breadcrumbs and lists use the new address.
    let home = app.get("/").await;
    assert!(menu(&home.body).contains(&"/xay-dung-dang-bo/".to_owned()));
    assert!(!home.body.contains("href=\"/xay-dung-dang/"));
    // A subcategory's articles keep their own category's address.
    assert_eq!(app.get("/hoc-tap-va-lam-theo-bac/").await.status, 200);
    // Unknown slugs stay 404.
    assert_eq!(app.get("/xay-dung-dang-cu/").await.status, 404);

    // A second rename: both old slugs lead to the newest.
    let fields = with(&fields, "slug", "xay-dung-dang-va-he-thong-chinh-tri");
    let res = post_category(&mut admin, &format!("/admin/categories/{id}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    for old in ["/xay-dung-dang/", "/xay-dung-dang-bo/"] {
        let res = app.get(old).await;
        assert_eq!(
            (res.status, res.location()),
            (
                StatusCode::MOVED_PERMANENTLY,
                "/xay-dung-dang-va-he-thong-chinh-tri/"
            ),
            "{old}"
        );
    }

    // Back to the first slug: its redirect row goes, and it is a live page again.
    let fields = with(&fields, "slug", "xay-dung-dang");
    let res = post_category(&mut admin, &format!("/admin/categories/{id}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.store()
            .category_redirect("xay-dung-dang")
            .await
            .unwrap(),
        None
    );
    assert_eq!(app.get("/xay-dung-dang/").await.status, StatusCode::OK);
    assert_eq!(
        app.get("/xay-dung-dang/?page=2").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get(&old_article_url).await.status, StatusCode::OK);
    for old in [
        "/xay-dung-dang-bo/",
        "/xay-dung-dang-va-he-thong-chinh-tri/",
    ] {
        let res = app.get(old).await;
        assert_eq!(
            (res.status, res.location()),
            (StatusCode::MOVED_PERMANENTLY, "/xay-dung-dang/"),
            "{old}"
        );
    }
    let _ = article;

    // Every change is in the audit log.
    let entries = app
        .store()
        .audit_entries(&bantin_store::AuditFilter::default(), 50)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .filter(|e| e.action == "category.updated" && e.target == format!("category:{id}"))
            .count()
            >= 3
    );
}

#[tokio::test]
async fn the_form_keeps_what_was_typed_and_says_what_is_wrong() {
    let app = demo().await;
    let mut chief = signed_in(&app, "bientapchinh", Role::EditorInChief).await;
    let top = category_id(&app, "xay-dung-dang").await;
    let child = category_id(&app, "hoc-tap-va-lam-theo-bac").await;
    let base = form_of(&app, top).await;
    let path = format!("/admin/categories/{top}");

    // Under its own child: refused, nothing changed.
    let res = post_category(
        &mut chief,
        &path,
        &with(&base, "parent", &child.to_string()),
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("id=\"parent-error\""), "{}", res.body);
    // Under itself (not offered, but sent anyway).
    let res = post_category(&mut chief, &path, &with(&base, "parent", &top.to_string())).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("id=\"parent-error\""));
    assert_eq!(
        app.store().category(top).await.unwrap().unwrap().parent_id,
        None
    );
    // The edit form does not offer the category or its descendants as parents.
    let form = chief.get(&path).await;
    let select = between(&form.body, "<select id=\"parent\"", "</select>");
    assert!(!select.contains(&format!("value=\"{top}\"")));
    assert!(!select.contains(&format!("value=\"{child}\"")));
    assert!(select.contains(&format!(
        "value=\"{}\"",
        category_id(&app, "kinh-te-xa-hoi").await
    )));

    // A bad slug, a taken slug, a reserved slug, an empty title: shown back with what was typed.
    for (field, value, status, error) in [
        ("slug", "Chữ Hoa", StatusCode::BAD_REQUEST, "slug-error"),
        ("slug", "kinh-te-xa-hoi", StatusCode::CONFLICT, "slug-error"),
        ("slug", "admin", StatusCode::CONFLICT, "slug-error"),
        ("title", "   ", StatusCode::BAD_REQUEST, "title-error"),
        ("parent", "999999", StatusCode::BAD_REQUEST, "parent-error"),
    ] {
        let mut fields = with(&base, field, value);
        fields = with(&fields, "description", "Mô tả mới <vẫn giữ>");
        let res = post_category(&mut chief, &path, &fields).await;
        assert_eq!(res.status, status, "{field}={value}: {}", res.body);
        assert!(
            res.body.contains(&format!("id=\"{error}\"")),
            "{field}={value}"
        );
        assert!(
            res.body.contains("Mô tả mới &lt;vẫn giữ&gt;"),
            "{field}={value}: the description typed is kept"
        );
        if field == "slug" {
            assert!(res.body.contains(&format!("value=\"{value}\"")), "{value}");
        }
    }
    assert_eq!(
        app.store().category(top).await.unwrap().unwrap().slug,
        "xay-dung-dang"
    );

    // A new category: last at its level, its page live, the slug made from the title.
    let new = vec![
        ("title".to_owned(), "Chuyển đổi số".to_owned()),
        ("slug".to_owned(), String::new()),
        ("description".to_owned(), "Tin về chuyển đổi số.".to_owned()),
        ("parent".to_owned(), String::new()),
        ("hidden".to_owned(), String::new()),
    ];
    let res = post_category(&mut chief, "/admin/categories", &new).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = category_id(&app, "chuyen-doi-so").await;
    assert_eq!(res.location(), format!("/admin/categories/{id}?tb=luu"));
    let home = app.get("/").await;
    assert_eq!(
        menu(&home.body).last().map(String::as_str),
        Some("/chuyen-doi-so/")
    );
    assert_eq!(app.get("/chuyen-doi-so/").await.status, StatusCode::OK);
    // Its slug again: taken.
    let res = post_category(&mut chief, "/admin/categories", &new).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("value=\"Chuyển đổi số\""));
}

#[tokio::test]
async fn up_and_down_reorder_the_menu_and_hiding_takes_a_category_out_of_every_list() {
    let app = demo().await;
    let mut admin = signed_in(&app, "quantri", Role::Administrator).await;
    let top = top_menu(&app.get("/").await.body);
    assert_eq!(
        top,
        [
            "/xay-dung-dang/",
            "/kinh-te-xa-hoi/",
            "/van-hoa-the-thao/",
            "/quoc-phong-an-ninh/"
        ]
    );
    // The list shows the tree with its buttons: the first has no "up", the last no "down".
    let list = admin.get("/admin/categories").await;
    assert_eq!(list.status, StatusCode::OK);
    let first = category_id(&app, "xay-dung-dang").await;
    let row = between(&list.body, &format!("id=\"category-{first}\""), "</tr>");
    assert!(!row.contains("value=\"up\"") && row.contains("value=\"down\""));
    let child = category_id(&app, "hoc-tap-va-lam-theo-bac").await;
    assert!(
        list.body
            .contains(&format!("id=\"category-{child}\" data-depth=\"1\""))
    );

    let csrf = admin.csrf().await;
    let moved = category_id(&app, "van-hoa-the-thao").await;
    let res = admin
        .post(
            &format!("/admin/categories/{moved}/move"),
            &[("csrf", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = admin
        .post(
            &format!("/admin/categories/{moved}/move"),
            &[("csrf", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let home = app.get("/").await;
    assert_eq!(
        top_menu(&home.body),
        [
            "/van-hoa-the-thao/",
            "/xay-dung-dang/",
            "/kinh-te-xa-hoi/",
            "/quoc-phong-an-ninh/"
        ]
    );
    // The home page's blocks follow the menu.
    let blocks = home.body.find(">Văn hóa - Thể thao</a></h2>").unwrap();
    assert!(blocks < home.body.find(">Xây dựng Đảng</a></h2>").unwrap());
    // Up again at the top changes nothing; down twice puts it back.
    let res = admin
        .post(
            &format!("/admin/categories/{moved}/move"),
            &[("csrf", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    for _ in 0..2 {
        let res = admin
            .post(
                &format!("/admin/categories/{moved}/move"),
                &[("csrf", &csrf), ("direction", "down")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(top_menu(&app.get("/").await.body), top);
    let res = admin
        .post(
            &format!("/admin/categories/{moved}/move"),
            &[("csrf", &csrf), ("direction", "sideways")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = admin
        .post(
            "/admin/categories/999999/move",
            &[("csrf", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Hiding the subcategory: out of the menu and its parent's page (links and articles);
    // its own page and its articles still open by address.
    let child_article = app
        .article_id("Cô giáo mầm non hơn 15 năm gắn bó với trẻ em xã Vĩnh Quang")
        .await;
    let a = app.store().article(child_article).await.unwrap().unwrap();
    let child_article_url = format!("/hoc-tap-va-lam-theo-bac/{}-{child_article}.html", a.slug);
    let parent_page = app.get("/xay-dung-dang/").await;
    assert!(
        parent_page
            .body
            .contains("href=\"/hoc-tap-va-lam-theo-bac/\"")
    );
    let mut all_pages = String::new();
    for p in 1..=5 {
        let res = app.get(&format!("/xay-dung-dang/?page={p}")).await;
        if res.status != StatusCode::OK {
            break;
        }
        all_pages.push_str(&res.body);
    }
    assert!(all_pages.contains(&child_article_url));

    let fields = with(&form_of(&app, child).await, "hidden", "1");
    let res = post_category(&mut admin, &format!("/admin/categories/{child}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let home = app.get("/").await;
    assert!(!menu(&home.body).contains(&"/hoc-tap-va-lam-theo-bac/".to_owned()));
    let mut all_pages = String::new();
    for p in 1..=5 {
        let res = app.get(&format!("/xay-dung-dang/?page={p}")).await;
        if res.status != StatusCode::OK {
            break;
        }
        all_pages.push_str(&res.body);
    }
    assert!(!all_pages.contains("href=\"/hoc-tap-va-lam-theo-bac/\""));
    assert!(!all_pages.contains(&child_article_url));
    assert_eq!(
        app.get("/hoc-tap-va-lam-theo-bac/").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get(&child_article_url).await.status, StatusCode::OK);
    // The newsroom still lists it, marked.
    let list = admin.get("/admin/categories").await;
    let row = between(&list.body, &format!("id=\"category-{child}\""), "</tr>");
    assert!(row.contains("class=\"muted\""));

    // Hiding a top-level category takes it off the menu and the home page.
    let fields = with(&form_of(&app, moved).await, "hidden", "1");
    let res = post_category(&mut admin, &format!("/admin/categories/{moved}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let home = app.get("/").await;
    assert!(!menu(&home.body).contains(&"/van-hoa-the-thao/".to_owned()));
    assert!(!home.body.contains(">Văn hóa - Thể thao</a></h2>"));
}

#[tokio::test]
async fn category_titles_are_escaped_on_public_pages() {
    let app = demo().await;
    let mut admin = signed_in(&app, "quantri", Role::Administrator).await;
    let id = category_id(&app, "kinh-te-xa-hoi").await;
    let evil = "<script>alert(1)</script> & \"Kinh tế\"";
    let fields = with(&form_of(&app, id).await, "title", evil);
    let fields = with(&fields, "description", "<img src=x onerror=alert(1)>");
    let res = post_category(&mut admin, &format!("/admin/categories/{id}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    for url in ["/", "/kinh-te-xa-hoi/"] {
        let page = app.get(url).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<script>alert(1)"), "{url}");
        assert!(!page.body.contains("<img src=x"), "{url}");
        assert!(
            page.body
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Kinh tế&quot;"),
            "{url}"
        );
    }
    let list = admin.get("/admin/categories").await;
    assert!(!list.body.contains("<script>alert(1)"));
}

#[tokio::test]
async fn only_administrators_and_editors_in_chief_manage_categories_and_tags() {
    let app = demo().await;
    let mut editor = signed_in(&app, "bientapvien", Role::Editor).await;
    let csrf = editor.csrf().await;
    let id = category_id(&app, "kinh-te-xa-hoi").await;
    for path in [
        "/admin/categories".to_owned(),
        "/admin/categories/new".to_owned(),
        format!("/admin/categories/{id}"),
        "/admin/tags".to_owned(),
    ] {
        assert_eq!(
            editor.get(&path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in [
        "/admin/categories".to_owned(),
        format!("/admin/categories/{id}"),
        format!("/admin/categories/{id}/move"),
        "/admin/tags/1/rename".to_owned(),
        "/admin/tags/1/merge".to_owned(),
    ] {
        let res = editor
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("direction", "up"),
                    ("title", "X"),
                    ("name", "X"),
                    ("into", "X"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Writers get suggestions, and no menu links to what they may not open.
    let res = editor.get("/admin/tags/suggest?q=gi").await;
    assert_eq!(res.status, StatusCode::OK);
    let dashboard = editor.get("/admin").await;
    assert!(!dashboard.body.contains("href=\"/admin/categories\""));
    assert_eq!(
        app.store().category(id).await.unwrap().unwrap().title,
        "Kinh tế - Xã hội"
    );

    let mut chief = signed_in(&app, "bientapchinh", Role::EditorInChief).await;
    let dashboard = chief.get("/admin").await;
    assert!(dashboard.body.contains("href=\"/admin/categories\""));
    assert!(dashboard.body.contains("href=\"/admin/tags\""));
    assert_eq!(chief.get("/admin/tags").await.status, StatusCode::OK);
}

#[tokio::test]
async fn posts_without_a_valid_token_change_nothing() {
    let app = demo().await;
    let mut admin = signed_in(&app, "quantri", Role::Administrator).await;
    let id = category_id(&app, "kinh-te-xa-hoi").await;
    let fields = with(&form_of(&app, id).await, "title", "Tiêu đề giả mạo");
    let mut forged: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    forged.push(("csrf", "not-the-token"));
    let res = admin
        .post(&format!("/admin/categories/{id}"), &forged)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The form comes back with what was typed.
    assert!(
        res.body.contains("value=\"Tiêu đề giả mạo\""),
        "{}",
        res.body
    );
    let res = admin.post("/admin/categories", &forged).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let tag = app.store().tag_by_name("Giáo dục").await.unwrap().unwrap();
    for (path, fields) in [
        (
            format!("/admin/categories/{id}/move"),
            vec![("direction", "up")],
        ),
        (format!("/admin/tags/{tag}/rename"), vec![("name", "Giả")]),
        (
            format!("/admin/tags/{tag}/merge"),
            vec![("into", "Bài mẫu")],
        ),
    ] {
        let mut fields = fields;
        fields.push(("csrf", ""));
        let res = admin.post(&path, &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    let c = app.store().category(id).await.unwrap().unwrap();
    assert_eq!(c.title, "Kinh tế - Xã hội");
    assert!(app.store().tag(tag).await.unwrap().is_some());
    assert!(app.store().tag_by_name("Giả").await.unwrap().is_none());
    assert!(app.store().categories().await.unwrap().len() == 6);
}

/// The tags shown on an article's public page.
async fn public_tags(app: &TestApp, title: &str) -> Vec<String> {
    let id = app.article_id(title).await;
    let a = app.store().article(id).await.unwrap().unwrap();
    let c = app.store().category(a.category_id).await.unwrap().unwrap();
    let page = app.get(&format!("/{}/{}-{id}.html", c.slug, a.slug)).await;
    assert_eq!(page.status, StatusCode::OK);
    let p = between(&page.body, "<p class=\"tags\">", "</p>");
    // Each tag is a link to its page: `<span class="tag"><a href=… rel="tag">name</a></span>`.
    p.split("<span class=\"tag\">")
        .skip(1)
        .map(|s| text_of(&s[..s.find("</span>").unwrap_or(s.len())]))
        .collect()
}

const TEACHER: &str = "Cô giáo mầm non hơn 15 năm gắn bó với trẻ em xã Vĩnh Quang";
const VETERAN: &str = "Cựu chiến binh gương mẫu, tận tâm với công việc chung ở phường Duyệt Trung";

#[tokio::test]
async fn tags_are_renamed_and_merged_and_articles_show_each_once() {
    let app = demo().await;
    let mut chief = signed_in(&app, "bientapchinh", Role::EditorInChief).await;
    // Warm the cache with both articles.
    assert_eq!(
        public_tags(&app, TEACHER).await,
        ["Bài mẫu", "Gương điển hình", "Giáo dục"]
    );
    assert_eq!(
        public_tags(&app, VETERAN).await,
        ["Bài mẫu", "Gương điển hình", "Cựu chiến binh"]
    );
    let list = chief.get("/admin/tags?q=guong").await;
    assert_eq!(list.status, StatusCode::OK);
    let from = app
        .store()
        .tag_by_name("Gương điển hình")
        .await
        .unwrap()
        .unwrap();
    let row = between(&list.body, &format!("id=\"tag-{from}\""), "</tr>");
    assert!(row.contains("<td>3</td>"), "three articles: {row}");
    assert!(!list.body.contains("Bóng đá"), "filtered");

    // Rename to a name another tag has: refused, typed name kept beside the row.
    let csrf = chief.csrf().await;
    let res = chief
        .post(
            &format!("/admin/tags/{from}/rename"),
            &[("csrf", &csrf), ("name", "Giáo dục"), ("q", "guong")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let row = between(&res.body, &format!("id=\"tag-{from}\""), "</tr>");
    assert!(row.contains("value=\"Giáo dục\" maxlength=\"60\" required aria-label"));
    for bad in ["", "  ", "a, b", "!!!"] {
        let res = chief
            .post(
                &format!("/admin/tags/{from}/rename"),
                &[("csrf", &csrf), ("name", bad)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    // Rename.
    let res = chief
        .post(
            &format!("/admin/tags/{from}/rename"),
            &[("csrf", &csrf), ("name", "Gương sáng"), ("q", "guong")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/admin/tags?q=guong&tb=doi-ten");
    assert_eq!(
        public_tags(&app, VETERAN).await,
        ["Bài mẫu", "Gương sáng", "Cựu chiến binh"]
    );

    // Merge into an unknown tag or into itself: refused.
    let res = chief
        .post(
            &format!("/admin/tags/{from}/merge"),
            &[("csrf", &csrf), ("into", "Không có")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("value=\"Không có\""));
    let res = chief
        .post(
            &format!("/admin/tags/{from}/merge"),
            &[("csrf", &csrf), ("into", "Gương sáng")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // Merge into "Giáo dục", which the teacher's article already has.
    let res = chief
        .post(
            &format!("/admin/tags/{from}/merge"),
            &[("csrf", &csrf), ("into", "Giáo dục")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(public_tags(&app, TEACHER).await, ["Bài mẫu", "Giáo dục"]);
    assert_eq!(
        public_tags(&app, VETERAN).await,
        ["Bài mẫu", "Giáo dục", "Cựu chiến binh"]
    );
    assert!(app.store().tag(from).await.unwrap().is_none());
    let into = app.store().tag_by_name("Giáo dục").await.unwrap().unwrap();
    assert_eq!(
        app.store().tag(into).await.unwrap().unwrap().articles,
        3,
        "one article had both"
    );
    assert_eq!(
        chief
            .post(
                &format!("/admin/tags/{from}/merge"),
                &[("csrf", &csrf), ("into", "Giáo dục")],
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn suggestions_find_tags_by_prefix_with_or_without_diacritics() {
    let app = demo().await;
    let mut editor = signed_in(&app, "bientapvien", Role::Editor).await;
    let names = |res: &TestResponse| -> Vec<String> {
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(
            res.header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        serde_json::from_str(&res.body).unwrap()
    };
    for q in ["Giáo", "giáo", "giao", "GIAO", "gia"] {
        let res = editor
            .get(&format!("/admin/tags/suggest?q={}", urlencode(q)))
            .await;
        let got = names(&res);
        assert!(got.contains(&"Giáo dục".to_owned()), "{q}: {got:?}");
        assert!(got.len() <= 10);
        assert!(
            got.iter()
                .all(|n| bantin_core::fold(n).starts_with(&bantin_core::fold(q))),
            "{q}: {got:?}"
        );
    }
    // The exact spelling first: "Gương" before "Giao nhận quân"-like folded matches.
    let got = names(
        &editor
            .get(&format!("/admin/tags/suggest?q={}", urlencode("gi")))
            .await,
    );
    assert!(got.contains(&"Giao nhận quân".to_owned()), "{got:?}");
    let got = names(
        &editor
            .get(&format!("/admin/tags/suggest?q={}", urlencode("giáo")))
            .await,
    );
    assert_eq!(got.first().map(String::as_str), Some("Giáo dục"), "{got:?}");
    // Nothing for nothing, for wildcards, for words in the middle.
    for q in ["", "%25", "_", "duc"] {
        assert!(
            names(&editor.get(&format!("/admin/tags/suggest?q={q}")).await).is_empty(),
            "{q}"
        );
    }
    // Not for the signed out.
    let res = app.get("/admin/tags/suggest?q=gi").await;
    assert_ne!(res.status, StatusCode::OK);

    // The article form asks for them from its tags field, with the script that does it.
    let form = editor.get("/admin/articles/new").await;
    let field = between(&form.body, "id=\"tags\"", ">");
    assert!(field.contains("data-tag-suggest"));
    let script = between(&form.body, "<script src=\"/assets/tags.", "\"");
    let js = app.get(&format!("/assets/tags.{script}")).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("/admin/tags/suggest?q="));
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The article form's tag field in headless Chromium, under the site's CSP: typing part of a
/// tag without diacritics offers the tag; choosing it completes the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn the_article_form_suggests_tags_as_they_are_typed() {
    use crate::browser::{browser, chromedriver, serve, start_driver};
    use fantoccini::Locator;
    use std::time::{Duration, Instant};

    let app = demo().await;
    app.add_user("bientapvien", Role::Editor).await;
    let base = serve(&app).await;
    let driver = start_driver(chromedriver()).await;
    let client = browser(&driver, true).await;
    client.goto(&format!("{base}/admin/login")).await.unwrap();
    for (css, value) in [("#username", "bientapvien"), ("#password", PASSWORD)] {
        let el = client.find(Locator::Css(css)).await.unwrap();
        el.send_keys(value).await.unwrap();
    }
    client
        .find(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client
        .current_url()
        .await
        .is_ok_and(|u| u.path() == "/admin")
    {
        assert!(Instant::now() < deadline, "not signed in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
        .goto(&format!("{base}/admin/articles/new"))
        .await
        .unwrap();
    let field = client.find(Locator::Css("#tags")).await.unwrap();
    field.send_keys("Bài mẫu, giao d").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let option = loop {
        if let Ok(b) = client.find(Locator::Css(".tag-suggestions button")).await
            && b.is_displayed().await.unwrap_or(false)
        {
            break b;
        }
        assert!(Instant::now() < deadline, "no suggestions appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(option.text().await.unwrap(), "Giáo dục");
    option.click().await.unwrap();
    let value = field.prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("Bài mẫu, Giáo dục, "));
    let shown = client
        .find(Locator::Css(".tag-suggestions"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap();
    assert!(!shown, "the list closes after a choice");
}
