//! Settings: `DATA/bantin.toml`, overridden by `BANTIN_*` environment variables, overridden by
//! command-line flags. Every value is checked at start-up; a bad one stops it with a message
//! naming the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bantin_core::SiteZone;
use bantin_web::{Language, WebSettings};
use clap::Args;
use serde::Deserialize;

/// Settings that `serve` and `migrate` share, as flags (each also read from `BANTIN_*`).
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Data folder: database, media, bantin.toml.
    #[arg(long, env = "BANTIN_DATA", value_name = "DIR", global = true)]
    pub data: Option<PathBuf>,
    /// Database URL (postgres://… or sqlite://…); default: SQLite at DATA/bantin.db.
    #[arg(long, env = "BANTIN_DATABASE_URL", value_name = "URL", global = true)]
    pub database_url: Option<String>,
    /// Most database connections in the pool.
    #[arg(long, env = "BANTIN_MAX_CONNECTIONS", value_name = "N", global = true)]
    pub max_connections: Option<String>,
}

/// Flags of `serve` beyond the common ones.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BANTIN_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Do not load the demo content into a new database.
    #[arg(long, env = "BANTIN_NO_DEMO")]
    pub no_demo: bool,
    /// Site name shown in the header and titles.
    #[arg(long, env = "BANTIN_SITE_NAME", value_name = "TEXT")]
    pub site_name: Option<String>,
    /// Time zone pages show times in (IANA name).
    #[arg(long, env = "BANTIN_TIMEZONE", value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Interface language: vi or en.
    #[arg(long, env = "BANTIN_LANGUAGE", value_name = "LANG")]
    pub language: Option<String>,
    /// Articles per category page.
    #[arg(long, env = "BANTIN_PER_PAGE", value_name = "N")]
    pub per_page: Option<String>,
    /// Length of the newer/older article lists.
    #[arg(long, env = "BANTIN_RELATED_ARTICLES", value_name = "N")]
    pub related_articles: Option<String>,
    /// Seconds between writes of counted views.
    #[arg(long, env = "BANTIN_VIEW_FLUSH_SECONDS", value_name = "S")]
    pub view_flush_seconds: Option<String>,
    /// Rating votes one network address may cast on one article per day.
    #[arg(long, env = "BANTIN_RATING_VOTES_PER_ADDRESS", value_name = "N")]
    pub rating_votes_per_address: Option<String>,
    /// Trust the last X-Forwarded-For hop (true when behind a reverse proxy).
    #[arg(long, env = "BANTIN_BEHIND_PROXY", value_name = "BOOL")]
    pub behind_proxy: Option<String>,
    /// Reverse proxies in front of bantin whose X-Forwarded-For entries are trusted (0–10;
    /// `behind_proxy` means 1).
    #[arg(long, env = "BANTIN_TRUSTED_PROXY_HOPS", value_name = "N")]
    pub trusted_proxy_hops: Option<String>,
    /// Mark cookies Secure (true when served over HTTPS).
    #[arg(long, env = "BANTIN_SECURE_COOKIES", value_name = "BOOL")]
    pub secure_cookies: Option<String>,
    /// Memory for the rendered-page cache, MiB.
    #[arg(long, env = "BANTIN_PAGE_CACHE_MIB", value_name = "MIB")]
    pub page_cache_mib: Option<String>,
    /// How much recency adds to a search result's score (0 to 100; 0.5 breaks ties).
    #[arg(long, env = "BANTIN_SEARCH_RECENCY_WEIGHT", value_name = "W")]
    pub search_recency_weight: Option<String>,
    /// Turn the rendered-page cache off (for measurements).
    #[arg(long, env = "BANTIN_NO_PAGE_CACHE")]
    pub no_page_cache: bool,
    /// Seconds without activity after which a signed-in session ends.
    #[arg(long, env = "BANTIN_SESSION_IDLE_TIMEOUT", value_name = "S")]
    pub session_idle_timeout: Option<String>,
    /// Seconds after sign-in after which a session ends, active or not.
    #[arg(long, env = "BANTIN_SESSION_ABSOLUTE_TIMEOUT", value_name = "S")]
    pub session_absolute_timeout: Option<String>,
    /// Seconds before the idle limit at which the warning appears.
    #[arg(long, env = "BANTIN_SESSION_WARNING", value_name = "S")]
    pub session_warning: Option<String>,
    /// Failed sign-ins of one username from one address, within the window, that lock the pair.
    #[arg(long, env = "BANTIN_LOGIN_MAX_FAILURES", value_name = "N")]
    pub login_max_failures: Option<String>,
    /// The window of that count, seconds.
    #[arg(long, env = "BANTIN_LOGIN_FAILURE_WINDOW", value_name = "S")]
    pub login_failure_window: Option<String>,
    /// How long a locked pair stays locked, seconds.
    #[arg(long, env = "BANTIN_LOGIN_LOCK_SECONDS", value_name = "S")]
    pub login_lock_seconds: Option<String>,
    /// Sign-in attempts one address may make per minute.
    #[arg(long, env = "BANTIN_LOGIN_ATTEMPTS_PER_MINUTE", value_name = "N")]
    pub login_attempts_per_minute: Option<String>,
    /// POST requests one address may make per minute.
    #[arg(long, env = "BANTIN_POSTS_PER_MINUTE", value_name = "N")]
    pub posts_per_minute: Option<String>,
    /// Roles that must use two-step sign-in, comma-separated (administrator, editor-in-chief,
    /// editor), or "none".
    #[arg(long, env = "BANTIN_TWO_STEP_ROLES", value_name = "ROLES")]
    pub two_step_roles: Option<String>,
    /// SMTP server for password-reset emails: smtp://host:25, smtp://user:pass@host:587?tls=required
    /// or smtps://user:pass@host:465. Without it an administrator resets passwords.
    #[arg(
        long,
        env = "BANTIN_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of those emails, e.g. "Cổng thông tin <noreply@example.vn>".
    #[arg(long, env = "BANTIN_MAIL_FROM", value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// The site's public address for links in emails, e.g. https://example.vn.
    #[arg(long, env = "BANTIN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// JSON API requests one token (or one address without a token) may make per minute.
    #[arg(long, env = "BANTIN_API_REQUESTS_PER_MINUTE", value_name = "N")]
    pub api_requests_per_minute: Option<String>,
    /// Largest JSON API request body, KiB.
    #[arg(long, env = "BANTIN_API_BODY_LIMIT_KIB", value_name = "KIB")]
    pub api_body_limit_kib: Option<String>,
    /// Let webhooks deliver to loopback, private and link-local addresses.
    #[arg(long, env = "BANTIN_WEBHOOKS_ALLOW_PRIVATE", value_name = "BOOL")]
    pub webhooks_allow_private: Option<String>,
    /// Where frames in article bodies may come from: comma-separated URL prefixes
    /// (https://host/path/), or "none". Default: YouTube's embed players.
    #[arg(long, env = "BANTIN_EMBED_HOSTS", value_name = "PREFIXES")]
    pub embed_hosts: Option<String>,
    /// Without public_url, the host names (comma-separated) whose Host header may make the
    /// site's absolute URLs. Default: localhost, 127.0.0.1, [::1].
    #[arg(long, env = "BANTIN_ALLOWED_HOSTS", value_name = "HOSTS")]
    pub allowed_hosts: Option<String>,
    /// The text of /robots.txt (the sitemap's address is added to it).
    #[arg(long, env = "BANTIN_ROBOTS_TXT", value_name = "TEXT")]
    pub robots_txt: Option<String>,
    /// Where library files are kept: `local` (DATA/media/lib) or `s3://BUCKET[/PREFIX]`
    /// (a build with the `s3` feature; credentials and endpoint from `AWS_*` variables).
    #[arg(long, env = "BANTIN_MEDIA_STORAGE", value_name = "WHERE")]
    pub media_storage: Option<String>,
    /// Largest upload, MiB.
    #[arg(long, env = "BANTIN_MEDIA_MAX_MIB", value_name = "MIB")]
    pub media_max_mib: Option<String>,
    /// Largest picture, millions of pixels (read from its header before decoding).
    #[arg(long, env = "BANTIN_MEDIA_MAX_MEGAPIXELS", value_name = "N")]
    pub media_max_megapixels: Option<String>,
    /// Keep the untouched upload (metadata included) besides the processed picture.
    #[arg(long, env = "BANTIN_MEDIA_KEEP_ORIGINAL", value_name = "BOOL")]
    pub media_keep_original: Option<String>,
    /// Pictures processed at once.
    #[arg(long, env = "BANTIN_MEDIA_WORKERS", value_name = "N")]
    pub media_workers: Option<String>,
    /// Let "pull remote pictures" fetch from loopback, private and link-local addresses.
    #[arg(long, env = "BANTIN_MEDIA_FETCH_ALLOW_PRIVATE", value_name = "BOOL")]
    pub media_fetch_allow_private: Option<String>,
    /// Non-public addresses (comma-separated IPs) "pull remote pictures" may fetch from,
    /// the rest of them still refused: an intranet picture server.
    #[arg(long, env = "BANTIN_MEDIA_FETCH_ALLOW_ADDRESSES", value_name = "IPS")]
    pub media_fetch_allow_addresses: Option<String>,
    /// Seconds a client has to send a whole request head.
    #[arg(long, env = "BANTIN_HEADER_READ_TIMEOUT", value_name = "S")]
    pub header_read_timeout: Option<String>,
    /// Seconds a kept-alive connection may wait, silent, for its next request.
    #[arg(long, env = "BANTIN_KEEP_ALIVE_TIMEOUT", value_name = "S")]
    pub keep_alive_timeout: Option<String>,
    /// Client connections open at once, in all.
    #[arg(long, env = "BANTIN_MAX_OPEN_CONNECTIONS", value_name = "N")]
    pub max_open_connections: Option<String>,
    /// Client connections open at once from one IPv4 address or IPv6 /64.
    #[arg(long, env = "BANTIN_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N")]
    pub max_connections_per_address: Option<String>,
}

/// `DATA/bantin.toml`. Unknown keys are an error, so a typo never silently does nothing.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    database_url: Option<String>,
    max_connections: Option<u32>,
    demo: Option<bool>,
    site_name: Option<String>,
    timezone: Option<String>,
    language: Option<String>,
    per_page: Option<i64>,
    related_articles: Option<i64>,
    view_flush_seconds: Option<u64>,
    rating_votes_per_address: Option<i64>,
    behind_proxy: Option<bool>,
    trusted_proxy_hops: Option<usize>,
    secure_cookies: Option<bool>,
    page_cache: Option<bool>,
    page_cache_mib: Option<u64>,
    search_recency_weight: Option<f32>,
    session_idle_timeout: Option<i64>,
    session_absolute_timeout: Option<i64>,
    session_warning: Option<i64>,
    login_max_failures: Option<i64>,
    login_failure_window: Option<i64>,
    login_lock_seconds: Option<i64>,
    login_attempts_per_minute: Option<i64>,
    posts_per_minute: Option<i64>,
    two_step_roles: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    embed_hosts: Option<String>,
    allowed_hosts: Option<String>,
    robots_txt: Option<String>,
    api_requests_per_minute: Option<i64>,
    api_body_limit_kib: Option<i64>,
    webhooks_allow_private: Option<bool>,
    media_storage: Option<String>,
    media_max_mib: Option<u64>,
    media_max_megapixels: Option<u64>,
    media_keep_original: Option<bool>,
    media_workers: Option<usize>,
    media_fetch_allow_private: Option<bool>,
    media_fetch_allow_addresses: Option<String>,
    header_read_timeout: Option<i64>,
    keep_alive_timeout: Option<i64>,
    max_open_connections: Option<i64>,
    max_connections_per_address: Option<i64>,
}

/// Where the database is.
#[derive(Clone, Debug)]
pub enum DatabaseTarget {
    /// The embedded SQLite file.
    SqliteFile(PathBuf),
    /// An explicit URL.
    Url(String),
}

/// Everything start-up needs, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Data folder.
    pub data: PathBuf,
    /// Database.
    pub database: DatabaseTarget,
    /// Pool size.
    pub max_connections: u32,
    /// Listen address.
    pub listen: SocketAddr,
    /// Load demo content into a new database.
    pub demo: bool,
    /// Seconds between view flushes.
    pub view_flush_seconds: u64,
    /// Web layer settings.
    pub web: WebSettings,
    /// Client connection timeouts and caps.
    pub connections: crate::server::Limits,
    /// The media library.
    pub media: MediaSettings,
}

/// Settings of the media library.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// `local` or `s3://bucket[/prefix]`.
    pub storage: String,
    /// Intake rules.
    pub intake: bantin_media::IntakeSettings,
    /// Pictures processed at once.
    pub workers: usize,
}

/// Names a setting in all three places it can be given.
fn names(key: &str) -> String {
    format!(
        "`{key}` in bantin.toml, BANTIN_{}, --{}",
        key.to_uppercase(),
        key.replace('_', "-")
    )
}

fn pick<T: std::str::FromStr>(
    key: &str,
    flag: Option<&String>,
    file: Option<T>,
    default: T,
) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match flag {
        Some(raw) => raw
            .trim()
            .parse::<T>()
            .map_err(|e| anyhow::anyhow!("invalid value {raw:?} for {}: {e}", names(key))),
        None => Ok(file.unwrap_or(default)),
    }
}

/// `example.vn, www.example.vn` → lower-case host names; each a DNS name, an IPv4 address or
/// a bracketed IPv6 address, without a port.
fn parse_hosts(raw: &str) -> Result<Vec<String>> {
    raw.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let lower = h.to_ascii_lowercase();
            let ok = if let Some(inner) = lower.strip_prefix('[') {
                inner
                    .strip_suffix(']')
                    .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
            } else {
                lower.len() <= 253
                    && !lower.starts_with(['.', '-'])
                    && !lower.ends_with(['.', '-'])
                    && lower
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            };
            if ok {
                Ok(lower)
            } else {
                Err(anyhow::anyhow!(
                    "invalid host {h:?} in {}: expected names like example.vn (no scheme, no port)",
                    names("allowed_hosts")
                ))
            }
        })
        .collect()
}

/// `administrator,editor-in-chief` → the roles; `none` or empty → none.
fn parse_roles(raw: &str) -> Result<Vec<bantin_core::account::Role>> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "none" {
        return Ok(Vec::new());
    }
    raw.split(',')
        .map(|r| {
            r.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "invalid role {:?} in {}: expected administrator, editor-in-chief, editor or none",
                    r.trim(),
                    names("two_step_roles")
                )
            })
        })
        .collect()
}

fn positive(key: &str, v: i64, max: i64) -> Result<i64> {
    if !(1..=max).contains(&v) {
        bail!("invalid value {v} for {}: expected 1 to {max}", names(key));
    }
    Ok(v)
}

impl Settings {
    /// Reads the file, then applies environment and flags (clap has merged those two).
    pub fn load(common: &CommonArgs, serve: &ServeArgs) -> Result<Self> {
        let data = common.data.clone().unwrap_or_else(|| PathBuf::from("data"));
        let file = read_file(&data)?;
        let database = match common.database_url.clone().or(file.database_url) {
            Some(url) => DatabaseTarget::Url(url),
            None => DatabaseTarget::SqliteFile(data.join("bantin.db")),
        };
        let max_connections = pick(
            "max_connections",
            common.max_connections.as_ref(),
            file.max_connections,
            8,
        )?;
        if !(1..=1000).contains(&max_connections) {
            bail!(
                "invalid value {max_connections} for {}: expected 1 to 1000",
                names("max_connections")
            );
        }
        let listen_raw = serve
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_raw.parse::<SocketAddr>().with_context(|| {
            format!(
                "invalid listen address {listen_raw:?} for {}",
                names("listen")
            )
        })?;
        let timezone = serve
            .timezone
            .clone()
            .or(file.timezone)
            .unwrap_or_else(|| SiteZone::DEFAULT.to_owned());
        let zone = SiteZone::parse(&timezone)
            .with_context(|| format!("invalid value for {}", names("timezone")))?;
        let language_raw = serve
            .language
            .clone()
            .or(file.language)
            .unwrap_or_else(|| "vi".to_owned());
        let language: Language = language_raw
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid value for {}: {e}", names("language")))?;
        let defaults = WebSettings::default();
        let site_name = serve
            .site_name
            .clone()
            .or(file.site_name)
            .unwrap_or(defaults.site_name.clone());
        if site_name.trim().is_empty() || site_name.len() > 200 {
            bail!(
                "invalid value for {}: expected 1 to 200 characters",
                names("site_name")
            );
        }
        let per_page = positive(
            "per_page",
            pick("per_page", serve.per_page.as_ref(), file.per_page, 20)?,
            100,
        )?;
        let related = positive(
            "related_articles",
            pick(
                "related_articles",
                serve.related_articles.as_ref(),
                file.related_articles,
                10,
            )?,
            100,
        )?;
        let view_flush_seconds = pick(
            "view_flush_seconds",
            serve.view_flush_seconds.as_ref(),
            file.view_flush_seconds,
            5,
        )?;
        if !(1..=60).contains(&view_flush_seconds) {
            bail!(
                "invalid value {view_flush_seconds} for {}: expected 1 to 60",
                names("view_flush_seconds")
            );
        }
        let rating_votes_per_address = positive(
            "rating_votes_per_address",
            pick(
                "rating_votes_per_address",
                serve.rating_votes_per_address.as_ref(),
                file.rating_votes_per_address,
                5,
            )?,
            100_000,
        )?;
        let behind_proxy = pick(
            "behind_proxy",
            serve.behind_proxy.as_ref(),
            file.behind_proxy,
            false,
        )?;
        let trusted_proxy_hops = pick(
            "trusted_proxy_hops",
            serve.trusted_proxy_hops.as_ref(),
            file.trusted_proxy_hops,
            usize::from(behind_proxy),
        )?;
        if trusted_proxy_hops > 10 {
            bail!(
                "invalid value {trusted_proxy_hops} for {}: expected 0 to 10",
                names("trusted_proxy_hops")
            );
        }
        let demo = !serve.no_demo && file.demo.unwrap_or(true);
        let page_cache_mib = pick(
            "page_cache_mib",
            serve.page_cache_mib.as_ref(),
            file.page_cache_mib,
            256,
        )?;
        if !(1..=65_536).contains(&page_cache_mib) {
            bail!(
                "invalid value {page_cache_mib} for {}: expected 1 to 65536",
                names("page_cache_mib")
            );
        }
        let search_recency_weight = pick(
            "search_recency_weight",
            serve.search_recency_weight.as_ref(),
            file.search_recency_weight,
            0.5,
        )?;
        if !(0.0..=100.0).contains(&search_recency_weight) {
            bail!(
                "invalid value {search_recency_weight} for {}: expected 0 to 100",
                names("search_recency_weight")
            );
        }
        let page_cache = !serve.no_page_cache && file.page_cache.unwrap_or(true);
        let bounded =
            |key: &str, flag: Option<&String>, file: Option<i64>, default: i64, max: i64| {
                positive(key, pick(key, flag, file, default)?, max)
            };
        let session_idle_timeout = bounded(
            "session_idle_timeout",
            serve.session_idle_timeout.as_ref(),
            file.session_idle_timeout,
            defaults.session_idle_timeout,
            7 * 86_400,
        )?;
        let session_absolute_timeout = bounded(
            "session_absolute_timeout",
            serve.session_absolute_timeout.as_ref(),
            file.session_absolute_timeout,
            defaults.session_absolute_timeout,
            30 * 86_400,
        )?;
        let session_warning = bounded(
            "session_warning",
            serve.session_warning.as_ref(),
            file.session_warning,
            defaults.session_warning,
            3600,
        )?;
        if session_warning >= session_idle_timeout {
            bail!(
                "{} must be shorter than {}",
                names("session_warning"),
                names("session_idle_timeout")
            );
        }
        let login_max_failures = bounded(
            "login_max_failures",
            serve.login_max_failures.as_ref(),
            file.login_max_failures,
            5,
            1000,
        )?;
        let login_failure_window = bounded(
            "login_failure_window",
            serve.login_failure_window.as_ref(),
            file.login_failure_window,
            defaults.login_failure_window,
            86_400,
        )?;
        let login_lock_seconds = bounded(
            "login_lock_seconds",
            serve.login_lock_seconds.as_ref(),
            file.login_lock_seconds,
            defaults.login_lock_seconds,
            7 * 86_400,
        )?;
        let login_attempts_per_minute = bounded(
            "login_attempts_per_minute",
            serve.login_attempts_per_minute.as_ref(),
            file.login_attempts_per_minute,
            i64::from(defaults.login_attempts_per_minute),
            100_000,
        )?;
        let posts_per_minute = bounded(
            "posts_per_minute",
            serve.posts_per_minute.as_ref(),
            file.posts_per_minute,
            i64::from(defaults.posts_per_minute),
            1_000_000,
        )?;
        let api_requests_per_minute = bounded(
            "api_requests_per_minute",
            serve.api_requests_per_minute.as_ref(),
            file.api_requests_per_minute,
            i64::from(defaults.api_requests_per_minute),
            1_000_000,
        )?;
        let api_body_limit_kib = bounded(
            "api_body_limit_kib",
            serve.api_body_limit_kib.as_ref(),
            file.api_body_limit_kib,
            i64::try_from(defaults.api_body_limit / 1024)?,
            64 * 1024,
        )?;
        let webhooks_allow_private = pick(
            "webhooks_allow_private",
            serve.webhooks_allow_private.as_ref(),
            file.webhooks_allow_private,
            false,
        )?;
        let media_fetch_allow_private = pick(
            "media_fetch_allow_private",
            serve.media_fetch_allow_private.as_ref(),
            file.media_fetch_allow_private,
            false,
        )?;
        let media_fetch_allow_addresses = serve
            .media_fetch_allow_addresses
            .clone()
            .or(file.media_fetch_allow_addresses.clone())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse::<std::net::IpAddr>().map_err(|e| {
                    anyhow::anyhow!(
                        "invalid address {a:?} in {}: {e}",
                        names("media_fetch_allow_addresses")
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let header_read_timeout = bounded(
            "header_read_timeout",
            serve.header_read_timeout.as_ref(),
            file.header_read_timeout,
            10,
            3600,
        )?;
        let keep_alive_timeout = bounded(
            "keep_alive_timeout",
            serve.keep_alive_timeout.as_ref(),
            file.keep_alive_timeout,
            30,
            3600,
        )?;
        let max_open_connections = bounded(
            "max_open_connections",
            serve.max_open_connections.as_ref(),
            file.max_open_connections,
            4096,
            1_000_000,
        )?;
        // Behind a proxy every connection comes from the proxy's address: a per-address cap
        // would cap the proxy, so by default it is as high as the global one.
        let max_connections_per_address = bounded(
            "max_connections_per_address",
            serve.max_connections_per_address.as_ref(),
            file.max_connections_per_address,
            if behind_proxy {
                max_open_connections
            } else {
                64
            },
            1_000_000,
        )?;
        let connections = crate::server::Limits {
            header_read_timeout: Duration::from_secs(header_read_timeout.unsigned_abs()),
            keep_alive_timeout: Duration::from_secs(keep_alive_timeout.unsigned_abs()),
            max_open: usize::try_from(max_open_connections)?,
            max_per_address: usize::try_from(max_connections_per_address)?,
        };
        let two_step_roles = parse_roles(
            serve
                .two_step_roles
                .clone()
                .or(file.two_step_roles)
                .as_deref()
                .unwrap_or("none"),
        )?;
        let embeds = match serve.embed_hosts.clone().or(file.embed_hosts) {
            Some(list) => bantin_core::EmbedHosts::parse(&list)
                .map_err(|e| anyhow::anyhow!("{e} in {}", names("embed_hosts")))?,
            None => bantin_core::EmbedHosts::default(),
        };
        let allowed_hosts = match serve.allowed_hosts.clone().or(file.allowed_hosts) {
            Some(list) => parse_hosts(&list)?,
            None => defaults.allowed_hosts.clone(),
        };
        let public_url = serve.public_url.clone().or(file.public_url);
        if let Some(u) = &public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            bail!(
                "invalid value {u:?} for {}: expected https://… or http://…",
                names("public_url")
            );
        }
        // Served over HTTPS (as the public address says) means Secure cookies unless told otherwise.
        let secure_cookies = pick(
            "secure_cookies",
            serve.secure_cookies.as_ref(),
            file.secure_cookies,
            public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
        )?;
        let mailer = match serve.smtp_url.clone().or(file.smtp_url) {
            None => None,
            Some(url) => {
                let Some(public) = &public_url else {
                    bail!(
                        "{} is set but {} is not: reset links need the site's public address",
                        names("smtp_url"),
                        names("public_url")
                    );
                };
                let host = public
                    .split("://")
                    .nth(1)
                    .unwrap_or_default()
                    .split(['/', ':'])
                    .next()
                    .unwrap_or("localhost");
                let from = serve
                    .mail_from
                    .clone()
                    .or(file.mail_from)
                    .unwrap_or_else(|| format!("noreply@{host}"));
                Some(bantin_web::Mailer::new(&url, &from).map_err(|e| {
                    anyhow::anyhow!(
                        "{e}; check {} and {}",
                        names("smtp_url"),
                        names("mail_from")
                    )
                })?)
            }
        };
        let web = WebSettings {
            site_name: bantin_core::nfc(site_name.trim()),
            zone,
            language,
            media_dir: data.join("media"),
            per_page,
            related,
            rating_votes_per_address,
            trusted_proxy_hops,
            secure_cookies,
            hsts: public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            page_cache_bytes: if page_cache {
                page_cache_mib * 1024 * 1024
            } else {
                0
            },
            session_idle_timeout,
            session_absolute_timeout,
            session_warning,
            login_max_failures: usize::try_from(login_max_failures)?,
            login_failure_window,
            login_lock_seconds,
            login_attempts_per_minute: u32::try_from(login_attempts_per_minute)?,
            posts_per_minute: u32::try_from(posts_per_minute)?,
            totp_required_roles: two_step_roles,
            mailer,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            embeds,
            allowed_hosts,
            robots_txt: match serve.robots_txt.clone().or(file.robots_txt) {
                Some(text) if text.len() > 64 * 1024 => {
                    bail!("{} is longer than 64 KiB", names("robots_txt"))
                }
                Some(text) => text,
                None => defaults.robots_txt.clone(),
            },
            api_requests_per_minute: u32::try_from(api_requests_per_minute)?,
            api_body_limit: usize::try_from(api_body_limit_kib)? * 1024,
            webhooks_allow_private,
            media_fetch: bantin_app::RemoteFetch {
                policy: bantin_app::AddressPolicy {
                    allow_private: media_fetch_allow_private,
                    allow_addresses: media_fetch_allow_addresses,
                },
                ..bantin_app::RemoteFetch::default()
            },
            search: bantin_search::SearchSettings {
                dir: Some(data.join("search")),
                recency_weight: search_recency_weight,
                ..Default::default()
            },
            ..defaults
        };
        let media = {
            let max_mib = pick(
                "media_max_mib",
                serve.media_max_mib.as_ref(),
                file.media_max_mib,
                30,
            )?;
            let megapixels = pick(
                "media_max_megapixels",
                serve.media_max_megapixels.as_ref(),
                file.media_max_megapixels,
                50,
            )?;
            let keep_original = pick(
                "media_keep_original",
                serve.media_keep_original.as_ref(),
                file.media_keep_original,
                false,
            )?;
            let workers = pick(
                "media_workers",
                serve.media_workers.as_ref(),
                file.media_workers,
                2,
            )?;
            if !(1..=1024).contains(&max_mib) {
                bail!(
                    "invalid value {max_mib} for {}: expected 1 to 1024",
                    names("media_max_mib")
                );
            }
            if !(1..=200).contains(&megapixels) {
                bail!(
                    "invalid value {megapixels} for {}: expected 1 to 200",
                    names("media_max_megapixels")
                );
            }
            if !(1..=64).contains(&workers) {
                bail!(
                    "invalid value {workers} for {}: expected 1 to 64",
                    names("media_workers")
                );
            }
            let storage = serve
                .media_storage
                .clone()
                .or(file.media_storage)
                .unwrap_or_else(|| "local".to_owned());
            if storage != "local" && !storage.starts_with("s3://") {
                bail!(
                    "invalid value {storage:?} for {}: expected local or s3://BUCKET[/PREFIX]",
                    names("media_storage")
                );
            }
            MediaSettings {
                storage,
                intake: bantin_media::IntakeSettings {
                    max_bytes: max_mib * 1024 * 1024,
                    max_pixels: megapixels * 1_000_000,
                    // Decoded pixels (RGBA) of the largest picture allowed, and some room.
                    max_alloc: megapixels * 4_000_000 + 64 * 1024 * 1024,
                    keep_original,
                    ..Default::default()
                },
                workers,
            }
        };
        Ok(Self {
            media,
            data,
            database,
            max_connections,
            listen,
            demo,
            view_flush_seconds,
            web,
            connections,
        })
    }
}

fn read_file(data: &Path) -> Result<FileSettings> {
    let path = data.join("bantin.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_file(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSettings::default()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Reads the text of `bantin.toml` (named `path` in messages); an error quotes the offending
/// line, since type errors do not name the key themselves.
fn parse_file(text: &str, path: &Path) -> Result<FileSettings> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().to_owned();
        let at = e
            .span()
            .map(|s| {
                let before = text.get(..s.start).unwrap_or(text);
                let line_no = before.matches('\n').count() + 1;
                let line = text.lines().nth(line_no - 1).unwrap_or_default().trim();
                format!(" (line {line_no}: `{line}`)")
            })
            .unwrap_or_default();
        anyhow::anyhow!("{}{at}: {msg}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "listen",
        "database_url",
        "max_connections",
        "demo",
        "site_name",
        "timezone",
        "per_page",
        "behind_proxy",
        "trusted_proxy_hops",
        "page_cache_mib",
        "public_url",
        "embed_hosts",
        "allowed_hosts",
        "robots_txt",
        "session_idle_timeout",
        "two_step_roles",
        "smtp_url",
        "nonsense",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any text at all: an answer, never a panic.
        #[test]
        fn any_text_reads_or_is_refused(text in any::<String>()) {
            let _ = parse_file(&text, Path::new("bantin.toml"));
        }

        /// Lines of known keys with arbitrary values: a refusal names the line it is about.
        #[test]
        fn refusals_quote_a_line(
            lines in proptest::collection::vec(
                (proptest::sample::select(KEYS), "[ -~\u{80}-\u{2FF}\n\"\\[\\]=]{0,24}"),
                1..6,
            )
        ) {
            let text: String = lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            if let Err(e) = parse_file(&text, Path::new("bantin.toml")) {
                let e = e.to_string();
                prop_assert!(e.starts_with("bantin.toml"), "{e}");
            }
        }
    }

    fn data_with(toml: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bantin.toml"), toml).unwrap();
        dir
    }

    fn common(dir: &tempfile::TempDir) -> CommonArgs {
        CommonArgs {
            data: Some(dir.path().to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(&common(&dir), &ServeArgs::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(
            matches!(s.database, DatabaseTarget::SqliteFile(ref p) if p.ends_with("bantin.db"))
        );
        assert!(s.demo);
        assert_eq!(s.web.per_page, 20);
        assert_eq!(s.web.related, 10);
        assert_eq!(s.web.zone.name(), "Asia/Ho_Chi_Minh");
    }

    #[test]
    fn flags_override_file() {
        let dir = data_with("listen = \"127.0.0.1:9000\"\nper_page = 7\ndemo = false\n");
        let s = Settings::load(&common(&dir), &ServeArgs::default()).unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.web.per_page, 7);
        assert!(!s.demo);
        let serve = ServeArgs {
            listen: Some("127.0.0.1:9100".into()),
            per_page: Some("9".into()),
            ..Default::default()
        };
        let s = Settings::load(&common(&dir), &serve).unwrap();
        assert_eq!(s.listen.port(), 9100);
        assert_eq!(s.web.per_page, 9);
    }

    #[test]
    fn account_settings() {
        let dir = data_with(
            "session_idle_timeout = 600\nsession_warning = 30\ntwo_step_roles = \"administrator, editor-in-chief\"\n",
        );
        let s = Settings::load(&common(&dir), &ServeArgs::default()).unwrap();
        assert_eq!(
            (s.web.session_idle_timeout, s.web.session_warning),
            (600, 30)
        );
        assert_eq!(
            s.web.totp_required_roles,
            vec![
                bantin_core::account::Role::Administrator,
                bantin_core::account::Role::EditorInChief
            ]
        );
        let bad = |serve: ServeArgs| {
            Settings::load(&common(&dir), &serve)
                .unwrap_err()
                .to_string()
        };
        let err = bad(ServeArgs {
            session_warning: Some("600".into()),
            ..Default::default()
        });
        assert!(
            err.contains("BANTIN_SESSION_WARNING") && err.contains("shorter"),
            "{err}"
        );
        let err = bad(ServeArgs {
            two_step_roles: Some("root".into()),
            ..Default::default()
        });
        assert!(
            err.contains("\"root\"") && err.contains("BANTIN_TWO_STEP_ROLES"),
            "{err}"
        );
        let err = bad(ServeArgs {
            smtp_url: Some("smtp://127.0.0.1:25".into()),
            ..Default::default()
        });
        assert!(err.contains("BANTIN_PUBLIC_URL"), "{err}");
        let err = bad(ServeArgs {
            smtp_url: Some("ftp://x".into()),
            public_url: Some("https://cong.example.vn".into()),
            ..Default::default()
        });
        assert!(err.contains("BANTIN_SMTP_URL"), "{err}");
        let err = bad(ServeArgs {
            embed_hosts: Some("https://www.youtube.com".into()),
            ..Default::default()
        });
        assert!(err.contains("BANTIN_EMBED_HOSTS"), "{err}");
        let vimeo = Settings::load(
            &common(&dir),
            &ServeArgs {
                embed_hosts: Some("https://player.vimeo.com/video/".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(vimeo.web.embeds.origins(), ["https://player.vimeo.com"]);
        let ok = Settings::load(
            &common(&dir),
            &ServeArgs {
                smtp_url: Some("smtp://127.0.0.1:25".into()),
                public_url: Some("https://cong.example.vn/".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(ok.web.mailer.is_some());
        assert_eq!(
            ok.web.public_url.as_deref(),
            Some("https://cong.example.vn")
        );
        assert!(
            ok.web.secure_cookies,
            "an https public address implies Secure cookies"
        );
    }

    #[test]
    fn connection_settings() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(&common(&dir), &ServeArgs::default()).unwrap();
        let c = &s.connections;
        assert_eq!(c.header_read_timeout.as_secs(), 10);
        assert_eq!(c.keep_alive_timeout.as_secs(), 30);
        assert_eq!((c.max_open, c.max_per_address), (4096, 64));

        // Behind a proxy every connection has the proxy's address: no per-address cap by default.
        let dir = data_with("behind_proxy = true\nmax_open_connections = 500\n");
        let s = Settings::load(&common(&dir), &ServeArgs::default()).unwrap();
        assert_eq!(s.connections.max_per_address, 500);
        let serve = ServeArgs {
            header_read_timeout: Some("2".into()),
            keep_alive_timeout: Some("5".into()),
            max_connections_per_address: Some("8".into()),
            ..Default::default()
        };
        let s = Settings::load(&common(&dir), &serve).unwrap();
        let c = &s.connections;
        assert_eq!(c.header_read_timeout.as_secs(), 2);
        assert_eq!(c.keep_alive_timeout.as_secs(), 5);
        assert_eq!(c.max_per_address, 8);

        for (serve, name) in [
            (
                ServeArgs {
                    header_read_timeout: Some("0".into()),
                    ..Default::default()
                },
                "BANTIN_HEADER_READ_TIMEOUT",
            ),
            (
                ServeArgs {
                    keep_alive_timeout: Some("soon".into()),
                    ..Default::default()
                },
                "BANTIN_KEEP_ALIVE_TIMEOUT",
            ),
            (
                ServeArgs {
                    max_open_connections: Some("-1".into()),
                    ..Default::default()
                },
                "BANTIN_MAX_OPEN_CONNECTIONS",
            ),
            (
                ServeArgs {
                    max_connections_per_address: Some("0".into()),
                    ..Default::default()
                },
                "BANTIN_MAX_CONNECTIONS_PER_ADDRESS",
            ),
        ] {
            let err = format!("{:#}", Settings::load(&common(&dir), &serve).unwrap_err());
            assert!(err.contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = data_with("listen = \"127.0.0.1:9000\"\nper_pgae = 7\n");
        let err = Settings::load(&common(&dir), &ServeArgs::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("per_pgae"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<(ServeArgs, &str)> = vec![
            (
                ServeArgs {
                    listen: Some("nowhere".into()),
                    ..Default::default()
                },
                "BANTIN_LISTEN",
            ),
            (
                ServeArgs {
                    per_page: Some("abc".into()),
                    ..Default::default()
                },
                "BANTIN_PER_PAGE",
            ),
            (
                ServeArgs {
                    per_page: Some("0".into()),
                    ..Default::default()
                },
                "BANTIN_PER_PAGE",
            ),
            (
                ServeArgs {
                    timezone: Some("Mars/Base".into()),
                    ..Default::default()
                },
                "BANTIN_TIMEZONE",
            ),
            (
                ServeArgs {
                    language: Some("fr".into()),
                    ..Default::default()
                },
                "BANTIN_LANGUAGE",
            ),
            (
                ServeArgs {
                    behind_proxy: Some("maybe".into()),
                    ..Default::default()
                },
                "BANTIN_BEHIND_PROXY",
            ),
        ];
        for (serve, name) in cases {
            let err = format!("{:#}", Settings::load(&common(&dir), &serve).unwrap_err());
            assert!(err.contains(name), "{name}: {err}");
        }
        let dir = data_with("per_page = \"many\"\n");
        let err = format!(
            "{:#}",
            Settings::load(&common(&dir), &ServeArgs::default()).unwrap_err()
        );
        assert!(err.contains("per_page"), "{err}");
    }
}
