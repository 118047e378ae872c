//! Signed-in sessions, sign-in attempts and password-reset tokens. The session cookie carries
//! a random token; only its SHA-256 reaches the database, so a leaked table cannot be
//! replayed.

use bantin_core::{SessionId, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// A session as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    /// Id, shown on the sessions page to end one.
    pub id: SessionId,
    /// The account.
    pub user_id: UserId,
    /// Sign-in time.
    pub created_at: UnixTime,
    /// Last activity.
    pub last_seen: UnixTime,
    /// Address at sign-in.
    pub ip: String,
    /// Browser at sign-in.
    pub user_agent: String,
}

/// Who is trying to sign in: the name as typed (normalised) and the address.
#[derive(Clone, Copy, Debug)]
pub struct LoginAttempt<'a> {
    /// The normalised name the attempts are counted under.
    pub key: &'a str,
    /// Client address.
    pub ip: &'a str,
}

const SESSION_COLUMNS: &str = "id, user_id, created_at, last_seen, ip, user_agent";

impl Store {
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

    /// Records activity (a single statement; activity is not audited).
    pub async fn touch_session(&self, id: SessionId, now: UnixTime) -> Result<()> {
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

    /// The sessions of an account, most recently active first.
    pub async fn user_sessions(&self, user_id: UserId) -> Result<Vec<Session>> {
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

    /// Deletes sessions idle since before `idle_cutoff` or started before `absolute_cutoff`,
    /// and sign-in attempts older than `attempts_before` (housekeeping: such sessions are
    /// already refused when used).
    pub async fn sweep_sessions(
        &self,
        idle_cutoff: UnixTime,
        absolute_cutoff: UnixTime,
        attempts_before: UnixTime,
    ) -> Result<u64> {
        let n = with_db!(self, |p| {
            async {
                let n = sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
                    .bind(idle_cutoff)
                    .bind(absolute_cutoff)
                    .execute(p)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM login_failures WHERE at < $1")
                    .bind(attempts_before)
                    .execute(p)
                    .await?;
                Ok::<_, sqlx::Error>(n)
            }
            .await
        })?;
        Ok(n)
    }

    /// The account of an unused reset token issued at or after `not_before`.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        not_before: UnixTime,
    ) -> Result<Option<UserId>> {
        let id = with_db!(self, |p| {
            sqlx::query_scalar::<_, UserId>(
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
}

impl Tx {
    /// Stores a new session for `token_hash` and returns its id.
    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user_id: UserId,
        now: UnixTime,
        ip: &str,
        user_agent: &str,
    ) -> Result<SessionId> {
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, SessionId>(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, ip, user_agent)
                 VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(ip)
            .bind(user_agent)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(id)
    }

    /// The session of a token hash, read inside the transaction.
    pub async fn session_by_token(&mut self, token_hash: &str) -> Result<Option<Session>> {
        let row = with_tx!(self, |c| {
            sqlx::query_as::<_, Session>(sqlx::AssertSqlSafe(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
            )))
            .bind(token_hash)
            .fetch_optional(&mut *c)
            .await
        })?;
        Ok(row)
    }

    /// Ends one session of `user_id`; false if it was not theirs or is gone.
    pub async fn delete_session(&mut self, user_id: UserId, id: SessionId) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Ends every session of `user_id` except `keep`; returns how many ended.
    pub async fn delete_user_sessions(
        &mut self,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> Result<u64> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep.map_or(0, SessionId::get))
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// Times of the sign-in attempts of the pair since `since`, oldest first. Attempts are
    /// recorded before the password is checked and forgotten after a success, so what is left
    /// are failures and attempts in flight. Call after [`Tx::lock`] on the pair.
    pub async fn login_attempts(
        &mut self,
        who: LoginAttempt<'_>,
        since: UnixTime,
    ) -> Result<Vec<UnixTime>> {
        let rows = with_tx!(self, |c| {
            sqlx::query_scalar::<_, UnixTime>(
                "SELECT at FROM login_failures WHERE username = $1 AND ip = $2 AND at >= $3 ORDER BY at",
            )
            .bind(who.key)
            .bind(who.ip)
            .bind(since)
            .fetch_all(&mut *c)
            .await
        })?;
        Ok(rows)
    }

    /// Records an attempt of the pair.
    pub async fn add_login_attempt(&mut self, who: LoginAttempt<'_>, now: UnixTime) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3)")
                .bind(who.key)
                .bind(who.ip)
                .bind(now)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Forgets the attempts of the pair (after a successful sign-in).
    pub async fn clear_login_attempts(&mut self, who: LoginAttempt<'_>) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
                .bind(who.key)
                .bind(who.ip)
                .execute(&mut *c)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Stores a password-reset token (hashed) for `user_id`.
    pub async fn insert_password_reset(
        &mut self,
        token_hash: &str,
        user_id: UserId,
        now: UnixTime,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Uses up an unused reset token issued at or after `not_before`, and every other open
    /// token of its account, in one step; returns the account, or `None` when the token is
    /// unknown, expired or already used (two tabs submitting at once: only one wins).
    pub async fn use_password_reset(
        &mut self,
        token_hash: &str,
        not_before: UnixTime,
        now: UnixTime,
    ) -> Result<Option<UserId>> {
        let user = with_tx!(self, |c| {
            sqlx::query_scalar::<_, UserId>(
                "UPDATE password_resets SET used_at = $1
                 WHERE token_hash = $2 AND used_at IS NULL AND created_at >= $3 RETURNING user_id",
            )
            .bind(now)
            .bind(token_hash)
            .bind(not_before)
            .fetch_optional(&mut *c)
            .await
        })?;
        if let Some(user) = user {
            with_tx!(self, |c| {
                sqlx::query(
                    "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
                )
                .bind(now)
                .bind(user)
                .execute(&mut *c)
                .await.map(|_| ())
            })?;
        }
        Ok(user)
    }
}
