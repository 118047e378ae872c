//! The HTTP side of bantin: the axum router, thin handlers, templates, static assets and the
//! in-memory parts of serving readers (view counting).

mod admin;
mod assets;
mod auth;
mod cache;
mod error;
mod i18n;
mod limits;
mod mail;
mod pages;
mod rating;
mod render;
mod security;
mod settings;
mod state;
mod views;

pub use admin::{AdminRoute, admin_routes};
pub use auth::{Access, SESSION_COOKIE};
pub use cache::PageCache;
pub use error::WebError;
pub use i18n::{Catalog, Language};
pub use mail::Mailer;
pub use settings::WebSettings;
pub use state::AppState;
pub use views::ViewCounter;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Longest request target we accept; real URLs of the site are far shorter.
pub const MAX_URI_LEN: usize = 2048;

/// Adds the headers every response should carry unless it has its own.
pub(crate) async fn security_headers(
    mut res: axum::response::Response,
) -> axum::response::Response {
    add_security_headers(res.headers_mut());
    res
}

pub(crate) fn add_security_headers(h: &mut axum::http::HeaderMap) {
    use axum::http::{HeaderValue, header};
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
}

fn csrf_rejection(
    state: &AppState,
) -> impl FnMut(tower_http::csrf::ProtectionError) -> axum::response::Response + Clone + use<> {
    let message = state.catalog().get("form.cross_site").to_owned();
    move |e| {
        tracing::info!(error = %e, "cross-site request refused");
        WebError::Refused(axum::http::StatusCode::FORBIDDEN, message.clone()).into_response()
    }
}

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let media = ServeDir::new(state.settings().media_dir.clone());
    let media =
        Router::new()
            .fallback_service(media)
            .layer(SetResponseHeaderLayer::if_not_present(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("public, max-age=604800"),
            ));
    Router::new()
        .route("/", get(pages::home))
        .route("/{category}/", get(pages::category))
        .route("/{category}/{file}", get(pages::article))
        .route("/healthz", get(pages::healthz))
        .route("/assets/{file}", get(assets::serve))
        .route("/rate/{id}", post(rating::rate))
        .route("/{category}", get(pages::category_without_slash))
        .merge(admin::router(&state))
        .nest_service("/media", media)
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::limit_posts,
        ))
        // A second line behind the per-form tokens: cross-site POSTs are refused by the
        // browser's own Sec-Fetch-Site / Origin headers.
        .layer(tower_http::csrf::CsrfLayer::new().with_rejection_response(csrf_rejection(&state)))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        // Inside compression, so the idle warning can be added to the uncompressed page.
        .layer(middleware::from_fn_with_state(state.clone(), auth::resolve))
        .layer(CompressionLayer::new())
        .layer(middleware::map_response(security_headers))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        // Cache hits are answered here, before the layers above: a hit is a memory lookup.
        .layer(middleware::from_fn_with_state(state.clone(), cache::layer))
        .layer(middleware::from_fn(security::guard_request))
        .with_state(state)
}
