//! What reader pages read, each query defined once ([`Query`] builders) and run by
//! [`Store::fetch_all`] on either database; the article, home and category pages get all of
//! their reads in one call ([`Store::article_page`], [`Store::home_lists`],
//! [`Store::category_listing`]): on a SQLite file one blocking hand-off per page.

use bantin_core::{ArticleId, CategoryId, UnixTime};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::reader::{self, FromReadRow, Query, Value};
use crate::{Article, ArticleSummary, MediaItem, PAGE_MAX, Result, Store, with_db};

/// A row both executors can build.
pub(crate) trait Row:
    FromReadRow
    + for<'r> sqlx::FromRow<'r, SqliteRow>
    + for<'r> sqlx::FromRow<'r, PgRow>
    + Send
    + Unpin
    + 'static
{
}

impl<T> Row for T where
    T: FromReadRow
        + for<'r> sqlx::FromRow<'r, SqliteRow>
        + for<'r> sqlx::FromRow<'r, PgRow>
        + Send
        + Unpin
        + 'static
{
}

/// Binds a [`Query`]'s values to a sqlx query `$x`, in order.
macro_rules! bind_values {
    ($x:expr, $q:expr) => {{
        let mut x = $x;
        for v in &$q.values {
            x = match v {
                Value::Int(i) => x.bind(*i),
                Value::Text(t) => x.bind(t.as_str()),
            };
        }
        x
    }};
}

/// The columns of a whole article.
macro_rules! article_columns {
    () => {
        "id, slug, title, lead, body_html, image_url, image_alt, image_caption, author, source, status, publish_at, expire_at, category_id, view_count, rating_total, rating_count, created_by, created_at, updated_at, expiry_action, rejection_reason, allow_rating, show_on_home, trashed_at, revision, updated_by, meta_description"
    };
}

/// The columns lists show (an [`ArticleSummary`]), of articles `a`.
macro_rules! summary_columns {
    () => {
        "a.id, a.slug, a.title, a.lead, a.image_url, a.image_alt, a.publish_at, a.category_id"
    };
}
pub(crate) use summary_columns;

/// What readers may reach of articles `a`, `$1` being now: published, inside its window.
/// With an alias: the same of a link table's copy of its article's status and times (the
/// listing indexes of `article_categories` and `article_tags`).
macro_rules! reachable {
    () => {
        reachable!("a")
    };
    ($t:literal) => {
        concat!(
            $t,
            ".status = 'published' AND ",
            $t,
            ".publish_at <= $1 AND (",
            $t,
            ".expire_at IS NULL OR ",
            $t,
            ".expire_at > $1)"
        )
    };
}
pub(crate) use reachable;

/// One article by id, whatever its status.
pub(crate) fn article(id: ArticleId) -> Query {
    Query::new(
        "article",
        concat!(
            "SELECT ",
            article_columns!(),
            " FROM articles WHERE id = $1"
        ),
        vec![id.into()],
    )
}

/// An article's tag names, in order.
pub(crate) fn article_tags(id: ArticleId) -> Query {
    Query::new(
        "article_tags",
        "SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id
         WHERE at.article_id = $1 ORDER BY at.position, t.name",
        vec![id.into()],
    )
}

/// Category `$1` and its listed descendants (a hidden subcategory's articles appear on its
/// own page only, not in its parents' lists).
pub(crate) fn category_tree(category: CategoryId) -> Query {
    Query::new(
        "category_tree",
        "WITH RECURSIVE tree(id) AS (
             SELECT CAST($1 AS BIGINT)
             UNION ALL
             SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
             WHERE c.status = 'active'
         )
         SELECT id FROM tree",
        vec![category.into()],
    )
}

/// Categories a listing walks at once: SQLite refuses a compound SELECT of more than 500
/// parts; a bigger tree is listed by the slower single walk ([`tree_scan`]).
const TREE_MAX: usize = 100;

/// The ids and publish times of public articles listed in any of `tree` (ids from `$first`
/// on), for the caller to order: one walk of the covering index per category, each stopping
/// after `$2` rows, merged without duplicates (an article may be listed in several). `$1` is
/// now. No article row is read.
fn tree_union(tree: &[CategoryId], first: usize) -> String {
    tree.iter()
        .enumerate()
        .map(|(i, _)| {
            format!(
                "SELECT * FROM (SELECT ac.article_id, ac.publish_at FROM article_categories ac
                 WHERE ac.category_id = ${} AND ac.status = 'published' AND ac.publish_at <= $1
                   AND (ac.expire_at IS NULL OR ac.expire_at > $1)
                 ORDER BY ac.publish_at DESC, ac.article_id DESC LIMIT $2) b{}",
                i + first,
                i
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ")
}

/// [`tree_union`]'s rows for a tree too big for it: every public article newest first,
/// checking its categories (a walk that grows with the archive; trees this big are rare).
macro_rules! tree_scan {
    () => {
        concat!(
            "WITH RECURSIVE tree(id) AS (
                 SELECT CAST($2 AS BIGINT)
                 UNION ALL
                 SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
                 WHERE c.status = 'active'
             )
             SELECT ",
            summary_columns!(),
            " FROM articles a
             WHERE ",
            reachable!(),
            " AND EXISTS (SELECT 1 FROM article_categories ac
                          WHERE ac.article_id = a.id AND ac.category_id IN (SELECT id FROM tree))"
        )
    };
}

/// A page of the public articles listed in `tree` (a category first, then its listed
/// descendants: [`category_tree`]), newest first.
pub(crate) fn category_articles(
    tree: &[CategoryId],
    now: UnixTime,
    limit: i64,
    offset: i64,
) -> Query {
    let (limit, offset) = (limit.clamp(0, PAGE_MAX), offset.max(0));
    if tree.len() > TREE_MAX {
        return Query::new(
            "category_articles_scan",
            concat!(
                tree_scan!(),
                " ORDER BY a.publish_at DESC, a.id DESC LIMIT $3 OFFSET $4"
            ),
            vec![now.into(), tree[0].into(), limit.into(), offset.into()],
        );
    }
    let mut values = vec![
        now.into(),
        (offset + limit).into(),
        limit.into(),
        offset.into(),
    ];
    values.extend(tree.iter().map(|&id| Value::from(id)));
    // The page's ids are chosen from the index alone; then only their rows are read
    // (CROSS JOIN keeps SQLite in that order).
    Query::new(
        "category_articles",
        format!(
            concat!(
                "SELECT ",
                summary_columns!(),
                " FROM (SELECT article_id FROM ({}) u
                       ORDER BY publish_at DESC, article_id DESC LIMIT $3 OFFSET $4) p
                 CROSS JOIN articles a WHERE a.id = p.article_id AND ",
                reachable!(),
                " ORDER BY a.publish_at DESC, a.id DESC"
            ),
            tree_union(tree, 5)
        ),
        values,
    )
}

/// How many rows [`category_articles`] has, counting no further than `at_most`.
pub(crate) fn category_count(tree: &[CategoryId], now: UnixTime, at_most: i64) -> Query {
    let at_most = at_most.max(0);
    if tree.len() > TREE_MAX {
        return Query::new(
            "category_count_scan",
            concat!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM (",
                tree_scan!(),
                " LIMIT $3) counted"
            ),
            vec![now.into(), tree[0].into(), at_most.into()],
        );
    }
    let mut values = vec![now.into(), at_most.into()];
    values.extend(tree.iter().map(|&id| Value::from(id)));
    Query::new(
        "category_count",
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT article_id FROM ({}) u LIMIT $2) counted",
            tree_union(tree, 3)
        ),
        values,
    )
}

/// The newest public articles whose main category is listed (not hidden).
pub(crate) fn latest(now: UnixTime, limit: i64) -> Query {
    Query::new(
        "latest",
        concat!(
            "SELECT ",
            summary_columns!(),
            " FROM articles a JOIN categories c ON c.id = a.category_id
             WHERE ",
            reachable!(),
            " AND c.status = 'active'
             ORDER BY a.publish_at DESC, a.id DESC
             LIMIT $2"
        ),
        vec![now.into(), limit.clamp(0, PAGE_MAX).into()],
    )
}

/// Up to `per_category` newest public articles of each of `ids` (at most a hundred: SQLite
/// refuses a compound SELECT of more than 500 parts), one short index walk each.
pub(crate) fn per_category(ids: &[CategoryId], now: UnixTime, per_category: i64) -> Query {
    // Only numbered placeholders are generated; values are bound.
    let sql = ids
        .iter()
        .enumerate()
        .map(|(i, _)| {
            format!(
                concat!(
                    "SELECT * FROM (SELECT ",
                    summary_columns!(),
                    " FROM articles a WHERE a.category_id = ${} AND ",
                    reachable!(),
                    " ORDER BY a.publish_at DESC, a.id DESC LIMIT $2) p{}"
                ),
                i + 3,
                i
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut values = vec![now.into(), per_category.clamp(0, PAGE_MAX).into()];
    values.extend(ids.iter().map(|&id| Value::from(id)));
    Query::new("per_category", sql, values)
}

/// The categories a home page asks [`per_category`] about at once.
const PER_CATEGORY_GROUP: usize = 100;

/// The "newer" and "older" lists of an article page in one query: public articles of the
/// same main category published after it (oldest first) and before it (newest first).
/// Row values `(publish_at, id) > ($3, $4)` let both databases walk the (category_id, status,
/// publish_at, id) index from the article outwards.
pub(crate) fn related(a: &Article, now: UnixTime, limit: i64) -> Query {
    Query::new(
        "related",
        concat!(
            "SELECT * FROM (
                 SELECT CAST(1 AS BIGINT) AS newer, ",
            summary_columns!(),
            " FROM articles a
                 WHERE a.category_id = $2 AND ",
            reachable!(),
            " AND (a.publish_at, a.id) > ($3, $4)
                 ORDER BY a.publish_at ASC, a.id ASC
                 LIMIT $5
             ) n
             UNION ALL
             SELECT * FROM (
                 SELECT CAST(0 AS BIGINT) AS newer, ",
            summary_columns!(),
            // Published before the article, which readers see, so before now as well: the
            // row value is the walk's only upper bound (given `publish_at <= now` too, SQLite
            // walked down from now, across every newer article of a big category).
            " FROM articles a
                 WHERE a.category_id = $2 AND a.status = 'published'
                   AND (a.expire_at IS NULL OR a.expire_at > $1)
                   AND (a.publish_at, a.id) < ($3, $4)
                 ORDER BY a.publish_at DESC, a.id DESC
                 LIMIT $5
             ) o"
        ),
        vec![
            now.into(),
            a.category_id.into(),
            a.publish_at.into(),
            a.id.into(),
            limit.clamp(0, PAGE_MAX).into(),
        ],
    )
}

/// A row of [`related`]: which list, and the article.
#[derive(sqlx::FromRow)]
pub(crate) struct RelatedRow {
    newer: i64,
    #[sqlx(flatten)]
    summary: ArticleSummary,
}

impl FromReadRow for RelatedRow {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            newer: row.get("newer")?,
            summary: ArticleSummary::from_read_row(row)?,
        })
    }
}

/// Splits [`related`]'s rows into (newer, older), each in reading order (UNION ALL does not
/// promise to keep each part's order).
fn split_related(rows: Vec<RelatedRow>) -> (Vec<ArticleSummary>, Vec<ArticleSummary>) {
    let (mut newer, mut older): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.newer == 1);
    newer.sort_by_key(|r| (r.summary.publish_at, r.summary.id));
    older.sort_by_key(|r| std::cmp::Reverse((r.summary.publish_at, r.summary.id)));
    (
        newer.into_iter().map(|r| r.summary).collect(),
        older.into_iter().map(|r| r.summary).collect(),
    )
}

/// The columns of a media item, of media `m` joined to its uploader `u`.
pub(crate) const MEDIA_COLUMNS: &str = "m.id, m.media_key, m.kind, m.file_name, m.ext, m.mime, m.bytes, m.width, \
    m.height, m.widths, m.original_kept, m.alt, m.caption, m.uploaded_by, u.username AS uploader, \
    m.created_at, m.updated_at";

/// Library items by content key.
pub(crate) fn media_by_keys(keys: &[String]) -> Query {
    let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    Query::new(
        "media_by_keys",
        format!(
            "SELECT {MEDIA_COLUMNS} FROM media m LEFT JOIN users u ON u.id = m.uploaded_by
             WHERE m.media_key IN ({})",
            marks.join(", ")
        ),
        keys.iter().map(|k| Value::from(k.as_str())).collect(),
    )
}

/// What an article page shows besides the site's own lists.
#[derive(Clone, Debug)]
pub struct ArticlePage {
    /// The article.
    pub article: Article,
    /// Same category, published after it, oldest first.
    pub newer: Vec<ArticleSummary>,
    /// Same category, published before it, newest first.
    pub older: Vec<ArticleSummary>,
    /// Tag names, in order.
    pub tags: Vec<String>,
    /// The library items its pictures name.
    pub media: Vec<MediaItem>,
}

/// A category page's list and how many articles it counted.
#[derive(Clone, Debug)]
pub struct CategoryListing {
    /// Public articles counted, up to the limit asked.
    pub counted: i64,
    /// The page asked for, newest first.
    pub articles: Vec<ArticleSummary>,
}

impl Store {
    /// Every row of `q`.
    pub(crate) async fn fetch_all<T: Row>(&self, q: Query) -> Result<Vec<T>> {
        if let Some(pool) = &self.read {
            return pool.run(move |c| reader::all(c, &q)).await;
        }
        let rows = with_db!(self, |p| {
            let x = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(q.sql.to_string()));
            let x = bind_values!(x, q);
            x.fetch_all(p).await
        })?;
        Ok(rows)
    }

    /// The first row of `q`, if any.
    pub(crate) async fn fetch_optional<T: Row>(&self, q: Query) -> Result<Option<T>> {
        Ok(self.fetch_all(q).await?.into_iter().next())
    }

    /// The one number `q` answers (a count).
    pub(crate) async fn fetch_count(&self, q: Query) -> Result<i64> {
        Ok(self.fetch_optional::<(i64,)>(q).await?.map_or(0, |(n,)| n))
    }

    /// One article by id, whatever its status (callers apply the visibility rule).
    pub async fn article(&self, id: ArticleId) -> Result<Option<Article>> {
        self.fetch_optional(article(id)).await
    }

    /// Tag names of an article, in order.
    pub async fn article_tags(&self, id: ArticleId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self.fetch_all(article_tags(id)).await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// A category and its listed descendants.
    async fn tree(&self, category_id: CategoryId) -> Result<Vec<CategoryId>> {
        let rows: Vec<(i64,)> = self.fetch_all(category_tree(category_id)).await?;
        Ok(tree_ids(rows))
    }

    /// Public articles listed in a category or any of its listed descendants, newest first.
    pub async fn category_articles(
        &self,
        category_id: CategoryId,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        Ok(self
            .category_listing(category_id, now, 0, limit, offset)
            .await?
            .articles)
    }

    /// How many public articles [`Store::category_articles`] would list, counting no further
    /// than `at_most`: the cost grows with the pages a reader asks for, not with the archive.
    pub async fn category_article_count(
        &self,
        category_id: CategoryId,
        now: UnixTime,
        at_most: i64,
    ) -> Result<i64> {
        Ok(self
            .category_listing(category_id, now, at_most, 0, 0)
            .await?
            .counted)
    }

    /// The newest public articles whose main category is listed (not hidden).
    pub async fn latest_articles(&self, now: UnixTime, limit: i64) -> Result<Vec<ArticleSummary>> {
        self.fetch_all(latest(now, limit)).await
    }

    /// Up to `per_category` newest public articles of each of `category_ids` (the home page's
    /// blocks): one short index walk per category, whatever the archive size.
    pub async fn articles_per_category(
        &self,
        category_ids: &[CategoryId],
        now: UnixTime,
        per: i64,
    ) -> Result<Vec<ArticleSummary>> {
        let mut out = Vec::new();
        for group in category_ids.chunks(PER_CATEGORY_GROUP) {
            out.extend(
                self.fetch_all::<ArticleSummary>(per_category(group, now, per))
                    .await?,
            );
        }
        Ok(out)
    }

    /// The "newer" and "older" lists of an article page: public articles of the same main
    /// category published after `article` (oldest first) and before it (newest first), up to
    /// `limit` each.
    pub async fn related_articles(
        &self,
        article: &Article,
        now: UnixTime,
        limit: i64,
    ) -> Result<(Vec<ArticleSummary>, Vec<ArticleSummary>)> {
        Ok(split_related(
            self.fetch_all(related(article, now, limit)).await?,
        ))
    }

    /// Library items by content key.
    pub async fn media_by_keys(&self, keys: &[String]) -> Result<Vec<MediaItem>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.fetch_all(media_by_keys(keys)).await
    }

    /// Everything an article page reads, if readers may see the article at `now`: the
    /// article, its newer and older lists (`related` each), its tags, and the library items
    /// whose keys `media_keys` finds in it.
    pub async fn article_page<F>(
        &self,
        id: ArticleId,
        now: UnixTime,
        related_limit: i64,
        media_keys: F,
    ) -> Result<Option<ArticlePage>>
    where
        F: FnOnce(&Article) -> Vec<String> + Send + 'static,
    {
        if let Some(pool) = &self.read {
            return pool
                .run(move |c| {
                    let Some(a) = reader::first::<Article>(c, &article(id))? else {
                        return Ok(None);
                    };
                    if !a.visibility().is_public(now) {
                        return Ok(None);
                    }
                    let (newer, older) =
                        split_related(reader::all(c, &related(&a, now, related_limit))?);
                    let tags = reader::all::<(String,)>(c, &article_tags(id))?;
                    let keys = media_keys(&a);
                    let media = if keys.is_empty() {
                        Vec::new()
                    } else {
                        reader::all(c, &media_by_keys(&keys))?
                    };
                    Ok(Some(ArticlePage {
                        article: a,
                        newer,
                        older,
                        tags: tags.into_iter().map(|(t,)| t).collect(),
                        media,
                    }))
                })
                .await;
        }
        let Some(a) = self.article(id).await? else {
            return Ok(None);
        };
        if !a.visibility().is_public(now) {
            return Ok(None);
        }
        let keys = media_keys(&a);
        let (related, tags, media) = tokio::try_join!(
            self.related_articles(&a, now, related_limit),
            self.article_tags(id),
            self.media_by_keys(&keys),
        )?;
        Ok(Some(ArticlePage {
            article: a,
            newer: related.0,
            older: related.1,
            tags,
            media,
        }))
    }

    /// The home page's lists: the newest `latest` public articles, and up to `per` of each
    /// of `category_ids`.
    pub async fn home_lists(
        &self,
        now: UnixTime,
        latest_limit: i64,
        category_ids: &[CategoryId],
        per: i64,
    ) -> Result<(Vec<ArticleSummary>, Vec<ArticleSummary>)> {
        if let Some(pool) = &self.read {
            let ids = category_ids.to_vec();
            return pool
                .run(move |c| {
                    let newest = reader::all(c, &latest(now, latest_limit))?;
                    let mut blocks = Vec::new();
                    for group in ids.chunks(PER_CATEGORY_GROUP) {
                        blocks.extend(reader::all(c, &per_category(group, now, per))?);
                    }
                    Ok((newest, blocks))
                })
                .await;
        }
        tokio::try_join!(
            self.latest_articles(now, latest_limit),
            self.articles_per_category(category_ids, now, per),
        )
    }

    /// A category page: its public articles (its own and its listed descendants') counted
    /// up to `at_most` (none counted when 0), and `limit` of them from `offset`, newest first.
    pub async fn category_listing(
        &self,
        category_id: CategoryId,
        now: UnixTime,
        at_most: i64,
        limit: i64,
        offset: i64,
    ) -> Result<CategoryListing> {
        if let Some(pool) = &self.read {
            return pool
                .run(move |c| {
                    let tree = tree_ids(reader::all(c, &category_tree(category_id))?);
                    let counted = if at_most > 0 {
                        reader::first::<(i64,)>(c, &category_count(&tree, now, at_most))?
                            .map_or(0, |(n,)| n)
                    } else {
                        0
                    };
                    let articles = if limit > 0 {
                        reader::all(c, &category_articles(&tree, now, limit, offset))?
                    } else {
                        Vec::new()
                    };
                    Ok(CategoryListing { counted, articles })
                })
                .await;
        }
        let tree = self.tree(category_id).await?;
        let counted = async {
            if at_most > 0 {
                self.fetch_count(category_count(&tree, now, at_most)).await
            } else {
                Ok(0)
            }
        };
        let articles = async {
            if limit > 0 {
                self.fetch_all(category_articles(&tree, now, limit, offset))
                    .await
            } else {
                Ok(Vec::new())
            }
        };
        let (counted, articles) = tokio::try_join!(counted, articles)?;
        Ok(CategoryListing { counted, articles })
    }
}

/// The ids [`category_tree`] answers, the category itself first.
fn tree_ids(rows: Vec<(i64,)>) -> Vec<CategoryId> {
    rows.into_iter().map(|(id,)| CategoryId::new(id)).collect()
}

/// Sample values for [`reader_queries`]: what a reader page would ask about.
#[derive(Clone, Debug)]
pub struct PlanSample<'a> {
    /// The instant.
    pub now: UnixTime,
    /// An article page's article.
    pub article: &'a Article,
    /// A category with its listed descendants, the category first.
    pub tree: &'a [CategoryId],
    /// A tag's id.
    pub tag: i64,
    /// An author page's segment.
    pub author: &'a str,
}

/// Every query reader pages (article, home, category, tag and author pages, feeds and
/// sitemaps) run, with `s`'s values: what the query-plan test checks never scans the
/// articles table whole.
pub fn reader_queries(s: &PlanSample<'_>) -> Vec<Query> {
    use crate::listings::{self, Listing};
    let keys = ["k1".to_owned(), "k2".to_owned()];
    let mut out = vec![
        article(s.article.id),
        article_tags(s.article.id),
        related(s.article, s.now, 5),
        media_by_keys(&keys),
        latest(s.now, 10),
        per_category(s.tree, s.now, 5),
        category_tree(s.tree[0]),
        category_articles(s.tree, s.now, 20, 0),
        category_articles(s.tree, s.now, 20, 980),
        category_count(s.tree, s.now, 101),
        listings::sitemap_articles(s.now, 1, 50_000),
        listings::published_since(s.now, s.now.minus(2 * 86_400), 1000),
        listings::tag_by_slug("thu"),
        listings::sitemap_tags(s.now, 50_000),
    ];
    for l in [Listing::Tag(s.tag), Listing::Author(s.author.to_owned())] {
        out.push(l.articles(s.now, 20, 0));
        out.push(l.count(s.now, 101));
        out.push(l.author(s.now));
    }
    out
}

impl Store {
    /// The plan the database would run `q` with, one line per step: SQLite's
    /// `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN` with sequential scans priced out
    /// (so a small test table does not hide a missing index).
    pub async fn query_plan(&self, q: &Query) -> Result<Vec<String>> {
        match &self.db {
            crate::Db::Sqlite(p) => {
                let x = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN QUERY PLAN {}",
                    q.sql
                )));
                let x = bind_values!(x, q);
                Ok(x.fetch_all(p).await?.into_iter().map(|r| r.3).collect())
            }
            crate::Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                let x = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN {}",
                    q.sql
                )));
                let x = bind_values!(x, q);
                let lines = x.fetch_all(&mut *tx).await?;
                tx.rollback().await?;
                Ok(lines)
            }
        }
    }
}
