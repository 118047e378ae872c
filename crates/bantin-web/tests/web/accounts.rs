//! Accounts in the store, on both databases.

use bantin_core::account::{NewPassword, Role, Username, verify_password};
use bantin_store::{NewUser, StoreError};

use crate::helpers::*;

#[tokio::test]
async fn accounts_are_stored_hashed_unique_and_can_be_disabled() {
    let app = TestApp::with_demo().await;
    let name = Username::parse("bientap").unwrap();
    let hash = NewPassword::parse("mật khẩu đủ dài rồi").unwrap().hash();
    let new = NewUser {
        username: &name,
        display_name: "Biên tập",
        email: "bt@example.vn",
        password_hash: &hash,
        role: Role::Editor,
    };
    app.store().insert_user(&new, now()).await.unwrap();
    assert!(matches!(
        app.store().insert_user(&new, now()).await,
        Err(StoreError::Conflict)
    ));

    let u = app.store().user_by_username(&name).await.unwrap().unwrap();
    assert_eq!(
        (u.role(), u.active, u.display_name.as_str()),
        (Role::Editor, true, "Biên tập")
    );
    assert!(verify_password("mật khẩu đủ dài rồi", u.password_hash()));

    assert!(
        app.store()
            .set_user_active(&name, false, now())
            .await
            .unwrap()
    );
    assert!(
        !app.store()
            .user_by_username(&name)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let other = Username::parse("khongco").unwrap();
    assert!(
        !app.store()
            .set_user_active(&other, false, now())
            .await
            .unwrap()
    );
    assert!(
        !app.store()
            .set_user_password(&other, &hash, now())
            .await
            .unwrap()
    );
    assert_eq!(app.store().users().await.unwrap().len(), 1);
}

/// Both migration folders build the same tables and columns. Compared on every run where
/// PostgreSQL is available (CI); on SQLite alone it checks the schema is there.
#[tokio::test]
async fn both_databases_have_the_same_schema() {
    let app = TestApp::with_demo().await;
    let here = app.store().schema_columns().await.unwrap();
    assert!(here.contains(&("articles".to_owned(), "publish_at".to_owned())));
    assert!(here.contains(&("users".to_owned(), "password_hash".to_owned())));
    if app.store().backend() == bantin_store::Backend::Postgres {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = bantin_store::Store::open_sqlite(&dir.path().join("s.db"), 1)
            .await
            .unwrap();
        sqlite.migrate().await.unwrap();
        assert_eq!(sqlite.schema_columns().await.unwrap(), here);
    }
}

#[tokio::test]
async fn command_line_password_changes_and_disabling_end_sessions() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("bientap", Role::Editor).await;
    let name = Username::parse("bientap").unwrap();
    let store = app.store();
    store
        .insert_session("a".repeat(64).as_str(), id, now(), "", "")
        .await
        .unwrap();
    let hash = NewPassword::parse("một mật khẩu khác dài").unwrap().hash();
    assert!(store.set_user_password(&name, &hash, now()).await.unwrap());
    assert!(store.user_sessions(id).await.unwrap().is_empty());
    store
        .insert_session("b".repeat(64).as_str(), id, now(), "", "")
        .await
        .unwrap();
    assert!(store.set_user_active(&name, false, now()).await.unwrap());
    assert!(store.user_sessions(id).await.unwrap().is_empty());
}
