//! Signing with the installation secret, client addresses, and a guard against abusive
//! request targets.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::{AppState, MAX_URI_LEN, WebError};

type HmacSha256 = Hmac<Sha256>;

/// Keyed hashes and tokens derived from the installation secret.
#[derive(Clone)]
pub(crate) struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac
    }

    /// A hex token binding `data` to `purpose`, 128 bits.
    pub(crate) fn token(&self, purpose: &str, data: &[u8]) -> String {
        let bytes = self.mac(purpose, data).finalize().into_bytes();
        hex::encode(&bytes[..16])
    }

    /// Checks a token from [`Signer::token`] in constant time.
    pub(crate) fn verify(&self, purpose: &str, data: &[u8], token: &str) -> bool {
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        bytes.len() == 16
            && self
                .mac(purpose, data)
                .verify_truncated_left(&bytes)
                .is_ok()
    }
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop when configured to sit
/// behind a reverse proxy (earlier hops are client-supplied and not trusted).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientIp(pub IpAddr);

impl ClientIp {
    fn from_parts(
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
        state: &AppState,
    ) -> IpAddr {
        if state.settings().behind_proxy
            && let Some(ip) = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return ip;
        }
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]))
    }

    /// The client address of a whole request (for middleware).
    pub(crate) fn of(req: &Request, state: &AppState) -> IpAddr {
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

/// Whether the client asked for JSON (scripts) rather than a page.
pub(crate) fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `bytes` random bytes from the operating system, hex-encoded.
pub(crate) fn random_hex(bytes: usize) -> Result<String, WebError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| WebError::Internal(format!("randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// Rejects request targets no page of ours has: overlong ones (414) and paths holding
/// control characters or dot segments (404), before routing does any work.
pub(crate) async fn guard_request(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI_LEN {
        return (StatusCode::URI_TOO_LONG, "URI too long").into_response();
    }
    let path = uri.path();
    if path.split('/').any(|seg| seg == ".." || seg == ".") || path.contains("%00") {
        return WebError::NotFound.into_response();
    }
    next.run(req).await
}
