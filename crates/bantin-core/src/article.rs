//! Articles and categories: statuses and the rule deciding what readers may see.

use std::fmt;
use std::str::FromStr;

use crate::time::UnixTime;

/// Where an article stands in the newsroom's workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArticleStatus {
    /// Being written; only the newsroom sees it.
    Draft,
    /// Submitted for review by an editor-in-chief.
    Pending,
    /// Sent back by a reviewer, with a reason; the author revises and submits again.
    Rejected,
    /// Approved for a publish time still to come; the scheduler publishes it then.
    Scheduled,
    /// Published: readers see it once its publish time has passed and until it expires.
    Published,
    /// Taken down after publication.
    Unpublished,
    /// Its expiry time passed (kept, listed nowhere: expiry never deletes).
    Archived,
    /// Moved to the trash: restorable for 30 days, then purged.
    Trash,
}

impl ArticleStatus {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Rejected => "rejected",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Unpublished => "unpublished",
            Self::Archived => "archived",
            Self::Trash => "trash",
        }
    }

    /// Every status, in workflow order.
    pub const ALL: [Self; 8] = [
        Self::Draft,
        Self::Pending,
        Self::Rejected,
        Self::Scheduled,
        Self::Published,
        Self::Unpublished,
        Self::Archived,
        Self::Trash,
    ];
}

/// A status string that is not one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown article status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for ArticleStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(Self::Draft),
            "pending" => Ok(Self::Pending),
            "rejected" => Ok(Self::Rejected),
            "scheduled" => Ok(Self::Scheduled),
            "published" => Ok(Self::Published),
            "unpublished" => Ok(Self::Unpublished),
            "archived" => Ok(Self::Archived),
            "trash" => Ok(Self::Trash),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

impl fmt::Display for ArticleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a category is listed to readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CategoryStatus {
    /// In the menu and on the home page.
    Active,
    /// Listed nowhere: left out of the menu, the home page, its parent's subcategory links and
    /// its parent's article lists; its own page and its articles stay reachable by URL (for
    /// notices linked from elsewhere).
    Hidden,
}

impl CategoryStatus {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Hidden => "hidden",
        }
    }
}

impl FromStr for CategoryStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "hidden" => Ok(Self::Hidden),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

/// The facts that decide whether readers may see an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visibility {
    /// Workflow status.
    pub status: ArticleStatus,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Expiry time, if any.
    pub expire_at: Option<UnixTime>,
}

impl Visibility {
    /// Readers see only published articles whose publish time has passed and that have not
    /// expired. The store's list queries apply the same rule in SQL.
    pub fn is_public(&self, now: UnixTime) -> bool {
        self.status == ArticleStatus::Published
            && self.publish_at <= now
            && self.expire_at.is_none_or(|e| e > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for s in ArticleStatus::ALL {
            assert_eq!(s.as_str().parse::<ArticleStatus>().unwrap(), s);
        }
        assert!("deleted".parse::<ArticleStatus>().is_err());
    }

    #[test]
    fn visibility_rules() {
        let now = UnixTime::from_second(1_000);
        let v = |status, publish_at: i64, expire_at: Option<i64>| Visibility {
            status,
            publish_at: UnixTime::from_second(publish_at),
            expire_at: expire_at.map(UnixTime::from_second),
        };
        assert!(v(ArticleStatus::Published, 1_000, None).is_public(now));
        assert!(v(ArticleStatus::Published, 10, Some(1_001)).is_public(now));
        assert!(
            !v(ArticleStatus::Published, 1_001, None).is_public(now),
            "scheduled"
        );
        assert!(
            !v(ArticleStatus::Published, 10, Some(1_000)).is_public(now),
            "expired"
        );
        assert!(!v(ArticleStatus::Draft, 10, None).is_public(now));
        assert!(!v(ArticleStatus::Pending, 10, None).is_public(now));
        assert!(!v(ArticleStatus::Unpublished, 10, None).is_public(now));
    }
}
