//! Article HTML that has passed the allow-list sanitiser, so templates may print it as is.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::text::nfc;

/// HTML known to be safe to print: it went through [`SanitizedHtml::sanitize`] before it was
/// stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SanitizedHtml(String);

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags(
        ["figure", "figcaption", "caption", "iframe"]
            .iter()
            .copied(),
    )
    .add_tag_attributes(
        "img",
        ["src", "alt", "title", "width", "height", "loading"]
            .iter()
            .copied(),
    )
    .add_tag_attributes("figure", ["class"].iter().copied())
    .add_tag_attributes("p", ["style"].iter().copied())
    .add_tag_attributes("td", ["colspan", "rowspan"].iter().copied())
    .add_tag_attributes("th", ["colspan", "rowspan"].iter().copied())
    .add_tag_attributes(
        "iframe",
        ["src", "width", "height", "allowfullscreen", "title"]
            .iter()
            .copied(),
    )
    .filter_style_properties(HashSet::from(["text-align"]))
    .link_rel(Some("noopener noreferrer"))
    .attribute_filter(|element, attribute, value| {
        // Embedded frames only from video hosts editors actually use.
        if element == "iframe" && attribute == "src" {
            let allowed = [
                "https://www.youtube.com/embed/",
                "https://www.youtube-nocookie.com/embed/",
            ];
            return allowed
                .iter()
                .any(|p| value.starts_with(p))
                .then(|| value.into());
        }
        Some(value.into())
    });
    b
});

impl SanitizedHtml {
    /// Cleans untrusted HTML against the allow-list and normalises it to NFC.
    pub fn sanitize(raw: &str) -> Self {
        Self(SANITIZER.clean(&nfc(raw)).to_string())
    }

    /// Wraps HTML read back from the database, where only sanitised HTML is ever written.
    pub fn from_stored(html: String) -> Self {
        Self(html)
    }

    /// The HTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the HTML text.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_figures_and_drops_scripts() {
        let raw = r#"<figure class="image"><img src="/media/a.jpg" alt="DSC 5191" width="800" height="533" onerror="x()"><figcaption>Chú thích</figcaption></figure><script>alert(1)</script><p style="text-align:center;position:fixed" onclick="y()">Đoạn</p><a href="javascript:alert(1)">l</a>"#;
        let clean = SanitizedHtml::sanitize(raw);
        let s = clean.as_str();
        assert!(s.contains(r#"<figure class="image"><img src="/media/a.jpg" alt="DSC 5191" width="800" height="533"><figcaption>Chú thích</figcaption></figure>"#), "{s}");
        assert!(!s.contains("script"));
        assert!(!s.contains("onerror"));
        assert!(!s.contains("onclick"));
        assert!(!s.contains("position"));
        assert!(!s.contains("javascript:"));
        assert!(s.contains("text-align:center"));
    }

    #[test]
    fn iframes_only_from_allowed_hosts() {
        let ok =
            SanitizedHtml::sanitize(r#"<iframe src="https://www.youtube.com/embed/abc"></iframe>"#);
        assert!(ok.as_str().contains("youtube.com/embed/abc"));
        let bad = SanitizedHtml::sanitize(r#"<iframe src="https://evil.example/"></iframe>"#);
        assert!(!bad.as_str().contains("evil"));
    }

    #[test]
    fn normalises_to_nfc() {
        let clean = SanitizedHtml::sanitize("<p>Vie\u{0323}\u{0302}t</p>");
        assert_eq!(clean.as_str(), "<p>Việt</p>");
    }
}
