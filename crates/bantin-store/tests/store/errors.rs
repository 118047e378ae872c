//! Callers decide on `StoreError` kinds, never on message text: a taken unique value is
//! `Conflict`, a missing referenced row `UnknownReference`, a database out of reach
//! `Unavailable`, on either backend.

use std::time::{Duration, Instant};

use bantin_core::account::Role;
use bantin_core::{ArticleStatus, CategoryId, CategoryStatus, SanitizedHtml, Slug, UserId};
use bantin_store::{NewArticle, NewCategory, Store, StoreError};

use crate::helpers::{NOW, TestDb, category, profile, user};

#[tokio::test]
async fn a_taken_username_or_slug_is_a_conflict() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    user(&mut tx, "bientap", Role::Editor).await.unwrap();
    category(&mut tx, "kinh-te").await;
    tx.commit().await.unwrap();

    let mut tx = db.store.begin().await.unwrap();
    // Usernames are stored lowercase, so this is the same name.
    let again = user(&mut tx, "BienTap", Role::Administrator).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    drop(tx);

    let mut tx = db.store.begin().await.unwrap();
    let new = NewCategory {
        parent_id: None,
        slug: Slug::parse("kinh-te").unwrap(),
        title: "Kinh tế (2)".to_owned(),
        description: String::new(),
        position: 1,
        status: CategoryStatus::Active,
    };
    let again = tx.insert_category(&new, NOW).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
}

#[tokio::test]
async fn a_missing_referenced_row_is_an_unknown_reference() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let id = user(&mut tx, "bientap", Role::Editor).await.unwrap();
    let real = category(&mut tx, "kinh-te").await;
    tx.commit().await.unwrap();
    let missing = CategoryId::new(real.get() + 1000);

    let mut tx = db.store.begin().await.unwrap();
    let saved = tx
        .update_user(id, &profile(Role::Editor, vec![real, missing]), NOW)
        .await;
    assert!(
        matches!(saved, Err(StoreError::UnknownReference)),
        "{saved:?}"
    );
    drop(tx);
    assert!(db.store.user_categories(id).await.unwrap().is_empty());

    let mut tx = db.store.begin().await.unwrap();
    let child = NewCategory {
        parent_id: Some(missing),
        slug: Slug::parse("con").unwrap(),
        title: "Con".to_owned(),
        description: String::new(),
        position: 0,
        status: CategoryStatus::Active,
    };
    let inserted = tx.insert_category(&child, NOW).await;
    assert!(
        matches!(inserted, Err(StoreError::UnknownReference)),
        "{inserted:?}"
    );
    drop(tx);

    let mut tx = db.store.begin().await.unwrap();
    let orphan = NewArticle {
        title: "Không có chuyên mục".to_owned(),
        slug: Slug::parse("khong-co-chuyen-muc").unwrap(),
        lead: String::new(),
        body: SanitizedHtml::sanitize(""),
        image_url: None,
        image_alt: String::new(),
        image_caption: String::new(),
        meta_description: String::new(),
        author: String::new(),
        source: String::new(),
        tags: Vec::new(),
        status: ArticleStatus::Draft,
        publish_at: NOW,
        expire_at: None,
        category_id: missing,
        extra_category_ids: Vec::new(),
        options: Default::default(),
    };
    let inserted = tx
        .insert_article(&orphan, Some(UserId::new(4242)), NOW)
        .await;
    assert!(
        matches!(inserted, Err(StoreError::UnknownReference)),
        "{inserted:?}"
    );
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let db = TestDb::new(2).await;
    db.store.ping().await.unwrap();
    db.store.close().await;
    let ping = db.store.ping().await;
    assert!(matches!(ping, Err(StoreError::Unavailable(_))), "{ping:?}");
    let begin = db.store.begin().await;
    assert!(
        matches!(begin, Err(StoreError::Unavailable(_))),
        "{:?}",
        begin.err()
    );
    // Reader pages read through their own pool on a SQLite file: closed with the store.
    let read = db.store.article(bantin_core::ArticleId::new(1)).await;
    assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
}

/// Needs no PostgreSQL server: nothing listening is the point. Slow (the pool retries a
/// refused connection until its acquire timeout, ten seconds), so it runs alongside the rest.
#[tokio::test]
async fn a_postgres_server_that_is_not_there_is_unavailable() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let started = Instant::now();
    let connected =
        Store::connect(&format!("postgres://postgres@127.0.0.1:{port}/bantin"), 1).await;
    assert!(
        matches!(connected, Err(StoreError::Unavailable(_))),
        "{:?}",
        connected.err()
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_connection_the_server_ends_is_unavailable() {
    let db = TestDb::new(1).await;
    if !db.is_postgres() {
        return;
    }
    // What a server restart or failover does to a transaction in flight.
    let mut tx = db.store.begin().await.unwrap();
    tx.user(UserId::new(1)).await.unwrap();
    // The transaction's backend; the timeout makes pg_terminate_backend wait until it is
    // gone rather than only signal it.
    let ended = db
        .raw
        .scalar(
            // MATERIALIZED: pick the victims before terminating anyone (never this session).
            "WITH victims AS MATERIALIZED (
                 SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND state = 'idle in transaction'
                   AND pid <> pg_backend_pid())
             SELECT CAST(COUNT(*) AS BIGINT) FROM victims WHERE pg_terminate_backend(pid, 5000)",
        )
        .await;
    assert_eq!(ended, 1);
    // The server sends its error (57P01) before closing; the next read finds the socket shut.
    for _ in 0..2 {
        let read = tx.user(UserId::new(1)).await;
        assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
    }
    drop(tx);
    // The pool replaces the dead connection.
    db.store.ping().await.unwrap();
}
