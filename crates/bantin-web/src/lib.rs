//! The HTTP side of bantin: the axum router, thin handlers that parse input and call the
//! services, templates, static assets, and the in-memory parts of serving readers (the page
//! cache kept current by the change feed, view counting).
//!
//! Modules are layered, and a module only uses those below it: the building blocks
//! (`cookies`, `routes`, `signer`, `site`, `page_cache`, `limits`, `views`, `assets`, `render`,
//! `i18n`, `settings`, `mail`) → `state` → `client_ip`, `error`, `layout`, `auth`, `extract`,
//! `guard` → the handlers (`pages`, `rating`, `admin`) and the `cache` middleware → this
//! router. A test keeps the graph acyclic.

mod admin;
mod api;
mod article_input;
mod assets;
mod auth;
mod brotli_memory;
mod cache;
mod category_input;
mod client_ip;
mod compress;
mod cookies;
mod error;
mod extract;
mod guard;
mod i18n;
mod layout;
mod limits;
mod mail;
mod media_errors;
mod origin;
mod page_cache;
mod pages;
mod rating;
mod render;
mod routes;
mod seo;
mod settings;
mod signer;
mod site;
mod state;
mod views;

pub use admin::{AdminRoute, admin_routes};
pub use api::openapi_json;
pub use auth::Access;
pub use client_ip::client_address;
pub use cookies::{SESSION_COOKIE, VOTER_COOKIE};
pub use error::WebError;
pub use i18n::{Catalog, Language};
pub use mail::Mailer;
pub use page_cache::PageCache;
pub use routes::MAX_URI_LEN;
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
use tower_http::trace::TraceLayer;

fn csrf_rejection(
    state: &AppState,
) -> impl FnMut(tower_http::csrf::ProtectionError) -> axum::response::Response + Clone + use<> {
    let message = state.catalog().get("form.cross_site").to_owned();
    move |e| {
        tracing::info!(error = %e, "cross-site request refused");
        WebError::Refused(axum::http::StatusCode::FORBIDDEN, message.clone()).into_response()
    }
}

/// Long browser caching for media files that exist; errors and redirects are not cached.
async fn media_caching(res: axum::response::Response) -> axum::response::Response {
    let mut res = res;
    if res.status() == axum::http::StatusCode::OK {
        res.headers_mut()
            .entry(axum::http::header::CACHE_CONTROL)
            .or_insert(axum::http::HeaderValue::from_static(
                "public, max-age=604800",
            ));
    }
    res
}

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    // Directory redirects of ServeDir drop the `/media` prefix; media URLs name files only.
    let media = ServeDir::new(state.settings().media_dir.clone())
        .redirect_to_trailing_slash(false)
        .append_index_html_on_directories(false);
    let media = Router::new()
        .route("/lib/{file}", get(pages::pictures::serve))
        .fallback_service(media)
        .layer(middleware::map_response(media_caching));
    Router::new()
        .route("/", get(pages::home::home))
        .route("/{category}/", get(pages::category::category))
        .route("/{category}/{file}", get(pages::article::article))
        .route("/tag/{slug}/", get(pages::tag::tag))
        .route("/tac-gia/{slug}/", get(pages::tag::author))
        .route("/in/{file}", get(pages::article::print))
        .route("/rss.xml", get(pages::feeds::site_feed))
        .route("/{category}/rss.xml", get(pages::feeds::category_feed))
        .route("/sitemap.xml", get(pages::feeds::sitemap_index))
        .route("/sitemap-news.xml", get(pages::feeds::sitemap_news))
        .route("/sitemap-sections.xml", get(pages::feeds::sitemap_sections))
        .route("/robots.txt", get(pages::feeds::robots))
        .route("/healthz", get(pages::other::healthz))
        .route("/metrics", get(pages::other::metrics))
        .route("/search", get(pages::search::search))
        .route("/api/v1/search", get(pages::search::search_json))
        .route("/assets/{file}", get(pages::other::asset))
        .route("/rate/{id}", post(rating::rate))
        .route("/{category}", get(pages::category::category_without_slash))
        .merge(admin::router(&state))
        .merge(api::router(&state))
        .nest("/media", media)
        .fallback(pages::other::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::settle_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::limit_posts,
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
        // For axum's own extractors (votes); forms are read by `StrictForm`, whose limit depends
        // on the route (`routes::form_limit`).
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        // Cache hits are answered here, before the layers above: a hit is a memory lookup.
        .layer(middleware::from_fn_with_state(state.clone(), cache::layer))
        .layer(middleware::from_fn(guard::guard_request))
        // Outermost, so every answer carries them: refused targets and timeouts included.
        .layer(middleware::map_response_with_state(
            state.clone(),
            guard::security_headers,
        ))
        .with_state(state)
}
