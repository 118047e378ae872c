//! The UI string catalogue: every visible string of the interface, Vietnamese by default,
//! English available. Templates look strings up with `t("key", name=value)`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

const VI: &str = include_str!("../i18n/vi.toml");
const EN: &str = include_str!("../i18n/en.toml");

/// An interface language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Vietnamese, the default.
    Vi,
    /// English.
    En,
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "vi" => Ok(Self::Vi),
            "en" => Ok(Self::En),
            other => Err(format!(
                "unknown language {other:?} (expected \"vi\" or \"en\")"
            )),
        }
    }
}

/// The strings of one language, falling back to Vietnamese for any key it lacks.
#[derive(Clone, Debug)]
pub struct Catalog {
    strings: Arc<HashMap<String, String>>,
}

fn parse(src: &str) -> HashMap<String, String> {
    toml::from_str(src).expect("the UI catalogue is valid TOML (checked by tests)")
}

impl Catalog {
    /// Loads the catalogue of `language`.
    pub fn new(language: Language) -> Self {
        let mut strings = parse(VI);
        if language == Language::En {
            strings.extend(parse(EN));
        }
        Self {
            strings: Arc::new(strings),
        }
    }

    /// The string for `key`, or the key itself if missing (visible, so it gets noticed).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn format(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_have_the_same_keys() {
        let vi = parse(VI);
        let en = parse(EN);
        let mut missing: Vec<_> = vi.keys().filter(|k| !en.contains_key(*k)).collect();
        missing.extend(en.keys().filter(|k| !vi.contains_key(*k)));
        assert!(
            missing.is_empty(),
            "keys in one catalogue only: {missing:?}"
        );
    }

    #[test]
    fn formats_placeholders() {
        let c = Catalog::new(Language::Vi);
        assert_eq!(
            c.format("rating.total", &[("total", "0"), ("count", "0")]),
            "Tổng số điểm của bài viết là: 0 trong 0 đánh giá"
        );
        let en = Catalog::new(Language::En);
        assert_eq!(en.get("article.newer"), "Newer articles");
    }
}
