//! What a service refuses, by kind: the web layer picks the message for each kind from its
//! catalogue, the command line prints it; the cause of an internal failure is kept for the log.

use bantin_core::account::AccountError;
use bantin_store::StoreError;

/// Why a service did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such account, article, session or token (or the caller may not know of it).
    #[error("not found")]
    NotFound,
    /// An account field broke a rule; the message (Vietnamese) says which.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The username is taken.
    #[error("the username is taken")]
    UsernameTaken,
    /// A slug (article or category URL) is taken.
    #[error("the address is taken")]
    SlugTaken,
    /// A category's parent would be the category itself or one of its descendants.
    #[error("a category cannot be moved under itself or its descendants")]
    CategoryCycle,
    /// Another tag has this name (or one that makes the same slug).
    #[error("another tag has this name")]
    TagTaken,
    /// A tag name that is empty, too long or holds a comma.
    #[error("unusable tag name")]
    BadTagName,
    /// A tag merged into itself.
    #[error("a tag cannot be merged into itself")]
    SameTag,
    /// A category id that does not exist.
    #[error("unknown category")]
    UnknownCategory,
    /// A title from which no URL slug can be made.
    #[error("the title has no letters or digits for an address")]
    NoSlug,
    /// The change would leave no active administrator.
    #[error("the last active administrator must stay")]
    LastAdministrator,
    /// Nobody may disable their own account.
    #[error("an account cannot disable itself")]
    NotSelf,
    /// The name and password (or code) did not match.
    #[error("wrong credentials")]
    WrongCredentials,
    /// The name is locked from this address for this many more seconds.
    #[error("locked for {0} s")]
    Locked(i64),
    /// Two-step sign-in is required for the role and cannot be turned off.
    #[error("two-step sign-in is required for this role")]
    TwoStepRequired,
    /// Someone saved the article in between; it is at this revision now. Nothing changed.
    #[error("the article was saved by someone else meanwhile (now revision {0})")]
    Stale(i64),
    /// The workflow does not allow this (the message is Vietnamese).
    #[error(transparent)]
    Workflow(#[from] bantin_core::workflow::WorkflowError),
    /// More than a service keeps (an autosave over 1 MiB).
    #[error("too large")]
    TooLarge,
    /// The reset link is unknown, expired or used.
    #[error("invalid or expired reset link")]
    InvalidResetLink,
    /// A file was refused by the media library (the error names the problem).
    #[error(transparent)]
    Media(#[from] bantin_media::IntakeError),
    /// The library item is used by this many articles; deleting it needs confirmation.
    #[error("used by {0} articles")]
    MediaInUse(usize),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// Something else failed on our side.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownReference => Self::UnknownCategory,
            e => Self::Store(e),
        }
    }
}

/// Service result.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
