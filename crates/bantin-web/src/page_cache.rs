//! The rendered-page cache: reader pages rendered once, compressed once (gzip and brotli),
//! served from memory with a strong ETag. Every entry carries the tags of what it shows (like
//! surrogate keys in Varnish or Fastly); the change feed purges tags, so a rating vote drops
//! that article's page only, an edit the pages that show the article, and a category or site
//! change everything. Purging is lazy: a purge records when each tag changed, and an entry
//! rendered before a change to one of its tags is not served again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use bantin_app::ChangeSink;
use bantin_core::{ArticleId, CategoryId, UnixTime};
use bantin_store::{Change, ChangeKind};
use bytes::Bytes;

/// Longest an entry lives, so counters on pages (views) lag by at most this.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Copies `parts` back to back into one anonymous memory mapping of their own and returns
/// each as a slice of it. Its pages go back to the system when the last slice drops, not to
/// the allocator's arenas, where entries replaced every minute among short-lived rendering
/// buffers left holes the process kept (RSS about twice the cache's bytes under
/// `bench/traffic.sh`). Heap copies when no mapping can be made, or when mappings near the
/// share of the kernel's per-process limit (`vm.max_map_count`) left to them.
pub(crate) fn pack<const N: usize>(parts: [&[u8]; N]) -> [Bytes; N] {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mapped = (total > 0 && Mapping::available())
        .then(|| memmap2::MmapMut::map_anon(total).ok())
        .flatten();
    let Some(mut m) = mapped else {
        return parts.map(Bytes::copy_from_slice);
    };
    let mut at = 0;
    for p in parts {
        m[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    let Ok(ro) = m.make_read_only() else {
        return parts.map(Bytes::copy_from_slice);
    };
    let whole = Bytes::from_owner(Mapping::new(ro));
    let mut at = 0;
    parts.map(|p| {
        let b = whole.slice(at..at + p.len());
        at += p.len();
        b
    })
}

/// A read-only anonymous mapping holding one cache entry's bodies, counted while it lives.
struct Mapping(memmap2::Mmap);

/// Mappings alive.
static MAPPINGS: AtomicU64 = AtomicU64::new(0);

impl Mapping {
    fn new(m: memmap2::Mmap) -> Self {
        MAPPINGS.fetch_add(1, Ordering::Relaxed);
        Self(m)
    }

    /// Whether another mapping stays within a third of the kernel's limit of mappings per
    /// process (65,530 by default; thread stacks, libraries and the search index need some).
    fn available() -> bool {
        static LIMIT: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
            std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(65_530)
                / 3
        });
        MAPPINGS.load(Ordering::Relaxed) < *LIMIT
    }
}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        MAPPINGS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a page depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tag {
    /// The page of this article (its text, its rating).
    Article(ArticleId),
    /// A list entry of this article (title, lead, image, date, URL).
    Listed(ArticleId),
    /// Which articles the lists of this category hold.
    Category(CategoryId),
    /// The newer/older lists on article pages whose main category is this one.
    Related(CategoryId),
    /// Which articles the home page lists.
    Home,
    /// The article sitemaps (which articles are reachable, and when each last changed).
    Sitemap,
}

/// The tags of a rendered page, put in its response's extensions by the handler.
#[derive(Clone, Debug, Default)]
pub struct CacheTags(pub Vec<Tag>);

/// The tags a change purges; `None`: everything.
fn purged_by(c: &Change) -> Option<Vec<Tag>> {
    let article = c.article;
    let mut tags = Vec::new();
    match c.kind? {
        ChangeKind::Rating => tags.extend(article.map(Tag::Article)),
        ChangeKind::ArticleEdited => {
            tags.extend(article.map(Tag::Article));
            tags.extend(article.map(Tag::Listed));
            tags.push(Tag::Sitemap);
        }
        ChangeKind::ArticleListed => {
            tags.extend(article.map(Tag::Article));
            tags.extend(article.map(Tag::Listed));
            tags.push(Tag::Home);
            tags.push(Tag::Sitemap);
            for cat in &c.categories {
                tags.push(Tag::Category(*cat));
                tags.push(Tag::Related(*cat));
            }
        }
        ChangeKind::Category | ChangeKind::Site => return None,
    }
    Some(tags)
}

/// A cached page. Browsers and search engines accept gzip or brotli, so an entry keeps those
/// two forms and a plain one only once a client has asked for it (made from the gzip form
/// and the entry weighed again): most entries hold a third of the bytes a plain copy would
/// add.
#[derive(Clone)]
pub struct CachedPage {
    /// The purge sequence number when its rendering began.
    pub seq: u64,
    /// When it was rendered (the application clock), for the `Age` header.
    pub rendered_at: UnixTime,
    /// What it depends on.
    pub tags: Vec<Tag>,
    /// Strong validator.
    pub etag: HeaderValue,
    /// Its content type.
    pub content_type: HeaderValue,
    /// Uncompressed body, when a client wanted it.
    pub identity: Option<Bytes>,
    /// Gzip body.
    pub gzip: Bytes,
    /// Brotli body.
    pub brotli: Bytes,
    /// The article shown, so hits still count views.
    pub article: Option<ArticleId>,
}

/// When tags were last purged: the purge sequence number and the moment.
#[derive(Default)]
struct Purges {
    tags: HashMap<Tag, (u64, Instant)>,
}

/// What an entry costs besides its key, bodies and tags (see the weigher in `PageCache::new`).
const ENTRY_OVERHEAD: usize = 768;

/// The cache of rendered pages.
pub struct PageCache {
    pages: moka::future::Cache<String, Arc<CachedPage>>,
    /// Compresses rendered pages, one per core at a time.
    compressors: crate::compress::Compressors,
    purges: RwLock<Purges>,
    /// Increases with every purge; an entry remembers its value when rendering began.
    seq: AtomicU64,
    /// Sequence number of the last purge of everything.
    cleared: AtomicU64,
    prune: Mutex<Instant>,
    /// Requests answered from a current entry.
    hits: AtomicU64,
    /// Cacheable requests that found no current entry (they rendered the page, or waited for
    /// another request's render of it).
    misses: AtomicU64,
    max_bytes: u64,
}

/// What the cache holds and how well it serves, for `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests answered from a current entry.
    pub hits: u64,
    /// Cacheable requests that found none.
    pub misses: u64,
    /// Entries held, current or not.
    pub entries: u64,
    /// Their weight as counted against the budget (the bodies in the encodings kept).
    pub bytes: u64,
    /// The budget.
    pub max_bytes: u64,
}

impl PageCache {
    /// A cache bounded to about `max_bytes` of page bodies (every encoding kept counted).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            pages: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, page: &Arc<CachedPage>| {
                    let body = page.identity.as_ref().map_or(0, Bytes::len)
                        + page.gzip.len()
                        + page.brotli.len();
                    // The bodies fill whole pages of their own mapping (`pack`). The rest is
                    // the entry's bookkeeping: the page's fields and moka's nodes, hash
                    // buckets and queues, about 700 bytes an entry in a heap profile.
                    let bytes = key.len()
                        + body.next_multiple_of(4096)
                        + ENTRY_OVERHEAD
                        + page.tags.len() * 16;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(MAX_AGE)
                .build(),
            compressors: crate::compress::Compressors::start(),
            purges: RwLock::new(Purges::default()),
            seq: AtomicU64::new(1),
            cleared: AtomicU64::new(0),
            prune: Mutex::new(Instant::now()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            max_bytes,
        }
    }

    /// Counts a request answered from memory.
    pub fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a cacheable request that had to render (or wait for a render).
    pub fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters and size (after pending maintenance).
    pub async fn stats(&self) -> CacheStats {
        let entries = self.entry_count().await;
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
            bytes: self.pages.weighted_size(),
            max_bytes: self.max_bytes,
        }
    }

    /// The sequence number to give a page whose rendering begins now.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Whether `page` was rendered after every purge of its tags.
    pub fn is_current(&self, page: &CachedPage) -> bool {
        if self.cleared.load(Ordering::Acquire) > page.seq {
            return false;
        }
        let purges = self.purges.read().unwrap_or_else(|e| e.into_inner());
        page.tags
            .iter()
            .all(|t| purges.tags.get(t).is_none_or(|(s, _)| *s <= page.seq))
    }

    /// `body` compressed both ways, with its SHA-256; `None` if no compression thread runs or
    /// the compression failed.
    pub(crate) async fn compress(&self, body: Bytes) -> Option<crate::compress::Compressed> {
        self.compressors.compress(body).await
    }

    /// The entries (for the middleware).
    pub fn pages(&self) -> &moka::future::Cache<String, Arc<CachedPage>> {
        &self.pages
    }

    /// Entries held (after pending maintenance), current or not.
    pub async fn entry_count(&self) -> u64 {
        self.pages.run_pending_tasks().await;
        self.pages.entry_count()
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let seq = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
        self.cleared.store(seq, Ordering::Release);
        self.pages.invalidate_all();
    }

    /// Marks `tags` as changed now: entries showing them are not served again.
    pub fn purge(&self, tags: &[Tag]) {
        if tags.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut purges = self.purges.write().unwrap_or_else(|e| e.into_inner());
        let seq = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
        for t in tags {
            purges.tags.insert(*t, (seq, now));
        }
        // A purge record older than the longest an entry lives can no longer matter.
        let mut last = self.prune.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(*last) > MAX_AGE {
            let horizon = MAX_AGE + Duration::from_secs(5);
            purges
                .tags
                .retain(|_, (_, at)| now.duration_since(*at) <= horizon);
            *last = now;
        }
    }
}

impl ChangeSink for PageCache {
    fn apply(&self, changes: &[Change]) {
        let mut tags = std::collections::HashSet::new();
        for c in changes {
            match purged_by(c) {
                Some(t) => tags.extend(t),
                None => {
                    self.clear();
                    tags.clear();
                }
            }
        }
        self.purge(&tags.into_iter().collect::<Vec<_>>());
    }

    fn reset(&self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bantin_core::ChangeId;

    fn page(seq: u64, tags: Vec<Tag>) -> CachedPage {
        CachedPage {
            seq,
            rendered_at: UnixTime::EPOCH,
            tags,
            etag: HeaderValue::from_static("\"x\""),
            content_type: HeaderValue::from_static("text/html"),
            identity: None,
            gzip: Bytes::new(),
            brotli: Bytes::new(),
            article: None,
        }
    }

    fn change(kind: ChangeKind, article: i64, categories: &[i64]) -> Change {
        Change {
            id: ChangeId::new(1),
            at: UnixTime::EPOCH,
            kind: Some(kind),
            article: Some(ArticleId::new(article)),
            categories: categories.iter().copied().map(CategoryId::new).collect(),
        }
    }

    #[test]
    fn purges_reach_exactly_the_tagged_pages() {
        let cache = PageCache::new(1 << 20);
        let seq = cache.seq();
        let a1 = page(
            seq,
            vec![
                Tag::Article(ArticleId::new(1)),
                Tag::Related(CategoryId::new(9)),
            ],
        );
        let a2 = page(
            seq,
            vec![
                Tag::Article(ArticleId::new(2)),
                Tag::Listed(ArticleId::new(1)),
            ],
        );
        let home = page(seq, vec![Tag::Home, Tag::Listed(ArticleId::new(2))]);
        cache.apply(&[change(ChangeKind::Rating, 1, &[])]);
        assert!(!cache.is_current(&a1));
        assert!(cache.is_current(&a2) && cache.is_current(&home));

        let seq = cache.seq();
        let a1 = page(seq, a1.tags);
        cache.apply(&[change(ChangeKind::ArticleEdited, 1, &[9])]);
        assert!(!cache.is_current(&a1) && !cache.is_current(&a2));
        assert!(cache.is_current(&home));

        let seq = cache.seq();
        let (a1, a2, home) = (page(seq, a1.tags), page(seq, a2.tags), page(seq, home.tags));
        cache.apply(&[change(ChangeKind::ArticleListed, 3, &[9])]);
        assert!(
            !cache.is_current(&a1),
            "same main category: its lists may change"
        );
        assert!(cache.is_current(&a2));
        assert!(!cache.is_current(&home));

        let seq = cache.seq();
        let a2 = page(seq, a2.tags);
        let mut unknown = change(ChangeKind::Site, 0, &[]);
        unknown.kind = None;
        cache.apply(&[unknown]);
        assert!(!cache.is_current(&a2), "an unknown kind purges everything");
    }
}

#[cfg(test)]
mod pack_tests {
    use super::{MAPPINGS, pack};
    use std::sync::atomic::Ordering;

    #[test]
    fn parts_come_back_whole_from_one_mapping_that_ends_with_the_last_slice() {
        let a = vec![1u8; 5000];
        let b = b"gzip".to_vec();
        let c = vec![7u8; 9000];
        let before = MAPPINGS.load(Ordering::Relaxed);
        let [x, y, z] = pack([&a, &b, &c]);
        assert_eq!((&x[..], &y[..], &z[..]), (&a[..], &b[..], &c[..]));
        assert_eq!(MAPPINGS.load(Ordering::Relaxed), before + 1);
        // Adjacent in one mapping.
        assert_eq!(x.as_ptr().wrapping_add(x.len()), y.as_ptr());
        drop((x, y));
        assert_eq!(
            MAPPINGS.load(Ordering::Relaxed),
            before + 1,
            "z still holds it"
        );
        drop(z);
        assert_eq!(MAPPINGS.load(Ordering::Relaxed), before);
        let [e] = pack([&[][..]]);
        assert!(e.is_empty());
    }
}
