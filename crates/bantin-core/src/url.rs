//! One parser for the parts of reader URLs that decide what a page shows: the article file
//! name and the query parameters pages use. The page cache and the handlers both read requests
//! through it, so they can never disagree about which page a request means.

/// Splits `{slug}-{id}.html` into the slug and a positive id (at most 18 digits); anything
/// else is no article.
pub fn parse_article_file(file: &str) -> Option<(&str, i64)> {
    let stem = file.strip_suffix(".html")?;
    let (slug, id) = match stem.rsplit_once('-') {
        Some((slug, id)) => (slug, id),
        None => ("", stem),
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    (id > 0).then_some((slug, id))
}

/// The notice shown on an article page after a vote without JavaScript (`?danh-gia=…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatingNotice {
    /// The vote was counted.
    Thanks,
    /// This visitor had already voted.
    Already,
    /// The address reached its cap.
    AddressLimit,
}

impl RatingNotice {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thanks => "cam-on",
            Self::Already => "da-danh-gia",
            Self::AddressLimit => "gioi-han",
        }
    }

    /// The UI catalogue key of its message.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Thanks => "rating.thanks",
            Self::Already => "rating.already",
            Self::AddressLimit => "rating.address_limit",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "cam-on" => Self::Thanks,
            "da-danh-gia" => Self::Already,
            "gioi-han" => Self::AddressLimit,
            _ => return None,
        })
    }
}

/// Why a query string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `page` is not a positive decimal number.
    #[error("bad page number")]
    BadPage,
    /// A parameter pages use appears more than once.
    #[error("repeated parameter")]
    Repeated,
}

/// The query parameters reader pages use; everything else (tracking parameters, cache
/// busters) is ignored, so such URLs share one cache entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageQuery {
    /// `page`, when given.
    pub page: Option<u32>,
    /// `danh-gia`, when given with a known value.
    pub rating_notice: Option<RatingNotice>,
}

/// Pairs looked at; a longer query is cut there.
const MAX_PAIRS: usize = 32;

impl PageQuery {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let mut q = Self::default();
        let (mut seen_page, mut seen_notice) = (false, false);
        let Some(raw) = raw else {
            return Ok(q);
        };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()).take(MAX_PAIRS) {
            match k.as_ref() {
                "page" => {
                    if std::mem::replace(&mut seen_page, true) {
                        return Err(QueryError::Repeated);
                    }
                    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(QueryError::BadPage);
                    }
                    let n: u32 = v.parse().map_err(|_| QueryError::BadPage)?;
                    if n == 0 {
                        return Err(QueryError::BadPage);
                    }
                    q.page = Some(n);
                }
                "danh-gia" => {
                    if std::mem::replace(&mut seen_notice, true) {
                        return Err(QueryError::Repeated);
                    }
                    q.rating_notice = RatingNotice::parse(&v);
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// The canonical query string of the parameters a page uses (`""`, `"?page=2"`, …);
    /// page 1 is the plain URL.
    pub fn canonical(&self, uses_page: bool, uses_notice: bool) -> String {
        let mut out = String::new();
        if uses_page && let Some(p) = self.page.filter(|p| *p > 1) {
            out.push_str(&format!("?page={p}"));
        }
        if uses_notice && let Some(n) = self.rating_notice {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str("danh-gia=");
            out.push_str(n.as_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_file_names() {
        assert_eq!(parse_article_file("dang-bo-1.html"), Some(("dang-bo", 1)));
        assert_eq!(parse_article_file("12.html"), Some(("", 12)));
        assert_eq!(parse_article_file("a-b-c-42.html"), Some(("a-b-c", 42)));
        for bad in [
            "x.html",
            "x-0.html",
            "x-.html",
            "x-12",
            "x-12.htm",
            "x-99999999999999999999.html",
            "x-+1.html",
            "x-1 .html",
        ] {
            assert_eq!(parse_article_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries() {
        let p = |s: &str| PageQuery::parse(Some(s));
        assert_eq!(p("page=0002").unwrap().page, Some(2));
        assert_eq!(p("page=2&page=1"), Err(QueryError::Repeated));
        assert_eq!(p("page="), Err(QueryError::BadPage));
        assert_eq!(p("page=0"), Err(QueryError::BadPage));
        assert_eq!(p("page=-1"), Err(QueryError::BadPage));
        assert_eq!(p("page=99999999999"), Err(QueryError::BadPage));
        assert_eq!(p("danh-gia=cam-on&danh-gia=x"), Err(QueryError::Repeated));
        assert_eq!(p("utm_source=x&fbclid=y").unwrap(), PageQuery::default());
        assert_eq!(p("danh-gia=bogus").unwrap().rating_notice, None);
        let q = p("x=1&page=3&danh-gia=gioi-han").unwrap();
        assert_eq!(q.canonical(true, true), "?page=3&danh-gia=gioi-han");
        assert_eq!(q.canonical(false, true), "?danh-gia=gioi-han");
        assert_eq!(q.canonical(true, false), "?page=3");
        assert_eq!(p("page=1").unwrap().canonical(true, true), "");
        assert_eq!(PageQuery::parse(None).unwrap(), PageQuery::default());
    }
}
