//! What the search index reads: published articles with their categories and tags (to build
//! and update the index), the public articles a result page shows, and a `LIKE` search over
//! the articles table, used while the index is being built and as the benchmark's baseline.

use bantin_core::{ArticleId, CategoryId, UnixTime, Visibility};

use crate::{Result, Store, with_db};

/// An article as the search index takes it.
#[derive(Clone, Debug)]
pub struct SearchDoc {
    /// Id.
    pub id: ArticleId,
    /// Title.
    pub title: String,
    /// Lead paragraph.
    pub lead: String,
    /// Sanitised body HTML.
    pub body_html: String,
    /// Tag names.
    pub tags: Vec<String>,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Expiry time.
    pub expire_at: Option<UnixTime>,
    /// Every category it is listed in.
    pub categories: Vec<CategoryId>,
}

impl SearchDoc {
    /// A marker carrying only an id: where a walk of the table goes on from when the last row
    /// read was not published. Never indexed (see [`SearchDoc::is_skip`]).
    fn skip(id: ArticleId) -> Self {
        Self {
            id,
            title: String::new(),
            lead: String::new(),
            body_html: String::new(),
            tags: Vec::new(),
            publish_at: UnixTime::from_second(i64::MIN),
            expire_at: None,
            categories: Vec::new(),
        }
    }

    /// Whether this is a [`SearchDoc::skip`] marker.
    pub fn is_skip(&self) -> bool {
        self.publish_at == UnixTime::from_second(i64::MIN)
    }
}

#[derive(sqlx::FromRow)]
struct DocRow {
    id: ArticleId,
    title: String,
    lead: String,
    body_html: String,
    publish_at: UnixTime,
    expire_at: Option<UnixTime>,
}

/// A public article as a result page shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SearchHit {
    /// Id.
    pub id: ArticleId,
    /// URL slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Lead paragraph.
    pub lead: String,
    /// Sanitised body HTML.
    pub body_html: String,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Main category.
    pub category_id: CategoryId,
}

/// A [`SearchHit`] with what decides whether readers may see it.
#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    hit: SearchHit,
    status: String,
    expire_at: Option<UnixTime>,
}

/// What a search is limited to besides its words.
#[derive(Clone, Debug, Default)]
pub struct SearchFilter {
    /// Only articles listed in one of these categories (empty: all).
    pub categories: Vec<CategoryId>,
    /// Published at or after.
    pub from: Option<UnixTime>,
    /// Published before.
    pub until: Option<UnixTime>,
}

/// Numbered placeholders `$first`, `$first+1`, … for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `%word%` for `LIKE … ESCAPE '\'`, the word's own wildcards escaped.
fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// How many articles are published (whatever their times): what a full reindex reads.
    pub async fn published_count(&self) -> Result<i64> {
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM articles WHERE status = 'published'",
            )
            .fetch_one(p)
            .await
        })?;
        Ok(n)
    }

    /// Published articles among the next `limit` articles with ids above `after`, in id
    /// order (a full reindex walks the table with it). When the last article read is not
    /// published, a [`SearchDoc::is_skip`] marker with its id ends the list, so the walk goes
    /// on from there; an empty list means the end.
    pub async fn search_docs_after(&self, after: ArticleId, limit: i64) -> Result<Vec<SearchDoc>> {
        // Walks the primary key and filters here: with the status in the WHERE clause the
        // databases may choose the status index and sort all published rows for every batch.
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, (ArticleId, String)>(
                "SELECT id, status FROM articles WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(p)
            .await
        })?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(Vec::new());
        };
        let published: Vec<ArticleId> = rows
            .into_iter()
            .filter(|(_, s)| s == "published")
            .map(|(id, _)| id)
            .collect();
        let mut docs = self.search_docs(&published).await?;
        docs.sort_by_key(|d| d.id);
        // The walk goes on from the last row read, published or not.
        if docs.last().is_none_or(|d| d.id != last) {
            docs.push(SearchDoc::skip(last));
        }
        Ok(docs)
    }

    /// Those of `ids` that are published (the others are to leave the index).
    pub async fn search_docs(&self, ids: &[ArticleId]) -> Result<Vec<SearchDoc>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, title, lead, body_html, publish_at, expire_at FROM articles
             WHERE status = 'published' AND id IN ({})",
            placeholders(1, ids.len())
        );
        let rows = with_db!(self, |p| {
            let mut q = sqlx::query_as::<_, DocRow>(sqlx::AssertSqlSafe(sql.clone()));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        self.with_links(rows).await
    }

    async fn with_links(&self, rows: Vec<DocRow>) -> Result<Vec<SearchDoc>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<ArticleId> = rows.iter().map(|r| r.id).collect();
        let list = placeholders(1, ids.len());
        let cats_sql = format!(
            "SELECT article_id, category_id FROM article_categories WHERE article_id IN ({list})"
        );
        let tags_sql = format!(
            "SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id
             WHERE at.article_id IN ({list}) ORDER BY at.article_id, at.position"
        );
        let (cats, tags) = with_db!(self, |p| {
            let mut q =
                sqlx::query_as::<_, (ArticleId, CategoryId)>(sqlx::AssertSqlSafe(cats_sql.clone()));
            for id in &ids {
                q = q.bind(*id);
            }
            let cats = q.fetch_all(p).await?;
            let mut q =
                sqlx::query_as::<_, (ArticleId, String)>(sqlx::AssertSqlSafe(tags_sql.clone()));
            for id in &ids {
                q = q.bind(*id);
            }
            let tags = q.fetch_all(p).await?;
            Ok::<_, sqlx::Error>((cats, tags))
        })?;
        let mut docs: Vec<SearchDoc> = rows
            .into_iter()
            .map(|r| SearchDoc {
                id: r.id,
                title: r.title,
                lead: r.lead,
                body_html: r.body_html,
                tags: Vec::new(),
                publish_at: r.publish_at,
                expire_at: r.expire_at,
                categories: Vec::new(),
            })
            .collect();
        let index: std::collections::HashMap<ArticleId, usize> =
            docs.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        for (a, c) in cats {
            if let Some(&i) = index.get(&a) {
                docs[i].categories.push(c);
            }
        }
        for (a, t) in tags {
            if let Some(&i) = index.get(&a) {
                docs[i].tags.push(t);
            }
        }
        Ok(docs)
    }

    /// Those of `ids` readers may see at `now`, in no particular order.
    pub async fn public_hits(&self, ids: &[ArticleId], now: UnixTime) -> Result<Vec<SearchHit>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Only the primary key in the WHERE clause, the visibility rule applied here: with the
        // rule in SQL, SQLite walked the status index over every published article (8 ms at
        // 100 000 articles) instead of looking up the ten ids.
        let sql = format!(
            "SELECT id, slug, title, lead, body_html, publish_at, category_id, status, expire_at
             FROM articles WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows = with_db!(self, |p| {
            let mut q = sqlx::query_as::<_, HitRow>(sqlx::AssertSqlSafe(sql.clone()));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                r.status.parse().is_ok_and(|status| {
                    Visibility {
                        status,
                        publish_at: r.hit.publish_at,
                        expire_at: r.expire_at,
                    }
                    .is_public(now)
                })
            })
            .map(|r| r.hit)
            .collect())
    }

    /// Public articles containing every one of `words` in their title, lead or body (SQL
    /// `LIKE '%…%'`, as the portals bantin replaces search), newest first: the page of `limit`
    /// from `offset`, and how many there are. Slow on large sites and blind to missing
    /// diacritics; bantin uses it only while its index is being built.
    pub async fn search_like(
        &self,
        words: &[String],
        filter: &SearchFilter,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SearchHit>, i64)> {
        // Placeholders: $1 now, $2 from, $3 until, then the words, then the categories.
        let mut conditions = vec![
            "a.status = 'published' AND a.publish_at <= $1 AND (a.expire_at IS NULL OR a.expire_at > $1)"
                .to_owned(),
            "($2 IS NULL OR a.publish_at >= $2) AND ($3 IS NULL OR a.publish_at < $3)".to_owned(),
        ];
        let words: Vec<String> = words
            .iter()
            .take(16)
            .map(|w| like_pattern(&w.to_lowercase()))
            .collect();
        for i in 0..words.len() {
            let n = i + 4;
            conditions.push(format!(
                "(LOWER(a.title) LIKE ${n} ESCAPE '\\' OR LOWER(a.lead) LIKE ${n} ESCAPE '\\' OR LOWER(a.body_html) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if !filter.categories.is_empty() {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM article_categories ac WHERE ac.article_id = a.id AND ac.category_id IN ({}))",
                placeholders(4 + words.len(), filter.categories.len())
            ));
        }
        let where_ = conditions.join(" AND ");
        let page_sql = format!(
            "SELECT a.id, a.slug, a.title, a.lead, a.body_html, a.publish_at, a.category_id
             FROM articles a WHERE {where_} ORDER BY a.publish_at DESC, a.id DESC LIMIT {} OFFSET {}",
            limit.clamp(0, 100),
            offset.clamp(0, 100_000)
        );
        let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM articles a WHERE {where_}");
        let (hits, count) = with_db!(self, |p| {
            macro_rules! bind_all {
                ($q:expr) => {{
                    let mut q = $q.bind(now).bind(filter.from).bind(filter.until);
                    for w in &words {
                        q = q.bind(w.as_str());
                    }
                    for c in &filter.categories {
                        q = q.bind(*c);
                    }
                    q
                }};
            }
            let hits = bind_all!(sqlx::query_as::<_, SearchHit>(sqlx::AssertSqlSafe(
                page_sql.clone()
            )))
            .fetch_all(p)
            .await?;
            let count = bind_all!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(
                count_sql.clone()
            )))
            .fetch_one(p)
            .await?;
            Ok::<_, sqlx::Error>((hits, count))
        })?;
        Ok((hits, count))
    }
}
