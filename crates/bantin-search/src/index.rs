//! The index: its schema and files, keeping it in step with the database, and answering
//! searches (ranked by the index when it is ready, by SQL `LIKE` while it is being built).

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bantin_core::{ArticleId, ChangeId, UnixTime};
use bantin_store::{Change, ChangeKind, SearchDoc, SearchFilter, SearchHit, Store};
use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery, Scorer,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, SeekDangerResult,
    TantivyDocument, Term,
};
use tokio::sync::mpsc;

use crate::analyzer::{Mode, ViTokenizer};
use crate::query::Parsed;
use crate::text::{highlight, html_text, snippet};

/// Names the index format; a folder written by another format is rebuilt.
const FORMAT: &str = "bantin-search 1";

/// Articles read from the database per batch when rebuilding.
const REBUILD_BATCH: i64 = 1000;

/// Longest snippet, in bytes.
const SNIPPET_BYTES: usize = 240;

/// Why the index cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] bantin_store::StoreError),
    /// The index folder could not be prepared.
    #[error("search index folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    /// A background task failed.
    #[error("search task: {0}")]
    Task(String),
}

type Result<T> = std::result::Result<T, SearchError>;

/// How results are ranked and how much the index may use.
#[derive(Clone, Debug)]
pub struct SearchSettings {
    /// Where the index lives; `None` keeps it in memory (rebuilt at every start).
    pub dir: Option<PathBuf>,
    /// How much recency adds to a score: a result published now gets this much more than
    /// a very old one with the same text score (a tie-break at the default).
    pub recency_weight: f32,
    /// Memory for the index writer, bytes (at least 15 MB per thread).
    pub writer_bytes: usize,
    /// Indexing threads.
    pub writer_threads: usize,
    /// Longest a change that touched no indexed article (a vote, a category's or the site's
    /// settings) waits before the index records that it was applied; see [`Search::run`].
    pub save_place_after: Duration,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            dir: None,
            recency_weight: 0.5,
            writer_bytes: 128 * 1024 * 1024,
            writer_threads: 2,
            save_place_after: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    publish_at: Field,
    expire_at: Field,
    category: Field,
    title_x: Field,
    lead_x: Field,
    body_x: Field,
    title_f: Field,
    lead_f: Field,
    body_f: Field,
    title_p: Field,
    text_p: Field,
    doc_no: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, record: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(record),
        )
    };
    let pos = IndexRecordOption::WithFreqsAndPositions;
    let freq = IndexRecordOption::WithFreqs;
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST),
        publish_at: b.add_i64_field("publish_at", INDEXED | FAST),
        expire_at: b.add_i64_field("expire_at", INDEXED | FAST),
        category: b.add_u64_field("category", INDEXED),
        title_x: b.add_text_field("title_x", text("vi_exact", pos)),
        lead_x: b.add_text_field("lead_x", text("vi_exact", freq)),
        body_x: b.add_text_field("body_x", text("vi_exact", freq)),
        title_f: b.add_text_field("title_f", text("vi_fold", pos)),
        lead_f: b.add_text_field("lead_f", text("vi_fold", pos)),
        body_f: b.add_text_field("body_f", text("vi_fold", pos)),
        title_p: b.add_text_field("title_p", text("vi_pairs", freq)),
        text_p: b.add_text_field("text_p", text("vi_pairs", freq)),
        doc_no: b.add_text_field("doc_no", text("vi_docno", freq)),
    };
    (b.build(), fields)
}

fn register(index: &Index) {
    for (name, mode) in [
        ("vi_exact", Mode::Exact),
        ("vi_fold", Mode::Folded),
        ("vi_pairs", Mode::Pairs),
        ("vi_docno", Mode::DocNo),
    ] {
        index
            .tokenizers()
            .register(name, TextAnalyzer::builder(ViTokenizer::new(mode)).build());
    }
}

fn id_u64(id: ArticleId) -> u64 {
    u64::try_from(id.get()).unwrap_or_default()
}

/// Work for the indexing task.
enum Job {
    /// Re-read these articles; the feed is applied through this change.
    Articles(Vec<ArticleId>, ChangeId),
    /// Rebuild everything.
    Rebuild,
}

/// One search result.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The article.
    pub id: ArticleId,
    /// URL slug.
    pub slug: String,
    /// Title, HTML, matched words in `<mark>`.
    pub title_html: String,
    /// Plain title.
    pub title: String,
    /// A piece of the lead or body around the matched words, HTML, matched words in `<mark>`.
    pub snippet_html: String,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Main category.
    pub category_id: bantin_core::CategoryId,
}

/// One page of results.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// How many articles match in all.
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
    /// Answered by the index (`false`: by the database while the index is being built).
    pub indexed: bool,
}

/// A search request.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// What the reader typed.
    pub text: &'a str,
    /// Categories and dates.
    pub filter: SearchFilter,
    /// Now, for the visibility rule.
    pub now: UnixTime,
    /// Results skipped.
    pub offset: usize,
    /// Results wanted.
    pub limit: usize,
}

struct Inner {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    ready: AtomicBool,
    store: Store,
    settings: SearchSettings,
    jobs: mpsc::UnboundedSender<Job>,
    queue: Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
    /// Where the index stood when opened: `None` means it must be built.
    opened_at: Option<ChangeId>,
}

/// The search index of this process (cheap to clone).
#[derive(Clone)]
pub struct Search(Arc<Inner>);

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("dir", &self.0.settings.dir)
            .field("ready", &self.ready())
            .finish()
    }
}

/// Runs `work` until it succeeds, a second apart (the index must not skip changes).
async fn retrying<F, Fut>(what: &str, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    while let Err(e) = work().await {
        tracing::warn!(error = %e, "{what} failed; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The change a commit's payload says the index was current to (None: another format).
fn place(payload: &str) -> Option<ChangeId> {
    payload
        .strip_prefix(FORMAT)
        .and_then(|rest| rest.trim().parse::<i64>().ok())
        .map(ChangeId::new)
}

/// Opens the index in `dir`, or a new one (wiping what cannot be read); returns it and the
/// change it was current to, if known.
fn open_dir(dir: &Path, schema: &Schema) -> Result<(Index, Option<ChangeId>)> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::Folder(dir.to_owned(), e))?;
    let existing = Index::open_in_dir(dir).and_then(|index| {
        let metas = index.load_metas()?;
        Ok((index, metas.payload))
    });
    match existing {
        Ok((index, Some(payload))) if index.schema() == *schema => {
            if let Some(id) = place(&payload) {
                return Ok((index, Some(id)));
            }
            tracing::warn!(dir = %dir.display(), "search index of another format; rebuilding");
        }
        Ok(_) => tracing::warn!(dir = %dir.display(), "search index incomplete; rebuilding"),
        Err(_) if !dir.join("meta.json").exists() => {
            tracing::info!(dir = %dir.display(), "no search index yet; building it");
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "search index unreadable; rebuilding");
        }
    }
    // Start afresh: remove what is there (only index files live in this folder).
    for entry in std::fs::read_dir(dir).map_err(|e| SearchError::Folder(dir.to_owned(), e))? {
        let entry = entry.map_err(|e| SearchError::Folder(dir.to_owned(), e))?;
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| SearchError::Folder(path.clone(), e))?;
    }
    Ok((Index::create_in_dir(dir, schema.clone())?, None))
}

impl Search {
    /// Opens (or creates) the index. Call [`Search::run`] in the background to build it when
    /// needed and to keep it in step; until it is built, searches answer from the database.
    pub fn open(store: Store, settings: SearchSettings) -> Result<Self> {
        let (schema, fields) = schema();
        let (index, opened_at) = match &settings.dir {
            Some(dir) => open_dir(dir, &schema)?,
            None => (Index::create_in_ram(schema), None),
        };
        register(&index);
        let threads = settings.writer_threads.max(1);
        let writer = match index
            .writer_with_num_threads(threads, settings.writer_bytes.max(threads * 15_000_000))
        {
            Ok(w) => w,
            Err(tantivy::TantivyError::LockFailure(..)) => {
                // Another process on this data folder owns the files: keep an index of our
                // own in memory, built from the database like a missing one.
                tracing::warn!(
                    dir = %settings.dir.as_deref().unwrap_or(Path::new("")).display(),
                    "the search index folder is in use by another process; this one keeps its index in memory"
                );
                return Self::open(
                    store,
                    SearchSettings {
                        dir: None,
                        ..settings
                    },
                );
            }
            Err(e) => return Err(e.into()),
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Self(Arc::new(Inner {
            reader,
            writer: Mutex::new(writer),
            fields,
            ready: AtomicBool::new(opened_at.is_some()),
            store,
            settings,
            jobs: tx,
            queue: Mutex::new(Some(rx)),
            opened_at,
        })))
    }

    /// The last change of the feed the index has recorded as applied (its place, saved
    /// with each commit), or `None` before its first commit.
    pub fn saved_through(&self) -> Result<Option<ChangeId>> {
        let metas = self.0.reader.searcher().index().load_metas()?;
        Ok(metas.payload.as_deref().and_then(place))
    }

    /// Whether the index answers searches (else the database does).
    pub fn ready(&self) -> bool {
        self.0.ready.load(Ordering::Acquire)
    }

    /// Takes note of committed changes (a change-feed sink calls this); the background task
    /// applies them.
    pub fn changed(&self, changes: &[Change]) {
        let mut ids = Vec::new();
        let mut last = None;
        for c in changes {
            last = Some(c.id);
            if let (Some(ChangeKind::ArticleListed | ChangeKind::ArticleEdited) | None, Some(a)) =
                (c.kind, c.article)
            {
                ids.push(a);
            }
        }
        if let Some(last) = last {
            // The receiver lives as long as the task; without it there is nothing to do.
            let _ = self.0.jobs.send(Job::Articles(ids, last));
        }
    }

    /// Changes were missed: rebuild in the background (searches keep the old index meanwhile).
    pub fn rebuild_later(&self) {
        let _ = self.0.jobs.send(Job::Rebuild);
    }

    /// Builds the index if it must be, replays what it missed while this process was away,
    /// then applies changes as they come, until the task is dropped.
    pub async fn run(self) {
        let Some(mut queue) = self
            .0
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            tracing::warn!("the search index task runs once per process");
            return;
        };
        loop {
            let start = match self.0.opened_at {
                Some(at) => self.catch_up_from(at).await,
                None => self.rebuild(&|_, _| {}).await.map(|_| ()),
            };
            match start {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "building the search index failed; retrying");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
        // Changes that touch no indexed article (votes, categories, site settings) only move the
        // index's place in the feed. Committing that alone cost a tantivy commit per vote:
        // an fsync, two indexing threads and a 2.5 MB channel each time. It waits for the
        // next real update or `save_place_after`, whichever comes first; a restart in between
        // replays those few changes from the feed.
        let mut unsaved: Option<(ChangeId, tokio::time::Instant)> = None;
        loop {
            let next = match unsaved {
                None => queue.recv().await,
                Some((through, due)) => match tokio::time::timeout_at(due, queue.recv()).await {
                    Ok(next) => next,
                    Err(_elapsed) => {
                        unsaved = None;
                        retrying("saving the search index's place", || self.commit(through)).await;
                        continue;
                    }
                },
            };
            let Some(job) = next else { break };
            let mut jobs = vec![job];
            while let Ok(more) = queue.try_recv() {
                jobs.push(more);
            }
            if jobs.iter().any(|j| matches!(j, Job::Rebuild)) {
                unsaved = None;
                retrying("rebuilding the search index", || async {
                    self.rebuild(&|_, _| {}).await.map(|_| ())
                })
                .await;
                continue;
            }
            let mut ids = Vec::new();
            let mut through = unsaved.map_or(ChangeId::new(0), |(t, _)| t);
            for j in &jobs {
                if let Job::Articles(a, t) = j {
                    ids.extend_from_slice(a);
                    through = through.max(*t);
                }
            }
            if ids.is_empty() {
                let due = unsaved.map_or_else(
                    || tokio::time::Instant::now() + self.0.settings.save_place_after,
                    |(_, due)| due,
                );
                unsaved = Some((through, due));
                continue;
            }
            unsaved = None;
            retrying("updating the search index", || {
                self.update(ids.clone(), through)
            })
            .await;
        }
    }

    /// Waits until the index answers searches (tests, and `reindex`).
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Re-reads what changed after `at` (the index's last applied change) from the feed.
    async fn catch_up_from(&self, at: ChangeId) -> Result<()> {
        let store = &self.0.store;
        if store.changes_pruned_through().await? > at {
            tracing::info!("the search index missed pruned changes; rebuilding");
            return self.rebuild(&|_, _| {}).await.map(|_| ());
        }
        let mut last = at;
        loop {
            let batch = store.changes_after(last, 1000).await?;
            let Some(newest) = batch.last().map(|c| c.id) else {
                break;
            };
            let ids = batch.iter().filter_map(|c| c.article).collect();
            self.update(ids, newest).await?;
            last = newest;
        }
        self.0.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Rebuilds the whole index from the database, calling `progress(done, total)` along the
    /// way; returns how many articles it indexed.
    pub async fn rebuild(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<u64> {
        let built = self.build_all(progress).await;
        // Also on failure: the writer gets its usual merge policy back.
        let merged = self.merge_all(built.is_ok()).await;
        let done = built?;
        merged?;
        self.0.ready.store(true, Ordering::Release);
        Ok(done)
    }

    async fn build_all(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<u64> {
        let store = &self.0.store;
        // Changes after this one reach the index through the feed.
        let through = store.last_change_id().await?;
        let total = u64::try_from(store.published_count().await?).unwrap_or_default();
        progress(0, total);
        self.with_writer(|w, _| {
            // Merged once at the end instead (see `merge_all`).
            w.set_merge_policy(Box::new(NoMergePolicy));
            w.delete_all_documents()?;
            Ok(())
        })
        .await?;
        let mut after = ArticleId::new(0);
        let mut done = 0u64;
        loop {
            let docs = store.search_docs_after(after, REBUILD_BATCH).await?;
            let Some(last) = docs.last().map(|d| d.id) else {
                break;
            };
            after = last;
            let n = docs.iter().filter(|d| !d.is_skip()).count() as u64;
            self.with_writer(move |w, f| {
                for d in docs.iter().filter(|d| !d.is_skip()) {
                    w.add_document(document(f, d))?;
                }
                Ok(())
            })
            .await?;
            done += n;
            progress(done.min(total.max(done)), total.max(done));
        }
        self.commit(through).await?;
        Ok(done)
    }

    /// Merges every segment into one (if `merge`) and waits for it, then lets the usual merge
    /// policy decide again. A rebuild writes one segment per writer flush (about 16,000 articles);
    /// left as they are, the first commit after it (the first edit) merges them all while
    /// readers are being served, mapping the whole index into memory meanwhile.
    async fn merge_all(&self, merge: bool) -> Result<()> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let writer = || inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let merging = {
                let mut w = writer();
                let ids = w.index().searchable_segment_ids()?;
                (merge && ids.len() > 1).then(|| w.merge(&ids))
            };
            // Waited for without the writer's lock: the feed's updates go on meanwhile.
            let merged = merging.map(|m| m.wait()).transpose();
            writer().set_merge_policy(Box::new(LogMergePolicy::default()));
            merged?;
            inner.reader.reload()?;
            Ok(())
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// How many segments the index's searcher reads (one after a rebuild).
    pub fn segments(&self) -> usize {
        self.0.reader.searcher().segment_readers().len()
    }

    /// Re-reads `ids` and replaces their documents; commits with the feed position.
    async fn update(&self, ids: Vec<ArticleId>, through: ChangeId) -> Result<()> {
        let mut seen = HashSet::new();
        let ids: Vec<ArticleId> = ids.into_iter().filter(|i| seen.insert(*i)).collect();
        for chunk in ids.chunks(500) {
            let docs = self.0.store.search_docs(chunk).await?;
            let chunk = chunk.to_vec();
            self.with_writer(move |w, f| {
                for id in &chunk {
                    w.delete_term(Term::from_field_u64(f.id, id_u64(*id)));
                }
                for d in &docs {
                    w.add_document(document(f, d))?;
                }
                Ok(())
            })
            .await?;
        }
        self.commit(through).await
    }

    async fn commit(&self, through: ChangeId) -> Result<()> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&format!("{FORMAT} {}", through.get()));
            prepared.commit()?;
            inner.reader.reload()?;
            Ok(())
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Runs `work` with the writer on a blocking thread (indexing is CPU work).
    async fn with_writer<F>(&self, work: F) -> Result<()>
    where
        F: FnOnce(&mut IndexWriter, &Fields) -> tantivy::Result<()> + Send + 'static,
    {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut w, &inner.fields).map_err(SearchError::from)
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Searches: by the index when it is ready, else by the database.
    pub async fn search(&self, req: &Request<'_>) -> Result<Results> {
        let parsed = Parsed::new(req.text);
        if parsed.is_empty() || req.limit == 0 {
            return Ok(Results {
                indexed: self.ready(),
                ..Results::default()
            });
        }
        let marks = parsed.marks();
        let (total, hits, indexed) = if self.ready() {
            let inner = self.0.clone();
            let parsed_ = parsed.clone();
            let filter = req.filter.clone();
            let (now, offset, limit) = (req.now, req.offset, req.limit);
            let (total, ids) = tokio::task::spawn_blocking(move || {
                ranked(&inner, &parsed_, &filter, now, offset, limit)
            })
            .await
            .map_err(|e| SearchError::Task(e.to_string()))??;
            let mut found = self.0.store.public_hits(&ids, req.now).await?;
            let order: HashMap<ArticleId, usize> =
                ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            found.sort_by_key(|h| order.get(&h.id).copied().unwrap_or(usize::MAX));
            (total, found, true)
        } else {
            let (found, total) = self
                .0
                .store
                .search_like(
                    &parsed.like_words(),
                    &req.filter,
                    req.now,
                    i64::try_from(req.limit).unwrap_or(100),
                    i64::try_from(req.offset).unwrap_or(0),
                )
                .await?;
            (usize::try_from(total).unwrap_or_default(), found, false)
        };
        let hits = hits
            .into_iter()
            .map(|h: SearchHit| {
                let body = html_text(&h.body_html);
                let text = format!("{}\n{}", h.lead, body);
                Hit {
                    id: h.id,
                    slug: h.slug,
                    title_html: highlight(&h.title, &marks),
                    snippet_html: snippet(&text, &marks, SNIPPET_BYTES),
                    title: h.title,
                    publish_at: h.publish_at,
                    category_id: h.category_id,
                }
            })
            .collect();
        Ok(Results {
            total,
            hits,
            indexed,
        })
    }
}

/// The index document of an article.
fn document(f: &Fields, d: &SearchDoc) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.id, id_u64(d.id));
    doc.add_i64(f.publish_at, d.publish_at.as_second());
    doc.add_i64(f.expire_at, d.expire_at.map_or(i64::MAX, |e| e.as_second()));
    for c in &d.categories {
        doc.add_u64(f.category, u64::try_from(c.get()).unwrap_or_default());
    }
    let body = html_text(&d.body_html);
    for field in [f.title_x, f.title_f, f.title_p, f.doc_no] {
        doc.add_text(field, &d.title);
    }
    for field in [f.lead_x, f.lead_f] {
        doc.add_text(field, &d.lead);
        for t in &d.tags {
            doc.add_text(field, t);
        }
    }
    for field in [f.text_p, f.doc_no] {
        doc.add_text(field, &d.lead);
    }
    for field in [f.body_x, f.body_f, f.text_p, f.doc_no] {
        doc.add_text(field, &body);
    }
    doc
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, boost))
}

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    boosted(
        Box::new(TermQuery::new(
            term(field, text),
            IndexRecordOption::WithFreqs,
        )),
        boost,
    )
}

const TITLE: f32 = 6.0;
const LEAD: f32 = 2.0;
const BODY: f32 = 1.0;
const EXACT: f32 = 1.5;

/// The sequences of folded syllables phrases are looked for in: as typed and, when a word
/// reads as Telex or VNI, as meant.
fn sequences(parsed: &Parsed) -> Vec<Vec<&str>> {
    let typed: Vec<&str> = parsed
        .words
        .iter()
        .map(|w| w.typed.folded.as_str())
        .collect();
    let meant: Vec<&str> = parsed
        .words
        .iter()
        .map(|w| w.meant().folded.as_str())
        .collect();
    let mut out = vec![typed];
    if meant != out[0] {
        out.push(meant);
    }
    out.retain(|seq| seq.len() >= 2);
    out
}

/// The query every result must match, scored by its terms: every syllable (in any of its
/// forms, in any field) and every document number must match; exact forms, titles and
/// syllable pairs add score. Cheap enough to run over every match (it gives the count).
fn match_query(f: &Fields, parsed: &Parsed) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for w in &parsed.words {
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = HashSet::new();
        for form in w.forms() {
            if seen.insert(form.exact.clone()) {
                for (field, boost) in [(f.title_x, TITLE), (f.lead_x, LEAD), (f.body_x, BODY)] {
                    any.push((Occur::Should, term_query(field, &form.exact, boost * EXACT)));
                }
            }
            if seen.insert(format!("\u{0}{}", form.folded)) {
                for (field, boost) in [(f.title_f, TITLE), (f.lead_f, LEAD), (f.body_f, BODY)] {
                    any.push((Occur::Should, term_query(field, &form.folded, boost)));
                }
            }
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    for d in &parsed.doc_numbers {
        clauses.push((Occur::Must, term_query(f.doc_no, d, TITLE)));
    }
    // Neighbouring syllables, in the forms as typed and as meant (Telex read).
    let mut pairs = HashSet::new();
    for seq in sequences(parsed) {
        for pair in seq.windows(2) {
            let p = format!("{} {}", pair[0], pair[1]);
            if pairs.insert(p.clone()) {
                clauses.push((Occur::Should, term_query(f.title_p, &p, TITLE * 0.75)));
                clauses.push((Occur::Should, term_query(f.text_p, &p, BODY * 1.5)));
            }
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The phrases (with their boosts) whose scores add to a match's where they occur: the
/// words in a row in title, lead and body, and near each other in the body. None for a
/// one-word query. Reading positions is the costly part of a search, so these are worked out
/// only for the best matches of [`match_query`] (see [`add_scores`]), not for every match.
fn phrases(f: &Fields, parsed: &Parsed) -> Vec<(PhraseQuery, f32)> {
    let mut out = Vec::new();
    for seq in sequences(parsed) {
        for (field, boost, slop) in [
            (f.title_f, TITLE, 0),
            (f.lead_f, LEAD, 0),
            (f.body_f, BODY * 1.5, 0),
            (f.body_f, BODY * 0.5, 6),
        ] {
            let mut phrase = PhraseQuery::new(seq.iter().map(|s| term(field, s)).collect());
            phrase.set_slop(slop);
            out.push((phrase, boost));
        }
    }
    out
}

/// Visibility and the reader's filters, as non-scoring clauses.
fn filters(f: &Fields, filter: &SearchFilter, now: UnixTime) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out: Vec<(Occur, Box<dyn Query>)> = vec![
        (
            Occur::Must,
            Box::new(RangeQuery::new(
                match filter.from {
                    Some(from) => {
                        Bound::Included(Term::from_field_i64(f.publish_at, from.as_second()))
                    }
                    None => Bound::Unbounded,
                },
                Bound::Included(Term::from_field_i64(
                    f.publish_at,
                    filter.until.map_or(now.as_second(), |u| {
                        u.as_second().saturating_sub(1).min(now.as_second())
                    }),
                )),
            )),
        ),
        (
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Excluded(Term::from_field_i64(f.expire_at, now.as_second())),
                Bound::Unbounded,
            )),
        ),
    ];
    if !filter.categories.is_empty() {
        out.push((
            Occur::Must,
            Box::new(TermSetQuery::new(filter.categories.iter().map(|c| {
                Term::from_field_u64(f.category, u64::try_from(c.get()).unwrap_or_default())
            }))),
        ));
    }
    out
}

/// Matches whose phrase scores are worked out besides those on the page: a match ranked
/// lower by its terms alone rarely gains enough from phrases to reach the page.
const RESCORED_BEYOND_PAGE: usize = 100;

/// Runs the ranked search; returns the total and the ids of the page.
///
/// Two passes: every match is counted and scored by [`match_query`] (plus recency), keeping
/// the best; [`phrase_query`] then adds its score to those only, and they are ranked again.
/// Within the kept ones the order is what one query with the phrases would give.
fn ranked(
    inner: &Inner,
    parsed: &Parsed,
    filter: &SearchFilter,
    now: UnixTime,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<ArticleId>)> {
    let f = &inner.fields;
    // Filters do not score: wrap them with a zero boost.
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, match_query(f, parsed))];
    for (occur, q) in filters(f, filter, now) {
        clauses.push((occur, boosted(q, 0.0)));
    }
    let query = BooleanQuery::new(clauses);
    let searcher = inner.reader.searcher();
    let weight = inner.settings.recency_weight;
    let now_s = now.as_second();
    let (offset, limit) = (offset.min(100_000), limit.clamp(1, 100));
    let kept = offset + limit + RESCORED_BEYOND_PAGE;
    let top = TopDocs::with_limit(kept).tweak_score(move |segment: &tantivy::SegmentReader| {
        let published = segment
            .fast_fields()
            .i64("publish_at")
            .map(|c| c.first_or_default_col(0))
            .ok();
        move |doc: tantivy::DocId, score: tantivy::Score| {
            let Some(p) = &published else {
                return score;
            };
            // 1 for today, ½ a year ago, ⅓ two years ago…
            let age_years = (now_s - p.get_val(doc)).max(0) as f32 / 31_557_600.0;
            score + weight / (1.0 + age_years)
        }
    });
    let (total, mut top): (usize, Vec<(f32, DocAddress)>) =
        searcher.search(&query, &(Count, top))?;
    let phrases = phrases(f, parsed);
    if !phrases.is_empty() {
        add_scores(&searcher, &phrases, &mut top)?;
        // Stable: equal scores keep the first pass's order.
        top.sort_by(|a, b| b.0.total_cmp(&a.0));
    }
    let mut ids = Vec::with_capacity(limit);
    for (_, addr) in top.into_iter().skip(offset).take(limit) {
        let segment = searcher.segment_reader(addr.segment_ord);
        let column = segment.fast_fields().u64("id")?;
        if let Some(id) = column.first(addr.doc_id) {
            ids.push(ArticleId::new(i64::try_from(id).unwrap_or_default()));
        }
    }
    Ok((total, ids))
}

/// Adds the score of each of `queries` (boosted) to each of `docs` it matches, scored as in
/// a search of the whole index (same statistics), looking at those documents only.
fn add_scores(
    searcher: &tantivy::Searcher,
    queries: &[(PhraseQuery, f32)],
    docs: &mut [(f32, DocAddress)],
) -> tantivy::Result<()> {
    let mut order: Vec<(DocAddress, usize)> =
        docs.iter().enumerate().map(|(i, d)| (d.1, i)).collect();
    order.sort_unstable();
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    for (query, boost) in queries {
        let weight = query.weight(scoring)?;
        for segment in order.chunk_by(|a, b| a.0.segment_ord == b.0.segment_ord) {
            let reader = searcher.segment_reader(segment[0].0.segment_ord);
            // `seek_danger` looks at the one document asked about; `seek` would go on to the
            // next match, reading positions all the way.
            let (first, mut scorer) = weight.scorer_danger(reader, segment[0].0.doc_id, *boost)?;
            // No match below this document (TERMINATED: none left).
            let mut bound = 0;
            for (n, &(addr, i)) in segment.iter().enumerate() {
                let found = if n == 0 {
                    first
                } else if addr.doc_id < bound {
                    continue;
                } else {
                    scorer.seek_danger(addr.doc_id)
                };
                match found {
                    SeekDangerResult::Found => {
                        docs[i].0 += scorer.score();
                        bound = addr.doc_id + 1;
                    }
                    SeekDangerResult::SeekLowerBound(b) => bound = b,
                }
            }
        }
    }
    Ok(())
}
