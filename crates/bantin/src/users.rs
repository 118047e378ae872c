//! `bantin user add|passwd|disable|list`, and the `admin` account of a new installation.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use bantin_core::account::{NewPassword, Role, Username};
use bantin_store::{NewUser, Store, StoreError};
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

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
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

/// Hashes off the async executor: Argon2 is slow on purpose.
async fn hash(password: NewPassword) -> Result<String> {
    Ok(tokio::task::spawn_blocking(move || password.hash()).await?)
}

/// Runs an account command.
pub async fn run(common: &CommonArgs, command: UserCommand) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = crate::open_store(&settings).await?;
    let result = run_on(&store, command).await;
    store.close().await;
    result
}

async fn run_on(store: &Store, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            username,
            role,
            display_name,
            email,
        } => {
            let username = Username::parse(&username)?;
            let role: Role = role.parse()?;
            let password = NewPassword::parse(&read_password()?)?;
            let password_hash = hash(password).await?;
            let new = NewUser {
                username: &username,
                display_name: &display_name,
                email: &email,
                password_hash: &password_hash,
                role,
            };
            match store.insert_user(&new, now()).await {
                Ok(_) => println!("created {username} ({})", role.as_str()),
                Err(StoreError::Conflict) => bail!("the username {username} is taken"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::Passwd { username } => {
            let username = Username::parse(&username)?;
            let password = NewPassword::parse(&read_password()?)?;
            let password_hash = hash(password).await?;
            if !store
                .set_user_password(&username, &password_hash, now())
                .await?
            {
                bail!("no account named {username}");
            }
            println!("password of {username} changed");
        }
        UserCommand::Disable { username } => {
            let username = Username::parse(&username)?;
            if !store.set_user_active(&username, false, now()).await? {
                bail!("no account named {username}");
            }
            println!("{username} disabled");
        }
        UserCommand::List => {
            for u in store.users().await? {
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
pub async fn ensure_admin(store: &Store) -> Result<()> {
    if !store.users().await?.is_empty() {
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
    let password_hash = hash(password).await?;
    let username = Username::parse("admin")?;
    let new = NewUser {
        username: &username,
        display_name: "Quản trị viên",
        email: "",
        password_hash: &password_hash,
        role: Role::Administrator,
    };
    match store.insert_user(&new, now()).await {
        // Another node created it first.
        Ok(_) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(p) = generated {
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
