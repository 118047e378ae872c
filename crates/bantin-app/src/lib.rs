//! The services of bantin: every change to accounts, sessions, articles, categories and
//! ratings goes through [`App`], each in one transaction that also writes its audit entry and,
//! when readers could see the change, its change-feed row. No HTTP types: the web handlers,
//! the command line, importers and the API all call the same code.

mod accounts;
mod categories;
mod content;
pub mod demo;
mod editing;
mod error;
mod feed;
mod history;
pub mod media;
pub mod net;
mod ratings;
pub mod remote;
mod scheduler;
mod signin;
mod tokens;
mod webhooks;

use std::sync::Arc;

use bantin_core::{Clock, UnixTime, UserId};
use bantin_store::{NewAuditEntry, Store};

pub use accounts::{AccountChange, NewAccount, ProfileChange};
pub use categories::{CategoryEdit, RESERVED_SLUGS, TAG_NAME_MAX};
pub use content::CategoryDraft;
pub use editing::{Editing, HEARTBEAT_SECONDS, LOCK_STALE_SECONDS};
pub use error::{AppError, Result};
pub use feed::{ChangeSink, Follower};
pub use history::{RESTORED_NOTE, restored_from};
pub use net::{AddressPolicy, NetError, is_public_address};
pub use ratings::VoteRequest;
pub use remote::{PullError, Pulled, RemoteFetch};
pub use scheduler::Scheduler;
pub use signin::{FAILURE_KEY_CHARS, SessionStarted, SignIn, failure_key, hash_token};
pub use tokens::{TOKEN_PREFIX, TokenCheck, TokenCreated, TokenHolder, TokenName};
pub use webhooks::{WebhookEvent, WebhookSettings, WebhookUrl, Webhooks, signature};

/// The rules services apply that operators may tune.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Failed sign-ins of one name from one address that lock the pair…
    pub login_max_failures: usize,
    /// …within this many seconds…
    pub login_failure_window: i64,
    /// …for this many seconds.
    pub login_lock_seconds: i64,
    /// Seconds without activity that end a session.
    pub session_idle_timeout: i64,
    /// Seconds after sign-in that end a session.
    pub session_absolute_timeout: i64,
    /// Votes one address may cast on one article per [`Policy::rating_window`].
    pub rating_votes_per_address: i64,
    /// The window of that cap, seconds.
    pub rating_window: i64,
    /// How long a password-reset link works, seconds.
    pub reset_link_seconds: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            login_max_failures: 5,
            login_failure_window: 300,
            login_lock_seconds: 1800,
            session_idle_timeout: 1800,
            session_absolute_timeout: 43_200,
            rating_votes_per_address: 5,
            rating_window: 86_400,
            reset_link_seconds: 3600,
        }
    }
}

/// Who acts: the account (if signed in) and the address, for audit entries.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// The acting account.
    pub user_id: Option<UserId>,
    /// Its username (or the name typed, for failed sign-ins).
    pub username: String,
    /// Client address (or `cli` for the command line).
    pub ip: String,
}

impl Actor {
    /// The command line, acting for the operator.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            username: "cli".to_owned(),
            ip: "cli".to_owned(),
        }
    }

    /// bantin itself (start-up, the scheduler).
    pub fn system() -> Self {
        Self {
            user_id: None,
            username: "bantin".to_owned(),
            ip: "system".to_owned(),
        }
    }

    pub(crate) fn entry<'a>(
        &'a self,
        action: &'a str,
        target: &'a str,
        detail: &'a str,
    ) -> NewAuditEntry<'a> {
        NewAuditEntry {
            user_id: self.user_id,
            username: &self.username,
            action,
            target,
            detail,
            ip: &self.ip,
        }
    }
}

/// The services, over one store and clock (cheap to clone).
#[derive(Clone, Debug)]
pub struct App(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Clock,
    policy: Policy,
    hash_permits: tokio::sync::Semaphore,
    media: Option<bantin_media::Media>,
}

impl App {
    /// Services over `store`, reading the time from `clock`.
    pub fn new(store: Store, clock: Clock, policy: Policy) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            policy,
            // Password hashing is CPU-bound: a few at a time keeps a flood of sign-ins from
            // starving page rendering.
            hash_permits: tokio::sync::Semaphore::new(2),
            media: None,
        }))
    }

    /// The store, for reads.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The clock every service reads.
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// Now, by [`App::clock`].
    pub fn now(&self) -> UnixTime {
        self.0.clock.now()
    }

    /// The rules in force.
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    /// Runs CPU-heavy work (password hashing) off the async executor, a few at a time.
    pub async fn cpu_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .0
            .hash_permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))
    }
}

/// `bytes` random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(hex::encode(buf))
}
