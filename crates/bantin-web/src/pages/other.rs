//! The rest of the public surface: static assets, the health check and the 404 of unknown
//! paths.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::{AppState, WebError};

/// `GET /assets/{file}`: fingerprinted, cached for a year.
pub(crate) async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    state
        .assets()
        .response(&file, &headers)
        .unwrap_or_else(|| WebError::NotFound.into_response())
}

/// Fallback for unknown paths: the styled 404.
pub(crate) async fn not_found() -> WebError {
    WebError::NotFound
}

/// `GET /healthz`: 200 when the database answers within two seconds (a load balancer must
/// learn of an outage at once, not after the pool's acquire timeout).
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.store().ping());
    match ping.await {
        Ok(Ok(())) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer within 2 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
