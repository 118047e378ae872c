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

/// The columns of a whole article.
macro_rules! article_columns {
    () => {
        "id, slug, title, lead, body_html, image_url, image_alt, image_caption, author, source, status, publish_at, expire_at, category_id, view_count, rating_total, rating_count, created_by, created_at, updated_at, expiry_action, rejection_reason, allow_rating, show_on_home, trashed_at, revision, updated_by"
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
macro_rules! reachable {
    () => {
        "a.status = 'published' AND a.publish_at <= $1 AND (a.expire_at IS NULL OR a.expire_at > $1)"
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

/// Public articles listed in category `$2` or any of its listed descendants (a hidden
/// subcategory's articles appear on its own page only, not in its parents' lists), walked
/// newest first up to the LIMIT the caller appends.
macro_rules! in_category_tree {
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

/// A page of [`in_category_tree!`], newest first.
pub(crate) fn category_articles(
    category: CategoryId,
    now: UnixTime,
    limit: i64,
    offset: i64,
) -> Query {
    Query::new(
        "category_articles",
        concat!(
            in_category_tree!(),
            " ORDER BY a.publish_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        ),
        vec![
            now.into(),
            category.into(),
            limit.clamp(0, PAGE_MAX).into(),
            offset.max(0).into(),
        ],
    )
}

/// How many rows [`category_articles`] has, counting no further than `at_most`.
pub(crate) fn category_count(category: CategoryId, now: UnixTime, at_most: i64) -> Query {
    Query::new(
        "category_count",
        concat!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (",
            in_category_tree!(),
            " LIMIT $3) counted"
        ),
        vec![now.into(), category.into(), at_most.max(0).into()],
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
            " FROM articles a
                 WHERE a.category_id = $2 AND ",
            reachable!(),
            " AND (a.publish_at, a.id) < ($3, $4)
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
            let mut x = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(q.sql.to_string()));
            for v in &q.values {
                x = match v {
                    Value::Int(i) => x.bind(*i),
                    Value::Text(t) => x.bind(t.as_str()),
                };
            }
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

    /// Public articles listed in a category or any of its descendants, newest first.
    pub async fn category_articles(
        &self,
        category_id: CategoryId,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        self.fetch_all(category_articles(category_id, now, limit, offset))
            .await
    }

    /// How many public articles [`Store::category_articles`] would list, counting no further
    /// than `at_most`: the cost grows with the pages a reader asks for, not with the archive.
    pub async fn category_article_count(
        &self,
        category_id: CategoryId,
        now: UnixTime,
        at_most: i64,
    ) -> Result<i64> {
        self.fetch_count(category_count(category_id, now, at_most))
            .await
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

    /// A category page: its public articles counted up to `at_most`, and `limit` of them from
    /// `offset`, newest first.
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
                    let counted =
                        reader::first::<(i64,)>(c, &category_count(category_id, now, at_most))?
                            .map_or(0, |(n,)| n);
                    let articles =
                        reader::all(c, &category_articles(category_id, now, limit, offset))?;
                    Ok(CategoryListing { counted, articles })
                })
                .await;
        }
        let (counted, articles) = tokio::try_join!(
            self.category_article_count(category_id, now, at_most),
            self.category_articles(category_id, now, limit, offset),
        )?;
        Ok(CategoryListing { counted, articles })
    }
}
