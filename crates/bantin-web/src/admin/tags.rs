//! Tags in the newsroom: the list with how many articles carry each (search, pages), renaming
//! one, merging one into another, and the suggestions the article form fetches while a tag is
//! typed (`/admin/tags/suggest?q=`, JSON).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Redirect, Response};
use bantin_app::AppError;
use bantin_core::TagId;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{refusal, render_status};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed};
use crate::layout::ser;
use crate::{AppState, WebError};

/// Rows per page of the list.
const PAGE: i64 = 50;

/// Suggestions offered at once.
const SUGGESTIONS: usize = 10;

/// The list's query: search text, page, and the notice after a change.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ListQuery {
    q: String,
    trang: String,
    tb: String,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    name: String,
    slug: String,
    articles: i64,
}

/// A problem with one row's form, shown beside it with what was typed.
struct RowError {
    id: TagId,
    field: &'static str,
    value: String,
    message: String,
}

async fn list_page(
    state: &AppState,
    cu: &CurrentUser,
    q: &ListQuery,
    status: StatusCode,
    error: Option<RowError>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if q.q.len() > 200 || q.trang.len() > 10 {
        return Err(WebError::BadRequest(cat.get("form.malformed").to_owned()));
    }
    let page: i64 = q.trang.parse().unwrap_or(1).clamp(1, 10_000);
    let text = Some(q.q.trim()).filter(|t| !t.is_empty());
    let rows = state
        .store()
        .tags(text, PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = rows.len() as i64 > PAGE;
    let rows: Vec<Row> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|t| Row {
            id: t.id.get(),
            name: t.name,
            slug: t.slug,
            articles: t.articles,
        })
        .collect();
    let query = |p: i64| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q.q)
            .append_pair("trang", &p.to_string())
            .finish()
    };
    let notice = match q.tb.as_str() {
        "doi-ten" => Some(cat.get("tags.renamed")),
        "gop" => Some(cat.get("tags.merged")),
        _ => None,
    };
    render_status(
        state,
        Some(cu),
        status,
        "admin/tags.html",
        cat.get("tags.title"),
        context! {
            rows => ser(rows),
            q => q.q.clone(),
            notice => notice,
            error => error.map(|e| context! {
                id => e.id.get(),
                field => e.field,
                value => e.value,
                message => e.message,
            }),
            next => more.then(|| query(page + 1)),
            prev => (page > 1).then(|| query(page - 1)),
        },
    )
}

/// `GET /admin/tags`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    list_page(&state, &cu, &q, StatusCode::OK, None).await
}

/// What the rename form sends.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RenameForm {
    csrf: String,
    name: String,
    q: String,
}

impl CsrfProtected for RenameForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the merge form sends: the name of the tag to merge into.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MergeForm {
    csrf: String,
    into: String,
    q: String,
}

impl CsrfProtected for MergeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The list again with a row's problem, or an error page for what is not about the form.
async fn refused(
    state: &AppState,
    cu: &CurrentUser,
    q: String,
    id: TagId,
    field: &'static str,
    value: String,
    e: AppError,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let (status, message) = match e {
        AppError::TagTaken => (StatusCode::CONFLICT, cat.get("tags.taken").to_owned()),
        AppError::BadTagName | AppError::NoSlug => {
            (StatusCode::BAD_REQUEST, cat.get("tags.bad_name").to_owned())
        }
        AppError::SameTag => (StatusCode::BAD_REQUEST, cat.get("tags.same").to_owned()),
        e => refusal(state, e)?,
    };
    let q = ListQuery {
        q,
        ..ListQuery::default()
    };
    let error = RowError {
        id,
        field,
        value,
        message,
    };
    list_page(state, cu, &q, status, Some(error)).await
}

fn back(tb: &str, q: &str) -> Response {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("tb", tb)
        .finish();
    Redirect::to(&format!("/admin/tags?{query}")).into_response()
}

/// `POST /admin/tags/{id}/rename`.
pub(crate) async fn rename(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<TagId>,
    CsrfForm(f): CsrfForm<RenameForm>,
) -> Result<Response, WebError> {
    let q = f.q.chars().take(200).collect::<String>();
    match state.app().rename_tag(&cu.actor(), id, &f.name).await {
        Ok(()) => Ok(back("doi-ten", &q)),
        Err(e) => refused(&state, &cu, q, id, "name", f.name, e).await,
    }
}

/// `POST /admin/tags/{id}/merge`: every article of this tag gets the tag named `into`
/// instead, and this one goes.
pub(crate) async fn merge(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<TagId>,
    CsrfForm(f): CsrfForm<MergeForm>,
) -> Result<Response, WebError> {
    let q = f.q.chars().take(200).collect::<String>();
    if state.store().tag(id).await?.is_none() {
        return Err(WebError::NotFound);
    }
    let into = if f.into.trim().is_empty() || f.into.chars().count() > 200 {
        None
    } else {
        state.store().tag_by_name(&f.into).await?
    };
    let Some(into) = into else {
        let message = state.catalog().get("tags.unknown_target").to_owned();
        let error = RowError {
            id,
            field: "into",
            value: f.into,
            message,
        };
        let q = ListQuery {
            q,
            ..ListQuery::default()
        };
        return list_page(&state, &cu, &q, StatusCode::BAD_REQUEST, Some(error)).await;
    };
    match state.app().merge_tags(&cu.actor(), id, into).await {
        Ok(()) => Ok(back("gop", &q)),
        Err(e) => refused(&state, &cu, q, id, "into", f.into, e).await,
    }
}

/// The suggestion query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SuggestQuery {
    q: String,
}

/// `GET /admin/tags/suggest?q=`: up to ten tag names starting with `q` (with or without
/// diacritics), as a JSON array.
pub(crate) async fn suggest(
    State(state): State<AppState>,
    Query(q): Query<SuggestQuery>,
) -> Result<Response, WebError> {
    let typed = q.q.trim();
    if typed.is_empty() || typed.chars().count() > bantin_app::TAG_NAME_MAX {
        return Ok(Json(Vec::<String>::new()).into_response());
    }
    let names = state.store().tag_suggestions(typed, SUGGESTIONS).await?;
    // Like every answer to a signed-in user, marked private and not stored (`auth`).
    Ok(Json(names).into_response())
}
