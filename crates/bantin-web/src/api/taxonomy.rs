//! `/api/v1/categories` and `/api/v1/tags`: the site's sections and the tags in use. A token
//! whose account may manage categories (editors-in-chief, administrators) creates and changes
//! them through the admin's service and field rules ([`CategoryFields`]): reserved and taken
//! addresses refused, no category under itself, an old address kept answering 301.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bantin_app::{AppError, CategoryEdit};
use bantin_core::CategoryId;
use bantin_core::access::Capability;
use bantin_store::Category;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Caller, Writer};
use super::body::ApiJson;
use super::{ApiError, ErrorBody, absolute, cacheable, saved};
use crate::AppState;
use crate::article_input::FieldErrors;
use crate::category_input::CategoryFields;
use crate::extract::Parsed;

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

/// A category to create, or all of a category's fields to replace. Unknown fields are
/// refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryInput {
    /// At most 200 characters, one line.
    #[schema(max_length = 200)]
    title: String,
    /// URL segment: lower-case letters without diacritics, digits and hyphens; made from the
    /// title when empty or absent. Changed, the old one keeps answering with a redirect.
    #[serde(default)]
    slug: String,
    /// At most 1 000 characters; line breaks become spaces.
    #[serde(default)]
    #[schema(max_length = 1000)]
    description: String,
    /// The parent category; none for a top-level one. Never the category itself or one below
    /// it.
    #[serde(default)]
    #[schema(minimum = 1)]
    parent_id: Option<i64>,
    /// Shown in menus and lists (default true); a hidden one is reachable by its address only.
    #[serde(default)]
    listed: Option<bool>,
}

impl CategoryInput {
    fn fields(&self) -> CategoryFields<'_> {
        CategoryFields {
            title: &self.title,
            slug: &self.slug,
            description: &self.description,
            parent: match self.parent_id {
                None => Some(None),
                Some(id) if id > 0 => Some(Some(CategoryId::new(id))),
                Some(_) => None,
            },
            hidden: !self.listed.unwrap_or(true),
        }
    }
}

/// Field problems as the API names its fields (`parent_id`, not the form's `parent`).
fn field_errors(errors: FieldErrors, state: &AppState) -> ApiError {
    let renamed: FieldErrors = errors
        .into_iter()
        .map(|(f, key)| (if f == "parent" { "parent_id" } else { f }, key))
        .collect();
    ApiError::fields(&renamed, state)
}

/// Checks the caller may manage categories and the input's fields; the edit to make.
async fn category_edit(
    state: &AppState,
    w: &Writer,
    input: &CategoryInput,
) -> Result<CategoryEdit, ApiError> {
    if !w.holder.rights.allows(Capability::ManageCategories, None) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            state.catalog(),
        ));
    }
    let categories = state
        .store()
        .categories()
        .await
        .map_err(|e| ApiError::from((e, state)))?;
    input
        .fields()
        .validate(&categories)
        .map_err(|e| field_errors(e, state))
}

/// A service's refusal of a category write.
fn category_refusal(e: AppError, state: &AppState) -> ApiError {
    let c = state.catalog();
    match e {
        AppError::CategoryCycle => ApiError::new(StatusCode::CONFLICT, "category_cycle", c),
        AppError::UnknownCategory => field_errors(
            FieldErrors::from([("parent", "categories.bad_parent")]),
            state,
        ),
        e => ApiError::from_app(e, state),
    }
}

/// The category `id` as the API shows it, after a write.
async fn category_out(state: &AppState, id: CategoryId) -> Result<CategoryOut, ApiError> {
    let c = state
        .store()
        .category(id)
        .await
        .map_err(|e| ApiError::from((e, state)))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog()))?;
    Ok(out(&c, state))
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
        url: absolute(state, path),
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

/// Create a category, last among its siblings (editors-in-chief and administrators).
#[utoipa::path(
    post,
    path = "/api/v1/categories",
    tag = "categories",
    request_body = CategoryInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Created", body = CategoryOut,
            headers(("Location" = String, description = "The category's API address"))),
        (status = 400, description = "malformed_json", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 409, description = "slug_taken (also a reserved address such as `admin`)", body = ErrorBody),
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
    let edit = category_edit(&state, &w, &input).await?;
    let id = state
        .app()
        .add_category(&w.actor(), &edit)
        .await
        .map_err(|e| category_refusal(e, &state))?;
    let location = format!("/api/v1/categories/{id}");
    Ok(saved(
        StatusCode::CREATED,
        &category_out(&state, id).await?,
        Some(&location),
    ))
}

/// One category, listed or hidden.
#[utoipa::path(
    get,
    path = "/api/v1/categories/{id}",
    tag = "categories",
    params(("id" = i64, Path, minimum = 1, description = "Category id")),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "The category", body = CategoryOut),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn category(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    id: Result<Parsed<CategoryId>, crate::WebError>,
) -> Result<Response, ApiError> {
    let Ok(Parsed(id)) = id else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            state.catalog(),
        ));
    };
    // A hidden category's page is public by its address, so its description is too.
    Ok(cacheable(&headers, &category_out(&state, id).await?, true))
}

/// Replace a category's title, address, description, parent and listing (editors-in-chief
/// and administrators). Send every field (read the category first): an absent one takes its
/// default. A changed address keeps the old one redirecting to the new.
#[utoipa::path(
    put,
    path = "/api/v1/categories/{id}",
    tag = "categories",
    params(("id" = i64, Path, minimum = 1, description = "Category id")),
    request_body = CategoryInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Saved", body = CategoryOut),
        (status = 400, description = "malformed_json", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "slug_taken, category_cycle", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body, invalid_fields", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn update_category(
    State(state): State<AppState>,
    w: Writer,
    id: Result<Parsed<CategoryId>, crate::WebError>,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Response, ApiError> {
    let Ok(Parsed(id)) = id else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            state.catalog(),
        ));
    };
    let edit = category_edit(&state, &w, &input).await?;
    state
        .app()
        .update_category(&w.actor(), id, &edit)
        .await
        .map_err(|e| category_refusal(e, &state))?;
    Ok(saved(
        StatusCode::OK,
        &category_out(&state, id).await?,
        None,
    ))
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
