//! The `bantin` binary: command line, settings, start-up, serving and shutdown.

mod config;
mod memory;
mod server;
mod synth;
mod tokens;
mod users;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use bantin_app::{App, Policy, Scheduler};
use bantin_core::Clock;
use bantin_store::Store;
use bantin_web::{AppState, WebSettings};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{CommonArgs, DatabaseTarget, ServeArgs, Settings};

/// bantin: a news portal for Vietnamese organisations.
#[derive(Parser, Debug)]
#[command(name = "bantin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the portal (migrates, and loads demo content into a new database).
    Serve {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Manage newsroom accounts.
    User {
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        command: tokens::TokenCommand,
    },
    /// Add realistic synthetic published articles (varied Vietnamese text over ten years, all
    /// categories, tags, document numbers): for trying the site at scale and for benchmarks.
    #[command(alias = "synth")]
    Demo {
        #[command(flatten)]
        common: CommonArgs,
        /// How many articles to add.
        #[arg(long, default_value_t = 10_000)]
        articles: u32,
        /// Seed of the generator (the same seed makes the same articles).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Rebuild the search index from the database (stop the server using this data folder
    /// first; a running server rebuilds a missing or unreadable index by itself).
    Reindex {
        #[command(flatten)]
        common: CommonArgs,
    },
}

fn main() -> ExitCode {
    memory::tune();
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { common, serve } => serve_command(&common, &serve).await,
            Command::Migrate { common } => migrate_command(&common).await,
            Command::Demo {
                common,
                articles,
                seed,
            } => synth::run(&common, articles, seed).await,
            Command::Reindex { common } => reindex_command(&common).await,
            Command::User { common, command } => users::run(&common, command).await,
            Command::Token { common, command } => tokens::run(&common, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes, joined.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = EnvFilter::try_from_env("BANTIN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let json = std::env::var("BANTIN_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Explains a database failure at start-up in one line, naming the setting to change.
fn describe_db_error(err: &bantin_store::StoreError, target: &DatabaseTarget) -> String {
    let (what, setting) = match target {
        DatabaseTarget::SqliteFile(p) => (
            format!("the SQLite database {}", p.display()),
            "--data / BANTIN_DATA",
        ),
        DatabaseTarget::Url(_) => (
            "the database at --database-url".to_owned(),
            "--database-url / BANTIN_DATABASE_URL",
        ),
    };
    // The whole chain: the store's error names the kind, its source says what happened.
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    let lower = text.to_lowercase();
    let problem =
        if lower.contains("readonly") || lower.contains("read-only") || lower.contains("read only")
        {
            "is read-only (check the file's and folder's permissions)"
        } else if lower.contains("database is locked") || lower.contains("busy") {
            "is locked by another process (is another bantin running on it?)"
        } else if lower.contains("unable to open") || lower.contains("no such file") {
            "cannot be opened (missing folder or no permission)"
        } else if lower.contains("connection refused")
            || lower.contains("error communicating")
            || lower.contains("timed out")
        {
            "is unreachable"
        } else if lower.contains("does not exist") {
            "does not exist"
        } else if lower.contains("password authentication") {
            "rejected the credentials"
        } else {
            "failed"
        };
    format!("{what} {problem}: {text}; change {setting}")
}

pub(crate) async fn open_store(settings: &Settings) -> Result<Store> {
    let target = &settings.database;
    let store = match target {
        DatabaseTarget::SqliteFile(path) => {
            std::fs::create_dir_all(&settings.data).with_context(|| {
                format!(
                    "cannot create the data folder {}; change --data / BANTIN_DATA",
                    settings.data.display()
                )
            })?;
            Store::open_sqlite(path, settings.max_connections).await
        }
        DatabaseTarget::Url(url) => Store::connect(url, settings.max_connections).await,
    }
    .map_err(|e| anyhow::anyhow!(describe_db_error(&e, target)))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!(describe_db_error(&e, target)))?;
    Ok(store)
}

async fn reindex_command(common: &CommonArgs) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = open_store(&settings).await?;
    let search = bantin_search::Search::open(store.clone(), settings.web.search.clone())?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} articles, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let n = search
        .rebuild(&|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    store.close().await;
    println!(
        "indexed {n} articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn migrate_command(common: &CommonArgs) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = open_store(&settings).await?;
    store.close().await;
    println!("migrations applied");
    Ok(())
}

/// The services' rules, from the settings.
pub(crate) fn policy(web: &WebSettings) -> Policy {
    Policy {
        login_max_failures: web.login_max_failures,
        login_failure_window: web.login_failure_window,
        login_lock_seconds: web.login_lock_seconds,
        session_idle_timeout: web.session_idle_timeout,
        session_absolute_timeout: web.session_absolute_timeout,
        rating_votes_per_address: web.rating_votes_per_address,
        rating_window: web.rating_address_window,
        ..Policy::default()
    }
}

/// The media library the settings describe.
fn media_library(settings: &Settings) -> Result<bantin_media::Media> {
    let m = &settings.media;
    let storage: std::sync::Arc<dyn bantin_media::Storage> = if m.storage == "local" {
        std::sync::Arc::new(bantin_media::LocalFolder::new(
            settings.web.media_dir.join("lib"),
        ))
    } else {
        s3_storage(&m.storage)?
    };
    Ok(bantin_media::Media::new(
        storage,
        m.intake.clone(),
        m.workers,
    ))
}

#[cfg(feature = "s3")]
fn s3_storage(url: &str) -> Result<std::sync::Arc<dyn bantin_media::Storage>> {
    let rest = url.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.trim_end_matches('/'))
    };
    Ok(std::sync::Arc::new(bantin_media::ObjectStorage::s3(
        bucket, &prefix,
    )?))
}

#[cfg(not(feature = "s3"))]
fn s3_storage(url: &str) -> Result<std::sync::Arc<dyn bantin_media::Storage>> {
    anyhow::bail!(
        "media_storage = {url:?} needs a build with S3 support: cargo build --release --features s3"
    )
}

/// Sets up a new installation: the signing secret, then the demo content if wanted. Runs once;
/// an existing database is left as it is.
async fn first_run(app: &App, settings: &Settings) -> Result<Vec<u8>> {
    let store = app.store();
    let mut fresh = [0u8; 64];
    getrandom::fill(&mut fresh).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let secret_hex = store
        .meta_get_or_insert("secret", &hex::encode(fresh))
        .await
        .map_err(|e| anyhow::anyhow!(describe_db_error(&e, &settings.database)))?;
    let secret = hex_decode(&secret_hex)
        .context("the stored secret is corrupt (meta table, key `secret`)")?;
    users::ensure_admin(app).await?;
    if store.meta_get("initialized").await?.is_none() {
        if settings.demo {
            let loaded = app.load_demo().await?;
            tracing::info!(
                categories = loaded.categories,
                articles = loaded.articles,
                "demo content loaded"
            );
        }
        store
            .meta_get_or_insert("initialized", &jiff::Timestamp::now().to_string())
            .await?;
    }
    Ok(secret)
}

/// Runs `work` every `every` until the task is aborted, logging failures (`what` names it).
fn every<F, Fut>(every: Duration, what: &'static str, work: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = work().await {
                tracing::warn!(error = %e, "{what} failed; will retry");
            }
        }
    })
}

/// How long change-feed rows are kept: every process reads them within seconds; a process
/// away for longer resets its caches.
const CHANGES_KEPT: i64 = 7 * 86_400;

async fn serve_command(common: &CommonArgs, serve: &ServeArgs) -> Result<()> {
    let settings = Settings::load(common, serve)?;
    let store = open_store(&settings).await?;
    let app = App::new(store.clone(), Clock::system(), policy(&settings.web))
        .with_media(media_library(&settings)?);
    let secret = first_run(&app, &settings).await?;
    let state = AppState::new(app.clone(), settings.web.clone(), &secret).await?;
    memory::trim_every(Duration::from_secs(2));

    // PostgreSQL wakes followers with NOTIFY, so its poll is only the fallback; other
    // processes on one SQLite file are seen by polling alone (an indexed read that finds
    // nothing, a few times a second).
    let poll = match store.backend() {
        bantin_store::Backend::Postgres => Duration::from_secs(1),
        bantin_store::Backend::Sqlite => Duration::from_millis(200),
    };
    let follower = tokio::spawn(state.follower().clone().run(poll));
    // Webhook events are read from the change feed and delivered by whichever process claims
    // each delivery first.
    let webhooks = tokio::spawn(state.webhooks().clone().run(Duration::from_secs(5)));
    // Builds a missing index (search answers from the database meanwhile), then follows.
    let search = tokio::spawn(state.search().clone().run());
    // Publish and expiry times arrive on the change feed at their second, with no visitor.
    let scheduler = tokio::spawn(Scheduler::new(app.clone()).run(Duration::from_secs(1)));
    let flusher = {
        let state = state.clone();
        every(
            Duration::from_secs(settings.view_flush_seconds),
            "writing view counts",
            move || {
                let state = state.clone();
                async move {
                    state
                        .views()
                        .flush(state.store())
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            },
        )
    };
    // Expired sessions are refused when used; this only keeps the tables small.
    let sweeper = {
        let app = app.clone();
        every(
            Duration::from_secs(600),
            "sweeping sessions, old feed rows and the trash",
            move || {
                let app = app.clone();
                async move {
                    let now = app.now();
                    let p = app.policy();
                    app.store()
                        .sweep_sessions(
                            now.minus(p.session_idle_timeout),
                            now.minus(p.session_absolute_timeout),
                            now.minus(86_400),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    app.store()
                        .prune_changes(now.minus(CHANGES_KEPT))
                        .await
                        .map_err(|e| e.to_string())?;
                    app.purge_trash(bantin_core::workflow::TRASH_KEPT_DAYS)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(())
                }
            },
        )
    };

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; change --listen / BANTIN_LISTEN",
                settings.listen
            )
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?store.backend(), "bantin is serving");
    println!("bantin: http://{addr}/");
    let app_router = bantin_web::router(state.clone());
    server::serve(
        listener,
        app_router,
        &settings.connections,
        shutdown_signal(),
    )
    .await;

    for task in [follower, webhooks, search, scheduler, flusher, sweeper] {
        task.abort();
    }
    match state.views().flush(state.store()).await {
        Ok(n) => tracing::info!(views = n, "view counts written"),
        Err(e) => tracing::error!(error = %e, "writing view counts at shutdown failed"),
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn hex_decode(s: &str) -> Result<Vec<u8>> {
    let v = hex::decode(s)?;
    anyhow::ensure!(v.len() >= 64, "secret too short");
    Ok(v)
}
