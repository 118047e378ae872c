//! Newsroom accounts: usernames, the password policy, password hashes (Argon2id) and roles.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Longest input we look at before rejecting it, so hashing never runs on huge bodies.
pub const MAX_INPUT_BYTES: usize = 1024;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Passwords of ten or more characters seen most often in leaks (see the file's header).
const LEAKED_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Both lists, squashed the way input is compared: lower case, no whitespace.
static COMMON: std::sync::LazyLock<std::collections::HashSet<String>> =
    std::sync::LazyLock::new(|| {
        LEAKED_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .chain(COMMON_PASSWORDS.iter().copied())
            .map(squash)
            .collect()
    });

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

/// Vietnamese favourites and a few classics; compared case-insensitively after removing
/// spaces, like the leaked list.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "123456789abc",
    "0123456789",
    "1111111111",
    "0000000000",
    "1234512345",
    "1122334455",
    "9876543210",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "zaq12wsxcde",
    "asdfghjkl1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "iloveyou123",
    "abcd123456",
    "abc1234567",
    "abcdefghij",
    "admin12345",
    "admin123456",
    "administrator",
    "letmein123",
    "welcome123",
    "football12",
    "baseball12",
    "sunshine12",
    "princess12",
    "dragon1234",
    "monkey1234",
    "superman12",
    "trustno1234",
    "matkhau123",
    "matkhau1234",
    "matkhaumoi",
    "anhyeuem123",
    "emyeuanh123",
    "yeuemnhieu",
    "vietnam123",
    "vietnam1234",
    "hanoi12345",
    "saigon1234",
    "congthongtin",
    "bantin12345",
    "quantri123",
    "quantrivien",
    "thanhuy123",
    "ubnd123456",
    "caobang123",
    "changeme123",
];

/// Why an account input was refused. Messages are Vietnamese: they reach the newsroom.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    /// Over [`MAX_INPUT_BYTES`].
    #[error("dữ liệu quá dài")]
    TooLong,
    /// Control characters in the input.
    #[error("dữ liệu chứa ký tự điều khiển")]
    ControlCharacters,
    /// A username outside the allowed form.
    #[error(
        "tên đăng nhập phải dài 3–32 ký tự, gồm chữ thường không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang"
    )]
    BadUsername,
    /// A password under [`MIN_PASSWORD_CHARS`].
    #[error("mật khẩu phải có ít nhất 10 ký tự")]
    PasswordTooShort,
    /// A password from the common-password list.
    #[error("mật khẩu này quá phổ biến, hãy chọn mật khẩu khác")]
    PasswordTooCommon,
    /// An unknown role name.
    #[error("vai trò không hợp lệ (administrator, editor-in-chief, editor)")]
    BadRole,
    /// A display name over [`DisplayName::MAX_CHARS`] or with control characters.
    #[error("tên hiển thị tối đa 100 ký tự, không chứa ký tự điều khiển")]
    BadDisplayName,
    /// Not an email address.
    #[error("địa chỉ email không hợp lệ")]
    BadEmail,
}

/// The name shown to others: up to [`DisplayName::MAX_CHARS`] characters, no control
/// characters, trimmed, NFC. May be empty (the username is shown then).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest display name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Checks and normalises a display name.
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        let s = crate::nfc(s.trim());
        if s.chars().count() > Self::MAX_CHARS || s.chars().any(char::is_control) {
            return Err(AccountError::BadDisplayName);
        }
        Ok(Self(s))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address for password resets, or none (empty). Only its shape is checked: one
/// `@` with something on both sides, no spaces or control characters, at most 254 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks an address; an empty string is "no address".
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self::default());
        }
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_control() || c.is_whitespace())
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(AccountError::BadEmail)
        }
    }

    /// The address, empty when there is none.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is no address.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_raw(s: &str) -> Result<(), AccountError> {
    if s.len() > MAX_INPUT_BYTES {
        return Err(AccountError::TooLong);
    }
    if s.chars().any(char::is_control) {
        return Err(AccountError::ControlCharacters);
    }
    Ok(())
}

/// A sign-in name: 3–32 of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Accepts a username typed in any case (stored lowercase).
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        check_raw(s)?;
        let s = s.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && s.as_bytes()[0].is_ascii_alphanumeric();
        if ok {
            Ok(Self(s))
        } else {
            Err(AccountError::BadUsername)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy. Not `Debug`-printable, so it never reaches a log.
pub struct NewPassword(String);

impl NewPassword {
    /// Applies the policy: at most 1 KiB, no control characters, at least ten characters,
    /// not a common password.
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        check_raw(s)?;
        if s.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountError::PasswordTooShort);
        }
        if COMMON.contains(&squash(s)) {
            return Err(AccountError::PasswordTooCommon);
        }
        Ok(Self(s.to_owned()))
    }

    /// Hashes with Argon2id (PHC string, parameters inside so they can be raised later).
    /// CPU-heavy by design: call it off the async executor.
    pub fn hash(&self) -> String {
        // A random salt comes from the operating system.
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .expect("Argon2 with default parameters hashes any password")
            .to_string()
    }
}

/// Checks `password` against a stored PHC hash. CPU-heavy: call it off the async executor.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_INPUT_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including users and settings.
    Administrator,
    /// Reviews, approves, schedules, publishes and unpublishes in assigned categories.
    EditorInChief,
    /// Writes and edits own drafts, submits them for review.
    Editor,
}

impl Role {
    /// The stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
            Self::EditorInChief => "editor-in-chief",
            Self::Editor => "editor",
        }
    }
}

impl FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "administrator" => Ok(Self::Administrator),
            "editor-in-chief" => Ok(Self::EditorInChief),
            "editor" => Ok(Self::Editor),
            _ => Err(AccountError::BadRole),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_display_names() {
        assert!(Email::parse("").unwrap().is_empty());
        assert_eq!(Email::parse(" a@b.vn ").unwrap().as_str(), "a@b.vn");
        for bad in ["a", "@b", "a@", "a b@c", "a@b@c", "a\n@b"] {
            assert_eq!(Email::parse(bad), Err(AccountError::BadEmail), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@b.vn", "x".repeat(260))),
            Err(AccountError::BadEmail)
        );
        assert_eq!(
            DisplayName::parse("  Hà Ngọc  ").unwrap().as_str(),
            "Hà Ngọc"
        );
        assert!(DisplayName::parse(&"ạ".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Admin ").unwrap().as_str(), "admin");
        assert!(Username::parse("bien.tap-vien_1").is_ok());
        for bad in [
            "ab",
            "",
            "-abc",
            "tên",
            "a b c",
            &"a".repeat(33),
            "abc\u{0}",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Username::parse(&"a".repeat(2000)),
            Err(AccountError::TooLong)
        );
    }

    #[test]
    fn password_policy() {
        assert!(NewPassword::parse("Cao Bằng mùa thu 2026").is_ok());
        assert!(matches!(
            NewPassword::parse("ngắn"),
            Err(AccountError::PasswordTooShort)
        ));
        assert!(matches!(
            NewPassword::parse("Password123"),
            Err(AccountError::PasswordTooCommon)
        ));
        assert!(matches!(
            NewPassword::parse("mat khau 123"),
            Err(AccountError::PasswordTooCommon)
        ));
        // From the leaked list, in any case.
        for leaked in ["Qwertyuiop123", "1qaz2wsx3edc4rfv", "PASSWORD1234"] {
            assert!(
                matches!(
                    NewPassword::parse(leaked),
                    Err(AccountError::PasswordTooCommon)
                ),
                "{leaked}"
            );
        }
        assert!(COMMON.len() > 1500);
        assert!(matches!(
            NewPassword::parse("dài đủ rồi\nnhưng"),
            Err(AccountError::ControlCharacters)
        ));
        assert!(matches!(
            NewPassword::parse(&"x".repeat(1025)),
            Err(AccountError::TooLong)
        ));
    }

    #[test]
    fn hashes_verify_and_differ() {
        let p = NewPassword::parse("một mật khẩu đủ dài").unwrap();
        let a = p.hash();
        let b = p.hash();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password("một mật khẩu đủ dài", &a));
        assert!(!verify_password("một mật khẩu đủ dài!", &a));
        assert!(!verify_password("một mật khẩu đủ dài", "not a hash"));
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Administrator, Role::EditorInChief, Role::Editor] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
