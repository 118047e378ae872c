//! The `bantin` binary: command line, settings, start-up, serving and shutdown.

mod config;
mod server;
mod synth;
mod users;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use bantin_store::Store;
use bantin_web::AppState;
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
    /// Add synthetic published articles for load tests (bench/run.sh uses it).
    #[command(hide = true)]
    Synth {
        #[command(flatten)]
        common: CommonArgs,
        /// How many articles to add.
        #[arg(long, default_value_t = 10_000)]
        articles: u32,
    },
}

fn main() -> ExitCode {
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
            Command::Synth { common, articles } => synth::run(&common, articles).await,
            Command::User { common, command } => users::run(&common, command).await,
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
    let text = err.to_string();
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

async fn migrate_command(common: &CommonArgs) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = open_store(&settings).await?;
    store.close().await;
    println!("migrations applied");
    Ok(())
}

/// Sets up a new installation: the signing secret, then the demo content if wanted. Runs once;
/// an existing database is left as it is.
async fn first_run(store: &Store, settings: &Settings) -> Result<Vec<u8>> {
    let mut fresh = [0u8; 64];
    getrandom::fill(&mut fresh).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let secret_hex = store
        .meta_get_or_insert("secret", &hex::encode(fresh))
        .await
        .map_err(|e| anyhow::anyhow!(describe_db_error(&e, &settings.database)))?;
    let secret = hex_decode(&secret_hex)
        .context("the stored secret is corrupt (meta table, key `secret`)")?;
    users::ensure_admin(store).await?;
    if store.meta_get("initialized").await?.is_none() {
        if settings.demo {
            let media = &settings.web.media_dir;
            for (path, bytes) in bantin_store::demo::media_files() {
                let dest = media.join(path);
                if let Some(dir) = dest.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                std::fs::write(&dest, bytes)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
            }
            let loaded = store.load_demo(jiff::Timestamp::now().as_second()).await?;
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

async fn serve_command(common: &CommonArgs, serve: &ServeArgs) -> Result<()> {
    let settings = Settings::load(common, serve)?;
    let store = open_store(&settings).await?;
    let secret = first_run(&store, &settings).await?;
    let state = AppState::new(store.clone(), settings.web.clone(), &secret);

    let flusher = {
        let state = state.clone();
        let every = Duration::from_secs(settings.view_flush_seconds);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.views().flush(state.store()).await {
                    tracing::warn!(error = %e, "writing view counts failed; will retry");
                }
            }
        })
    };

    // Expired sessions are refused when used; this only keeps the table small.
    let sweeper = {
        let store = store.clone();
        let web = settings.web.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                let now = jiff::Timestamp::now().as_second();
                let res = store
                    .delete_expired_sessions(
                        now - web.session_idle_timeout,
                        now - web.session_absolute_timeout,
                    )
                    .await;
                if let Err(e) = res {
                    tracing::warn!(error = %e, "deleting expired sessions failed; will retry");
                }
            }
        })
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
    let app = bantin_web::router(state.clone());
    server::serve(listener, app, &settings.connections, shutdown_signal()).await;

    flusher.abort();
    sweeper.abort();
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
