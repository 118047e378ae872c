//! `bantin user add|passwd|disable|list`, and the `admin` account of a new installation.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use bantin_app::{Actor, App, AppError, NewAccount, ProfileChange};
use bantin_core::Clock;
use bantin_core::account::{DisplayName, Email, NewPassword, Role, Username};
use clap::Subcommand;

use crate::config::{CommonArgs, ServeArgs, Settings};

/// Account commands.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is read from BANTIN_USER_PASSWORD, else from standard input.
    Add {
        /// Sign-in name.
        username: String,
        /// administrator, editor-in-chief or editor.
        #[arg(long, default_value = "editor")]
        role: String,
        /// Name shown to others.
        #[arg(long, default_value = "")]
        display_name: String,
        /// Address for password resets.
        #[arg(long, default_value = "")]
        email: String,
    },
    /// Set a new password (BANTIN_USER_PASSWORD, else standard input).
    Passwd {
        /// Sign-in name.
        username: String,
    },
    /// Disable an account: it can no longer sign in.
    Disable {
        /// Sign-in name.
        username: String,
    },
    /// List accounts.
    List,
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("BANTIN_USER_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Mật khẩu mới (ít nhất 10 ký tự): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs an account command.
pub async fn run(common: &CommonArgs, command: UserCommand) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = crate::open_store(&settings).await?;
    let app = App::new(store.clone(), Clock::system(), crate::policy(&settings.web));
    let result = run_on(&app, command).await;
    store.close().await;
    result
}

/// The account named `username`, or a clear error.
async fn account_id(app: &App, username: &Username) -> Result<bantin_core::UserId> {
    match app.store().user_by_username(username).await? {
        Some(u) => Ok(u.id),
        None => bail!("no account named {username}"),
    }
}

async fn run_on(app: &App, command: UserCommand) -> Result<()> {
    let actor = Actor::cli();
    match command {
        UserCommand::Add {
            username,
            role,
            display_name,
            email,
        } => {
            let username = Username::parse(&username)?;
            let role: Role = role.parse()?;
            let profile = ProfileChange {
                display_name: DisplayName::parse(&display_name)?,
                email: Email::parse(&email)?,
                role,
                all_categories: true,
                categories: Vec::new(),
            };
            let password = NewPassword::parse(&read_password()?)?;
            let account = NewAccount {
                username: username.clone(),
                password,
                profile,
            };
            match app.create_account(&actor, account).await {
                Ok(_) => println!("created {username} ({})", role.as_str()),
                Err(AppError::UsernameTaken) => bail!("the username {username} is taken"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::Passwd { username } => {
            let username = Username::parse(&username)?;
            let id = account_id(app, &username).await?;
            let password = NewPassword::parse(&read_password()?)?;
            app.set_password(&actor, id, password).await?;
            println!("password of {username} changed");
        }
        UserCommand::Disable { username } => {
            let username = Username::parse(&username)?;
            let id = account_id(app, &username).await?;
            match app.set_active(&actor, id, false).await {
                Ok(()) => println!("{username} disabled"),
                Err(AppError::LastAdministrator) => {
                    bail!("{username} is the last active administrator and cannot be disabled")
                }
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => {
            for u in app.store().users().await? {
                let state = if u.active { "active" } else { "disabled" };
                println!(
                    "{}\t{}\t{}\t{}",
                    u.username,
                    u.role().as_str(),
                    state,
                    u.display_name
                );
            }
        }
    }
    Ok(())
}

/// Creates the `admin` account of a new installation (one without any account), with the
/// password from BANTIN_ADMIN_PASSWORD or a random one printed once to standard output. The
/// password is never logged or stored in clear.
pub async fn ensure_admin(app: &App) -> Result<()> {
    if !app.store().users().await?.is_empty() {
        if std::env::var_os("BANTIN_ADMIN_PASSWORD").is_some() {
            // Said on standard output, where the newcomer is looking.
            println!(
                "bantin: BANTIN_ADMIN_PASSWORD bỏ qua vì đã có tài khoản; đổi mật khẩu bằng `bantin user passwd admin` (BANTIN_ADMIN_PASSWORD is ignored: accounts exist)"
            );
        }
        return Ok(());
    }
    let (password, generated) = match std::env::var("BANTIN_ADMIN_PASSWORD") {
        Ok(p) => (
            NewPassword::parse(&p).map_err(|e| anyhow::anyhow!("BANTIN_ADMIN_PASSWORD: {e}"))?,
            None,
        ),
        Err(_) => {
            let random = random_password()?;
            (NewPassword::parse(&random)?, Some(random))
        }
    };
    // Another process may have created it first; then the password printed would be wrong.
    if app.ensure_first_admin(password).await?
        && let Some(p) = generated
    {
        println!(
            "bantin: tài khoản quản trị \"admin\", mật khẩu: {p} (chỉ hiện một lần; đổi bằng `bantin user passwd admin`)"
        );
    }
    Ok(())
}

/// Twenty characters from an alphabet without look-alikes (≈ 114 bits).
fn random_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    // 256 is not a multiple of 57; the slight bias costs well under a bit.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}
