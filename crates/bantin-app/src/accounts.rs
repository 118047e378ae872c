//! Accounts and sessions: creating and editing accounts (with the rule that one active
//! administrator always remains), passwords, two-step sign-in, password-reset links, and
//! ending sessions. Each operation is one transaction with its audit entry.

use bantin_core::account::{DisplayName, Email, NewPassword, Role, Username};
use bantin_core::{CategoryId, SessionId, UserId};
use bantin_store::{ADMINISTRATORS_LOCK, NewUser, StoreError, Tx, User, UserUpdate};

use crate::signin::{hash_token, open_session};
use crate::{Actor, App, AppError, Result, SessionStarted, random_hex};

/// Profile, role and categories of an account, parsed.
#[derive(Clone, Debug)]
pub struct ProfileChange {
    /// Name shown to others.
    pub display_name: DisplayName,
    /// Address for password resets.
    pub email: Email,
    /// Role.
    pub role: Role,
    /// Every category (always for administrators), or only `categories`.
    pub all_categories: bool,
    /// Assigned categories.
    pub categories: Vec<CategoryId>,
}

impl ProfileChange {
    fn to_update(&self) -> UserUpdate {
        let all = self.all_categories || self.role == Role::Administrator;
        UserUpdate {
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            role: self.role,
            all_categories: all,
            categories: if all {
                Vec::new()
            } else {
                self.categories.clone()
            },
        }
    }
}

/// An account to create.
pub struct NewAccount {
    /// Sign-in name.
    pub username: Username,
    /// First password.
    pub password: NewPassword,
    /// Profile.
    pub profile: ProfileChange,
}

/// What [`App::update_account`] changed, for the caller's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountChange {
    /// Role before.
    pub old_role: Role,
    /// Role after.
    pub new_role: Role,
}

fn target(id: UserId) -> String {
    format!("user:{id}")
}

impl App {
    /// Hashes a new password off the executor.
    pub async fn hash_password(&self, password: NewPassword) -> Result<String> {
        self.cpu_work(move || password.hash()).await
    }

    /// Creates an account.
    pub async fn create_account(&self, actor: &Actor, a: NewAccount) -> Result<UserId> {
        let password_hash = self.hash_password(a.password).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let new = NewUser {
            username: a.username.clone(),
            password_hash,
            profile: a.profile.to_update(),
        };
        let id = match tx.insert_user(&new, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict) => return Err(AppError::UsernameTaken),
            Err(e) => return Err(e.into()),
        };
        let detail = format!("{} ({})", a.username, a.profile.role.as_str());
        tx.audit(&actor.entry("user.created", &target(id), &detail), now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Refuses a change that would leave no active administrator. Runs under
    /// [`ADMINISTRATORS_LOCK`], so two administrators demoting each other at the same moment
    /// cannot both succeed.
    async fn keep_an_administrator(&self, tx: &mut Tx, user: &User) -> Result<()> {
        if user.role() == Role::Administrator
            && user.active
            && tx.other_active_administrators(user.id).await? == 0
        {
            return Err(AppError::LastAdministrator);
        }
        Ok(())
    }

    /// Saves an account's profile, role and categories. Administrators cannot demote
    /// themselves, and the last active administrator cannot be demoted.
    pub async fn update_account(
        &self,
        actor: &Actor,
        id: UserId,
        change: &ProfileChange,
    ) -> Result<AccountChange> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.lock(ADMINISTRATORS_LOCK).await?;
        let user = tx.user(id).await?.ok_or(AppError::NotFound)?;
        let demoted = user.role() == Role::Administrator && change.role != Role::Administrator;
        if demoted {
            if actor.user_id == Some(id) {
                return Err(AppError::LastAdministrator);
            }
            self.keep_an_administrator(&mut tx, &user).await?;
        }
        let update = change.to_update();
        if !tx.update_user(id, &update, now).await? {
            return Err(AppError::NotFound);
        }
        let detail = format!(
            "role {} → {}; categories {}",
            user.role().as_str(),
            change.role.as_str(),
            if update.all_categories {
                "all".to_owned()
            } else {
                let ids: Vec<String> = update.categories.iter().map(ToString::to_string).collect();
                format!("[{}]", ids.join(", "))
            }
        );
        tx.audit(&actor.entry("user.updated", &target(id), &detail), now)
            .await?;
        tx.commit().await?;
        Ok(AccountChange {
            old_role: user.role(),
            new_role: change.role,
        })
    }

    /// Sets an account's password (an administrator's reset, or `bantin user passwd`); every
    /// session of the account ends.
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: UserId,
        password: NewPassword,
    ) -> Result<()> {
        let hash = self.hash_password(password).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.set_user_password(id, &hash, now).await? {
            return Err(AppError::NotFound);
        }
        tx.audit(&actor.entry("user.password_reset", &target(id), ""), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions. Nobody disables
    /// themselves, and the last active administrator stays.
    pub async fn set_active(&self, actor: &Actor, id: UserId, active: bool) -> Result<()> {
        if !active && actor.user_id == Some(id) {
            return Err(AppError::NotSelf);
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.lock(ADMINISTRATORS_LOCK).await?;
        let user = tx.user(id).await?.ok_or(AppError::NotFound)?;
        if !active {
            self.keep_an_administrator(&mut tx, &user).await?;
        }
        tx.set_user_active(id, active, now).await?;
        let action = if active {
            "user.enabled"
        } else {
            "user.disabled"
        };
        tx.audit(&actor.entry(action, &target(id), ""), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an account's two-step sign-in (a lost phone); it enrols again.
    pub async fn reset_two_step(&self, actor: &Actor, id: UserId) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.user(id).await?.ok_or(AppError::NotFound)?;
        tx.set_totp(id, None, &[], now).await?;
        tx.audit(&actor.entry("user.two_step_reset", &target(id), ""), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A signed-in account changes its own password after proving it knows the current one:
    /// every session ends and this browser continues in a new one.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        user: &User,
        current: String,
        new: NewPassword,
        user_agent: &str,
    ) -> Result<SessionStarted> {
        self.reauthenticate(actor, user, current).await?;
        let hash = self.hash_password(new).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.set_user_password(user.id, &hash, now).await?;
        let (token, session_id) =
            open_session(&mut tx, user.id, &actor.ip, user_agent, now).await?;
        tx.audit(
            &actor.entry("account.password_changed", &target(user.id), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SessionStarted {
            token,
            session_id,
            user: user.clone(),
        })
    }

    /// Turns two-step sign-in on once the password was given again and a code matched
    /// (`step`): the secret, the hashed backup codes, the code's time step claimed.
    pub async fn turn_two_step_on(
        &self,
        actor: &Actor,
        user: &User,
        password: String,
        secret: &str,
        step: i64,
        backup_code_hashes: &[String],
    ) -> Result<()> {
        self.reauthenticate(actor, user, password).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.set_totp(user.id, Some(secret), backup_code_hashes, now)
            .await?;
        tx.claim_totp_step(user.id, step).await?;
        tx.audit(
            &actor.entry("account.two_step_on", &target(user.id), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns two-step sign-in off after the password was given again, unless the role
    /// requires it (`required`).
    pub async fn turn_two_step_off(
        &self,
        actor: &Actor,
        user: &User,
        password: String,
        required: bool,
    ) -> Result<()> {
        if required {
            return Err(AppError::TwoStepRequired);
        }
        self.reauthenticate(actor, user, password).await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.set_totp(user.id, None, &[], now).await?;
        tx.audit(
            &actor.entry("account.two_step_off", &target(user.id), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues password-reset tokens for the active accounts whose username or email is
    /// `who` and that have an email address; returns each account with its raw token (for
    /// the link) — nothing when none matched, which the caller must not reveal.
    pub async fn request_password_reset(
        &self,
        actor: &Actor,
        who: &str,
    ) -> Result<Vec<(User, String)>> {
        let mut out = Vec::new();
        for u in self.store().users_by_login_or_email(who).await? {
            if u.email.is_empty() {
                continue;
            }
            let token = random_hex(32)?;
            let now = self.now();
            let mut tx = self.store().begin().await?;
            tx.insert_password_reset(&hash_token(&token), u.id, now)
                .await?;
            let who = Actor {
                user_id: Some(u.id),
                username: u.username.clone(),
                ip: actor.ip.clone(),
            };
            tx.audit(
                &who.entry("account.reset_requested", &target(u.id), ""),
                now,
            )
            .await?;
            tx.commit().await?;
            out.push((u, token));
        }
        Ok(out)
    }

    /// The account of a reset token that can still be used.
    pub async fn reset_link_user(&self, token: &str) -> Result<Option<UserId>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let not_before = self.now().minus(self.policy().reset_link_seconds);
        Ok(self
            .store()
            .password_reset_user(&hash_token(token), not_before)
            .await?)
    }

    /// Uses a reset token to set a new password: the token (and every other open token of
    /// the account) is used up, the password set and every session ended, in one
    /// transaction, so two tabs submitting at once cannot both succeed.
    pub async fn reset_password(&self, ip: &str, token: &str, new: NewPassword) -> Result<()> {
        if self.reset_link_user(token).await?.is_none() {
            return Err(AppError::InvalidResetLink);
        }
        let hash = self.hash_password(new).await?;
        let now = self.now();
        let not_before = now.minus(self.policy().reset_link_seconds);
        let mut tx = self.store().begin().await?;
        let Some(user_id) = tx
            .use_password_reset(&hash_token(token), not_before, now)
            .await?
        else {
            return Err(AppError::InvalidResetLink);
        };
        tx.set_user_password(user_id, &hash, now).await?;
        let username = tx
            .user(user_id)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        let actor = Actor {
            user_id: Some(user_id),
            username,
            ip: ip.to_owned(),
        };
        tx.audit(
            &actor.entry("account.password_reset_by_email", &target(user_id), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session of the acting account: `action` is `logout`, `session.expired` (the
    /// idle warning ran out) or `session.ended` (from the sessions page). False when it was
    /// not theirs or is gone.
    pub async fn end_session(
        &self,
        actor: &Actor,
        user_id: UserId,
        session: SessionId,
        action: &str,
    ) -> Result<bool> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.delete_session(user_id, session).await? {
            return Ok(false);
        }
        tx.audit(&actor.entry(action, &format!("session:{session}"), ""), now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends every other session of the acting account; returns how many.
    pub async fn end_other_sessions(
        &self,
        actor: &Actor,
        user_id: UserId,
        keep: SessionId,
    ) -> Result<u64> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let n = tx.delete_user_sessions(user_id, Some(keep)).await?;
        tx.audit(
            &actor.entry("session.ended_others", "", &format!("{n} sessions")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Creates the `admin` account of a new installation when there is no account yet;
    /// false when accounts exist (or another process created it first).
    pub async fn ensure_first_admin(&self, password: NewPassword) -> Result<bool> {
        if !self.store().users().await?.is_empty() {
            return Ok(false);
        }
        let account = NewAccount {
            username: Username::parse("admin")?,
            password,
            profile: ProfileChange {
                display_name: DisplayName::parse("Quản trị viên")?,
                email: Email::default(),
                role: Role::Administrator,
                all_categories: true,
                categories: Vec::new(),
            },
        };
        match self.create_account(&Actor::system(), account).await {
            Ok(_) => Ok(true),
            Err(AppError::UsernameTaken) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
