//! Outgoing requests to addresses people type (webhook targets, remote pictures an editor
//! pulls into the library): the one guard against server-side request forgery. A host is
//! resolved once, every address it resolves to is checked, and the request then goes to
//! exactly those addresses (no second lookup a rebinding DNS server could answer
//! differently), through no proxy and following no redirect on its own: a caller that follows
//! redirects checks each hop again with [`resolve_checked`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Whether an address is one anyone on the internet could reach: not loopback, private,
/// link-local, shared (CGNAT), unspecified, multicast, broadcast, documentation or reserved,
/// nor such an IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // `::a.b.c.d` (deprecated IPv4-compatible form): some stacks still route it to
            // the IPv4 address.
            if s[..6].iter().all(|&x| x == 0) {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return !v6.is_unspecified()
                    && !v6.is_loopback()
                    && is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            // 6to4 (2002::/16) carries an IPv4 address in its second and third groups.
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                if !is_public_v4(Ipv4Addr::new(a, b, c, d)) {
                    return false;
                }
            }
            !(v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b)) // NAT64
        }
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space (CGNAT)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || o[0] >= 240) // reserved
}

/// Which addresses outgoing requests may go to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Any address, loopback, private and link-local included (tests, intranets).
    pub allow_private: bool,
    /// Non-public addresses allowed one by one (an intranet server), the rest still refused.
    pub allow_addresses: Vec<IpAddr>,
}

impl AddressPolicy {
    /// Whether a request may go to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private
            || is_public_address(ip)
            || self
                .allow_addresses
                .iter()
                .any(|a| canonical(*a) == canonical(ip))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why a request was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Not an `http` or `https` URL with a host (and no user name or password).
    #[error("only http and https addresses are fetched")]
    Scheme,
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {error}")]
    Resolve {
        /// The host.
        host: String,
        /// What the resolver said.
        error: String,
    },
    /// The host has no address.
    #[error("{0} has no address")]
    NoAddress(String),
    /// The host is or resolves to an address the policy refuses.
    #[error("refused: {host} resolves to a non-public address ({ip})")]
    NotPublic {
        /// The host.
        host: String,
        /// The refused address.
        ip: IpAddr,
    },
    /// The HTTP client could not be built.
    #[error("client: {0}")]
    Client(String),
}

/// A URL's host, resolved and checked: the only addresses a request to it may use.
#[derive(Clone, Debug)]
pub(crate) struct Pinned {
    host: String,
    addrs: Vec<SocketAddr>,
    literal: bool,
}

/// Resolves `url`'s host once and checks every address against `policy`.
pub(crate) async fn resolve_checked(
    url: &reqwest::Url,
    policy: &AddressPolicy,
) -> Result<Pinned, NetError> {
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(NetError::Scheme);
    }
    let port = url.port_or_known_default().ok_or(NetError::Scheme)?;
    // The URL parser has already written every spelling of an address (`0x7f.1`,
    // `2130706433`, `[::ffff:7f00:1]`) in its canonical form, which parses as the address.
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(NetError::Scheme)?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let host = host.to_owned();
    let addrs: Vec<SocketAddr> = match literal {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| NetError::Resolve {
                host: host.clone(),
                error: e.to_string(),
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(NetError::NoAddress(host));
    }
    if let Some(bad) = addrs.iter().find(|a| !policy.permits(a.ip())) {
        return Err(NetError::NotPublic { host, ip: bad.ip() });
    }
    Ok(Pinned {
        host,
        addrs,
        literal: literal.is_some(),
    })
}

/// A client that connects only to `pinned`'s addresses, through no proxy, following no
/// redirect, giving up after `timeout`.
pub(crate) fn pinned_client(
    pinned: &Pinned,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, NetError> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(user_agent);
    if !pinned.literal {
        builder = builder.resolve_to_addrs(&pinned.host, &pinned.addrs);
    }
    builder.build().map_err(|e| NetError::Client(e.to_string()))
}

/// An error with its causes, for logs and delivery records.
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// TLS for outgoing requests: rustls with *ring* and the Mozilla roots.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fec0::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!is_public_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "203.0.114.1",
            "8.8.8.8",
            "100.128.0.1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_public_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn policy_allows_one_by_one() {
        let p = AddressPolicy {
            allow_private: false,
            allow_addresses: vec!["127.0.0.1".parse().unwrap()],
        };
        assert!(p.permits("127.0.0.1".parse().unwrap()));
        assert!(p.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!p.permits("127.0.0.2".parse().unwrap()));
        assert!(!p.permits("10.0.0.1".parse().unwrap()));
        assert!(p.permits("8.8.8.8".parse().unwrap()));
    }

    #[tokio::test]
    async fn urls_are_read_before_they_are_checked() {
        let p = AddressPolicy::default();
        for u in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:169.254.169.254]/latest/meta-data/",
            "http://0/",
        ] {
            let url = reqwest::Url::parse(u).unwrap();
            assert!(
                matches!(
                    resolve_checked(&url, &p).await,
                    Err(NetError::NotPublic { .. })
                ),
                "{u}"
            );
        }
        for u in [
            "file:///etc/passwd",
            "ftp://example.vn/a.jpg",
            "gopher://127.0.0.1/",
            "http://user:pw@example.vn/",
        ] {
            let url = reqwest::Url::parse(u).unwrap();
            assert_eq!(
                resolve_checked(&url, &p).await.unwrap_err(),
                NetError::Scheme,
                "{u}"
            );
        }
    }
}
