//! Accounts through the services, on both databases: one transaction per operation with its
//! audit entry, and the rules that must hold under concurrency.

use bantin_app::{Actor, AppError, NewAccount, ProfileChange};
use bantin_core::account::{DisplayName, Email, NewPassword, Role, Username, verify_password};
use bantin_core::{CategoryId, UserId};
use bantin_store::AuditFilter;

use crate::helpers::*;

fn profile(role: Role) -> ProfileChange {
    ProfileChange {
        display_name: DisplayName::parse("Biên tập").unwrap(),
        email: Email::parse("bt@example.vn").unwrap(),
        role,
        all_categories: true,
        categories: Vec::new(),
    }
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    let f = AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    app.store().audit_entries(&f, 500).await.unwrap().len()
}

fn actor(id: UserId, name: &str) -> Actor {
    Actor {
        user_id: Some(id),
        username: name.to_owned(),
        ip: "203.0.113.9".to_owned(),
    }
}

#[tokio::test]
async fn accounts_are_stored_hashed_unique_and_can_be_disabled() {
    let app = TestApp::with_demo().await;
    let new = || NewAccount {
        username: Username::parse("bientap").unwrap(),
        password: NewPassword::parse("mật khẩu đủ dài rồi").unwrap(),
        profile: profile(Role::Editor),
    };
    let cli = Actor::cli();
    let id = app.app().create_account(&cli, new()).await.unwrap();
    assert!(matches!(
        app.app().create_account(&cli, new()).await,
        Err(AppError::UsernameTaken)
    ));
    assert_eq!(
        audit_count(&app, "user.created").await,
        1,
        "no entry for the refusal"
    );

    let u = app.store().user(id).await.unwrap().unwrap();
    assert_eq!(
        (
            u.role(),
            u.active,
            u.display_name.as_str(),
            u.email.as_str()
        ),
        (Role::Editor, true, "Biên tập", "bt@example.vn")
    );
    assert!(verify_password("mật khẩu đủ dài rồi", u.password_hash()));

    app.app().set_active(&cli, id, false).await.unwrap();
    assert!(!app.store().user(id).await.unwrap().unwrap().active);
    assert!(matches!(
        app.app().set_active(&cli, UserId::new(9999), false).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(audit_count(&app, "user.disabled").await, 1);
}

#[tokio::test]
async fn a_refused_change_leaves_no_trace() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("bientap", Role::Editor).await;
    let mut change = profile(Role::EditorInChief);
    change.all_categories = false;
    change.categories = vec![CategoryId::new(424_242)];
    let before = audit_count(&app, "user.updated").await;
    assert!(matches!(
        app.app().update_account(&Actor::cli(), id, &change).await,
        Err(AppError::UnknownCategory)
    ));
    let u = app.store().user(id).await.unwrap().unwrap();
    assert_eq!(
        u.role(),
        Role::Editor,
        "the role change was rolled back with the rest"
    );
    assert_eq!(audit_count(&app, "user.updated").await, before);
}

#[tokio::test]
async fn two_administrators_demoting_each_other_at_once_leave_one() {
    let app = TestApp::with_demo().await;
    for round in 0..6 {
        let a = app
            .add_user(&format!("quantri-a{round}"), Role::Administrator)
            .await;
        let b = app
            .add_user(&format!("quantri-b{round}"), Role::Administrator)
            .await;
        // Everyone else steps down first, so a and b are the only administrators.
        for u in app.store().users().await.unwrap() {
            if u.id != a && u.id != b && u.role() == Role::Administrator {
                app.app()
                    .update_account(&actor(a, "a"), u.id, &profile(Role::Editor))
                    .await
                    .unwrap();
            }
        }
        let demote = |by: UserId, target: UserId| {
            let services = app.app().clone();
            tokio::spawn(async move {
                services
                    .update_account(&actor(by, "x"), target, &profile(Role::Editor))
                    .await
            })
        };
        let (ra, rb) = (demote(a, b), demote(b, a));
        let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());
        assert!(
            ra.is_ok() != rb.is_ok(),
            "exactly one demotion wins: {ra:?} / {rb:?}"
        );
        let admins = app
            .store()
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.active && u.role() == Role::Administrator)
            .count();
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test]
async fn the_last_administrator_cannot_be_disabled_from_the_command_line_either() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("quantri", Role::Administrator).await;
    assert!(matches!(
        app.app().set_active(&Actor::cli(), id, false).await,
        Err(AppError::LastAdministrator)
    ));
    assert!(app.store().user(id).await.unwrap().unwrap().active);
}

#[tokio::test]
async fn password_changes_and_disabling_end_sessions_in_the_same_transaction() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("bientap", Role::Editor).await;
    let store = app.store();
    let sign_in = || async {
        match app
            .app()
            .sign_in("198.51.100.1", "bientap", PASSWORD.to_owned(), None, "test")
            .await
            .unwrap()
        {
            bantin_app::SignIn::Started(s) => s,
            bantin_app::SignIn::SecondStep(_) => unreachable!("no two-step here"),
        }
    };
    sign_in().await;
    let new = NewPassword::parse("một mật khẩu khác dài").unwrap();
    app.app()
        .set_password(&Actor::cli(), id, new)
        .await
        .unwrap();
    assert!(store.user_sessions(id).await.unwrap().is_empty());
    assert!(matches!(
        app.app()
            .sign_in("198.51.100.1", "bientap", PASSWORD.to_owned(), None, "test")
            .await,
        Err(AppError::WrongCredentials)
    ));
}
