//! What the web layer needs to know from the configuration.

use std::path::PathBuf;

use bantin_core::SiteZone;
use bantin_core::account::Role;

use crate::Language;

/// Settings of the web layer, filled in by the binary from file, environment and flags.
#[derive(Clone, Debug)]
pub struct WebSettings {
    /// Site name in the header and page titles.
    pub site_name: String,
    /// Zone times are shown in.
    pub zone: SiteZone,
    /// Interface language.
    pub language: Language,
    /// Folder served under `/media`.
    pub media_dir: PathBuf,
    /// Articles per category page.
    pub per_page: i64,
    /// Length of the newer and older lists on an article page.
    pub related: i64,
    /// Articles in the home page's latest list.
    pub home_latest: i64,
    /// Articles in each category block of the home page.
    pub home_per_category: i64,
    /// Votes one network address may cast on one article per window.
    pub rating_votes_per_address: i64,
    /// The window of that limit, seconds.
    pub rating_address_window: i64,
    /// Reverse proxies in front of bantin whose `X-Forwarded-For` entries are trusted: 0
    /// (the peer is the client), 1 (one proxy: the last entry), …
    pub trusted_proxy_hops: usize,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Memory for the rendered-page cache, bytes; 0 turns it off.
    pub page_cache_bytes: u64,
    /// A session without activity for this many seconds ends.
    pub session_idle_timeout: i64,
    /// A session ends this many seconds after sign-in, active or not.
    pub session_absolute_timeout: i64,
    /// The idle warning appears this many seconds before the idle limit.
    pub session_warning: i64,
    /// Failed sign-ins of one (username, address) pair within the window that lock the pair.
    pub login_max_failures: usize,
    /// The window of that count, seconds.
    pub login_failure_window: i64,
    /// How long a locked pair stays locked, seconds.
    pub login_lock_seconds: i64,
    /// Sign-in attempts one address may make per minute.
    pub login_attempts_per_minute: u32,
    /// POST requests one address may make per minute (sign-in included).
    pub posts_per_minute: u32,
    /// Roles that must use two-step sign-in.
    pub totp_required_roles: Vec<Role>,
    /// Where password-reset links are sent from; `None` means an administrator resets
    /// passwords.
    pub mailer: Option<crate::Mailer>,
    /// The site's public address (`https://example.vn`), for links in emails.
    pub public_url: Option<String>,
    /// Send `Strict-Transport-Security` (the site is served over HTTPS: `public_url` is
    /// `https://…`).
    pub hsts: bool,
    /// Where frames embedded in article bodies may come from (URL prefixes).
    pub embeds: bantin_core::EmbedHosts,
    /// Host names (lower case, no port) whose `Host` header may make absolute URLs when
    /// `public_url` is not set.
    pub allowed_hosts: Vec<String>,
    /// The text of `/robots.txt` (the sitemap's address is added).
    pub robots_txt: String,
    /// JSON API requests one token (or, without a token, one address) may make per minute.
    pub api_requests_per_minute: u32,
    /// Largest JSON API request body, bytes.
    pub api_body_limit: usize,
    /// Webhooks may deliver to loopback, private and link-local addresses.
    pub webhooks_allow_private: bool,
    /// How remote pictures are pulled into the library (`media_fetch_allow_private`, …).
    pub media_fetch: bantin_app::RemoteFetch,
    /// The search index: where it lives and how it ranks.
    pub search: bantin_search::SearchSettings,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            site_name: "Cổng thông tin điện tử".to_owned(),
            zone: SiteZone::default(),
            language: Language::Vi,
            media_dir: PathBuf::from("data/media"),
            per_page: 20,
            related: 10,
            home_latest: 10,
            home_per_category: 5,
            rating_votes_per_address: 5,
            rating_address_window: 86_400,
            trusted_proxy_hops: 0,
            secure_cookies: false,
            page_cache_bytes: 256 * 1024 * 1024,
            session_idle_timeout: 1800,
            session_absolute_timeout: 12 * 3600,
            session_warning: 60,
            login_max_failures: 5,
            login_failure_window: 300,
            login_lock_seconds: 1800,
            login_attempts_per_minute: 20,
            posts_per_minute: 120,
            totp_required_roles: Vec::new(),
            mailer: None,
            public_url: None,
            hsts: false,
            embeds: bantin_core::EmbedHosts::default(),
            allowed_hosts: vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ],
            robots_txt: "User-agent: *\nDisallow: /admin/\nDisallow: /in/\n".to_owned(),
            api_requests_per_minute: 600,
            api_body_limit: 4 * 1024 * 1024,
            webhooks_allow_private: false,
            media_fetch: bantin_app::RemoteFetch::default(),
            search: bantin_search::SearchSettings::default(),
        }
    }
}

/// What pages may load: only our own scripts, styles and forms; images also from `data:`
/// (inline SVG icons) and HTTPS (pictures embedded in articles); frames only from the hosts
/// the sanitiser lets into article bodies (`embeds`), none when there are none.
pub(crate) fn content_security_policy(embeds: &bantin_core::EmbedHosts) -> axum::http::HeaderValue {
    let origins = embeds.origins();
    let frames = if origins.is_empty() {
        "'none'".to_owned()
    } else {
        origins.join(" ")
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
         frame-src {frames}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    );
    // The origins are checked host names (`EmbedHosts::parse`), valid in a header.
    axum::http::HeaderValue::from_str(&csp).expect("a CSP made of checked host names")
}
