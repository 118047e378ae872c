//! Reads of the JSON API: public articles by filter with keyset pagination (a cursor is the
//! last row's publish time and id, so page 1 000 costs what page 1 does), and the tags in use.

use bantin_core::{ArticleId, CategoryId, UnixTime};

use crate::{ArticleSummary, PAGE_MAX, Result, Store, with_db};

/// Which public articles to list.
#[derive(Clone, Debug, Default)]
pub struct PublicArticleQuery {
    /// Listed in this category or one of its descendants.
    pub category: Option<CategoryId>,
    /// Carrying the tag with this slug.
    pub tag: Option<String>,
    /// Only those after this (publish time, id) in newest-first order: the cursor.
    pub after: Option<(UnixTime, ArticleId)>,
    /// At most this many (capped at [`PAGE_MAX`]).
    pub limit: i64,
}

/// A tag readers can see, with the number of public articles carrying it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TagCount {
    /// Name as written.
    pub name: String,
    /// URL slug.
    pub slug: String,
    /// Public articles with it.
    pub articles: i64,
}

impl Store {
    /// Public articles at `now` matching `q`, newest first (publish time, then id).
    pub async fn public_articles(
        &self,
        q: &PublicArticleQuery,
        now: UnixTime,
    ) -> Result<Vec<ArticleSummary>> {
        let (after_time, after_id) = q.after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, ArticleSummary>(
                "WITH RECURSIVE tree(id) AS (
                     SELECT CAST($1 AS BIGINT)
                     UNION ALL
                     SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
                 )
                 SELECT a.id, a.slug, a.title, a.lead, a.image_url, a.image_alt, a.publish_at, a.category_id
                 FROM articles a
                 WHERE a.status = 'published' AND a.publish_at <= $2
                   AND (a.expire_at IS NULL OR a.expire_at > $2)
                   AND (CAST($1 AS BIGINT) IS NULL OR EXISTS (
                         SELECT 1 FROM article_categories ac
                         WHERE ac.article_id = a.id AND ac.category_id IN (SELECT id FROM tree)))
                   AND (CAST($3 AS TEXT) IS NULL OR EXISTS (
                         SELECT 1 FROM article_tags at JOIN tags t ON t.id = at.tag_id
                         WHERE at.article_id = a.id AND t.slug = $3))
                   AND (CAST($4 AS BIGINT) IS NULL OR a.publish_at < $4
                        OR (a.publish_at = $4 AND a.id < $5))
                 ORDER BY a.publish_at DESC, a.id DESC LIMIT $6",
            )
            .bind(q.category)
            .bind(now)
            .bind(q.tag.as_deref())
            .bind(after_time)
            .bind(after_id)
            .bind(q.limit.clamp(1, PAGE_MAX))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Tags carried by public articles at `now`, the most used first.
    pub async fn public_tags(&self, now: UnixTime, limit: i64) -> Result<Vec<TagCount>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, TagCount>(
                "SELECT t.name, t.slug, CAST(COUNT(*) AS BIGINT) AS articles
                 FROM tags t
                 JOIN article_tags at ON at.tag_id = t.id
                 JOIN articles a ON a.id = at.article_id
                 WHERE a.status = 'published' AND a.publish_at <= $1
                   AND (a.expire_at IS NULL OR a.expire_at > $1)
                 GROUP BY t.id, t.name, t.slug
                 ORDER BY COUNT(*) DESC, t.slug
                 LIMIT $2",
            )
            .bind(now)
            .bind(limit.clamp(1, 1000))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}
