//! What every reader page shares: the layout's values (title, description, canonical URL,
//! menu) and the styled error page, used by the pages and by the error renderer alike.

use axum::http::StatusCode;
use minijinja::context;
use serde::Serialize;

use crate::AppState;
use crate::site::Site;

/// Template value of any serialisable Rust value.
pub fn ser<T: Serialize>(v: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

/// The parts of every page's layout.
pub fn layout(
    state: &AppState,
    site: Option<&Site>,
    title: &str,
    description: &str,
    canonical: &str,
) -> minijinja::Value {
    let full_title = if title.is_empty() {
        state.settings().site_name.clone()
    } else {
        format!("{title} - {}", state.settings().site_name)
    };
    context! {
        lang => state.catalog().get("lang.code"),
        title => full_title,
        description => description,
        canonical => canonical,
        nav => ser(site.map(Site::nav).unwrap_or_default()),
    }
}

/// The catalogue key family of a status's error page.
pub fn error_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "error.404",
        414 => "error.414",
        429 => "error.429",
        400..=499 => "error.400",
        _ => "error.500",
    }
}

/// Renders the styled error page; the menu is shown when the database answers.
pub async fn error_page(
    state: &AppState,
    status: StatusCode,
    message: Option<&str>,
) -> Result<String, minijinja::Error> {
    let site = state.site_cache().get(state.store()).await.ok();
    let key = error_key(status);
    let title = state.catalog().get(&format!("{key}.title")).to_owned();
    let body = match message {
        Some(m) => m.to_owned(),
        None if key == "error.404" => state.catalog().get("error.404.body").to_owned(),
        None => state.catalog().get("error.500.body").to_owned(),
    };
    let ctx = context! {
        layout => layout(state, site.as_deref(), &title, "", ""),
        status => status.as_u16(),
        title => title,
        message => body,
    };
    state.renderer().render("error.html", ctx)
}
