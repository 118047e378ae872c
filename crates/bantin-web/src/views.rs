//! View counting without a database write per request: views are counted in memory, at most
//! once per visitor per article per day, and flushed to the database in batches.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use bantin_core::ArticleId;
use bantin_store::Store;

/// The article a rendered page shows, so cache hits still count views.
#[derive(Clone, Copy, Debug)]
pub struct ViewedArticle(pub ArticleId);

/// Most (visitor, article, day) triples remembered; past it the oldest are forgotten, so a
/// flood of distinct visitors costs bounded memory (and may count a few views twice).
const MAX_SEEN: u64 = 1_000_000;

/// Pending view counts and the visitors already counted today.
pub struct ViewCounter {
    pending: Mutex<HashMap<ArticleId, i64>>,
    seen: moka::sync::Cache<(u64, ArticleId, i64), ()>,
    /// Keys the visitor digests (random per process).
    visitor_hasher: std::hash::RandomState,
}

impl Default for ViewCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl ViewCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            seen: moka::sync::Cache::builder()
                .max_capacity(MAX_SEEN)
                .time_to_live(Duration::from_secs(2 * 86_400))
                .build(),
            visitor_hasher: std::hash::RandomState::new(),
        }
    }

    /// Counts a view of `article` by the visitor (address and browser) on `day` unless
    /// already counted. A keyed SipHash: cheap on every page hit and not reversible to the
    /// address.
    pub fn record_visit(
        &self,
        ip: IpAddr,
        user_agent: Option<&[u8]>,
        article: ArticleId,
        day: i64,
    ) {
        let mut h = self.visitor_hasher.build_hasher();
        ip.hash(&mut h);
        user_agent.hash(&mut h);
        self.record(h.finish(), article, day);
    }

    /// Counts a view of `article_id` by `visitor` on `day` unless already counted.
    pub fn record(&self, visitor: u64, article_id: ArticleId, day: i64) {
        let entry = self.seen.entry((visitor, article_id, day)).or_insert(());
        if entry.is_fresh() {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            *pending.entry(article_id).or_default() += 1;
        }
    }

    /// Views counted but not yet written.
    pub fn pending(&self) -> i64 {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Writes pending views to the database in one transaction. On failure they are kept for
    /// the next flush. Returns how many views were written.
    pub async fn flush(&self, store: &Store) -> Result<i64, bantin_store::StoreError> {
        let batch: Vec<(ArticleId, i64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match store.add_views(&batch).await {
            Ok(()) => Ok(batch.iter().map(|(_, n)| n).sum()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (id, n) in batch {
                    *pending.entry(id).or_default() += n;
                }
                Err(e)
            }
        }
    }
}
