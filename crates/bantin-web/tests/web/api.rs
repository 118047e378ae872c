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
async fn lists_page_with_cursors_and_categories_need_an_administrator() {
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

    let chief = app.add_user("api-chief2", Role::EditorInChief).await;
    let admin = app.add_user("api-admin2", Role::Administrator).await;
    let body = json!({ "slug": "chuyen-muc-api", "title": "Chuyên mục API" }).to_string();
    let chief_token = app.token(chief, false).await;
    let r = app
        .api(
            "POST",
            "/api/v1/categories",
            Some(&chief_token),
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
        "/api/v1/articles/{id}/publish",
        "/api/v1/categories",
        "/api/v1/tags",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let page = app.get("/api/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/api/v1/articles/{id}/unpublish"));
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
