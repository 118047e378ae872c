//! Signing in: the password, then the two-step code when the account has one. The lockout
//! (too many failures of one name from one address) is decided inside the transaction that
//! records a failure or starts a session, after the password was checked, so concurrent
//! attempts cannot slip past it.

use std::sync::LazyLock;

use bantin_core::account::{NewPassword, Username, verify_password};
use bantin_core::totp::TotpSecret;
use bantin_core::{SessionId, UnixTime};
use bantin_store::{LoginAttempt, Tx, User};
use sha2::{Digest, Sha256};

use crate::{Actor, App, AppError, Policy, Result, random_hex};

/// Longest failure key: the name as typed, trimmed and lower-cased, cut to this many
/// characters.
pub const FAILURE_KEY_CHARS: usize = 64;

/// The key failures are counted under: the name as typed, normalised and bounded (unknown
/// names lock too, so the answer never tells whether an account exists).
pub fn failure_key(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(FAILURE_KEY_CHARS)
        .collect()
}

/// SHA-256 of a session or reset token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the username does not exist, so a wrong name costs the same
/// time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    NewPassword::parse("không có tài khoản này, chỉ để đo thời gian")
        .expect("the dummy password meets the policy")
        .hash()
});

/// A session that was just started: the raw token goes into the cookie, never into the
/// database.
#[derive(Clone, Debug)]
pub struct SessionStarted {
    /// The random token (hex, 256 bits).
    pub token: String,
    /// The new session.
    pub session_id: SessionId,
    /// The account.
    pub user: User,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Started(SessionStarted),
    /// The account has two-step sign-in: the code comes next.
    SecondStep(User),
}

/// Until when the pair is locked, given its failure times (oldest first): any
/// `login_max_failures` failures within `login_failure_window` lock it for
/// `login_lock_seconds` after the last of them.
fn locked_until(p: &Policy, failures: &[UnixTime]) -> Option<UnixTime> {
    let n = p.login_max_failures.max(1);
    failures
        .windows(n)
        .filter(|w| w[n - 1].since(w[0]) <= p.login_failure_window)
        .map(|w| w[n - 1].plus(p.login_lock_seconds))
        .max()
}

impl App {
    fn failures_since(&self, now: UnixTime) -> UnixTime {
        let p = self.policy();
        now.minus(p.login_lock_seconds + p.login_failure_window)
    }

    /// Seconds until (name, address) may try again, if it is locked now: the cheap check
    /// before any password is hashed.
    pub async fn locked_for(&self, key: &str, ip: &str) -> Result<Option<i64>> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let locked = self
            .locked_in(&mut tx, LoginAttempt { key, ip }, now)
            .await?;
        tx.commit().await?;
        Ok(locked)
    }

    async fn locked_in(
        &self,
        tx: &mut Tx,
        who: LoginAttempt<'_>,
        now: UnixTime,
    ) -> Result<Option<i64>> {
        let failures = tx.login_attempts(who, self.failures_since(now)).await?;
        Ok(locked_until(self.policy(), &failures)
            .filter(|u| *u > now)
            .map(|u| u.since(now)))
    }

    /// Records a failed attempt with its audit entry, and the lock it causes, in one
    /// transaction; the error says which.
    async fn fail(&self, who: LoginAttempt<'_>, user: Option<&User>, why: &str) -> AppError {
        match self.record_failure(who, user, why).await {
            Ok(Some(secs)) => AppError::Locked(secs),
            Ok(None) => AppError::WrongCredentials,
            Err(e) => e,
        }
    }

    async fn record_failure(
        &self,
        who: LoginAttempt<'_>,
        user: Option<&User>,
        why: &str,
    ) -> Result<Option<i64>> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.lock(&format!("login:{}:{}", who.key, who.ip)).await?;
        let was_locked = self.locked_in(&mut tx, who, now).await?.is_some();
        tx.add_login_attempt(who, now).await?;
        let actor = Actor {
            user_id: user.map(|u| u.id),
            username: who.key.to_owned(),
            ip: who.ip.to_owned(),
        };
        tx.audit(&actor.entry("login.failed", "", why), now).await?;
        let locked = self.locked_in(&mut tx, who, now).await?;
        if locked.is_some() && !was_locked {
            tx.audit(&actor.entry("login.locked", "", ""), now).await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    /// Checks a name and password from `ip`. Returns the new session, or the account
    /// waiting for its two-step code; refuses with [`AppError::Locked`] or
    /// [`AppError::WrongCredentials`] (the same for unknown names, wrong passwords and
    /// disabled accounts). `replaces` is the token of a session the browser still holds: it
    /// ends, so every sign-in gets a new session id.
    pub async fn sign_in(
        &self,
        ip: &str,
        username: &str,
        password: String,
        replaces: Option<&str>,
        user_agent: &str,
    ) -> Result<SignIn> {
        let key = failure_key(username);
        let who = LoginAttempt { key: &key, ip };
        if let Some(secs) = self.locked_for(&key, ip).await? {
            return Err(AppError::Locked(secs));
        }
        let user = match Username::parse(username) {
            Ok(u) => self.store().user_by_username(&u).await?,
            Err(_) => None,
        };
        let hash = user
            .as_ref()
            .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash().to_owned());
        let ok = self
            .cpu_work(move || verify_password(&password, &hash))
            .await?;
        let user = match user {
            None => return Err(self.fail(who, None, "unknown user").await),
            Some(u) if !ok => return Err(self.fail(who, Some(&u), "wrong password").await),
            Some(u) if !u.active => {
                return Err(self.fail(who, Some(&u), "account disabled").await);
            }
            Some(u) => u,
        };
        if user.totp_secret().is_some() {
            // Checked again after the hash: failures recorded meanwhile count.
            if let Some(secs) = self.locked_for(&key, ip).await? {
                return Err(AppError::Locked(secs));
            }
            return Ok(SignIn::SecondStep(user));
        }
        let mut tx = self.store().begin().await?;
        tx.lock(&format!("login:{key}:{ip}")).await?;
        if let Some(secs) = self.locked_in(&mut tx, who, self.now()).await? {
            return Err(AppError::Locked(secs));
        }
        let started = self
            .start_session(tx, who, user, replaces, user_agent)
            .await?;
        Ok(SignIn::Started(started))
    }

    /// Checks the two-step code (or a backup code, given as its keyed hash) of an account
    /// whose password was just verified, and signs it in.
    pub async fn sign_in_second_step(
        &self,
        ip: &str,
        user: User,
        code: &str,
        backup_code_hash: Option<String>,
        replaces: Option<&str>,
        user_agent: &str,
    ) -> Result<SessionStarted> {
        let key = failure_key(&user.username);
        let who = LoginAttempt { key: &key, ip };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.lock(&format!("login:{key}:{ip}")).await?;
        if let Some(secs) = self.locked_in(&mut tx, who, now).await? {
            return Err(AppError::Locked(secs));
        }
        let step = user
            .totp_secret()
            .and_then(TotpSecret::from_stored)
            .and_then(|s| s.verify(code, now));
        let ok = match (step, backup_code_hash) {
            (Some(step), _) => tx.claim_totp_step(user.id, step).await?,
            (None, Some(hash)) => tx.use_backup_code(user.id, &hash, now).await?,
            (None, None) => false,
        };
        if !ok {
            drop(tx);
            return Err(self.fail(who, Some(&user), "wrong two-step code").await);
        }
        self.start_session(tx, who, user, replaces, user_agent)
            .await
    }

    /// Starts a session in `tx`: ends the one being replaced, forgets the pair's failures,
    /// writes the session and its audit entry, commits.
    async fn start_session(
        &self,
        mut tx: Tx,
        who: LoginAttempt<'_>,
        user: User,
        replaces: Option<&str>,
        user_agent: &str,
    ) -> Result<SessionStarted> {
        let now = self.now();
        if let Some(old) = replaces
            && let Some(s) = tx.session_by_token(&hash_token(old)).await?
        {
            tx.delete_session(s.user_id, s.id).await?;
        }
        tx.clear_login_attempts(who).await?;
        let (token, session_id) = open_session(&mut tx, user.id, who.ip, user_agent, now).await?;
        let actor = Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            ip: who.ip.to_owned(),
        };
        tx.audit(
            &actor.entry("login", &format!("session:{session_id}"), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SessionStarted {
            token,
            session_id,
            user,
        })
    }

    /// Checks the password of a signed-in account before a sensitive change (its password,
    /// two-step sign-in). Failures count towards the same lockout as sign-in and are audited
    /// like it, so a stolen session cannot guess the password without limit.
    pub async fn reauthenticate(&self, actor: &Actor, user: &User, password: String) -> Result<()> {
        let key = failure_key(&user.username);
        let who = LoginAttempt {
            key: &key,
            ip: &actor.ip,
        };
        if let Some(secs) = self.locked_for(&key, &actor.ip).await? {
            return Err(AppError::Locked(secs));
        }
        let hash = user.password_hash().to_owned();
        let ok = self
            .cpu_work(move || verify_password(&password, &hash))
            .await?;
        if !ok {
            return Err(self
                .fail(who, Some(user), "wrong password (re-authentication)")
                .await);
        }
        // Failures recorded while this hash ran count.
        if let Some(secs) = self.locked_for(&key, &actor.ip).await? {
            return Err(AppError::Locked(secs));
        }
        Ok(())
    }
}

/// Writes a new session of `user_id` in `tx`; the raw token goes back to the caller for the
/// cookie, only its hash into the table.
pub(crate) async fn open_session(
    tx: &mut Tx,
    user_id: bantin_core::UserId,
    ip: &str,
    user_agent: &str,
    now: UnixTime,
) -> Result<(String, SessionId)> {
    let token = random_hex(32)?;
    let ua: String = user_agent.chars().take(256).collect();
    let id = tx
        .insert_session(&hash_token(&token), user_id, now, ip, &ua)
        .await?;
    Ok((token, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_windows() {
        let p = Policy::default();
        let t = |s: i64| UnixTime::from_second(1_000_000 + s);
        assert_eq!(locked_until(&p, &[t(0), t(1), t(2), t(3)]), None);
        assert_eq!(
            locked_until(&p, &[t(0), t(1), t(2), t(3), t(300)]),
            Some(t(300 + 1800))
        );
        assert_eq!(locked_until(&p, &[t(0), t(1), t(2), t(3), t(301)]), None);
        assert_eq!(failure_key("  ADMIN "), "admin");
        assert_eq!(failure_key(&"x".repeat(500)).len(), FAILURE_KEY_CHARS);
    }
}
