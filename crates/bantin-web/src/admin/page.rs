//! What every admin page shares: rendering with the account's menu, and the small forms and
//! notices several pages use.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use bantin_core::access::Capability;
use minijinja::{Value, context};

use crate::auth::CurrentUser;
use crate::{AppState, WebError};

/// Renders an admin page: `ctx` plus what every admin page shows.
pub(crate) fn render(
    state: &AppState,
    cu: Option<&CurrentUser>,
    template: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, WebError> {
    let me = cu.map(|cu| {
        context! {
            username => cu.user.username.clone(),
            display_name => cu.user.display_name.clone(),
            role => state.catalog().get(&format!("role.{}", cu.user.role().as_str())),
            csrf => cu.csrf.clone(),
            can_users => cu.rights.allows(Capability::ManageUsers, None),
            can_audit => cu.rights.allows(Capability::ViewAudit, None),
            can_categories => cu.rights.allows(Capability::ManageCategories, None),
            can_settings => cu.rights.allows(Capability::ManageSettings, None),
        }
    });
    let full = context! {
        title => title,
        me => me,
        admin_css => state.assets().url("admin.css"),
        ..ctx
    };
    let html = state.renderer().render(template, full)?;
    Ok(Html(html).into_response())
}

/// [`render`] with a status other than 200 (a form shown again with its problem).
pub(crate) fn render_status(
    state: &AppState,
    cu: Option<&CurrentUser>,
    status: StatusCode,
    template: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, WebError> {
    let mut res = render(state, cu, template, title, ctx)?;
    *res.status_mut() = status;
    Ok(res)
}

/// The message of a stale or missing CSRF token.
pub(crate) fn stale(state: &AppState) -> String {
    state.catalog().get("form.stale").to_owned()
}

/// What an edit form needs to show itself again after its CSRF token was refused, everything
/// typed kept.
pub(crate) struct StaleForm<'p, Id> {
    /// The signed-in user.
    pub cu: &'p CurrentUser,
    /// The id in the path (none on a new item's form).
    pub id: Option<Id>,
    /// The form-level message.
    pub errors: BTreeMap<String, String>,
}

/// The [`StaleForm`] of a refused request to a form under `prefix`. Without a signed-in user
/// there is no form to show: the plain 403 comes back as `Err`.
pub(crate) fn stale_form<'p, Id: std::str::FromStr>(
    state: &AppState,
    parts: &'p axum::http::request::Parts,
    prefix: &str,
) -> Result<StaleForm<'p, Id>, WebError> {
    let Some(cu) = crate::extract::user_of(parts) else {
        return Err(WebError::Refused(StatusCode::FORBIDDEN, stale(state)));
    };
    Ok(StaleForm {
        cu,
        id: parts
            .uri
            .path()
            .trim_start_matches(prefix)
            .parse::<Id>()
            .ok(),
        errors: BTreeMap::from([("form".to_owned(), stale(state))]),
    })
}

/// A service refusal as a status and a message for a form shown again; internal failures
/// stay errors.
pub(crate) fn refusal(
    state: &AppState,
    e: bantin_app::AppError,
) -> Result<(StatusCode, String), WebError> {
    match WebError::from_app(e, state.catalog()) {
        WebError::NotFound => Err(WebError::NotFound),
        e @ WebError::Internal(_) => Err(e),
        e => {
            let (status, message) = e.status_and_message();
            Ok((status, message.unwrap_or_default().to_owned()))
        }
    }
}

/// The `?tb=…` notice of an admin page.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct Notice {
    #[serde(rename = "tb")]
    pub(crate) notice: String,
}

impl Notice {
    /// The notice's text, if the code is known.
    pub(crate) fn text(&self, state: &AppState) -> Option<String> {
        crate::routes::admin_notice(&self.notice).map(|k| state.catalog().get(k).to_owned())
    }
}
