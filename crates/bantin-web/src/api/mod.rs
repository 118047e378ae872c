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
mod media;
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
        description = "Public reads of the portal's articles, categories and tags, and the newsroom's writes (articles, categories, media uploads) with API tokens created under /admin/tokens. Errors are `{ \"error\": { \"code\": \"…\", \"message\": \"…\" } }` with a stable code."
    ),
    modifiers(&BearerToken),
    // Named by a path parameter, which utoipa does not collect by itself.
    components(schemas(articles::Transition)),
    tags(
        (name = "articles", description = "Articles: public reads; create, update and workflow with a token"),
        (name = "categories", description = "The site's sections"),
        (name = "tags", description = "Tags in use"),
        (name = "media", description = "The media library: upload a picture or document with a token"),
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
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
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

/// `path` absolute with the `public_url` setting (as the site's own links are), else as is.
pub(crate) fn absolute(state: &AppState, path: String) -> String {
    match &state.settings().public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path,
    }
}

/// The answer of a write: `value` as JSON with `status`, never stored by a cache, and the
/// new resource's API address (`Location`) when one was created.
pub(crate) fn saved<T: Serialize>(
    status: StatusCode,
    value: &T,
    location: Option<&str>,
) -> Response {
    let mut res = (status, axum::Json(value)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        h.insert(header::LOCATION, v);
    }
    res
}

/// The API's routes and their OpenAPI document, from one list.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(articles::list, articles::create))
        .routes(routes!(articles::get_one, articles::update))
        .routes(routes!(articles::transition))
        .routes(routes!(taxonomy::categories, taxonomy::create_category))
        .routes(routes!(taxonomy::category, taxonomy::update_category))
        .routes(routes!(taxonomy::tags))
        .routes(routes!(media::upload))
        .routes(routes!(media::get_one))
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

/// A JSON schema as one line: a type, a list of types, a reference's name, an array's item.
fn type_of(s: &serde_json::Value) -> String {
    let name = |r: &str| r.trim_start_matches("#/components/schemas/").to_owned();
    let base = if let Some(r) = s.get("$ref").and_then(|v| v.as_str()) {
        name(r)
    } else if let Some(list) = s.get("oneOf").and_then(|v| v.as_array()) {
        list.iter().map(type_of).collect::<Vec<_>>().join(" | ")
    } else {
        match s.get("type") {
            Some(serde_json::Value::String(t)) if t == "array" => {
                format!(
                    "array of {}",
                    s.get("items").map(type_of).unwrap_or_default()
                )
            }
            Some(serde_json::Value::String(t)) => t.clone(),
            Some(serde_json::Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
            _ => String::new(),
        }
    };
    match s.get("format").and_then(|v| v.as_str()) {
        Some(f) => format!("{base} ({f})"),
        None => base,
    }
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The schema named by the first content of a body or answer.
fn content_schema(v: &serde_json::Value) -> String {
    v.get("content")
        .and_then(|c| c.as_object())
        .and_then(|c| c.values().next())
        .and_then(|c| c.get("schema"))
        .map(type_of)
        .unwrap_or_default()
}

/// The reference page: every operation with its parameters, body and answers, and every
/// schema, from the OpenAPI document.
fn reference(state: &AppState, doc: &serde_json::Value) -> Response {
    use minijinja::context;
    let empty = serde_json::Map::new();
    let mut operations = Vec::new();
    let paths = doc
        .get("paths")
        .and_then(|p| p.as_object())
        .unwrap_or(&empty);
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let params: Vec<_> = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
                .map(|p| {
                    context! {
                        name => text(p, "name"),
                        place => text(p, "in"),
                        required => p.get("required").and_then(|v| v.as_bool()).unwrap_or(false),
                        kind => p.get("schema").map(type_of).unwrap_or_default(),
                        description => text(p, "description"),
                    }
                })
                .collect();
            let responses: Vec<_> = op
                .get("responses")
                .and_then(|r| r.as_object())
                .unwrap_or(&empty)
                .iter()
                .map(|(status, r)| {
                    context! {
                        status => status,
                        description => text(r, "description"),
                        schema => content_schema(r),
                    }
                })
                .collect();
            // An operation whose only security requirement is the token needs one.
            let required = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| s.len() == 1 && s[0].as_object().is_some_and(|o| !o.is_empty()));
            operations.push(context! {
                method => method.to_uppercase(),
                path => path,
                summary => text(op, "summary"),
                description => text(op, "description"),
                auth_required => required,
                params => params,
                body => op.get("requestBody").map(content_schema),
                responses => responses,
            });
        }
    }
    let schemas: Vec<_> = doc
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
        .unwrap_or(&empty)
        .iter()
        .map(|(name, s)| {
            let required: Vec<&str> = s
                .get("required")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect();
            let fields: Vec<_> = s
                .get("properties")
                .and_then(|p| p.as_object())
                .unwrap_or(&empty)
                .iter()
                .map(|(field, p)| {
                    context! {
                        name => field,
                        required => required.contains(&field.as_str()),
                        kind => type_of(p),
                        description => text(p, "description"),
                    }
                })
                .collect();
            let values: Vec<String> = s
                .get("enum")
                .and_then(|e| e.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            context! {
                name => name,
                description => text(s, "description"),
                fields => fields,
                values => values,
            }
        })
        .collect();
    let ctx = context! {
        title => text(doc.get("info").unwrap_or(&serde_json::Value::Null), "title"),
        description => text(doc.get("info").unwrap_or(&serde_json::Value::Null), "description"),
        version => text(doc, "openapi"),
        operations => operations,
        schemas => schemas,
    };
    match state.renderer().render("api.html", ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::internal(e, state.catalog()).into_response(),
    }
}
