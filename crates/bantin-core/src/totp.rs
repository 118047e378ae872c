//! Two-step sign-in: time-based one-time codes (RFC 6238, what authenticator apps speak) and
//! one-time backup codes.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Bytes of a new shared secret (160 bits, the RFC's recommendation for SHA-1).
const SECRET_BYTES: usize = 20;

/// How many backup codes an account gets.
pub const BACKUP_CODES: usize = 10;

/// A TOTP shared secret. Not `Debug`-printable, so it never reaches a log.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system provides randomness");
        Self(bytes)
    }

    /// Reads the stored form ([`TotpSecret::to_stored`]).
    pub fn from_stored(s: &str) -> Option<Self> {
        let bytes = Secret::try_from_base32(s).ok()?.as_bytes().to_vec();
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    /// Base32, the form people type into an authenticator app and the form stored.
    pub fn to_stored(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, issuer: &str, account: &str) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(self.0.clone())
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "))
            .build()
            .ok()
    }

    /// The `otpauth://` address a QR code carries.
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        self.totp(issuer, account)
            .and_then(|t| t.to_url().ok())
            .unwrap_or_default()
    }

    /// The time step `code` is valid for at `now` (one step of clock drift either way).
    pub fn verify(&self, code: &str, now: crate::UnixTime) -> Option<i64> {
        let now = now.as_second();
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp("bantin", "user")?;
        totp.check(&code, u64::try_from(now).ok()?)
            .and_then(|s| i64::try_from(s).ok())
    }

    /// The code for `now` (for tests and the enrolment check).
    pub fn code_at(&self, now: crate::UnixTime) -> String {
        let now = now.as_second();
        self.totp("bantin", "user")
            .map(|t| t.generate(u64::try_from(now).unwrap_or(0)).to_string())
            .unwrap_or_default()
    }
}

/// Ten fresh backup codes, `xxxx-xxxx` from an alphabet without look-alikes (40 bits each).
pub fn new_backup_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..BACKUP_CODES)
        .map(|_| {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).expect("the operating system provides randomness");
            let s: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &s[..4], &s[4..])
        })
        .collect()
}

/// A backup code as typed, in the form it was issued: spaces dropped, lowercase, dash restored.
pub fn normalize_backup_code(s: &str) -> Option<String> {
    if s.len() > 64 {
        return None;
    }
    let c: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (c.len() == 8).then(|| format!("{}-{}", &c[..4], &c[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_drift() {
        let s = TotpSecret::generate();
        let stored = s.to_stored();
        let back = TotpSecret::from_stored(&stored).unwrap();
        let now = crate::UnixTime::from_second(1_800_000_000);
        let code = back.code_at(now);
        assert_eq!(code.len(), 6);
        assert!(s.verify(&code, now).is_some());
        assert!(s.verify(&code, now.plus(30)).is_some(), "one step of drift");
        assert!(s.verify(&code, now.plus(90)).is_none());
        assert!(s.verify("12345", now).is_none());
        assert!(s.verify("abcdef", now).is_none());
        assert!(
            s.otpauth_url("Cổng: Cao Bằng", "admin")
                .starts_with("otpauth://totp/")
        );
    }

    #[test]
    fn backup_codes() {
        let codes = new_backup_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 9 && &c[4..5] == "-"));
        assert_eq!(
            normalize_backup_code(" ABCD efgh ").as_deref(),
            Some("abcd-efgh")
        );
        assert_eq!(normalize_backup_code("abc"), None);
    }
}
