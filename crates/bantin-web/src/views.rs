//! View counting without a database write per request: views are counted in memory, at most
//! once per visitor per article per day, and flushed to the database in batches.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;

use bantin_core::ArticleId;
use bantin_store::Store;

/// The article a rendered page shows, so cache hits still count views.
#[derive(Clone, Copy, Debug)]
pub struct ViewedArticle(pub ArticleId);

/// Most (visitor, article) pairs remembered for one day; past it the day's are forgotten, so
/// a flood of distinct visitors costs bounded memory (about 9 MiB a day at the limit; the
/// flood's views may be counted twice).
const MAX_SEEN_PER_DAY: usize = 500_000;

/// Pending view counts and the visitors already counted today.
pub struct ViewCounter {
    pending: Mutex<HashMap<ArticleId, i64>>,
    seen: Mutex<Seen>,
    /// Keys the visitor digests (random per process).
    visitor_hasher: std::hash::RandomState,
}

/// Digests of the (visitor, article) pairs counted on the latest day seen and the day
/// before it (a request begun before midnight may arrive after it). Eight bytes a pair: a
/// general cache spent over a hundred on each.
#[derive(Default)]
struct Seen {
    day: i64,
    today: HashSet<u64>,
    yesterday: HashSet<u64>,
}

impl Seen {
    /// Whether `pair` is new on `day` (and remembers it). Days before yesterday count.
    fn insert(&mut self, pair: u64, day: i64) -> bool {
        if day > self.day {
            self.yesterday = if day == self.day + 1 {
                std::mem::take(&mut self.today)
            } else {
                HashSet::new()
            };
            self.today = HashSet::new();
            self.day = day;
        }
        let set = match self.day - day {
            0 => &mut self.today,
            1 => &mut self.yesterday,
            _ => return true,
        };
        if set.len() >= MAX_SEEN_PER_DAY {
            *set = HashSet::new();
        }
        set.insert(pair)
    }
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
            seen: Mutex::new(Seen::default()),
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
        let pair = self.visitor_hasher.hash_one((visitor, article_id));
        let fresh = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pair, day);
        if fresh {
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

#[cfg(test)]
mod tests {
    use super::{MAX_SEEN_PER_DAY, Seen};

    #[test]
    fn a_pair_counts_once_a_day_and_again_the_next() {
        let mut seen = Seen::default();
        assert!(seen.insert(7, 100));
        assert!(!seen.insert(7, 100));
        assert!(seen.insert(8, 100));
        // Midnight: a new day counts again; a late request for the day before does not.
        assert!(seen.insert(7, 101));
        assert!(!seen.insert(7, 101));
        assert!(!seen.insert(8, 100), "yesterday's pairs are kept");
        assert!(seen.insert(9, 100));
        // Two days on, yesterday is the day that just ended.
        assert!(seen.insert(7, 103));
        assert!(seen.insert(7, 102));
        assert!(!seen.insert(7, 102));
        assert!(seen.insert(7, 99), "days before yesterday count");
    }

    #[test]
    fn a_flood_of_pairs_is_bounded() {
        let mut seen = Seen::default();
        for pair in 0..(MAX_SEEN_PER_DAY as u64 + 10) {
            assert!(seen.insert(pair, 1));
        }
        assert!(seen.today.len() <= MAX_SEEN_PER_DAY);
        assert!(seen.today.capacity() < 2 * MAX_SEEN_PER_DAY);
    }
}
