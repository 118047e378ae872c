//! JSON request bodies read strictly: `application/json` only, at most the `api_body_limit`
//! setting, valid JSON, and the shape the operation documents (wrong types, missing or unknown
//! fields refused). Each failure has its own code; the handler never runs.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::AppState;

/// A JSON body of type `T`.
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let c = state.catalog();
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                c,
            ));
        }
        let limit = state.settings().api_body_limit;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", c))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = T::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
        match value {
            Ok(v) => Ok(Self(v)),
            Err(e) if e.is_data() => {
                Err(
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", c)
                        .with_message(format!("{}: {e}", c.get("api.invalid_body"))),
                )
            }
            Err(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", c)),
        }
    }
}
