//! An article's revisions as kept by [`crate::Tx::record_revision`]: the list for its history
//! page, one revision's whole content (diffs and restore), and the workflow entries of the
//! audit log that belong beside them (a rejection's reason).

use bantin_core::{ArticleId, ArticleStatus, CategoryId, SanitizedHtml, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// Most revisions the history lists.
pub const HISTORY_MAX: i64 = 500;

/// A line of an article's history: one revision, without its text.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RevisionSummary {
    /// Revision number.
    pub revision: i64,
    /// When it was made.
    pub at: UnixTime,
    /// Who made it (`None`: the system, or an account since deleted).
    pub user_id: Option<UserId>,
    /// That account's username, if it still exists.
    pub username: Option<String>,
    /// That account's display name, if it still exists.
    pub display_name: Option<String>,
    status: String,
    /// Why it was made: empty for a save, the workflow action ("submit", "reject", …), or
    /// "restored from revision N".
    pub note: String,
    /// The title then.
    pub title: String,
}

impl RevisionSummary {
    /// The article's status then.
    pub fn status(&self) -> ArticleStatus {
        self.status.parse().unwrap_or(ArticleStatus::Unpublished)
    }

    /// The name to show for who made it: display name, else username.
    pub fn who(&self) -> Option<&str> {
        self.display_name
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .or(self.username.as_deref())
    }
}

/// One revision's whole content.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Revision {
    /// Revision number.
    pub revision: i64,
    /// When it was made.
    pub at: UnixTime,
    /// Who made it.
    pub user_id: Option<UserId>,
    status: String,
    /// Title.
    pub title: String,
    /// Lead paragraph.
    pub lead: String,
    body_html: String,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Main image alt text.
    pub image_alt: String,
    /// Main image caption.
    pub image_caption: String,
    /// Author line.
    pub author: String,
    /// Source.
    pub source: String,
    /// Main category.
    pub category_id: CategoryId,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Expiry time.
    pub expire_at: Option<UnixTime>,
    /// Why it was made (see [`RevisionSummary::note`]).
    pub note: String,
    /// The meta description then (empty: the lead was used).
    pub meta_description: String,
}

impl Revision {
    /// Status then.
    pub fn status(&self) -> ArticleStatus {
        self.status.parse().unwrap_or(ArticleStatus::Unpublished)
    }

    /// Body as stored (it was sanitised when saved).
    pub fn body(&self) -> SanitizedHtml {
        SanitizedHtml::from_stored(self.body_html.clone())
    }
}

/// A workflow entry of the audit log about one article.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ArticleEvent {
    /// When.
    pub at: UnixTime,
    /// Who.
    pub user_id: Option<UserId>,
    /// Their username then.
    pub username: String,
    /// `article.reject`, `article.status`.
    pub action: String,
    /// What the entry says (`pending → rejected: reason`, a status).
    pub detail: String,
}

impl Store {
    /// An article's revisions, newest first, at most [`HISTORY_MAX`].
    pub async fn article_history(&self, id: ArticleId) -> Result<Vec<RevisionSummary>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, RevisionSummary>(
                "SELECT r.revision, r.at, r.user_id, u.username, u.display_name, r.status, r.note, r.title
                 FROM article_revisions r LEFT JOIN users u ON u.id = r.user_id
                 WHERE r.article_id = $1 ORDER BY r.revision DESC LIMIT $2",
            )
            .bind(id)
            .bind(HISTORY_MAX)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Revision `revision` of article `id`, if it has one of that number.
    pub async fn article_revision_content(
        &self,
        id: ArticleId,
        revision: i64,
    ) -> Result<Option<Revision>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, Revision>(
                "SELECT revision, at, user_id, status, title, lead, body_html, image_url, image_alt,
                        image_caption, author, source, category_id, publish_at, expire_at, note, meta_description
                 FROM article_revisions WHERE article_id = $1 AND revision = $2",
            )
            .bind(id)
            .bind(revision)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// The audit log's rejections (with their reasons) and status changes made outside the
    /// workflow (no revision records those) of article `id`, newest first. Read through the
    /// action index: only these two actions' entries are looked at.
    pub async fn article_events(&self, id: ArticleId) -> Result<Vec<ArticleEvent>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, ArticleEvent>(
                "SELECT at, user_id, username, action, detail FROM audit_log
                 WHERE action IN ('article.reject', 'article.status') AND target = $1
                 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(format!("article:{id}"))
            .bind(HISTORY_MAX)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}

impl Tx {
    /// Keeps the article as it is now as its first revision if it has none yet (imported,
    /// demo content, or written before revisions were kept), dated by its last change: called
    /// before the first change the newsroom makes, so the original stays in the history.
    pub async fn keep_original_revision(&mut self, id: ArticleId) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO article_revisions (article_id, revision, at, user_id, status, title, lead, body_html,
                                                image_url, image_alt, image_caption, author, source, category_id,
                                                publish_at, expire_at, note, meta_description)
                 SELECT id, revision, updated_at, COALESCE(updated_by, created_by), status, title, lead, body_html,
                        image_url, image_alt, image_caption, author, source, category_id, publish_at, expire_at, '',
                        meta_description
                 FROM articles a WHERE id = $1
                   AND NOT EXISTS (SELECT 1 FROM article_revisions r WHERE r.article_id = a.id)
                 ON CONFLICT (article_id, revision) DO NOTHING",
            )
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
