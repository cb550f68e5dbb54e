//! `cloudctl configure|login|logout|whoami|change-password|health`: the profile in
//! `~/.nuvem/config.toml`, signing in and out, and the server's health.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use nuvem_api::Health;
use nuvem_api::iam::{Identity, Session};
use nuvem_sdk::config::{ConfigFile, DEFAULT_PROFILE};
use nuvem_sdk::{Client, Credentials};

use crate::output::{Detail, Out};

/// The global flags saying which server and which profile a command uses.
#[derive(Args)]
pub struct ConnectionArgs {
    /// API endpoint, e.g. http://127.0.0.1:8080 (else NUVEM_ENDPOINT, else the profile's).
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Profile of ~/.nuvem/config.toml to use (else NUVEM_PROFILE, else "default").
    #[arg(long, global = true)]
    profile: Option<String>,
}

impl ConnectionArgs {
    /// The profile's name: `--profile`, else `NUVEM_PROFILE`, else `default`.
    pub fn profile_name(&self) -> String {
        self.profile
            .clone()
            .or_else(|| {
                std::env::var("NUVEM_PROFILE")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
    }

    /// A client for these flags; the SDK fills in the rest from the environment and profile.
    pub fn client(&self) -> anyhow::Result<Client> {
        let mut builder = Client::builder();
        if let Some(e) = &self.endpoint {
            builder = builder.endpoint(e);
        }
        if let Some(p) = &self.profile {
            builder = builder.profile(p);
        }
        Ok(builder.build()?)
    }

    /// Saves `session` in the profile in place of its access key, so that the session is what
    /// is used from now on. Returns the profile's name and the file's path.
    pub fn save_session(
        &self,
        endpoint: &str,
        session: &Session,
    ) -> anyhow::Result<(String, PathBuf)> {
        let mut file = ConfigFile::load()?;
        let name = self.profile_name();
        let profile = file.profile_mut(&name);
        profile.endpoint = Some(endpoint.to_owned());
        profile.session_token = Some(session.token.clone());
        profile.session_expires_at = Some(session.expires_at);
        profile.access_key_id = None;
        profile.secret_access_key = None;
        let path = file.save()?;
        Ok((name, path))
    }
}

#[derive(Subcommand)]
pub enum SessionCmd {
    /// Save an endpoint and access key in a profile of ~/.nuvem/config.toml.
    Configure {
        /// The access key id (NKIA…); asked for when omitted on a terminal.
        #[arg(long)]
        access_key_id: Option<String>,
        /// Read the secret access key from standard input instead of a prompt.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Sign in with a password; the session is saved in the profile.
    Login {
        /// Account name (e.g. admin, or your class account).
        #[arg(long, short)]
        account: String,
        /// User name (an account's root user is "root").
        #[arg(long, short, default_value = "root")]
        user: String,
        /// Read the password from standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the session saved by `login`.
    Logout,
    /// Show who you are signed in as.
    Whoami,
    /// Change your own password.
    ChangePassword {
        /// Read the current and the new password, one per line, from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// One line of standard input, without its line ending; an empty one is an error.
pub fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what}"))?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(line)
}

/// A secret from standard input (`--*-stdin`) or a hidden prompt.
pub fn read_secret(from_stdin: bool, prompt: &str, what: &str) -> anyhow::Result<String> {
    if from_stdin {
        return read_stdin_line(what);
    }
    if !std::io::stdin().is_terminal() {
        bail!("standard input is not a terminal: pass the {what} with --*-stdin (see --help)");
    }
    Ok(rpassword::prompt_password(prompt)?)
}

pub async fn session(conn: &ConnectionArgs, out: &Out, cmd: &SessionCmd) -> anyhow::Result<()> {
    match cmd {
        SessionCmd::Configure {
            access_key_id,
            secret_stdin,
        } => configure(conn, out, access_key_id, *secret_stdin),
        SessionCmd::Login {
            account,
            user,
            password_stdin,
        } => login(conn, out, account, user, *password_stdin).await,
        SessionCmd::Logout => logout(conn, out).await,
        SessionCmd::Whoami => out.detail(&conn.client()?.whoami().await?),
        SessionCmd::ChangePassword { password_stdin } => {
            change_password(conn, out, *password_stdin).await
        }
    }
}

pub async fn health(conn: &ConnectionArgs, out: &Out) -> anyhow::Result<()> {
    out.detail(&conn.client()?.health().await?)
}

fn configure(
    conn: &ConnectionArgs,
    out: &Out,
    access_key_id: &Option<String>,
    secret_stdin: bool,
) -> anyhow::Result<()> {
    let mut file = ConfigFile::load()?;
    let name = conn.profile_name();
    let profile = file.profile_mut(&name);
    if let Some(e) = &conn.endpoint {
        profile.endpoint = Some(e.clone());
    }
    if profile.endpoint.is_none() {
        profile.endpoint = Some(nuvem_sdk::DEFAULT_ENDPOINT.to_owned());
    }
    let key_id = match access_key_id {
        Some(id) => id.clone(),
        None if std::io::stdin().is_terminal() => {
            eprint!("Access key id: ");
            read_stdin_line("access key id")?
        }
        None => bail!("pass --access-key-id (and the secret with --secret-stdin)"),
    };
    let secret = read_secret(secret_stdin, "Secret access key: ", "secret access key")?;
    profile.access_key_id = Some(key_id);
    profile.secret_access_key = Some(secret);
    profile.session_token = None;
    profile.session_expires_at = None;
    let path = file.save()?;
    out.message(&format!("Saved profile '{name}' in {}.", path.display()));
    Ok(())
}

async fn login(
    conn: &ConnectionArgs,
    out: &Out,
    account: &str,
    user: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = read_secret(password_stdin, "Password: ", "password")?;
    // No credentials yet: only the endpoint, from the flag or else the profile.
    let anonymous = {
        let mut builder = Client::builder().credentials(Credentials::Anonymous);
        if let Some(e) = &conn.endpoint {
            builder = builder.endpoint(e);
        } else if let Some(e) = ConfigFile::load()?
            .profile(&conn.profile_name())
            .and_then(|p| p.endpoint.clone())
        {
            builder = builder.endpoint(e);
        }
        builder.build()?
    };
    let session = anonymous.login(account, user, &password).await?;
    // A password sign-in replaces the profile's key, so that the session is what is used.
    let (name, path) = conn.save_session(anonymous.endpoint(), &session)?;
    out.message(&format!(
        "Signed in as {} in account {} until {} (profile '{name}' in {}).",
        session.identity.user,
        session.identity.account_name,
        session.expires_at.format("%Y-%m-%d %H:%M UTC"),
        path.display()
    ));
    out.detail(&session.identity)
}

async fn logout(conn: &ConnectionArgs, out: &Out) -> anyhow::Result<()> {
    let mut file = ConfigFile::load()?;
    let name = conn.profile_name();
    let had_session = file
        .profile(&name)
        .is_some_and(|p| p.session_token.is_some());
    // End the session on the server first, so that a copy of the token is worthless too;
    // an already expired or revoked one is forgotten all the same.
    let ended = if had_session {
        match conn.client()?.logout().await {
            Ok(()) => "ended on the server",
            Err(e) if e.status() == Some(401) => "had already ended",
            Err(e) => return Err(e.into()),
        }
    } else {
        "none was saved"
    };
    let profile = file.profile_mut(&name);
    profile.session_token = None;
    profile.session_expires_at = None;
    file.save()?;
    out.message(&format!(
        "Signed out (profile '{name}'; the session {ended})."
    ));
    Ok(())
}

async fn change_password(
    conn: &ConnectionArgs,
    out: &Out,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let (old, new) = if password_stdin {
        (
            read_stdin_line("current password")?,
            read_stdin_line("new password")?,
        )
    } else {
        let old = read_secret(false, "Current password: ", "current password")?;
        let new = read_secret(false, "New password: ", "new password")?;
        if read_secret(false, "New password again: ", "new password")? != new {
            bail!("the two new passwords differ");
        }
        (old, new)
    };
    let session = conn.client()?.change_password(&old, &new).await?;
    // Sessions made with the old password have ended; a profile signed in with one
    // goes on with the new session.
    let mut file = ConfigFile::load()?;
    let name = conn.profile_name();
    let signed_in_with_password = file
        .profile(&name)
        .is_some_and(|p| p.session_token.is_some() && p.access_key_id.is_none());
    if signed_in_with_password {
        let profile = file.profile_mut(&name);
        profile.session_token = Some(session.token.clone());
        profile.session_expires_at = Some(session.expires_at);
        file.save()?;
    }
    out.message("Password changed; every other session made with the old password has ended.");
    Ok(())
}

impl Detail for Identity {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let signed_in_with = match (&self.assumed_by, &self.access_key_id) {
            (Some(who), _) => format!("assumed by {who}"),
            (None, Some(key)) => format!("access key {key}"),
            (None, None) => "password".into(),
        };
        vec![
            (
                "account",
                format!("{} ({})", self.account_name, self.account_id),
            ),
            ("user", self.user.clone()),
            ("nrn", self.user_nrn.clone()),
            ("root", self.is_root.to_string()),
            ("operator", self.is_operator.to_string()),
            ("signed in with", signed_in_with),
        ]
    }
}

impl Detail for Health {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.status.clone()),
            ("version", self.version.clone()),
            ("database", self.database.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::detail_text;

    fn identity(access_key_id: Option<&str>, assumed_by: Option<&str>) -> Identity {
        serde_json::from_value(serde_json::json!({
            "account_id": "acc-123",
            "account_name": "class",
            "user": "alice",
            "user_nrn": "nrn:nuvem:iam::acc-123:user/alice",
            "is_root": false,
            "is_operator": false,
            "auth_method": if access_key_id.is_some() { "access-key" } else { "password" },
            "access_key_id": access_key_id,
            "assumed_by": assumed_by,
        }))
        .expect("an identity")
    }

    #[test]
    fn whoami_shows_the_account_user_and_how_they_signed_in() {
        assert_eq!(
            detail_text(&identity(Some("NKIAEXAMPLE"), None)),
            "\
┌────────────────────────────────────────────────────┐
│ account          class (acc-123)                   │
│ user             alice                             │
│ nrn              nrn:nuvem:iam::acc-123:user/alice │
│ root             false                             │
│ operator         false                             │
│ signed in with   access key NKIAEXAMPLE            │
└────────────────────────────────────────────────────┘"
        );
    }

    #[test]
    fn an_assumed_session_names_who_assumed_it_before_any_key() {
        let signed_in_with = |id: &Identity| {
            id.fields()
                .into_iter()
                .find(|(label, _)| *label == "signed in with")
                .map(|(_, value)| value)
        };
        assert_eq!(
            signed_in_with(&identity(Some("NKIA1"), Some("nrn:op"))).as_deref(),
            Some("assumed by nrn:op")
        );
        assert_eq!(
            signed_in_with(&identity(None, None)).as_deref(),
            Some("password")
        );
    }
}
