//! The API's one error type: every refusal is `{ "error": { "code": "…", "message": "…" } }`
//! with a stable code (documented in the OpenAPI document) and the right 4xx; the cause of an
//! internal failure goes to the log, never to the client.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use bantin_app::AppError;
use bantin_core::workflow::WorkflowError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppState, Catalog};

/// An API error body.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code: `malformed_json`, `invalid_body`, `invalid_fields`,
    /// `invalid_query`, `invalid_cursor`, `unknown_category`, `invalid_idempotency_key`,
    /// `unsupported_media_type`, `body_too_large`, `token_required`, `invalid_token`,
    /// `token_revoked`, `token_expired`, `account_disabled`, `read_only_token`, `forbidden`,
    /// `not_found`, `stale_revision`, `revision_required`, `wrong_status`, `reason_required`,
    /// `slug_taken`, `category_cycle`, `empty_file`, `invalid_file`, `unsupported_file_type`,
    /// `image_too_large`, `too_many_requests`, `internal`.
    pub code: &'static str,
    /// What happened, in the site's interface language.
    pub message: String,
    /// Per-field problems (`invalid_fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// The article's revision now (`stale_revision`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<i64>,
    /// Seconds to wait (`too_many_requests`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Why an API request failed.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Box<str>,
    pub fields: Option<BTreeMap<String, String>>,
    pub current_revision: Option<i64>,
    pub retry_after: Option<u64>,
    /// Logged, never shown.
    pub cause: Option<Box<str>>,
}

impl ApiError {
    /// A refusal with this status and code, worded from catalogue key `api.<code>`.
    pub fn new(status: StatusCode, code: &'static str, catalog: &Catalog) -> Self {
        Self {
            status,
            code,
            message: catalog.get(&format!("api.{code}")).into(),
            fields: None,
            current_revision: None,
            retry_after: None,
            cause: None,
        }
    }

    /// The same, with a message of the caller's.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into().into_boxed_str();
        self
    }

    /// An internal failure with its cause, for the log.
    pub fn internal(cause: impl std::fmt::Display, catalog: &Catalog) -> Self {
        Self {
            cause: Some(cause.to_string().into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", catalog)
        }
    }

    /// Field problems (catalogue keys by field), 422 `invalid_fields`.
    pub fn fields(errors: &crate::article_input::FieldErrors, state: &AppState) -> Self {
        let catalog = state.catalog();
        Self {
            fields: Some(
                errors
                    .iter()
                    .map(|(f, key)| ((*f).to_owned(), catalog.get(key).to_owned()))
                    .collect(),
            ),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", catalog)
        }
    }

    /// A service's refusal.
    pub fn from_app(e: AppError, state: &AppState) -> Self {
        use StatusCode as S;
        let c = state.catalog();
        match e {
            AppError::NotFound => Self::new(S::NOT_FOUND, "not_found", c),
            AppError::Stale(now) => Self {
                current_revision: Some(now),
                ..Self::new(S::CONFLICT, "stale_revision", c)
            },
            AppError::SlugTaken => Self::new(S::CONFLICT, "slug_taken", c),
            AppError::UnknownCategory => Self::fields(
                &crate::article_input::FieldErrors::from([("category", "article.bad_category")]),
                state,
            ),
            AppError::NoSlug => Self::fields(
                &crate::article_input::FieldErrors::from([("slug", "article.bad_slug")]),
                state,
            ),
            AppError::TooLarge => Self::new(S::PAYLOAD_TOO_LARGE, "body_too_large", c),
            AppError::Workflow(WorkflowError::NotAllowed) => {
                Self::new(S::FORBIDDEN, "forbidden", c)
            }
            AppError::Workflow(WorkflowError::WrongStatus) => {
                Self::new(S::CONFLICT, "wrong_status", c)
            }
            AppError::Workflow(WorkflowError::ReasonRequired) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "reason_required", c)
            }
            AppError::Workflow(WorkflowError::UnknownAction) => {
                Self::new(S::NOT_FOUND, "not_found", c)
            }
            e @ (AppError::Store(_) | AppError::Internal(_)) => Self::internal(e, c),
            other => Self::new(S::BAD_REQUEST, "bad_request", c).with_message(other.to_string()),
        }
    }
}

impl From<(bantin_store::StoreError, &AppState)> for ApiError {
    fn from((e, state): (bantin_store::StoreError, &AppState)) -> Self {
        Self::internal(e, state.catalog())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(%cause, "API request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.into(),
                fields: self.fields,
                current_revision: self.current_revision,
                retry_after: self.retry_after,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bantin\""),
            );
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}
