//! The newsroom's workflow: which actions may move an article from one status to another, and
//! who may take them. Decided here, in one place, so the admin, the API and importers all ask
//! the same question.
//!
//! Editors (biên tập viên) write in their categories: they save and submit their own drafts,
//! withdraw them from review, and move them to the trash. Editors-in-chief (biên tập chính)
//! and administrators review in theirs: they edit anything there, approve (publish at once, or
//! schedule for a later publish time), reject with a reason, unpublish, trash and restore.
//! Expiry is the scheduler's: it archives or unpublishes, never deletes.

use crate::access::{Capability, Rights};
use crate::article::ArticleStatus;
use crate::ids::CategoryId;
use crate::time::UnixTime;

/// Days an article stays in the trash, restorable, before it is deleted for good.
pub const TRASH_KEPT_DAYS: i64 = 30;

/// Something the newsroom does to an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Save its content (the status stays).
    Save,
    /// Send a draft for review.
    Submit,
    /// Take a submitted article back to draft.
    Withdraw,
    /// Publish now, or schedule for its publish time if that is still to come.
    Approve,
    /// Send back to the author with a reason.
    Reject,
    /// Take down a published, scheduled or archived article.
    Unpublish,
    /// Move to the trash.
    Trash,
    /// Bring back from the trash, as a draft.
    Restore,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 8] = [
        Self::Save,
        Self::Submit,
        Self::Withdraw,
        Self::Approve,
        Self::Reject,
        Self::Unpublish,
        Self::Trash,
        Self::Restore,
    ];

    /// The name used in forms and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Save => "save",
            Self::Submit => "submit",
            Self::Withdraw => "withdraw",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Unpublish => "unpublish",
            Self::Trash => "trash",
            Self::Restore => "restore",
        }
    }
}

impl std::str::FromStr for Action {
    type Err = WorkflowError;

    fn from_str(s: &str) -> Result<Self, WorkflowError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(WorkflowError::UnknownAction)
    }
}

/// Why an action was refused. Messages are Vietnamese: they reach the newsroom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The account may not take this action on this article.
    #[error("bạn không có quyền thực hiện thao tác này với bài viết")]
    NotAllowed,
    /// The action does not apply to an article in this status.
    #[error("thao tác này không áp dụng cho bài viết ở trạng thái hiện tại")]
    WrongStatus,
    /// A rejection needs a reason.
    #[error("cần ghi lý do trả lại bài")]
    ReasonRequired,
    /// Not an action.
    #[error("thao tác không hợp lệ")]
    UnknownAction,
}

/// The article as the rules see it.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    /// Its status now.
    pub status: ArticleStatus,
    /// Its main category.
    pub category: CategoryId,
    /// Whether the acting account wrote it.
    pub own: bool,
    /// Its publish time.
    pub publish_at: UnixTime,
}

/// The status `action` leads to, if `rights` allow it on `article` at `now`. `has_reason`
/// says whether a rejection came with one.
pub fn next_status(
    rights: &Rights,
    article: &Subject,
    action: Action,
    has_reason: bool,
    now: UnixTime,
) -> Result<ArticleStatus, WorkflowError> {
    use ArticleStatus::{
        Archived, Draft, Pending, Published, Rejected, Scheduled, Trash, Unpublished,
    };
    let category = Some(article.category);
    let reviewer = rights.allows(Capability::Publish, category);
    let writer = rights.allows(Capability::Write, category);
    // Writers act on their own articles; reviewers on every article of their categories.
    let author = writer && article.own;
    if !(reviewer || author) {
        return Err(WorkflowError::NotAllowed);
    }
    let status = article.status;
    let (allowed, next) = match action {
        Action::Save => match status {
            Draft | Rejected => (true, status),
            Pending | Scheduled | Published | Unpublished | Archived => (reviewer, status),
            Trash => return Err(WorkflowError::WrongStatus),
        },
        Action::Submit => match status {
            Draft | Rejected => (true, Pending),
            _ => return Err(WorkflowError::WrongStatus),
        },
        Action::Withdraw => match status {
            Pending => (true, Draft),
            _ => return Err(WorkflowError::WrongStatus),
        },
        Action::Approve => match status {
            Draft | Pending | Rejected | Unpublished | Archived | Scheduled => {
                let next = if article.publish_at > now {
                    Scheduled
                } else {
                    Published
                };
                (reviewer, next)
            }
            Published | Trash => return Err(WorkflowError::WrongStatus),
        },
        Action::Reject => match status {
            Pending if !has_reason => return Err(WorkflowError::ReasonRequired),
            Pending => (reviewer, Rejected),
            _ => return Err(WorkflowError::WrongStatus),
        },
        Action::Unpublish => match status {
            Published | Scheduled | Archived => (reviewer, Unpublished),
            _ => return Err(WorkflowError::WrongStatus),
        },
        Action::Trash => match status {
            Trash => return Err(WorkflowError::WrongStatus),
            Draft | Rejected => (true, Trash),
            _ => (reviewer, Trash),
        },
        Action::Restore => match status {
            Trash => (true, Draft),
            _ => return Err(WorkflowError::WrongStatus),
        },
    };
    if allowed {
        Ok(next)
    } else {
        Err(WorkflowError::NotAllowed)
    }
}

/// What the scheduler does when a published article's expiry time passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExpiryAction {
    /// Keep it, listed nowhere ([`ArticleStatus::Archived`]).
    #[default]
    Archive,
    /// Take it down ([`ArticleStatus::Unpublished`]).
    Unpublish,
}

impl ExpiryAction {
    /// The status an expired article moves to.
    pub fn status(self) -> ArticleStatus {
        match self {
            Self::Archive => ArticleStatus::Archived,
            Self::Unpublish => ArticleStatus::Unpublished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;

    fn rights(role: Role, categories: &[i64]) -> Rights {
        Rights {
            role,
            all_categories: categories.is_empty(),
            categories: categories.iter().copied().map(CategoryId::new).collect(),
        }
    }

    fn subject(status: ArticleStatus, own: bool, publish_in: i64) -> Subject {
        Subject {
            status,
            category: CategoryId::new(3),
            own,
            publish_at: UnixTime::from_second(1_000 + publish_in),
        }
    }

    const NOW: UnixTime = UnixTime::from_second(1_000);

    #[test]
    fn editors_write_and_submit_their_own_and_never_publish() {
        use ArticleStatus::*;
        let editor = rights(Role::Editor, &[3]);
        let mine = |s| subject(s, true, 0);
        assert_eq!(
            next_status(&editor, &mine(Draft), Action::Save, false, NOW),
            Ok(Draft)
        );
        assert_eq!(
            next_status(&editor, &mine(Draft), Action::Submit, false, NOW),
            Ok(Pending)
        );
        assert_eq!(
            next_status(&editor, &mine(Rejected), Action::Submit, false, NOW),
            Ok(Pending)
        );
        assert_eq!(
            next_status(&editor, &mine(Pending), Action::Withdraw, false, NOW),
            Ok(Draft)
        );
        assert_eq!(
            next_status(&editor, &mine(Draft), Action::Trash, false, NOW),
            Ok(Trash)
        );
        assert_eq!(
            next_status(&editor, &mine(Trash), Action::Restore, false, NOW),
            Ok(Draft)
        );
        for refused in [
            (Pending, Action::Save),
            (Published, Action::Save),
            (Pending, Action::Approve),
            (Draft, Action::Approve),
            (Published, Action::Unpublish),
            (Published, Action::Trash),
        ] {
            assert_eq!(
                next_status(&editor, &mine(refused.0), refused.1, true, NOW),
                Err(WorkflowError::NotAllowed),
                "{refused:?}"
            );
        }
        // Someone else's draft, or a category outside the editor's.
        let theirs = subject(Draft, false, 0);
        assert_eq!(
            next_status(&editor, &theirs, Action::Save, false, NOW),
            Err(WorkflowError::NotAllowed)
        );
        let elsewhere = rights(Role::Editor, &[4]);
        assert_eq!(
            next_status(&elsewhere, &mine(Draft), Action::Save, false, NOW),
            Err(WorkflowError::NotAllowed)
        );
    }

    #[test]
    fn reviewers_approve_schedule_reject_and_unpublish_in_their_categories() {
        use ArticleStatus::*;
        let chief = rights(Role::EditorInChief, &[3]);
        let theirs = |s, publish_in| subject(s, false, publish_in);
        assert_eq!(
            next_status(&chief, &theirs(Pending, 0), Action::Approve, false, NOW),
            Ok(Published)
        );
        assert_eq!(
            next_status(&chief, &theirs(Pending, 60), Action::Approve, false, NOW),
            Ok(Scheduled)
        );
        assert_eq!(
            next_status(&chief, &theirs(Pending, 0), Action::Reject, false, NOW),
            Err(WorkflowError::ReasonRequired)
        );
        assert_eq!(
            next_status(&chief, &theirs(Pending, 0), Action::Reject, true, NOW),
            Ok(Rejected)
        );
        assert_eq!(
            next_status(&chief, &theirs(Published, 0), Action::Unpublish, false, NOW),
            Ok(Unpublished)
        );
        assert_eq!(
            next_status(&chief, &theirs(Archived, 0), Action::Approve, false, NOW),
            Ok(Published)
        );
        assert_eq!(
            next_status(&chief, &theirs(Published, 0), Action::Save, false, NOW),
            Ok(Published)
        );
        assert_eq!(
            next_status(&chief, &theirs(Published, 0), Action::Trash, false, NOW),
            Ok(Trash)
        );
        assert_eq!(
            next_status(&chief, &theirs(Published, 0), Action::Approve, false, NOW),
            Err(WorkflowError::WrongStatus)
        );
        assert_eq!(
            next_status(&chief, &theirs(Trash, 0), Action::Save, false, NOW),
            Err(WorkflowError::WrongStatus)
        );
        let elsewhere = rights(Role::EditorInChief, &[4]);
        assert_eq!(
            next_status(&elsewhere, &theirs(Pending, 0), Action::Approve, false, NOW),
            Err(WorkflowError::NotAllowed)
        );
        let admin = rights(Role::Administrator, &[]);
        assert_eq!(
            next_status(&admin, &theirs(Draft, 0), Action::Approve, false, NOW),
            Ok(Published)
        );
    }

    #[test]
    fn every_transition_is_decided_without_panicking() {
        for role in [Role::Administrator, Role::EditorInChief, Role::Editor] {
            for status in ArticleStatus::ALL {
                for action in Action::ALL {
                    for own in [false, true] {
                        let r = next_status(
                            &rights(role, &[3]),
                            &subject(status, own, 0),
                            action,
                            true,
                            NOW,
                        );
                        if let Ok(next) = r {
                            assert!(
                                role != Role::Editor
                                    || !matches!(
                                        next,
                                        ArticleStatus::Published
                                            | ArticleStatus::Scheduled
                                            | ArticleStatus::Unpublished
                                    )
                                    || next == status,
                                "an editor never publishes: {status:?} {action:?} → {next:?}"
                            );
                        }
                    }
                }
            }
        }
        assert_eq!("approve".parse::<Action>(), Ok(Action::Approve));
        assert!("publish-everything".parse::<Action>().is_err());
    }
}
