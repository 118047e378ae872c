//! Who is editing what: edit locks kept alive by a heartbeat (a lock whose heartbeat stopped is
//! stale and may be taken), and each account's autosaved text of an article.

use bantin_core::{ArticleId, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// An edit lock as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EditLock {
    /// The article.
    pub article_id: ArticleId,
    /// Who holds it.
    pub user_id: UserId,
    /// Since when.
    pub acquired_at: UnixTime,
    /// The last sign of life.
    pub heartbeat_at: UnixTime,
}

/// An autosaved text.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Autosave {
    /// When it was saved.
    pub at: UnixTime,
    /// The revision the text was started from.
    pub base_revision: i64,
    /// The form's fields, as the editor sent them (JSON).
    pub content: String,
}

impl Store {
    /// The lock of an article, if any (stale or not).
    pub async fn edit_lock(&self, article: ArticleId) -> Result<Option<EditLock>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, EditLock>(
                "SELECT article_id, user_id, acquired_at, heartbeat_at FROM edit_locks WHERE article_id = $1",
            )
            .bind(article)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// The text `user` autosaved in `article`, if any.
    pub async fn autosave(&self, article: ArticleId, user: UserId) -> Result<Option<Autosave>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, Autosave>(
                "SELECT at, base_revision, content FROM article_autosaves WHERE article_id = $1 AND user_id = $2",
            )
            .bind(article)
            .bind(user)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }
}

impl Tx {
    /// Takes the lock of `article` for `user`, or renews it, unless someone else holds one
    /// with a heartbeat at or after `stale_before`; `force` takes it whatever (an
    /// editor-in-chief taking over). Returns the lock as it is now.
    pub async fn take_edit_lock(
        &mut self,
        article: ArticleId,
        user: UserId,
        now: UnixTime,
        stale_before: UnixTime,
        force: bool,
    ) -> Result<EditLock> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO edit_locks (article_id, user_id, acquired_at, heartbeat_at) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (article_id) DO UPDATE SET
                     acquired_at = CASE WHEN edit_locks.user_id = excluded.user_id
                                        THEN edit_locks.acquired_at ELSE excluded.acquired_at END,
                     user_id = excluded.user_id,
                     heartbeat_at = excluded.heartbeat_at
                 WHERE edit_locks.user_id = excluded.user_id OR edit_locks.heartbeat_at < $4 OR $5",
            )
            .bind(article)
            .bind(user)
            .bind(now)
            .bind(stale_before)
            .bind(force)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        let lock = with_tx!(self, |c| {
            sqlx::query_as::<_, EditLock>(
                "SELECT article_id, user_id, acquired_at, heartbeat_at FROM edit_locks WHERE article_id = $1",
            )
            .bind(article)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(lock)
    }

    /// Lets go of `user`'s lock of `article`.
    pub async fn release_edit_lock(&mut self, article: ArticleId, user: UserId) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("DELETE FROM edit_locks WHERE article_id = $1 AND user_id = $2")
                .bind(article)
                .bind(user)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Keeps `user`'s latest unsaved text of `article`.
    pub async fn put_autosave(
        &mut self,
        article: ArticleId,
        user: UserId,
        base_revision: i64,
        content: &str,
        now: UnixTime,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO article_autosaves (article_id, user_id, at, base_revision, content) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_id, user_id) DO UPDATE SET
                     at = excluded.at, base_revision = excluded.base_revision, content = excluded.content",
            )
            .bind(article)
            .bind(user)
            .bind(now)
            .bind(base_revision)
            .bind(content)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Forgets `user`'s autosaved text of `article` (it was saved for real).
    pub async fn drop_autosave(&mut self, article: ArticleId, user: UserId) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("DELETE FROM article_autosaves WHERE article_id = $1 AND user_id = $2")
                .bind(article)
                .bind(user)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}

impl Tx {
    /// The article created from the new-article form that carried `key`, if one was. Call
    /// [`Tx::lock`] on the key first, so that two sends of one form are decided in turn.
    pub async fn article_of_form(&mut self, key: &str) -> Result<Option<ArticleId>> {
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, ArticleId>(
                "SELECT article_id FROM article_form_keys WHERE form_key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *c)
            .await
        })?;
        Ok(id)
    }

    /// Remembers that the form carrying `key` created article `id`.
    pub async fn remember_form(&mut self, key: &str, id: ArticleId, now: UnixTime) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO article_form_keys (form_key, article_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(key)
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Forgets form keys older than `before` (a form is resent within minutes, not days).
    pub async fn forget_forms(&mut self, before: UnixTime) -> Result<u64> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM article_form_keys WHERE created_at < $1")
                .bind(before)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }
}
