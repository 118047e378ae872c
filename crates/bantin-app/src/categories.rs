//! The newsroom's care of categories and tags: editing a category (title, slug, description,
//! parent, listed or hidden), reordering siblings, renaming and merging tags. Each is one
//! transaction with its audit entry and a change-feed row.
//!
//! A category change alters the menu every reader page shows, so it is recorded as
//! [`ChangeKind::Category`], which purges every cached page (and the category tree every
//! process keeps). A tag change alters the article pages that show the tag; it is rare, so it
//! purges everything too ([`ChangeKind::Site`]) rather than one row per article.
//!
//! Hidden categories are listed nowhere: not in the menu, the home page's blocks and latest
//! list, their parent's subcategory links or their parent's article lists. Their own page and
//! their articles stay reachable by URL (notices linked from elsewhere), as
//! [`CategoryStatus::Hidden`] says.

use bantin_core::{CategoryId, CategoryStatus, Slug, TagId, nfc};
use bantin_store::{
    CategoryUpdate, CategoryUpdated, ChangeKind, Direction, NewCategory, NewChange, StoreError,
};

use crate::{Actor, App, AppError, Result};

/// First path segments the site itself uses: no category may take them.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin", "api", "assets", "media", "rate", "healthz", "metrics", "search", "tim-kiem",
    "sitemap", "robots", "feed", "rss", "bai-viet", "tag", "the", "tac-gia", "in",
];

/// Longest tag name, in characters (the article form's limit).
pub const TAG_NAME_MAX: usize = 60;

/// A category as the newsroom edits it.
#[derive(Clone, Debug)]
pub struct CategoryEdit {
    /// Parent, `None` at the top.
    pub parent: Option<CategoryId>,
    /// URL segment.
    pub slug: Slug,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Listed or hidden.
    pub status: CategoryStatus,
}

fn category_change(ids: &[CategoryId]) -> NewChange {
    NewChange {
        kind: ChangeKind::Category,
        article: None,
        categories: ids.to_vec(),
    }
}

fn check_slug(slug: &Slug) -> Result<()> {
    if RESERVED_SLUGS.contains(&slug.as_str()) {
        return Err(AppError::SlugTaken);
    }
    Ok(())
}

impl App {
    /// Adds a category last among its siblings.
    pub async fn add_category(&self, actor: &Actor, c: &CategoryEdit) -> Result<CategoryId> {
        check_slug(&c.slug)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let position = tx.next_category_position(c.parent).await?;
        let new = NewCategory {
            parent_id: c.parent,
            slug: c.slug.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            position,
            status: c.status,
        };
        let id = match tx.insert_category(&new, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        };
        tx.record_change(&category_change(&[id]), now).await?;
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

    /// Changes a category. A changed slug keeps the old one redirecting; a parent that is the
    /// category or lies below it is refused ([`AppError::CategoryCycle`]).
    pub async fn update_category(
        &self,
        actor: &Actor,
        id: CategoryId,
        c: &CategoryEdit,
    ) -> Result<()> {
        check_slug(&c.slug)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let update = CategoryUpdate {
            parent_id: c.parent,
            slug: c.slug.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            status: c.status,
        };
        let before = match tx.update_category(id, &update, now).await {
            Ok(CategoryUpdated::Updated(before)) => before,
            Ok(CategoryUpdated::Missing) => return Err(AppError::NotFound),
            Ok(CategoryUpdated::Cycle) => return Err(AppError::CategoryCycle),
            Err(StoreError::Conflict) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        };
        let mut what = Vec::new();
        if before.slug != c.slug.as_str() {
            what.push(format!("slug {} → {}", before.slug, c.slug));
        }
        if before.title != nfc(c.title.trim()) {
            what.push(format!("title {} → {}", before.title, nfc(c.title.trim())));
        }
        if before.parent_id != c.parent {
            let show = |p: Option<CategoryId>| p.map_or("-".to_owned(), |p| p.to_string());
            what.push(format!(
                "parent {} → {}",
                show(before.parent_id),
                show(c.parent)
            ));
        }
        if before.status() != c.status {
            what.push(format!(
                "{} → {}",
                before.status().as_str(),
                c.status.as_str()
            ));
        }
        let mut ids = vec![id];
        ids.extend(before.parent_id);
        ids.extend(c.parent);
        tx.record_change(&category_change(&ids), now).await?;
        tx.audit(
            &actor.entry(
                "category.updated",
                &format!("category:{id}"),
                &what.join("; "),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a category one step up or down among its siblings; `false` when it already is
    /// first (or last), and nothing is recorded then.
    pub async fn move_category(
        &self,
        actor: &Actor,
        id: CategoryId,
        direction: Direction,
    ) -> Result<bool> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let moved = tx
            .move_category(id, direction, now)
            .await?
            .ok_or(AppError::NotFound)?;
        if !moved {
            return Ok(false);
        }
        tx.record_change(&category_change(&[id]), now).await?;
        tx.audit(
            &actor.entry(
                "category.moved",
                &format!("category:{id}"),
                match direction {
                    Direction::Up => "up",
                    Direction::Down => "down",
                },
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Renames a tag; its slug follows the name. A name (or slug) another tag has is
    /// [`AppError::TagTaken`]: merge the two instead.
    pub async fn rename_tag(&self, actor: &Actor, id: TagId, name: &str) -> Result<()> {
        let name = nfc(name.trim());
        if name.is_empty() || name.chars().count() > TAG_NAME_MAX || name.contains(',') {
            return Err(AppError::BadTagName);
        }
        let slug = Slug::from_title(&name).map_err(|_| AppError::NoSlug)?;
        let before = self.store().tag(id).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        match tx.rename_tag(id, &name, &slug).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::NotFound),
            Err(StoreError::Conflict) => return Err(AppError::TagTaken),
            Err(e) => return Err(e.into()),
        }
        tx.record_change(&site_change(), now).await?;
        tx.audit(
            &actor.entry(
                "tag.renamed",
                &format!("tag:{id}"),
                &format!("{} → {name}", before.name),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Merges tag `from` into `into`: its articles carry `into` (once) and `from` is gone.
    pub async fn merge_tags(&self, actor: &Actor, from: TagId, into: TagId) -> Result<()> {
        if from == into {
            return Err(AppError::SameTag);
        }
        let (Some(a), Some(b)) = (self.store().tag(from).await?, self.store().tag(into).await?)
        else {
            return Err(AppError::NotFound);
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.merge_tags(from, into).await? {
            return Err(AppError::NotFound);
        }
        tx.record_change(&site_change(), now).await?;
        tx.audit(
            &actor.entry(
                "tag.merged",
                &format!("tag:{from}"),
                &format!("{} → {} (tag:{into})", a.name, b.name),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn site_change() -> NewChange {
    NewChange {
        kind: ChangeKind::Site,
        article: None,
        categories: Vec::new(),
    }
}
