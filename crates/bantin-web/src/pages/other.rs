//! The rest of the public surface: static assets, the health check, the counters and the 404
//! of unknown paths.

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

/// `GET /metrics`: the page cache's counters in the Prometheus text format (hits, misses,
/// entries held, their bytes and the budget); all zero with the cache off. Counts only: no
/// paths, no addresses.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let s = match state.page_cache() {
        Some(c) => Some(c.stats().await),
        None => None,
    };
    let rows = [
        (
            "bantin_page_cache_hits_total",
            "counter",
            "Reader requests answered from the page cache.",
            s.map_or(0, |s| s.hits),
        ),
        (
            "bantin_page_cache_misses_total",
            "counter",
            "Cacheable reader requests that found no current entry.",
            s.map_or(0, |s| s.misses),
        ),
        (
            "bantin_page_cache_entries",
            "gauge",
            "Pages held in the page cache, current or not.",
            s.map_or(0, |s| s.entries),
        ),
        (
            "bantin_page_cache_bytes",
            "gauge",
            "Bytes those pages count against the budget (all encodings).",
            s.map_or(0, |s| s.bytes),
        ),
        (
            "bantin_page_cache_max_bytes",
            "gauge",
            "The page cache's budget.",
            s.map_or(0, |s| s.max_bytes),
        ),
    ];
    let mut body = String::new();
    for (name, kind, help, value) in rows {
        let _ = write!(
            body,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    }
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
