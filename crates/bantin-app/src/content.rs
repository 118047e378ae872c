//! Content: categories and articles. Each write records what readers may now see differently
//! on the change feed, in the same transaction, so every process purges exactly the pages the
//! change touches.

use bantin_core::{ArticleId, CategoryId, CategoryStatus, Slug, Visibility};
use bantin_store::{ArticlePlacement, ChangeKind, NewArticle, NewCategory, NewChange, StoreError};

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
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let id = tx.insert_article(a, actor.user_id, now).await?;
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

    /// Replaces an article's content, categories and tags (an edit).
    pub async fn update_article(&self, actor: &Actor, id: ArticleId, a: &NewArticle) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let before = tx.article_placement(id).await?.ok_or(AppError::NotFound)?;
        tx.update_article(id, a, now).await?;
        tx.record_change(&article_change(id, Some(&before), &placement(a)), now)
            .await?;
        tx.audit(
            &actor.entry("article.updated", &format!("article:{id}"), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
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
