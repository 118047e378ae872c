//! Sign-in (password, then the two-step code when the account has one), sign-out, and the
//! JSON session endpoint the idle warning talks to. The rules (lockout, session start) are
//! the services'; this module reads forms and sets cookies.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use bantin_app::{AppError, SessionStarted, SignIn, random_hex};
use bantin_core::UserId;
use bantin_core::account::MAX_INPUT_BYTES;
use bantin_core::totp::normalize_backup_code;
use bantin_store::User;
use minijinja::context;
use serde::Deserialize;

use super::page::{refusal, render_status, stale};
use crate::auth::{CurrentUser, MaybeUser, session_cookie, session_token};
use crate::client_ip::{ClientIp, secure_cookies};
use crate::cookies::{self, LOGIN_COOKIE, PENDING_COOKIE, SESSION_COOKIE};
use crate::extract::{CsrfForm, CsrfProtected};
use crate::routes::{login_notice, safe_next};
use crate::{AppState, WebError};

/// How long the two-step step may take, seconds.
const PENDING_SECONDS: i64 = 300;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LoginQuery {
    #[serde(rename = "ly-do")]
    reason: String,
    tiep: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    tiep: String,
}

impl LoginForm {
    /// The name as typed, unless it is too long to show again.
    fn keep_name(&self) -> &str {
        if self.username.len() > MAX_INPUT_BYTES {
            ""
        } else {
            &self.username
        }
    }
}

impl CsrfProtected for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let view = LoginView {
            status: StatusCode::FORBIDDEN,
            username: self.keep_name(),
            next: &safe_next(&self.tiep),
            message: Some(stale(state)),
            notice: None,
            two_step: false,
        };
        login_page(state, &parts.headers, view).unwrap_or_else(IntoResponse::into_response)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TwoStepForm {
    code: String,
    csrf: String,
    tiep: String,
}

impl CsrfProtected for TwoStepForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let view = LoginView {
            status: StatusCode::FORBIDDEN,
            username: "",
            next: &safe_next(&self.tiep),
            message: Some(stale(state)),
            notice: None,
            two_step: true,
        };
        login_page(state, &parts.headers, view).unwrap_or_else(IntoResponse::into_response)
    }
}

/// The sign-in cookie's value, or a new one (then `Some` header to set), for a request with
/// `headers`.
fn login_cookie(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), WebError> {
    if let Some(c) = CookieJar::from_headers(headers).get(LOGIN_COOKIE)
        && c.value().len() == 64
    {
        return Ok((c.value().to_owned(), None));
    }
    let v = random_hex(32).map_err(|e| WebError::from_app(e, state.catalog()))?;
    let c = cookies::cookie(LOGIN_COOKIE, v.clone(), secure_cookies(state, headers));
    Ok((v, Some(cookies::set_cookie(&c))))
}

/// The CSRF token of the pre-session forms (sign-in, forgotten password) and, when the
/// browser has no sign-in cookie yet, the header that sets one.
pub(crate) fn login_cookie_pair(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), WebError> {
    let (value, set) = login_cookie(state, headers)?;
    Ok((state.signer().token("login", value.as_bytes()), set))
}

struct LoginView<'a> {
    status: StatusCode,
    username: &'a str,
    next: &'a str,
    message: Option<String>,
    notice: Option<String>,
    two_step: bool,
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    v: LoginView<'_>,
) -> Result<Response, WebError> {
    let (csrf, set) = login_cookie_pair(state, headers)?;
    let title = state
        .catalog()
        .get(if v.two_step {
            "login.two_step_title"
        } else {
            "login.title"
        })
        .to_owned();
    let mut res = render_status(
        state,
        None,
        v.status,
        "admin/login.html",
        &title,
        context! {
            username => v.username,
            next => v.next,
            message => v.message,
            notice => v.notice,
            csrf => csrf,
            two_step => v.two_step,
        },
    )?;
    if let Some(set) = set {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    // A sign-in page must never be stored by a shared cache or the browser's history cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /admin/login`.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let next = safe_next(&q.tiep);
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = login_notice(&q.reason).map(|k| state.catalog().get(k).to_owned());
    login_page(
        &state,
        &headers,
        LoginView {
            status: StatusCode::OK,
            username: "",
            next: &next,
            message: None,
            notice,
            two_step: false,
        },
    )
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `POST /admin/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&f.tiep);
    let cat = state.catalog();
    let page = |status: StatusCode, message: String, username: &str| {
        login_page(
            &state,
            &headers,
            LoginView {
                status,
                username,
                next: &next,
                message: Some(message),
                notice: None,
                two_step: false,
            },
        )
    };
    let keep_name = f.keep_name();
    if f.username.len() > MAX_INPUT_BYTES || f.password.len() > MAX_INPUT_BYTES {
        return page(
            StatusCode::BAD_REQUEST,
            cat.get("login.too_long").into(),
            keep_name,
        );
    }
    if f.username.chars().any(char::is_control) || f.password.chars().any(char::is_control) {
        return page(StatusCode::BAD_REQUEST, cat.get("login.control").into(), "");
    }
    if f.username.trim().is_empty() || f.password.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            cat.get("login.missing").into(),
            keep_name,
        );
    }
    let replaces = session_token(&state, &headers);
    let outcome = state
        .app()
        .sign_in(
            &ip.to_string(),
            &f.username,
            f.password.clone(),
            replaces,
            user_agent(&headers),
        )
        .await;
    match outcome {
        Ok(SignIn::Started(s)) => Ok(signed_in(&state, &headers, &s, &next)),
        Ok(SignIn::SecondStep(user)) => {
            let login_value = login_cookie(&state, &headers)?.0;
            let issued = state.now().as_second();
            let payload = format!("{}.{issued}", user.id);
            let mac = state
                .signer()
                .token("2fa", format!("{payload}.{login_value}").as_bytes());
            let c = cookies::cookie(
                PENDING_COOKIE,
                format!("{payload}.{mac}"),
                secure_cookies(&state, &headers),
            );
            let q: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("tiep", &next)
                .finish();
            let mut res = Redirect::to(&format!("/admin/login/two-step?{q}")).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, cookies::set_cookie(&c));
            Ok(res)
        }
        Err(e @ (AppError::Locked(_) | AppError::WrongCredentials)) => {
            let (status, message) = refusal(&state, e)?;
            page(status, message, keep_name)
        }
        Err(e) => Err(WebError::from_app(e, cat)),
    }
}

/// The redirect after a sign-in (a request with `headers`): the session cookie set, the
/// sign-in cookies dropped.
fn signed_in(state: &AppState, headers: &HeaderMap, s: &SessionStarted, next: &str) -> Response {
    let secure = secure_cookies(state, headers);
    let mut res = Redirect::to(next).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, session_cookie(state, headers, &s.token));
    h.append(header::SET_COOKIE, cookies::removal(LOGIN_COOKIE, secure));
    h.append(header::SET_COOKIE, cookies::removal(PENDING_COOKIE, secure));
    res
}

/// The account waiting for its two-step code, if the pending cookie is genuine and fresh.
async fn pending_user(state: &AppState, jar: &CookieJar) -> Result<Option<User>, WebError> {
    let (Some(p), Some(l)) = (jar.get(PENDING_COOKIE), jar.get(LOGIN_COOKIE)) else {
        return Ok(None);
    };
    let mut parts = p.value().splitn(3, '.');
    let (Some(id), Some(issued), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(id), Ok(issued)) = (id.parse::<UserId>(), issued.parse::<i64>()) else {
        return Ok(None);
    };
    let signed = format!("{id}.{issued}.{}", l.value());
    if !state.signer().verify("2fa", signed.as_bytes(), mac)
        || state.now().as_second() - issued > PENDING_SECONDS
    {
        return Ok(None);
    }
    Ok(state
        .store()
        .user(id)
        .await?
        .filter(|u| u.active && u.totp_secret().is_some()))
}

/// `GET /admin/login/two-step`.
pub(crate) async fn two_step_form(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, WebError> {
    if pending_user(&state, &jar).await?.is_none() {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    login_page(
        &state,
        &headers,
        LoginView {
            status: StatusCode::OK,
            username: "",
            next: &safe_next(&q.tiep),
            message: None,
            notice: None,
            two_step: true,
        },
    )
}

/// `POST /admin/login/two-step`: a code from the authenticator app or a backup code.
pub(crate) async fn two_step(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    CsrfForm(f): CsrfForm<TwoStepForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&f.tiep);
    let Some(user) = pending_user(&state, &jar).await? else {
        return Ok(Redirect::to("/admin/login").into_response());
    };
    let backup = normalize_backup_code(&f.code).map(|c| backup_code_hash(&state, user.id, &c));
    let outcome = state
        .app()
        .sign_in_second_step(
            &ip.to_string(),
            user,
            &f.code,
            backup,
            session_token(&state, &headers),
            user_agent(&headers),
        )
        .await;
    match outcome {
        Ok(s) => Ok(signed_in(&state, &headers, &s, &next)),
        Err(e @ (AppError::Locked(_) | AppError::WrongCredentials)) => {
            let (status, message) = match e {
                AppError::WrongCredentials => (
                    StatusCode::UNAUTHORIZED,
                    state.catalog().get("login.bad_code").to_owned(),
                ),
                e => refusal(&state, e)?,
            };
            login_page(
                &state,
                &headers,
                LoginView {
                    status,
                    username: "",
                    next: &next,
                    message: Some(message),
                    notice: None,
                    two_step: true,
                },
            )
        }
        Err(e) => Err(WebError::from_app(e, state.catalog())),
    }
}

/// How a backup code is stored: keyed by the installation secret and bound to its account.
pub(crate) fn backup_code_hash(state: &AppState, user_id: UserId, code: &str) -> String {
    state
        .signer()
        .token("backup-code", format!("{user_id}:{code}").as_bytes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LogoutForm {
    csrf: String,
    /// `idle` when the idle warning ran out.
    reason: String,
}

impl CsrfProtected for LogoutForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The sign-out button again with a fresh token, rather than failing outright.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let user = crate::extract::user_of(parts);
        render_status(
            state,
            user,
            StatusCode::FORBIDDEN,
            "admin/message.html",
            state.catalog().get("logout.confirm_title"),
            context! {
                message => state.catalog().get("form.stale"),
                confirm_sign_out => true,
            },
        )
        .unwrap_or_else(IntoResponse::into_response)
    }
}

/// `POST /admin/logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<LogoutForm>,
) -> Result<Response, WebError> {
    let action = if f.reason == "idle" {
        "session.expired"
    } else {
        "logout"
    };
    state
        .app()
        .end_session(&cu.actor(), cu.user.id, cu.session.id, action)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    let mut res = Redirect::to("/admin/login?ly-do=da-thoat").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::removal(SESSION_COOKIE, secure_cookies(&state, &headers)),
    );
    Ok(res)
}

/// `GET /admin/session`: how long the session has left, without counting as activity.
pub(crate) async fn session_status(State(state): State<AppState>, cu: CurrentUser) -> Response {
    Json(serde_json::json!({
        "signed_in": true,
        "remaining": cu.remaining(&state, state.now()),
    }))
    .into_response()
}

/// `POST /admin/session`: keep-alive from the idle warning or from activity on the page
/// (the CSRF token comes in the `X-CSRF-Token` header).
pub(crate) async fn keep_alive(
    State(state): State<AppState>,
    cu: CurrentUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !cu.csrf_ok(&state, token) {
        return Ok((
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "ok": false, "message": stale(&state) })),
        )
            .into_response());
    }
    let now = state.now();
    state.store().touch_session(cu.session.id, now).await?;
    let mut cu = cu;
    cu.session.last_seen = now;
    Ok(
        Json(serde_json::json!({ "ok": true, "remaining": cu.remaining(&state, now) }))
            .into_response(),
    )
}
