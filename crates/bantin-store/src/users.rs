//! Newsroom accounts.

use bantin_core::account::{Role, Username};
use bantin_core::nfc;

use crate::{Result, Store, StoreError, with_db};

/// An account as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Address for password resets.
    pub email: String,
    password_hash: String,
    role: String,
    /// Disabled accounts cannot sign in.
    pub active: bool,
}

impl User {
    /// What the account may do (a corrupt value reads as the least privileged role).
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Editor)
    }

    /// The Argon2id PHC string.
    pub fn password_hash(&self) -> &str {
        &self.password_hash
    }
}

/// An account to create.
pub struct NewUser<'a> {
    /// Sign-in name.
    pub username: &'a Username,
    /// Name shown to others.
    pub display_name: &'a str,
    /// Address for password resets.
    pub email: &'a str,
    /// Argon2id PHC string (hash the password before calling).
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
}

const USER_COLUMNS: &str = "id, username, display_name, email, password_hash, role, active";

impl Store {
    /// Creates an account; a taken username is [`StoreError::Conflict`].
    pub async fn insert_user(&self, u: &NewUser<'_>, now: i64) -> Result<i64> {
        let res = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (username, display_name, email, password_hash, role, active, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id",
            )
            .bind(u.username.as_str())
            .bind(nfc(u.display_name.trim()))
            .bind(u.email.trim())
            .bind(u.password_hash)
            .bind(u.role.as_str())
            .bind(now)
            .fetch_one(p)
            .await
        });
        match res {
            Ok(id) => Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY username"
            )))
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// One account by username.
    pub async fn user_by_username(&self, username: &Username) -> Result<Option<User>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
            )))
            .bind(username.as_str())
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// Replaces an account's password hash; false if there is no such account.
    pub async fn set_user_password(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3")
                .bind(password_hash)
                .bind(now)
                .bind(username.as_str())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Enables or disables an account; false if there is no such account.
    pub async fn set_user_active(
        &self,
        username: &Username,
        active: bool,
        now: i64,
    ) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE username = $3")
                .bind(active)
                .bind(now)
                .bind(username.as_str())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}
