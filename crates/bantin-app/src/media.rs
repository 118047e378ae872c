//! The media library's services: an upload is checked and processed off the async executor
//! (bounded), its files stored, then recorded in one transaction with its audit entry; alt
//! text and captions are edited the same way; a delete shows where the item is used and needs
//! confirmation when it is, and then purges the pages (they show a placeholder where the
//! picture was, never a broken image).

use bantin_core::{UnixTime, alt_from_filename, fold, nfc};
use bantin_media::{Media, Prepared, safe_file_name};
use bantin_store::{ChangeKind, MediaItem, MediaUse, NewChange, NewMedia, StoreError, Tx};
use bytes::Bytes;

use crate::{Actor, App, AppError, Result};

/// Longest alt text kept, characters.
pub const MAX_ALT_CHARS: usize = 250;
/// Longest caption kept, characters.
pub const MAX_CAPTION_CHARS: usize = 1000;

fn search_text(file_name: &str, alt: &str, caption: &str) -> String {
    fold(&format!("{file_name} {alt} {caption}"))
}

fn clip(s: &str, max: usize) -> String {
    nfc(s.trim())
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

fn new_media(p: &Prepared, file_name: &str, uploaded_by: Option<bantin_core::UserId>) -> NewMedia {
    let alt = clip(&alt_from_filename(file_name), MAX_ALT_CHARS);
    NewMedia {
        key: p.key.clone(),
        kind: if p.format.is_image() {
            "image"
        } else {
            "document"
        },
        file_name: file_name.to_owned(),
        ext: p.ext.clone(),
        mime: p.format.mime().to_owned(),
        bytes: p.bytes as i64,
        size: p.size,
        widths: p.widths.clone(),
        original_kept: p.original_kept,
        search: search_text(file_name, &alt, ""),
        alt,
        caption: String::new(),
        uploaded_by,
    }
}

/// Records a prepared (and stored) item in `tx` with its audit entry; an item with the same
/// content already in the library is returned instead (`false`: nothing new).
pub(crate) async fn record(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    p: &Prepared,
    file_name: &str,
    source: Option<&str>,
    now: UnixTime,
) -> Result<(i64, bool)> {
    if let Some(existing) = app
        .store()
        .media_by_keys(std::slice::from_ref(&p.key))
        .await?
        .first()
    {
        return Ok((existing.id, false));
    }
    let id = tx
        .insert_media(&new_media(p, file_name, actor.user_id), now)
        .await?;
    let detail = match source {
        Some(url) => format!("{file_name} ({} bytes) from {url}", p.bytes),
        None => format!("{file_name} ({} bytes)", p.bytes),
    };
    tx.audit(
        &actor.entry("media.uploaded", &format!("media:{id}"), &detail),
        now,
    )
    .await?;
    Ok((id, true))
}

impl App {
    /// The same services with a media library.
    pub fn with_media(self, media: Media) -> Self {
        let inner = &self.0;
        Self(std::sync::Arc::new(crate::Inner {
            store: inner.store.clone(),
            clock: inner.clock.clone(),
            policy: inner.policy.clone(),
            hash_permits: tokio::sync::Semaphore::new(2),
            media: Some(media),
        }))
    }

    /// The media library, when configured.
    pub fn media(&self) -> Option<&Media> {
        self.0.media.as_ref()
    }

    fn media_or_fail(&self) -> Result<&Media> {
        self.media()
            .ok_or_else(|| AppError::Internal("no media library configured".into()))
    }

    /// Takes one uploaded file into the library: refused files leave nothing behind. The same
    /// picture uploaded again answers with the item already there.
    pub async fn upload_media(
        &self,
        actor: &Actor,
        raw_name: &str,
        bytes: Bytes,
    ) -> Result<MediaItem> {
        self.take_in(actor, raw_name, bytes, None).await
    }

    /// Intake shared by uploads and pulled pictures (`source`: the URL it came from, which
    /// must then be a picture, not a document).
    pub(crate) async fn take_in(
        &self,
        actor: &Actor,
        raw_name: &str,
        bytes: Bytes,
        source: Option<&str>,
    ) -> Result<MediaItem> {
        let media = self.media_or_fail()?;
        let file_name = nfc(&safe_file_name(raw_name));
        let prepared = media.prepare(bytes, &file_name).await?;
        if source.is_some() && !prepared.format.is_image() {
            return Err(bantin_media::IntakeError::NotAccepted.into());
        }
        if let Some(existing) = self
            .store()
            .media_by_keys(std::slice::from_ref(&prepared.key))
            .await?
            .pop()
        {
            return Ok(existing);
        }
        media
            .store(&prepared)
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let now = self.now();
        let recorded = async {
            let mut tx = self.store().begin().await?;
            let (id, _) = record(&mut tx, self, actor, &prepared, &file_name, source, now).await?;
            tx.commit().await?;
            Ok::<_, AppError>(id)
        }
        .await;
        match recorded {
            Ok(id) => self.store().media(id).await?.ok_or(AppError::NotFound),
            // Uploaded twice at once: the other upload recorded the same files.
            Err(AppError::Store(StoreError::Conflict)) => self
                .store()
                .media_by_keys(std::slice::from_ref(&prepared.key))
                .await?
                .pop()
                .ok_or(AppError::NotFound),
            Err(e) => {
                let _ = media
                    .remove(
                        &prepared.key,
                        &prepared.ext,
                        prepared.size.map(|s| s.0),
                        &prepared.widths,
                    )
                    .await;
                Err(e)
            }
        }
    }

    /// Sets an item's alt text and caption.
    pub async fn update_media(
        &self,
        actor: &Actor,
        id: i64,
        alt: &str,
        caption: &str,
    ) -> Result<MediaItem> {
        let item = self.store().media(id).await?.ok_or(AppError::NotFound)?;
        let alt = clip(alt, MAX_ALT_CHARS);
        let caption = clip(caption, MAX_CAPTION_CHARS);
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let search = search_text(&item.file_name, &alt, &caption);
        if !tx
            .update_media_text(id, &alt, &caption, &search, now)
            .await?
        {
            return Err(AppError::NotFound);
        }
        tx.audit(
            &actor.entry("media.edited", &format!("media:{id}"), &item.file_name),
            now,
        )
        .await?;
        tx.commit().await?;
        self.store().media(id).await?.ok_or(AppError::NotFound)
    }

    /// Articles that use the item.
    pub async fn media_uses(&self, item: &MediaItem) -> Result<Vec<MediaUse>> {
        Ok(self.store().media_uses(&item.key).await?)
    }

    /// Deletes an item. One that articles use is deleted only when `confirmed` (otherwise
    /// [`AppError::MediaInUse`] with how many); their pages are then purged and show a
    /// placeholder with the alt text where the picture was.
    pub async fn delete_media(&self, actor: &Actor, id: i64, confirmed: bool) -> Result<()> {
        let media = self.media_or_fail()?;
        let item = self.store().media(id).await?.ok_or(AppError::NotFound)?;
        let uses = self.store().media_uses(&item.key).await?;
        if !uses.is_empty() && !confirmed {
            return Err(AppError::MediaInUse(uses.len()));
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.delete_media(id).await? {
            return Err(AppError::NotFound);
        }
        let detail = format!("{} (used by {} articles)", item.file_name, uses.len());
        tx.audit(
            &actor.entry("media.deleted", &format!("media:{id}"), &detail),
            now,
        )
        .await?;
        if !uses.is_empty() {
            // Every page that may show it (article pages, lists with its thumbnail).
            let change = NewChange {
                kind: ChangeKind::Site,
                article: None,
                categories: Vec::new(),
            };
            tx.record_change(&change, now).await?;
        }
        tx.commit().await?;
        let width = item.width.and_then(|w| u32::try_from(w).ok());
        if let Err(e) = media
            .remove(&item.key, &item.ext, width, &item.variant_widths())
            .await
        {
            tracing::warn!(error = %e, key = %item.key, "removing a deleted item's files failed");
        }
        Ok(())
    }
}
