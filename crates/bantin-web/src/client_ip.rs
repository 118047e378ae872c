//! What trusted reverse proxies tell us about the client: its address (the TCP peer, or the
//! entry the outermost trusted proxy appended to `X-Forwarded-For`) and whether it came over
//! HTTPS (that proxy's `X-Forwarded-Proto` entry). Entries further left were written by the
//! client and are never trusted.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::AppState;

/// The address of the client of a request.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// One `X-Forwarded-For` entry as proxies write it: an address, perhaps with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    // `[v6]` without a port.
    s.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// The entry the outermost of `hops` trusted proxies wrote in header `name`: the `hops`-th
/// from the right of its comma-separated entries (all such headers, in order). `None` without
/// trusted proxies or with fewer entries, so never one only the client wrote.
fn trusted_entry<'a>(headers: &'a HeaderMap, name: &str, hops: usize) -> Option<&'a str> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let i = entries.len().checked_sub(hops)?;
    Some(entries[i].trim())
}

/// The client address given `hops` trusted proxies in front of us: the `hops`-th entry from
/// the right of `X-Forwarded-For`. When there are fewer entries, or that entry is not an
/// address (`unknown`), the peer is used: never an entry the client could have written.
pub fn client_address(headers: &HeaderMap, peer: IpAddr, hops: usize) -> IpAddr {
    trusted_entry(headers, "x-forwarded-for", hops)
        .and_then(parse_entry)
        .unwrap_or(peer)
}

/// Whether the cookies set on the response to a request must be `Secure`: always with
/// `secure_cookies`, and when the trusted proxy says the client came over HTTPS (its
/// `X-Forwarded-Proto` entry, read like `X-Forwarded-For`), so a site behind a TLS-terminating
/// proxy gets them even when the operator forgot the setting.
pub fn secure_cookies(state: &AppState, headers: &HeaderMap) -> bool {
    let s = state.settings();
    s.secure_cookies
        || trusted_entry(headers, "x-forwarded-proto", s.trusted_proxy_hops)
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

impl ClientIp {
    /// The client address of a request's headers and extensions.
    pub(crate) fn from_parts(
        headers: &HeaderMap,
        extensions: &Extensions,
        state: &AppState,
    ) -> IpAddr {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |ci| ci.0.ip());
        client_address(headers, peer, state.settings().trusted_proxy_hops)
    }

    /// The client address of a whole request (for middleware).
    pub fn of(req: &Request, state: &AppState) -> IpAddr {
        Self::from_parts(req.headers(), req.extensions(), state)
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::from_parts(
            &parts.headers,
            &parts.extensions,
            state,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_trusted_proxy_entry_counts() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_address(&xff(&["9.9.9.9, 1.2.3.4"]), peer, 0), peer);
        assert_eq!(
            client_address(&xff(&["9.9.9.9, 1.2.3.4"]), peer, 1),
            ip("1.2.3.4")
        );
        // The proxy appended forms that do not parse as bare addresses: never fall back to
        // the client-written entry before them.
        assert_eq!(
            client_address(&xff(&["9.9.9.9, 1.2.3.4:5678"]), peer, 1),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(&xff(&["9.9.9.9, [2001:db8::1]:443"]), peer, 1),
            ip("2001:db8::1")
        );
        assert_eq!(client_address(&xff(&["9.9.9.9, unknown"]), peer, 1), peer);
        assert_eq!(
            client_address(&xff(&["9.9.9.9", "1.2.3.4"]), peer, 1),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(&xff(&["9.9.9.9, 1.2.3.4, 5.6.7.8"]), peer, 2),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(&xff(&["5.6.7.8"]), peer, 2),
            peer,
            "fewer entries than hops"
        );
        assert_eq!(client_address(&HeaderMap::new(), peer, 1), peer);
    }
}
