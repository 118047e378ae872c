//! The change feed: ids grow in commit order, only committed rows are ever read, a follower
//! polling `changes_after(last)` misses nothing while writers commit out of step, pruning
//! remembers where it stopped, and followers are woken.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bantin_core::{ArticleId, CategoryId, ChangeId};
use bantin_store::{Change, ChangeKind, NewChange, Store};

use crate::helpers::{Lcg, NOW, TestDb};

fn change(kind: ChangeKind) -> NewChange {
    NewChange {
        kind,
        article: None,
        categories: Vec::new(),
    }
}

async fn commit_change(store: &Store, kind: ChangeKind, at: bantin_core::UnixTime) -> ChangeId {
    let mut tx = store.begin().await.unwrap();
    let id = tx.record_change(&change(kind), at).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn ids_after(store: &Store, after: i64) -> Vec<ChangeId> {
    let feed = store
        .changes_after(ChangeId::new(after), 1000)
        .await
        .unwrap();
    feed.into_iter().map(|c| c.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_grow_in_commit_order() {
    let db = TestDb::new(4).await;
    let first = commit_change(&db.store, ChangeKind::Site, NOW).await;

    // A records a change and keeps its transaction open; B, begun later, must not commit a
    // change ahead of it (PostgreSQL: the feed lock; SQLite: the write lock).
    let mut a = db.store.begin().await.unwrap();
    let a_id = a
        .record_change(&change(ChangeKind::Category), NOW)
        .await
        .unwrap();
    let store = db.store.clone();
    let b = tokio::spawn(async move { commit_change(&store, ChangeKind::Rating, NOW).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !b.is_finished(),
        "a later change committed while an earlier one was open"
    );
    a.commit().await.unwrap();
    let b_id = b.await.unwrap();

    // One transaction, several changes.
    let mut tx = db.store.begin().await.unwrap();
    let c1 = tx
        .record_change(&change(ChangeKind::ArticleListed), NOW)
        .await
        .unwrap();
    let c2 = tx
        .record_change(&change(ChangeKind::ArticleEdited), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let committed = vec![first, a_id, b_id, c1, c2];
    assert!(committed.is_sorted_by(|x, y| x < y), "{committed:?}");
    assert_eq!(ids_after(&db.store, 0).await, committed);
    assert_eq!(ids_after(&db.store, a_id.get()).await, committed[2..]);
    assert_eq!(db.store.last_change_id().await.unwrap(), c2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_change_is_never_read() {
    let db = TestDb::new(4).await;
    let before = commit_change(&db.store, ChangeKind::Site, NOW).await;

    // A follower polling the whole time the doomed transaction is open.
    let stop = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, stop) = (db.store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen: Vec<Change> = Vec::new();
            let mut polls = 0;
            while !stop.load(Ordering::Acquire) {
                seen.extend(store.changes_after(ChangeId::new(0), 1000).await.unwrap());
                polls += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (seen, polls)
        })
    };
    let mut tx = db.store.begin().await.unwrap();
    let article = Some(ArticleId::new(999));
    let doomed = NewChange {
        kind: ChangeKind::Category,
        article,
        categories: vec![CategoryId::new(7)],
    };
    let doomed_id = tx.record_change(&doomed, NOW).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ids_after(&db.store, 0).await, [before]);
    assert_eq!(db.store.last_change_id().await.unwrap(), before);
    drop(tx);
    let after = commit_change(&db.store, ChangeKind::Rating, NOW).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Release);
    let (seen, polls) = follower.await.unwrap();
    assert!(polls > 5, "the follower hardly ran ({polls} polls)");

    assert!(
        seen.iter()
            .all(|c| c.article != article && c.kind != Some(ChangeKind::Category)),
        "the follower read the rolled-back change {doomed_id}: {seen:?}"
    );
    let feed = db.store.changes_after(ChangeId::new(0), 100).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.id).collect::<Vec<_>>(),
        [before, after]
    );
    assert_eq!(feed[1].kind, Some(ChangeKind::Rating));
    assert_eq!(db.store.committed_change(), after);
}

/// Writers record their change, dawdle, then commit, so ids are handed out in one order and
/// would be committed in another without the feed lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_polling_follower_misses_no_change_of_concurrent_writers() {
    const ROUNDS: u64 = 3;
    const WRITERS: u64 = 20;
    let db = TestDb::new(WRITERS as u32 + 4).await;
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, done) = (db.store.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut last = ChangeId::new(0);
            loop {
                // Read the flag first: a final read after the writers finished sees all.
                let finished = done.load(Ordering::Acquire);
                let batch = store.changes_after(last, 1000).await.unwrap();
                if let Some(c) = batch.last() {
                    last = c.id;
                }
                seen.extend(batch.into_iter().map(|c| c.id));
                if finished {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    for round in 0..ROUNDS {
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let store = db.store.clone();
                let mut rng = Lcg::new(round * 1000 + i);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(rng.below(10))).await;
                    let mut tx = store.begin().await.unwrap();
                    let id = tx
                        .record_change(&change(ChangeKind::Rating), NOW)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(rng.below(15))).await;
                    tx.commit().await.unwrap();
                    id
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
    }
    done.store(true, Ordering::Release);
    let seen = follower.await.unwrap();

    let all = db
        .raw
        .column("SELECT CAST(id AS BIGINT) FROM changes ORDER BY id")
        .await;
    assert_eq!(all.len() as u64, ROUNDS * WRITERS);
    let seen_set: BTreeSet<i64> = seen.iter().map(|c| c.get()).collect();
    let missed: Vec<_> = all.iter().filter(|id| !seen_set.contains(id)).collect();
    assert!(missed.is_empty(), "the follower missed {missed:?}");
    assert_eq!(
        seen_set.len(),
        seen.len(),
        "the follower read a change twice"
    );
}

#[tokio::test]
async fn pruning_deletes_old_changes_and_remembers_where_it_stopped() {
    let db = TestDb::new(2).await;
    assert_eq!(
        db.store.changes_pruned_through().await.unwrap(),
        ChangeId::new(0)
    );
    let old1 = commit_change(&db.store, ChangeKind::Site, NOW.minus(300)).await;
    let old2 = commit_change(&db.store, ChangeKind::Site, NOW.minus(250)).await;
    let recent = commit_change(&db.store, ChangeKind::Site, NOW.minus(100)).await;
    assert!(old1 < old2);

    assert_eq!(db.store.prune_changes(NOW.minus(200)).await.unwrap(), 2);
    assert_eq!(db.store.changes_pruned_through().await.unwrap(), old2);
    assert_eq!(ids_after(&db.store, 0).await, [recent]);

    // Nothing older left: nothing deleted, the mark stays.
    assert_eq!(db.store.prune_changes(NOW.minus(200)).await.unwrap(), 0);
    assert_eq!(db.store.changes_pruned_through().await.unwrap(), old2);

    // Pruning everything must not let ids start again (SQLite: AUTOINCREMENT).
    assert_eq!(db.store.prune_changes(NOW).await.unwrap(), 1);
    assert_eq!(db.store.changes_pruned_through().await.unwrap(), recent);
    assert!(ids_after(&db.store, 0).await.is_empty());
    let next = commit_change(&db.store, ChangeKind::Site, NOW).await;
    assert!(
        next > recent,
        "id {next} reused after pruning through {recent}"
    );
}

#[tokio::test]
async fn committed_change_is_this_processs_latest_commit() {
    let db = TestDb::new(2).await;
    let other = db.another_store(2).await;
    assert_eq!(db.store.committed_change(), ChangeId::new(0));

    // A commit without changes, and a rolled-back change, leave it alone.
    db.store.begin().await.unwrap().commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    tx.record_change(&change(ChangeKind::Site), NOW)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(db.store.committed_change(), ChangeId::new(0));

    let mut tx = db.store.begin().await.unwrap();
    tx.record_change(&change(ChangeKind::Site), NOW)
        .await
        .unwrap();
    let second = tx
        .record_change(&change(ChangeKind::Rating), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(db.store.committed_change(), second);
    // Clones share it: it is the process's, not the handle's.
    assert_eq!(db.store.clone().committed_change(), second);

    // Another process's commit is its own.
    let theirs = commit_change(&other, ChangeKind::Site, NOW).await;
    assert!(theirs > second);
    assert_eq!(db.store.committed_change(), second);
    assert_eq!(other.committed_change(), theirs);
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_elsewhere_wakes_followers_within_a_second() {
    let db = TestDb::new(2).await;
    let other = db.another_store(2).await;
    // PostgreSQL must wake by NOTIFY, long before its poll; SQLite can only poll.
    let poll = if db.is_postgres() {
        Duration::from_secs(30)
    } else {
        Duration::from_millis(250)
    };
    let mut waker = db.store.change_waker(poll).await;

    if db.is_postgres() {
        // A rolled-back change notifies nobody.
        let mut tx = other.begin().await.unwrap();
        tx.record_change(&change(ChangeKind::Site), NOW)
            .await
            .unwrap();
        drop(tx);
        let woke = tokio::time::timeout(Duration::from_millis(500), waker.wait()).await;
        assert!(woke.is_err(), "woken by a rolled-back change");
    }

    let waiting = tokio::spawn(async move {
        waker.wait().await;
        Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let committed_at = Instant::now();
    let id = commit_change(&other, ChangeKind::Site, NOW).await;
    let woke_at = tokio::time::timeout(Duration::from_secs(1), waiting)
        .await
        .expect("no wake-up within a second")
        .unwrap();
    let latency = woke_at.saturating_duration_since(committed_at);
    println!(
        "{}: woken {latency:?} after the commit began",
        if db.is_postgres() {
            "PostgreSQL NOTIFY"
        } else {
            "SQLite poll"
        }
    );
    assert_eq!(ids_after(&db.store, 0).await, [id]);
    other.close().await;
}
