//! Rows as the store returns them.

use bantin_core::{
    ArticleId, ArticleStatus, CategoryId, CategoryStatus, RatingSummary, SanitizedHtml, UnixTime,
    UserId, Visibility,
};

/// A category of the site's tree.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Category {
    /// Id.
    pub id: CategoryId,
    /// Parent category, `None` at the top.
    pub parent_id: Option<CategoryId>,
    /// URL segment, unique across categories.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One-paragraph description.
    pub description: String,
    /// Order among siblings.
    pub position: i64,
    pub(crate) status: String,
}

impl Category {
    /// Listed or hidden.
    pub fn status(&self) -> CategoryStatus {
        self.status.parse().unwrap_or(CategoryStatus::Hidden)
    }
}

/// A whole article.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Article {
    /// Id: the part of the URL that decides.
    pub id: ArticleId,
    /// URL slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Lead paragraph (sapo), plain text.
    pub lead: String,
    pub(crate) body_html: String,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Main image alt text.
    pub image_alt: String,
    /// Main image caption.
    pub image_caption: String,
    /// Author line, free text.
    pub author: String,
    /// Source, free text.
    pub source: String,
    pub(crate) status: String,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Expiry time.
    pub expire_at: Option<UnixTime>,
    /// Main category.
    pub category_id: CategoryId,
    /// Views counted so far.
    pub view_count: i64,
    /// Sum of rating points.
    pub rating_total: i64,
    /// Number of rating votes.
    pub rating_count: i64,
    /// Account that created it.
    pub created_by: Option<UserId>,
    /// Created.
    pub created_at: UnixTime,
    /// Last updated.
    pub updated_at: UnixTime,
    pub(crate) expiry_action: String,
    /// Why a reviewer sent it back (when rejected).
    pub rejection_reason: String,
    /// Readers may rate it.
    pub allow_rating: bool,
    /// It may appear in the home page's lists.
    pub show_on_home: bool,
    /// When it went to the trash.
    pub trashed_at: Option<UnixTime>,
    /// Goes up by one with every save and status change; an edit names the one it started from.
    pub revision: i64,
    /// Who saved it last.
    pub updated_by: Option<UserId>,
    /// What search engines and shares show instead of the lead (empty: the lead).
    pub meta_description: String,
}

impl Article {
    /// Sanitised body HTML.
    pub fn body(&self) -> SanitizedHtml {
        SanitizedHtml::from_stored(self.body_html.clone())
    }

    /// Sanitised body HTML, borrowed (no copy, for reading it where it lies).
    pub fn body_str(&self) -> &str {
        &self.body_html
    }

    /// Workflow status (a corrupt value reads as unpublished, so it is never shown).
    pub fn status(&self) -> ArticleStatus {
        self.status.parse().unwrap_or(ArticleStatus::Unpublished)
    }

    /// The facts deciding whether readers see it.
    pub fn visibility(&self) -> Visibility {
        Visibility {
            status: self.status(),
            publish_at: self.publish_at,
            expire_at: self.expire_at,
        }
    }

    /// What its expiry does.
    pub fn expiry_action(&self) -> bantin_core::workflow::ExpiryAction {
        match self.expiry_action.as_str() {
            "unpublish" => bantin_core::workflow::ExpiryAction::Unpublish,
            _ => bantin_core::workflow::ExpiryAction::Archive,
        }
    }

    /// How it behaves beyond its text.
    pub fn options(&self) -> crate::ArticleOptions {
        crate::ArticleOptions {
            expiry_action: self.expiry_action(),
            allow_rating: self.allow_rating,
            show_on_home: self.show_on_home,
        }
    }

    /// Rating totals.
    pub fn rating(&self) -> RatingSummary {
        RatingSummary {
            total: self.rating_total,
            count: self.rating_count,
        }
    }
}

/// What lists show of an article.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ArticleSummary {
    /// Id.
    pub id: ArticleId,
    /// URL slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Lead paragraph.
    pub lead: String,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Main image alt text.
    pub image_alt: String,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Main category.
    pub category_id: CategoryId,
}
