//! Account management for administrators: list, add, edit role and categories, reset the
//! password, disable or enable, reset two-step sign-in. The rules are the services'.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::{NewAccount, ProfileChange};
use bantin_core::account::{DisplayName, Email, NewPassword, Role, Username};
use bantin_core::{CategoryId, UserId};
use bantin_store::User;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, refusal, render_status, stale};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed, TokenOnly, user_of};
use crate::layout::ser;
use crate::{AppState, WebError};

#[derive(Serialize)]
struct UserRow {
    id: UserId,
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
    categories: Vec<CategoryId>,
    #[serde(skip_serializing)]
    password: String,
}

impl UserForm {
    /// The profile fields, parsed; the message says what is wrong.
    fn profile(&self, state: &AppState) -> Result<ProfileChange, String> {
        let display_name = DisplayName::parse(&self.display_name).map_err(|e| e.to_string())?;
        let email = Email::parse(&self.email)
            .map_err(|_| state.catalog().get("users.bad_email").to_owned())?;
        let role: Role = self
            .role
            .parse()
            .map_err(|e: bantin_core::account::AccountError| e.to_string())?;
        Ok(ProfileChange {
            display_name,
            email,
            role,
            all_categories: self.all_categories == "1",
            categories: self.categories.clone(),
        })
    }
}

/// The add form, shown on the list page.
#[derive(Deserialize, Default, Clone)]
#[serde(transparent)]
pub(crate) struct NewUserForm(UserForm);

impl CsrfProtected for NewUserForm {
    fn csrf(&self) -> &str {
        &self.0.csrf
    }

    /// The list again with every typed field but the password.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let Some(cu) = user_of(parts) else {
            return WebError::Refused(StatusCode::FORBIDDEN, stale(state)).into_response();
        };
        list_page(
            state,
            cu,
            StatusCode::FORBIDDEN,
            Some(&self.0),
            Some(stale(state)),
        )
        .await
        .unwrap_or_else(IntoResponse::into_response)
    }
}

/// The edit form of one account.
#[derive(Deserialize, Default, Clone)]
#[serde(transparent)]
pub(crate) struct EditUserForm(UserForm);

impl CsrfProtected for EditUserForm {
    fn csrf(&self) -> &str {
        &self.0.csrf
    }

    /// The account page again with what was typed.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let target = parts
            .uri
            .path()
            .rsplit('/')
            .next()
            .and_then(|id| id.parse::<UserId>().ok());
        let (Some(cu), Some(id)) = (user_of(parts), target) else {
            return WebError::Refused(StatusCode::FORBIDDEN, stale(state)).into_response();
        };
        let page = async {
            let u = target_user(state, id).await?;
            edit_page(
                state,
                cu,
                &u,
                StatusCode::FORBIDDEN,
                Some(&self.0),
                Some(stale(state)),
                None,
            )
            .await
        };
        page.await.unwrap_or_else(IntoResponse::into_response)
    }
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
        .map(|c| context! { id => c.id.get(), title => c.title })
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
    render_status(
        state,
        Some(cu),
        status,
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
    )
}

/// `GET /admin/users`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    list_page(&state, &cu, StatusCode::OK, None, None).await
}

/// `POST /admin/users`: adds an account.
pub(crate) async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(NewUserForm(f)): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let again = |status, msg: String| list_page(&state, &cu, status, Some(&f), Some(msg));
    let username = match Username::parse(&f.username) {
        Ok(u) => u,
        Err(e) => return again(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let profile = match f.profile(&state) {
        Ok(p) => p,
        Err(m) => return again(StatusCode::BAD_REQUEST, m).await,
    };
    let password = match NewPassword::parse(&f.password) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let account = NewAccount {
        username,
        password,
        profile,
    };
    match state.app().create_account(&cu.actor(), account).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/users/{id}?tb=luu")).into_response()),
        Err(e) => {
            let (status, m) = refusal(&state, e)?;
            again(status, m).await
        }
    }
}

async fn target_user(state: &AppState, id: UserId) -> Result<User, WebError> {
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
    render_status(
        state,
        Some(cu),
        status,
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
    )
}

/// The account page again, with what went wrong.
async fn refuse(
    state: &AppState,
    cu: &CurrentUser,
    u: &User,
    e: bantin_app::AppError,
) -> Result<Response, WebError> {
    let (status, message) = refusal(state, e)?;
    edit_page(state, cu, u, status, None, Some(message), None).await
}

/// `GET /admin/users/{id}`.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<UserId>,
    axum::extract::Query(q): axum::extract::Query<Notice>,
) -> Result<Response, WebError> {
    let u = target_user(&state, id).await?;
    edit_page(&state, &cu, &u, StatusCode::OK, None, None, q.text(&state)).await
}

/// `POST /admin/users/{id}`: profile, role and categories.
pub(crate) async fn edit(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<UserId>,
    CsrfForm(EditUserForm(f)): CsrfForm<EditUserForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, id).await?;
    let profile = match f.profile(&state) {
        Ok(p) => p,
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
    match state
        .app()
        .update_account(&cu.actor(), u.id, &profile)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response()),
        Err(e) => {
            let (status, m) = refusal(&state, e)?;
            edit_page(&state, &cu, &u, status, Some(&f), Some(m), None).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ResetForm {
    csrf: String,
    password: String,
}

impl CsrfProtected for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/users/{id}/password`: sets a new password and ends the account's sessions.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<UserId>,
    CsrfForm(f): CsrfForm<ResetForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, id).await?;
    let password = match NewPassword::parse(&f.password) {
        Ok(p) => p,
        Err(e) => return refuse(&state, &cu, &u, e.into()).await,
    };
    if let Err(e) = state.app().set_password(&cu.actor(), u.id, password).await {
        return refuse(&state, &cu, &u, e).await;
    }
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

impl CsrfProtected for ActiveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/users/{id}/active`: `active=1` enables, anything else disables (and ends the
/// account's sessions).
pub(crate) async fn set_active(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<UserId>,
    CsrfForm(f): CsrfForm<ActiveForm>,
) -> Result<Response, WebError> {
    let u = target_user(&state, id).await?;
    if let Err(e) = state
        .app()
        .set_active(&cu.actor(), u.id, f.active == "1")
        .await
    {
        return refuse(&state, &cu, &u, e).await;
    }
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}

/// `POST /admin/users/{id}/two-step-reset`: for a lost phone; the account enrols again.
pub(crate) async fn reset_two_step(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<UserId>,
    CsrfForm(_): CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    let u = target_user(&state, id).await?;
    if let Err(e) = state.app().reset_two_step(&cu.actor(), u.id).await {
        return refuse(&state, &cu, &u, e).await;
    }
    Ok(Redirect::to(&format!("/admin/users/{}?tb=luu", u.id)).into_response())
}
