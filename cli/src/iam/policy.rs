//! `cloudctl iam policy`: policy documents, checked locally or stored in the account.

use std::fmt::Write as _;

use anyhow::{Context, bail};
use clap::Subcommand;
use nuvem_api::iam::Policy;

use crate::output::{Out, Tabular, timestamp};
use crate::session::ConnectionArgs;

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Create a policy from a JSON document (a file, or - for standard input).
    Create {
        /// The policy's name.
        name: String,
        /// The JSON document: a file, or - for standard input.
        #[arg(long)]
        document: String,
        /// What the policy is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// List the policies of your account.
    List,
    /// Show a policy with its document.
    Get {
        /// The policy's name.
        name: String,
    },
    /// Replace a policy's document.
    Update {
        /// The policy's name.
        name: String,
        /// The new JSON document: a file, or - for standard input.
        #[arg(long)]
        document: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a policy (detach it first).
    Delete {
        /// The policy's name.
        name: String,
    },
    /// Check a policy document locally, without sending it.
    Validate {
        /// The JSON document: a file, or - for standard input.
        #[arg(long)]
        document: String,
    },
}

/// A JSON document from a file, or from standard input for `-`.
fn read_document(arg: &str) -> anyhow::Result<serde_json::Value> {
    let text = if arg == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("reading the document from standard input")?
    } else {
        std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{arg} is not valid JSON"))
}

pub async fn policy(conn: &ConnectionArgs, out: &Out, cmd: &PolicyCmd) -> anyhow::Result<()> {
    // Validation needs no server, nor a profile that works: it is done before making a client.
    if let PolicyCmd::Validate { document } = cmd {
        let doc = read_document(document)?;
        return match nuvem_api::policy::parse(&doc) {
            Ok(p) => {
                out.message(&format!(
                    "The policy is valid: {} statement(s).",
                    p.statements.len()
                ));
                Ok(())
            }
            Err(e) => bail!("invalid policy document: {e}"),
        };
    }
    let c = conn.client()?;
    match cmd {
        PolicyCmd::Create {
            name,
            document,
            description,
        } => {
            let doc = read_document(document)?;
            out.list(&[c.create_policy(name, description.as_deref(), doc).await?])
        }
        PolicyCmd::List => out.list(&c.list_policies_all().await?),
        PolicyCmd::Get { name } => out.text(&c.get_policy(name).await?, policy_text),
        PolicyCmd::Update {
            name,
            document,
            description,
        } => {
            let doc = read_document(document)?;
            out.list(&[c.update_policy(name, description.as_deref(), doc).await?])
        }
        PolicyCmd::Delete { name } => {
            c.delete_policy(name).await?;
            out.message(&format!("Deleted policy {name}."));
            Ok(())
        }
        PolicyCmd::Validate { .. } => Ok(()),
    }
}

/// `policy get`: what the policy is and its whole document, which a table cell would mangle.
fn policy_text(p: &Policy) -> anyhow::Result<String> {
    let mut text = format!("{}  ({})\n", p.name, p.nrn);
    if !p.description.is_empty() {
        writeln!(text, "{}", p.description)?;
    }
    writeln!(
        text,
        "attached to {} user(s)/group(s); updated {}",
        p.attachment_count,
        timestamp(&p.updated_at)
    )?;
    writeln!(text, "{}", serde_json::to_string_pretty(&p.document)?)?;
    Ok(text)
}

impl Tabular for Policy {
    const COLUMNS: &'static [&'static str] = &["NAME", "ATTACHED", "UPDATED", "DESCRIPTION"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.attachment_count.to_string(),
            timestamp(&self.updated_at),
            self.description.clone(),
        ]
    }
}
