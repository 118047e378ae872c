//! The media library's rows: what was stored, its alt text and caption, who uploaded it, and
//! which articles use it (found by its URL in their body or main image).

use bantin_core::{ArticleId, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// A library item to record.
#[derive(Clone, Debug)]
pub struct NewMedia {
    /// Content address (file names derive from it).
    pub key: String,
    /// `image` or `document`.
    pub kind: &'static str,
    /// The uploader's file name, made safe.
    pub file_name: String,
    /// Extension of the stored file.
    pub ext: String,
    /// Media type served.
    pub mime: String,
    /// Size of the stored file.
    pub bytes: i64,
    /// Pixel size (images).
    pub size: Option<(u32, u32)>,
    /// Variant widths made.
    pub widths: Vec<u32>,
    /// Whether the untouched upload was kept too.
    pub original_kept: bool,
    /// Alt text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Folded text the search reads.
    pub search: String,
    /// Uploader.
    pub uploaded_by: Option<UserId>,
}

/// A library item as stored.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct MediaItem {
    /// Id.
    pub id: i64,
    /// Content address.
    #[sqlx(rename = "media_key")]
    pub key: String,
    /// `image` or `document`.
    pub kind: String,
    /// File name as uploaded (made safe).
    pub file_name: String,
    /// Extension of the stored file.
    pub ext: String,
    /// Media type.
    pub mime: String,
    /// Bytes of the stored file.
    pub bytes: i64,
    /// Width (images).
    pub width: Option<i64>,
    /// Height (images).
    pub height: Option<i64>,
    /// Variant widths, comma-separated.
    pub widths: String,
    /// Whether the untouched upload was kept.
    pub original_kept: bool,
    /// Alt text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Uploader.
    pub uploaded_by: Option<UserId>,
    /// Uploader's username (when listed).
    #[sqlx(default)]
    pub uploader: Option<String>,
    /// When uploaded.
    pub created_at: UnixTime,
    /// Last change of alt or caption.
    pub updated_at: UnixTime,
}

impl MediaItem {
    /// Variant widths.
    pub fn variant_widths(&self) -> Vec<u32> {
        self.widths
            .split(',')
            .filter_map(|w| w.trim().parse().ok())
            .collect()
    }

    /// The stored file's name.
    pub fn file(&self) -> String {
        format!("{}.{}", self.key, self.ext)
    }
}

/// Which items to list.
#[derive(Clone, Debug, Default)]
pub struct MediaFilter {
    /// Folded words to find in the file name, alt text or caption.
    pub search: Option<String>,
    /// Only this uploader.
    pub uploader: Option<UserId>,
    /// Uploaded at or after.
    pub from: Option<UnixTime>,
    /// Uploaded before.
    pub until: Option<UnixTime>,
}

/// An article using an item.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct MediaUse {
    /// The article.
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: String,
}

use crate::reads::MEDIA_COLUMNS as COLUMNS;

impl Tx {
    /// Records a stored item; `Conflict` when an item with the same key exists.
    pub async fn insert_media(&mut self, m: &NewMedia, now: UnixTime) -> Result<i64> {
        let widths = m
            .widths
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let (w, h) = match m.size {
            Some((w, h)) => (Some(i64::from(w)), Some(i64::from(h))),
            None => (None, None),
        };
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO media (media_key, kind, file_name, ext, mime, bytes, width, height,
                     widths, original_kept, alt, caption, search, uploaded_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
                 RETURNING id",
            )
            .bind(&m.key)
            .bind(m.kind)
            .bind(&m.file_name)
            .bind(&m.ext)
            .bind(&m.mime)
            .bind(m.bytes)
            .bind(w)
            .bind(h)
            .bind(&widths)
            .bind(m.original_kept)
            .bind(&m.alt)
            .bind(&m.caption)
            .bind(&m.search)
            .bind(m.uploaded_by)
            .bind(now)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(id)
    }

    /// Sets an item's alt text and caption (and its search text); false if it is gone.
    pub async fn update_media_text(
        &mut self,
        id: i64,
        alt: &str,
        caption: &str,
        search: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE media SET alt = $2, caption = $3, search = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(alt)
            .bind(caption)
            .bind(search)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Removes an item's row; false if it was already gone.
    pub async fn delete_media(&mut self, id: i64) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM media WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}

impl Store {
    /// The item `id`.
    pub async fn media(&self, id: i64) -> Result<Option<MediaItem>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM media m LEFT JOIN users u ON u.id = m.uploaded_by WHERE m.id = $1"
        );
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, MediaItem>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        Ok(row)
    }

    /// Items matching `f`, newest first: `limit` from `offset`.
    pub async fn media_list(
        &self,
        f: &MediaFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MediaItem>> {
        let like = f.search.as_ref().map(|t| {
            let t = t.replace(['%', '_', '\\'], "");
            format!("%{t}%")
        });
        let sql = format!(
            "SELECT {COLUMNS} FROM media m LEFT JOIN users u ON u.id = m.uploaded_by
             WHERE ($1 IS NULL OR m.search LIKE $1)
               AND ($2 IS NULL OR m.uploaded_by = $2)
               AND ($3 IS NULL OR m.created_at >= $3)
               AND ($4 IS NULL OR m.created_at < $4)
             ORDER BY m.created_at DESC, m.id DESC LIMIT $5 OFFSET $6"
        );
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, MediaItem>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(like.as_deref())
                .bind(f.uploader)
                .bind(f.from)
                .bind(f.until)
                .bind(limit.clamp(1, 200))
                .bind(offset.max(0))
                .fetch_all(p)
                .await
        })?;
        Ok(rows)
    }

    /// Articles (any status, trash included) whose body or main image refers to `key`.
    pub async fn media_uses(&self, key: &str) -> Result<Vec<MediaUse>> {
        let like = format!("%/media/lib/{key}%");
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, MediaUse>(
                "SELECT id, title, status FROM articles
                 WHERE body_html LIKE $1 OR image_url LIKE $1 ORDER BY id",
            )
            .bind(&like)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}
