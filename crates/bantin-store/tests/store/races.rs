//! Check-then-write races that `Tx::lock` turns into one step: the per-address vote cap, the
//! sign-in failure count, and "never demote the last administrator".

use std::sync::Arc;
use std::time::Duration;

use bantin_core::account::Role;
use bantin_core::{ArticleId, Rating, UserId};
use bantin_store::{ADMINISTRATORS_LOCK, LoginAttempt, Vote, VoteOutcome};

use crate::helpers::{NOW, TestDb, article, category, profile, user};

/// One round: `VOTES` voters behind one address vote at once on `id`; returns how many were
/// recorded and how many refused for the address.
async fn vote_together(db: &TestDb, id: ArticleId) -> (i64, i64) {
    let votes: Vec<_> = (0..VOTES)
        .map(|i| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let voter = format!("voter-{i}");
                let vote = Vote {
                    article_id: id,
                    voter: &voter,
                    ip_hash: "one-address",
                    rating: Rating::new(1 + (i as i64) % 5).unwrap(),
                };
                let mut tx = store.begin().await.unwrap();
                let outcome = tx
                    .record_vote(vote, NOW, NOW.minus(86_400), CAP)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                outcome
            })
        })
        .collect();
    let (mut recorded, mut refused) = (0, 0);
    for v in votes {
        match v.await.unwrap() {
            VoteOutcome::Recorded(_) => recorded += 1,
            VoteOutcome::AddressLimit(_) => refused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    (recorded, refused)
}

const VOTES: usize = 40;
const CAP: i64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_votes_from_one_address_stop_exactly_at_the_cap() {
    // The window between counting and inserting is short: a few rounds make a lost race
    // (without the lock) show reliably.
    const ROUNDS: usize = 4;
    let db = TestDb::new(12).await;
    let mut tx = db.store.begin().await.unwrap();
    let cat = category(&mut tx, "thoi-su").await;
    let mut ids = Vec::new();
    for round in 0..ROUNDS {
        ids.push(article(&mut tx, cat, &format!("Bài được chấm điểm {round}")).await);
    }
    tx.commit().await.unwrap();

    for id in ids {
        let outcome = vote_together(&db, id).await;
        assert_eq!(outcome, (CAP, VOTES as i64 - CAP), "article {id}");
        let article = db.store.article(id).await.unwrap().unwrap();
        assert_eq!(article.rating().count, CAP);
    }
    let rows = db
        .raw
        .scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM rating_votes")
        .await;
    assert_eq!(rows, CAP * ROUNDS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_in_attempts_are_each_counted() {
    const ATTEMPTS: usize = 30;
    let db = TestDb::new(12).await;
    let who = LoginAttempt {
        key: "admin",
        ip: "203.0.113.9",
    };
    let lock_key = "login:admin:203.0.113.9";
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|_| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.lock(lock_key).await.unwrap();
                // What the sign-in rule decides on: the attempts before this one.
                let before = tx.login_attempts(who, NOW.minus(300)).await.unwrap().len();
                // Widen the gap between reading and writing, as a password check does.
                tokio::time::sleep(Duration::from_millis(2)).await;
                tx.add_login_attempt(who, NOW).await.unwrap();
                tx.commit().await.unwrap();
                before
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    // Each attempt saw every earlier one: 0, 1, …, 29, no count read twice.
    assert_eq!(seen, (0..ATTEMPTS).collect::<Vec<_>>());
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(
        tx.login_attempts(who, NOW.minus(300)).await.unwrap().len(),
        ATTEMPTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_administrators_demoting_each_other_leave_one() {
    let db = TestDb::new(4).await;
    let mut tx = db.store.begin().await.unwrap();
    let a = user(&mut tx, "admin-a", Role::Administrator).await.unwrap();
    let b = user(&mut tx, "admin-b", Role::Administrator).await.unwrap();
    tx.commit().await.unwrap();

    // Both start together; each checks that someone else stays administrator, then demotes
    // the other, slowly enough that without the lock both checks would pass.
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let demote = |victim: UserId| {
        let (store, start) = (db.store.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            let mut tx = store.begin().await.unwrap();
            tx.lock(ADMINISTRATORS_LOCK).await.unwrap();
            if tx.other_active_administrators(victim).await.unwrap() == 0 {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let demoted = tx
                .update_user(victim, &profile(Role::Editor, Vec::new()), NOW)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            demoted
        })
    };
    let (by_a, by_b) = (demote(b), demote(a));
    let (by_a, by_b) = (by_a.await.unwrap(), by_b.await.unwrap());
    assert!(
        by_a != by_b,
        "demotions that went through: by a {by_a}, by b {by_b}"
    );
    let admins: Vec<_> = db
        .store
        .users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role() == Role::Administrator && u.active)
        .map(|u| u.username)
        .collect();
    assert_eq!(admins.len(), 1, "administrators left: {admins:?}");
}
