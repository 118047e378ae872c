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
    /// May act in every category (otherwise only in [`Store::user_categories`]).
    pub all_categories: bool,
    totp_secret: Option<String>,
    /// The last two-step time step accepted.
    pub totp_last_step: i64,
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

    /// The two-step secret (base32) when two-step sign-in is on.
    pub fn totp_secret(&self) -> Option<&str> {
        self.totp_secret.as_deref()
    }
}

/// Editable fields of an account.
pub struct UserUpdate<'a> {
    /// Name shown to others.
    pub display_name: &'a str,
    /// Address for password resets.
    pub email: &'a str,
    /// Role.
    pub role: Role,
    /// Every category, or only `categories`.
    pub all_categories: bool,
    /// Assigned categories.
    pub categories: &'a [i64],
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

pub(crate) const USER_COLUMNS: &str = "id, username, display_name, email, password_hash, role, active, all_categories, totp_secret, totp_last_step";

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

    /// Replaces an account's password hash and ends its sessions; false if there is no such
    /// account.
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
        self.revoke_sessions_of(username).await?;
        Ok(n > 0)
    }

    /// Enables or disables an account (disabling ends its sessions); false if there is no
    /// such account.
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
        if !active {
            self.revoke_sessions_of(username).await?;
        }
        Ok(n > 0)
    }

    async fn revoke_sessions_of(&self, username: &Username) -> Result<()> {
        if let Some(u) = self.user_by_username(username).await? {
            self.delete_user_sessions(u.id, None).await?;
        }
        Ok(())
    }

    /// One account by id.
    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row = with_db!(self, |p| {
            sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row)
    }

    /// The categories assigned to an account.
    pub async fn user_categories(&self, user_id: i64) -> Result<Vec<i64>> {
        let rows = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT category_id FROM user_categories WHERE user_id = $1 ORDER BY category_id",
            )
            .bind(user_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Saves an account's profile, role and categories in one transaction; false if there is
    /// no such account. Unknown category ids are [`StoreError::Invalid`].
    pub async fn update_user(&self, id: i64, u: &UserUpdate<'_>, now: i64) -> Result<bool> {
        let res: std::result::Result<bool, sqlx::Error> = with_db!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                let n = sqlx::query(
                    "UPDATE users SET display_name = $1, email = $2, role = $3, all_categories = $4, updated_at = $5
                     WHERE id = $6",
                )
                .bind(nfc(u.display_name.trim()))
                .bind(u.email.trim())
                .bind(u.role.as_str())
                .bind(u.all_categories)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                sqlx::query("DELETE FROM user_categories WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for c in u.categories {
                    sqlx::query("INSERT INTO user_categories (user_id, category_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(c)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }
            .await
        });
        match res {
            Ok(b) => Ok(b),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Err(StoreError::Invalid("unknown category".to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces an account's password hash by id and ends its sessions; false if there is no
    /// such account.
    pub async fn set_user_password_by_id(&self, id: i64, hash: &str, now: i64) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        self.delete_user_sessions(id, None).await?;
        Ok(n > 0)
    }

    /// Enables or disables an account by id (disabling ends its sessions); false if there is
    /// no such account.
    pub async fn set_user_active_by_id(&self, id: i64, active: bool, now: i64) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(active)
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if !active {
            self.delete_user_sessions(id, None).await?;
        }
        Ok(n > 0)
    }

    /// How many active administrators there are (the last one may not be demoted or disabled).
    pub async fn active_administrators(&self) -> Result<i64> {
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE role = 'administrator' AND active = TRUE",
            )
            .fetch_one(p)
            .await
        })?;
        Ok(n)
    }

    /// Turns two-step sign-in on with `secret` and these hashed backup codes, or off (`None`,
    /// which also drops the backup codes).
    pub async fn set_totp(
        &self,
        user_id: i64,
        secret: Option<&str>,
        backup_code_hashes: &[String],
        now: i64,
    ) -> Result<()> {
        with_db!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                sqlx::query(
                    "UPDATE users SET totp_secret = $1, totp_last_step = 0, updated_at = $2 WHERE id = $3",
                )
                .bind(secret)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for h in backup_code_hashes {
                    sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(h)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        })?;
        Ok(())
    }

    /// Records that the two-step code of `step` was used; false when that step (or a later
    /// one) was already used, so a code cannot be replayed.
    pub async fn claim_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
            )
            .bind(step)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Uses up a backup code; false when it is unknown or already used.
    pub async fn use_backup_code(&self, user_id: i64, code_hash: &str, now: i64) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query(
                "UPDATE backup_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .bind(code_hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Backup codes not yet used.
    pub async fn unused_backup_codes(&self, user_id: i64) -> Result<i64> {
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id)
            .fetch_one(p)
            .await
        })?;
        Ok(n)
    }
}
