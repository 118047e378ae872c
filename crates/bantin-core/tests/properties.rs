//! Property tests of the functions that read untrusted input: the HTML sanitiser, NFC, folding
//! and slugs, article file names and reader query strings. The rules themselves live in
//! `invariants/`, shared with the fuzz targets; this file supplies the inputs, from arbitrary
//! text and from grammars of the inputs that have broken such functions elsewhere.
//!
//! Case counts keep the whole file to a few seconds in a debug build, so it runs in every
//! `cargo test`. `PROPTEST_CASES=20000 cargo test -p bantin-core --test properties` runs
//! longer; a failure found that way becomes a unit test next to the function.

mod invariants;

use bantin_core::url::MAX_QUERY_PAIRS;
use bantin_core::{PageQuery, QueryError, RatingNotice, parse_article_file};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// `cases` unless `PROPTEST_CASES` asks for another number, and no regression files: failures
/// become unit tests instead, next to the function they concern.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

// ---------------------------------------------------------------------------------------------
// HTML

/// `scheme` spelled the many ways a browser still reads as that scheme: letters in any case,
/// as decimal or hexadecimal character references (with or without `;`, with leading zeros),
/// with tabs and newlines (raw or as references) between them, after leading blanks.
fn obfuscated_scheme() -> impl Strategy<Value = String> {
    let scheme = select(
        &[
            "javascript:",
            "vbscript:",
            "data:",
            "data:text/html;base64,",
        ][..],
    );
    let prefix = select(&["", " ", "\u{1}", "&#x20;", "\n", "&#32;", "\t\t", "&#0;"][..]);
    (scheme, prefix, vec(0u8..9, 32)).prop_map(|(scheme, prefix, modes)| {
        let mut out = String::from(prefix);
        for (c, mode) in scheme.chars().zip(modes.into_iter().cycle()) {
            match mode {
                0 | 1 => out.push(c),
                2 => out.push(c.to_ascii_uppercase()),
                3 => out.push_str(&format!("&#{};", c as u32)),
                4 => out.push_str(&format!("&#x{:X};", c as u32)),
                5 => out.push_str(&format!("&#X{:x}", c as u32)),
                6 => out.push_str(&format!("&#000{}", c as u32)),
                7 => {
                    out.push(c);
                    out.push_str(
                        ["\t", "\n", "\r\n", "&#x09;", "&Tab;", "&NewLine;"][c as usize % 6],
                    );
                }
                _ => {
                    out.push_str(["&#x0A;", "\n"][c as usize % 2]);
                    out.push(c);
                }
            }
        }
        out.push_str("alert(1)");
        out
    })
}

/// Tag names, those the allow-list keeps and those it must drop, in several cases.
fn tag_name() -> impl Strategy<Value = String> {
    let names = select(
        &[
            "script",
            "SCRIPT",
            "ScRiPt",
            "img",
            "IMG",
            "a",
            "A",
            "p",
            "svg",
            "math",
            "style",
            "iframe",
            "IFRAME",
            "figure",
            "figcaption",
            "table",
            "td",
            "textarea",
            "noscript",
            "title",
            "xmp",
            "object",
            "embed",
            "base",
            "form",
            "button",
            "meta",
            "link",
            "template",
            "select",
            "div",
            "b",
            "mglyph",
            "mtext",
            "annotation-xml",
            "foreignObject",
            "desc",
            "details",
            "video",
            "source",
            "frameset",
            "body",
            "plaintext",
            "noembed",
            "scr<script>ipt",
            "a/",
            "img/src",
        ][..],
    );
    names.prop_map(str::to_owned)
}

/// Attribute names: event handlers in any case and entity-encoded (which HTML does not decode
/// in names, so `&#111;nerror` must stay harmless), URL attributes, styles and plain ones.
fn attribute_name() -> impl Strategy<Value = String> {
    select(
        &[
            "onerror",
            "ONLOAD",
            "OnClick",
            "onmouseover",
            "onfocus",
            "&#111;nerror",
            "o&#110;load",
            "on",
            "href",
            "HREF",
            "hReF",
            "src",
            "SrC",
            "xlink:href",
            "style",
            "STYLE",
            "srcdoc",
            "formaction",
            "action",
            "data",
            "background",
            "poster",
            "class",
            "alt",
            "title",
            "width",
            "rel",
            "target",
            "allowfullscreen",
            "autofocus",
            "/onerror",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// Attribute values: script URLs in all their spellings, frame sources, styles, quote breakers.
fn attribute_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => obfuscated_scheme(),
        1 => select(&[
            "x",
            "/media/a.jpg",
            "https://www.youtube.com/embed/abc",
            "https://www.youtube.com.evil.example/embed/",
            "https://evil.example/",
            "//evil.example/x.js",
            "text-align:center",
            "TEXT-ALIGN: right; position:fixed",
            "text-align:center;background:url(javascript:alert(1))",
            "expression(alert(1))",
            "\"><script>alert(1)</script>",
            "'><img src=x onerror=alert(1)>",
            "</noscript><img src=x onerror=alert(1)>",
            "alert(1)",
            "",
        ][..]).prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
    ]
}

/// One attribute, quoted in double or single quotes, unquoted, left open, or with no value.
fn attribute() -> impl Strategy<Value = String> {
    (
        attribute_name(),
        attribute_value(),
        0u8..5,
        select(&[" ", "\n", "\t", "/", "  "][..]),
    )
        .prop_map(|(name, value, quoting, sep)| match quoting {
            0 => format!("{sep}{name}=\"{value}\""),
            1 => format!("{sep}{name}='{value}'"),
            2 => format!("{sep}{name}={value}"),
            3 => format!("{sep}{name}=\"{value}"),
            _ => format!("{sep}{name}"),
        })
}

/// Pieces of HTML that have broken sanitisers: whole payloads, tags built from the parts above,
/// and stray syntax (comments, CDATA, unclosed tags, quotes, references, combining marks).
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (tag_name(), vec(attribute(), 0..4), any::<bool>()).prop_map(|(tag, attrs, closed)| {
            format!("<{tag}{}{}", attrs.concat(), if closed { ">" } else { "" })
        }),
        1 => tag_name().prop_map(|t| format!("</{t}>")),
        2 => select(&[
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "<svg><script>alert(1)</script></svg>",
            "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            "<iframe src=\"https://www.youtube.com/embed/x\" onload=alert(1)></iframe>",
            "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>",
            "<style>*{background:url(javascript:alert(1))}</style>",
            "<form><button formaction=javascript:alert(1)>x</button></form>",
            "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
            "<embed src=\"javascript:alert(1)\">",
            "<base href=\"javascript:/\">",
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
            "<scr<script>ipt>alert(1)</scr</script>ipt>",
            "<<script>script>alert(1)<</script>/script>",
            "<img \"\"\"><script>alert(1)</script>\">",
            "<p style=\"text-align:center\" onclick=\"x\">",
            "<template><script>alert(1)</script></template>",
            "<select><template><style><img src=x onerror=alert(1)>",
            "<figure class=\"image\"><img src=\"/media/a.jpg\" alt=\"DSC 5191\"><figcaption>Chú thích</figcaption></figure>",
            "<table><tr><td colspan=2>Ô</td></tr></table>",
            "<a href=\"/a/b-1.html\" rel=\"nofollow\" target=_blank>liên kết</a>",
            "<img alt=\"<script>alert(1)</script>\" src=\"/media/x.png\">",
        ][..]).prop_map(str::to_owned),
        3 => select(&[
            "<", ">", "</", "/>", "<!--", "-->", "--!>", "<![CDATA[", "]]>", "<!DOCTYPE html>",
            "<?xml x?>", "&", "&amp;", "&lt;", "&#60;", "&#x3C;script&#x3E;", "&lt;script&gt;",
            "\"", "'", "=", "`", "\n", "\t", "\r", "\u{0}", "\u{338}", "&#x338;", "&#824;",
            "\u{301}", "&#769;", "&#x301;", "\u{300}", "e\u{301}", "&nbsp;", "\u{a0}",
            "Việt Nam", "Đảng bộ", "Vie\u{323}\u{302}t", "x", " ", "javascript:alert(1)",
            "\u{feff}", "\u{200b}", "\u{fffd}",
        ][..]).prop_map(str::to_owned),
    ]
}

/// Whole documents made of up to 16 fragments.
fn html_document() -> impl Strategy<Value = String> {
    vec(fragment(), 0..16).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn sanitiser_on_dangerous_html(input in html_document()) {
        invariants::sanitized_html(&input);
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn sanitiser_on_html_like_text(
        input in "[<>/=\"' a-zA-Z0-9&#;:!?\\-\t\n\u{0}\u{338}\u{301}\u{300}Đđệ]{0,80}",
    ) {
        invariants::sanitized_html(&input);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn sanitiser_on_any_text(input in any::<String>()) {
        invariants::sanitized_html(&input);
    }
}

// ---------------------------------------------------------------------------------------------
// Text: NFC, folding, slugs

/// Titles as editors write them: Vietnamese in composed and decomposed forms, other scripts,
/// digits, punctuation, spaces and combining marks on their own.
fn title() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => select(&[
            "Đảng bộ", "Thành phố", "học tập", "và", "làm theo", "gương Bác", "ĐÀ NẴNG",
            "Vie\u{323}\u{302}t", "ươ ữ ỹ", "Kinh tế - Xã hội", "“2023”!", "năm 2024",
            "Ðà", "ð", "İstanbul", "ß", "Ǆ", "ﬁ", "Ω", "Å", "北京", "Москва", "١٢٣", "😀",
            "\u{338}", "\u{301}", "\u{345}", "\u{200d}", "-", "--", " ", "\t", "_", ".", "&",
        ][..]).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9]{1,40}",
        1 => any::<char>().prop_map(String::from),
    ];
    vec(piece, 0..40).prop_map(|p| p.join(""))
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn text_rules_on_titles(input in title()) {
        invariants::slug_and_fold(&input);
    }

    #[test]
    fn text_rules_on_any_text(input in any::<String>()) {
        invariants::slug_and_fold(&input);
    }

    #[test]
    fn text_rules_on_slug_like_text(input in "[a-z0-9-]{0,130}") {
        invariants::slug_and_fold(&input);
    }
}

// ---------------------------------------------------------------------------------------------
// URLs

/// A valid slug's text.
fn slug_text() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,5}"
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn article_file_on_any_text(input in any::<String>()) {
        invariants::article_file(&input);
    }

    #[test]
    fn article_file_on_near_misses(input in "[a-z0-9+ .-]{0,6}-?[0-9+-]{0,21}(\\.html?)?") {
        invariants::article_file(&input);
    }

    #[test]
    fn article_file_reads_what_urls_are_made_of(
        slug in slug_text(),
        id in 1i64..=999_999_999_999_999_999,
    ) {
        let file = format!("{slug}-{id}.html");
        prop_assert_eq!(parse_article_file(&file), Some((slug.as_str(), id)));
        invariants::article_file(&file);
    }
}

/// One query parameter, as the generator knows it, so the expected reading is known.
#[derive(Clone, Debug)]
enum Param {
    /// `page` with a valid number, written with `zeros` leading zeros.
    Page { n: u32, zeros: usize },
    /// `page` with something that is not a page number.
    BadPage(String),
    /// `danh-gia` with a known value or another one.
    Notice(String),
    /// Anything else, which every page ignores.
    Other(String, String),
}

/// `page` or `danh-gia` spelled as is or percent-encoded, which means the same.
fn spelled(name: &'static str) -> impl Strategy<Value = String> {
    any::<u8>().prop_map(move |choice| {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if choice & (1 << (i % 8)) != 0 && choice % 3 == 0 {
                out.push_str(&format!("%{:02X}", c as u32));
            } else {
                out.push(c);
            }
        }
        out
    })
}

/// A value, percent-encoded as a browser would (so `+` and `&` in it survive).
fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A `page` parameter, good or bad.
fn page_param() -> impl Strategy<Value = Param> {
    prop_oneof![
        2 => (any::<u32>(), 0usize..4).prop_map(|(n, zeros)| Param::Page { n, zeros }),
        1 => (1u32..30, 0usize..3).prop_map(|(n, zeros)| Param::Page { n, zeros }),
        1 => prop_oneof![
            Just(String::new()),
            Just("0".to_owned()),
            Just("000".to_owned()),
            Just("4294967296".to_owned()),
            Just("+2".to_owned()),
            Just("-1".to_owned()),
            Just("2 ".to_owned()),
            "[1-9][0-9]{10,19}",
            "[0-9]{0,3}[^0-9][0-9]{0,3}",
        ].prop_map(Param::BadPage),
    ]
}

/// Any parameter: a page, a rating notice or something else.
fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        2 => page_param(),
        2 => prop_oneof![
            select(&["cam-on", "da-danh-gia", "gioi-han"][..]).prop_map(str::to_owned),
            ".{0,8}",
        ].prop_map(Param::Notice),
        3 => (
            prop_oneof![
                select(&["utm_source", "utm_medium", "fbclid", "gclid", "Page", "PAGE", "page ",
                    "danh_gia", "q", ""][..]).prop_map(str::to_owned),
                "[a-z_]{1,8}",
            ],
            ".{0,10}",
        ).prop_map(|(k, v)| Param::Other(k, v)),
    ]
}

/// A parameter list written as a query string, with the names spelled in random ways.
fn write_query(params: &[Param], spellings: &[(String, String)]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .zip(spellings.iter().cycle())
        .map(|(p, (page, notice))| match p {
            Param::Page { n, zeros } => format!("{page}={}{n}", "0".repeat(*zeros)),
            Param::BadPage(v) => format!("{page}={}", encode(v)),
            Param::Notice(v) => format!("{notice}={}", encode(v)),
            Param::Other(k, v) => format!("{}={}", encode(k), encode(v)),
        })
        .collect();
    format!("?{}", pairs.join("&"))
}

/// The reading the rules give a parameter list, worked out from the list rather than the text.
fn expected(params: &[Param]) -> Result<PageQuery, QueryError> {
    let mut q = PageQuery::default();
    let (mut page_seen, mut notice_seen) = (false, false);
    for p in params.iter().take(MAX_QUERY_PAIRS) {
        match p {
            Param::Page { .. } | Param::BadPage(_) if page_seen => return Err(QueryError::BadPage),
            Param::Page { n, .. } => {
                page_seen = true;
                if *n == 0 {
                    return Err(QueryError::BadPage);
                }
                q.page = (*n > 1).then_some(*n);
            }
            Param::BadPage(_) => return Err(QueryError::BadPage),
            Param::Notice(_) if notice_seen => return Err(QueryError::Repeated),
            Param::Notice(v) => {
                notice_seen = true;
                q.rating_notice = RatingNotice::from_query_value(v);
            }
            Param::Other(..) => {}
        }
    }
    Ok(q)
}

/// Names spelled several ways, cycled over the parameters.
fn spellings() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((spelled("page"), spelled("danh-gia")), 1..4)
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn page_query_on_any_text(input in any::<String>()) {
        invariants::page_query(&input);
    }

    #[test]
    fn page_query_on_query_like_text(input in "\\??([a-z%0-9+=&-]|page=|danh-gia=|cam-on){0,30}") {
        invariants::page_query(&input);
    }

    #[test]
    fn page_query_reads_parameter_lists_by_the_rules(
        params in vec(param(), 0..40),
        spellings in spellings(),
    ) {
        let raw = write_query(&params, &spellings);
        prop_assert_eq!(PageQuery::parse(Some(&raw)), expected(&params), "{}", raw);
        invariants::page_query(&raw);
    }

    #[test]
    fn two_pages_are_always_refused(
        mut params in vec(param(), 0..(MAX_QUERY_PAIRS - 2)),
        first in page_param(),
        second in page_param(),
        at in any::<prop::sample::Index>(),
        gap in any::<prop::sample::Index>(),
        spellings in spellings(),
    ) {
        // Two `page`s anywhere among the pairs read, with anything between and around them.
        let i = at.index(params.len() + 1);
        params.insert(i, first);
        let j = i + 1 + gap.index(params.len() - i);
        params.insert(j, second);
        let raw = write_query(&params, &spellings);
        // Refused; as `BadPage` unless a repeated `danh-gia` came first.
        let parsed = PageQuery::parse(Some(&raw));
        prop_assert!(parsed.is_err(), "{} read as {:?}", raw, parsed);
        if !params.iter().any(|p| matches!(p, Param::Notice(_))) {
            prop_assert_eq!(parsed, Err(QueryError::BadPage), "{}", raw);
        }
    }

    #[test]
    fn canonical_form_reads_back(params in vec(param(), 0..12), spellings in spellings()) {
        let raw = write_query(&params, &spellings);
        if let Ok(q) = PageQuery::parse(Some(&raw)) {
            let canonical = q.canonical(true, true);
            prop_assert_eq!(PageQuery::parse(Some(&canonical)), Ok(q), "{}", canonical);
        }
    }
}

/// Inputs fuzzing found, kept so they are checked on every run.
#[test]
fn fuzzing_finds_stay_fixed() {
    // A CSS function in a style swallowed `;` and kept garbage after `text-align:`.
    let style_function: &[u8] = &[
        115, 60, 99, 114, 105, 32, 57, 49, 34, 32, 119, 105, 100, 116, 104, 61, 34, 52, 48, 48, 34,
        32, 104, 101, 105, 103, 103, 99, 97, 112, 116, 105, 111, 110, 62, 67, 104, 195, 186, 32,
        116, 104, 195, 173, 99, 104, 60, 47, 15, 102, 105, 103, 99, 97, 112, 116, 60, 47, 115, 99,
        114, 105, 112, 116, 62, 117, 114, 101, 62, 60, 112, 32, 115, 116, 121, 108, 101, 61, 34,
        116, 101, 120, 116, 45, 97, 108, 105, 103, 110, 58, 99, 101, 110, 116, 101, 60, 105, 109,
        103, 32, 115, 114, 99, 61, 120, 50, 32, 41, 62, 60, 111, 111, 115, 103, 110, 108, 118, 32,
        97, 100, 61, 97, 108, 101, 114, 116, 40, 49, 9, 62, 60, 0, 97, 32, 104, 114, 101, 102, 61,
        230, 149, 190, 137, 65, 38, 35, 120, 48, 57, 59, 83, 99, 82, 105, 80, 116, 6, 35, 53, 56,
        59, 97, 108, 101, 114, 116, 40, 49, 41, 34, 62, 120, 60, 47, 97, 62,
    ];
    invariants::sanitized_html(&String::from_utf8_lossy(style_function));
}
