//! Content: categories and articles. Each write records what readers may now see differently
//! on the change feed, in the same transaction, so every process purges exactly the pages the
//! change touches.

use bantin_core::access::Rights;
use bantin_core::workflow::{Action, Subject, WorkflowError, next_status};
use bantin_core::{ArticleId, ArticleStatus, CategoryId, CategoryStatus, Slug, Visibility};
use bantin_store::{
    ArticlePlacement, ChangeKind, NewArticle, NewCategory, NewChange, Saved, StoreError,
};

use crate::{Actor, App, AppError, Result};

/// A category to create.
#[derive(Clone, Debug)]
pub struct CategoryDraft {
    /// Parent, `None` at the top.
    pub parent: Option<CategoryId>,
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

/// The change an article write causes: listed (where and whether it appears changed) or only
/// edited (what it shows), with every category before and after.
fn article_change(
    id: ArticleId,
    before: Option<&ArticlePlacement>,
    after: &ArticlePlacement,
) -> NewChange {
    let listed = before.is_none_or(|b| {
        b.main != after.main
            || b.categories != after.categories
            || b.visibility != after.visibility
            || b.slug != after.slug
    });
    let mut categories = after.categories.clone();
    if let Some(b) = before {
        categories.extend(b.categories.iter().copied());
    }
    NewChange {
        kind: if listed {
            ChangeKind::ArticleListed
        } else {
            ChangeKind::ArticleEdited
        },
        article: Some(id),
        categories,
    }
}

fn placement(a: &NewArticle) -> ArticlePlacement {
    let mut categories = a.categories();
    categories.sort_unstable();
    categories.dedup();
    ArticlePlacement {
        slug: a.slug.as_str().to_owned(),
        main: a.category_id,
        categories,
        visibility: Visibility {
            status: a.status,
            publish_at: a.publish_at,
            expire_at: a.expire_at,
        },
    }
}

/// Why an article's content is written: what its revision note and audit entry say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// An edit (or an import's overwrite).
    Edit,
    /// The content of this earlier revision brought back.
    Restore(i64),
}

impl Write {
    /// The revision's note.
    pub(crate) fn note(self) -> String {
        match self {
            Self::Edit => String::new(),
            Self::Restore(from) => format!("{}{from}", crate::history::RESTORED_NOTE),
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            Self::Edit => "article.updated",
            Self::Restore(_) => "article.restored",
        }
    }
}

impl App {
    /// Creates a category.
    pub async fn create_category(&self, actor: &Actor, c: &CategoryDraft) -> Result<CategoryId> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let new = NewCategory {
            parent_id: c.parent,
            slug: c.slug.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            position: c.position,
            status: c.status,
        };
        let id = match tx.insert_category(&new, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        };
        let change = NewChange {
            kind: ChangeKind::Category,
            article: None,
            categories: vec![id],
        };
        tx.record_change(&change, now).await?;
        tx.audit(
            &actor.entry(
                "category.created",
                &format!("category:{id}"),
                c.slug.as_str(),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates an article.
    pub async fn create_article(&self, actor: &Actor, a: &NewArticle) -> Result<ArticleId> {
        self.create_article_once(actor, a, None).await
    }

    /// Creates an article from a form that carried `form_key` (a random token of that one
    /// form): sent again — a double click, a resend after the back button — it returns the
    /// article the first send created instead of making a second.
    pub async fn create_article_once(
        &self,
        actor: &Actor,
        a: &NewArticle,
        form_key: Option<&str>,
    ) -> Result<ArticleId> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if let Some(key) = form_key {
            tx.lock(&format!("article_form:{key}")).await?;
            if let Some(id) = tx.article_of_form(key).await? {
                return Ok(id);
            }
        }
        let id = tx.insert_article(a, actor.user_id, now).await?;
        if let Some(key) = form_key {
            tx.remember_form(key, id, now).await?;
        }
        tx.record_revision(id, actor.user_id, "", now).await?;
        tx.record_change(&article_change(id, None, &placement(a)), now)
            .await?;
        tx.audit(
            &actor.entry(
                "article.created",
                &format!("article:{id}"),
                a.status.as_str(),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates many articles in one transaction (imports, load tests): one change-feed row
    /// says "everything may have changed" instead of one per article.
    pub async fn import_articles(
        &self,
        actor: &Actor,
        list: &[NewArticle],
    ) -> Result<Vec<ArticleId>> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let mut ids = Vec::with_capacity(list.len());
        for a in list {
            ids.push(tx.insert_article(a, actor.user_id, now).await?);
        }
        let change = NewChange {
            kind: ChangeKind::Site,
            article: None,
            categories: Vec::new(),
        };
        tx.record_change(&change, now).await?;
        tx.audit(
            &actor.entry("article.imported", "", &format!("{} articles", ids.len())),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Replaces an article's content, categories and tags (an edit), whatever its revision
    /// (imports and tools; the newsroom saves with [`App::save_article`]).
    pub async fn update_article(&self, actor: &Actor, id: ArticleId, a: &NewArticle) -> Result<()> {
        self.write_article(actor, id, a, None, Write::Edit)
            .await
            .map(|_| ())
    }

    /// Saves an edit made from revision `base`: refused with [`AppError::Stale`] when someone
    /// saved in between (never a silent overwrite), and with [`AppError::Workflow`] when
    /// `rights` do not allow editing this article in its status or moving it to `a`'s
    /// category. The status is not changed by a save. Returns the new revision.
    pub async fn save_article(
        &self,
        actor: &Actor,
        rights: &Rights,
        id: ArticleId,
        a: &NewArticle,
        base: i64,
    ) -> Result<i64> {
        let current = self.store().article(id).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        for category in [current.category_id, a.category_id] {
            let subject = Subject {
                status: current.status(),
                category,
                own: current.created_by.is_some() && current.created_by == actor.user_id,
                publish_at: current.publish_at,
            };
            next_status(rights, &subject, Action::Save, false, now)?;
        }
        let mut a = a.clone();
        a.status = current.status();
        match self
            .write_article(actor, id, &a, Some(base), Write::Edit)
            .await
        {
            // The same edit sent twice (a double click, a resend): the first one saved it.
            Err(AppError::Stale(now)) if self.store().article_holds(id, &a).await? => Ok(now),
            other => other,
        }
    }

    /// Writes `a` over article `id` as a new revision (from revision `base`, if given),
    /// recording why (`write`) in the revision note and the audit log.
    pub(crate) async fn write_article(
        &self,
        actor: &Actor,
        id: ArticleId,
        a: &NewArticle,
        base: Option<i64>,
        write: Write,
    ) -> Result<i64> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let before = tx.article_placement(id).await?.ok_or(AppError::NotFound)?;
        tx.keep_original_revision(id).await?;
        let revision = match tx.update_article(id, a, base, actor.user_id, now).await? {
            Saved::Revision(r) => r,
            Saved::Stale(current) => return Err(AppError::Stale(current)),
            Saved::Missing => return Err(AppError::NotFound),
        };
        tx.record_revision(id, actor.user_id, &write.note(), now)
            .await?;
        if let Some(user) = actor.user_id {
            // Saved for real: the autosaved text is no longer newer.
            tx.drop_autosave(id, user).await?;
        }
        tx.record_change(&article_change(id, Some(&before), &placement(a)), now)
            .await?;
        tx.audit(
            &actor.entry(write.audit_action(), &format!("article:{id}"), &{
                let mut detail = format!("revision {revision}");
                if let Write::Restore(from) = write {
                    detail.push_str(&format!(" from revision {from}"));
                }
                detail
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Takes a workflow action on an article (submit, approve, reject with `reason`, …) if
    /// `rights` allow it; returns the new status. The status moves only from the one the
    /// decision was made on, so two reviewers acting at once cannot both succeed.
    pub async fn transition(
        &self,
        actor: &Actor,
        rights: &Rights,
        id: ArticleId,
        action: Action,
        reason: &str,
    ) -> Result<ArticleStatus> {
        let article = self.store().article(id).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        let subject = Subject {
            status: article.status(),
            category: article.category_id,
            own: article.created_by.is_some() && article.created_by == actor.user_id,
            publish_at: article.publish_at,
        };
        let reason = reason.trim();
        let next = next_status(rights, &subject, action, !reason.is_empty(), now)?;
        if action == Action::Save {
            return Ok(next);
        }
        let mut tx = self.store().begin().await?;
        let before = tx.article_placement(id).await?.ok_or(AppError::NotFound)?;
        tx.keep_original_revision(id).await?;
        let reason = if next == ArticleStatus::Rejected {
            reason
        } else {
            ""
        };
        if !tx
            .set_article_status(id, subject.status, next, reason, actor.user_id, now)
            .await?
        {
            return Err(AppError::Workflow(WorkflowError::WrongStatus));
        }
        tx.record_revision(id, actor.user_id, action.as_str(), now)
            .await?;
        let after = ArticlePlacement {
            visibility: Visibility {
                status: next,
                ..before.visibility
            },
            ..before.clone()
        };
        tx.record_change(&article_change(id, Some(&before), &after), now)
            .await?;
        tx.audit(
            &actor.entry(
                &format!("article.{}", action.as_str()),
                &format!("article:{id}"),
                &format!(
                    "{} → {}{}",
                    subject.status,
                    next,
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                ),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Deletes the articles that have been in the trash for `days` days (the workflow keeps
    /// them restorable for 30); returns how many.
    pub async fn purge_trash(&self, days: i64) -> Result<u64> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let n = tx.purge_trash(now.minus(days * 86_400)).await?;
        tx.forget_forms(now.minus(86_400)).await?;
        if n > 0 {
            tx.audit(
                &Actor::system().entry("article.purged", "", &format!("{n} articles")),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Changes an article's status and publish and expiry times.
    pub async fn set_article_visibility(
        &self,
        actor: &Actor,
        id: ArticleId,
        v: Visibility,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let before = tx.article_placement(id).await?.ok_or(AppError::NotFound)?;
        tx.set_article_visibility(id, &v, now).await?;
        let after = ArticlePlacement {
            visibility: v,
            ..before.clone()
        };
        tx.record_change(&article_change(id, Some(&before), &after), now)
            .await?;
        tx.audit(
            &actor.entry(
                "article.status",
                &format!("article:{id}"),
                v.status.as_str(),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
