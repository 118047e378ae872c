//! "Forgot password": a one-time link by email when SMTP is configured (valid one hour), else
//! the page says to ask an administrator. The answer never tells whether an account exists.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::{Actor, AppError};
use bantin_core::account::NewPassword;
use minijinja::context;
use serde::Deserialize;

use super::login::login_cookie_pair;
use super::page::{refusal, render_status, stale};
use crate::client_ip::ClientIp;
use crate::extract::{CsrfForm, CsrfProtected, Parsed};
use crate::{AppState, WebError};

struct View<'a> {
    status: StatusCode,
    who: &'a str,
    message: Option<String>,
    notice: Option<String>,
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn forgot_page(state: &AppState, headers: &HeaderMap, v: View<'_>) -> Result<Response, WebError> {
    let (csrf, set) = login_cookie_pair(state, headers)?;
    let mut res = render_status(
        state,
        None,
        v.status,
        "admin/forgot.html",
        state.catalog().get("forgot.title"),
        context! {
            enabled => state.settings().mailer.is_some(),
            who => v.who,
            csrf => csrf,
            message => v.message,
            notice => v.notice,
        },
    )?;
    if let Some(set) = set {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    Ok(no_store(res))
}

/// `GET /admin/forgot`.
pub(crate) async fn forgot_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    forgot_page(
        &state,
        &headers,
        View {
            status: StatusCode::OK,
            who: "",
            message: None,
            notice: None,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ForgotForm {
    csrf: String,
    who: String,
}

impl ForgotForm {
    fn keep(&self) -> &str {
        if self.who.len() > 254 { "" } else { &self.who }
    }
}

impl CsrfProtected for ForgotForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let view = View {
            status: StatusCode::FORBIDDEN,
            who: self.keep(),
            message: Some(stale(state)),
            notice: None,
        };
        forgot_page(state, &parts.headers, view).unwrap_or_else(IntoResponse::into_response)
    }
}

/// `POST /admin/forgot`: sends the link in the background and answers the same either way.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<ForgotForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let page = |status, message: Option<String>, notice: Option<String>| {
        forgot_page(
            &state,
            &headers,
            View {
                status,
                who: f.keep(),
                message,
                notice,
            },
        )
    };
    let (Some(mailer), Some(base)) = (
        state.settings().mailer.clone(),
        state.settings().public_url.clone(),
    ) else {
        return page(StatusCode::OK, None, None);
    };
    if f.who.trim().is_empty() || f.who.len() > 254 || f.who.chars().any(char::is_control) {
        return page(
            StatusCode::BAD_REQUEST,
            Some(cat.get("forgot.bad").to_owned()),
            None,
        );
    }
    let actor = Actor {
        ip: ip.to_string(),
        ..Actor::default()
    };
    let issued = state
        .app()
        .request_password_reset(&actor, &f.who)
        .await
        .map_err(|e| WebError::from_app(e, cat))?;
    for (u, token) in issued {
        let link = format!("{}/admin/reset/{token}", base.trim_end_matches('/'));
        let subject = cat.format(
            "forgot.mail_subject",
            &[("site", &state.settings().site_name)],
        );
        let body = cat.format(
            "forgot.mail_body",
            &[
                ("name", &u.username),
                ("link", &link),
                ("site", &state.settings().site_name),
            ],
        );
        let mailer = mailer.clone();
        let to = u.email.clone();
        // Sent in the background: the answer's timing must not tell whether an account matched.
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&to, &subject, body).await {
                tracing::error!(error = %e, "sending a password-reset email failed");
            }
        });
    }
    page(
        StatusCode::OK,
        None,
        Some(cat.get("forgot.sent").to_owned()),
    )
}

/// A reset-link token as it appears in the URL: 64 hex digits.
pub(crate) struct ResetToken(String);

impl std::str::FromStr for ResetToken {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(s.to_owned()))
            .ok_or(())
    }
}

fn invalid(state: &AppState) -> WebError {
    WebError::Refused(
        StatusCode::NOT_FOUND,
        state.catalog().get("reset.invalid").to_owned(),
    )
}

fn reset_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, WebError> {
    let (csrf, set) = login_cookie_pair(state, headers)?;
    let mut res = render_status(
        state,
        None,
        status,
        "admin/reset.html",
        state.catalog().get("reset.title"),
        context! { token => token, csrf => csrf, message => message },
    )?;
    if let Some(set) = set {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    Ok(no_store(res))
}

/// `GET /admin/reset/{token}`.
pub(crate) async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    token: Result<Parsed<ResetToken>, WebError>,
) -> Result<Response, WebError> {
    let Ok(Parsed(ResetToken(token))) = token else {
        return Err(invalid(&state));
    };
    let valid = state
        .app()
        .reset_link_user(&token)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    if valid.is_none() {
        return Err(invalid(&state));
    }
    reset_page(&state, &headers, &token, StatusCode::OK, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ResetForm {
    csrf: String,
    new: String,
    confirm: String,
}

impl CsrfProtected for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/reset/{token}`: the new password; every session of the account ends.
pub(crate) async fn reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    token: Result<Parsed<ResetToken>, WebError>,
    form: Result<CsrfForm<ResetForm>, Response>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let Ok(Parsed(ResetToken(token))) = token else {
        return Err(invalid(&state));
    };
    let valid = state
        .app()
        .reset_link_user(&token)
        .await
        .map_err(|e| WebError::from_app(e, cat))?;
    if valid.is_none() {
        return Err(invalid(&state));
    }
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(_) => {
            return reset_page(
                &state,
                &headers,
                &token,
                StatusCode::FORBIDDEN,
                Some(stale(&state)),
            );
        }
    };
    let password = match NewPassword::parse(&f.new) {
        Ok(p) => p,
        Err(e) => {
            return reset_page(
                &state,
                &headers,
                &token,
                StatusCode::BAD_REQUEST,
                Some(e.to_string()),
            );
        }
    };
    if f.new != f.confirm {
        let m = cat.get("account.mismatch").to_owned();
        return reset_page(&state, &headers, &token, StatusCode::BAD_REQUEST, Some(m));
    }
    match state
        .app()
        .reset_password(&ip.to_string(), &token, password)
        .await
    {
        Ok(()) => Ok(Redirect::to("/admin/login?ly-do=da-dat-lai").into_response()),
        Err(AppError::InvalidResetLink) => Err(invalid(&state)),
        Err(e) => {
            let (status, message) = refusal(&state, e)?;
            reset_page(&state, &headers, &token, status, Some(message))
        }
    }
}
