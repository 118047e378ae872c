//! Article HTML that has passed the allow-list sanitiser, so templates may print it as is.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use unicode_normalization::char::canonical_combining_class;

use crate::text::nfc;

/// HTML known to be safe to print: it went through [`SanitizedHtml::sanitize`] before it was
/// stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SanitizedHtml(String);

/// Where embedded frames (`<iframe>`) in article bodies may come from: URL prefixes such as
/// `https://www.youtube.com/embed/`. Each is `https://`, a host and a path ending in `/`, so
/// a prefix can never be extended into another host (`https://www.youtube.com.evil.example`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedHosts(Vec<String>);

/// Why a list of embed prefixes was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid embed prefix {0:?}: expected https://host/path/ (lower-case host, ending in /)")]
pub struct InvalidEmbed(pub String);

impl Default for EmbedHosts {
    /// The video hosts editors actually use.
    fn default() -> Self {
        Self(vec![
            "https://www.youtube.com/embed/".to_owned(),
            "https://www.youtube-nocookie.com/embed/".to_owned(),
        ])
    }
}

impl EmbedHosts {
    /// No embedded frames at all.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// A comma-separated list of prefixes, or `none`.
    pub fn parse(list: &str) -> Result<Self, InvalidEmbed> {
        let list = list.trim();
        if list.is_empty() || list == "none" {
            return Ok(Self::none());
        }
        list.split(',')
            .map(|p| {
                let p = p.trim();
                let ok = p.strip_prefix("https://").is_some_and(|rest| {
                    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let host_ok = !host.is_empty()
                        && host.len() <= 253
                        && host.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
                        })
                        && !host.starts_with(['.', '-'])
                        && !host.ends_with(['.', '-'])
                        && !host.contains("..");
                    let path_ok = (path.is_empty() || path.ends_with('/'))
                        && path.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')
                        })
                        && !rest.contains("//")
                        && !path.split('/').any(|seg| seg == "." || seg == "..");
                    host_ok && path_ok && rest.contains('/')
                });
                if ok {
                    Ok(p.to_owned())
                } else {
                    Err(InvalidEmbed(p.to_owned()))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The prefixes.
    pub fn prefixes(&self) -> &[String] {
        &self.0
    }

    /// The origins (`https://host`) of the prefixes, each once, for a `frame-src` policy.
    pub fn origins(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.0 {
            let host = p["https://".len()..].split('/').next().unwrap_or_default();
            let origin = format!("https://{host}");
            if !out.contains(&origin) {
                out.push(origin);
            }
        }
        out
    }

    fn allows(&self, src: &str) -> bool {
        self.0.iter().any(|p| src.starts_with(p.as_str()))
    }
}

/// A look at (and maybe a new value for) an `<img>`'s `src`.
type ImageHook = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The sanitiser's allow-list, with the embed hosts of a site's settings.
pub struct HtmlPolicy {
    builder: ammonia::Builder<'static>,
    embeds: EmbedHosts,
}

impl std::fmt::Debug for HtmlPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HtmlPolicy")
            .field("embeds", &self.embeds)
            .finish_non_exhaustive()
    }
}

impl Default for HtmlPolicy {
    fn default() -> Self {
        Self::new(EmbedHosts::default())
    }
}

impl HtmlPolicy {
    /// The allow-list letting frames in from `embeds` only.
    pub fn new(embeds: EmbedHosts) -> Self {
        Self::with_images(embeds, None)
    }

    /// The allow-list, with `images` called on each `<img>`'s `src` as the sanitiser reads
    /// it: `Some(new)` replaces the value, `None` keeps it.
    fn with_images(embeds: EmbedHosts, images: Option<ImageHook>) -> Self {
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
        .link_rel(Some("noopener noreferrer"));
        let allowed = embeds.clone();
        b.attribute_filter(move |element, attribute, value| {
            // The only style kept is a paragraph's alignment, as a keyword; anything else
            // (other properties, odd values, CSS functions swallowing `;`) drops the attribute
            // whole.
            if attribute == "style" {
                return text_align(value).map(|a| format!("text-align:{a}").into());
            }
            if element == "iframe" && attribute == "src" {
                return allowed.allows(value).then(|| value.into());
            }
            if element == "img"
                && attribute == "src"
                && let Some(new) = images.as_ref().and_then(|f| f(value))
            {
                return Some(new.into());
            }
            Some(value.into())
        });
        Self { builder: b, embeds }
    }

    /// The `src` of every `<img>` in `raw`, read by the sanitiser's parser (as a browser
    /// would), in document order, each once.
    pub fn image_sources(&self, raw: &str) -> Vec<String> {
        let found = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = found.clone();
        let hook: ImageHook = Box::new(move |src| {
            let mut f = sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !f.iter().any(|s| s == src) {
                f.push(src.to_owned());
            }
            None
        });
        Self::with_images(self.embeds.clone(), Some(hook)).sanitize(raw);
        let mut f = found
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *f)
    }

    /// `raw` sanitised under this allow-list, each `<img>` whose `src` is a key of `map`
    /// pointing at its value instead.
    pub fn replace_image_sources(&self, raw: &str, map: HashMap<String, String>) -> SanitizedHtml {
        let hook: ImageHook = Box::new(move |src| map.get(src).cloned());
        Self::with_images(self.embeds.clone(), Some(hook)).sanitize(raw)
    }

    /// Where frames may come from under this policy.
    pub fn embeds(&self) -> &EmbedHosts {
        &self.embeds
    }

    /// Cleans untrusted HTML against the allow-list and normalises it to NFC.
    ///
    /// The result is a fixed point: sanitising it again gives it back unchanged, so HTML that
    /// is re-sanitised on every save does not drift.
    pub fn sanitize(&self, raw: &str) -> SanitizedHtml {
        // Serialised HTML does not always parse back into the tree it was written from: an
        // `<a>` left inside an `<a>` once the `<select>` between them is removed is read back
        // as two siblings. So the output is sanitised again, as a browser will parse it, until
        // nothing changes; what is stored is then exactly a tree the sanitiser has seen. Two
        // passes suffice for all the property tests and fuzzing have found.
        let mut html = self.clean_once(raw);
        for _ in 0..MAX_PASSES {
            let again = self.clean_once(&html);
            if again == html {
                return SanitizedHtml(html);
            }
            html = again;
        }
        SanitizedHtml(text_only(&html))
    }

    /// One pass of the sanitiser: the allow-list, empty frames, then NFC.
    fn clean_once(&self, raw: &str) -> String {
        // Normalising the input alone is not enough: character references (`&#x301;`), NULs
        // the parser drops and elements it removes (`e<!---->\u{301}`) all put non-NFC text
        // into the output, which then changed again when sanitised a second time.
        nfc_serialized(&empty_frames(&self.builder.clean(raw).to_string()))
    }
}

/// The policy with the default embed hosts.
static DEFAULT_POLICY: LazyLock<HtmlPolicy> = LazyLock::new(HtmlPolicy::default);

/// The alignment a style attribute asks for, if it names one of the four keywords (the last
/// such declaration wins, as in CSS).
fn text_align(style: &str) -> Option<&'static str> {
    let mut found = None;
    for decl in style.split(';') {
        if let Some((property, value)) = decl.split_once(':')
            && property.trim().eq_ignore_ascii_case("text-align")
        {
            let value = value.trim().to_ascii_lowercase();
            found = ["left", "right", "center", "justify"]
                .into_iter()
                .find(|k| *k == value);
        }
    }
    found
}

impl SanitizedHtml {
    /// Cleans untrusted HTML with the default policy (frames from YouTube only); see
    /// [`HtmlPolicy::sanitize`].
    pub fn sanitize(raw: &str) -> Self {
        DEFAULT_POLICY.sanitize(raw)
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

/// How many passes past the first [`SanitizedHtml::sanitize`] makes before it gives up on the
/// markup and keeps only the text.
const MAX_PASSES: usize = 4;

/// Drops whatever sits between `<iframe …>` and `</iframe>` in serialised HTML.
///
/// A frame's content is raw text to an HTML parser, so the sanitiser keeps it unescaped:
/// `<iframe src="https://www.youtube.com/embed/x"><script>alert(1)</script></iframe>` came
/// out as it went in. Browsers never show that text, but any other reader of the stored HTML
/// (a feed, a mail, an XML parser) would see a script, so it goes.
///
/// Elsewhere in sanitised output `<` and `>` are written as references (in attribute values
/// too), so `<iframe` here is always a start tag and its first `>` ends it; the content, being
/// raw text, ends at the first `</iframe>`, which the serialiser always writes.
fn empty_frames(html: &str) -> Cow<'_, str> {
    const OPEN: &str = "<iframe";
    const CLOSE: &str = "</iframe>";
    if !html.contains(OPEN) {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(OPEN) {
        let Some(tag_len) = rest[at..].find('>') else {
            break;
        };
        let content = at + tag_len + 1;
        out.push_str(&rest[..content]);
        rest = &rest[content..];
        rest = &rest[rest.find(CLOSE).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The text of `html` without any markup, for HTML that never settles; a fixed point of
/// [`HtmlPolicy::sanitize`]'s passes, since text parses back as the same text.
fn text_only(html: &str) -> String {
    static TEXT: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);
    nfc_serialized(&TEXT.clean(html).to_string())
}

/// NFC of serialised HTML, without letting text fuse with the markup before it.
///
/// Normalising markup as text is unsafe in one place: a combining character right after a
/// tag's `>` would be reordered and composed with it (`>` + U+0338 is `≯`), turning the text
/// that follows into attributes of the tag. So each piece after a `>` is normalised on its
/// own, and the combining characters it starts with are written as character references,
/// which any later normalisation leaves alone and the parser reads back as the same text.
/// (In sanitised output `<`, `>` and `&` are references in text and attribute values alike,
/// frames are empty and values are quoted, so a raw `>` always ends a tag and is the only
/// markup character a combining character can follow.)
fn nfc_serialized(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for (i, piece) in html.split_inclusive('>').enumerate() {
        let piece = nfc(piece);
        let mut rest = piece.as_str();
        if i > 0 {
            while let Some(c) = rest.chars().next() {
                if canonical_combining_class(c) == 0 {
                    break;
                }
                write!(out, "&#x{:X};", u32::from(c)).expect("writing to a String");
                rest = &rest[c.len_utf8()..];
            }
        }
        out.push_str(rest);
    }
    // The parser drops one byte order mark at the very start of its input, so one left at the
    // start of the output would vanish on the next pass; it shows nothing anyway.
    let start = out.len() - out.trim_start_matches('\u{feff}').len();
    out.drain(..start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_prefixes_are_whole_hosts_and_paths() {
        let ok = EmbedHosts::parse(
            " https://www.youtube.com/embed/ , https://player.vimeo.com/video/,https://vtv.vn/",
        )
        .unwrap();
        assert_eq!(ok.prefixes().len(), 3);
        assert_eq!(
            ok.origins(),
            [
                "https://www.youtube.com",
                "https://player.vimeo.com",
                "https://vtv.vn"
            ]
        );
        assert_eq!(EmbedHosts::parse("none").unwrap(), EmbedHosts::none());
        for bad in [
            "https://www.youtube.com",
            "http://www.youtube.com/embed/",
            "https://www.youtube.com/embed",
            "https://WWW.youtube.com/embed/",
            "https://evil.example/../",
            "https://a..b/",
            "https:///embed/",
            "https://x.vn/a b/",
            "https://x.vn/a\"/",
            "javascript:alert(1)//",
            "https://x.vn//",
        ] {
            assert!(EmbedHosts::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_come_only_from_the_policy_hosts() {
        let frame = |src: &str| format!(r#"<iframe src="{src}"></iframe>"#);
        let vimeo = HtmlPolicy::new(EmbedHosts::parse("https://player.vimeo.com/video/").unwrap());
        let kept = vimeo.sanitize(&frame("https://player.vimeo.com/video/1"));
        assert!(
            kept.as_str().contains("player.vimeo.com/video/1"),
            "{kept:?}"
        );
        for other in [
            "https://www.youtube.com/embed/x",
            "https://player.vimeo.com.evil.example/video/1",
            "https://player.vimeo.com/videos/1",
        ] {
            let gone = vimeo.sanitize(&frame(other));
            assert!(!gone.as_str().contains("src="), "{other}: {gone:?}");
        }
        let none = HtmlPolicy::new(EmbedHosts::none());
        assert!(
            !none
                .sanitize(&frame("https://www.youtube.com/embed/x"))
                .as_str()
                .contains("src=")
        );
        let default = SanitizedHtml::sanitize(&frame("https://www.youtube.com/embed/x"));
        assert!(default.as_str().contains("youtube.com/embed/x"));
    }

    #[test]
    fn only_alignment_keywords_survive_in_styles() {
        // Found by fuzzing: a CSS function swallowing `;` kept garbage after `text-align:`.
        let html = SanitizedHtml::sanitize(
            "<p style=\"text-align:cente<img src=x2 )><x ad=alert(1\t>;alert()\">x</p><p style=\"TEXT-ALIGN: Right\">y</p>",
        );
        assert_eq!(
            html.as_str(),
            r#"<p>x</p><p style="text-align:right">y</p>"#
        );
    }

    #[test]
    fn styles_without_an_allowed_property_are_dropped_whole() {
        let html = SanitizedHtml::sanitize(
            r#"<p class="MsoNormal" style="margin:0;font-family:Arial">Word</p><p style="text-align:center;color:red">Giữa</p>"#,
        );
        assert_eq!(
            html.as_str(),
            r#"<p>Word</p><p style="text-align:center">Giữa</p>"#
        );
    }

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
    fn frames_keep_no_content() {
        let out = sanitize_twice(
            r#"<iframe src="https://www.youtube.com/embed/x" title="a<iframe>b"><script>alert(1)</script></iframe>x<iframe src="https://www.youtube.com/embed/y">&lt;b&gt;</iframe>"#,
        );
        assert_eq!(
            out,
            r#"<iframe src="https://www.youtube.com/embed/x" title="a&lt;iframe&gt;b"></iframe>x<iframe src="https://www.youtube.com/embed/y"></iframe>"#
        );
        assert_eq!(empty_frames("<p>x</p>"), "<p>x</p>");
        assert_eq!(empty_frames("<iframe src=\"a\">x"), "<iframe src=\"a\">");
    }

    #[test]
    fn image_sources_are_read_and_replaced_as_the_parser_sees_them() {
        let p = HtmlPolicy::default();
        let raw = r#"<p>a<img src="https://x.vn/a.jpg?x=1&amp;y=2" alt="A"></p>
            <IMG SRC=http://x.vn/b.png><img src="https://x.vn/a.jpg?x=1&y=2">
            <script><img src="https://evil/c.jpg"></script>"#;
        assert_eq!(
            p.image_sources(raw),
            ["https://x.vn/a.jpg?x=1&y=2", "http://x.vn/b.png"]
        );
        let map = HashMap::from([(
            "https://x.vn/a.jpg?x=1&y=2".to_owned(),
            "/media/lib/k.jpg".to_owned(),
        )]);
        let out = p.replace_image_sources(raw, map);
        assert_eq!(out.as_str().matches("/media/lib/k.jpg").count(), 2);
        assert!(out.as_str().contains(r#"src="http://x.vn/b.png""#));
        assert!(!out.as_str().contains("evil"));
        // The replaced body is a fixed point of the ordinary sanitiser.
        assert_eq!(p.sanitize(out.as_str()), out);
    }

    #[test]
    fn normalises_to_nfc() {
        let clean = SanitizedHtml::sanitize("<p>Vie\u{0323}\u{0302}t</p>");
        assert_eq!(clean.as_str(), "<p>Việt</p>");
    }

    /// Sanitises `raw`, checks the result is NFC and a fixed point, and returns it.
    fn sanitize_twice(raw: &str) -> String {
        let once = SanitizedHtml::sanitize(raw).into_string();
        assert!(unicode_normalization::is_nfc(&once), "{once:?}");
        assert_eq!(
            SanitizedHtml::sanitize(&once).as_str(),
            once,
            "from {raw:?}"
        );
        once
    }

    // Found by the property tests: text that only became non-NFC inside the parser (a NUL it
    // drops, a character reference, a removed comment or element between base and mark) was
    // stored as is, and the next sanitising composed it.
    #[test]
    fn normalises_text_the_parser_puts_together() {
        assert_eq!(sanitize_twice("A\0\u{300}"), "À");
        assert_eq!(sanitize_twice("<p>Vie&#x323;&#x302;t</p>"), "<p>Việt</p>");
        assert_eq!(sanitize_twice("e<!-- x -->\u{301}"), "é");
        assert_eq!(sanitize_twice("e<foo>\u{301}</foo>"), "é");
    }

    #[test]
    fn a_combining_mark_after_a_tag_stays_text() {
        // `>` + U+0338 composes to `≯`; had it fused, the text would have become attributes.
        let out = sanitize_twice("<b>&#x338; onmouseover=alert(1) x</b>");
        assert_eq!(out, "<b>&#x338; onmouseover=alert(1) x</b>");
        let out = sanitize_twice("<b>\u{301}\u{338}x</b>");
        assert_eq!(out, "<b>&#x338;&#x301;x</b>");
        // The same mark inside text, after a base letter, simply composes.
        assert_eq!(sanitize_twice("<b>e\u{301}</b>"), "<b>é</b>");
    }

    // Found by the property tests: the `<select>` between two links is removed, leaving an
    // `<a>` inside an `<a>`, which HTML cannot express and reads back as two links.
    #[test]
    fn nested_links_settle_in_one_sanitising() {
        let out = sanitize_twice("<a/><select onerror=\"javascript:alert(1)\"<script><a>");
        assert_eq!(
            out,
            r#"<a rel="noopener noreferrer"></a><a rel="noopener noreferrer"></a>"#
        );
    }

    #[test]
    fn text_only_is_a_fixed_point() {
        let text = text_only("<p>a &lt;b&gt; <script>x</script>&amp; e\u{301}</p>");
        assert_eq!(text, "a &lt;b&gt; &amp; é");
        assert_eq!(DEFAULT_POLICY.clean_once(&text), text);
    }

    // Found by the property tests: the parser drops a byte order mark at the start of its
    // input, so one that followed removed markup vanished only on the second pass.
    #[test]
    fn no_byte_order_mark_at_the_start() {
        assert_eq!(sanitize_twice("<table<script>\u{feff}"), "");
        assert_eq!(sanitize_twice("\u{feff}\u{feff}x"), "x");
        assert_eq!(sanitize_twice("x\u{feff}"), "x\u{feff}");
    }
}
