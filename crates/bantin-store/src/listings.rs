//! Reads for the pages that list what readers can reach: sitemaps (by id range, so a file of
//! 50 000 URLs is one index range scan however large the archive), the news sitemap of the
//! last two days, and tag pages. "Reachable" is the article page's own rule: published and
//! inside its publish and expiry window.

use bantin_core::{ArticleId, CategoryId, UnixTime};

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

const REACHABLE: &str =
    "a.status = 'published' AND a.publish_at <= $1 AND (a.expire_at IS NULL OR a.expire_at > $1)";

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
        let sql = format!(
            "SELECT a.id, a.slug, a.title, a.category_id, a.publish_at, a.updated_at, a.image_url, a.image_alt
             FROM articles a WHERE a.id BETWEEN $2 AND $3 AND {REACHABLE} ORDER BY a.id"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, SitemapEntry>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(from)
                .bind(to)
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// Reachable articles published after `since`, newest first, at most `limit`.
    pub async fn articles_published_since(
        &self,
        now: UnixTime,
        since: UnixTime,
        limit: i64,
    ) -> Result<Vec<SitemapEntry>> {
        let sql = format!(
            "SELECT a.id, a.slug, a.title, a.category_id, a.publish_at, a.updated_at, a.image_url, a.image_alt
             FROM articles a WHERE {REACHABLE} AND a.publish_at > $2
             ORDER BY a.publish_at DESC, a.id DESC LIMIT $3"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, SitemapEntry>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(since)
                .bind(limit.clamp(1, 1000))
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// The tag with this slug.
    pub async fn tag_by_slug(&self, slug: &str) -> Result<Option<PublicTag>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, PublicTag>("SELECT id, name, slug FROM tags WHERE slug = $1")
                .bind(slug)
                .fetch_optional(p)
                .await
        })?;
        Ok(row)
    }

    /// Tags that have at least one reachable article, by name, at most `limit`.
    pub async fn sitemap_tags(&self, now: UnixTime, limit: i64) -> Result<Vec<PublicTag>> {
        let sql = format!(
            "SELECT t.id, t.name, t.slug FROM tags t
             WHERE EXISTS (SELECT 1 FROM article_tags at JOIN articles a ON a.id = at.article_id
                           WHERE at.tag_id = t.id AND {REACHABLE})
             ORDER BY t.slug LIMIT $2"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, PublicTag>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(limit.clamp(1, 50_000))
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// Reachable articles with tag `tag`, newest first: `limit` from `offset`.
    pub async fn tag_articles(
        &self,
        tag: i64,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        let sql = format!(
            "SELECT a.id, a.slug, a.title, a.lead, a.image_url, a.image_alt, a.publish_at, a.category_id
             FROM articles a JOIN article_tags at ON at.article_id = a.id
             WHERE at.tag_id = $2 AND {REACHABLE}
             ORDER BY a.publish_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, ArticleSummary>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(tag)
                .bind(limit.clamp(1, crate::PAGE_MAX))
                .bind(offset.max(0))
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// How many reachable articles have tag `tag`, counting no further than `cap`.
    pub async fn tag_article_count(&self, tag: i64, now: UnixTime, cap: i64) -> Result<i64> {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM articles a JOIN article_tags at ON at.article_id = a.id
             WHERE at.tag_id = $2 AND {REACHABLE} LIMIT $3) capped"
        );
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(tag)
                .bind(cap.max(1))
                .fetch_one(p)
                .await
        })?;
        Ok(n)
    }
}

impl Store {
    /// The author line of the newest reachable article whose author page is `slug`.
    pub async fn author_name(&self, slug: &str, now: UnixTime) -> Result<Option<String>> {
        let sql = format!(
            "SELECT a.author FROM articles a WHERE a.author_slug = $2 AND {REACHABLE}
             ORDER BY a.publish_at DESC, a.id DESC LIMIT 1"
        );
        let row = with_db!(self, |p| {
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(slug)
                .fetch_optional(p)
                .await
        })?;
        Ok(row)
    }

    /// Reachable articles of the author page `slug`, newest first: `limit` from `offset`.
    pub async fn author_articles(
        &self,
        slug: &str,
        now: UnixTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleSummary>> {
        let sql = format!(
            "SELECT a.id, a.slug, a.title, a.lead, a.image_url, a.image_alt, a.publish_at, a.category_id
             FROM articles a WHERE a.author_slug = $2 AND {REACHABLE}
             ORDER BY a.publish_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, ArticleSummary>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(slug)
                .bind(limit.clamp(1, crate::PAGE_MAX))
                .bind(offset.max(0))
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// How many reachable articles the author page `slug` has, counting no further than `cap`.
    pub async fn author_article_count(&self, slug: &str, now: UnixTime, cap: i64) -> Result<i64> {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM articles a
             WHERE a.author_slug = $2 AND {REACHABLE} LIMIT $3) capped"
        );
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(slug)
                .bind(cap.max(1))
                .fetch_one(p)
                .await
        })?;
        Ok(n)
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
