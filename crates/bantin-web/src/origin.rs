//! The site's own address for absolute URLs (canonical links, Open Graph, JSON-LD, feeds and
//! sitemaps): the `public_url` setting, or else the request's scheme and host — and then only
//! a host the `allowed_hosts` setting lists, so a forged `Host` header never reaches a link or
//! a cached page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::AppState;
use crate::client_ip::secure_cookies;

/// Longest `Host` header considered.
const MAX_HOST: usize = 260;

/// The scheme and host absolute URLs start with (`https://example.vn`, no trailing `/`), or
/// `None` when the request came under a host the settings do not list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin(pub Option<String>);

impl Origin {
    /// `path` (starting with `/`) as an absolute URL, or as it is when the origin is unknown.
    pub(crate) fn url(&self, path: &str) -> String {
        match &self.0 {
            Some(base) => format!("{base}{path}"),
            None => path.to_owned(),
        }
    }
}

/// The host part of a `Host` header (`example.vn:8080` → `example.vn`, `[::1]:80` →
/// `[::1]`), lower-cased, if it is made of the characters a host name or address may have.
fn host_name(host: &str) -> Option<String> {
    if host.is_empty() || host.len() > MAX_HOST {
        return None;
    }
    let ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !ok {
        return None;
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        if !(after.is_empty() || after.starts_with(':')) {
            return None;
        }
        &host[..end + 2]
    } else {
        match host.split_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return None,
            None => host,
        }
    };
    Some(name.to_ascii_lowercase())
}

/// The origin of a request: `public_url`, else its own scheme and host when that host is
/// allowed.
pub(crate) fn origin_of(state: &AppState, headers: &HeaderMap) -> Origin {
    let s = state.settings();
    if let Some(public) = &s.public_url {
        return Origin(Some(public.clone()));
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Origin(None);
    };
    let Some(name) = host_name(host) else {
        return Origin(None);
    };
    if !s.allowed_hosts.contains(&name) {
        return Origin(None);
    }
    let scheme = if secure_cookies(state, headers) {
        "https"
    } else {
        "http"
    };
    Origin(Some(format!("{scheme}://{}", host.to_ascii_lowercase())))
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(origin_of(state, &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_are_read_strictly() {
        assert_eq!(host_name("Example.VN:8080").as_deref(), Some("example.vn"));
        assert_eq!(host_name("localhost").as_deref(), Some("localhost"));
        assert_eq!(host_name("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        for bad in [
            "",
            "evil.example/x",
            "a b",
            "x:80:90",
            "x:abc",
            "[::1]x",
            "<script>",
            "host\"",
        ] {
            assert_eq!(host_name(bad), None, "{bad}");
        }
    }
}
