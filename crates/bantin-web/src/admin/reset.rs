//! "Forgot password": a one-time link by email when SMTP is configured (valid one hour), else
//! the page says to ask an administrator. The answer never tells whether an account exists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use bantin_core::account::NewPassword;
use bantin_store::NewAuditEntry;
use minijinja::context;
use serde::Deserialize;

use super::login::{login_cookie_pair, login_csrf_ok};
use super::{AdminForm, render};
use crate::auth;
use crate::pages::now;
use crate::security::ClientIp;
use crate::{AppState, WebError};

/// How long a reset link works, seconds.
const RESET_SECONDS: i64 = 3600;

struct View<'a> {
    status: StatusCode,
    who: &'a str,
    message: Option<String>,
    notice: Option<String>,
}

fn forgot_page(state: &AppState, jar: &CookieJar, v: View<'_>) -> Result<Response, WebError> {
    let (csrf, set) = login_cookie_pair(state, jar)?;
    let mut res = render(
        state,
        None,
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
    *res.status_mut() = v.status;
    if let Some(set) = set {
        res.headers_mut()
            .append(axum::http::header::SET_COOKIE, set);
    }
    Ok(res)
}

/// `GET /admin/forgot`.
pub(crate) async fn forgot_form(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    forgot_page(
        &state,
        &jar,
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

/// `POST /admin/forgot`: sends the link in the background and answers the same either way.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    AdminForm(f): AdminForm<ForgotForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let keep = if f.who.len() > 254 {
        ""
    } else {
        f.who.as_str()
    };
    let page = |status, message: Option<String>, notice: Option<String>| {
        forgot_page(
            &state,
            &jar,
            View {
                status,
                who: keep,
                message,
                notice,
            },
        )
    };
    if !login_csrf_ok(&state, &jar, &f.csrf) {
        return page(StatusCode::FORBIDDEN, Some(super::stale(&state)), None);
    }
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
    let store = state.store();
    let now = now();
    for u in store.users_by_login_or_email(&f.who).await? {
        if u.email.is_empty() {
            continue;
        }
        let token = auth::random_token()?;
        store
            .insert_password_reset(&auth::hash_token(&token), u.id, now)
            .await?;
        let entry = NewAuditEntry {
            user_id: Some(u.id),
            username: &u.username,
            action: "account.reset_requested",
            target: &format!("user:{}", u.id),
            detail: "",
            ip: &ip.to_string(),
        };
        store.append_audit(&entry, now).await?;
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

async fn reset_user(state: &AppState, token: &str) -> Result<Option<(String, i64)>, WebError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = auth::hash_token(token);
    Ok(state
        .store()
        .password_reset_user(&hash, now() - RESET_SECONDS)
        .await?
        .map(|id| (hash, id)))
}

fn reset_page(
    state: &AppState,
    jar: &CookieJar,
    token: &str,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, WebError> {
    let (csrf, set) = login_cookie_pair(state, jar)?;
    let mut res = render(
        state,
        None,
        "admin/reset.html",
        state.catalog().get("reset.title"),
        context! { token => token, csrf => csrf, message => message },
    )?;
    *res.status_mut() = status;
    if let Some(set) = set {
        res.headers_mut()
            .append(axum::http::header::SET_COOKIE, set);
    }
    Ok(res)
}

/// `GET /admin/reset/{token}`.
pub(crate) async fn reset_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    if reset_user(&state, &token).await?.is_none() {
        return Err(WebError::Refused(
            StatusCode::NOT_FOUND,
            state.catalog().get("reset.invalid").to_owned(),
        ));
    }
    reset_page(&state, &jar, &token, StatusCode::OK, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ResetForm {
    csrf: String,
    new: String,
    confirm: String,
}

/// `POST /admin/reset/{token}`: the new password; every session of the account ends.
pub(crate) async fn reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Path(token): Path<String>,
    AdminForm(f): AdminForm<ResetForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let Some((hash, user_id)) = reset_user(&state, &token).await? else {
        return Err(WebError::Refused(
            StatusCode::NOT_FOUND,
            cat.get("reset.invalid").to_owned(),
        ));
    };
    if !login_csrf_ok(&state, &jar, &f.csrf) {
        return reset_page(
            &state,
            &jar,
            &token,
            StatusCode::FORBIDDEN,
            Some(super::stale(&state)),
        );
    }
    let password = match NewPassword::parse(&f.new) {
        Ok(p) => p,
        Err(e) => {
            return reset_page(
                &state,
                &jar,
                &token,
                StatusCode::BAD_REQUEST,
                Some(e.to_string()),
            );
        }
    };
    if f.new != f.confirm {
        let m = cat.get("account.mismatch").to_owned();
        return reset_page(&state, &jar, &token, StatusCode::BAD_REQUEST, Some(m));
    }
    let store = state.store();
    let now = now();
    if !store.use_password_reset(&hash, user_id, now).await? {
        return Err(WebError::Refused(
            StatusCode::NOT_FOUND,
            cat.get("reset.invalid").to_owned(),
        ));
    }
    let new_hash = super::argon2_work(&state, move || password.hash()).await?;
    store
        .set_user_password_by_id(user_id, &new_hash, now)
        .await?;
    let user = store.user(user_id).await?;
    let entry = NewAuditEntry {
        user_id: Some(user_id),
        username: user.as_ref().map_or("", |u| u.username.as_str()),
        action: "account.password_reset_by_email",
        target: &format!("user:{user_id}"),
        detail: "",
        ip: &ip.to_string(),
    };
    store.append_audit(&entry, now).await?;
    Ok(Redirect::to("/admin/login?ly-do=da-dat-lai").into_response())
}
