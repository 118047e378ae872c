//! The web layer's error type: the cause is logged, the reader gets a styled page with a
//! clear message and the right status.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No such page, or one readers may not see (indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// The client sent something we cannot use; the message says what, in the UI language.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request was understood but refused with this 4xx status; the message says why.
    #[error("refused ({0}): {1}")]
    Refused(StatusCode, String),
    /// Something on our side failed; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<bantin_store::StoreError> for WebError {
    fn from(e: bantin_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Marks a response whose body the error-page middleware should render.
#[derive(Clone, Debug)]
pub(crate) struct ErrorPage {
    pub message: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, None),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, Some(m)),
            Self::Refused(status, m) => (status, Some(m)),
            Self::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorPage { message });
        res
    }
}

/// Replaces the body of error responses marked with [`ErrorPage`] by the styled error page.
pub(crate) async fn render_error_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let res = next.run(req).await;
    let Some(page) = res.extensions().get::<ErrorPage>().cloned() else {
        return res;
    };
    let status = res.status();
    match crate::pages::error_page(&state, status, page.message.as_deref()).await {
        Ok(html) => {
            let mut out = (status, Html(html)).into_response();
            // Headers the handler set (Retry-After, Set-Cookie, …) stay.
            for (name, value) in res.headers() {
                if name != axum::http::header::CONTENT_TYPE
                    && name != axum::http::header::CONTENT_LENGTH
                {
                    out.headers_mut().append(name, value.clone());
                }
            }
            out.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            out
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page failed");
            (status, status.canonical_reason().unwrap_or("error")).into_response()
        }
    }
}
