//! Who calls the API: an `Authorization: Bearer …` token checked by the services (revoked,
//! expired, disabled accounts refused, each with its code), the per-token (or per-address)
//! request limit, and the extractors handlers take: [`Caller`] for reads (a token is
//! optional), [`Writer`] for writes (a token that may write).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bantin_app::{Actor, TokenCheck, TokenHolder, hash_token};

use super::ApiError;
use crate::AppState;
use crate::client_ip::ClientIp;
use crate::limits::ApiKey;

/// The bearer token of a request: `None` without an `Authorization` header, an error for any
/// other scheme or a malformed header.
fn bearer<'a>(headers: &'a HeaderMap, state: &AppState) -> Result<Option<&'a str>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", state.catalog());
    let v = v.to_str().map_err(|_| invalid())?;
    let (scheme, token) = v.trim().split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid());
    }
    Ok(Some(token.trim()))
}

/// Applies the API request limit: per presented token, else per address.
pub(crate) async fn limit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    let key = match bearer(req.headers(), &state) {
        Ok(Some(t)) => ApiKey::Token(hash_token(t)),
        _ => ApiKey::Address(ip),
    };
    if let Some(wait) = state.limiters().check_api(&key) {
        tracing::info!(%ip, wait, "API request limit reached");
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            state.catalog(),
        );
        e.retry_after = Some(wait);
        return e.into_response();
    }
    next.run(req).await
}

/// The caller of a read: anonymous, or a valid token's account.
pub(crate) struct Caller {
    /// The token's account, when a token was presented.
    pub holder: Option<TokenHolder>,
}

async fn check(parts: &Parts, state: &AppState) -> Result<Option<(TokenHolder, String)>, ApiError> {
    let Some(token) = bearer(&parts.headers, state)? else {
        return Ok(None);
    };
    let ip = ClientIp::from_parts(&parts.headers, &parts.extensions, state).to_string();
    let c = state.catalog();
    let refused = |code| ApiError::new(StatusCode::UNAUTHORIZED, code, c);
    match state
        .app()
        .check_api_token(token, &ip)
        .await
        .map_err(|e| ApiError::from_app(e, state))?
    {
        TokenCheck::Valid(holder) => Ok(Some((*holder, ip))),
        TokenCheck::Unknown => Err(refused("invalid_token")),
        TokenCheck::Revoked => Err(refused("token_revoked")),
        TokenCheck::Expired => Err(refused("token_expired")),
        TokenCheck::AccountDisabled => Err(refused("account_disabled")),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self {
            holder: check(parts, state).await?.map(|(h, _)| h),
        })
    }
}

/// The caller of a write: a valid token that is not read-only.
pub(crate) struct Writer {
    /// The token's account and rights.
    pub holder: TokenHolder,
    /// The client address, for audit entries.
    pub ip: String,
}

impl Writer {
    /// The account acting, for the services' audit entries.
    pub fn actor(&self) -> Actor {
        self.holder.actor(&self.ip)
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let c = state.catalog();
        let Some((holder, ip)) = check(parts, state).await? else {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "token_required", c));
        };
        if holder.token.read_only {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "read_only_token", c));
        }
        Ok(Self { holder, ip })
    }
}
