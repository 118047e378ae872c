//! `/api/v1/articles`: public reads (filters, cursor pagination, one article) and the
//! newsroom's writes (create, update from a revision, and one workflow operation: submit,
//! publish, unpublish). Writes go through the same field rules as the admin form
//! ([`ArticleFields::validate`]) and the same services, so the API is one more door to the
//! same code path.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bantin_core::access::Capability;
use bantin_core::workflow::{Action, ExpiryAction};
use bantin_core::{ArticleId, ArticleStatus, CategoryId, Slug, UnixTime};
use bantin_store::{Article, ArticleOptions, ArticleSummary, PublicArticleQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, Writer};
use super::body::ApiJson;
use super::{ApiError, ErrorBody, absolute, cacheable, saved, time};
use crate::AppState;
use crate::article_input::{ArticleFields, settle_slug};
use crate::extract::Parsed;

/// Articles per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 20;

/// An article as lists show it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ArticleSummaryOut {
    id: i64,
    title: String,
    slug: String,
    lead: String,
    image_url: Option<String>,
    image_alt: String,
    category_id: i64,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    publish_at: String,
    /// The article's page on the site (a path; absolute with the `public_url` setting).
    url: String,
}

/// A page of articles, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct ArticleList {
    items: Vec<ArticleSummaryOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// A whole article.
#[derive(Serialize, ToSchema)]
pub(crate) struct ArticleOut {
    id: i64,
    title: String,
    slug: String,
    lead: String,
    /// Sanitised HTML.
    body_html: String,
    image_url: Option<String>,
    image_alt: String,
    image_caption: String,
    /// What search engines and shares show; empty: the lead.
    meta_description: String,
    author: String,
    source: String,
    /// draft, pending, rejected, scheduled, published, unpublished, archived or trash.
    status: String,
    category_id: i64,
    extra_category_ids: Vec<i64>,
    tags: Vec<String>,
    #[schema(format = DateTime)]
    publish_at: String,
    #[schema(format = DateTime)]
    expire_at: Option<String>,
    /// archive or unpublish.
    expiry_action: String,
    allow_rating: bool,
    show_on_home: bool,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Name it as `revision` when updating.
    revision: i64,
    rating_total: i64,
    rating_count: i64,
    url: String,
}

/// Filters and paging of the list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only articles listed in this category or its subcategories.
    #[param(minimum = 1)]
    category: Option<i64>,
    /// Only articles carrying the tag with this slug.
    tag: Option<String>,
    /// Articles per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// An article to create or update. Unknown fields are refused.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArticleInput {
    /// Required, at most 300 characters.
    title: String,
    /// URL slug; made from the title when empty.
    #[serde(default)]
    slug: String,
    #[serde(default)]
    lead: String,
    /// HTML; sanitised like the editor's.
    #[serde(default)]
    body: String,
    /// Main category (one the token's account may write in).
    category_id: i64,
    #[serde(default)]
    extra_category_ids: Vec<i64>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    source: String,
    /// `/media/…` or `http(s)://…`.
    #[serde(default)]
    image_url: String,
    #[serde(default)]
    image_alt: String,
    #[serde(default)]
    image_caption: String,
    /// Plain text, one line, at most 300 characters, no `<` or `>`; shown by search engines
    /// and shares instead of the lead. Empty: the lead.
    #[serde(default)]
    #[schema(max_length = 300)]
    meta_description: String,
    /// RFC 3339; now when absent.
    #[schema(format = DateTime)]
    #[serde(default)]
    publish_at: Option<String>,
    /// RFC 3339, after `publish_at`; none when absent.
    #[schema(format = DateTime)]
    #[serde(default)]
    expire_at: Option<String>,
    /// What expiry does: archive (default) or unpublish.
    #[serde(default)]
    expiry_action: Option<ExpiryChoice>,
    /// Default true.
    #[serde(default)]
    allow_rating: Option<bool>,
    /// Default true.
    #[serde(default)]
    show_on_home: Option<bool>,
    /// Updates only, required there: the revision the change was made from.
    #[serde(default)]
    revision: Option<i64>,
}

/// What happens when an article's expiry time passes.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExpiryChoice {
    Archive,
    Unpublish,
}

/// RFC 3339 to a time; `None` when it does not parse.
fn parse_time(s: &str) -> Option<UnixTime> {
    s.trim().parse::<jiff::Timestamp>().ok().map(UnixTime::from)
}

impl ArticleInput {
    fn fields(&self, now: UnixTime) -> ArticleFields<'_> {
        ArticleFields {
            title: &self.title,
            slug: &self.slug,
            lead: &self.lead,
            body: &self.body,
            category: (self.category_id > 0).then(|| CategoryId::new(self.category_id)),
            extra: self
                .extra_category_ids
                .iter()
                .map(|&c| (c > 0).then(|| CategoryId::new(c)))
                .collect(),
            tags: self.tags.clone(),
            author: &self.author,
            source: &self.source,
            image_url: &self.image_url,
            image_alt: &self.image_alt,
            image_caption: &self.image_caption,
            meta_description: &self.meta_description,
            publish_at: match &self.publish_at {
                None => Some(now),
                Some(s) => parse_time(s),
            },
            expire_at: match &self.expire_at {
                None => Some(None),
                Some(s) => parse_time(s).map(Some),
            },
            options: ArticleOptions {
                expiry_action: match self.expiry_action {
                    Some(ExpiryChoice::Unpublish) => ExpiryAction::Unpublish,
                    _ => ExpiryAction::Archive,
                },
                allow_rating: self.allow_rating.unwrap_or(true),
                show_on_home: self.show_on_home.unwrap_or(true),
            },
        }
    }
}

/// The opaque cursor after `a`.
fn cursor_of(a: &ArticleSummary) -> String {
    hex::encode(format!("v1:{}:{}", a.publish_at.as_second(), a.id.get()))
}

/// The position a cursor names.
fn parse_cursor(s: &str) -> Option<(UnixTime, ArticleId)> {
    let raw = String::from_utf8(hex::decode(s).ok()?).ok()?;
    let mut parts = raw.strip_prefix("v1:")?.split(':');
    let t: i64 = parts.next()?.parse().ok()?;
    let id: i64 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && id > 0).then(|| (UnixTime::from_second(t), ArticleId::new(id)))
}

async fn article_out(state: &AppState, a: &Article) -> Result<ArticleOut, ApiError> {
    let store = state.store();
    let err = |e| ApiError::from((e, state));
    let site = state.site_cache().get(store).await.map_err(err)?;
    let tags = store.article_tags(a.id).await.map_err(err)?;
    let extra = store.extra_categories(a.id).await.map_err(err)?;
    let o = a.options();
    Ok(ArticleOut {
        id: a.id.get(),
        title: a.title.clone(),
        slug: a.slug.clone(),
        lead: a.lead.clone(),
        body_html: a.body().into_string(),
        image_url: a.image_url.clone(),
        image_alt: a.image_alt.clone(),
        image_caption: a.image_caption.clone(),
        meta_description: a.meta_description.clone(),
        author: a.author.clone(),
        source: a.source.clone(),
        status: a.status().as_str().to_owned(),
        category_id: a.category_id.get(),
        extra_category_ids: extra
            .into_iter()
            .filter(|c| *c != a.category_id)
            .map(CategoryId::get)
            .collect(),
        tags,
        publish_at: time(a.publish_at),
        expire_at: a.expire_at.map(time),
        expiry_action: match o.expiry_action {
            ExpiryAction::Archive => "archive",
            ExpiryAction::Unpublish => "unpublish",
        }
        .to_owned(),
        allow_rating: o.allow_rating,
        show_on_home: o.show_on_home,
        updated_at: time(a.updated_at),
        revision: a.revision,
        rating_total: a.rating_total,
        rating_count: a.rating_count,
        url: absolute(state, site.article_url(a.category_id, &a.slug, a.id)),
    })
}

/// List public articles.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "articles",
    params(ListParams),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "Public articles, newest first", body = ArticleList),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "invalid_query, invalid_cursor, unknown_category", body = ErrorBody),
        (status = 401, description = "invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let c = state.catalog();
    let bad = |code| ApiError::new(StatusCode::BAD_REQUEST, code, c);
    let Query(p) = params.map_err(|_| bad("invalid_query"))?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=bantin_store::PAGE_MAX).contains(&limit) {
        return Err(bad("invalid_query"));
    }
    let after = match &p.cursor {
        None => None,
        Some(s) => Some(parse_cursor(s).ok_or_else(|| bad("invalid_cursor"))?),
    };
    let store = state.store();
    let err = |e| ApiError::from((e, &state));
    let site = state.site_cache().get(store).await.map_err(err)?;
    let category = match p.category {
        None => None,
        Some(id) => Some(
            site.get(CategoryId::new(id))
                .filter(|c| c.status() == bantin_core::CategoryStatus::Active)
                .map(|c| c.id)
                .ok_or_else(|| bad("unknown_category"))?,
        ),
    };
    let tag = match &p.tag {
        None => None,
        Some(t) => Some(
            Slug::parse(t.trim())
                .map_err(|_| bad("invalid_query"))?
                .as_str()
                .to_owned(),
        ),
    };
    let q = PublicArticleQuery {
        category,
        tag,
        after,
        limit: limit + 1,
    };
    let mut rows = store.public_articles(&q, state.now()).await.map_err(err)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(cursor_of)).flatten();
    let items = rows
        .iter()
        .map(|a| ArticleSummaryOut {
            id: a.id.get(),
            title: a.title.clone(),
            slug: a.slug.clone(),
            lead: a.lead.clone(),
            image_url: a.image_url.clone(),
            image_alt: a.image_alt.clone(),
            category_id: a.category_id.get(),
            publish_at: time(a.publish_at),
            url: absolute(&state, site.article_url(a.category_id, &a.slug, a.id)),
        })
        .collect();
    Ok(cacheable(
        &headers,
        &ArticleList { items, next_cursor },
        true,
    ))
}

/// One article: public ones to anyone; others to a token whose account may write in its
/// category.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "Article id")),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "The article", body = ArticleOut),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    id: Result<Parsed<ArticleId>, crate::WebError>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog());
    let Ok(Parsed(id)) = id else {
        return Err(not_found());
    };
    let a = state
        .store()
        .article(id)
        .await
        .map_err(|e| ApiError::from((e, &state)))?
        .ok_or_else(not_found)?;
    let public = a.visibility().is_public(state.now());
    let newsroom = caller
        .holder
        .as_ref()
        .is_some_and(|h| h.rights.allows(Capability::Write, Some(a.category_id)));
    if !public && !newsroom {
        return Err(not_found());
    }
    let out = article_out(&state, &a).await?;
    Ok(cacheable(&headers, &out, public))
}

/// The response of a write: the article as it is now.
async fn written(
    state: &AppState,
    id: ArticleId,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let a = state
        .store()
        .article(id)
        .await
        .map_err(|e| ApiError::from((e, state)))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog()))?;
    let out = article_out(state, &a).await?;
    let location = format!("/api/v1/articles/{id}");
    Ok(saved(
        status,
        &out,
        (status == StatusCode::CREATED).then_some(location.as_str()),
    ))
}

/// The idempotency key of a create, scoped to the token's account: 1–64 of `A-Z a-z 0-9 _ -`.
fn idempotency_key(
    headers: &HeaderMap,
    w: &Writer,
    state: &AppState,
) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let ok = v.len() <= 64
        && !v.is_empty()
        && v.as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
    if !ok {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            state.catalog(),
        ));
    }
    let key = String::from_utf8_lossy(v.as_bytes());
    Ok(Some(format!("api:{}:{key}", w.holder.user.id)))
}

/// Create a draft.
#[utoipa::path(
    post,
    path = "/api/v1/articles",
    tag = "articles",
    request_body = ArticleInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key, the request returns the article the first one created")),
    security(("token" = [])),
    responses(
        (status = 201, description = "Created, as a draft", body = ArticleOut,
            headers(("Location" = String, description = "The article's API address"))),
        (status = 400, description = "malformed_json, invalid_idempotency_key", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 409, description = "slug_taken", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body, invalid_fields", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    w: Writer,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Response, ApiError> {
    if !w.holder.rights.allows(Capability::Write, None) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            state.catalog(),
        ));
    }
    let key = idempotency_key(&headers, &w, &state)?;
    let mut a = input
        .fields(state.now())
        .validate(&w.holder.rights, state.html(), ArticleStatus::Draft)
        .map_err(|e| ApiError::fields(&e, &state))?;
    let typed = !input.slug.trim().is_empty();
    if let Some(e) = settle_slug(state.store(), typed, &mut a, None)
        .await
        .map_err(|e| ApiError::from((e, &state)))?
    {
        return Err(ApiError::fields(&e, &state));
    }
    let id = state
        .app()
        .create_article_once(&w.actor(), &a, key.as_deref())
        .await
        .map_err(|e| ApiError::from_app(e, &state))?;
    written(&state, id, StatusCode::CREATED).await
}

/// Update an article's content from the revision it was read at (`revision`, required): a
/// save in between is refused with 409 `stale_revision`, never overwritten. The status stays.
#[utoipa::path(
    put,
    path = "/api/v1/articles/{id}",
    tag = "articles",
    params(("id" = i64, Path, minimum = 1, description = "Article id")),
    request_body = ArticleInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Saved", body = ArticleOut),
        (status = 400, description = "malformed_json", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "stale_revision, slug_taken", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body, invalid_fields, revision_required", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    w: Writer,
    id: Result<Parsed<ArticleId>, crate::WebError>,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Response, ApiError> {
    let c = state.catalog();
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", c);
    let Ok(Parsed(id)) = id else {
        return Err(not_found());
    };
    let current = state
        .store()
        .article(id)
        .await
        .map_err(|e| ApiError::from((e, &state)))?
        .ok_or_else(not_found)?;
    if !w
        .holder
        .rights
        .allows(Capability::Write, Some(current.category_id))
    {
        return Err(not_found());
    }
    let Some(base) = input.revision else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "revision_required",
            c,
        ));
    };
    let mut a = input
        .fields(state.now())
        .validate(&w.holder.rights, state.html(), current.status())
        .map_err(|e| ApiError::fields(&e, &state))?;
    let typed = !input.slug.trim().is_empty();
    if let Some(e) = settle_slug(state.store(), typed, &mut a, Some((id, &current.slug)))
        .await
        .map_err(|e| ApiError::from((e, &state)))?
    {
        return Err(ApiError::fields(&e, &state));
    }
    state
        .app()
        .save_article(&w.actor(), &w.holder.rights, id, &a, base)
        .await
        .map_err(|e| ApiError::from_app(e, &state))?;
    written(&state, id, StatusCode::OK).await
}

/// A workflow step the API offers, named in the path.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transition {
    // What each does is the operation's description (variant docs would turn the schema's
    // plain `enum` into a `oneOf`).
    Submit,
    Publish,
    Unpublish,
}

impl Transition {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "submit" => Some(Self::Submit),
            "publish" => Some(Self::Publish),
            "unpublish" => Some(Self::Unpublish),
            _ => None,
        }
    }

    /// The newsroom's workflow action it is.
    fn action(self) -> Action {
        match self {
            Self::Submit => Action::Submit,
            Self::Publish => Action::Approve,
            Self::Unpublish => Action::Unpublish,
        }
    }
}

/// Move an article through the workflow by the token's account, under the admin's rules:
/// `submit` a draft or rejected article for review; `publish` it now, or schedule it for its
/// publish time if that is still to come (editors-in-chief and administrators); `unpublish` a
/// published, scheduled or archived one.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/{action}",
    tag = "articles",
    params(
        ("id" = i64, Path, minimum = 1, description = "Article id"),
        ("action" = Transition, Path, description = "submit, publish or unpublish"),
    ),
    security(("token" = [])),
    responses(
        (status = 200, description = "Done: the article with its new status", body = ArticleOut),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 404, description = "not_found (also an unknown action)", body = ErrorBody),
        (status = 409, description = "wrong_status", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn transition(
    State(state): State<AppState>,
    w: Writer,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", state.catalog());
    let Ok(Path((id, action))) = path else {
        return Err(not_found());
    };
    let (Ok(id), Some(step)) = (id.parse::<ArticleId>(), Transition::parse(&action)) else {
        return Err(not_found());
    };
    // An article outside the account's categories is not theirs to know of.
    let a = state
        .store()
        .article(id)
        .await
        .map_err(|e| ApiError::from((e, &state)))?;
    if !a.is_some_and(|a| {
        w.holder
            .rights
            .allows(Capability::Write, Some(a.category_id))
    }) {
        return Err(not_found());
    }
    state
        .app()
        .transition(&w.actor(), &w.holder.rights, id, step.action(), "")
        .await
        .map_err(|e| ApiError::from_app(e, &state))?;
    written(&state, id, StatusCode::OK).await
}
