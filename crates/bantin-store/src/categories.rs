//! Categories: the site's tree of sections.

use bantin_core::{CategoryId, CategoryStatus, Slug, UnixTime, nfc};

use crate::{Category, Result, Store, Tx, with_db, with_tx};

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
}

impl Tx {
    /// Creates a category and returns its id; a taken slug is a conflict, an unknown parent
    /// an unknown reference.
    pub async fn insert_category(&mut self, c: &NewCategory, now: UnixTime) -> Result<CategoryId> {
        let id = with_tx!(self, |conn| {
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
}
