//! The JSON API: tokens (created in the admin and by the services, read-only, revoked,
//! expired, a disabled account's), writes through the newsroom's rules, public reads with
//! cursors and ETags, every kind of bad input answered with a stable code and nothing changed,
//! and the OpenAPI document with its reference page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bantin_app::{Actor, TokenName};
use bantin_core::account::Role;
use bantin_core::{ArticleStatus, CategoryId, UserId};
use bantin_web::WebSettings;
use serde_json::{Value, json};

use crate::helpers::{Agent, PASSWORD, TestApp, TestResponse};

const PEER: &str = "198.51.100.20:4000";

impl TestApp {
    async fn token(&self, user: UserId, read_only: bool) -> String {
        self.app()
            .create_api_token(
                &Actor::cli(),
                user,
                &TokenName::parse("test").unwrap(),
                read_only,
                None,
            )
            .await
            .unwrap()
            .token
    }

    async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = body.map_or_else(Body::empty, |s| Body::from(s.to_owned()));
        self.request(b.body(body).unwrap(), PEER).await
    }

    async fn category(&self, slug: &str) -> CategoryId {
        self.store()
            .categories()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.slug == slug)
            .unwrap()
            .id
    }

    async fn article_count(&self) -> usize {
        self.store()
            .newsroom_articles(&Default::default(), 1000, 0)
            .await
            .unwrap()
            .len()
    }
}

fn json_of(r: &TestResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

fn code(r: &TestResponse) -> String {
    json_of(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn create_publish_read_back_with_the_newsroom_rules() {
    let app = TestApp::with_demo().await;
    let cat = app.category("xay-dung-dang").await;
    let chief = app.add_user("api-chief", Role::EditorInChief).await;
    let editor = app.add_user("api-editor", Role::Editor).await;
    let chief_token = app.token(chief, false).await;
    let editor_token = app.token(editor, false).await;

    // An editor creates a draft: sanitised like the editor's, tags kept, audited as them.
    let body = json!({
        "title": "Bài viết gửi qua API",
        "category_id": cat.get(),
        "lead": "Tóm tắt.",
        "body": "<p>Nội dung <script>alert(1)</script><b>đậm</b></p>",
        "tags": ["chuyển đổi số", "API"],
    })
    .to_string();
    let created = app
        .api(
            "POST",
            "/api/v1/articles",
            Some(&editor_token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let a = json_of(&created);
    let id = a["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(&*format!("/api/v1/articles/{id}"))
    );
    assert_eq!(a["status"], "draft");
    assert!(!a["body_html"].as_str().unwrap().contains("script"));
    assert_eq!(a["tags"], json!(["chuyển đổi số", "API"]));
    let audit = app
        .store()
        .audit_entries(&Default::default(), 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "article.created"
            && e.username == "api-editor"
            && e.target == format!("article:{id}")),
        "audited as the token's account"
    );

    // A draft is not public; its writer's token reads it, privately.
    let anon = app
        .api("GET", &format!("/api/v1/articles/{id}"), None, None, &[])
        .await;
    assert_eq!(anon.status, StatusCode::NOT_FOUND);
    assert_eq!(code(&anon), "not_found");
    let mine = app
        .api(
            "GET",
            &format!("/api/v1/articles/{id}"),
            Some(&editor_token),
            None,
            &[],
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.header("cache-control"), Some("private, no-store"));

    // The workflow as in the admin: an editor may submit, not publish.
    let p = format!("/api/v1/articles/{id}/publish");
    let refused = app.api("POST", &p, Some(&editor_token), None, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&refused), "forbidden");
    let submitted = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/submit"),
            Some(&editor_token),
            None,
            &[],
        )
        .await;
    assert_eq!(json_of(&submitted)["status"], "pending");
    let again = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/submit"),
            Some(&editor_token),
            None,
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(code(&again), "wrong_status");
    let published = app.api("POST", &p, Some(&chief_token), None, &[]).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(json_of(&published)["status"], "published");
    app.settle().await;

    // Read back by anyone, cacheable, with a validator.
    let read = app
        .api("GET", &format!("/api/v1/articles/{id}"), None, None, &[])
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(json_of(&read)["title"], "Bài viết gửi qua API");
    assert_eq!(read.header("cache-control"), Some("public, max-age=30"));
    assert_eq!(read.header("vary"), Some("authorization"));
    let etag = read.header("etag").unwrap().to_owned();
    let cached = app
        .api(
            "GET",
            &format!("/api/v1/articles/{id}"),
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let page = app.get(json_of(&read)["url"].as_str().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK, "the reader page shows it");

    // Update from the revision read; the same base again is stale and changes nothing.
    let rev = json_of(&read)["revision"].as_i64().unwrap();
    let edit = |title: &str, rev: i64| {
        json!({ "title": title, "category_id": cat.get(), "revision": rev, "tags": ["API"] })
            .to_string()
    };
    let path = format!("/api/v1/articles/{id}");
    let saved = app
        .api(
            "PUT",
            &path,
            Some(&chief_token),
            Some(&edit("Tiêu đề mới", rev)),
            &[],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(
        json_of(&saved)["status"],
        "published",
        "a save keeps the status"
    );
    let stale = app
        .api(
            "PUT",
            &path,
            Some(&chief_token),
            Some(&edit("Ghi đè", rev)),
            &[],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(code(&stale), "stale_revision");
    assert_eq!(json_of(&stale)["error"]["current_revision"], rev + 1);
    let no_rev = json!({ "title": "x", "category_id": cat.get() }).to_string();
    let r = app
        .api("PUT", &path, Some(&chief_token), Some(&no_rev), &[])
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "revision_required".into())
    );
    let now = app
        .store()
        .article(bantin_core::ArticleId::new(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.title, "Tiêu đề mới");

    // An editor cannot edit a published article (the admin's rule).
    let by_editor = app
        .api(
            "PUT",
            &path,
            Some(&editor_token),
            Some(&edit("Sửa", rev + 1)),
            &[],
        )
        .await;
    assert_eq!(
        by_editor.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_editor.body
    );

    // Unpublished: gone from the public API.
    let down = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/unpublish"),
            Some(&chief_token),
            None,
            &[],
        )
        .await;
    assert_eq!(json_of(&down)["status"], "unpublished");
    app.settle().await;
    let gone = app.api("GET", &path, None, None, &[]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idempotency_key_makes_one_article() {
    let app = TestApp::with_demo().await;
    let cat = app.category("xay-dung-dang").await;
    let admin = app.add_user("api-admin", Role::Administrator).await;
    let token = app.token(admin, false).await;
    let body = json!({ "title": "Một lần thôi", "category_id": cat.get() }).to_string();
    let before = app.article_count().await;
    let key = [("idempotency-key", "abc-123")];
    let a = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&body), &key)
        .await;
    let b = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&body), &key)
        .await;
    assert_eq!(json_of(&a)["id"], json_of(&b)["id"]);
    assert_eq!(app.article_count().await, before + 1);
    let bad = app
        .api(
            "POST",
            "/api/v1/articles",
            Some(&token),
            Some(&body),
            &[("idempotency-key", "a b")],
        )
        .await;
    assert_eq!(code(&bad), "invalid_idempotency_key");
}

/// A bad request: what it is, its token, body and headers, and the status and code expected.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    String,
    Vec<(&'a str, &'a str)>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn bad_input_has_a_stable_code_and_changes_nothing() {
    let app = TestApp::with_settings(WebSettings {
        api_body_limit: 4096,
        ..WebSettings::default()
    })
    .await;
    let cat = app.category("xay-dung-dang").await;
    let editor = app.add_user_in("api-ed", Role::Editor, &[cat]).await;
    let other = app.category("kinh-te-xa-hoi").await;
    let token = app.token(editor, false).await;
    let read_only = app.token(editor, true).await;
    let before = app.article_count().await;
    let ok = json!({ "title": "Hợp lệ", "category_id": cat.get() }).to_string();

    let cases: Vec<Case<'_>> = vec![
        (
            "no token",
            None,
            ok.clone(),
            vec![],
            StatusCode::UNAUTHORIZED,
            "token_required",
        ),
        (
            "read-only",
            Some(&read_only),
            ok.clone(),
            vec![],
            StatusCode::FORBIDDEN,
            "read_only_token",
        ),
        (
            "malformed",
            Some(&token),
            "{\"title\": ".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "trailing",
            Some(&token),
            format!("{ok} x"),
            vec![],
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong type",
            Some(&token),
            json!({ "title": 1, "category_id": cat.get() }).to_string(),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "unknown field",
            Some(&token),
            json!({ "title": "a", "category_id": cat.get(), "status": "published" }).to_string(),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "missing field",
            Some(&token),
            json!({ "title": "a" }).to_string(),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "oversized",
            Some(&token),
            json!({ "title": "a", "category_id": cat.get(), "body": "x".repeat(5000) }).to_string(),
            vec![],
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "not json",
            Some(&token),
            ok.clone(),
            vec![("content-type", "text/plain")],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "beyond its categories",
            Some(&token),
            json!({ "title": "a", "category_id": other.get() }).to_string(),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        (
            "bad time",
            Some(&token),
            json!({ "title": "a", "category_id": cat.get(), "publish_at": "hôm qua" }).to_string(),
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        (
            "not a token",
            Some("bantin_nope"),
            ok.clone(),
            vec![],
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
    ];
    for (what, tok, body, headers, status, want) in cases {
        let mut b = Request::post("/api/v1/articles");
        if let Some(t) = tok {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let mut has_type = false;
        for (k, v) in &headers {
            has_type |= *k == "content-type";
            b = b.header(*k, *v);
        }
        if !has_type {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let r = app.request(b.body(Body::from(body)).unwrap(), PEER).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(code(&r), want, "{what}");
        assert!(
            json_of(&r)["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let basic = app
        .api(
            "GET",
            "/api/v1/articles",
            None,
            None,
            &[("authorization", "Basic eDp5")],
        )
        .await;
    assert_eq!(code(&basic), "invalid_token");
    for q in [
        "cursor=zz",
        "cursor=7631",
        "limit=0",
        "limit=101",
        "limit=x",
        "category=999999",
        "tag=%00",
        "nonsense=1",
    ] {
        let r = app
            .api("GET", &format!("/api/v1/articles?{q}"), None, None, &[])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.body);
        assert!(
            ["invalid_query", "invalid_cursor", "unknown_category"].contains(&code(&r).as_str()),
            "{q}"
        );
    }
    for p in [
        "/api/v1/articles/abc",
        "/api/v1/articles/0",
        "/api/v1/nothing",
        "/api/v1/articles/99999",
    ] {
        let r = app.api("GET", p, None, None, &[]).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::NOT_FOUND, "not_found".into()),
            "{p}"
        );
    }
    assert_eq!(app.article_count().await, before, "nothing was created");

    // Revoked, expired, disabled: each refused with its code.
    let revoked = app.token(editor, false).await;
    let id = app.store().user_api_tokens(editor).await.unwrap()[0].id;
    app.app()
        .revoke_api_token(&Actor::cli(), id, None)
        .await
        .unwrap();
    let expiring = app
        .app()
        .create_api_token(
            &Actor::cli(),
            editor,
            &TokenName::parse("x").unwrap(),
            false,
            Some(app.now().plus(60)),
        )
        .await
        .unwrap()
        .token;
    let r = app
        .api("GET", "/api/v1/tags", Some(&revoked), None, &[])
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "token_revoked".into())
    );
    assert!(r.header("www-authenticate").is_some());
    app.advance(61);
    let r = app
        .api("GET", "/api/v1/tags", Some(&expiring), None, &[])
        .await;
    assert_eq!(code(&r), "token_expired");
    app.app()
        .set_active(&Actor::cli(), editor, false)
        .await
        .unwrap();
    let r = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&ok), &[])
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "account_disabled".into())
    );
    assert_eq!(app.article_count().await, before);
}

#[tokio::test]
async fn lists_page_with_cursors_and_categories_need_category_rights() {
    let app = TestApp::with_demo().await;
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let q = if cursor.is_empty() {
            "/api/v1/articles?limit=7".to_owned()
        } else {
            format!("/api/v1/articles?limit=7&cursor={cursor}")
        };
        let r = app.api("GET", &q, None, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = json_of(&r);
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        next = v["next_cursor"].as_str().map(str::to_owned);
    }
    let public = app
        .store()
        .public_articles(
            &bantin_store::PublicArticleQuery {
                limit: 100,
                ..Default::default()
            },
            app.now(),
        )
        .await
        .unwrap();
    assert_eq!(seen, public.iter().map(|a| a.id.get()).collect::<Vec<_>>());
    assert!(seen.len() > 7, "several pages");

    let cats = json_of(&app.api("GET", "/api/v1/categories", None, None, &[]).await);
    assert!(
        cats["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == "xay-dung-dang")
    );
    let cat = app.category("xay-dung-dang").await;
    let in_cat = json_of(
        &app.api(
            "GET",
            &format!("/api/v1/articles?category={}", cat.get()),
            None,
            None,
            &[],
        )
        .await,
    );
    assert!(!in_cat["items"].as_array().unwrap().is_empty());
    assert_eq!(
        app.api("GET", "/api/v1/tags", None, None, &[]).await.status,
        StatusCode::OK
    );

    // Who may edit the category tree in the admin (editors-in-chief, administrators).
    let editor = app.add_user("api-editor2", Role::Editor).await;
    let admin = app.add_user("api-chief2", Role::EditorInChief).await;
    let body = json!({ "slug": "chuyen-muc-api", "title": "Chuyên mục API" }).to_string();
    let editor_token = app.token(editor, false).await;
    let r = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&editor_token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    let admin_token = app.token(admin, false).await;
    let r = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&admin_token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&admin_token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "slug_taken".into())
    );
    app.settle().await;
    let cats = json_of(&app.api("GET", "/api/v1/categories", None, None, &[]).await);
    assert!(
        cats["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == "chuyen-muc-api")
    );
}

#[tokio::test]
async fn tokens_are_made_in_the_admin_shown_once_and_revocable() {
    let app = TestApp::with_demo().await;
    app.add_user("api-page", Role::Editor).await;
    let mut agent = Agent::new(&app, "198.51.100.30:5000");
    agent.sign_in("api-page", PASSWORD).await;
    let csrf = agent.csrf().await;
    let page = agent
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("name", "Ứng dụng di động"),
                ("read_only", "1"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page.body.find("bantin_").expect("the token is shown");
    let token = page.body[start..start + 71].to_owned();
    let listed = agent.get("/admin/tokens").await;
    assert!(!listed.body.contains(&token), "shown only once");
    assert!(listed.body.contains("Ứng dụng di động"));
    let r = app
        .api("GET", "/api/v1/tags", Some(&token), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cat = app.category("xay-dung-dang").await;
    let body = json!({ "title": "x", "category_id": cat.get() }).to_string();
    let r = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&body), &[])
        .await;
    assert_eq!(code(&r), "read_only_token");
    let listed = agent.get("/admin/tokens").await;
    assert!(
        listed.body.contains("198.51.100.20"),
        "last-used address shown"
    );
    let id = app
        .store()
        .user_api_tokens(
            app.store()
                .user_by_username(&bantin_core::account::Username::parse("api-page").unwrap())
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap()[0]
        .id;
    let r = agent
        .post(&format!("/admin/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .api("GET", "/api/v1/tags", Some(&token), None, &[])
        .await;
    assert_eq!(code(&r), "token_revoked");
    // Without the CSRF token nothing is created.
    let n = app
        .store()
        .user_api_tokens(UserId::new(1))
        .await
        .unwrap()
        .len();
    let r = agent.post("/admin/tokens", &[("name", "x")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store()
            .user_api_tokens(UserId::new(1))
            .await
            .unwrap()
            .len(),
        n
    );
}

#[tokio::test]
async fn openapi_document_and_reference_page() {
    let app = TestApp::with_demo().await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = json_of(&r);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/articles",
        "/api/v1/articles/{id}",
        "/api/v1/articles/{id}/{action}",
        "/api/v1/categories",
        "/api/v1/categories/{id}",
        "/api/v1/tags",
        "/api/v1/media",
        "/api/v1/media/{id}",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let page = app.get("/api/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/api/v1/articles/{id}/{action}"));
    assert!(page.body.contains("/api/v1/media"));
    let actions = &doc["paths"]["/api/v1/articles/{id}/{action}"]["post"]["parameters"];
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "action")
        .unwrap();
    assert!(action["schema"].is_object(), "{action}");
    let schema = match action["schema"].get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()]["enum"],
        None => &action["schema"]["enum"],
    };
    assert_eq!(
        (action["in"].as_str(), schema),
        (Some("path"), &json!(["submit", "publish", "unpublish"]))
    );
    let upload = &doc["paths"]["/api/v1/media"]["post"]["requestBody"]["content"];
    assert!(upload["application/octet-stream"].is_object(), "{upload}");
    assert!(page.body.contains("ArticleInput"));
    assert!(
        !page.body.contains("<script"),
        "no scripts, none from elsewhere"
    );
    // API answers are never reader pages of the page cache.
    let r = app.api("GET", "/api/v1/categories/", None, None, &[]).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let _ = ArticleStatus::Draft;
}

#[tokio::test]
async fn a_meta_description_is_written_and_read_through_the_api() {
    let app = TestApp::with_demo().await;
    let cat = app.category("xay-dung-dang").await;
    let chief = app.add_user("api-seo", Role::EditorInChief).await;
    let token = app.token(chief, false).await;
    let before = app.article_count().await;
    for (bad, status) in [
        (
            json!("<script>x</script>"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!("a".repeat(301)), StatusCode::UNPROCESSABLE_ENTITY),
        (json!("tab\u{0}null"), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(42), StatusCode::UNPROCESSABLE_ENTITY),
        (json!(["x"]), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let body = json!({ "title": "Mô tả", "category_id": cat.get(), "meta_description": bad })
            .to_string();
        let r = app
            .api("POST", "/api/v1/articles", Some(&token), Some(&body), &[])
            .await;
        assert_eq!(r.status, status, "{bad}: {}", r.body);
        if bad.is_string() {
            assert_eq!(code(&r), "invalid_fields");
            assert!(
                json_of(&r)["error"]["fields"]["meta_description"].is_string(),
                "{}",
                r.body
            );
        } else {
            assert_eq!(code(&r), "invalid_body");
        }
    }
    assert_eq!(app.article_count().await, before, "nothing created");

    let body = json!({
        "title": "Mô tả qua API",
        "category_id": cat.get(),
        "lead": "Phần tóm tắt.",
        "meta_description": "  Mô tả\nriêng cho chia sẻ.  ",
    })
    .to_string();
    let r = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&body), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = json_of(&r);
    assert_eq!(a["meta_description"], "Mô tả riêng cho chia sẻ.");
    let id = a["id"].as_i64().unwrap();
    let p = format!("/api/v1/articles/{id}/publish");
    let r = app.api("POST", &p, Some(&token), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.settle().await;
    let read = json_of(
        &app.api("GET", &format!("/api/v1/articles/{id}"), None, None, &[])
            .await,
    );
    assert_eq!(read["meta_description"], "Mô tả riêng cho chia sẻ.");
    let page = app.get(read["url"].as_str().unwrap()).await;
    assert!(
        page.body
            .contains(r#"<meta name="description" content="Mô tả riêng cho chia sẻ.">"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"content="Phần tóm tắt.""#));

    // An update without it clears it: the lead describes the page again.
    let edit = json!({
        "title": "Mô tả qua API",
        "category_id": cat.get(),
        "lead": "Phần tóm tắt.",
        "revision": read["revision"],
    })
    .to_string();
    let r = app
        .api(
            "PUT",
            &format!("/api/v1/articles/{id}"),
            Some(&token),
            Some(&edit),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["meta_description"], "");
    app.settle().await;
    let page = app.get(read["url"].as_str().unwrap()).await;
    assert!(
        page.body
            .contains(r#"<meta name="description" content="Phần tóm tắt.">"#)
    );
}

/// A real PNG of `w`×`h` pixels, a gradient (so two sizes never share content).
fn png(w: u32, h: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let px: Vec<u8> = (0..w * h * 3).map(|i| (i % 253) as u8).collect();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&px, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

impl TestApp {
    /// `POST /api/v1/media?name=…` with `bytes` as the body.
    async fn upload(&self, token: Option<&str>, name: &str, bytes: Vec<u8>) -> TestResponse {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .finish();
        let mut b = Request::builder()
            .method("POST")
            .uri(format!("/api/v1/media?{query}"))
            .header(header::CONTENT_TYPE, "application/octet-stream");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.request(b.body(Body::from(bytes)).unwrap(), PEER).await
    }

    async fn media_count(&self) -> usize {
        self.store()
            .media_list(&Default::default(), 500, 0)
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn media_is_uploaded_with_a_token_through_the_admins_service() {
    let app = TestApp::with_demo().await;
    let editor = app.add_user("api-media", Role::Editor).await;
    let token = app.token(editor, false).await;
    let read_only = app.token(editor, true).await;
    let before = app.media_count().await;

    // Refusals first: nothing is stored by any of them.
    let r = app.upload(None, "anh.png", png(40, 30)).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "token_required".into())
    );
    let r = app
        .upload(Some("bantin_forged"), "anh.png", png(40, 30))
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "invalid_token".into())
    );
    let r = app.upload(Some(&read_only), "anh.png", png(40, 30)).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "read_only_token".into())
    );
    let r = app
        .upload(
            Some(&token),
            "trang.html",
            b"<html><script>alert(1)</script>".to_vec(),
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type".into()
        ),
        "{}",
        r.body
    );
    let r = app
        .upload(
            Some(&token),
            "anh.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let mut cut = png(40, 30);
    cut.truncate(cut.len() / 2);
    let r = app.upload(Some(&token), "cut.png", cut).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app.upload(Some(&token), "rong.png", Vec::new()).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::BAD_REQUEST, "empty_file".into())
    );
    // Over the library's limit (30 MiB by default): refused by its declared length, and by
    // its bytes when it declares none.
    let max = bantin_media::IntakeSettings::default().max_bytes as usize;
    let mut huge = png(40, 30);
    huge.resize(max + 1, 0);
    let r = app.upload(Some(&token), "lon.png", huge).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/media?name=lon.png")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_LENGTH, (max + 1).to_string())
        .body(Body::from(png(40, 30)))
        .unwrap();
    let r = app.request(req, PEER).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Far over the name's limit, in 4-byte characters: still the API's own answer.
    let long = format!("/api/v1/media?name={}.png", "a".repeat(117));
    let huge_name = format!("/api/v1/media?name={}", "%F0%9F%98%80".repeat(1000));
    for bad in [
        "/api/v1/media",
        "/api/v1/media?name=",
        "/api/v1/media?name=%20",
        "/api/v1/media?name=a%0Ab.png",
        "/api/v1/media?name=a.png&x=1",
        long.as_str(),
        huge_name.as_str(),
    ] {
        let req = Request::builder()
            .method("POST")
            .uri(bad)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(png(40, 30)))
            .unwrap();
        let r = app.request(req, PEER).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::BAD_REQUEST, "invalid_query".into()),
            "{bad}"
        );
    }
    assert_eq!(app.media_count().await, before, "nothing stored");

    // A real picture: in the library, audited as the token's account, its file served.
    let r = app
        .upload(Some(&token), "Hội nghị_2026.png", png(640, 480))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let item = json_of(&r);
    let id = item["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(&*format!("/api/v1/media/{id}")));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(item["kind"], "image");
    assert_eq!(
        (item["width"].as_i64(), item["height"].as_i64()),
        (Some(640), Some(480))
    );
    assert_eq!(item["alt"], "Hội nghị 2026", "alt text from the file name");
    let url = item["url"].as_str().unwrap();
    assert!(url.starts_with("/media/lib/"), "{url}");
    assert!(item["srcset"].as_str().unwrap().contains(" 640w"));
    assert_eq!(app.media_count().await, before + 1);
    let audit = app
        .store()
        .audit_entries(&Default::default(), 20)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "media.uploaded"
        && e.username == "api-media"
        && e.target == format!("media:{id}")));
    assert_eq!(
        app.get(url).await.status,
        StatusCode::OK,
        "the file is served"
    );
    // The same picture again is the same item.
    let again = app.upload(Some(&token), "ban-sao.png", png(640, 480)).await;
    assert_eq!(json_of(&again)["id"], id);
    assert_eq!(app.media_count().await, before + 1);

    // Read back: with a token (read-only too), never anonymously.
    let path = format!("/api/v1/media/{id}");
    let r = app.api("GET", &path, Some(&read_only), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["url"], url);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let etag = r.header("etag").unwrap().to_owned();
    let r = app
        .api(
            "GET",
            &path,
            Some(&token),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = app.api("GET", &path, None, None, &[]).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "token_required".into())
    );
    for missing in [
        "/api/v1/media/999999",
        "/api/v1/media/abc",
        "/api/v1/media/-1",
    ] {
        let r = app.api("GET", missing, Some(&token), None, &[]).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::NOT_FOUND, "not_found".into()),
            "{missing}"
        );
    }

    // Used as an article's picture through the API.
    let cat = app.category("xay-dung-dang").await;
    let body = json!({ "title": "Có ảnh", "category_id": cat.get(), "image_url": url }).to_string();
    let r = app
        .api("POST", "/api/v1/articles", Some(&token), Some(&body), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(json_of(&r)["image_url"], url);
}

#[tokio::test]
async fn categories_are_created_and_renamed_with_the_admins_rules() {
    let owned = TestApp::with_demo().await;
    let app = &owned;
    let chief = app.add_user("api-cats", Role::EditorInChief).await;
    let editor = app.add_user("api-cats-ed", Role::Editor).await;
    let token = app.token(chief, false).await;
    let read_only = app.token(chief, true).await;
    let editor_token = app.token(editor, false).await;
    let count = || async { app.store().categories().await.unwrap().len() };
    let before = count().await;
    let post = |token: &str, body: Value| {
        let token = token.to_owned();
        async move {
            app.api(
                "POST",
                "/api/v1/categories",
                Some(&token),
                Some(&body.to_string()),
                &[],
            )
            .await
        }
    };

    // Refused: no rights, read-only, reserved or bad addresses, bad fields, unknown parent.
    let r = post(&editor_token, json!({ "title": "Tin mới" })).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    let r = post(&read_only, json!({ "title": "Tin mới" })).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "read_only_token".into())
    );
    for reserved in ["admin", "api", "sitemap", "tag"] {
        let r = post(&token, json!({ "title": "X", "slug": reserved })).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::CONFLICT, "slug_taken".into()),
            "{reserved}"
        );
    }
    let r = post(&token, json!({ "title": "Tìm kiếm" })).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "slug_taken".into()),
        "a title whose slug is reserved"
    );
    for (body, field) in [
        (json!({ "title": "" }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
        (json!({ "title": "Dòng\u{0}điều khiển" }), "title"),
        (json!({ "title": "Hai\ndòng" }), "title"),
        (json!({ "title": "X", "slug": "Có Dấu" }), "slug"),
        (json!({ "title": "X", "slug": "../admin" }), "slug"),
        (
            json!({ "title": "X", "description": "d".repeat(1001) }),
            "description",
        ),
        (json!({ "title": "X", "parent_id": 999_999 }), "parent_id"),
        (json!({ "title": "X", "parent_id": 0 }), "parent_id"),
    ] {
        let r = post(&token, body.clone()).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields".into()),
            "{body}"
        );
        assert!(
            json_of(&r)["error"]["fields"][field].is_string(),
            "{}",
            r.body
        );
    }
    for body in [
        json!({ "title": "X", "position": 3 }),
        json!({ "title": 5 }),
        json!({ "slug": "khong-ten" }),
    ] {
        let r = post(&token, body.clone()).await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body".into()),
            "{body}"
        );
    }
    assert_eq!(count().await, before, "nothing created");

    // Created under a parent, its address made from the title; a hidden one stays unlisted.
    let parent = app.category("xay-dung-dang").await;
    let r = post(
        &token,
        json!({ "title": " Gương sáng  giữa đời thường ", "parent_id": parent.get(),
                "description": "Dòng một\r\ndòng hai" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let c = json_of(&r);
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(&*format!("/api/v1/categories/{id}"))
    );
    assert_eq!(c["slug"], "guong-sang-giua-doi-thuong");
    assert_eq!(c["parent_id"], parent.get());
    assert_eq!(c["description"], "Dòng một  dòng hai");
    let url = c["url"].as_str().unwrap().to_owned();
    assert_eq!(url, "/guong-sang-giua-doi-thuong/");
    let r = app
        .api("GET", &format!("/api/v1/categories/{id}"), None, None, &[])
        .await;
    assert_eq!(json_of(&r)["title"], "Gương sáng  giữa đời thường");
    app.settle().await;
    assert_eq!(app.get(&url).await.status, StatusCode::OK);

    // Renamed and given a new address: the old one answers 301 to the new.
    let put = |id: i64, token: &str, body: Value| {
        let token = token.to_owned();
        async move {
            app.api(
                "PUT",
                &format!("/api/v1/categories/{id}"),
                Some(&token),
                Some(&body.to_string()),
                &[],
            )
            .await
        }
    };
    let r = put(
        id,
        &token,
        json!({ "title": "Làm theo gương Bác", "slug": "lam-theo-guong-bac", "parent_id": parent.get() }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["url"], "/lam-theo-guong-bac/");
    app.settle().await;
    let old = app.get(&url).await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(old.location(), "/lam-theo-guong-bac/");
    let audit = app
        .store()
        .audit_entries(&Default::default(), 20)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| {
        e.action == "category.updated"
            && e.username == "api-cats"
            && e.detail
                .contains("slug guong-sang-giua-doi-thuong → lam-theo-guong-bac")
    }));

    // No category under itself or below it; no address another has; unknown ones not found.
    let r = put(
        parent.get(),
        &token,
        json!({ "title": "Xây dựng Đảng", "slug": "xay-dung-dang", "parent_id": id }),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "category_cycle".into()),
        "{}",
        r.body
    );
    let r = put(
        id,
        &token,
        json!({ "title": "X", "slug": "xay-dung-dang", "parent_id": id }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = put(id, &token, json!({ "title": "X", "slug": "xay-dung-dang" })).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "slug_taken".into())
    );
    let r = put(id, &editor_token, json!({ "title": "X" })).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    for missing in ["999999", "abc", "0"] {
        let r = app
            .api(
                "PUT",
                &format!("/api/v1/categories/{missing}"),
                Some(&token),
                Some(&json!({ "title": "X" }).to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (r.status, code(&r)),
            (StatusCode::NOT_FOUND, "not_found".into()),
            "{missing}"
        );
    }
    let now = app.store().category(parent).await.unwrap().unwrap();
    assert_eq!(now.parent_id, None, "the refused move changed nothing");
    assert_eq!(count().await, before + 1);

    // Hidden: out of the public list, its own address still answers.
    let r = put(
        id,
        &token,
        json!({ "title": "Làm theo gương Bác", "slug": "lam-theo-guong-bac", "parent_id": parent.get(), "listed": false }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.settle().await;
    let list = json_of(&app.api("GET", "/api/v1/categories", None, None, &[]).await);
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id)
    );
    let r = app
        .api("GET", &format!("/api/v1/categories/{id}"), None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_workflow_step_is_not_found_and_changes_nothing() {
    let app = TestApp::with_demo().await;
    let cat = app.category("xay-dung-dang").await;
    let admin = app.add_user("api-steps", Role::Administrator).await;
    let token = app.token(admin, false).await;
    let body = json!({ "title": "Bước lạ", "category_id": cat.get() }).to_string();
    let id = json_of(
        &app.api("POST", "/api/v1/articles", Some(&token), Some(&body), &[])
            .await,
    )["id"]
        .as_i64()
        .unwrap();
    // A NUL in a path is refused before routing, by the site-wide guard.
    let r = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/publish%00"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for step in [
        "approve",
        "trash",
        "Publish",
        "publish%20",
        "reject",
        "save",
        "..%2Fpublish",
    ] {
        let r = app
            .api(
                "POST",
                &format!("/api/v1/articles/{id}/{step}"),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{step}: {}", r.body);
        assert!(!r.body.is_empty(), "{step}");
        assert_eq!(code(&r), "not_found", "{step}");
    }
    for bad_id in ["0", "abc", "99999999"] {
        let r = app
            .api(
                "POST",
                &format!("/api/v1/articles/{bad_id}/publish"),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad_id}");
    }
    let a = app
        .store()
        .article(bantin_core::ArticleId::new(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status(), ArticleStatus::Draft);
    assert_eq!(a.revision, 1);
    // The one operation still does each step.
    let r = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/publish"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(json_of(&r)["status"], "published");
    let r = app
        .api(
            "POST",
            &format!("/api/v1/articles/{id}/publish"),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::UNAUTHORIZED, "token_required".into())
    );
}
