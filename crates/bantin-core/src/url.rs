//! The one reading of reader URLs: article file names and the query strings of reader pages,
//! shared by the handlers and the page cache so that both always agree on what a URL means.
//!
//! A URL that could be read two ways (say `?page=2&page=1`, where one reader takes the first
//! value and another the last) lets a visitor store one page under another page's cache key,
//! so the rule here is: a query either means exactly one thing, or it is refused.

use std::fmt;

/// Splits `{slug}-{id}.html` into the slug and a positive id; anything else is no article.
///
/// The slug part is returned as written (it may be empty or not a valid slug): the id decides
/// which article it is, and the handler redirects any other slug to the canonical URL.
pub fn parse_article_file(file: &str) -> Option<(&str, i64)> {
    let stem = file.strip_suffix(".html")?;
    let (slug, id) = match stem.rsplit_once('-') {
        Some((slug, id)) => (slug, id),
        None => ("", stem),
    };
    // 18 digits always fit an i64, so the parse below cannot overflow; `parse` alone would
    // also take a leading `+`.
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    (id > 0).then_some((slug, id))
}

/// How many `name=value` pairs of a query string are read; the rest are ignored, so a huge
/// query costs no more than a short one.
pub const MAX_QUERY_PAIRS: usize = 32;

/// The query parameter with the page number of a category list.
const PAGE: &str = "page";
/// The query parameter with the outcome of a rating vote made without JavaScript.
const NOTICE: &str = "danh-gia";

/// The notice an article page shows after a rating vote made without JavaScript
/// (`?danh-gia=…`, where the vote's redirect points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatingNotice {
    /// The vote was counted (`cam-on`).
    Thanks,
    /// This visitor had already rated the article (`da-danh-gia`).
    Already,
    /// Too many votes on the article came from the visitor's network address (`gioi-han`).
    AddressLimit,
}

impl RatingNotice {
    /// Every notice, for tests and for code that lists them.
    pub const ALL: [Self; 3] = [Self::Thanks, Self::Already, Self::AddressLimit];

    /// The notice a `danh-gia` query value names, if any.
    pub fn from_query_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == value)
    }

    /// The value of the `danh-gia` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thanks => "cam-on",
            Self::Already => "da-danh-gia",
            Self::AddressLimit => "gioi-han",
        }
    }

    /// The key of the notice's text in the UI string catalogue.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Thanks => "rating.thanks",
            Self::Already => "rating.already",
            Self::AddressLimit => "rating.address_limit",
        }
    }
}

impl fmt::Display for RatingNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the query string of a reader page asks for. Parameters no page uses (tracking
/// parameters such as `utm_source` or `fbclid`) are dropped, so they share one cache entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageQuery {
    /// The page of a category list; `None` is the first page (`?page=1` reads as `None`, since
    /// the first page's URL has no query).
    pub page: Option<u32>,
    /// The rating notice to show on an article page.
    pub rating_notice: Option<RatingNotice>,
}

/// Why a query string is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `page` is not a whole number from 1 up to 4294967295 in decimal digits, or is given
    /// more than once.
    #[error("số trang không hợp lệ")]
    BadPage,
    /// A parameter the page reads is given more than once, so it has no single meaning.
    #[error("tham số xuất hiện nhiều lần")]
    Repeated,
}

impl PageQuery {
    /// Reads a raw query string (without or with its leading `?`), percent- and `+`-decoded
    /// like a form, looking at no more than [`MAX_QUERY_PAIRS`] pairs.
    ///
    /// # Errors
    ///
    /// [`QueryError::BadPage`] for a `page` that is not decimal digits naming a page from 1 up
    /// (leading zeros are fine), or for a repeated `page`; [`QueryError::Repeated`] for a
    /// repeated `danh-gia`. An unknown `danh-gia` value is ignored.
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let Some(raw) = raw else {
            return Ok(Self::default());
        };
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let mut page_seen = false;
        let mut notice_seen = false;
        let mut query = Self::default();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()).take(MAX_QUERY_PAIRS) {
            match name.as_ref() {
                PAGE => {
                    if page_seen {
                        return Err(QueryError::BadPage);
                    }
                    page_seen = true;
                    let page = parse_page(&value).ok_or(QueryError::BadPage)?;
                    query.page = (page > 1).then_some(page);
                }
                NOTICE => {
                    if notice_seen {
                        return Err(QueryError::Repeated);
                    }
                    notice_seen = true;
                    query.rating_notice = RatingNotice::from_query_value(&value);
                }
                _ => {}
            }
        }
        Ok(query)
    }

    /// The page number, 1 when the query names none.
    pub fn page_number(&self) -> u32 {
        self.page.unwrap_or(1)
    }

    /// The canonical query string of this query on a page that reads `page` (`uses_page`)
    /// and/or `danh-gia` (`uses_notice`): empty, or `?page=2`, `?danh-gia=cam-on`,
    /// `?page=2&danh-gia=cam-on`. The first page is the plain URL, so `page=1` is left out.
    pub fn canonical(&self, uses_page: bool, uses_notice: bool) -> String {
        let mut out = String::new();
        if let Some(page) = self.page.filter(|&p| uses_page && p > 1) {
            out.push_str("?page=");
            out.push_str(&page.to_string());
        }
        if let Some(notice) = self.rating_notice.filter(|_| uses_notice) {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str(NOTICE);
            out.push('=');
            out.push_str(notice.as_str());
        }
        out
    }
}

/// A page number in decimal digits only: `u32::from_str` alone would also take `+2`.
fn parse_page(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Leading zeros never overflow `from_str`; a value above `u32::MAX` does and is refused.
    value.parse::<u32>().ok().filter(|&p| p >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<PageQuery, QueryError> {
        PageQuery::parse(Some(raw))
    }

    fn page(p: u32) -> PageQuery {
        PageQuery {
            page: Some(p),
            rating_notice: None,
        }
    }

    #[test]
    fn article_file_names() {
        assert_eq!(parse_article_file("dang-bo-1.html"), Some(("dang-bo", 1)));
        assert_eq!(parse_article_file("12.html"), Some(("", 12)));
        assert_eq!(parse_article_file("a-b-c-42.html"), Some(("a-b-c", 42)));
        assert_eq!(
            parse_article_file("x-999999999999999999.html"),
            Some(("x", 999_999_999_999_999_999))
        );
        for bad in [
            "x.html",
            "x-0.html",
            "x-.html",
            "x-12",
            "x-12.htm",
            "x-99999999999999999999.html",
            "x-1000000000000000000.html",
            "x-+1.html",
            "x-1 .html",
            "x-١.html",
            ".html",
            "-.html",
            "",
        ] {
            assert_eq!(parse_article_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_query_is_the_first_page() {
        assert_eq!(PageQuery::parse(None), Ok(PageQuery::default()));
        assert_eq!(parse(""), Ok(PageQuery::default()));
        assert_eq!(parse("?"), Ok(PageQuery::default()));
        assert_eq!(PageQuery::default().page_number(), 1);
    }

    #[test]
    fn page_numbers() {
        assert_eq!(parse("?page=2"), Ok(page(2)));
        assert_eq!(parse("page=2"), Ok(page(2)));
        assert_eq!(parse("?page=0002"), Ok(page(2)));
        assert_eq!(parse("?page=%32"), Ok(page(2)));
        assert_eq!(parse("?p%61ge=3"), Ok(page(3)));
        assert_eq!(parse("?page=4294967295"), Ok(page(u32::MAX)));
        assert_eq!(parse("?page=00000000000000000000000007"), Ok(page(7)));
        assert_eq!(parse("?page=2").unwrap().page_number(), 2);
        // The first page is the plain URL: `page=1` means no page.
        assert_eq!(parse("?page=1"), Ok(PageQuery::default()));
        assert_eq!(parse("?page=01"), Ok(PageQuery::default()));
    }

    #[test]
    fn bad_page_numbers_are_refused() {
        for bad in [
            "?page=",
            "?page",
            "?page=0",
            "?page=000",
            "?page=-1",
            "?page=+2",
            "?page=%2B2",
            "?page=+",
            "?page=2%20",
            "?page=2.0",
            "?page=1e3",
            "?page=4294967296",
            "?page=99999999999999999999",
            "?page=٢",
            "?page=x",
        ] {
            assert_eq!(parse(bad), Err(QueryError::BadPage), "{bad}");
        }
    }

    #[test]
    fn a_repeated_page_is_refused_whichever_value_comes_first() {
        // The cache key once read the first `page` and the handler the last.
        assert_eq!(parse("?page=2&page=1"), Err(QueryError::BadPage));
        assert_eq!(parse("?page=1&page=2"), Err(QueryError::BadPage));
        assert_eq!(parse("?page=2&page=2"), Err(QueryError::BadPage));
        assert_eq!(
            parse("?page=2&utm_source=x&p%61ge=3"),
            Err(QueryError::BadPage)
        );
    }

    #[test]
    fn rating_notices() {
        for n in RatingNotice::ALL {
            let q = parse(&format!("?danh-gia={n}")).unwrap();
            assert_eq!(q.rating_notice, Some(n));
            assert_eq!(RatingNotice::from_query_value(n.as_str()), Some(n));
        }
        assert_eq!(RatingNotice::Thanks.as_str(), "cam-on");
        assert_eq!(RatingNotice::Already.as_str(), "da-danh-gia");
        assert_eq!(RatingNotice::AddressLimit.as_str(), "gioi-han");
        assert_eq!(RatingNotice::Thanks.message_key(), "rating.thanks");
        assert_eq!(RatingNotice::Already.message_key(), "rating.already");
        assert_eq!(
            RatingNotice::AddressLimit.message_key(),
            "rating.address_limit"
        );
        // Unknown values are ignored, not errors: the page shows no notice.
        assert_eq!(parse("?danh-gia=xyz"), Ok(PageQuery::default()));
        assert_eq!(parse("?danh-gia="), Ok(PageQuery::default()));
        assert_eq!(parse("?danh-gia=CAM-ON"), Ok(PageQuery::default()));
    }

    #[test]
    fn a_repeated_notice_is_refused() {
        assert_eq!(
            parse("?danh-gia=cam-on&danh-gia=gioi-han"),
            Err(QueryError::Repeated)
        );
        assert_eq!(
            parse("?danh-gia=xyz&danh-gia=cam-on"),
            Err(QueryError::Repeated)
        );
        assert_eq!(
            parse("?danh-gia=cam-on&danh-gia=cam-on"),
            Err(QueryError::Repeated)
        );
    }

    #[test]
    fn other_parameters_are_ignored() {
        assert_eq!(
            parse("?utm_source=fb&fbclid=abc&page=3&utm_source=zalo&Page=9&danh-gia=cam-on"),
            Ok(PageQuery {
                page: Some(3),
                rating_notice: Some(RatingNotice::Thanks),
            })
        );
        assert_eq!(parse("?&&=&page=2&&"), Ok(page(2)));
    }

    #[test]
    fn only_the_first_pairs_are_read() {
        let filler = "x=1&".repeat(MAX_QUERY_PAIRS - 1);
        assert_eq!(parse(&format!("{filler}page=2")), Ok(page(2)));
        // The 33rd pair is not read at all, by the cache key or by the handler alike.
        assert_eq!(
            parse(&format!("{filler}x=1&page=2&page=3")),
            Ok(PageQuery::default())
        );
        assert_eq!(
            parse(&format!("{filler}page=2&page=3")),
            Ok(page(2)),
            "the repetition lies past the pairs read"
        );
    }

    #[test]
    fn canonical_query_strings() {
        let both = PageQuery {
            page: Some(2),
            rating_notice: Some(RatingNotice::Thanks),
        };
        assert_eq!(both.canonical(true, true), "?page=2&danh-gia=cam-on");
        assert_eq!(both.canonical(true, false), "?page=2");
        assert_eq!(both.canonical(false, true), "?danh-gia=cam-on");
        assert_eq!(both.canonical(false, false), "");
        assert_eq!(PageQuery::default().canonical(true, true), "");
        // Built by hand rather than parsed: page 1 (and the meaningless 0) is still the plain URL.
        assert_eq!(page(1).canonical(true, true), "");
        assert_eq!(page(0).canonical(true, true), "");
        let notice_only = PageQuery {
            page: None,
            rating_notice: Some(RatingNotice::AddressLimit),
        };
        assert_eq!(notice_only.canonical(true, true), "?danh-gia=gioi-han");
    }

    #[test]
    fn canonical_form_reads_back_the_same() {
        for raw in [
            "",
            "?page=2",
            "?page=0002&fbclid=x",
            "?danh-gia=da-danh-gia&page=7",
            "?page=4294967295&danh-gia=gioi-han",
        ] {
            let q = parse(raw).unwrap();
            assert_eq!(parse(&q.canonical(true, true)), Ok(q), "{raw}");
        }
        assert_eq!(
            parse("?danh-gia=da-danh-gia&page=7")
                .unwrap()
                .canonical(true, true),
            "?page=7&danh-gia=da-danh-gia"
        );
    }
}
