//! A `Tx` is all or nothing: what it wrote (rows, audit entry, change-feed row) disappears
//! when it is dropped and stays when it commits; the audit log refuses updates and deletes.

use bantin_core::ChangeId;
use bantin_core::account::{Role, Username};
use bantin_store::{AuditFilter, ChangeKind, NewAuditEntry, NewChange};

use crate::helpers::{NOW, TestDb, user};

fn site_change() -> NewChange {
    NewChange {
        kind: ChangeKind::Site,
        article: None,
        categories: Vec::new(),
    }
}

fn entry(username: &str) -> NewAuditEntry<'_> {
    NewAuditEntry {
        username,
        action: "user.created",
        target: "user:?",
        ..NewAuditEntry::default()
    }
}

async fn counts(db: &TestDb) -> [i64; 3] {
    [
        db.raw
            .scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .await,
        db.raw
            .scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log")
            .await,
        db.raw
            .scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM changes")
            .await,
    ]
}

#[tokio::test]
async fn a_dropped_transaction_leaves_nothing_and_a_committed_one_keeps_everything() {
    let db = TestDb::new(4).await;
    let mut tx = db.store.begin().await.unwrap();
    let ghost_id = user(&mut tx, "ghost", Role::Editor).await.unwrap();
    tx.audit(&entry("ghost"), NOW).await.unwrap();
    tx.record_change(&site_change(), NOW).await.unwrap();
    // Seen from inside, the rows are there…
    assert!(tx.user(ghost_id).await.unwrap().is_some());
    drop(tx);
    // …and gone for everyone once it is dropped.
    assert_eq!(counts(&db).await, [0, 0, 0]);
    assert_eq!(db.store.committed_change(), ChangeId::new(0));

    // The next writer gets the connection (SQLite: the write lock) the dropped one held, so
    // the rollback really happened rather than waiting somewhere.
    let mut tx = db.store.begin().await.unwrap();
    let id = user(&mut tx, "kept", Role::Editor).await.unwrap();
    tx.audit(&entry("kept"), NOW).await.unwrap();
    let change = tx.record_change(&site_change(), NOW).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(counts(&db).await, [1, 1, 1]);
    let ghost = Username::parse("ghost").unwrap();
    assert!(db.store.user_by_username(&ghost).await.unwrap().is_none());
    let kept = Username::parse("kept").unwrap();
    assert_eq!(
        db.store
            .user_by_username(&kept)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(id)
    );
    let audit = db
        .store
        .audit_entries(&AuditFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .map(|e| e.username.as_str())
            .collect::<Vec<_>>(),
        ["kept"]
    );
    let feed = db.store.changes_after(ChangeId::new(0), 10).await.unwrap();
    assert_eq!(feed.iter().map(|c| c.id).collect::<Vec<_>>(), [change]);
    assert_eq!(feed[0].kind, Some(ChangeKind::Site));
    assert_eq!(db.store.committed_change(), change);
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    tx.audit(&entry("admin"), NOW).await.unwrap();
    tx.commit().await.unwrap();

    let update = db
        .raw
        .execute("UPDATE audit_log SET detail = 'rewritten'")
        .await;
    assert!(update.is_err(), "UPDATE went through: {update:?}");
    let delete = db.raw.execute("DELETE FROM audit_log").await;
    assert!(delete.is_err(), "DELETE went through: {delete:?}");
    if db.is_postgres() {
        // TRUNCATE fires no row triggers; it needs a statement trigger of its own.
        let truncate = db.raw.execute("TRUNCATE audit_log").await;
        assert!(truncate.is_err(), "TRUNCATE went through: {truncate:?}");
    }

    let audit = db
        .store
        .audit_entries(&AuditFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].detail, "");
}
