//! What the application knows about its own URLs, in one place: which paths are reader
//! pages (cacheable), which are sign-in attempts (the stricter limit), where to go after
//! sign-in, and the short codes of notices carried in query strings.

/// Longest request target we accept; real URLs of the site are far shorter.
pub const MAX_URI_LEN: usize = 2048;

/// Longest request target for `path`: searches carry whatever a reader pasted into the box
/// (answered with a "too long" page, not refused), and an API upload's file name is refused
/// by the API itself with its JSON error; everything else stays within [`MAX_URI_LEN`].
pub fn uri_limit(path: &str) -> usize {
    if path == "/search" || path == "/api/v1/search" || path == "/api/v1/media" {
        64 * 1024
    } else {
        MAX_URI_LEN
    }
}

/// Largest form body for `path`: article forms carry whole articles; everything else is small.
pub fn form_limit(path: &str) -> usize {
    if path.starts_with("/admin/articles") {
        4 * 1024 * 1024
    } else {
        64 * 1024
    }
}

/// The site's RSS feed.
pub const SITE_FEED: &str = "/rss.xml";

/// The RSS feed of a category (`/{slug}/`).
pub fn category_feed(category_path: &str) -> String {
    format!("{category_path}rss.xml")
}

/// The JSON session endpoint the idle warning talks to (GET: status, POST: keep-alive).
pub const SESSION_PATH: &str = "/admin/session";
/// The sign-in page.
pub const LOGIN_PATH: &str = "/admin/login";

/// Reader pages: `/`, `/{category}/`, `/tag/{slug}/`, `/{category}/{slug}-{id}.html`, the
/// print views, feeds and sitemaps (`.xml`) and `robots.txt`. Only these are kept in the page
/// cache.
pub fn is_reader_page(path: &str) -> bool {
    (path == "/"
        || path.ends_with('/')
        || path.ends_with(".html")
        || path.ends_with(".xml")
        || path == "/robots.txt")
        && !path.starts_with("/assets/")
        && !path.starts_with("/media/")
        && !path.starts_with("/admin")
        && !is_api(path)
}

/// The JSON API and its document: never kept in the page cache, never personalised.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Paths that never need the session: static files, the health check and the counters.
pub fn is_static(path: &str) -> bool {
    path.starts_with("/assets/")
        || path.starts_with("/media/")
        || path == "/healthz"
        || path == "/metrics"
}

/// Requests that are sign-in attempts (the stricter per-address limit).
pub fn is_login_attempt(path: &str) -> bool {
    matches!(
        path,
        "/admin/login" | "/admin/login/two-step" | "/admin/forgot"
    ) || path.starts_with("/admin/reset/")
}

/// Only local admin paths are followed after sign-in (no open redirect), and only ones that
/// make a valid `Location` header.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with("/admin")
        && !next.starts_with(LOGIN_PATH)
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c == ' ')
        && next.is_ascii()
        && next.len() < 512;
    if ok {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

/// The catalogue key of a notice shown after a redirect (`?tb=…` on admin pages).
pub fn admin_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "da-ket-thuc" => "sessions.ended",
        "da-doi-mat-khau" => "account.password_changed",
        "da-tat" => "two_step.turned_off",
        "luu" => "users.saved",
        "da-doi-thu-tu" => "categories.moved",
        "da-xoa" => "media.deleted",
        _ => return None,
    })
}

/// The catalogue key of a notice on the sign-in page (`?ly-do=…`).
pub fn login_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "het-han" => "login.expired",
        "da-thoat" => "login.signed_out",
        "da-dat-lai" => "reset.done",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths() {
        assert_eq!(safe_next("/admin/users"), "/admin/users");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/admin/login?x",
            "/admin\\..",
            "/admin/\u{1}x",
            "/admin/a\nb",
            "/public",
        ] {
            assert_eq!(safe_next(bad), "/admin", "{bad:?}");
        }
    }

    #[test]
    fn page_paths() {
        assert!(is_reader_page("/"));
        assert!(is_reader_page("/xay-dung-dang/"));
        assert!(is_reader_page("/a/b-1.html"));
        assert!(!is_reader_page("/assets/site.css"));
        assert!(!is_reader_page("/admin/"));
        assert!(!is_reader_page("/healthz"));
        assert!(!is_reader_page("/api/v1/categories/"));
        assert!(!is_reader_page("/api/v1/x.html"));
    }
}
