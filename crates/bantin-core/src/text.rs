//! Vietnamese text rules: NFC storage, diacritic folding for URLs and search, slugs.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Returns `s` in Unicode Normalization Form C, the form every stored text is kept in.
///
/// Vietnamese typed on some keyboards (and pasted from Word or PDFs) arrives decomposed
/// (`e` + U+0323 + U+0302); storing one form keeps slugs, search and comparisons consistent.
pub fn nfc(s: &str) -> String {
    if unicode_normalization::is_nfc(s) {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

/// Folds Vietnamese to plain lowercase ASCII-like letters: drops tone and vowel marks and
/// maps `đ`/`Đ` to `d` (which Unicode does not decompose). Used for slugs and for matching
/// text typed without diacritics.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Longest slug we generate, in bytes; long Vietnamese titles otherwise make unwieldy URLs.
pub const MAX_SLUG_LEN: usize = 120;

/// A URL segment: lowercase `a-z`, `0-9` and single `-` between runs, never empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// Why a string is not a valid slug.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    /// The input had nothing to make a slug from.
    #[error("đường dẫn rỗng")]
    Empty,
    /// The input holds characters a slug may not.
    #[error("đường dẫn chỉ được chứa chữ thường không dấu, số và dấu gạch ngang")]
    Invalid,
    /// The input is longer than [`MAX_SLUG_LEN`].
    #[error("đường dẫn quá dài")]
    TooLong,
}

impl Slug {
    /// Makes a slug from any text, e.g. a title: folds diacritics (`đ` → `d`), transliterates
    /// what remains with `deunicode`, and joins runs of letters and digits with `-`.
    pub fn from_title(title: &str) -> Result<Self, SlugError> {
        let folded = deunicode::deunicode(&fold(title));
        let mut out = String::with_capacity(folded.len());
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        if out.len() > MAX_SLUG_LEN {
            // Cut at a word boundary so the URL stays readable.
            let cut = out[..MAX_SLUG_LEN].rfind('-').unwrap_or(MAX_SLUG_LEN);
            out.truncate(cut);
        }
        if out.is_empty() {
            return Err(SlugError::Empty);
        }
        Ok(Self(out))
    }

    /// Accepts a string that is already a slug (from a URL or a form), rejecting anything else.
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        if s.is_empty() {
            return Err(SlugError::Empty);
        }
        if s.len() > MAX_SLUG_LEN {
            return Err(SlugError::TooLong);
        }
        let valid = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(SlugError::Invalid)
        }
    }

    /// This slug with `-{n}` after it, shortened at a word boundary to stay within
    /// [`MAX_SLUG_LEN`] (to tell apart articles whose titles make the same slug).
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let mut base = self.0.clone();
        if base.len() + suffix.len() > MAX_SLUG_LEN {
            let cut = base[..MAX_SLUG_LEN - suffix.len()]
                .rfind('-')
                .unwrap_or(MAX_SLUG_LEN - suffix.len());
            base.truncate(cut);
        }
        Self(base + &suffix)
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The alt text NukeViet's file manager derives from an upload's file name, which readers of
/// migrated portals see everywhere: folder and extension dropped, every run of `_`, `-` or
/// whitespace turned into one space (`DSC_5191.JPG` → `DSC 5191`).
pub fn alt_from_filename(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    };
    let mut out = String::with_capacity(stem.len());
    for c in stem.chars() {
        if c == '_' || c == '-' || c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim_end().to_owned()
}

impl std::str::FromStr for Slug {
    type Err = SlugError;

    fn from_str(s: &str) -> Result<Self, SlugError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_decomposed_vietnamese() {
        let decomposed = "Vie\u{0323}\u{0302}t Nam";
        assert_eq!(nfc(decomposed), "Việt Nam");
        assert_eq!(nfc("Việt Nam"), "Việt Nam");
        assert!(unicode_normalization::is_nfc(&nfc("Đảng bộ Thành phố")));
    }

    #[test]
    fn fold_drops_marks_and_maps_d() {
        assert_eq!(fold("Đảng bộ Thành phố"), "dang bo thanh pho");
        assert_eq!(fold("Vie\u{0323}\u{0302}t"), "viet");
        assert_eq!(fold("ĐÀ NẴNG"), "da nang");
        assert_eq!(fold("ươ ữ ỹ"), "uo u y");
    }

    #[test]
    fn fold_is_idempotent_on_every_character() {
        // Folding works character by character after NFD, so checking every scalar value
        // covers what random strings would find only by luck (a lowercase form that itself
        // decomposes, say).
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let once = fold(c.encode_utf8(&mut [0; 4]));
            assert_eq!(fold(&once), once, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn slug_of_the_seed_title() {
        let slug = Slug::from_title("Đảng bộ Thành phố học tập và làm theo gương Bác").unwrap();
        assert_eq!(
            slug.as_str(),
            "dang-bo-thanh-pho-hoc-tap-va-lam-theo-guong-bac"
        );
    }

    #[test]
    fn slug_collapses_punctuation_and_trims() {
        let slug = Slug::from_title("  Kinh tế - Xã hội: “2023”!  ").unwrap();
        assert_eq!(slug.as_str(), "kinh-te-xa-hoi-2023");
        assert_eq!(Slug::from_title("!!!"), Err(SlugError::Empty));
        let long =
            Slug::parse(&"ab-".repeat(MAX_SLUG_LEN / 3).trim_end_matches('-')[..MAX_SLUG_LEN - 1])
                .unwrap();
        let numbered = long.numbered(12);
        assert!(numbered.as_str().len() <= MAX_SLUG_LEN);
        assert!(numbered.as_str().ends_with("-12"));
        assert_eq!(Slug::parse(numbered.as_str()), Ok(numbered.clone()));
        assert_eq!(
            Slug::parse("thong-bao").unwrap().numbered(2).as_str(),
            "thong-bao-2"
        );
    }

    #[test]
    fn slug_is_bounded() {
        let long = "Tiêu đề rất dài ".repeat(40);
        let slug = Slug::from_title(&long).unwrap();
        assert!(slug.as_str().len() <= MAX_SLUG_LEN);
        assert!(!slug.as_str().ends_with('-'));
    }

    #[test]
    fn slug_parse_rejects_non_slugs() {
        assert!(Slug::parse("xay-dung-dang").is_ok());
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse("Xay-dung"), Err(SlugError::Invalid));
        assert_eq!(Slug::parse("xây"), Err(SlugError::Invalid));
        assert_eq!(Slug::parse("-a"), Err(SlugError::Invalid));
        assert_eq!(Slug::parse("a--b"), Err(SlugError::Invalid));
        assert_eq!(Slug::parse(&"a".repeat(500)), Err(SlugError::TooLong));
    }

    #[test]
    fn alt_from_upload_names() {
        assert_eq!(alt_from_filename("DSC_5191.JPG"), "DSC 5191");
        assert_eq!(
            alt_from_filename(
                "uploads/news/2022_10/309993665_638201641009624_332414883047958941_n.jpg"
            ),
            "309993665 638201641009624 332414883047958941 n"
        );
        assert_eq!(
            alt_from_filename("00702_MTS_00_00_01_24_Still001.jpg"),
            "00702 MTS 00 00 01 24 Still001"
        );
        assert_eq!(alt_from_filename("a__b - c.png"), "a b c");
    }
}
