//! The account's own page: its password and two-step sign-in. Both changes need the password
//! again (re-authentication counted and audited like sign-in), so a stolen session cannot
//! take the account over.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use bantin_core::account::{MAX_INPUT_BYTES, NewPassword};
use bantin_core::totp::{TotpSecret, new_backup_codes};
use minijinja::context;
use serde::Deserialize;

use super::login::backup_code_hash;
use super::page::{Notice, refusal, render_status, stale};
use crate::auth::{CurrentUser, session_cookie, two_step_required};
use crate::client_ip::secure_cookies;
use crate::cookies::{self, ENROL_COOKIE};
use crate::extract::{CsrfForm, CsrfProtected};
use crate::{AppState, WebError};

/// `GET /admin/account`: change password; two-step status.
pub(crate) async fn account(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    account_page(&state, &cu, StatusCode::OK, None, q.text(&state)).await
}

async fn account_page(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let codes_left = state.store().unused_backup_codes(cu.user.id).await?;
    render_status(
        state,
        Some(cu),
        status,
        "admin/account.html",
        state.catalog().get("account.title"),
        context! {
            error => error,
            notice => notice,
            two_step_on => cu.user.totp_secret().is_some(),
            two_step_required => two_step_required(state, cu.user.role()),
            codes_left => codes_left,
        },
    )
}

/// The account page again, with what went wrong.
async fn account_error(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    message: String,
) -> Response {
    account_page(state, cu, status, Some(message), None)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The account page again after a form with a stale token.
async fn stale_on_account_page(state: &AppState, parts: &Parts) -> Response {
    match crate::extract::user_of(parts) {
        Some(cu) => account_error(state, cu, StatusCode::FORBIDDEN, stale(state)).await,
        None => WebError::Refused(StatusCode::FORBIDDEN, stale(state)).into_response(),
    }
}

/// The account page with a service's refusal.
async fn account_refusal(
    state: &AppState,
    cu: &CurrentUser,
    e: bantin_app::AppError,
) -> Result<Response, WebError> {
    let (status, message) = match e {
        bantin_app::AppError::WrongCredentials => (
            StatusCode::BAD_REQUEST,
            state.catalog().get("account.wrong_current").to_owned(),
        ),
        e => refusal(state, e)?,
    };
    Ok(account_error(state, cu, status, message).await)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

impl CsrfProtected for PasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        stale_on_account_page(state, parts).await
    }
}

/// `POST /admin/account/password`: every session of the account ends; this browser gets a
/// new one.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if [&f.current, &f.new, &f.confirm]
        .iter()
        .any(|s| s.len() > MAX_INPUT_BYTES)
    {
        return Ok(account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("login.too_long").into(),
        )
        .await);
    }
    let new = match NewPassword::parse(&f.new) {
        Ok(p) => p,
        Err(e) => {
            return Ok(account_error(&state, &cu, StatusCode::BAD_REQUEST, e.to_string()).await);
        }
    };
    if f.new != f.confirm {
        return Ok(account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("account.mismatch").into(),
        )
        .await);
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&cu.session.user_agent)
        .to_owned();
    let started = match state
        .app()
        .change_own_password(&cu.actor(), &cu.user, f.current.clone(), new, &ua)
        .await
    {
        Ok(s) => s,
        Err(e) => return account_refusal(&state, &cu, e).await,
    };
    let mut res = Redirect::to("/admin/account?tb=da-doi-mat-khau").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(&state, &headers, &started.token),
    );
    Ok(res)
}

fn qr_svg(data: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::new(data.as_bytes()).map_err(WebError::internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

fn enrol_mac(state: &AppState, cu: &CurrentUser, secret: &str) -> String {
    state
        .signer()
        .token("totp-enrol", format!("{}:{secret}", cu.user.id).as_bytes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EnrolQuery {
    #[serde(rename = "bat-buoc")]
    required: String,
}

/// `GET /admin/account/two-step`: a new secret as a QR code, to confirm with a code and the
/// password.
pub(crate) async fn two_step_enrol(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<EnrolQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if cu.user.totp_secret().is_some() {
        return Ok(Redirect::to("/admin/account").into_response());
    }
    let secret = TotpSecret::generate();
    enrol_page(
        &state,
        &headers,
        &cu,
        &secret,
        StatusCode::OK,
        None,
        !q.required.is_empty(),
    )
}

fn enrol_page(
    state: &AppState,
    headers: &HeaderMap,
    cu: &CurrentUser,
    secret: &TotpSecret,
    status: StatusCode,
    error: Option<String>,
    required: bool,
) -> Result<Response, WebError> {
    let stored = secret.to_stored();
    let url = secret.otpauth_url(&state.settings().site_name, &cu.user.username);
    let mut res = render_status(
        state,
        Some(cu),
        status,
        "admin/two_step.html",
        state.catalog().get("two_step.title"),
        context! {
            qr => minijinja::Value::from_safe_string(qr_svg(&url)?),
            secret => stored.clone(),
            error => error,
            required => required || cu.must_enrol_totp(state),
            codes => None::<Vec<String>>,
        },
    )?;
    let value = format!("{stored}.{}", enrol_mac(state, cu, &stored));
    let c = cookies::cookie(ENROL_COOKIE, value, secure_cookies(state, headers));
    res.headers_mut()
        .append(header::SET_COOKIE, cookies::set_cookie(&c));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The secret being enrolled, if the enrolment cookie is genuine.
fn pending_secret(state: &AppState, cu: &CurrentUser, jar: &CookieJar) -> Option<TotpSecret> {
    let c = jar.get(ENROL_COOKIE)?;
    let (secret, mac) = c.value().split_once('.')?;
    state
        .signer()
        .verify(
            "totp-enrol",
            format!("{}:{secret}", cu.user.id).as_bytes(),
            mac,
        )
        .then(|| TotpSecret::from_stored(secret))
        .flatten()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
    password: String,
}

impl CsrfProtected for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/account/two-step`: turns two-step sign-in on once the password is given
/// again and a code matches, and shows the backup codes once.
pub(crate) async fn two_step_confirm(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
    form: Result<CsrfForm<CodeForm>, Response>,
) -> Result<Response, WebError> {
    let pending = pending_secret(&state, &cu, &CookieJar::from_headers(&headers));
    let f = match (form, &pending) {
        (Ok(CsrfForm(f)), _) => f,
        (Err(_), Some(secret)) => {
            return enrol_page(
                &state,
                &headers,
                &cu,
                secret,
                StatusCode::FORBIDDEN,
                Some(stale(&state)),
                false,
            );
        }
        (Err(res), None) => return Ok(res),
    };
    let Some(secret) = pending else {
        return Ok(Redirect::to("/admin/account/two-step").into_response());
    };
    let Some(step) = secret.verify(&f.code, state.now()) else {
        let msg = state.catalog().get("login.bad_code").to_owned();
        return enrol_page(
            &state,
            &headers,
            &cu,
            &secret,
            StatusCode::BAD_REQUEST,
            Some(msg),
            false,
        );
    };
    if f.password.len() > MAX_INPUT_BYTES {
        let msg = state.catalog().get("login.too_long").to_owned();
        return enrol_page(
            &state,
            &headers,
            &cu,
            &secret,
            StatusCode::BAD_REQUEST,
            Some(msg),
            false,
        );
    }
    let codes = new_backup_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| backup_code_hash(&state, cu.user.id, c))
        .collect();
    let result = state
        .app()
        .turn_two_step_on(
            &cu.actor(),
            &cu.user,
            f.password.clone(),
            &secret.to_stored(),
            step,
            &hashes,
        )
        .await;
    if let Err(e) = result {
        let (status, message) = match e {
            bantin_app::AppError::WrongCredentials => (
                StatusCode::BAD_REQUEST,
                state.catalog().get("account.wrong_current").to_owned(),
            ),
            e => refusal(&state, e)?,
        };
        return enrol_page(&state, &headers, &cu, &secret, status, Some(message), false);
    }
    let mut res = render_status(
        &state,
        Some(&cu),
        StatusCode::OK,
        "admin/two_step.html",
        state.catalog().get("two_step.title"),
        context! { codes => codes, qr => "", secret => "", error => None::<String>, required => false },
    )?;
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::removal(ENROL_COOKIE, secure_cookies(&state, &headers)),
    );
    h.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OffForm {
    csrf: String,
    password: String,
}

impl CsrfProtected for OffForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        stale_on_account_page(state, parts).await
    }
}

/// `POST /admin/account/two-step/off`: needs the password; refused when the role requires it.
pub(crate) async fn two_step_off(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<OffForm>,
) -> Result<Response, WebError> {
    if f.password.len() > MAX_INPUT_BYTES {
        let m = state.catalog().get("account.wrong_current").to_owned();
        return Ok(account_error(&state, &cu, StatusCode::BAD_REQUEST, m).await);
    }
    let required = two_step_required(&state, cu.user.role());
    match state
        .app()
        .turn_two_step_off(&cu.actor(), &cu.user, f.password.clone(), required)
        .await
    {
        Ok(()) => Ok(Redirect::to("/admin/account?tb=da-tat").into_response()),
        Err(e) => account_refusal(&state, &cu, e).await,
    }
}
