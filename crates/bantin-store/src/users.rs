//! Newsroom accounts.

use bantin_core::account::{DisplayName, Email, Role, Username};
use bantin_core::{CategoryId, UnixTime, UserId};

use crate::{Result, Store, Tx, with_db, with_tx};

/// An account as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: UserId,
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
#[derive(Clone, Debug)]
pub struct UserUpdate {
    /// Name shown to others.
    pub display_name: DisplayName,
    /// Address for password resets.
    pub email: Email,
    /// Role.
    pub role: Role,
    /// Every category, or only `categories`.
    pub all_categories: bool,
    /// Assigned categories.
    pub categories: Vec<CategoryId>,
}

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Sign-in name.
    pub username: Username,
    /// Argon2id PHC string (hash the password before calling).
    pub password_hash: String,
    /// Profile, role and categories.
    pub profile: UserUpdate,
}

pub(crate) const USER_COLUMNS: &str = "id, username, display_name, email, password_hash, role, active, all_categories, totp_secret, totp_last_step";

impl Store {
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

    /// One account by id.
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
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
    pub async fn user_categories(&self, user_id: UserId) -> Result<Vec<CategoryId>> {
        let rows = with_db!(self, |p| {
            sqlx::query_scalar::<_, CategoryId>(
                "SELECT category_id FROM user_categories WHERE user_id = $1 ORDER BY category_id",
            )
            .bind(user_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }

    /// Backup codes not yet used.
    pub async fn unused_backup_codes(&self, user_id: UserId) -> Result<i64> {
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

    /// Accounts whose username or email is `who` (case-insensitive), active only.
    pub async fn users_by_login_or_email(&self, who: &str) -> Result<Vec<User>> {
        let who = who.trim().to_lowercase();
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users
                 WHERE active = TRUE AND (username = $1 OR (email <> '' AND LOWER(email) = $1))"
            )))
            .bind(&who)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}

impl Tx {
    /// One account by id, read inside the transaction.
    pub async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        let row = with_tx!(self, |c| {
            sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *c)
            .await
        })?;
        Ok(row)
    }

    /// Creates an account with its profile and categories; a taken username is a conflict,
    /// an unknown category an unknown reference.
    pub async fn insert_user(&mut self, u: &NewUser, now: UnixTime) -> Result<UserId> {
        let id = with_tx!(self, |c| {
            sqlx::query_scalar::<_, UserId>(
                "INSERT INTO users (username, display_name, email, password_hash, role, active, all_categories, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7) RETURNING id",
            )
            .bind(u.username.as_str())
            .bind(u.profile.display_name.as_str())
            .bind(u.profile.email.as_str())
            .bind(&u.password_hash)
            .bind(u.profile.role.as_str())
            .bind(u.profile.all_categories)
            .bind(now)
            .fetch_one(&mut *c)
            .await
        })?;
        self.set_user_categories(id, &u.profile.categories).await?;
        Ok(id)
    }

    async fn set_user_categories(&mut self, id: UserId, categories: &[CategoryId]) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query("DELETE FROM user_categories WHERE user_id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            for cat in categories {
                sqlx::query(
                    "INSERT INTO user_categories (user_id, category_id) VALUES ($1, $2)
                     ON CONFLICT (user_id, category_id) DO NOTHING",
                )
                .bind(id)
                .bind(cat)
                .execute(&mut *c)
                .await?;
            }
            Ok(())
        })
    }

    /// Saves an account's profile, role and categories; false if there is no such account.
    pub async fn update_user(&mut self, id: UserId, u: &UserUpdate, now: UnixTime) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET display_name = $1, email = $2, role = $3, all_categories = $4, updated_at = $5
                 WHERE id = $6",
            )
            .bind(u.display_name.as_str())
            .bind(u.email.as_str())
            .bind(u.role.as_str())
            .bind(u.all_categories)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.set_user_categories(id, &u.categories).await?;
        Ok(true)
    }

    /// Active administrators other than `except`. Call after [`Tx::lock`] on
    /// [`ADMINISTRATORS_LOCK`] so two transactions cannot each remove "the other" one.
    pub async fn other_active_administrators(&mut self, except: UserId) -> Result<i64> {
        let n = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM users
                 WHERE role = 'administrator' AND active = TRUE AND id <> $1",
            )
            .bind(except)
            .fetch_one(&mut *c)
            .await
        })?;
        Ok(n)
    }

    /// Replaces an account's password hash and ends all its sessions; false if there is no
    /// such account.
    pub async fn set_user_password(
        &mut self,
        id: UserId,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        self.delete_user_sessions(id, None).await?;
        Ok(n > 0)
    }

    /// Enables or disables an account (disabling ends its sessions); false if there is no
    /// such account.
    pub async fn set_user_active(
        &mut self,
        id: UserId,
        active: bool,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(active)
                .bind(now)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if !active {
            self.delete_user_sessions(id, None).await?;
        }
        Ok(n > 0)
    }

    /// Turns two-step sign-in on with `secret` and these hashed backup codes, or off (`None`,
    /// which also drops the backup codes).
    pub async fn set_totp(
        &mut self,
        user_id: UserId,
        secret: Option<&str>,
        backup_code_hashes: &[String],
        now: UnixTime,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET totp_secret = $1, totp_last_step = 0, updated_at = $2 WHERE id = $3",
            )
            .bind(secret)
            .bind(now)
            .bind(user_id)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *c)
                .await?;
            for h in backup_code_hashes {
                sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(h)
                    .execute(&mut *c)
                    .await?;
            }
            Ok(())
        })
    }

    /// Records that the two-step code of `step` was used; false when that step (or a later
    /// one) was already used, so a code cannot be replayed.
    pub async fn claim_totp_step(&mut self, user_id: UserId, step: i64) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
            )
            .bind(step)
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Uses up a backup code; false when it is unknown or already used.
    pub async fn use_backup_code(
        &mut self,
        user_id: UserId,
        code_hash: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE backup_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .bind(code_hash)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}

/// The [`Tx::lock`] key of every change that may remove an administrator.
pub const ADMINISTRATORS_LOCK: &str = "users:administrators";
