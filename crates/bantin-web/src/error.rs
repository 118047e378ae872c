//! The web layer's error type: the cause is logged with its chain and never shown; the client
//! gets the right status and a clear message, as a styled page or, for JSON clients, as
//! `{ "error": { "code": "…", "message": "…" } }`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Json, Response};

use crate::layout::{error_key, error_page};
use crate::{AppState, Catalog};

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
    /// Something on our side failed; logged with its cause, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl WebError {
    /// An internal error with this cause.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// A service's refusal as the user sees it, worded from the catalogue.
    pub fn from_app(e: bantin_app::AppError, catalog: &Catalog) -> Self {
        use bantin_app::AppError as A;
        let refuse = |status, key: &str| Self::Refused(status, catalog.get(key).to_owned());
        match e {
            A::NotFound => Self::NotFound,
            A::Account(e) => Self::BadRequest(e.to_string()),
            A::UsernameTaken => refuse(StatusCode::CONFLICT, "users.taken"),
            A::SlugTaken => refuse(StatusCode::CONFLICT, "form.slug_taken"),
            A::UnknownCategory => refuse(StatusCode::BAD_REQUEST, "users.bad_category"),
            A::CategoryCycle => refuse(StatusCode::CONFLICT, "categories.cycle"),
            A::TagTaken => refuse(StatusCode::CONFLICT, "tags.taken"),
            A::BadTagName => refuse(StatusCode::BAD_REQUEST, "tags.bad_name"),
            A::SameTag => refuse(StatusCode::BAD_REQUEST, "tags.same"),
            A::NoSlug => refuse(StatusCode::BAD_REQUEST, "form.no_slug"),
            A::LastAdministrator => refuse(StatusCode::CONFLICT, "users.keep_admin"),
            A::NotSelf => refuse(StatusCode::CONFLICT, "users.not_self"),
            A::WrongCredentials => refuse(StatusCode::UNAUTHORIZED, "login.failed"),
            A::Locked(secs) => {
                let minutes = ((secs + 59) / 60).to_string();
                Self::Refused(
                    StatusCode::FORBIDDEN,
                    catalog.format("login.locked", &[("minutes", &minutes)]),
                )
            }
            A::TwoStepRequired => refuse(StatusCode::FORBIDDEN, "two_step.required"),
            A::InvalidResetLink => refuse(StatusCode::NOT_FOUND, "reset.invalid"),
            A::Stale(_) => refuse(StatusCode::CONFLICT, "article.stale"),
            A::TooLarge => refuse(StatusCode::PAYLOAD_TOO_LARGE, "article.too_long"),
            A::Workflow(e) => Self::Refused(StatusCode::FORBIDDEN, e.to_string()),
            A::Media(e) => {
                let (status, message) = crate::media_errors::message(catalog, &e);
                Self::Refused(status, message)
            }
            A::MediaInUse(n) => Self::Refused(
                StatusCode::CONFLICT,
                catalog.format("media.in_use", &[("n", &n.to_string())]),
            ),
            e @ (A::Store(_) | A::Internal(_)) => Self::internal(e),
        }
    }

    /// The status and, for refusals, the message.
    pub fn status_and_message(&self) -> (StatusCode, Option<&str>) {
        match self {
            Self::NotFound => (StatusCode::NOT_FOUND, None),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, Some(m)),
            Self::Refused(status, m) => (*status, Some(m)),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        }
    }
}

impl From<bantin_store::StoreError> for WebError {
    fn from(e: bantin_store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> Self {
        Self::internal(e)
    }
}

/// The whole cause chain of an error, for the log.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Marks a response whose body the error renderer fills in.
#[derive(Clone, Debug)]
pub(crate) struct ErrorPage {
    pub message: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(cause = %chain(cause.as_ref()), "request failed");
        }
        let (status, message) = self.status_and_message();
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorPage {
            message: message.map(str::to_owned),
        });
        res
    }
}

/// The stable code of a status in JSON error bodies.
fn code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        422 => "unprocessable",
        429 => "too_many_requests",
        _ if status.is_client_error() => "client_error",
        _ => "internal",
    }
}

/// Whether the client asked for JSON (scripts, the API) rather than a page.
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Fills in the body of error responses marked with [`ErrorPage`]: a styled page, or a JSON
/// error for JSON clients.
pub(crate) async fn render_error_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let json = wants_json(req.headers()) || req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let Some(page) = res.extensions().get::<ErrorPage>().cloned() else {
        return res;
    };
    let status = res.status();
    let mut out = if json {
        let message = page.message.clone().unwrap_or_else(|| {
            state
                .catalog()
                .get(&format!("{}.title", error_key(status)))
                .to_owned()
        });
        (
            status,
            Json(serde_json::json!({ "error": { "code": code(status), "message": message } })),
        )
            .into_response()
    } else {
        match error_page(&state, status, page.message.as_deref()).await {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %chain(&e), "rendering the error page failed");
                (status, status.canonical_reason().unwrap_or("error")).into_response()
            }
        }
    };
    // Headers the handler set (Retry-After, Set-Cookie, …) stay.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name, value.clone());
        }
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}
