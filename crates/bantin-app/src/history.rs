//! An article's history: bringing back the content of an earlier revision, as a new revision
//! made through the same path as a save (rights, stale base refused, audit, change feed).

use bantin_core::access::Rights;
use bantin_core::workflow::{Action, Subject, next_status};
use bantin_core::{ArticleId, Slug};
use bantin_store::NewArticle;

use crate::content::Write;
use crate::{Actor, App, AppError, Result};

/// The start of the note of a revision that restored another; the number follows.
pub const RESTORED_NOTE: &str = "restored from revision ";

/// The revision a note says was restored, if it is a restore's note.
pub fn restored_from(note: &str) -> Option<i64> {
    note.strip_prefix(RESTORED_NOTE)?.parse().ok()
}

impl App {
    /// Makes article `id`'s content that of its revision `revision` again, as a new revision,
    /// for an edit made from revision `base`: refused with [`AppError::Stale`] when the
    /// article changed since, with [`AppError::Workflow`] when `rights` do not allow saving
    /// it (in its category and status, and in the category the revision had), and with
    /// [`AppError::NotFound`] when it has no such revision. What a revision keeps comes back
    /// (title, lead, body, image, author, source, main category, publish and expiry times);
    /// the status, URL slug, tags, other categories and options stay as they are now. A main
    /// category deleted since is not brought back. Returns the new revision.
    pub async fn restore_revision(
        &self,
        actor: &Actor,
        rights: &Rights,
        id: ArticleId,
        revision: i64,
        base: i64,
    ) -> Result<i64> {
        let store = self.store();
        let current = store.article(id).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        let subject = |category| Subject {
            status: current.status(),
            category,
            own: current.created_by.is_some() && current.created_by == actor.user_id,
            publish_at: current.publish_at,
        };
        next_status(
            rights,
            &subject(current.category_id),
            Action::Save,
            false,
            now,
        )?;
        let old = store
            .article_revision_content(id, revision)
            .await?
            .ok_or(AppError::NotFound)?;
        let category_id = if store
            .categories()
            .await?
            .iter()
            .any(|c| c.id == old.category_id)
        {
            old.category_id
        } else {
            current.category_id
        };
        next_status(rights, &subject(category_id), Action::Save, false, now)?;
        let slug = Slug::parse(&current.slug)
            .or_else(|_| Slug::from_title(&old.title))
            .map_err(|_| AppError::NoSlug)?;
        let a = NewArticle {
            title: old.title.clone(),
            slug,
            lead: old.lead.clone(),
            body: old.body(),
            image_url: old.image_url.clone(),
            image_alt: old.image_alt.clone(),
            image_caption: old.image_caption.clone(),
            meta_description: old.meta_description.clone(),
            author: old.author.clone(),
            source: old.source.clone(),
            tags: store.article_tags(id).await?,
            status: current.status(),
            publish_at: old.publish_at,
            expire_at: old.expire_at,
            category_id,
            extra_category_ids: store
                .extra_categories(id)
                .await?
                .into_iter()
                .filter(|c| *c != category_id)
                .collect(),
            options: current.options(),
        };
        self.write_article(actor, id, &a, Some(base), Write::Restore(revision))
            .await
    }
}
