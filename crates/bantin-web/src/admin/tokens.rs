//! `/admin/tokens`: the account's own API tokens — created (shown once), listed with their
//! last use, revoked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::TokenName;
use bantin_core::format_date_time;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::render_status;
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed, TokenOnly};
use crate::layout::ser;
use crate::{AppState, WebError};

#[derive(Serialize)]
struct Row {
    id: i64,
    name: String,
    read_only: bool,
    created: String,
    expires: String,
    last_used: String,
    last_ip: String,
    state: String,
    active: bool,
}

/// The page, with a just-created token or a problem.
async fn page(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    created: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let zone = &state.settings().zone;
    let now = state.now();
    let rows: Vec<Row> = state
        .store()
        .user_api_tokens(cu.user.id)
        .await?
        .into_iter()
        .map(|t| Row {
            id: t.id,
            name: t.name.clone(),
            read_only: t.read_only,
            created: format_date_time(t.created_at, zone),
            expires: t
                .expires_at
                .map(|e| format_date_time(e, zone))
                .unwrap_or_else(|| cat.get("tokens.never").to_owned()),
            last_used: t
                .last_used_at
                .map(|e| format_date_time(e, zone))
                .unwrap_or_else(|| "—".to_owned()),
            last_ip: t.last_used_ip.clone(),
            state: cat
                .get(if t.revoked_at.is_some() {
                    "tokens.revoked"
                } else if !t.usable(now) {
                    "tokens.expired"
                } else {
                    "tokens.active"
                })
                .to_owned(),
            active: t.usable(now),
        })
        .collect();
    let mut res = render_status(
        state,
        Some(cu),
        status,
        "admin/tokens.html",
        cat.get("tokens.title"),
        context! { tokens => ser(rows), created => created, error => error },
    )?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /admin/tokens`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    page(&state, &cu, StatusCode::OK, None, None).await
}

/// The new-token form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewTokenForm {
    csrf: String,
    name: String,
    read_only: String,
    /// Days until it expires; empty: never.
    days: String,
}

impl CsrfProtected for NewTokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/tokens`: creates a token and shows it, this once.
pub(crate) async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<NewTokenForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let Some(name) = TokenName::parse(&f.name) else {
        let e = cat.get("tokens.bad_name").to_owned();
        return page(&state, &cu, StatusCode::BAD_REQUEST, None, Some(e)).await;
    };
    let expires_at = match f.days.as_str() {
        "" => None,
        "30" | "90" | "365" => Some(
            state
                .now()
                .plus(f.days.parse::<i64>().unwrap_or(0) * 86_400),
        ),
        _ => return Err(WebError::BadRequest(cat.get("form.malformed").to_owned())),
    };
    let created = state
        .app()
        .create_api_token(
            &cu.actor(),
            cu.user.id,
            &name,
            f.read_only == "1",
            expires_at,
        )
        .await
        .map_err(|e| WebError::from_app(e, cat))?;
    page(&state, &cu, StatusCode::OK, Some(created.token), None).await
}

/// `POST /admin/tokens/{id}/revoke`: revokes one of the account's tokens.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<i64>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    state
        .app()
        .revoke_api_token(&cu.actor(), id, Some(cu.user.id))
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
