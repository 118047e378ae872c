//! Keyed hashes and tokens derived from the installation secret (kept in the database, so
//! every process shares it): CSRF tokens, the session cookie's MAC, rating tokens.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks with the installation secret.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    /// A signer over `secret` (at least 64 bytes).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac
    }

    /// A hex token binding `data` to `purpose`, 128 bits.
    pub fn token(&self, purpose: &str, data: &[u8]) -> String {
        let bytes = self.mac(purpose, data).finalize().into_bytes();
        hex::encode(&bytes[..16])
    }

    /// Checks a token from [`Signer::token`] in constant time.
    pub fn verify(&self, purpose: &str, data: &[u8], token: &str) -> bool {
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        bytes.len() == 16
            && self
                .mac(purpose, data)
                .verify_truncated_left(&bytes)
                .is_ok()
    }

    /// The session cookie's value for a session token: the token and its MAC.
    pub fn session_cookie(&self, token: &str) -> String {
        format!("{token}.{}", self.token("session-cookie", token.as_bytes()))
    }

    /// The session token of a cookie value, if the value is one we issued: a cheap check (one
    /// HMAC, no database) that tells a real session from a made-up cookie, so only real
    /// sessions bypass the page cache.
    pub fn session_token<'a>(&self, cookie: &'a str) -> Option<&'a str> {
        let (token, mac) = cookie.split_once('.')?;
        (token.len() == 64
            && token.bytes().all(|b| b.is_ascii_hexdigit())
            && self.verify("session-cookie", token.as_bytes(), mac))
        .then_some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_are_recognised_only_when_issued() {
        let s = Signer::new(&[7u8; 64]);
        let token = "ab".repeat(32);
        let value = s.session_cookie(&token);
        assert_eq!(s.session_token(&value), Some(token.as_str()));
        assert_eq!(s.session_token(&token), None);
        assert_eq!(
            s.session_token(&format!("{token}.{}", "0".repeat(32))),
            None
        );
        let other = Signer::new(&[8u8; 64]);
        assert_eq!(other.session_token(&value), None);
        assert_eq!(s.session_token("x.y"), None);
    }
}
