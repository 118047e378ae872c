//! The pages every signed-in account has: the dashboard, its sessions, its password and
//! two-step sign-in; and the audit log for those allowed to read it.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use bantin_core::access::Capability;
use bantin_core::account::{NewPassword, verify_password};
use bantin_core::totp::{TotpSecret, new_backup_codes};
use bantin_core::{day_start, format_date_time};
use bantin_store::AuditFilter;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::login::{CsrfOnly, backup_code_hash};
use super::{AdminForm, render, stale};
use crate::auth::{self, CurrentUser, SESSION_COOKIE};
use crate::pages::{now, ser};
use crate::security::ClientIp;
use crate::{AppState, WebError};

/// Cookie holding a two-step secret between showing its QR code and confirming a code.
const ENROL_COOKIE: &str = "bantin_totp_enrol";

/// `GET /admin`: counts by status and what waits for this account.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    let store = state.store();
    let scope = cu.rights.category_scope();
    let in_scope = |c: i64| scope.is_none_or(|s| s.contains(&c));
    let mut counts: Vec<(String, i64)> = ["draft", "pending", "published", "unpublished"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    for (cat, status, n) in store.article_counts().await? {
        if in_scope(cat)
            && let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status)
        {
            slot.1 += n;
        }
    }
    let catalog = state.catalog();
    let counts: Vec<_> = counts
        .into_iter()
        .map(|(s, n)| context! { label => catalog.get(&format!("status.{s}")), n => n })
        .collect();
    let reviewer = cu.rights.allows(Capability::Publish, None);
    let waiting: Vec<_> = if reviewer {
        store
            .pending_articles(200)
            .await?
            .into_iter()
            .filter(|a| in_scope(a.category_id))
            .take(20)
            .map(|a| context! { id => a.id, title => a.title })
            .collect()
    } else {
        Vec::new()
    };
    render(
        &state,
        Some(&cu),
        "admin/dashboard.html",
        catalog.get("dashboard.title"),
        context! { counts => counts, waiting => waiting, reviewer => reviewer },
    )
}

#[derive(Serialize)]
struct SessionRow {
    id: i64,
    current: bool,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Notice {
    #[serde(rename = "tb")]
    notice: String,
}

fn notice_text(state: &AppState, code: &str) -> Option<String> {
    let key = match code {
        "da-ket-thuc" => "sessions.ended",
        "da-doi-mat-khau" => "account.password_changed",
        "da-tat" => "two_step.turned_off",
        "luu" => "users.saved",
        _ => return None,
    };
    Some(state.catalog().get(key).to_owned())
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
        context! { sessions => ser(rows), notice => notice_text(&state, &q.notice) },
    )
}

/// `POST /admin/sessions/{id}/end`: ends one of this account's other sessions.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if !cu.csrf_ok(&state, &f.csrf) {
        return Err(WebError::Refused(StatusCode::FORBIDDEN, stale(&state)));
    }
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    if !state.store().delete_session(cu.user.id, id).await? {
        return Err(WebError::NotFound);
    }
    let target = format!("session:{id}");
    cu.record(&state, "session.ended", &target, "", &ip.to_string())
        .await?;
    if id == cu.session.id {
        let mut res = Redirect::to("/admin/login?ly-do=da-thoat").into_response();
        res.headers_mut()
            .append(header::SET_COOKIE, auth::removal(&state, SESSION_COOKIE));
        return Ok(res);
    }
    Ok(Redirect::to("/admin/sessions?tb=da-ket-thuc").into_response())
}

/// `POST /admin/sessions/end-others`.
pub(crate) async fn end_other_sessions(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    AdminForm(f): AdminForm<CsrfOnly>,
) -> Result<Response, WebError> {
    if !cu.csrf_ok(&state, &f.csrf) {
        return Err(WebError::Refused(StatusCode::FORBIDDEN, stale(&state)));
    }
    let n = state
        .store()
        .delete_user_sessions(cu.user.id, Some(cu.session.id))
        .await?;
    cu.record(
        &state,
        "session.ended_others",
        "",
        &format!("{n} sessions"),
        &ip.to_string(),
    )
    .await?;
    Ok(Redirect::to("/admin/sessions?tb=da-ket-thuc").into_response())
}

/// `GET /admin/account`: change password; two-step status.
pub(crate) async fn account(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    account_page(
        &state,
        &cu,
        StatusCode::OK,
        None,
        notice_text(&state, &q.notice),
    )
    .await
}

async fn account_page(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let codes_left = state.store().unused_backup_codes(cu.user.id).await?;
    let mut res = render(
        state,
        Some(cu),
        "admin/account.html",
        state.catalog().get("account.title"),
        context! {
            error => error,
            notice => notice,
            two_step_on => cu.user.totp_secret().is_some(),
            two_step_required => cu.must_enrol_totp(state)
                || state.settings().totp_required_roles.contains(&cu.user.role()),
            codes_left => codes_left,
        },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// The account page again, with what went wrong.
async fn account_error(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    message: String,
) -> Result<Response, WebError> {
    account_page(state, cu, status, Some(message), None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

/// `POST /admin/account/password`: every session of the account ends; this browser gets a
/// new one.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    AdminForm(f): AdminForm<PasswordForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if !cu.csrf_ok(&state, &f.csrf) {
        return account_error(&state, &cu, StatusCode::FORBIDDEN, stale(&state)).await;
    }
    if f.current.len() > 1024 || f.new.len() > 1024 || f.confirm.len() > 1024 {
        return account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("login.too_long").to_owned(),
        )
        .await;
    }
    let new = match NewPassword::parse(&f.new) {
        Ok(p) => p,
        Err(e) => {
            return account_error(&state, &cu, StatusCode::BAD_REQUEST, e.to_string()).await;
        }
    };
    if f.new != f.confirm {
        return account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("account.mismatch").to_owned(),
        )
        .await;
    }
    let hash = cu.user.password_hash().to_owned();
    let current = f.current.clone();
    let (ok, new_hash) = super::argon2_work(&state, move || {
        let ok = verify_password(&current, &hash);
        (ok, ok.then(|| new.hash()))
    })
    .await?;
    let Some(new_hash) = new_hash.filter(|_| ok) else {
        return account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("account.wrong_current").to_owned(),
        )
        .await;
    };
    let store = state.store();
    let now = now();
    store
        .set_user_password_by_id(cu.user.id, &new_hash, now)
        .await?;
    let ip = ip.to_string();
    let target = format!("user:{}", cu.user.id);
    cu.record(&state, "account.password_changed", &target, "", &ip)
        .await?;
    // Every session ended with the change; this browser continues in a fresh one.
    let token = auth::random_token()?;
    store
        .insert_session(
            &auth::hash_token(&token),
            cu.user.id,
            now,
            &ip,
            &cu.session.user_agent,
        )
        .await?;
    let mut res = Redirect::to("/admin/account?tb=da-doi-mat-khau").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(&auth::cookie(&state, SESSION_COOKIE, token)),
    );
    Ok(res)
}

fn qr_svg(data: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| WebError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

fn enrol_mac(state: &AppState, user_id: i64, secret: &str) -> String {
    state
        .signer()
        .token("totp-enrol", format!("{user_id}:{secret}").as_bytes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EnrolQuery {
    #[serde(rename = "bat-buoc")]
    required: String,
}

/// `GET /admin/account/two-step`: a new secret as a QR code, to confirm with a code.
pub(crate) async fn two_step_enrol(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<EnrolQuery>,
) -> Result<Response, WebError> {
    if cu.user.totp_secret().is_some() {
        return Ok(Redirect::to("/admin/account").into_response());
    }
    let secret = TotpSecret::generate();
    enrol_page(
        &state,
        &cu,
        &secret,
        StatusCode::OK,
        None,
        !q.required.is_empty(),
    )
}

fn enrol_page(
    state: &AppState,
    cu: &CurrentUser,
    secret: &TotpSecret,
    status: StatusCode,
    error: Option<String>,
    required: bool,
) -> Result<Response, WebError> {
    let stored = secret.to_stored();
    let url = secret.otpauth_url(&state.settings().site_name, &cu.user.username);
    let mut res = render(
        state,
        Some(cu),
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
    *res.status_mut() = status;
    let value = format!("{stored}.{}", enrol_mac(state, cu.user.id, &stored));
    res.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(&auth::cookie(state, ENROL_COOKIE, value)),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /admin/account/two-step`: turns two-step sign-in on once a code matches, and shows
/// the backup codes once.
pub(crate) async fn two_step_confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    jar: CookieJar,
    AdminForm(f): AdminForm<CodeForm>,
) -> Result<Response, WebError> {
    let pending = jar.get(ENROL_COOKIE).and_then(|c| {
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
    });
    if !cu.csrf_ok(&state, &f.csrf) {
        return match pending {
            Some(secret) => enrol_page(
                &state,
                &cu,
                &secret,
                StatusCode::FORBIDDEN,
                Some(stale(&state)),
                false,
            ),
            None => Err(WebError::Refused(StatusCode::FORBIDDEN, stale(&state))),
        };
    }
    let Some(secret) = pending else {
        return Ok(Redirect::to("/admin/account/two-step").into_response());
    };
    let now = now();
    let Some(step) = secret.verify(&f.code, now) else {
        let msg = state.catalog().get("login.bad_code").to_owned();
        return enrol_page(
            &state,
            &cu,
            &secret,
            StatusCode::BAD_REQUEST,
            Some(msg),
            false,
        );
    };
    let codes = new_backup_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| backup_code_hash(&state, cu.user.id, c))
        .collect();
    let store = state.store();
    store
        .set_totp(cu.user.id, Some(&secret.to_stored()), &hashes, now)
        .await?;
    store.claim_totp_step(cu.user.id, step).await?;
    let target = format!("user:{}", cu.user.id);
    cu.record(&state, "account.two_step_on", &target, "", &ip.to_string())
        .await?;
    let mut res = render(
        &state,
        Some(&cu),
        "admin/two_step.html",
        state.catalog().get("two_step.title"),
        context! { codes => codes, qr => "", secret => "", error => None::<String>, required => false },
    )?;
    res.headers_mut()
        .append(header::SET_COOKIE, auth::removal(&state, ENROL_COOKIE));
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OffForm {
    csrf: String,
    password: String,
}

/// `POST /admin/account/two-step/off`: needs the password; refused when the role requires it.
pub(crate) async fn two_step_off(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    AdminForm(f): AdminForm<OffForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if !cu.csrf_ok(&state, &f.csrf) {
        return account_error(&state, &cu, StatusCode::FORBIDDEN, stale(&state)).await;
    }
    if state
        .settings()
        .totp_required_roles
        .contains(&cu.user.role())
    {
        return account_error(
            &state,
            &cu,
            StatusCode::FORBIDDEN,
            cat.get("two_step.required").to_owned(),
        )
        .await;
    }
    let hash = cu.user.password_hash().to_owned();
    let pw = f.password.clone();
    let ok =
        pw.len() <= 1024 && super::argon2_work(&state, move || verify_password(&pw, &hash)).await?;
    if !ok {
        return account_error(
            &state,
            &cu,
            StatusCode::BAD_REQUEST,
            cat.get("account.wrong_current").to_owned(),
        )
        .await;
    }
    let now = now();
    state.store().set_totp(cu.user.id, None, &[], now).await?;
    let target = format!("user:{}", cu.user.id);
    cu.record(&state, "account.two_step_off", &target, "", &ip.to_string())
        .await?;
    Ok(Redirect::to("/admin/account?tb=da-tat").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditQuery {
    user: String,
    action: String,
    from: String,
    to: String,
    truoc: String,
}

/// Actions the filter offers (prefixes match their sub-actions).
const AUDIT_ACTIONS: &[&str] = &[
    "login",
    "login.failed",
    "login.locked",
    "logout",
    "session",
    "account",
    "user",
];

/// Entries per audit page.
const AUDIT_PAGE: i64 = 50;

/// `GET /admin/audit`: filter by user, action and dates, newest first.
pub(crate) async fn audit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let zone = &state.settings().zone;
    let bad = |s: &str| s.len() > 64;
    if bad(&q.user) || bad(&q.action) || bad(&q.from) || bad(&q.to) || bad(&q.truoc) {
        return Err(WebError::BadRequest(
            state.catalog().get("form.malformed").to_owned(),
        ));
    }
    let nonempty = |s: &str| Some(s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        username: nonempty(&q.user),
        action: nonempty(&q.action).filter(|a| AUDIT_ACTIONS.contains(&a.as_str())),
        from: day_start(&q.from, zone),
        until: day_start(&q.to, zone).map(|t| t + 86_400),
        before_id: q.truoc.parse().ok(),
    };
    let entries = state.store().audit_entries(&filter, AUDIT_PAGE + 1).await?;
    let more = entries.len() as i64 > AUDIT_PAGE;
    let rows: Vec<_> = entries
        .iter()
        .take(AUDIT_PAGE as usize)
        .map(|e| {
            context! {
                at => format_date_time(e.at, zone),
                username => e.username.clone(),
                action => e.action.clone(),
                target => e.target.clone(),
                detail => e.detail.clone(),
                ip => e.ip.clone(),
            }
        })
        .collect();
    let next = more
        .then(|| entries.get(AUDIT_PAGE as usize - 1).map(|e| e.id))
        .flatten()
        .map(|id| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("user", &q.user)
                .append_pair("action", &q.action)
                .append_pair("from", &q.from)
                .append_pair("to", &q.to)
                .append_pair("truoc", &id.to_string())
                .finish()
        });
    render(
        &state,
        Some(&cu),
        "admin/audit.html",
        state.catalog().get("audit.title"),
        context! {
            rows => rows,
            next => next,
            actions => AUDIT_ACTIONS.to_vec(),
            f => context! { user => q.user, action => q.action, from => q.from, to => q.to },
        },
    )
}
