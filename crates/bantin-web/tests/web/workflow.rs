//! The newsroom's workflow through the services, on both databases: who may take which
//! action, scheduled publication and expiry by the scheduler (once, however many run), stale
//! saves refused, the trash. The admin pages that drive it come with the article editor.

use bantin_app::{Actor, AppError, Scheduler};
use bantin_core::access::Rights;
use bantin_core::account::Role;
use bantin_core::workflow::{Action, ExpiryAction, WorkflowError};
use bantin_core::{ArticleId, ArticleStatus, CategoryId, UserId};
use bantin_store::AuditFilter;

use crate::helpers::*;

struct Person {
    actor: Actor,
    rights: Rights,
}

async fn person(app: &TestApp, name: &str, role: Role, categories: &[CategoryId]) -> Person {
    let id: UserId = app.add_user(name, role).await;
    Person {
        actor: Actor {
            user_id: Some(id),
            username: name.to_owned(),
            ip: "198.51.100.90".to_owned(),
        },
        rights: Rights {
            role,
            all_categories: categories.is_empty(),
            categories: categories.to_vec(),
        },
    }
}

async fn status(app: &TestApp, id: ArticleId) -> ArticleStatus {
    app.store().article(id).await.unwrap().unwrap().status()
}

async fn public(app: &TestApp, id: ArticleId) -> bool {
    app.settle().await;
    let a = app.store().article(id).await.unwrap().unwrap();
    let cat = app
        .store()
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == a.category_id)
        .unwrap();
    app.get(&format!("/{}/{}-{id}.html", cat.slug, a.slug))
        .await
        .status
        == 200
}

#[tokio::test]
async fn an_editor_writes_and_submits_an_editor_in_chief_approves() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let culture = category(&app, "van-hoa-the-thao").await;
    let editor = person(&app, "bientap", Role::Editor, &[party]).await;
    let chief = person(&app, "bientapchinh", Role::EditorInChief, &[party]).await;
    let services = app.app();

    let id = services
        .create_article(
            &editor.actor,
            &draft("Bài của biên tập viên", party, app.now()),
        )
        .await
        .unwrap();
    // An editor never publishes, and never acts outside their categories.
    let refused = services
        .transition(&editor.actor, &editor.rights, id, Action::Approve, "")
        .await;
    assert!(matches!(
        refused,
        Err(AppError::Workflow(WorkflowError::NotAllowed))
    ));
    let moved = draft("Bài của biên tập viên", culture, app.now());
    let refused = services
        .save_article(&editor.actor, &editor.rights, id, &moved, 1)
        .await;
    assert!(matches!(
        refused,
        Err(AppError::Workflow(WorkflowError::NotAllowed))
    ));

    assert_eq!(
        services
            .transition(&editor.actor, &editor.rights, id, Action::Submit, "")
            .await
            .unwrap(),
        ArticleStatus::Pending
    );
    // A rejection needs a reason, and keeps it for the author.
    assert!(matches!(
        services
            .transition(&chief.actor, &chief.rights, id, Action::Reject, "  ")
            .await,
        Err(AppError::Workflow(WorkflowError::ReasonRequired))
    ));
    services
        .transition(
            &chief.actor,
            &chief.rights,
            id,
            Action::Reject,
            "Thiếu nguồn ảnh",
        )
        .await
        .unwrap();
    let a = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(
        (a.status(), a.rejection_reason.as_str()),
        (ArticleStatus::Rejected, "Thiếu nguồn ảnh")
    );
    assert!(!public(&app, id).await);

    services
        .transition(&editor.actor, &editor.rights, id, Action::Submit, "")
        .await
        .unwrap();
    assert_eq!(
        services
            .transition(&chief.actor, &chief.rights, id, Action::Approve, "")
            .await
            .unwrap(),
        ArticleStatus::Published
    );
    assert!(public(&app, id).await, "published and on its page at once");
    // Every step is in the audit log.
    let actions: Vec<String> = app
        .store()
        .audit_entries(
            &AuditFilter {
                action: Some("article".into()),
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "article.created",
        "article.submit",
        "article.reject",
        "article.approve",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn scheduled_articles_are_published_at_their_time_once() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let chief = person(&app, "bientapchinh", Role::EditorInChief, &[]).await;
    let mut a = draft("Bài hẹn giờ đăng", party, app.now() + 60);
    a.expire_at = Some(app.now() + 600);
    let id = app.app().create_article(&chief.actor, &a).await.unwrap();
    assert_eq!(
        app.app()
            .transition(&chief.actor, &chief.rights, id, Action::Approve, "")
            .await
            .unwrap(),
        ArticleStatus::Scheduled
    );
    assert!(!public(&app, id).await);

    app.advance(61);
    // Several processes' schedulers tick at once: the article is published once.
    let ticks: Vec<_> = (0..4)
        .map(|_| {
            let s = Scheduler::new(app.app().clone());
            tokio::spawn(async move { s.run_workflow().await })
        })
        .collect();
    let mut moved = 0;
    for t in ticks {
        moved += t.await.unwrap().unwrap();
    }
    assert_eq!(moved, 1);
    assert_eq!(status(&app, id).await, ArticleStatus::Published);
    assert!(
        public(&app, id).await,
        "on its page at its minute, with no other request"
    );
    let published = app
        .store()
        .audit_entries(
            &AuditFilter {
                action: Some("article.published_on_schedule".into()),
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap();
    assert_eq!(published.len(), 1);

    // Expiry archives by default: the article is kept, readers no longer see it.
    app.advance(600);
    app.tick().await;
    assert_eq!(status(&app, id).await, ArticleStatus::Archived);
    assert!(!public(&app, id).await);
}

#[tokio::test]
async fn expiry_can_unpublish_instead() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let chief = person(&app, "bientapchinh", Role::EditorInChief, &[]).await;
    let mut a = draft("Thông báo có hạn", party, app.now());
    a.expire_at = Some(app.now() + 10);
    a.options.expiry_action = ExpiryAction::Unpublish;
    let id = app.app().create_article(&chief.actor, &a).await.unwrap();
    app.app()
        .transition(&chief.actor, &chief.rights, id, Action::Approve, "")
        .await
        .unwrap();
    app.advance(11);
    app.tick().await;
    assert_eq!(status(&app, id).await, ArticleStatus::Unpublished);
}

#[tokio::test]
async fn a_stale_save_is_refused_and_changes_nothing() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let chief = person(&app, "bientapchinh", Role::EditorInChief, &[]).await;
    let id = app
        .app()
        .create_article(&chief.actor, &draft("Bài sửa cùng lúc", party, app.now()))
        .await
        .unwrap();
    let base = app.store().article(id).await.unwrap().unwrap().revision;
    let mut first = draft("Bài sửa cùng lúc", party, app.now());
    first.lead = "Bản của người thứ nhất.".to_owned();
    let mut second = first.clone();
    second.lead = "Bản của người thứ hai.".to_owned();
    let r = app
        .app()
        .save_article(&chief.actor, &chief.rights, id, &first, base)
        .await
        .unwrap();
    assert_eq!(r, base + 1);
    assert!(matches!(
        app.app()
            .save_article(&chief.actor, &chief.rights, id, &second, base)
            .await,
        Err(AppError::Stale(current)) if current == base + 1
    ));
    let a = app.store().article(id).await.unwrap().unwrap();
    assert_eq!(
        a.lead, "Bản của người thứ nhất.",
        "never a silent overwrite"
    );
    assert_eq!(
        a.status(),
        ArticleStatus::Draft,
        "a save does not change the status"
    );
}

#[tokio::test]
async fn the_trash_keeps_articles_thirty_days() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let editor = person(&app, "bientap", Role::Editor, &[party]).await;
    let keep = app
        .app()
        .create_article(
            &editor.actor,
            &draft("Bài bỏ rồi lấy lại", party, app.now()),
        )
        .await
        .unwrap();
    let gone = app
        .app()
        .create_article(&editor.actor, &draft("Bài bỏ hẳn", party, app.now()))
        .await
        .unwrap();
    for id in [keep, gone] {
        app.app()
            .transition(&editor.actor, &editor.rights, id, Action::Trash, "")
            .await
            .unwrap();
    }
    app.app()
        .transition(&editor.actor, &editor.rights, keep, Action::Restore, "")
        .await
        .unwrap();
    assert_eq!(status(&app, keep).await, ArticleStatus::Draft);
    app.advance(29 * 86_400);
    assert_eq!(app.app().purge_trash(30).await.unwrap(), 0);
    app.advance(2 * 86_400);
    assert_eq!(app.app().purge_trash(30).await.unwrap(), 1);
    assert!(app.store().article(gone).await.unwrap().is_none());
    assert!(app.store().article(keep).await.unwrap().is_some());
}

#[tokio::test]
async fn edit_locks_show_who_edits_go_stale_and_can_be_taken_over() {
    use bantin_app::{Editing, LOCK_STALE_SECONDS};
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let a = person(&app, "bientap-a", Role::Editor, &[party]).await;
    let b = person(&app, "bientap-b", Role::Editor, &[party]).await;
    let chief = person(&app, "bientapchinh", Role::EditorInChief, &[party]).await;
    let id = app
        .app()
        .create_article(&a.actor, &draft("Bài đang sửa", party, app.now()))
        .await
        .unwrap();
    let services = app.app();
    let opened = services
        .open_for_editing(&a.actor, &a.rights, id, false)
        .await
        .unwrap();
    let Editing::Mine(lock) = opened else {
        panic!("the first to open holds the lock: {opened:?}")
    };
    // Someone else sees who holds it and since when.
    app.advance(30);
    match services
        .open_for_editing(&b.actor, &b.rights, id, false)
        .await
        .unwrap()
    {
        Editing::HeldBy(held) => {
            assert_eq!(held.user_id, a.actor.user_id.unwrap());
            assert_eq!(held.acquired_at, lock.acquired_at);
        }
        other => panic!("{other:?}"),
    }
    // The holder's heartbeat keeps it; an editor cannot take it over.
    assert!(matches!(
        services
            .open_for_editing(&a.actor, &a.rights, id, false)
            .await
            .unwrap(),
        Editing::Mine(_)
    ));
    assert!(
        services
            .open_for_editing(&b.actor, &b.rights, id, true)
            .await
            .is_err()
    );
    // An editor-in-chief can, and it is audited.
    assert!(matches!(
        services
            .open_for_editing(&chief.actor, &chief.rights, id, true)
            .await
            .unwrap(),
        Editing::Mine(_)
    ));
    let audited = app
        .store()
        .audit_entries(
            &AuditFilter {
                action: Some("article.lock_taken_over".into()),
                ..Default::default()
            },
            5,
        )
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    // A lock whose heartbeat stopped is stale: anyone with the right may take it.
    app.advance(LOCK_STALE_SECONDS + 1);
    assert!(matches!(
        services
            .open_for_editing(&b.actor, &b.rights, id, false)
            .await
            .unwrap(),
        Editing::Mine(_)
    ));
    services.close_editing(&b.actor, id).await.unwrap();
    assert!(app.store().edit_lock(id).await.unwrap().is_none());
}

#[tokio::test]
async fn autosaved_text_survives_until_a_real_save() {
    let app = TestApp::with_demo().await;
    let party = category(&app, "xay-dung-dang").await;
    let editor = person(&app, "bientap", Role::Editor, &[party]).await;
    let id = app
        .app()
        .create_article(&editor.actor, &draft("Bài tự lưu", party, app.now()))
        .await
        .unwrap();
    let content = r#"{"lead":"Đoạn đang gõ dở khi phiên hết hạn"}"#;
    app.app()
        .autosave(&editor.actor, id, 1, content)
        .await
        .unwrap();
    // A forced sign-out does not touch it: it belongs to the account, not the session.
    let kept = app
        .app()
        .autosaved(&editor.actor, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.base_revision, kept.content.as_str()), (1, content));
    let mut a = draft("Bài tự lưu", party, app.now());
    a.lead = "Đoạn đang gõ dở khi phiên hết hạn".to_owned();
    app.app()
        .save_article(&editor.actor, &editor.rights, id, &a, 1)
        .await
        .unwrap();
    assert!(
        app.app()
            .autosaved(&editor.actor, id)
            .await
            .unwrap()
            .is_none()
    );
}
