//! `/api/v1/media`: uploading a file into the media library with a token, and reading one
//! item. The upload is the admin's: the same service ([`bantin_app::App::upload_media`]) checks,
//! processes and records it with its audit entry, under the library's own size limit (the
//! `media_max_mib` setting), so the API is one more door to the same code path.
//!
//! The file is the raw request body and its name a query parameter, as the admin's uploader
//! sends it: one operation OpenAPI describes exactly (`application/octet-stream`, binary) and
//! that needs no multipart parser.

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bantin_core::access::Capability;
use bantin_media::IntakeError;
use bantin_store::MediaItem;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, Writer};
use super::{ApiError, ErrorBody, cacheable, saved, time};
use crate::AppState;
use crate::extract::Parsed;

/// Longest file name taken, characters: the library keeps no more
/// ([`bantin_media::name::MAX_NAME_CHARS`]), and even in 4-byte characters, percent-encoded, it
/// fits the request line limit, so the documented bound is one the server can honour.
const NAME_MAX: usize = bantin_media::name::MAX_NAME_CHARS;

/// A library item.
#[derive(Serialize, ToSchema)]
pub(crate) struct MediaOut {
    id: i64,
    /// `image` or `document`.
    kind: String,
    /// The file name as uploaded, made safe.
    file_name: String,
    /// Media type of the stored file.
    mime: String,
    /// Bytes of the stored file.
    bytes: i64,
    width: Option<i64>,
    height: Option<i64>,
    /// The file's address on the site: use it as an article's `image_url`.
    url: String,
    /// Smaller WebP copies with their widths, for `<img srcset>` (images only).
    srcset: Option<String>,
    /// Alt text (made from the file name until edited in the admin).
    alt: String,
    caption: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    created_at: String,
}

/// The upload's query.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The file's name, with its extension (e.g. `anh-hoi-nghi.jpg`); its alt text is made
    /// from it.
    #[param(min_length = 1, max_length = 120)]
    name: String,
}

fn out(m: &MediaItem) -> MediaOut {
    let srcset = match (m.kind.as_str(), m.width.and_then(|w| u32::try_from(w).ok())) {
        ("image", Some(width)) => Some(bantin_media::srcset(
            &m.key,
            &m.ext,
            width,
            &m.variant_widths(),
            true,
        )),
        _ => None,
    };
    MediaOut {
        id: m.id,
        kind: m.kind.clone(),
        file_name: m.file_name.clone(),
        mime: m.mime.clone(),
        bytes: m.bytes,
        width: m.width,
        height: m.height,
        url: bantin_media::url(&m.file()),
        srcset,
        alt: m.alt.clone(),
        caption: m.caption.clone(),
        created_at: time(m.created_at),
    }
}

/// The stable code of a file the library refuses.
fn intake_code(e: &IntakeError) -> &'static str {
    match e {
        IntakeError::Empty => "empty_file",
        IntakeError::TooLarge { .. } => "body_too_large",
        IntakeError::Svg | IntakeError::Avif | IntakeError::NotAccepted => "unsupported_file_type",
        IntakeError::Truncated | IntakeError::Corrupt(_) => "invalid_file",
        IntakeError::TooManyPixels { .. } | IntakeError::TooMuchMemory => "image_too_large",
        IntakeError::Encode(_) => "internal",
    }
}

/// A refused file: the library's own status and message (the admin uploader's words), with
/// the API's code.
fn refused(state: &AppState, e: &IntakeError) -> ApiError {
    let (status, message) = crate::media_errors::message(state.catalog(), e);
    let mut err = ApiError::new(status, intake_code(e), state.catalog()).with_message(message);
    if let IntakeError::Encode(cause) = e {
        err.cause = Some(cause.to_string().into());
    }
    err
}

/// Upload a file into the media library (accounts that may write articles).
#[utoipa::path(
    post,
    path = "/api/v1/media",
    tag = "media",
    params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself: JPEG, PNG, GIF or WebP pictures, PDF and office documents; at most the library's size limit"),
    security(("token" = [])),
    responses(
        (status = 201, description = "In the library (the same file uploaded before answers with the item already there)", body = MediaOut,
            headers(("Location" = String, description = "The item's API address"))),
        (status = 400, description = "invalid_query, empty_file, invalid_file", body = ErrorBody),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "read_only_token, forbidden", body = ErrorBody),
        (status = 404, description = "not_found (no media library on this site)", body = ErrorBody),
        (status = 413, description = "body_too_large, image_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_file_type", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    w: Writer,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let c = state.catalog();
    if !w.holder.rights.allows(Capability::Write, None) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", c));
    }
    let Ok(Query(p)) = params else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", c));
    };
    if p.name.trim().is_empty()
        || p.name.chars().count() > NAME_MAX
        || p.name.chars().any(char::is_control)
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", c));
    }
    let Some(media) = state.app().media() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", c));
    };
    let max = media.settings().max_bytes;
    let too_large = || refused(&state, &IntakeError::TooLarge { size: max + 1, max });
    // A declared length over the limit is refused before a byte is read.
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > max)
    {
        return Err(too_large());
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(Body::new(req.into_body()), limit)
        .await
        .map_err(|_| too_large())?;
    let item = match state.app().upload_media(&w.actor(), &p.name, bytes).await {
        Ok(item) => item,
        Err(bantin_app::AppError::Media(e)) => return Err(refused(&state, &e)),
        Err(e) => return Err(ApiError::from_app(e, &state)),
    };
    let location = format!("/api/v1/media/{}", item.id);
    Ok(saved(StatusCode::CREATED, &out(&item), Some(&location)))
}

/// One library item (accounts that may write articles; read-only tokens too).
#[utoipa::path(
    get,
    path = "/api/v1/media/{id}",
    tag = "media",
    params(("id" = i64, Path, minimum = 1, description = "Item id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "The item", body = MediaOut),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "token_required, invalid_token, token_revoked, token_expired, account_disabled", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "too_many_requests", body = ErrorBody),
    )
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    id: Result<Parsed<i64>, crate::WebError>,
) -> Result<Response, ApiError> {
    let c = state.catalog();
    // The library is the newsroom's: who uploaded what is not for anonymous readers.
    let Some(holder) = caller.holder else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "token_required", c));
    };
    if !holder.rights.allows(Capability::Write, None) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", c));
    }
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", c);
    let Ok(Parsed(id)) = id else {
        return Err(not_found());
    };
    let item = state
        .store()
        .media(id)
        .await
        .map_err(|e| ApiError::from((e, &state)))?
        .ok_or_else(not_found)?;
    Ok(cacheable(&headers, &out(&item), false))
}
