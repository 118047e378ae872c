//! `/admin/sessions`: the account's own sessions, and ending one or all others.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use bantin_core::{SessionId, format_date_time};
use minijinja::context;
use serde::Serialize;

use super::page::{Notice, render};
use crate::auth::CurrentUser;
use crate::client_ip::secure_cookies;
use crate::cookies::{self, SESSION_COOKIE};
use crate::extract::{CsrfForm, Parsed, TokenOnly};
use crate::layout::ser;
use crate::{AppState, WebError};

#[derive(Serialize)]
struct SessionRow {
    id: SessionId,
    current: bool,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
}

/// `GET /admin/sessions`: this account's sessions.
pub(crate) async fn sessions(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let zone = &state.settings().zone;
    let rows: Vec<SessionRow> = state
        .store()
        .user_sessions(cu.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            current: s.id == cu.session.id,
            created: format_date_time(s.created_at, zone),
            last_seen: format_date_time(s.last_seen, zone),
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    render(
        &state,
        Some(&cu),
        "admin/sessions.html",
        state.catalog().get("sessions.title"),
        context! { sessions => ser(rows), notice => q.text(&state) },
    )
}

/// `POST /admin/sessions/{id}/end`: ends one of this account's sessions.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<SessionId>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    let ended = state
        .app()
        .end_session(&cu.actor(), cu.user.id, id, "session.ended")
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    if !ended {
        return Err(WebError::NotFound);
    }
    if id == cu.session.id {
        let mut res = Redirect::to("/admin/login?ly-do=da-thoat").into_response();
        res.headers_mut().append(
            header::SET_COOKIE,
            cookies::removal(SESSION_COOKIE, secure_cookies(&state, &headers)),
        );
        return Ok(res);
    }
    Ok(Redirect::to("/admin/sessions?tb=da-ket-thuc").into_response())
}

/// `POST /admin/sessions/end-others`.
pub(crate) async fn end_other_sessions(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    state
        .app()
        .end_other_sessions(&cu.actor(), cu.user.id, cu.session.id)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to("/admin/sessions?tb=da-ket-thuc").into_response())
}
