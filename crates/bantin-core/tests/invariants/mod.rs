//! The invariants of bantin-core's input-facing functions, in one place: the property tests
//! (`tests/properties.rs`) and the fuzz targets (`fuzz/`, which include this file by path) check
//! exactly the same rules. Each function panics, naming the broken rule, when one fails, so a
//! fuzzer crash always means a broken invariant and a proptest failure shrinks to one.

use bantin_core::text::{MAX_SLUG_LEN, SlugError};
use bantin_core::url::MAX_QUERY_PAIRS;
use bantin_core::{PageQuery, SanitizedHtml, Slug, fold, nfc, parse_article_file};
use scraper::{Html, Node};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{UnicodeNormalization, is_nfc};

/// Elements that must never survive sanitising: they run script, load other documents, change
/// the page's base or policy, or switch the parser into a mode where text becomes markup.
/// (`html` and `body` are left out: the fragment parser makes them itself, around the rest.)
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "style",
    "object",
    "embed",
    "applet",
    "base",
    "meta",
    "link",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "svg",
    "math",
    "template",
    "noscript",
    "frame",
    "frameset",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "title",
];

/// Attributes whose value a browser loads or navigates to.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "background",
    "poster",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "codebase",
    "manifest",
    "ping",
    "srcset",
];

/// Attributes that must never survive, whatever their value: inline documents and styles.
const FORBIDDEN_ATTRIBUTES: &[&str] = &["srcdoc", "srcset", "formaction", "action", "style"];

/// Where embedded frames may come from (the sanitiser's own list).
const FRAME_SOURCES: &[&str] = &[
    "https://www.youtube.com/embed/",
    "https://www.youtube-nocookie.com/embed/",
];

/// Whether a URL attribute's value would run script or inline a document. A browser strips
/// leading and trailing C0 controls and spaces and removes tabs and newlines anywhere before
/// it reads the scheme, so `&#x09;java\nscript:` is `javascript:` to it.
pub fn is_dangerous_url(value: &str) -> bool {
    let cleaned: String = value
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:", "livescript:"]
        .iter()
        .any(|scheme| cleaned.starts_with(scheme))
}

/// Checks, by parsing it as a browser would (html5ever, in the body of a page), that `html`
/// holds nothing that runs script: no script or other forbidden element, no event-handler
/// attribute, no script or data URL, frames only from the allowed hosts, styles only
/// `text-align`.
pub fn assert_safe_html(html: &str) {
    // Not even as inert text (a frame's raw content, say): other readers than browsers may see
    // the stored HTML.
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "<script in {html:?}"
    );
    let doc = Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let name = el.name().to_ascii_lowercase();
        assert!(
            !FORBIDDEN_ELEMENTS.contains(&name.as_str()),
            "forbidden element <{name}> in {html:?}"
        );
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            assert!(
                !attr.starts_with("on"),
                "event attribute {attr}= on <{name}> in {html:?}"
            );
            if attr == "style" && name == "p" {
                // The one style the allow-list keeps; anything else could hide or overlay.
                for decl in value.split(';').filter(|d| !d.trim().is_empty()) {
                    assert!(
                        decl.trim_start().starts_with("text-align"),
                        "style {decl:?} on <p> in {html:?}"
                    );
                }
            } else {
                assert!(
                    !FORBIDDEN_ATTRIBUTES.contains(&attr.as_str()),
                    "attribute {attr}= on <{name}> in {html:?}"
                );
            }
            if URL_ATTRIBUTES.contains(&attr.as_str()) {
                assert!(
                    !is_dangerous_url(value),
                    "{attr}={value:?} on <{name}> in {html:?}"
                );
            }
            if name == "iframe" && attr == "src" {
                assert!(
                    FRAME_SOURCES.iter().any(|p| value.starts_with(p)),
                    "frame from {value:?} in {html:?}"
                );
            }
        }
    }
}

/// [`SanitizedHtml::sanitize`]: the output is safe (see [`assert_safe_html`]), in NFC as the
/// docs promise, and sanitising it again changes nothing (stored HTML is re-sanitised every time
/// an editor saves, so a non-idempotent sanitiser would alter articles nobody edited).
pub fn sanitized_html(input: &str) {
    let once = SanitizedHtml::sanitize(input);
    let out = once.as_str();
    assert_safe_html(out);
    assert!(is_nfc(out), "output not in NFC: {out:?} from {input:?}");
    let twice = SanitizedHtml::sanitize(out);
    assert_eq!(
        twice.as_str(),
        out,
        "sanitising twice differs from once, input {input:?}"
    );
}

/// The rules of a slug's text: `[a-z0-9-]`, not empty, no leading, trailing or double hyphen,
/// at most [`MAX_SLUG_LEN`] bytes.
pub fn assert_slug_text(s: &str) {
    assert!(!s.is_empty(), "empty slug");
    assert!(s.len() <= MAX_SLUG_LEN, "slug longer than the limit: {s:?}");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "slug with a character outside [a-z0-9-]: {s:?}"
    );
    assert!(
        !s.starts_with('-') && !s.ends_with('-') && !s.contains("--"),
        "slug with a stray hyphen: {s:?}"
    );
}

/// NFC, folding and slugs on any text: never a panic; NFC and folding are idempotent and give
/// one answer for canonically equivalent inputs; folding leaves no combining mark; a slug made
/// from a title follows the slug rules, parses back as itself and is its own slug.
pub fn slug_and_fold(input: &str) {
    let n = nfc(input);
    assert!(is_nfc(&n), "nfc() output not in NFC: {input:?}");
    assert_eq!(nfc(&n), n, "nfc() not idempotent: {input:?}");
    let decomposed: String = input.nfd().collect();
    assert_eq!(
        nfc(&decomposed),
        n,
        "nfc() differs on the NFD form: {input:?}"
    );

    let f = fold(input);
    assert_eq!(fold(&f), f, "fold() not idempotent: {input:?}");
    assert_eq!(fold(&n), f, "fold() differs on the NFC form: {input:?}");
    assert_eq!(
        fold(&decomposed),
        f,
        "fold() differs on the NFD form: {input:?}"
    );
    assert!(
        !f.chars().any(is_combining_mark),
        "fold() left a combining mark: {f:?} from {input:?}"
    );

    match Slug::from_title(input) {
        Ok(slug) => {
            assert_slug_text(slug.as_str());
            assert_eq!(
                Slug::parse(slug.as_str()).as_ref(),
                Ok(&slug),
                "slug does not parse back: {input:?}"
            );
            assert_eq!(
                Slug::from_title(slug.as_str()).as_ref(),
                Ok(&slug),
                "slug of a slug's text differs: {input:?}"
            );
            assert_eq!(
                Slug::from_title(&f).as_ref(),
                Ok(&slug),
                "slug of the folded title differs: {input:?}"
            );
        }
        Err(e) => assert_eq!(
            e,
            SlugError::Empty,
            "from_title may only fail for want of letters: {input:?}"
        ),
    }

    match Slug::parse(input) {
        Ok(slug) => {
            assert_eq!(slug.as_str(), input);
            assert_slug_text(input);
        }
        Err(SlugError::TooLong) => assert!(input.len() > MAX_SLUG_LEN),
        Err(SlugError::Empty) => assert!(input.is_empty()),
        Err(SlugError::Invalid) => {}
    }
}

/// [`parse_article_file`]: never a panic, and what it accepts is `{slug}-{id}.html` (or
/// `{id}.html`) with a positive id of at most 18 digits that the file name spells, so the
/// canonical name of the same article parses to the same pair.
pub fn article_file(file: &str) {
    let Some((slug, id)) = parse_article_file(file) else {
        return;
    };
    assert!(
        id > 0 && id < 1_000_000_000_000_000_000,
        "id {id} from {file:?}"
    );
    let digits = file
        .strip_suffix(".html")
        .and_then(|stem| stem.strip_prefix(slug))
        .map(|rest| rest.strip_prefix('-').unwrap_or(rest))
        .unwrap_or_else(|| panic!("{file:?} is not slug {slug:?} + id + .html"));
    assert!(
        slug.is_empty() || file.len() == slug.len() + 1 + digits.len() + ".html".len(),
        "{file:?} split badly into {slug:?} and {digits:?}"
    );
    assert_eq!(
        digits.trim_start_matches('0'),
        id.to_string(),
        "{file:?} names id {digits:?}, parsed {id}"
    );
    let canonical = if slug.is_empty() {
        format!("{id}.html")
    } else {
        format!("{slug}-{id}.html")
    };
    assert_eq!(parse_article_file(&canonical), Some((slug, id)));
}

/// [`PageQuery::parse`] on any raw query: never a panic; a page number only from 2 up (1 is the
/// plain URL); a query naming `page` twice within the pairs read is refused whatever the values;
/// and a parsed query's canonical form (for any choice of the parameters a page uses) parses
/// back to the same query restricted to those parameters.
pub fn page_query(raw: &str) {
    let parsed = PageQuery::parse(Some(raw));
    let pages = form_urlencoded::parse(raw.strip_prefix('?').unwrap_or(raw).as_bytes())
        .take(MAX_QUERY_PAIRS)
        .filter(|(k, _)| k == "page")
        .count();
    if pages > 1 {
        // Refused; as `BadPage` unless another repeated parameter came first.
        assert!(parsed.is_err(), "{raw:?} names page {pages} times");
    }
    let Ok(q) = parsed else {
        return;
    };
    assert!(
        q.page.is_none_or(|p| p > 1),
        "page {:?} from {raw:?}",
        q.page
    );
    for (uses_page, uses_notice) in [(true, true), (true, false), (false, true), (false, false)] {
        let canonical = q.canonical(uses_page, uses_notice);
        let expected = PageQuery {
            page: q.page.filter(|_| uses_page),
            rating_notice: q.rating_notice.filter(|_| uses_notice),
        };
        assert_eq!(
            PageQuery::parse(Some(&canonical)),
            Ok(expected),
            "canonical {canonical:?} of {raw:?} reads differently"
        );
        assert_eq!(
            expected.canonical(true, true),
            canonical,
            "canonical form of {raw:?} not stable"
        );
    }
}
