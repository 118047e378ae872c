//! Input at the edge: form bodies decoded strictly, forms that carry a valid CSRF token (or
//! never reach the handler), and ids parsed from paths. Handlers receive checked values only.

use std::str::FromStr;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::auth::CurrentUser;
use crate::cookies::LOGIN_COOKIE;
use crate::{AppState, WebError};

/// A form body (repeated fields fill `Vec`s), refused with a clear 400 page when it is not
/// valid URL-encoded UTF-8: form decoding would otherwise replace invalid bytes, and a
/// mangled password would be hashed and compared.
pub struct StrictForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for StrictForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let malformed = || {
            WebError::BadRequest(state.catalog().get("form.malformed").to_owned()).into_response()
        };
        let (parts, body) = req.into_parts();
        let limit = crate::routes::form_limit(parts.uri.path());
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| malformed())?;
        if !strictly_utf8(&bytes) {
            tracing::info!("form with invalid UTF-8");
            return Err(malformed());
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(v)) => Ok(Self(v)),
            Err(e) => {
                tracing::info!(error = %e, "malformed form");
                Err(malformed())
            }
        }
    }
}

/// Whether every key and value of a URL-encoded body decodes to valid UTF-8.
fn strictly_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.split(|b| *b == b'='))
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

/// A form protected by a CSRF token in its `csrf` field.
pub trait CsrfProtected: DeserializeOwned + Send + Sized {
    /// The token the form carried.
    fn csrf(&self) -> &str;

    /// The answer when the token is missing or stale. By default a 403 page saying so;
    /// forms override it to show themselves again with what was typed.
    fn refused(self, state: &AppState, parts: &Parts) -> impl Future<Output = Response> + Send {
        let _ = (self, parts);
        let message = state.catalog().get("form.stale").to_owned();
        async move { WebError::Refused(StatusCode::FORBIDDEN, message).into_response() }
    }
}

/// A form whose CSRF token is valid: for the signed-in user's session, or — before sign-in —
/// for the browser's sign-in cookie. A handler taking it never runs on a forged request.
pub struct CsrfForm<T>(pub T);

/// Whether `token` is the CSRF token of the request's session or of its sign-in cookie (the
/// forms shown before sign-in; a browser may still carry an old session meanwhile). Both are
/// secrets of this browser that another site cannot read.
pub fn csrf_valid(state: &AppState, parts: &Parts, token: &str) -> bool {
    if token.len() > 64 {
        return false;
    }
    parts
        .extensions
        .get::<CurrentUser>()
        .is_some_and(|cu| cu.csrf_ok(state, token))
        || crate::cookies::find(&parts.headers, LOGIN_COOKIE)
            .is_some_and(|c| state.signer().verify("login", c.as_bytes(), token))
}

impl<T: CsrfProtected + 'static> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let StrictForm(form) =
            StrictForm::<T>::from_request(Request::from_parts(parts.clone(), body), state).await?;
        if csrf_valid(state, &parts, form.csrf()) {
            return Ok(Self(form));
        }
        tracing::info!(
            path = parts.uri.path(),
            "form with a missing or stale CSRF token"
        );
        let mut res = form.refused(state, &parts).await;
        if res.status().is_success() || res.status().is_redirection() {
            *res.status_mut() = StatusCode::FORBIDDEN;
        }
        Err(res)
    }
}

/// A form carrying nothing but its token.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TokenOnly {
    csrf: String,
}

impl CsrfProtected for TokenOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The signed-in account of a request's parts, for [`CsrfProtected::refused`].
pub fn user_of(parts: &Parts) -> Option<&CurrentUser> {
    parts.extensions.get::<CurrentUser>()
}

/// A path segment parsed into a domain value (an id); anything else is a 404, never a 400
/// with parser details.
pub struct Parsed<T>(pub T);

impl<T: FromStr + Send> FromRequestParts<AppState> for Parsed<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::NotFound)?;
        raw.parse().map(Self).map_err(|_| WebError::NotFound)
    }
}
