//! Signed-in sessions and failed sign-ins. The session cookie carries a random token; only
//! its SHA-256 reaches the database, so a leaked table cannot be replayed.

use crate::{Result, Store, with_db};

/// A session as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    /// Id, shown on the sessions page to end one.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// Sign-in time, Unix seconds.
    pub created_at: i64,
    /// Last activity, Unix seconds.
    pub last_seen: i64,
    /// Address at sign-in.
    pub ip: String,
    /// Browser at sign-in.
    pub user_agent: String,
}

const SESSION_COLUMNS: &str = "id, user_id, created_at, last_seen, ip, user_agent";

impl Store {
    /// Stores a new session for `token_hash` and returns its id.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
        ip: &str,
        user_agent: &str,
    ) -> Result<i64> {
        let id = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, ip, user_agent)
                 VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(ip)
            .bind(user_agent)
            .fetch_one(p)
            .await
        })?;
        Ok(id)
    }

    /// The session of a token hash.
    pub async fn session_by_token(&self, token_hash: &str) -> Result<Option<Session>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, Session>(sqlx::AssertSqlSafe(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
            )))
            .bind(token_hash)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// Records activity.
    pub async fn touch_session(&self, id: i64, now: i64) -> Result<()> {
        with_db!(self, |p| {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id = $2 AND last_seen < $1")
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Ends one session of `user_id`; false if it was not theirs or is gone.
    pub async fn delete_session(&self, user_id: i64, id: i64) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Ends every session of `user_id` except `keep`; returns how many ended.
    pub async fn delete_user_sessions(&self, user_id: i64, keep: Option<i64>) -> Result<u64> {
        let n = with_db!(self, |p| {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep.unwrap_or(0))
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// The sessions of an account, most recently active first.
    pub async fn user_sessions(&self, user_id: i64) -> Result<Vec<Session>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, Session>(sqlx::AssertSqlSafe(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY last_seen DESC, id DESC"
            )))
            .bind(user_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Deletes sessions idle since before `idle_cutoff` or started before `absolute_cutoff`.
    pub async fn delete_expired_sessions(
        &self,
        idle_cutoff: i64,
        absolute_cutoff: i64,
    ) -> Result<u64> {
        let n = with_db!(self, |p| {
            sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
                .bind(idle_cutoff)
                .bind(absolute_cutoff)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// Records a failed sign-in for (username, ip) and forgets failures older than `forget_before`.
    pub async fn record_login_failure(
        &self,
        username: &str,
        ip: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<()> {
        with_db!(self, |p| {
            async {
                sqlx::query("DELETE FROM login_failures WHERE at < $1")
                    .bind(forget_before)
                    .execute(p)
                    .await?;
                sqlx::query("INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3)")
                    .bind(username)
                    .bind(ip)
                    .bind(now)
                    .execute(p)
                    .await
                    .map(|_| ())
            }
            .await
        })?;
        Ok(())
    }

    /// Times of the failed sign-ins of (username, ip) since `since`, oldest first.
    pub async fn login_failures(&self, username: &str, ip: &str, since: i64) -> Result<Vec<i64>> {
        let rows = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT at FROM login_failures WHERE username = $1 AND ip = $2 AND at >= $3 ORDER BY at",
            )
            .bind(username)
            .bind(ip)
            .bind(since)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Forgets the failures of (username, ip) after a successful sign-in.
    pub async fn clear_login_failures(&self, username: &str, ip: &str) -> Result<()> {
        with_db!(self, |p| {
            sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
                .bind(username)
                .bind(ip)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}

impl Store {
    /// Stores a password-reset token (hashed) for `user_id`.
    pub async fn insert_password_reset(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
    ) -> Result<()> {
        with_db!(self, |p| {
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The account of an unused reset token issued at or after `not_before`.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        not_before: i64,
    ) -> Result<Option<i64>> {
        let id = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT user_id FROM password_resets
                 WHERE token_hash = $1 AND used_at IS NULL AND created_at >= $2",
            )
            .bind(token_hash)
            .bind(not_before)
            .fetch_optional(p)
            .await
        })?;
        Ok(id)
    }

    /// Uses up a reset token and every other open token of its account; false if it was
    /// already used (two tabs submitting at once: only one wins).
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
    ) -> Result<bool> {
        let n = with_db!(self, |p| {
            async {
                let n = sqlx::query(
                    "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
                )
                .bind(now)
                .bind(token_hash)
                .execute(p)
                .await?
                .rows_affected();
                sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
                    .bind(now)
                    .bind(user_id)
                    .execute(p)
                    .await?;
                Ok::<_, sqlx::Error>(n)
            }
            .await
        })?;
        Ok(n > 0)
    }

    /// Accounts whose username or email is `who` (case-insensitive), active only.
    pub async fn users_by_login_or_email(&self, who: &str) -> Result<Vec<crate::User>> {
        let who = who.trim().to_lowercase();
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, crate::User>(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM users
                 WHERE active = TRUE AND (username = $1 OR (email <> '' AND LOWER(email) = $1))",
                crate::users::USER_COLUMNS
            )))
            .bind(&who)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}
