//! Reads for the pages that list what readers can reach: sitemaps (by id range, so a file of
//! 50 000 URLs is one index range scan however large the archive), the news sitemap of the
//! last two days, and tag pages. "Reachable" is the article page's own rule: published and
//! inside its publish and expiry window.

use bantin_core::{ArticleId, CategoryId, UnixTime};

use crate::reader::{FromReadRow, Query, Value};
use crate::reads::{reachable, summary_columns};
use crate::{ArticleSummary, Result, Store, Tx, with_db, with_tx};

/// What a sitemap entry needs of an article.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SitemapEntry {
    /// Id.
    pub id: ArticleId,
    /// URL slug.
    pub slug: String,
    /// Title (for news sitemaps and image titles).
    pub title: String,
    /// Main category (its slug makes the URL).
    pub category_id: CategoryId,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
    /// Main image.
    pub image_url: Option<String>,
    /// Its alternative text.
    pub image_alt: String,
}

/// A tag with the number of articles readers can reach under it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PublicTag {
    /// Tag id.
    pub id: i64,
    /// Name as written.
    pub name: String,
    /// URL segment.
    pub slug: String,
}

impl FromReadRow for SitemapEntry {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: ArticleId::new(row.get("id")?),
            slug: row.get("slug")?,
            title: row.get("title")?,
            category_id: CategoryId::new(row.get("category_id")?),
            publish_at: UnixTime::from_second(row.get("publish_at")?),
            updated_at: UnixTime::from_second(row.get("updated_at")?),
            image_url: row.get("image_url")?,
            image_alt: row.get("image_alt")?,
        })
    }
}

impl FromReadRow for PublicTag {
    fn from_read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            name: row.get("name")?,
            slug: row.get("slug")?,
        })
    }
}

/// The columns of a [`SitemapEntry`], of articles `a`.
macro_rules! sitemap_columns {
    () => {
        "a.id, a.slug, a.title, a.category_id, a.publish_at, a.updated_at, a.image_url, a.image_alt"
    };
}

/// Reachable articles with ids in `$2..=$3`, by id.
pub(crate) fn sitemap_articles(now: UnixTime, from: i64, to: i64) -> Query {
    Query::new(
        "sitemap_articles",
        concat!(
            "SELECT ",
            sitemap_columns!(),
            // CROSS JOIN keeps SQLite on the id range (without statistics it would walk every
            // published article by date and sort them); PostgreSQL plans it the same anyway.
            " FROM articles r CROSS JOIN articles a
             WHERE r.id BETWEEN $2 AND $3 AND a.id = r.id AND ",
            reachable!(),
            " ORDER BY r.id"
        ),
        vec![now.into(), from.into(), to.into()],
    )
}

/// Reachable articles published after `since`, newest first.
pub(crate) fn published_since(now: UnixTime, since: UnixTime, limit: i64) -> Query {
    Query::new(
        "published_since",
        concat!(
            "SELECT ",
            sitemap_columns!(),
            " FROM articles a WHERE ",
            reachable!(),
            " AND a.publish_at > $2 ORDER BY a.publish_at DESC, a.id DESC LIMIT $3"
        ),
        vec![now.into(), since.into(), limit.clamp(1, 1000).into()],
    )
}

/// The tag with this slug.
pub(crate) fn tag_by_slug(slug: &str) -> Query {
    Query::new(
        "tag_by_slug",
        "SELECT id, name, slug FROM tags WHERE slug = $1",
        vec![slug.into()],
    )
}

/// Tags with at least one reachable article, by slug.
pub(crate) fn sitemap_tags(now: UnixTime, limit: i64) -> Query {
    Query::new(
        "sitemap_tags",
        concat!(
            // From each tag to its reachable articles in the tag pages' index alone, not from
            // every published article to its tags.
            "SELECT t.id, t.name, t.slug FROM tags t
             WHERE EXISTS (SELECT 1 FROM article_tags at WHERE at.tag_id = t.id AND ",
            reachable!("at"),
            ") ORDER BY t.slug LIMIT $2"
        ),
        vec![now.into(), limit.clamp(1, 50_000).into()],
    )
}

/// A list of reachable articles readers can page through besides categories.
#[derive(Clone, Debug)]
pub(crate) enum Listing {
    /// Articles with this tag id.
    Tag(i64),
    /// Articles of this author page segment.
    Author(String),
}

/// The ids and publish times of tag `$2`'s reachable articles (`$1` being now), newest first:
/// a walk of the covering `article_tags_listing` index alone, which stops when the caller's
/// LIMIT is met; no article row is read.
macro_rules! tag_ids {
    () => {
        concat!(
            "SELECT at.article_id, at.publish_at FROM article_tags at WHERE at.tag_id = $2 AND ",
            reachable!("at"),
            " ORDER BY at.publish_at DESC, at.article_id DESC"
        )
    };
}

/// `SELECT {columns}` of tag `$2`'s page `LIMIT $3 OFFSET $4`, newest first: the page's ids
/// are chosen from the index alone ([`tag_ids`]), then only their rows are read (CROSS JOIN
/// keeps SQLite in that order). The articles' own status and times are checked again: the
/// copies follow them in the same transaction, but the rule is the article's.
macro_rules! tag_page {
    ($columns:expr) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM (",
            tag_ids!(),
            " LIMIT $3 OFFSET $4) p CROSS JOIN articles a WHERE a.id = p.article_id AND ",
            reachable!(),
            " ORDER BY a.publish_at DESC, a.id DESC"
        )
    };
}

/// `FROM … WHERE` of an author list, `$2` being its segment (its own index,
/// `articles_author`, walks it newest first).
macro_rules! author_source {
    () => {
        concat!(
            " FROM articles a WHERE a.author_slug = $2 AND ",
            reachable!()
        )
    };
}

impl Listing {
    fn key(&self) -> Value {
        match self {
            Self::Tag(id) => Value::Int(*id),
            Self::Author(slug) => Value::Text(slug.clone()),
        }
    }

    /// A page of the list, newest first.
    pub(crate) fn articles(&self, now: UnixTime, limit: i64, offset: i64) -> Query {
        let values = vec![
            now.into(),
            self.key(),
            limit.clamp(1, crate::PAGE_MAX).into(),
            offset.max(0).into(),
        ];
        match self {
            Self::Tag(_) => Query::new("tag_articles", tag_page!(summary_columns!()), values),
            Self::Author(_) => Query::new(
                "author_articles",
                concat!(
                    "SELECT ",
                    summary_columns!(),
                    author_source!(),
                    " ORDER BY a.publish_at DESC, a.id DESC LIMIT $3 OFFSET $4"
                ),
                values,
            ),
        }
    }

    /// How many the list has, counting no further than `cap`.
    pub(crate) fn count(&self, now: UnixTime, cap: i64) -> Query {
        let values = vec![now.into(), self.key(), cap.max(1).into()];
        match self {
            // The index alone answers, as category counts do.
            Self::Tag(_) => Query::new(
                "tag_count",
                concat!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM (",
                    tag_ids!(),
                    " LIMIT $3) capped"
                ),
                values,
            ),
            Self::Author(_) => Query::new(
                "author_count",
                concat!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1",
                    author_source!(),
                    " LIMIT $3) capped"
                ),
                values,
            ),
        }
    }

    /// The author line of the list's newest article.
    pub(crate) fn author(&self, now: UnixTime) -> Query {
        match self {
            Self::Tag(_) => Query::new(
                "tag_author",
                tag_page!("a.author"),
                vec![now.into(), self.key(), 1_i64.into(), 0_i64.into()],
            ),
            Self::Author(_) => Query::new(
                "author_author",
                concat!(
                    "SELECT a.author",
                    author_source!(),
                    " ORDER BY a.publish_at DESC, a.id DESC LIMIT 1"
                ),
                vec![now.into(), self.key()],
            ),
        }
    }
}

impl Store {
    /// The highest article id (0 with none): sitemap files cover fixed id ranges up to it.
    pub async fn max_article_id(&self) -> Result<i64> {
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM articles")
                .fetch_one(p)
                .await
        })?;
        Ok(n.unwrap_or(0))
    }

    /// Reachable articles with ids in `from..=to`, by id.
    pub async fn sitemap_articles(
        &self,
        now: UnixTime,
        from: i64,
        to: i64,
    ) -> Result<Vec<SitemapEntry>> {
        self.fetch_all(sitemap_articles(now, from, to)).await
    }

    /// Reachable articles published after `since`, newest first, at most `limit`.
    pub async fn articles_published_since(
        &self,
        now: UnixTime,
        since: UnixTime,
        limit: i64,
    ) -> Result<Vec<SitemapEntry>> {
        self.fetch_all(published_since(now, since, limit)).await
    }

    /// The tag with this slug.
    pub async fn tag_by_slug(&self, slug: &str) -> Result<Option<PublicTag>> {
        self.fetch_optional(tag_by_slug(slug)).await
    }

    /// Tags that have at least one reachable article, by name, at most `limit`.
    pub async fn sitemap_tags(&self, now: UnixTime, limit: i64) -> Result<Vec<PublicTag>> {
        self.fetch_all(sitemap_tags(now, limit)).await
    }

    /// Reachable articles with tag `tag`, newest first: `limit` from `offset`.
    pub async fn tag_articles(
        &self,
        tag: i64,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        self.fetch_all(Listing::Tag(tag).articles(now, limit, offset))
            .await
    }

    /// How many reachable articles have tag `tag`, counting no further than `cap`.
    pub async fn tag_article_count(&self, tag: i64, now: UnixTime, cap: i64) -> Result<i64> {
        self.fetch_count(Listing::Tag(tag).count(now, cap)).await
    }

    /// The author line of the newest reachable article whose author page is `slug`.
    pub async fn author_name(&self, slug: &str, now: UnixTime) -> Result<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional(Listing::Author(slug.to_owned()).author(now))
            .await?;
        Ok(row.map(|(a,)| a))
    }

    /// Reachable articles of the author page `slug`, newest first: `limit` from `offset`.
    pub async fn author_articles(
        &self,
        slug: &str,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        self.fetch_all(Listing::Author(slug.to_owned()).articles(now, limit, offset))
            .await
    }

    /// How many reachable articles the author page `slug` has, counting no further than `cap`.
    pub async fn author_article_count(&self, slug: &str, now: UnixTime, cap: i64) -> Result<i64> {
        self.fetch_count(Listing::Author(slug.to_owned()).count(now, cap))
            .await
    }
}

impl Tx {
    /// Sets the author page segment of an article (the back-fill of older articles).
    pub async fn set_author_slug(&mut self, id: ArticleId, slug: &str) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("UPDATE articles SET author_slug = $1 WHERE id = $2")
                .bind(slug)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
