//! `/admin/webhooks`: an administrator registers addresses for article events (the signing
//! secret shown once), sees each one's latest deliveries with their status, and removes them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::{WebhookEvent, WebhookUrl};
use bantin_core::format_date_time;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::render_status;
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed, TokenOnly};
use crate::layout::ser;
use crate::{AppState, WebError};

/// Deliveries shown per webhook.
const LOG: i64 = 20;

#[derive(Serialize)]
struct DeliveryRow {
    id: i64,
    event: String,
    created: String,
    status: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: String,
    next: String,
}

#[derive(Serialize)]
struct HookRow {
    id: i64,
    url: String,
    events: String,
    created: String,
    deliveries: Vec<DeliveryRow>,
}

async fn page(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    secret: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let zone = &state.settings().zone;
    let mut hooks = Vec::new();
    for h in state.store().webhooks().await? {
        let deliveries = state
            .store()
            .webhook_deliveries(h.id, LOG)
            .await?
            .into_iter()
            .map(|d| DeliveryRow {
                id: d.id,
                event: d.event,
                created: format_date_time(d.created_at, zone),
                status: cat.get(&format!("webhooks.status.{}", d.status)).to_owned(),
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                next: if d.status == "pending" {
                    format_date_time(d.next_at, zone)
                } else {
                    String::new()
                },
            })
            .collect();
        hooks.push(HookRow {
            id: h.id,
            url: h.url,
            events: h.events.replace(',', ", "),
            created: format_date_time(h.created_at, zone),
            deliveries,
        });
    }
    let events: Vec<_> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
    let mut res = render_status(
        state,
        Some(cu),
        status,
        "admin/webhooks.html",
        cat.get("webhooks.title"),
        context! {
            hooks => ser(hooks),
            events => events,
            secret => secret,
            error => error,
            allow_private => state.settings().webhooks_allow_private,
        },
    )?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /admin/webhooks`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    page(&state, &cu, StatusCode::OK, None, None).await
}

/// The registration form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewWebhookForm {
    csrf: String,
    url: String,
    event: Vec<String>,
}

impl CsrfProtected for NewWebhookForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/webhooks`: registers a webhook and shows its secret, this once.
pub(crate) async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<NewWebhookForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let events: Option<Vec<WebhookEvent>> =
        f.event.iter().map(|e| WebhookEvent::parse(e)).collect();
    let (Some(url), Some(events)) = (WebhookUrl::parse(&f.url), events.filter(|e| !e.is_empty()))
    else {
        let e = cat.get("webhooks.bad_input").to_owned();
        return page(&state, &cu, StatusCode::BAD_REQUEST, None, Some(e)).await;
    };
    let (_, secret) = state
        .app()
        .register_webhook(&cu.actor(), &url, &events)
        .await
        .map_err(|e| WebError::from_app(e, cat))?;
    page(&state, &cu, StatusCode::OK, Some(secret), None).await
}

/// `POST /admin/webhooks/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<i64>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    state
        .app()
        .delete_webhook(&cu.actor(), id)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}
