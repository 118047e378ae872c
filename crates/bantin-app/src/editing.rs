//! Editing without stale locks and without lost text: opening an article for editing takes a
//! lock kept alive by a heartbeat (others see who holds it and since when; a lock whose
//! heartbeat stopped is taken over freely, and an editor-in-chief may take over any), and the
//! editor's unsaved text is autosaved to the server.

use bantin_core::access::{Capability, Rights};
use bantin_core::{ArticleId, UnixTime};
use bantin_store::{Autosave, EditLock};

use crate::{Actor, App, AppError, Result};

/// A lock whose heartbeat is older than this many seconds is stale (NukeViet: 180).
pub const LOCK_STALE_SECONDS: i64 = 180;

/// How often an open editor sends its heartbeat, seconds (NukeViet: 10).
pub const HEARTBEAT_SECONDS: i64 = 10;

/// Whether the article is the caller's to edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Editing {
    /// The caller holds the lock.
    Mine(EditLock),
    /// Someone else is editing: who, and since when.
    HeldBy(EditLock),
}

fn me(actor: &Actor) -> Result<bantin_core::UserId> {
    actor.user_id.ok_or(AppError::Workflow(
        bantin_core::workflow::WorkflowError::NotAllowed,
    ))
}

impl App {
    /// Opens an article for editing (and, called again, keeps the lock alive: the
    /// heartbeat). `take_over`: an editor-in-chief of its category takes the lock from whoever
    /// holds it.
    pub async fn open_for_editing(
        &self,
        actor: &Actor,
        rights: &Rights,
        id: ArticleId,
        take_over: bool,
    ) -> Result<Editing> {
        let user = me(actor)?;
        let article = self.store().article(id).await?.ok_or(AppError::NotFound)?;
        let category = Some(article.category_id);
        if !rights.allows(Capability::Write, category) {
            return Err(AppError::Workflow(
                bantin_core::workflow::WorkflowError::NotAllowed,
            ));
        }
        if take_over && !rights.allows(Capability::Publish, category) {
            return Err(AppError::Workflow(
                bantin_core::workflow::WorkflowError::NotAllowed,
            ));
        }
        let now = self.now();
        // Read before the transaction: a pool read while holding SQLite's write lock could wait
        // for a connection that writers waiting on that lock hold.
        let before = self.store().edit_lock(id).await?;
        let mut tx = self.store().begin().await?;
        let lock = tx
            .take_edit_lock(id, user, now, now.minus(LOCK_STALE_SECONDS), take_over)
            .await?;
        if lock.user_id == user
            && let Some(b) = before.filter(|b| b.user_id != user && take_over)
        {
            tx.audit(
                &actor.entry(
                    "article.lock_taken_over",
                    &format!("article:{id}"),
                    &format!("from user:{}", b.user_id),
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(if lock.user_id == user {
            Editing::Mine(lock)
        } else {
            Editing::HeldBy(lock)
        })
    }

    /// Lets go of the caller's lock (the editor was closed).
    pub async fn close_editing(&self, actor: &Actor, id: ArticleId) -> Result<()> {
        let user = me(actor)?;
        let mut tx = self.store().begin().await?;
        tx.release_edit_lock(id, user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the caller's unsaved text (the form's fields as JSON, at most 1 MiB), started
    /// from revision `base`.
    pub async fn autosave(
        &self,
        actor: &Actor,
        id: ArticleId,
        base: i64,
        content: &str,
    ) -> Result<UnixTime> {
        let user = me(actor)?;
        if content.len() > 1024 * 1024 {
            return Err(AppError::TooLarge);
        }
        self.store().article(id).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.put_autosave(id, user, base, content, now).await?;
        tx.commit().await?;
        Ok(now)
    }

    /// The caller's autosaved text of an article, if newer than its last save.
    pub async fn autosaved(&self, actor: &Actor, id: ArticleId) -> Result<Option<Autosave>> {
        let user = me(actor)?;
        Ok(self.store().autosave(id, user).await?)
    }
}
