//! API tokens: created by a user (or the command line) for that user, shown once, stored as
//! the SHA-256 of 256 random bits, revocable, optionally read-only or expiring. A token acts
//! with its account's rights as they are at each request, so a demoted or disabled account's
//! tokens lose those rights at once.

use bantin_core::access::Rights;
use bantin_core::account::Role;
use bantin_core::{UnixTime, UserId, nfc};
use bantin_store::{ApiToken, NewApiToken, User};

use crate::signin::hash_token;
use crate::{Actor, App, AppError, Result, random_hex};

/// What every token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "bantin_";

/// Seconds between two writes of a token's last use.
const TOUCH_EVERY: i64 = 60;

/// A token's name as its owner gave it: 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    /// The name, trimmed and in NFC, if it is acceptable.
    pub fn parse(s: &str) -> Option<Self> {
        let s = nfc(s.trim());
        let n = s.chars().count();
        ((1..=100).contains(&n) && !s.chars().any(char::is_control)).then_some(Self(s))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A token just created: the only moment its value is known.
#[derive(Clone, Debug)]
pub struct TokenCreated {
    /// Its id.
    pub id: i64,
    /// The token to give to the client (`bantin_` and 64 hex digits).
    pub token: String,
}

/// Who a valid token acts for.
#[derive(Clone, Debug)]
pub struct TokenHolder {
    /// The token.
    pub token: ApiToken,
    /// Its account.
    pub user: User,
    /// The account's rights now.
    pub rights: Rights,
}

impl TokenHolder {
    /// The account acting through this token from `ip`, for audit entries.
    pub fn actor(&self, ip: &str) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            ip: ip.to_owned(),
        }
    }
}

/// What a presented token turned out to be.
#[derive(Clone, Debug)]
pub enum TokenCheck {
    /// Usable: it acts for this account.
    Valid(Box<TokenHolder>),
    /// Not a token of ours (or malformed).
    Unknown,
    /// Revoked by its owner or an administrator.
    Revoked,
    /// Past its expiry time.
    Expired,
    /// Its account is disabled.
    AccountDisabled,
}

/// Whether `s` has the shape of a token this server issues.
fn well_formed(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl App {
    /// An account's rights now: its role and, unless it acts everywhere, its categories.
    pub async fn rights_of(&self, user: &User) -> Result<Rights> {
        let role = user.role();
        let all = user.all_categories || role == Role::Administrator;
        let categories = if all {
            Vec::new()
        } else {
            self.store().user_categories(user.id).await?
        };
        Ok(Rights {
            role,
            all_categories: all,
            categories,
        })
    }

    /// Creates a token for `user_id`; the value is returned once and only its hash kept.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: UserId,
        name: &TokenName,
        read_only: bool,
        expires_at: Option<UnixTime>,
    ) -> Result<TokenCreated> {
        let token = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if tx.user(user_id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let id = tx
            .insert_api_token(
                &NewApiToken {
                    user_id,
                    name: name.as_str(),
                    token_hash: &hash_token(&token),
                    read_only,
                    expires_at,
                },
                now,
            )
            .await?;
        let detail = format!(
            "{}{}",
            name.as_str(),
            if read_only { " (read-only)" } else { "" }
        );
        tx.audit(
            &actor.entry("token.created", &format!("token:{id}"), &detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(TokenCreated { id, token })
    }

    /// Revokes token `id` of `owner` (any account's, `None`: an administrator or the command
    /// line). [`AppError::NotFound`] when there is no such unrevoked token.
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        id: i64,
        owner: Option<UserId>,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.revoke_api_token(id, owner, now).await? {
            return Err(AppError::NotFound);
        }
        tx.audit(
            &actor.entry("token.revoked", &format!("token:{id}"), ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a presented token from `ip`; a valid one's use is recorded (at most once a
    /// minute).
    pub async fn check_api_token(&self, token: &str, ip: &str) -> Result<TokenCheck> {
        if !well_formed(token) {
            return Ok(TokenCheck::Unknown);
        }
        let store = self.store();
        let Some(t) = store.api_token_by_hash(&hash_token(token)).await? else {
            return Ok(TokenCheck::Unknown);
        };
        let now = self.now();
        if t.revoked_at.is_some() {
            return Ok(TokenCheck::Revoked);
        }
        if !t.usable(now) {
            return Ok(TokenCheck::Expired);
        }
        let Some(user) = store.user(t.user_id).await? else {
            return Ok(TokenCheck::Unknown);
        };
        if !user.active {
            return Ok(TokenCheck::AccountDisabled);
        }
        if t.last_used_at.is_none_or(|at| now.since(at) >= TOUCH_EVERY) || t.last_used_ip != ip {
            store.touch_api_token(t.id, now, ip).await?;
        }
        let rights = self.rights_of(&user).await?;
        Ok(TokenCheck::Valid(Box::new(TokenHolder {
            token: t,
            user,
            rights,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(well_formed(&format!("bantin_{}", "a".repeat(64))));
        assert!(!well_formed(&format!("bantin_{}", "g".repeat(64))));
        assert!(!well_formed(&"a".repeat(71)));
        assert!(TokenName::parse("  CI  ").is_some_and(|n| n.as_str() == "CI"));
        assert!(TokenName::parse("").is_none());
        assert!(TokenName::parse("a\u{7}").is_none());
        assert!(TokenName::parse(&"x".repeat(101)).is_none());
    }
}
