//! What every reader page shares: the layout's values (title, description, canonical URL,
//! menu) and the styled error page, used by the pages and by the error renderer alike.

use axum::http::StatusCode;
use minijinja::context;
use serde::Serialize;

use crate::AppState;
use crate::origin::Origin;
use crate::site::Site;

/// Template value of any serialisable Rust value.
pub fn ser<T: Serialize>(v: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

/// What a page says about itself in `<head>`: for search engines, feed readers and social
/// networks.
#[derive(Default)]
pub struct Head<'a> {
    /// The page's own title (the site name is added).
    pub title: &'a str,
    /// The meta description.
    pub description: &'a str,
    /// The canonical path (made absolute with the origin).
    pub path: &'a str,
    /// Previous and next pages of a paged list (paths).
    pub prev: Option<String>,
    /// See `prev`.
    pub next: Option<String>,
    /// `article` or `website` (the default).
    pub og_type: &'a str,
    /// The page's image (path or absolute URL) and its alternative text.
    pub image: Option<(&'a str, &'a str)>,
    /// Feeds to announce (path, title), besides the site's own.
    pub feeds: Vec<(String, String)>,
    /// JSON-LD objects describing the page.
    pub json_ld: Vec<serde_json::Value>,
}

/// JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` are written as
/// `\u` escapes, so no text inside (a title holding `</script>`) can end the block.
pub fn json_ld_block(values: &[serde_json::Value]) -> Option<minijinja::Value> {
    if values.is_empty() {
        return None;
    }
    let one = if values.len() == 1 {
        values[0].clone()
    } else {
        serde_json::Value::Array(values.to_vec())
    };
    let json = serde_json::to_string(&one).ok()?;
    let safe = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    Some(minijinja::Value::from_safe_string(safe))
}

/// The parts of every page's layout.
pub fn layout(
    state: &AppState,
    site: Option<&Site>,
    origin: &Origin,
    head: Head<'_>,
) -> minijinja::Value {
    let s = state.settings();
    let full_title = if head.title.is_empty() {
        s.site_name.clone()
    } else {
        format!("{} - {}", head.title, s.site_name)
    };
    let absolute = |u: &str| {
        if u.starts_with("https://") || u.starts_with("http://") {
            u.to_owned()
        } else {
            origin.url(u)
        }
    };
    let mut feeds = vec![(origin.url(crate::routes::SITE_FEED), s.site_name.clone())];
    feeds.extend(head.feeds.iter().map(|(p, t)| (origin.url(p), t.clone())));
    context! {
        lang => state.catalog().get("lang.code"),
        locale => state.catalog().get("lang.locale"),
        title => full_title,
        page_title => if head.title.is_empty() { s.site_name.as_str() } else { head.title },
        description => head.description,
        canonical => (!head.path.is_empty()).then(|| origin.url(head.path)),
        prev => head.prev.as_deref().map(|p| origin.url(p)),
        next => head.next.as_deref().map(|p| origin.url(p)),
        og_type => if head.og_type.is_empty() { "website" } else { head.og_type },
        image => head.image.map(|(u, _)| absolute(u)),
        image_alt => head.image.map(|(_, a)| a),
        feeds => feeds.into_iter().map(|(url, title)| context! { url => url, title => title }).collect::<Vec<_>>(),
        json_ld => json_ld_block(&head.json_ld),
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
        layout => layout(state, site.as_deref(), &Origin(None), Head { title: &title, ..Head::default() }),
        status => status.as_u16(),
        title => title,
        message => body,
    };
    state.renderer().render("error.html", ctx)
}
