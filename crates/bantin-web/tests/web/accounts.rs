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
