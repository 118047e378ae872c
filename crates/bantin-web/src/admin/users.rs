//! Account management for administrators: list, add, edit role and categories, reset the
//! password, disable or enable, reset two-step sign-in.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_core::account::{NewPassword, Role, Username};
use bantin_store::{NewUser, StoreError, User, UserUpdate};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::login::CsrfOnly;
use super::{AdminForm, render, stale};
use crate::auth::CurrentUser;
use crate::pages::{now, ser};
use crate::security::ClientIp;
use crate::{AppState, WebError};

#[derive(Serialize)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    email: String,
    role: String,
    active: bool,
    two_step: bool,
}

/// What the add and edit forms send. Fields not typed arrive empty.
#[derive(Deserialize, Default, Serialize, Clone)]
#[serde(default)]
pub(crate) struct UserForm {
    #[serde(skip_serializing)]
    csrf: String,
    username: String,
    display_name: String,
    email: String,
    role: String,
    all_categories: String,
    /// Assigned categories: the repeated `category` fields.
    #[serde(rename = "category")]
    categories: Vec<i64>,
    #[serde(skip_serializing)]
    password: String,
}

fn roles(state: &AppState) -> Vec<minijinja::Value> {
    [Role::Administrator, Role::EditorInChief, Role::Editor]
        .iter()
        .map(|r| {
            context! {
                value => r.as_str(),
                label => state.catalog().get(&format!("role.{}", r.as_str())),
            }
        })
        .collect()
}

async fn categories(state: &AppState) -> Result<Vec<minijinja::Value>, WebError> {
    Ok(state
        .store()
        .categories()
        .await?
        .into_iter()
        .map(|c| context! { id => c.id, title => c.title })
        .collect())
}

fn row(state: &AppState, u: &User) -> UserRow {
    UserRow {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: state
            .catalog()
            .get(&format!("role.{}", u.role().as_str()))
            .to_owned(),
        active: u.active,
        two_step: u.totp_secret().is_some(),
    }
}

async fn list_page(
    state: &AppState,
    cu: &CurrentUser,
    status: StatusCode,
    form: Option<&UserForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let users: Vec<UserRow> = state
        .store()
        .users()
        .await?
        .iter()
        .map(|u| row(state, u))
        .collect();
    let mut res = render(
        state,
        Some(cu),
        "admin/users.html",
        state.catalog().get("users.title"),
        context! {
            users => ser(users),
            form => ser(form.cloned().unwrap_or_else(|| UserForm {
                role: "editor".to_owned(),
                all_categories: "1".to_owned(),
                ..UserForm::default()
            })),
            error => error,
            roles => roles(state),
            categories => categories(state).await?,
        },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /admin/users`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    list_page(&state, &cu, StatusCode::OK, None, None).await
}

/// Checks the editable fields; the message says what is wrong.
fn check_fields(state: &AppState, f: &UserForm) -> Result<Role, String> {
    let too_long = |s: &str, n: usize| s.chars().count() > n || s.chars().any(char::is_control);
    if too_long(&f.display_name, 100) {
        return Err(state.catalog().get("users.bad_display_name").to_owned());
    }
    let email = f.email.trim();
    if too_long(email, 254) || (!email.is_empty() && !email.contains('@')) {
        return Err(state.catalog().get("users.bad_email").to_owned());
    }
    f.role.parse::<Role>().map_err(|e| e.to_string())
}

/// `POST /admin/users`: adds an account.
pub(crate) async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    AdminForm(f): AdminForm<UserForm>,
) -> Result<Response, WebError> {
    let again = |status, msg: String| {
        let f = f.clone();
        let state = state.clone();
        let cu = cu.clone();
        async move { list_page(&state, &cu, status, Some(&f), Some(msg)).await }
    };
    if !cu.csrf_ok(&state, &f.csrf) {
        return again(StatusCode::FORBIDDEN, stale(&state)).await;
    }
    let username = match Username::parse(&f.username) {
        Ok(u) => u,
        Err(e) => return again(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let role = match check_fields(&state, &f) {
        Ok(r) => r,
        Err(m) => return again(StatusCode::BAD_REQUEST, m).await,
    };
    let password = match NewPassword::parse(&f.password) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let hash = super::argon2_work(&state, move || password.hash()).await?;
    let now = now();
    let store = state.store();
    let id = match store
        .insert_user(
            &NewUser {
                username: &username,
                display_name: &f.display_name,
                email: &f.email,
                password_hash: &hash,
                role,
            },
            now,
        )
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            let m = state.catalog().get("users.taken").to_owned();
            return again(StatusCode::CONFLICT, m).await;
        }
        Err(e) => return Err(e.into()),
    };
    let all = f.all_categories == "1" || role == Role::Administrator;
    let update = UserUpdate {
        display_name: &f.display_name,
        email: &f.email,
        role,
        all_categories: all,
        categories: if all { &[] } else { &f.categories },
    };
    if let Err(StoreError::Invalid(_)) = store.update_user(id, &update, now).await {
        let m = state.catalog().get("users.bad_category").to_owned();
        return again(StatusCode::BAD_REQUEST, m).await;
    }
    let target = format!("user:{id}");
    let detail = format!("{} ({})", username, role.as_str());
    cu.record(&state, "user.created", &target, &detail, &ip.to_string())
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?tb=luu")).into_response())
}

async fn target_user(state: &AppState, id: &str) -> Result<User, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    state.store().user(id).await?.ok_or(WebError::NotFound)
}

async fn edit_page(
    state: &AppState,
    cu: &CurrentUser,
    u: &User,
    status: StatusCode,
    form: Option<&UserForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let assigned = state.store().user_categories(u.id).await?;
    let form = form.cloned().unwrap_or_else(|| UserForm {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: u.role().as_str().to_owned(),
        all_categories: if u.all_categories { "1" } else { "" }.to_owned(),
        categories: assigned,
        ..UserForm::default()
    });
    let mut res = render(
        state,
        Some(cu),
        "admin/user.html",
        &u.username,
        context! {
            user => ser(row(state, u)),
            form => ser(form),
            error => error,
            notice => notice,
            roles => roles(state),
            categories => categories(state).await?,
            is_me => u.id == cu.user.id,
        },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// The account page again, with what went wrong.
async fn refuse(
    state: &AppState,
    cu: &CurrentUser,
    u: &User,
    status: StatusCode,
    message: String,
) -> Result<Response, WebError> {
    edit_page(state, cu, u, status, None, Some(message), None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EditQuery {
    tb: String,
}

/// `GET /admin/users/{id}`.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EditQuery>,
) -> Result<Response, WebError> {
    let u = target_user(&state, &id).await?;
    let notice = match q.tb.as_str() {
        "luu" => Some(state.catalog().get("users.saved").to_owned()),
        _ => None,
    };
    edit_page(&state, &cu, &u, StatusCode::OK, None, None, notice).await
}

/// `POST /admin/users/{id}`: profile, role and categories.
pub(crate) async fn edit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<UserForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, &id).await?;
    if !cu.csrf_ok(&state, &f.csrf) {
        return edit_page(
            &state,
            &cu,
            &u,
            StatusCode::FORBIDDEN,
            Some(&f),
            Some(stale(&state)),
            None,
        )
        .await;
    }
    let role = match check_fields(&state, &f) {
        Ok(r) => r,
        Err(m) => {
            return edit_page(
                &state,
                &cu,
                &u,
                StatusCode::BAD_REQUEST,
                Some(&f),
                Some(m),
                None,
            )
            .await;
        }
    };
    let store = state.store();
    if u.role() == Role::Administrator
        && role != Role::Administrator
        && (u.id == cu.user.id || store.active_administrators().await? <= 1)
    {
        let m = state.catalog().get("users.keep_admin").to_owned();
        return edit_page(
            &state,
            &cu,
            &u,
            StatusCode::CONFLICT,
            Some(&f),
            Some(m),
            None,
        )
        .await;
    }
    let all = f.all_categories == "1" || role == Role::Administrator;
    let update = UserUpdate {
        display_name: &f.display_name,
        email: &f.email,
        role,
        all_categories: all,
        categories: if all { &[] } else { &f.categories },
    };
    let now = now();
    match store.update_user(u.id, &update, now).await {
        Ok(true) => {}
        Ok(false) => return Err(WebError::NotFound),
        Err(StoreError::Invalid(_)) => {
            let m = state.catalog().get("users.bad_category").to_owned();
            return edit_page(
                &state,
                &cu,
                &u,
                StatusCode::BAD_REQUEST,
                Some(&f),
                Some(m),
                None,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("user:{}", u.id);
    let detail = format!(
        "role {} → {}; categories {}",
        u.role().as_str(),
        role.as_str(),
        if all {
            "all".to_owned()
        } else {
            format!("{:?}", f.categories)
        }
    );
    cu.record(&state, "user.updated", &target, &detail, &ip.to_string())
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ResetForm {
    csrf: String,
    password: String,
}

/// `POST /admin/users/{id}/password`: sets a new password and ends the account's sessions.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ResetForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, &id).await?;
    if !cu.csrf_ok(&state, &f.csrf) {
        return refuse(&state, &cu, &u, StatusCode::FORBIDDEN, stale(&state)).await;
    }
    let password = match NewPassword::parse(&f.password) {
        Ok(p) => p,
        Err(e) => {
            return refuse(&state, &cu, &u, StatusCode::BAD_REQUEST, e.to_string()).await;
        }
    };
    let hash = super::argon2_work(&state, move || password.hash()).await?;
    let now = now();
    state
        .store()
        .set_user_password_by_id(u.id, &hash, now)
        .await?;
    let target = format!("user:{}", u.id);
    cu.record(&state, "user.password_reset", &target, "", &ip.to_string())
        .await?;
    if u.id == cu.user.id {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActiveForm {
    csrf: String,
    active: String,
}

/// `POST /admin/users/{id}/active`: `active=1` enables, anything else disables (and ends the
/// account's sessions).
pub(crate) async fn set_active(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<ActiveForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, &id).await?;
    if !cu.csrf_ok(&state, &f.csrf) {
        return refuse(&state, &cu, &u, StatusCode::FORBIDDEN, stale(&state)).await;
    }
    let active = f.active == "1";
    if !active && u.id == cu.user.id {
        let m = state.catalog().get("users.not_self").to_owned();
        return refuse(&state, &cu, &u, StatusCode::CONFLICT, m).await;
    }
    if !active
        && u.role() == Role::Administrator
        && state.store().active_administrators().await? <= 1
    {
        let m = state.catalog().get("users.keep_admin").to_owned();
        return refuse(&state, &cu, &u, StatusCode::CONFLICT, m).await;
    }
    let now = now();
    state
        .store()
        .set_user_active_by_id(u.id, active, now)
        .await?;
    let target = format!("user:{}", u.id);
    let action = if active {
        "user.enabled"
    } else {
        "user.disabled"
    };
    cu.record(&state, action, &target, "", &ip.to_string())
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}

/// `POST /admin/users/{id}/two-step-reset`: for a lost phone; the account enrols again.
pub(crate) async fn reset_two_step(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cu: CurrentUser,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let u = target_user(&state, &id).await?;
    if !cu.csrf_ok(&state, &f.csrf) {
        return refuse(&state, &cu, &u, StatusCode::FORBIDDEN, stale(&state)).await;
    }
    let now = now();
    state.store().set_totp(u.id, None, &[], now).await?;
    let target = format!("user:{}", u.id);
    cu.record(&state, "user.two_step_reset", &target, "", &ip.to_string())
        .await?;
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}
