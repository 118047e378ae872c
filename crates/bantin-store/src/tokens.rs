//! API tokens: a user's keys for the JSON API. As with sessions, only the SHA-256 of the random
//! token reaches the database.

use bantin_core::{UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// An API token as stored (never the token itself).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiToken {
    /// Id, shown in the admin to revoke it.
    pub id: i64,
    /// The account it acts for.
    pub user_id: UserId,
    /// What its owner called it.
    pub name: String,
    /// Reads only, whatever the account may do.
    pub read_only: bool,
    /// Created.
    pub created_at: UnixTime,
    /// Stops working at this time, if set.
    pub expires_at: Option<UnixTime>,
    /// Revoked at this time, if revoked.
    pub revoked_at: Option<UnixTime>,
    /// Last request made with it.
    pub last_used_at: Option<UnixTime>,
    /// Address of that request.
    pub last_used_ip: String,
}

impl ApiToken {
    /// Whether it may still be used at `now` (its account's state aside).
    pub fn usable(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A token to create.
#[derive(Clone, Debug)]
pub struct NewApiToken<'a> {
    /// The account.
    pub user_id: UserId,
    /// Its name.
    pub name: &'a str,
    /// SHA-256 (hex) of the token.
    pub token_hash: &'a str,
    /// Reads only.
    pub read_only: bool,
    /// Expiry, if any.
    pub expires_at: Option<UnixTime>,
}

const TOKEN_COLUMNS: &str =
    "id, user_id, name, read_only, created_at, expires_at, revoked_at, last_used_at, last_used_ip";

impl Store {
    /// The token of a hash, revoked or not.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, ApiToken>(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
            )))
            .bind(token_hash)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// An account's tokens, newest first.
    pub async fn user_api_tokens(&self, user_id: UserId) -> Result<Vec<ApiToken>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, ApiToken>(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
            )))
            .bind(user_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Records a use (one statement, not audited; callers write at most once a minute).
    pub async fn touch_api_token(&self, id: i64, now: UnixTime, ip: &str) -> Result<()> {
        with_db!(self, |p| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3")
                .bind(now)
                .bind(ip)
                .bind(id)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}

impl Tx {
    /// Stores a new token; returns its id.
    pub async fn insert_api_token(&mut self, t: &NewApiToken<'_>, now: UnixTime) -> Result<i64> {
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO api_tokens (user_id, name, token_hash, read_only, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(t.user_id)
            .bind(t.name)
            .bind(t.token_hash)
            .bind(t.read_only)
            .bind(now)
            .bind(t.expires_at)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(id)
    }

    /// Revokes a token of `user_id` (or of anyone, `None`); false when there was no such
    /// unrevoked token.
    pub async fn revoke_api_token(
        &mut self,
        id: i64,
        user_id: Option<UserId>,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1
                 WHERE id = $2 AND revoked_at IS NULL AND (CAST($3 AS BIGINT) IS NULL OR user_id = $3)",
            )
            .bind(now)
            .bind(id)
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
