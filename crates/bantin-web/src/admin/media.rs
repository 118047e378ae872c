//! `/admin/media`: the media library. Upload several files at once (one request per file, so
//! each has its own progress bar; the script is `assets/media.js`), a grid with search by
//! file name, alt text or caption and filters by date and uploader, an item's page to edit its
//! alt text and caption, see where it is used and delete it (confirmed when used), and the
//! picker the article form opens to choose its main image.

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use bantin_core::{UserId, day_start, fold, format_date_time};
use bantin_store::{MediaFilter, MediaItem};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, refusal, render, render_status};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed, csrf_valid};
use crate::layout::ser;
use crate::{AppState, WebError};

/// Items per page of the grid.
const PER_PAGE: i64 = 48;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ListQuery {
    q: String,
    from: String,
    to: String,
    uploader: String,
    page: i64,
}

#[derive(Serialize)]
struct Card {
    id: i64,
    file_name: String,
    alt: String,
    caption: String,
    kind: String,
    thumb: Option<String>,
    url: String,
    width: Option<i64>,
    height: Option<i64>,
    uploader: String,
    created: String,
}

fn card(state: &AppState, m: &MediaItem) -> Card {
    let thumb = (m.kind == "image").then(|| {
        let w = m.variant_widths();
        match w.first() {
            Some(&v) => bantin_media::url(&bantin_media::variant_name(&m.key, v, "webp")),
            None => bantin_media::url(&m.file()),
        }
    });
    Card {
        id: m.id,
        file_name: m.file_name.clone(),
        alt: m.alt.clone(),
        caption: m.caption.clone(),
        kind: m.kind.clone(),
        thumb,
        url: bantin_media::url(&m.file()),
        width: m.width,
        height: m.height,
        uploader: m.uploader.clone().unwrap_or_else(|| "bantin".to_owned()),
        created: format_date_time(m.created_at, &state.settings().zone),
    }
}

async fn grid(state: &AppState, q: &ListQuery) -> Result<(Vec<Card>, bool), WebError> {
    let zone = &state.settings().zone;
    let search = fold(q.q.trim());
    let filter = MediaFilter {
        search: (!search.is_empty()).then_some(search),
        uploader: q.uploader.parse::<i64>().ok().map(UserId::new),
        from: day_start(&q.from, zone),
        until: day_start(&q.to, zone).map(|t| t.plus(86_400)),
    };
    let page = q.page.clamp(0, 10_000);
    let items = state
        .store()
        .media_list(&filter, PER_PAGE + 1, page * PER_PAGE)
        .await?;
    let more = items.len() as i64 > PER_PAGE;
    Ok((
        items
            .iter()
            .take(PER_PAGE as usize)
            .map(|m| card(state, m))
            .collect(),
        more,
    ))
}

async fn library_page(
    state: &AppState,
    cu: &CurrentUser,
    q: &ListQuery,
    picker: bool,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let (cards, more) = grid(state, q).await?;
    let users: Vec<_> = state
        .store()
        .users()
        .await?
        .into_iter()
        .map(|u| context! { id => u.id.get(), name => u.username.clone() })
        .collect();
    let limits = state
        .app()
        .media()
        .map(|m| m.settings().clone())
        .unwrap_or_default();
    render(
        state,
        Some(cu),
        "admin/media.html",
        state.catalog().get(if picker {
            "media.picker_title"
        } else {
            "media.title"
        }),
        context! {
            items => ser(cards),
            more => more,
            next_page => q.page + 1,
            q => context! { q => q.q.clone(), from => q.from.clone(), to => q.to.clone(), uploader => q.uploader.clone() },
            users => users,
            picker => picker,
            notice => notice,
            max_mib => limits.max_bytes / (1024 * 1024),
            media_js => state.assets().url("media.js"),
        },
    )
}

/// `GET /admin/media`: the library.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
    Query(n): Query<Notice>,
) -> Result<Response, WebError> {
    let notice = n.text(&state);
    library_page(&state, &cu, &q, false, notice).await
}

/// `GET /admin/media/picker`: the library as a picker (opened by the article form).
pub(crate) async fn picker(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    library_page(&state, &cu, &q, true, None).await
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    name: String,
}

fn json_error(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "message": message } })),
    )
        .into_response()
}

fn intake_message(state: &AppState, e: &bantin_media::IntakeError) -> (StatusCode, String) {
    crate::media_errors::message(state.catalog(), e)
}

/// `POST /admin/media/upload?name=…`: one file as the request body, the CSRF token in the
/// `X-CSRF-Token` header. Answers JSON: the item, or `{error: {message}}`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !csrf_valid(&state, &parts, token) {
        return json_error(
            StatusCode::FORBIDDEN,
            state.catalog().get("form.stale").to_owned(),
        );
    }
    let Some(media) = state.app().media() else {
        return json_error(
            StatusCode::NOT_FOUND,
            state.catalog().get("media.error.failed").to_owned(),
        );
    };
    let max = media.settings().max_bytes;
    let too_large = || {
        intake_message(
            &state,
            &bantin_media::IntakeError::TooLarge { size: max + 1, max },
        )
    };
    if let Some(len) = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        let (s, m) = too_large();
        return json_error(s, m);
    }
    let bytes =
        match axum::body::to_bytes(Body::new(body), usize::try_from(max).unwrap_or(usize::MAX))
            .await
        {
            Ok(b) => b,
            Err(_) => {
                let (s, m) = too_large();
                return json_error(s, m);
            }
        };
    match state.app().upload_media(&cu.actor(), &q.name, bytes).await {
        Ok(item) => Json(serde_json::json!({ "item": card(&state, &item) })).into_response(),
        Err(bantin_app::AppError::Media(e)) => {
            let (s, m) = intake_message(&state, &e);
            json_error(s, m)
        }
        Err(e) => {
            tracing::error!(error = %e, "upload failed");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                state.catalog().get("media.error.failed").to_owned(),
            )
        }
    }
}

async fn item_page(
    state: &AppState,
    cu: &CurrentUser,
    item: &MediaItem,
    status: StatusCode,
    (notice, message): (Option<String>, Option<String>),
) -> Result<Response, WebError> {
    let uses = state.store().media_uses(&item.key).await?;
    let uses: Vec<_> = uses
        .iter()
        .map(|u| context! { id => u.id.get(), title => u.title.clone(), status => state.catalog().get(&format!("status.{}", u.status)) })
        .collect();
    let picture = (item.kind == "image").then(|| {
        minijinja::Value::from_safe_string(super::super::pages::pictures::picture(
            item,
            &item.alt.replace('"', "&quot;"),
            true,
        ))
    });
    render_status(
        state,
        Some(cu),
        status,
        "admin/media_item.html",
        &item.file_name,
        context! {
            item => ser(card(state, item)),
            picture => picture,
            uses => uses,
            notice => notice,
            message => message,
            bytes => item.bytes,
        },
    )
}

/// `GET /admin/media/{id}`: an item: preview, alt text and caption, where used, delete.
pub(crate) async fn item(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, WebError> {
    let item = state.store().media(id).await?.ok_or(WebError::NotFound)?;
    item_page(&state, &cu, &item, StatusCode::OK, (n.text(&state), None)).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TextForm {
    csrf: String,
    alt: String,
    caption: String,
}

impl CsrfProtected for TextForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/media/{id}`: saves alt text and caption.
pub(crate) async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<i64>,
    CsrfForm(f): CsrfForm<TextForm>,
) -> Result<Response, WebError> {
    match state
        .app()
        .update_media(&cu.actor(), id, &f.alt, &f.caption)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/media/{id}?tb=luu")).into_response()),
        Err(e) => {
            let (status, message) = refusal(&state, e)?;
            let item = state.store().media(id).await?.ok_or(WebError::NotFound)?;
            item_page(&state, &cu, &item, status, (None, Some(message))).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct DeleteForm {
    csrf: String,
    confirm: String,
}

impl CsrfProtected for DeleteForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/media/{id}/delete`: deletes an item; one in use only with `confirm`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<i64>,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<DeleteForm>,
) -> Result<Response, WebError> {
    let _ = headers;
    match state
        .app()
        .delete_media(&cu.actor(), id, !f.confirm.is_empty())
        .await
    {
        Ok(()) => {
            state.settle().await;
            Ok(Redirect::to("/admin/media?tb=da-xoa").into_response())
        }
        Err(bantin_app::AppError::MediaInUse(n)) => {
            let item = state.store().media(id).await?.ok_or(WebError::NotFound)?;
            let message = state
                .catalog()
                .format("media.in_use", &[("n", &n.to_string())]);
            item_page(
                &state,
                &cu,
                &item,
                StatusCode::CONFLICT,
                (None, Some(message)),
            )
            .await
        }
        Err(e) => Err(WebError::from_app(e, state.catalog())),
    }
}
