//! The audit log: who did what, when and from where. Only ever appended to; the tables'
//! triggers refuse updates and deletes on both databases.

use bantin_core::{UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// An entry to append.
#[derive(Clone, Debug, Default)]
pub struct NewAuditEntry<'a> {
    /// Acting account, if known.
    pub user_id: Option<UserId>,
    /// The name used (also for failed sign-ins of unknown names).
    pub username: &'a str,
    /// Dotted action name, e.g. `login.failed`.
    pub action: &'a str,
    /// What was acted on, e.g. `user:7`.
    pub target: &'a str,
    /// Free-form detail.
    pub detail: &'a str,
    /// Client address.
    pub ip: &'a str,
}

/// An entry as stored.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    /// Id, increasing.
    pub id: i64,
    /// When.
    pub at: UnixTime,
    /// Acting account.
    pub user_id: Option<UserId>,
    /// Name used.
    pub username: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Detail.
    pub detail: String,
    /// Client address.
    pub ip: String,
}

/// Which entries to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this name.
    pub username: Option<String>,
    /// Only this action, or actions starting with it followed by a dot.
    pub action: Option<String>,
    /// From this instant on.
    pub from: Option<UnixTime>,
    /// Before this instant.
    pub until: Option<UnixTime>,
    /// Entries with ids below this (paging backwards).
    pub before_id: Option<i64>,
}

impl Tx {
    /// Appends an entry, committed (or rolled back) with the change it records.
    pub async fn audit(&mut self, e: &NewAuditEntry<'_>, now: UnixTime) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO audit_log (at, user_id, username, action, target, detail, ip)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(e.user_id)
            .bind(e.username)
            .bind(e.action)
            .bind(e.target)
            .bind(e.detail)
            .bind(e.ip)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}

impl Store {
    /// Entries matching `f`, newest first, at most `limit`.
    pub async fn audit_entries(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        let action_prefix = f.action.as_ref().map(|a| format!("{a}.%"));
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, AuditEntry>(
                "SELECT id, at, user_id, username, action, target, detail, ip FROM audit_log
                 WHERE ($1 IS NULL OR username = $1)
                   AND ($2 IS NULL OR action = $2 OR action LIKE $3)
                   AND ($4 IS NULL OR at >= $4)
                   AND ($5 IS NULL OR at < $5)
                   AND ($6 IS NULL OR id < $6)
                 ORDER BY id DESC LIMIT $7",
            )
            .bind(f.username.as_deref())
            .bind(f.action.as_deref())
            .bind(action_prefix.as_deref())
            .bind(f.from)
            .bind(f.until)
            .bind(f.before_id)
            .bind(limit.clamp(1, 500))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}
