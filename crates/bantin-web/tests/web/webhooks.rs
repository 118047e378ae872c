//! Webhooks: registered in the admin, fed by the change feed, signed, retried with backoff,
//! logged, delivered once even with several workers, and refused on private addresses unless
//! the setting allows them.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use bantin_app::{Actor, WebhookEvent, WebhookSettings, WebhookUrl, Webhooks};
use bantin_core::ArticleStatus;
use bantin_core::account::Role;
use bantin_web::WebSettings;

use crate::helpers::{Agent, PASSWORD, TestApp};

/// A local HTTP receiver: records each request; answers with the statuses queued, then 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Self, String) {
        let r = Self::default();
        r.answers.lock().unwrap().extend(answers.iter().rev());
        let state = r.clone();
        let router = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.got.lock().unwrap().push((headers, body));
                let code = state.answers.lock().unwrap().pop().unwrap_or(200);
                StatusCode::from_u16(code).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        (r, format!("http://{addr}/hook"))
    }

    fn events(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| h["x-bantin-event"].to_str().unwrap().to_owned())
            .collect()
    }
}

fn allowing_private() -> WebSettings {
    WebSettings {
        webhooks_allow_private: true,
        ..WebSettings::default()
    }
}

#[tokio::test]
async fn events_are_signed_retried_and_logged() {
    let app = TestApp::with_settings(allowing_private()).await;
    let (rx, url) = Receiver::start(&[500]).await;
    let worker = app.state.webhooks().clone();
    worker.pass().await.unwrap();

    // Registered in the admin by an administrator; the secret is shown once.
    app.add_user("hook-admin", Role::Administrator).await;
    let mut agent = Agent::new(&app, "198.51.100.40:5000");
    agent.sign_in("hook-admin", PASSWORD).await;
    let csrf = agent.csrf().await;
    let page = agent
        .post(
            "/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &url),
                ("event", "article.published"),
                ("event", "article.updated"),
                ("event", "article.unpublished"),
                ("event", "article.deleted"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let at = page.body.find("id=\"new-secret\">").unwrap() + "id=\"new-secret\">".len();
    let secret = page.body[at..at + 64].to_owned();
    let bad = agent
        .post(
            "/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "ftp://x/"),
                ("event", "article.published"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Published: the first attempt fails (500) and is retried after the backoff.
    let id = app
        .add_article(
            "Bài có webhook",
            ArticleStatus::Published,
            app.now().minus(10),
            None,
        )
        .await;
    assert_eq!(worker.pass().await.unwrap(), 1);
    assert_eq!(rx.events(), ["article.published"]);
    assert_eq!(worker.pass().await.unwrap(), 0, "not before its retry time");
    app.advance(31);
    assert_eq!(worker.pass().await.unwrap(), 1);
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    for (h, body) in &got {
        let sig = h["x-bantin-signature"].to_str().unwrap();
        let t: i64 = sig
            .strip_prefix("t=")
            .and_then(|s| s.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            sig,
            bantin_app::signature(&secret, t, body),
            "verifies with the secret"
        );
        assert_ne!(sig, bantin_app::signature("another secret", t, body));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["event"], "article.published");
        assert_eq!(v["article"]["id"], id.get());
        assert_eq!(h["content-type"], "application/json");
    }
    assert_eq!(got[0].0["x-bantin-delivery"], got[1].0["x-bantin-delivery"]);

    // Updated, unpublished, published again, deleted (trashed).
    let a = app.store().article(id).await.unwrap().unwrap();
    let mut edit = bantin_store::NewArticle {
        title: "Bài có webhook, sửa".to_owned(),
        slug: bantin_core::Slug::parse(&a.slug).unwrap(),
        lead: a.lead.clone(),
        body: a.body(),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: String::new(),
        source: String::new(),
        tags: vec![],
        status: a.status(),
        publish_at: a.publish_at,
        expire_at: None,
        category_id: a.category_id,
        extra_category_ids: vec![],
        options: Default::default(),
    };
    app.app()
        .update_article(&Actor::cli(), id, &edit)
        .await
        .unwrap();
    worker.pass().await.unwrap();
    app.set_status(id, ArticleStatus::Unpublished).await;
    worker.pass().await.unwrap();
    app.set_status(id, ArticleStatus::Published).await;
    worker.pass().await.unwrap();
    app.set_status(id, ArticleStatus::Trash).await;
    worker.pass().await.unwrap();
    assert_eq!(
        rx.events(),
        [
            "article.published",
            "article.published",
            "article.updated",
            "article.unpublished",
            "article.published",
            "article.deleted"
        ]
    );
    // A draft's edits tell nobody anything.
    let draft = app
        .add_article("Nháp", ArticleStatus::Draft, app.now(), None)
        .await;
    edit.title = "Nháp 2".to_owned();
    edit.slug = bantin_core::Slug::parse("nhap").unwrap();
    edit.status = ArticleStatus::Draft;
    app.app()
        .update_article(&Actor::cli(), draft, &edit)
        .await
        .unwrap();
    worker.pass().await.unwrap();
    assert_eq!(rx.events().len(), 6);

    // The log in the admin.
    let log = agent.get("/admin/webhooks").await;
    assert!(log.body.contains("article.deleted"));
    assert!(log.body.contains("HTTP 500") || log.body.contains("HTTP 200"));
    let hooks = app.store().webhooks().await.unwrap();
    let deliveries = app
        .store()
        .webhook_deliveries(hooks[0].id, 50)
        .await
        .unwrap();
    assert!(deliveries.iter().all(|d| d.status == "delivered"));
    assert!(deliveries.iter().any(|d| d.attempts == 2));
    // Editors may not see or manage webhooks.
    app.add_user("hook-editor", Role::Editor).await;
    let mut editor = Agent::new(&app, "198.51.100.41:5000");
    editor.sign_in("hook-editor", PASSWORD).await;
    assert_eq!(
        editor.get("/admin/webhooks").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn several_workers_deliver_each_event_once() {
    let app = TestApp::with_settings(allowing_private()).await;
    let (rx, url) = Receiver::start(&[]).await;
    let settings = WebhookSettings {
        allow_private: true,
        ..WebhookSettings::default()
    };
    let w1 = Webhooks::new(app.app().clone(), settings.clone());
    let w2 = Webhooks::new(app.app().clone(), settings);
    w1.pass().await.unwrap();
    app.app()
        .register_webhook(
            &Actor::cli(),
            &WebhookUrl::parse(&url).unwrap(),
            &WebhookEvent::ALL,
        )
        .await
        .unwrap();
    for i in 0..5 {
        app.add_article(
            &format!("Bài số {i}"),
            ArticleStatus::Published,
            app.now().minus(5),
            None,
        )
        .await;
    }
    let (a, b) = tokio::join!(w1.pass(), w2.pass());
    a.unwrap();
    b.unwrap();
    w1.pass().await.unwrap();
    w2.pass().await.unwrap();
    assert_eq!(rx.events().len(), 5, "{:?}", rx.events());
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = TestApp::with_demo().await;
    let (rx, url) = Receiver::start(&[]).await;
    let worker = app.state.webhooks().clone();
    worker.pass().await.unwrap();
    let (hook, _) = app
        .app()
        .register_webhook(
            &Actor::cli(),
            &WebhookUrl::parse(&url).unwrap(),
            &[WebhookEvent::Published],
        )
        .await
        .unwrap();
    app.add_article(
        "Bài bí mật",
        ArticleStatus::Published,
        app.now().minus(5),
        None,
    )
    .await;
    worker.pass().await.unwrap();
    assert!(
        rx.got.lock().unwrap().is_empty(),
        "nothing reached the loopback receiver"
    );
    let d = &app.store().webhook_deliveries(hook, 5).await.unwrap()[0];
    assert_eq!(d.status, "pending", "retried later");
    assert!(d.last_error.contains("non-public"), "{}", d.last_error);
    for ip in [
        "127.0.0.1",
        "10.0.0.8",
        "169.254.169.254",
        "::1",
        "fd12::1",
        "192.168.0.10",
    ] {
        assert!(!bantin_app::is_public_address(ip.parse().unwrap()), "{ip}");
    }
}
