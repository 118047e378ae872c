//! `bantin token create|revoke|list`: API tokens from the command line (scripts, CI), the same
//! service as the admin's tokens page.

use anyhow::{Result, bail};
use bantin_app::{Actor, App, TokenName};
use bantin_core::Clock;
use bantin_core::account::Username;
use clap::Subcommand;

use crate::config::{CommonArgs, ServeArgs, Settings};

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for an account and print it (shown only this once).
    Create {
        /// The account's sign-in name.
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The token may only read.
        #[arg(long)]
        read_only: bool,
        /// Days until it expires (default: never).
        #[arg(long, value_name = "DAYS")]
        days: Option<u32>,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id (from `bantin token list`).
        id: i64,
    },
    /// List an account's tokens.
    List {
        /// The account's sign-in name.
        username: String,
    },
}

/// Runs a token command.
pub async fn run(common: &CommonArgs, command: TokenCommand) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = crate::open_store(&settings).await?;
    let app = App::new(store.clone(), Clock::system(), crate::policy(&settings.web));
    let result = run_on(&app, command).await;
    store.close().await;
    result
}

async fn user_id(app: &App, name: &str) -> Result<bantin_core::UserId> {
    let username = Username::parse(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    match app.store().user_by_username(&username).await? {
        Some(u) => Ok(u.id),
        None => bail!("no account named {username}"),
    }
}

async fn run_on(app: &App, command: TokenCommand) -> Result<()> {
    let actor = Actor::cli();
    match command {
        TokenCommand::Create {
            username,
            name,
            read_only,
            days,
        } => {
            let id = user_id(app, &username).await?;
            let Some(name) = TokenName::parse(&name) else {
                bail!("a token name is 1 to 100 characters");
            };
            let expires = days.map(|d| app.now().plus(i64::from(d) * 86_400));
            let created = app
                .create_api_token(&actor, id, &name, read_only, expires)
                .await?;
            println!("{}", created.token);
        }
        TokenCommand::Revoke { id } => app.revoke_api_token(&actor, id, None).await?,
        TokenCommand::List { username } => {
            let id = user_id(app, &username).await?;
            let now = app.now();
            for t in app.store().user_api_tokens(id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.usable(now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    if t.read_only {
                        "read-only"
                    } else {
                        "read-write"
                    },
                    state
                );
            }
        }
    }
    Ok(())
}
