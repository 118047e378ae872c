//! Sign-in (password, then the two-step code when the account has one), sign-out, and the
//! JSON session endpoint the idle warning talks to.

use std::sync::LazyLock;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use bantin_core::account::{MAX_INPUT_BYTES, NewPassword, Username, verify_password};
use bantin_core::totp::{TotpSecret, normalize_backup_code};
use bantin_store::{NewAuditEntry, User};
use minijinja::context;
use serde::Deserialize;

use super::{AdminForm, render};
use crate::auth::{self, CurrentUser, MaybeUser, SESSION_COOKIE};
use crate::pages::now;
use crate::security::ClientIp;
use crate::{AppState, WebError};

/// Cookie binding the sign-in form's CSRF token to this browser before there is a session.
const LOGIN_COOKIE: &str = "bantin_login";
/// Cookie carrying a password-verified sign-in waiting for its two-step code.
const PENDING_COOKIE: &str = "bantin_2fa";
/// How long the two-step step may take, seconds.
const PENDING_SECONDS: i64 = 300;

/// A hash to verify against when the username does not exist, so a wrong name costs the same
/// time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    NewPassword::parse("không có tài khoản này, chỉ để đo thời gian")
        .expect("the dummy password meets the policy")
        .hash()
});

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

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TwoStepForm {
    code: String,
    csrf: String,
    tiep: String,
}

/// Only local admin paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> String {
    let ok = next.starts_with("/admin")
        && !next.starts_with("/admin/login")
        && !next.contains("//")
        && !next.contains('\\')
        && next.len() < 512;
    if ok {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

/// The CSRF token of the pre-session forms (sign-in, forgotten password) and, when the
/// browser has no sign-in cookie yet, the header that sets one.
pub(crate) fn login_cookie_pair(
    state: &AppState,
    jar: &CookieJar,
) -> Result<(String, Option<HeaderValue>), WebError> {
    let (value, set) = login_cookie(state, jar)?;
    Ok((state.signer().token("login", value.as_bytes()), set))
}

/// The sign-in cookie's value, or a new one (then `Some` header to set).
fn login_cookie(
    state: &AppState,
    jar: &CookieJar,
) -> Result<(String, Option<HeaderValue>), WebError> {
    if let Some(c) = jar.get(LOGIN_COOKIE)
        && c.value().len() == 64
    {
        return Ok((c.value().to_owned(), None));
    }
    let v = auth::random_token()?;
    let c = auth::cookie(state, LOGIN_COOKIE, v.clone());
    Ok((v, Some(auth::set_cookie(&c))))
}

struct LoginView<'a> {
    status: StatusCode,
    username: &'a str,
    next: &'a str,
    message: Option<String>,
    notice: Option<String>,
    two_step: bool,
}

fn login_page(state: &AppState, jar: &CookieJar, v: LoginView<'_>) -> Result<Response, WebError> {
    let (cookie_value, set) = login_cookie(state, jar)?;
    let csrf = state.signer().token("login", cookie_value.as_bytes());
    let title = state
        .catalog()
        .get(if v.two_step {
            "login.two_step_title"
        } else {
            "login.title"
        })
        .to_owned();
    let mut res = render(
        state,
        None,
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
    *res.status_mut() = v.status;
    if let Some(set) = set {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    Ok(res)
}

pub(crate) fn login_csrf_ok(state: &AppState, jar: &CookieJar, token: &str) -> bool {
    jar.get(LOGIN_COOKIE).is_some_and(|c| {
        token.len() <= 64 && state.signer().verify("login", c.value().as_bytes(), token)
    })
}

/// `GET /admin/login`.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
    jar: CookieJar,
) -> Result<Response, WebError> {
    let next = safe_next(&q.tiep);
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = match q.reason.as_str() {
        "het-han" => Some(state.catalog().get("login.expired").to_owned()),
        "da-thoat" => Some(state.catalog().get("login.signed_out").to_owned()),
        "da-dat-lai" => Some(state.catalog().get("reset.done").to_owned()),
        _ => None,
    };
    login_page(
        &state,
        &jar,
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

/// Seconds until (username, address) may try again, if it is locked now.
async fn locked_for(
    state: &AppState,
    key: &str,
    ip: &str,
    now: i64,
) -> Result<Option<i64>, WebError> {
    let s = state.settings();
    let failures = state
        .store()
        .login_failures(key, ip, now - s.login_lock_seconds - s.login_failure_window)
        .await?;
    let n = s.login_max_failures.max(1);
    let until = failures
        .windows(n)
        .filter(|w| w[n - 1] - w[0] <= s.login_failure_window)
        .map(|w| w[n - 1] + s.login_lock_seconds)
        .max();
    Ok(until.filter(|u| *u > now).map(|u| u - now))
}

fn locked_message(state: &AppState, seconds: i64) -> String {
    let minutes = (seconds + 59) / 60;
    state
        .catalog()
        .format("login.locked", &[("minutes", &minutes.to_string())])
}

/// Records a failed attempt; returns the lock message when this failure locked the pair.
async fn record_failure(
    state: &AppState,
    key: &str,
    ip: &str,
    user: Option<&User>,
    why: &str,
) -> Result<Option<String>, WebError> {
    let now = now();
    let store = state.store();
    store
        .record_login_failure(key, ip, now, now - 86_400)
        .await?;
    let entry = NewAuditEntry {
        user_id: user.map(|u| u.id),
        username: key,
        action: "login.failed",
        target: "",
        detail: why,
        ip,
    };
    store.append_audit(&entry, now).await?;
    if let Some(secs) = locked_for(state, key, ip, now).await? {
        let entry = NewAuditEntry {
            action: "login.locked",
            detail: "",
            ..entry
        };
        store.append_audit(&entry, now).await?;
        return Ok(Some(locked_message(state, secs)));
    }
    Ok(None)
}

/// Verifies a password off the async executor.
async fn verify(state: &AppState, password: String, hash: String) -> Result<bool, WebError> {
    super::argon2_work(state, move || verify_password(&password, &hash)).await
}

/// The key failures are counted under: the name as typed, normalised and bounded.
fn failure_key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

/// `POST /admin/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    AdminForm(f): AdminForm<LoginForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&f.tiep);
    let cat = state.catalog();
    let fail = |status: StatusCode, key: &str, username: &str| {
        login_page(
            &state,
            &jar,
            LoginView {
                status,
                username,
                next: &next,
                message: Some(cat.get(key).to_owned()),
                notice: None,
                two_step: false,
            },
        )
    };
    let keep_name = if f.username.len() > MAX_INPUT_BYTES {
        ""
    } else {
        f.username.as_str()
    };
    if !login_csrf_ok(&state, &jar, &f.csrf) {
        return fail(StatusCode::FORBIDDEN, "form.stale", keep_name);
    }
    if f.username.len() > MAX_INPUT_BYTES || f.password.len() > MAX_INPUT_BYTES {
        return fail(StatusCode::BAD_REQUEST, "login.too_long", keep_name);
    }
    if f.username.chars().any(char::is_control) || f.password.chars().any(char::is_control) {
        return fail(StatusCode::BAD_REQUEST, "login.control", "");
    }
    if f.username.trim().is_empty() || f.password.is_empty() {
        return fail(StatusCode::BAD_REQUEST, "login.missing", keep_name);
    }
    let ip_s = ip.to_string();
    let key = failure_key(&f.username);
    if let Some(secs) = locked_for(&state, &key, &ip_s, now()).await? {
        let msg = locked_message(&state, secs);
        return login_page(
            &state,
            &jar,
            LoginView {
                status: StatusCode::FORBIDDEN,
                username: keep_name,
                next: &next,
                message: Some(msg),
                notice: None,
                two_step: false,
            },
        );
    }
    let user = match Username::parse(&f.username) {
        Ok(u) => state.store().user_by_username(&u).await?,
        Err(_) => None,
    };
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash().to_owned());
    let password_ok = verify(&state, f.password.clone(), hash).await?;
    let why = match &user {
        None => Some("unknown user"),
        Some(_) if !password_ok => Some("wrong password"),
        Some(u) if !u.active => Some("account disabled"),
        Some(_) => None,
    };
    if let Some(why) = why {
        let locked = record_failure(&state, &key, &ip_s, user.as_ref(), why).await?;
        let message = locked.unwrap_or_else(|| cat.get("login.failed").to_owned());
        return login_page(
            &state,
            &jar,
            LoginView {
                status: StatusCode::UNAUTHORIZED,
                username: keep_name,
                next: &next,
                message: Some(message),
                notice: None,
                two_step: false,
            },
        );
    }
    let user = user.expect("checked above");
    if user.totp_secret().is_some() {
        let login_value = login_cookie(&state, &jar)?.0;
        let issued = now();
        let payload = format!("{}.{issued}", user.id);
        let mac = state
            .signer()
            .token("2fa", format!("{payload}.{login_value}").as_bytes());
        let c = auth::cookie(&state, PENDING_COOKIE, format!("{payload}.{mac}"));
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("tiep", &next)
            .finish();
        let mut res = Redirect::to(&format!("/admin/login/two-step?{q}")).into_response();
        res.headers_mut()
            .append(header::SET_COOKIE, auth::set_cookie(&c));
        return Ok(res);
    }
    start_session(&state, &user, &ip_s, &headers, &jar, &next).await
}

/// Signs `user` in: a new session (the old one, if any, ends: the id is rotated), the audit
/// entry, the cookie, and the way on.
async fn start_session(
    state: &AppState,
    user: &User,
    ip: &str,
    headers: &HeaderMap,
    jar: &CookieJar,
    next: &str,
) -> Result<Response, WebError> {
    let store = state.store();
    let now = now();
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Some(s) = store
            .session_by_token(&auth::hash_token(old.value()))
            .await?
    {
        store.delete_session(s.user_id, s.id).await?;
    }
    store
        .clear_login_failures(&failure_key(&user.username), ip)
        .await?;
    let token = auth::random_token()?;
    let ua: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(256)
        .collect();
    let id = store
        .insert_session(&auth::hash_token(&token), user.id, now, ip, &ua)
        .await?;
    let entry = NewAuditEntry {
        user_id: Some(user.id),
        username: &user.username,
        action: "login",
        target: &format!("session:{id}"),
        detail: "",
        ip,
    };
    store.append_audit(&entry, now).await?;
    let mut res = Redirect::to(next).into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        auth::set_cookie(&auth::cookie(state, SESSION_COOKIE, token)),
    );
    h.append(header::SET_COOKIE, auth::removal(state, LOGIN_COOKIE));
    h.append(header::SET_COOKIE, auth::removal(state, PENDING_COOKIE));
    Ok(res)
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
    let (Ok(id), Ok(issued)) = (id.parse::<i64>(), issued.parse::<i64>()) else {
        return Ok(None);
    };
    let signed = format!("{id}.{issued}.{}", l.value());
    if !state.signer().verify("2fa", signed.as_bytes(), mac) || now() - issued > PENDING_SECONDS {
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
    jar: CookieJar,
) -> Result<Response, WebError> {
    if pending_user(&state, &jar).await?.is_none() {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    login_page(
        &state,
        &jar,
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
    AdminForm(f): AdminForm<TwoStepForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&f.tiep);
    let Some(user) = pending_user(&state, &jar).await? else {
        return Ok(Redirect::to("/admin/login").into_response());
    };
    let page = |status, message: String| {
        login_page(
            &state,
            &jar,
            LoginView {
                status,
                username: "",
                next: &next,
                message: Some(message),
                notice: None,
                two_step: true,
            },
        )
    };
    if !login_csrf_ok(&state, &jar, &f.csrf) {
        return page(
            StatusCode::FORBIDDEN,
            state.catalog().get("form.stale").to_owned(),
        );
    }
    let ip_s = ip.to_string();
    let key = failure_key(&user.username);
    let now = now();
    if let Some(secs) = locked_for(&state, &key, &ip_s, now).await? {
        return page(StatusCode::FORBIDDEN, locked_message(&state, secs));
    }
    let ok = if let Some(step) = user
        .totp_secret()
        .and_then(TotpSecret::from_stored)
        .and_then(|s| s.verify(&f.code, now))
    {
        state.store().claim_totp_step(user.id, step).await?
    } else if let Some(code) = normalize_backup_code(&f.code) {
        let hash = backup_code_hash(&state, user.id, &code);
        state.store().use_backup_code(user.id, &hash, now).await?
    } else {
        false
    };
    if !ok {
        let locked =
            record_failure(&state, &key, &ip_s, Some(&user), "wrong two-step code").await?;
        let msg = locked.unwrap_or_else(|| state.catalog().get("login.bad_code").to_owned());
        return page(StatusCode::UNAUTHORIZED, msg);
    }
    start_session(&state, &user, &ip_s, &headers, &jar, &next).await
}

/// How a backup code is stored: keyed by the installation secret and bound to its account.
pub(crate) fn backup_code_hash(state: &AppState, user_id: i64, code: &str) -> String {
    state
        .signer()
        .token("backup-code", format!("{user_id}:{code}").as_bytes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LogoutForm {
    csrf: String,
    /// `idle` when the idle warning ran out.
    reason: String,
}

/// `POST /admin/logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    AdminForm(f): AdminForm<LogoutForm>,
) -> Result<Response, WebError> {
    if !cu.csrf_ok(&state, &f.csrf) {
        // Re-show the sign-out button with a fresh token rather than failing outright.
        let mut res = render(
            &state,
            Some(&cu),
            "admin/message.html",
            state.catalog().get("logout.confirm_title"),
            context! {
                message => state.catalog().get("form.stale"),
                confirm_sign_out => true,
            },
        )?;
        *res.status_mut() = StatusCode::FORBIDDEN;
        return Ok(res);
    }
    let store = state.store();
    store.delete_session(cu.user.id, cu.session.id).await?;
    let ip = ip.to_string();
    let target = format!("session:{}", cu.session.id);
    let action = if f.reason == "idle" {
        "session.expired"
    } else {
        "logout"
    };
    cu.record(&state, action, &target, "", &ip).await?;
    let mut res = Redirect::to("/admin/login?ly-do=da-thoat").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, auth::removal(&state, SESSION_COOKIE));
    Ok(res)
}

/// `GET /admin/session`: how long the session has left, without counting as activity.
pub(crate) async fn session_status(State(state): State<AppState>, cu: CurrentUser) -> Response {
    Json(serde_json::json!({
        "signed_in": true,
        "remaining": cu.remaining(&state, now()),
    }))
    .into_response()
}

/// `POST /admin/session`: keep-alive from the idle warning or from activity on the page.
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
            Json(serde_json::json!({ "ok": false, "message": state.catalog().get("form.stale") })),
        )
            .into_response());
    }
    let now = now();
    state.store().touch_session(cu.session.id, now).await?;
    let mut cu = cu;
    cu.session.last_seen = now;
    Ok(
        Json(serde_json::json!({ "ok": true, "remaining": cu.remaining(&state, now) }))
            .into_response(),
    )
}
