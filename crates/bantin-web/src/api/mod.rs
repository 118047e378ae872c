//! The JSON API under `/api/v1`, its OpenAPI 3.1 document at `/api/openapi.json` and a readable
//! reference at `/api/` rendered from that same document (no third-party scripts).
//!
//! The document is generated from the handlers' own annotations: the router is built from the
//! same `routes!` lists that describe the operations, so an undocumented route cannot exist.
//! Reads are public and cacheable (ETag, 304, `Vary: Authorization`; never in the page cache);
//! writes need a token (`Authorization: Bearer …`) that may write, and go through the same
//! services as the admin. Search joins as one more read (`GET /api/v1/search`) in its own
//! module added to [`router`], once the search index exists.

mod articles;
mod auth;
mod body;
mod error;
mod taxonomy;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bantin_core::UnixTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use error::{ApiError, ErrorBody};

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bantin API",
        version = "1",
        description = "Public reads of the portal's articles, categories and tags, and the newsroom's writes with API tokens created under /admin/tokens. Errors are `{ \"error\": { \"code\": \"…\", \"message\": \"…\" } }` with a stable code."
    ),
    modifiers(&BearerToken),
    tags(
        (name = "articles", description = "Articles: public reads; create, update and workflow with a token"),
        (name = "categories", description = "The site's sections"),
        (name = "tags", description = "Tags in use"),
    )
)]
struct ApiDoc;

/// The `token` security scheme: `Authorization: Bearer bantin_…`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// RFC 3339 in UTC, as every time in the API is given.
pub(crate) fn time(t: UnixTime) -> String {
    t.timestamp().to_string()
}

/// A JSON answer with a weak ETag (a hash of the body), or 304 when the client has it.
/// `public`: anyone may see it, so shared caches may keep it (a token never changes a public
/// answer; `Vary: Authorization` keeps answers to token holders apart all the same);
/// otherwise private and not stored.
pub(crate) fn cacheable<T: Serialize>(headers: &HeaderMap, value: &T, public: bool) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "serialising an API answer failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let digest = Sha256::digest(&body);
    let etag = format!("W/\"{}\"", hex::encode(&digest[..16]));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || t.trim() == etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response()
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("authorization"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, max-age=30"
        } else {
            "private, no-store"
        }),
    );
    res
}

/// The API's routes and their OpenAPI document, from one list.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(articles::list, articles::create))
        .routes(routes!(articles::get_one, articles::update))
        .routes(routes!(articles::submit))
        .routes(routes!(articles::publish))
        .routes(routes!(articles::unpublish))
        .routes(routes!(taxonomy::categories, taxonomy::create_category))
        .routes(routes!(taxonomy::tags))
        .split_for_parts()
}

/// The OpenAPI document as served.
pub fn openapi_json() -> String {
    documented().1.to_pretty_json().unwrap_or_default()
}

/// Every API answer: not stored by shared caches unless the handler says so, and apart per
/// token.
async fn api_headers(res: Response) -> Response {
    let mut res = res;
    let h = res.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::VARY)
        .or_insert(HeaderValue::from_static("authorization"));
    res
}

/// Unknown paths and methods under `/api/v1` in the API's own error format.
async fn api_not_found(State(state): State<AppState>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog())
}

/// The API router: `/api/v1/…`, `/api/openapi.json` and the reference page `/api/`.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let (api, doc) = documented();
    let json: Arc<str> = doc.to_pretty_json().unwrap_or_default().into();
    let doc_value = Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    let api = api
        .fallback(api_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::limit));
    Router::new()
        .nest("/api/v1", Router::new().fallback(api_not_found))
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "public, max-age=300"),
                        ],
                        json.to_string(),
                    )
                }
            }),
        )
        .route(
            "/api/",
            get(move |State(state): State<AppState>| {
                let doc = doc_value.clone();
                async move { reference(&state, &doc) }
            }),
        )
        .route(
            "/api",
            get(|| async { axum::response::Redirect::permanent("/api/") }),
        )
        .layer(middleware::map_response(api_headers))
}

/// The reference page: every operation with its parameters, body and answers, and every
/// schema, from the OpenAPI document.
fn reference(state: &AppState, doc: &serde_json::Value) -> Response {
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for method in ["get", "post", "put", "delete"] {
                if let Some(op) = item.get(method) {
                    operations.push(minijinja::context! {
                        method => method.to_uppercase(),
                        path => path,
                        op => crate::layout::ser(op),
                    });
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    let ctx = minijinja::context! {
        title => doc.pointer("/info/title").and_then(|v| v.as_str()).unwrap_or("API"),
        description => doc.pointer("/info/description").and_then(|v| v.as_str()).unwrap_or(""),
        version => doc.pointer("/openapi").and_then(|v| v.as_str()).unwrap_or(""),
        operations => operations,
        schemas => crate::layout::ser(&schemas),
    };
    match state.renderer().render("api.html", ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::internal(e, state.catalog()).into_response(),
    }
}
