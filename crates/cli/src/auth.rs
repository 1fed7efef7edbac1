//! `salesdesk auth`: sign up, sign in, sign out, complete an email (confirmation or password
//! reset), request a password reset, and show the team account on this machine.
//!
//! The session goes to the OS keyring, as in the desktop app (they share it). The password is
//! read from standard input (`--password-stdin`) or from `SALESDESK_PASSWORD`, never from an
//! argument: arguments are visible to every user of the machine (`ps`) and land in shell
//! history. Nothing printed ever contains a token.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use salesdesk_core::ai::SystemClock;
use salesdesk_core::auth::{AuthClient, AuthError, SessionManager, SessionStore, SignOutScope};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::{TeamSetup, VerifyInput, VerifyKind};
use salesdesk_core::{CoreError, DataPaths, Salesdesk};
use serde_json::json;

use crate::output::{print_json, print_line};
use crate::{CliResult, Failure};

/// The variable a script can put the password in instead of piping it.
pub const PASSWORD_ENV: &str = "SALESDESK_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Create a team account (a confirmation email may have to be opened before signing in).
    Signup(Credentials),
    /// Sign in with email and password; the session is saved in the OS keyring.
    Signin(Credentials),
    /// Sign out of this machine (or every device with `--scope global`).
    Signout {
        #[command(flatten)]
        project: Project,
        #[arg(long, value_enum, default_value = "local")]
        scope: Scope,
        #[arg(long)]
        json: bool,
    },
    /// Show who is signed in on this machine (no network needed).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Complete a confirmation or password-reset email with its code (and --email) or its
    /// link; signs in. Uses SUPABASE_URL/SUPABASE_ANON_KEY or the team saved in the app.
    Verify {
        /// The 6-digit code or the whole link from the email; read from standard input (one
        /// line) when left out, so it need not land in the shell history.
        #[arg(value_name = "CODE_OR_LINK")]
        token: Option<String>,
        /// The address the code was sent to (needed with a code, not with a link).
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
        /// Which email it is: `signup` (confirm the address) or `recovery` (password reset).
        #[arg(long, value_enum, default_value = "signup")]
        kind: EmailKind,
        #[arg(long)]
        json: bool,
    },
    /// Send a password-reset email (then run `salesdesk auth verify --kind recovery`). Uses
    /// SUPABASE_URL/SUPABASE_ANON_KEY or the team saved in the app.
    Reset {
        #[arg(value_name = "EMAIL")]
        email: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EmailKind {
    Signup,
    Recovery,
    Email,
}

/// The team project. Flags and environment variables win; without them, the project saved in
/// the desktop app's Settings → Team (same data directory) is used.
#[derive(Debug, Args)]
pub struct Project {
    /// The Supabase project URL (https://PROJECT.supabase.co).
    #[arg(long, env = "SUPABASE_URL", value_name = "URL")]
    supabase_url: Option<String>,
    /// The project's anon (publishable) key.
    #[arg(
        long,
        env = "SUPABASE_ANON_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    anon_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct Credentials {
    #[command(flatten)]
    project: Project,
    #[arg(long, value_name = "EMAIL")]
    email: String,
    /// Read the password from standard input (one line). Otherwise SALESDESK_PASSWORD is used.
    #[arg(long)]
    password_stdin: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scope {
    Local,
    Global,
    Others,
}

fn failure(e: AuthError) -> Failure {
    Failure::from(CoreError::from(e))
}

pub(crate) async fn client(project: &Project, paths: &DataPaths) -> Result<AuthClient, Failure> {
    let (url, key) = match (&project.supabase_url, &project.anon_key) {
        (Some(url), Some(key)) => (url.clone(), key.clone()),
        (None, None) => {
            let core = Salesdesk::open(paths.clone()).await?;
            let saved = core.team().project(core.store()).await;
            core.close().await;
            match saved? {
                (Some(url), Some(key)) => (url, key),
                _ => return Err(CoreError::TeamNotConfigured.into()),
            }
        }
        _ => {
            return Err(Failure::user(
                "give both the project URL and the anon key (SUPABASE_URL and \
                 SUPABASE_ANON_KEY), or neither to use the team saved in the app's settings"
                    .into(),
            ));
        }
    };
    AuthClient::new(
        &url,
        SecretString::new(key),
        Arc::new(SystemClock::default()),
    )
    .map_err(failure)
}

fn read_password(from_stdin: bool) -> Result<SecretString, Failure> {
    let password = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::user(format!("cannot read the password from stdin: {e}")))?;
        let line = text.lines().next().unwrap_or("").to_owned();
        SecretString::new(line)
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(v) => SecretString::new(v),
            Err(_) => {
                return Err(Failure::user(format!(
                    "no password given: pipe it with --password-stdin or set {PASSWORD_ENV}"
                )));
            }
        }
    };
    if password.expose().is_empty() {
        return Err(Failure::user("the password is empty".into()));
    }
    Ok(password)
}

/// The code or link from the argument, else the first line of standard input.
fn read_token(given: Option<String>) -> Result<String, Failure> {
    if let Some(t) = given {
        return Ok(t);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::user(format!("cannot read the code from stdin: {e}")))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

async fn verify(
    paths: DataPaths,
    token: Option<String>,
    email: Option<String>,
    kind: EmailKind,
    json: bool,
) -> CliResult {
    let input = VerifyInput {
        kind: match kind {
            EmailKind::Signup => VerifyKind::Signup,
            EmailKind::Recovery => VerifyKind::Recovery,
            EmailKind::Email => VerifyKind::Email,
        },
        email,
        token: read_token(token)?,
    };
    let core = Salesdesk::open(paths).await?.with_team(TeamSetup::cli());
    let status = core.team().verify(core.store(), input).await;
    core.close().await;
    let status = status?;
    if json {
        print_json(&status)?;
    } else {
        print_line(&format!(
            "Verified; signed in as {}.",
            status
                .email
                .as_deref()
                .or(status.user_id.as_deref())
                .unwrap_or("your account")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn reset(paths: DataPaths, email: String, json: bool) -> CliResult {
    let core = Salesdesk::open(paths).await?.with_team(TeamSetup::cli());
    let sent = core
        .team()
        .request_password_reset(core.store(), &email)
        .await;
    core.close().await;
    sent?;
    if json {
        print_json(&json!({"requested": true}))?;
    } else {
        // Supabase answers alike whether or not the address has an account: so does this.
        print_line(&format!(
            "If {} has an account, a password-reset email is on its way. Complete it with \
             `salesdesk auth verify --kind recovery --email {0} CODE` (or paste its link).",
            email.trim()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(command: AuthCommand, paths: DataPaths) -> CliResult {
    match command {
        AuthCommand::Verify {
            token,
            email,
            kind,
            json,
        } => verify(paths, token, email, kind, json).await,
        AuthCommand::Reset { email, json } => reset(paths, email, json).await,
        AuthCommand::Signup(c) => {
            let password = read_password(c.password_stdin)?;
            let manager =
                SessionManager::new(client(&c.project, &paths).await?, SessionStore::keyring());
            // With confirmation on, nothing touches the keyring; with it off, the sign-up's
            // own session is the one saved.
            match manager
                .sign_up(&c.email, &password)
                .await
                .map_err(failure)?
            {
                None => {
                    if c.json {
                        print_json(&json!({"signed_in": false, "confirmation_sent": true}))?;
                    } else {
                        print_line(&format!(
                            "Account created. Open the confirmation email sent to {}, then run \
                             `salesdesk auth signin`.",
                            c.email.trim()
                        ))?;
                    }
                }
                Some(user) => {
                    if c.json {
                        print_json(&json!({"signed_in": true, "user": user}))?;
                    } else {
                        print_line(&format!(
                            "Account created; signed in as {}.",
                            c.email.trim()
                        ))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Signin(c) => {
            let password = read_password(c.password_stdin)?;
            let manager =
                SessionManager::new(client(&c.project, &paths).await?, SessionStore::keyring());
            let user = manager
                .sign_in_password(&c.email, &password)
                .await
                .map_err(failure)?;
            if c.json {
                print_json(&json!({"signed_in": true, "user": user}))?;
            } else {
                print_line(&format!(
                    "Signed in as {}.",
                    user.email.as_deref().unwrap_or(&user.id)
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Signout {
            project,
            scope,
            json,
        } => {
            let manager =
                SessionManager::new(client(&project, &paths).await?, SessionStore::keyring());
            let scope = match scope {
                Scope::Local => SignOutScope::Local,
                Scope::Global => SignOutScope::Global,
                Scope::Others => SignOutScope::Others,
            };
            let report = manager.sign_out(scope).await.map_err(failure)?;
            if json {
                print_json(&report)?;
            } else if report.server_confirmed {
                print_line("Signed out.")?;
            } else {
                print_line(
                    "Signed out on this machine. The server could not be told (offline or no \
                     session); the session ends by itself when it expires.",
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Status { json } => {
            let session = SessionStore::keyring().load().await.map_err(failure)?;
            let now = chrono::Utc::now();
            if json {
                let value = match &session {
                    Some(s) => json!({
                        "signed_in": true,
                        "user": s.user,
                        "expires_at": s.expires_at,
                        "expired": s.expires_at <= now,
                    }),
                    None => {
                        json!({"signed_in": false, "user": null, "expires_at": null, "expired": false})
                    }
                };
                print_json(&value)?;
            } else {
                match &session {
                    Some(s) => print_line(&format!(
                        "Signed in as {} (access token {} {}).",
                        s.user.email.as_deref().unwrap_or(&s.user.id),
                        if s.expires_at <= now {
                            "expired at"
                        } else {
                            "valid until"
                        },
                        s.expires_at.format("%Y-%m-%d %H:%M UTC")
                    ))?,
                    None => print_line("Not signed in.")?,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
