//! Tags: the newsroom's list of them with how many articles carry each, renaming, merging one
//! into another, and the suggestions the article form offers while a tag is typed.

use bantin_core::{Slug, TagId, fold, nfc};

use crate::{PAGE_MAX, Result, Store, Tx, with_db, with_tx};

/// A tag with the number of articles carrying it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TagRow {
    /// Id.
    pub id: TagId,
    /// Name as shown.
    pub name: String,
    /// URL segment, the name folded.
    pub slug: String,
    /// Articles carrying it, whatever their status.
    pub articles: i64,
}

/// `text` escaped for a LIKE pattern with `\` as the escape character.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The most rows a suggestion query reads before ranking them.
const SUGGEST_SCAN: i64 = 200;

impl Store {
    /// Tags in slug order with their article counts, `limit` from `offset`; with `text`, only
    /// those whose name contains it, with or without diacritics.
    pub async fn tags(&self, text: Option<&str>, limit: i64, offset: i64) -> Result<Vec<TagRow>> {
        let text = text.map(|t| nfc(t.trim())).filter(|t| !t.is_empty());
        // Slugs are the names folded, so a folded query matches with or without diacritics.
        let folded = text
            .as_deref()
            .and_then(|t| Slug::from_title(t).ok())
            .map(|s| format!("%{}%", s.as_str()));
        let raw = text.as_deref().map(|t| format!("%{}%", like_escaped(t)));
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, TagRow>(
                "SELECT t.id, t.name, t.slug, CAST(COUNT(at.article_id) AS BIGINT) AS articles
                 FROM tags t LEFT JOIN article_tags at ON at.tag_id = t.id
                 WHERE ($1 IS NULL OR t.slug LIKE $1 OR t.name LIKE $2 ESCAPE '\\')
                 GROUP BY t.id, t.name, t.slug
                 ORDER BY t.slug, t.id LIMIT $3 OFFSET $4",
            )
            .bind(folded.as_deref().or(raw.as_deref()))
            .bind(raw.as_deref())
            .bind(limit.clamp(1, PAGE_MAX))
            .bind(offset.max(0))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// One tag with its article count.
    pub async fn tag(&self, id: TagId) -> Result<Option<TagRow>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, TagRow>(
                "SELECT t.id, t.name, t.slug,
                        CAST((SELECT COUNT(*) FROM article_tags at WHERE at.tag_id = t.id) AS BIGINT) AS articles
                 FROM tags t WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// A tag by its exact name (NFC).
    pub async fn tag_by_name(&self, name: &str) -> Result<Option<TagId>> {
        let id = with_db!(self, |p| {
            sqlx::query_scalar::<_, TagId>("SELECT id FROM tags WHERE name = $1")
                .bind(nfc(name.trim()))
                .fetch_optional(p)
                .await
        })?;
        Ok(id)
    }

    /// Up to `limit` tag names starting with `prefix`: names whose lower-case form starts
    /// with the prefix's come first, then names that start with it once diacritics are
    /// dropped on both sides (`giao d` finds `Giáo dục`); each group in alphabetical order.
    pub async fn tag_suggestions(&self, prefix: &str, limit: usize) -> Result<Vec<String>> {
        let typed = nfc(prefix.trim_start()).to_lowercase();
        let Ok(slug) = Slug::from_title(&typed) else {
            return Ok(Vec::new());
        };
        let folded_typed = fold(&typed);
        let slug_pattern = format!("{}%", slug.as_str());
        let name_pattern = format!("{}%", like_escaped(&typed));
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, (String, String)>(
                "SELECT name, slug FROM tags
                 WHERE slug LIKE $1 OR LOWER(name) LIKE $2 ESCAPE '\\'
                 ORDER BY slug, id LIMIT $3",
            )
            .bind(&slug_pattern)
            .bind(&name_pattern)
            .bind(SUGGEST_SCAN)
            .fetch_all(p)
            .await
        })?;
        // The slug pattern is looser than a folded prefix ("giao-d" also holds "giao d-");
        // ranking in Rust keeps the rule the same on both databases.
        let mut exact = Vec::new();
        let mut loose = Vec::new();
        for (name, _) in rows {
            let lower = name.to_lowercase();
            if lower.starts_with(&typed) {
                exact.push(name);
            } else if fold(&lower).starts_with(&folded_typed) {
                loose.push(name);
            }
        }
        exact.sort_by_key(|n| (fold(n), n.clone()));
        loose.sort_by_key(|n| (fold(n), n.clone()));
        exact.extend(loose);
        exact.truncate(limit);
        Ok(exact)
    }
}

impl Tx {
    /// Renames a tag (name and slug); `false` when there is no such tag, a conflict when
    /// another tag has the name or slug.
    pub async fn rename_tag(&mut self, id: TagId, name: &str, slug: &Slug) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("UPDATE tags SET name = $2, slug = $3 WHERE id = $1")
                .bind(id)
                .bind(nfc(name.trim()))
                .bind(slug.as_str())
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// The articles carrying a tag.
    pub async fn tag_articles(&mut self, id: TagId) -> Result<Vec<bantin_core::ArticleId>> {
        let rows = with_tx!(self, |c| {
            sqlx::query_scalar::<_, bantin_core::ArticleId>(
                "SELECT article_id FROM article_tags WHERE tag_id = $1 ORDER BY article_id",
            )
            .bind(id)
            .fetch_all(&mut *c)
            .await
        })?;
        Ok(rows)
    }

    /// Merges tag `from` into `into`: every article carrying `from` carries `into` instead
    /// (once, where it already had both), and `from` is deleted. `false` when either tag does
    /// not exist or they are the same tag; nothing changes then.
    pub async fn merge_tags(&mut self, from: TagId, into: TagId) -> Result<bool> {
        if from == into {
            return Ok(false);
        }
        let found = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM tags WHERE id = $1 OR id = $2",
            )
            .bind(from)
            .bind(into)
            .fetch_one(&mut *c)
            .await
        })?;
        if found != 2 {
            return Ok(false);
        }
        with_tx!(self, |c| {
            sqlx::query(
                // With the article's status and times, for the tag pages' index (migration
                // 0017): read from the article itself, the rule's source.
                "INSERT INTO article_tags (article_id, tag_id, position, status, publish_at, expire_at)
                 SELECT at.article_id, $2, at.position, a.status, a.publish_at, a.expire_at
                   FROM article_tags at JOIN articles a ON a.id = at.article_id
                  WHERE at.tag_id = $1
                 ON CONFLICT (article_id, tag_id) DO NOTHING",
            )
            .bind(from)
            .bind(into)
            .execute(&mut *c)
            .await?;
            // The article_tags rows of `from` go with it (ON DELETE CASCADE).
            sqlx::query("DELETE FROM tags WHERE id = $1")
                .bind(from)
                .execute(&mut *c)
                .await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::like_escaped;

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_escaped("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(like_escaped("Giáo dục"), "Giáo dục");
    }
}
