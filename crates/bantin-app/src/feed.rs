//! Following the change feed: each process reads the changes table from its last seen id and
//! hands every batch to its sinks (the page cache now; the search index and webhooks later).
//! Woken at once by this process's own commits, by PostgreSQL's NOTIFY for other processes'
//! commits, and by a poll as the fallback; a lost connection only delays it, and it catches up
//! from its last id.

use std::sync::Arc;
use std::time::Duration;

use bantin_core::ChangeId;
use bantin_store::{Change, Store};
use tokio::sync::{Mutex, watch};

use crate::Result;

/// Something that reacts to content changes.
pub trait ChangeSink: Send + Sync {
    /// Applies a batch of committed changes, oldest first.
    fn apply(&self, changes: &[Change]);

    /// Changes were missed (the feed was pruned past this process's last id): forget
    /// everything derived from content.
    fn reset(&self);
}

/// Changes read per query.
const BATCH: i64 = 500;

/// A follower of the change feed.
pub struct Follower {
    store: Store,
    sinks: Vec<Arc<dyn ChangeSink>>,
    applied: watch::Sender<ChangeId>,
    /// Serialises catching up (the background loop and explicit calls).
    reading: Mutex<()>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("applied", &*self.applied.borrow())
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl Follower {
    /// A follower starting at the newest change: what came before is already reflected in
    /// whatever the sinks will build from the database.
    pub async fn start(store: Store, sinks: Vec<Arc<dyn ChangeSink>>) -> Result<Arc<Self>> {
        let last = store.last_change_id().await?;
        Ok(Arc::new(Self {
            store,
            sinks,
            applied: watch::channel(last).0,
            reading: Mutex::new(()),
        }))
    }

    /// The last change applied.
    pub fn applied(&self) -> ChangeId {
        *self.applied.borrow()
    }

    /// Reads and applies every change after the last applied one; returns how many.
    pub async fn catch_up(&self) -> Result<usize> {
        let _reading = self.reading.lock().await;
        let mut total = 0;
        // Pruning only removes rows older than a week: looking once per catch-up is enough.
        let pruned = self.store.changes_pruned_through().await?;
        if self.applied() < pruned {
            tracing::warn!(last = %self.applied(), %pruned, "changes were pruned before this process read them; resetting");
            for s in &self.sinks {
                s.reset();
            }
            self.applied.send_replace(pruned);
        }
        loop {
            let last = self.applied();
            let batch = self.store.changes_after(last, BATCH).await?;
            let Some(newest) = batch.last().map(|c| c.id) else {
                return Ok(total);
            };
            for s in &self.sinks {
                s.apply(&batch);
            }
            total += batch.len();
            self.applied.send_replace(newest);
        }
    }

    /// Waits (at most `timeout`) until every change up to `id` is applied: a handler that
    /// just wrote calls this so its own next page already shows the change.
    pub async fn wait_for(&self, id: ChangeId, timeout: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|applied| *applied >= id))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Follows the feed until the task is dropped: waits for a wake-up, catches up, and on a
    /// database error logs it and tries again after `poll`.
    pub async fn run(self: Arc<Self>, poll: Duration) {
        let mut waker = self.store.change_waker(poll).await;
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "following the change feed failed; retrying");
                tokio::time::sleep(poll).await;
                continue;
            }
            waker.wait().await;
        }
    }
}
