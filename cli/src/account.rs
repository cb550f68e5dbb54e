//! `cloudctl account`: accounts (tenants) and their quotas; mostly for the operator.

use std::collections::BTreeMap;

use anyhow::bail;
use clap::Subcommand;
use nuvem_api::iam::{Account, AccountCreated, Quota};

use crate::output::{Detail, Out, Tabular, timestamp};
use crate::session::{ConnectionArgs, read_stdin_line};

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Create an account with its root user; prints the generated root password once.
    Create {
        /// The account's name, e.g. your class.
        name: String,
        /// Read the root password from standard input instead of generating one.
        #[arg(long)]
        root_password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Show one account.
    Get {
        /// The account's name.
        name: String,
    },
    /// Act as the root user of an account: the session is saved in the profile (--profile).
    Assume {
        /// The account's name.
        name: String,
    },
    /// Delete an account and everything in it.
    Delete {
        /// The account's name.
        name: String,
    },
    /// Show an account's quotas and usage (your own without ACCOUNT); the operator changes them
    /// with --set.
    Quotas {
        /// The account (operator only); omit it for your own.
        account: Option<String>,
        /// NAME=VALUE to set a limit, NAME=default to go back to the operator's default
        /// (repeatable), e.g. --set vpcs=10 --set instances=default.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
}

pub async fn account(conn: &ConnectionArgs, out: &Out, cmd: &AccountCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    match cmd {
        AccountCmd::Create {
            name,
            root_password_stdin,
        } => {
            let root_password = if *root_password_stdin {
                Some(read_stdin_line("root password")?)
            } else {
                None
            };
            out.detail(&c.create_account(name, root_password.as_deref()).await?)
        }
        AccountCmd::List => out.list(&c.list_accounts_all().await?),
        AccountCmd::Get { name } => out.list(&[c.get_account(name).await?]),
        AccountCmd::Assume { name } => {
            let session = c.assume_account(name).await?;
            let (profile_name, _) = conn.save_session(c.endpoint(), &session)?;
            out.message(&format!(
                "Acting as root of account {} in profile '{profile_name}' until {}.",
                session.identity.account_name,
                session.expires_at.format("%H:%M UTC")
            ));
            out.detail(&session.identity)
        }
        AccountCmd::Delete { name } => {
            c.delete_account(name).await?;
            out.message(&format!("Deleted account {name}."));
            Ok(())
        }
        AccountCmd::Quotas { account, set } => {
            let quotas = match (account, set.is_empty()) {
                (None, true) => c.quotas().await?,
                (None, false) => bail!("--set needs the ACCOUNT whose quotas change"),
                (Some(a), true) => c.account_quotas(a).await?,
                (Some(a), false) => c.set_account_quotas(a, parse_limits(set)?).await?,
            };
            out.rows_of(&quotas, &quotas.items)
        }
    }
}

/// `--set NAME=VALUE` flags as the API's limits: `None` for `NAME=default`.
fn parse_limits(set: &[String]) -> anyhow::Result<BTreeMap<String, Option<u64>>> {
    let mut limits = BTreeMap::new();
    for item in set {
        let Some((name, value)) = item.split_once('=') else {
            bail!("--set {item}: write NAME=VALUE, e.g. --set vpcs=10");
        };
        let value = match value {
            "default" => None,
            v => Some(v.parse::<u64>().map_err(|_| {
                anyhow::anyhow!("--set {item}: the value must be a whole number or 'default'")
            })?),
        };
        limits.insert(name.to_owned(), value);
    }
    Ok(limits)
}

impl Tabular for Account {
    const COLUMNS: &'static [&'static str] = &["NAME", "ID", "OPERATOR", "CREATED"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.clone(),
            if self.is_operator { "yes" } else { "" }.into(),
            timestamp(&self.created_at),
        ]
    }
}

impl Detail for AccountCreated {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("account", self.account.name.clone()),
            ("id", self.account.id.clone()),
            ("root user", self.root_user.clone()),
        ];
        if let Some(pw) = &self.generated_root_password {
            fields.push((
                "root password",
                format!("{pw}   (shown once: store it now)"),
            ));
        }
        fields
    }
}

impl Tabular for Quota {
    const COLUMNS: &'static [&'static str] = &["QUOTA", "USED", "LIMIT", "WHAT IT COUNTS"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.used.to_string(),
            format!(
                "{}{}",
                self.limit,
                if self.is_default { "" } else { " (set)" }
            ),
            self.description.clone(),
        ]
    }
}
