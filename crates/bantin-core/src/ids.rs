//! Typed ids, so an article id can never be passed where a user id is expected. They wrap
//! the database's `BIGINT` keys; with the `sqlx` feature they bind and decode as one.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a key read from the database or a trusted source.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The key as the database stores it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            /// Parses an id from a URL or form: decimal digits only, positive, at most 18
            /// digits (so it always fits an `i64`).
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(InvalidId);
                }
                let n: i64 = s.parse().map_err(|_| InvalidId)?;
                if n > 0 { Ok(Self(n)) } else { Err(InvalidId) }
            }
        }
    };
}

/// A string that is not an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

id_type!(
    /// An article.
    ArticleId
);
id_type!(
    /// A category.
    CategoryId
);
id_type!(
    /// A tag.
    TagId
);
id_type!(
    /// A newsroom account.
    UserId
);
id_type!(
    /// A signed-in session.
    SessionId
);
id_type!(
    /// A row of the change feed; ids grow with every committed change.
    ChangeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_ids() {
        assert_eq!("42".parse::<ArticleId>(), Ok(ArticleId::new(42)));
        assert_eq!("007".parse::<UserId>(), Ok(UserId::new(7)));
        for bad in ["", "0", "-1", "+1", "1.0", " 1", "9999999999999999999", "x"] {
            assert!(bad.parse::<CategoryId>().is_err(), "{bad}");
        }
    }
}
