//! `/api/v1/categories` and `/api/v1/tags`: the site's sections and the tags in use; an
//! administrator's token may create a category (renaming waits for a category service that
//! renames).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bantin_app::CategoryDraft;
use bantin_core::access::Capability;
use bantin_core::{CategoryId, CategoryStatus, Slug};
use bantin_store::Category;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Caller, Writer};
use super::body::ApiJson;
use super::{ApiError, ErrorBody, cacheable};
use crate::AppState;
use crate::article_input::{FieldErrors, clean};

/// A category.
#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryOut {
    id: i64,
    /// The parent's id; none at the top.
    parent_id: Option<i64>,
    slug: String,
    title: String,
    description: String,
    /// Order among its siblings.
    position: i64,
    /// The category's page on the site.
    url: String,
}

/// The listed categories, in menu order.
#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryList {
    items: Vec<CategoryOut>,
}

/// A tag in use.
#[derive(Serialize, ToSchema)]
pub(crate) struct TagOut {
    name: String,
    slug: String,
    /// Public articles carrying it.
    articles: i64,
}

/// Tags of public articles, the most used first (at most 1 000).
#[derive(Serialize, ToSchema)]
pub(crate) struct TagList {
    items: Vec<TagOut>,
}

/// A category to create. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryInput {
    /// URL segment: lower-case letters without diacritics, digits and hyphens.
    slug: String,
    /// At most 200 characters.
    title: String,
    #[serde(default)]
    description: String,
    /// The parent category; none for a top-level one.
    #[serde(default)]
    parent_id: Option<i64>,
    /// Order among siblings (default 0).
    #[serde(default)]
    position: Option<i64>,
    /// Shown in menus and lists (default true).
    #[serde(default)]
    listed: Option<bool>,
}

fn out(c: &Category, state: &AppState) -> CategoryOut {
    let path = crate::site::category_url(c);
    CategoryOut {
        id: c.id.get(),
        parent_id: c.parent_id.map(CategoryId::get),
        slug: c.slug.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        position: c.position,
        url: match &state.settings().public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path,
        },
    }
}

/// List the listed categories.
#[utoipa::path(
    get,
    path = "/api/v1/categories",
    tag = "categories",
    security((), ("token" = [])),
    responses(
        (status = 200, description = "Listed categories, in menu order", body = CategoryList),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn categories(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = state
        .site_cache()
        .get(state.store())
        .await
        .map_err(|e| ApiError::from((e, &state)))?;
    let items = site
        .listed_in_order()
        .into_iter()
        .map(|c| out(c, &state))
        .collect();
    Ok(cacheable(&headers, &CategoryList { items }, true))
}

/// Create a category (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/categories",
    tag = "categories",
    request_body = CategoryInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Created", body = CategoryOut),
        (status = 400, description = "malformed_json", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 409, description = "slug_taken", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body, invalid_fields", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn create_category(
    State(state): State<AppState>,
    w: Writer,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Response, ApiError> {
    if !w.holder.rights.allows(Capability::ManageSettings, None) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            state.catalog(),
        ));
    }
    let mut errors = FieldErrors::new();
    let slug = Slug::parse(input.slug.trim()).ok();
    if slug.is_none() {
        errors.insert("slug", "article.bad_slug");
    }
    let title = clean(&input.title, 200).filter(|t| !t.is_empty() && !t.contains('\n'));
    if title.is_none() {
        errors.insert("title", "article.bad_title");
    }
    let description = clean(&input.description, 2000);
    if description.is_none() {
        errors.insert("description", "article.too_long");
    }
    let parent = match input.parent_id {
        None => Some(None),
        Some(id) if id > 0 => Some(Some(CategoryId::new(id))),
        Some(_) => None,
    };
    if parent.is_none() {
        errors.insert("parent_id", "api.unknown_category");
    }
    let (Some(slug), Some(title), Some(description), Some(parent)) =
        (slug, title, description, parent)
    else {
        return Err(ApiError::fields(&errors, &state));
    };
    let draft = CategoryDraft {
        parent,
        slug,
        title,
        description,
        position: input.position.unwrap_or(0),
        status: if input.listed.unwrap_or(true) {
            CategoryStatus::Active
        } else {
            CategoryStatus::Hidden
        },
    };
    let id = match state.app().create_category(&w.actor(), &draft).await {
        Ok(id) => id,
        Err(bantin_app::AppError::UnknownCategory) => {
            return Err(ApiError::fields(
                &FieldErrors::from([("parent_id", "api.unknown_category")]),
                &state,
            ));
        }
        Err(e) => return Err(ApiError::from_app(e, &state)),
    };
    let created = state
        .store()
        .categories()
        .await
        .map_err(|e| ApiError::from((e, &state)))?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog()))?;
    let mut res = (StatusCode::CREATED, axum::Json(out(&created, &state))).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// List the tags of public articles.
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "tags",
    security((), ("token" = [])),
    responses(
        (status = 200, description = "Tags in use, the most used first", body = TagList),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn tags(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let items = state
        .store()
        .public_tags(state.now(), 1000)
        .await
        .map_err(|e| ApiError::from((e, &state)))?
        .into_iter()
        .map(|t| TagOut {
            name: t.name,
            slug: t.slug,
            articles: t.articles,
        })
        .collect();
    Ok(cacheable(&headers, &TagList { items }, true))
}
