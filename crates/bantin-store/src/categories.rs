//! Categories: the site's tree of sections, and the old slugs of renamed categories (their
//! URLs answer 301 to the current ones).

use bantin_core::{CategoryId, CategoryStatus, Slug, UnixTime, nfc};

use crate::{Category, Result, Store, Tx, with_db, with_tx};

/// The key [`Tx::lock`] serialises changes of the tree's shape with, so two concurrent moves
/// cannot together make a cycle that each alone would not.
const TREE_LOCK: &str = "categories.tree";

/// A category to create.
#[derive(Clone, Debug)]
pub struct NewCategory {
    /// Parent, `None` at the top.
    pub parent_id: Option<CategoryId>,
    /// URL segment.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Order among siblings.
    pub position: i64,
    /// Listed or hidden.
    pub status: CategoryStatus,
}

/// A category's new values (an edit); its position among siblings is kept unless the parent
/// changes, which puts it last under the new parent.
#[derive(Clone, Debug)]
pub struct CategoryUpdate {
    /// Parent, `None` at the top.
    pub parent_id: Option<CategoryId>,
    /// URL segment; when it changes the old one becomes a redirect.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Listed or hidden.
    pub status: CategoryStatus,
}

/// What [`Tx::update_category`] did.
#[derive(Clone, Debug)]
pub enum CategoryUpdated {
    /// Updated; the category as it was before.
    Updated(Box<Category>),
    /// No such category.
    Missing,
    /// The parent is the category itself or one of its descendants.
    Cycle,
}

/// A step among siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Earlier in the menu.
    Up,
    /// Later in the menu.
    Down,
}

const CATEGORY_COLUMNS: &str = "id, parent_id, slug, title, description, position, status";

impl Store {
    /// Every category, in menu order (position, then id).
    pub async fn categories(&self) -> Result<Vec<Category>> {
        let rows = with_db!(self, |p| sqlx::query_as::<_, Category>(
            "SELECT id, parent_id, slug, title, description, position, status
             FROM categories ORDER BY position, id"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows)
    }

    /// One category by id.
    pub async fn category(&self, id: CategoryId) -> Result<Option<Category>> {
        let row = with_db!(self, |p| sqlx::query_as::<_, Category>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1"
            ))
        )
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(row)
    }

    /// The category an old slug now redirects to.
    pub async fn category_redirect(&self, old_slug: &str) -> Result<Option<CategoryId>> {
        let id = with_db!(self, |p| sqlx::query_scalar::<_, CategoryId>(
            "SELECT category_id FROM category_redirects WHERE slug = $1"
        )
        .bind(old_slug)
        .fetch_optional(p)
        .await)?;
        Ok(id)
    }

    /// Every old slug with the category it redirects to.
    pub async fn category_redirects(&self) -> Result<Vec<(String, CategoryId)>> {
        let rows = with_db!(self, |p| sqlx::query_as::<_, (String, CategoryId)>(
            "SELECT slug, category_id FROM category_redirects ORDER BY slug"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows)
    }
}

impl Tx {
    /// Creates a category and returns its id; a taken slug is a conflict, an unknown parent
    /// an unknown reference. A slug that was a renamed category's old one stops redirecting.
    pub async fn insert_category(&mut self, c: &NewCategory, now: UnixTime) -> Result<CategoryId> {
        let id = with_tx!(self, |conn| {
            sqlx::query("DELETE FROM category_redirects WHERE slug = $1")
                .bind(c.slug.as_str())
                .execute(&mut *conn)
                .await?;
            sqlx::query_scalar::<_, CategoryId>(
                "INSERT INTO categories (parent_id, slug, title, description, position, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(c.parent_id)
            .bind(c.slug.as_str())
            .bind(nfc(c.title.trim()))
            .bind(nfc(c.description.trim()))
            .bind(c.position)
            .bind(c.status.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await
        })?;
        Ok(id)
    }

    /// The position after the last child of `parent` (`None`: the top level).
    pub async fn next_category_position(&mut self, parent: Option<CategoryId>) -> Result<i64> {
        let n = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(MAX(position) + 1, 0) AS BIGINT) FROM categories
                 WHERE parent_id = $1 OR ($1 IS NULL AND parent_id IS NULL)",
            )
            .bind(parent)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(n)
    }

    async fn category_row(&mut self, id: CategoryId) -> Result<Option<Category>> {
        let row = with_tx!(self, |c| {
            sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(format!(
                "SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *c)
            .await
        })?;
        Ok(row)
    }

    /// Whether `candidate` is `id` or lies below it.
    async fn in_subtree(&mut self, id: CategoryId, candidate: CategoryId) -> Result<bool> {
        // UNION, not UNION ALL: a cycle in corrupt data ends the walk instead of looping.
        let n = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "WITH RECURSIVE tree(id) AS (
                     SELECT CAST($1 AS BIGINT)
                     UNION
                     SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id
                 )
                 SELECT CAST(COUNT(*) AS BIGINT) FROM tree WHERE id = $2",
            )
            .bind(id)
            .bind(candidate)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(n > 0)
    }

    /// Changes a category. A new slug keeps the old one as a redirect to the category (and a
    /// redirect row holding the new slug goes: a slug is live or redirected, never both); a
    /// parent that is the category or lies below it is refused. A taken slug is a conflict,
    /// an unknown parent an unknown reference.
    pub async fn update_category(
        &mut self,
        id: CategoryId,
        u: &CategoryUpdate,
        now: UnixTime,
    ) -> Result<CategoryUpdated> {
        self.lock(TREE_LOCK).await?;
        let Some(before) = self.category_row(id).await? else {
            return Ok(CategoryUpdated::Missing);
        };
        if let Some(parent) = u.parent_id
            && self.in_subtree(id, parent).await?
        {
            return Ok(CategoryUpdated::Cycle);
        }
        let position = if u.parent_id == before.parent_id {
            before.position
        } else {
            self.next_category_position(u.parent_id).await?
        };
        let slug_changed = before.slug != u.slug.as_str();
        with_tx!(self, |c| {
            if slug_changed {
                sqlx::query("DELETE FROM category_redirects WHERE slug = $1")
                    .bind(u.slug.as_str())
                    .execute(&mut *c)
                    .await?;
            }
            sqlx::query(
                "UPDATE categories SET parent_id = $2, slug = $3, title = $4, description = $5,
                        status = $6, position = $7, updated_at = $8
                 WHERE id = $1",
            )
            .bind(id)
            .bind(u.parent_id)
            .bind(u.slug.as_str())
            .bind(nfc(u.title.trim()))
            .bind(nfc(u.description.trim()))
            .bind(u.status.as_str())
            .bind(position)
            .bind(now)
            .execute(&mut *c)
            .await?;
            if slug_changed {
                sqlx::query(
                    "INSERT INTO category_redirects (slug, category_id, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (slug) DO UPDATE SET category_id = excluded.category_id,
                                                      created_at = excluded.created_at",
                )
                .bind(&before.slug)
                .bind(id)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(CategoryUpdated::Updated(Box::new(before)))
    }

    /// Moves a category one step among its siblings (swapping places with its neighbour);
    /// the siblings' positions are renumbered 0, 1, 2… on the way. `None` when there is no
    /// such category, `Some(false)` when it is already first (or last).
    pub async fn move_category(
        &mut self,
        id: CategoryId,
        direction: Direction,
        now: UnixTime,
    ) -> Result<Option<bool>> {
        self.lock(TREE_LOCK).await?;
        let Some(me) = self.category_row(id).await? else {
            return Ok(None);
        };
        let mut siblings = with_tx!(self, |c| {
            sqlx::query_scalar::<_, CategoryId>(
                "SELECT id FROM categories
                 WHERE parent_id = $1 OR ($1 IS NULL AND parent_id IS NULL)
                 ORDER BY position, id",
            )
            .bind(me.parent_id)
            .fetch_all(&mut *c)
            .await
        })?;
        let Some(i) = siblings.iter().position(|s| *s == id) else {
            return Ok(None);
        };
        let j = match direction {
            Direction::Up => i.checked_sub(1),
            Direction::Down => Some(i + 1).filter(|j| *j < siblings.len()),
        };
        let moved = j.is_some();
        if let Some(j) = j {
            siblings.swap(i, j);
        }
        with_tx!(self, |c| {
            for (position, sibling) in siblings.iter().enumerate() {
                sqlx::query(
                    "UPDATE categories SET position = $2,
                            updated_at = CASE WHEN position = $2 THEN updated_at ELSE $3 END
                     WHERE id = $1",
                )
                .bind(*sibling)
                .bind(position as i64)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(Some(moved))
    }
}
