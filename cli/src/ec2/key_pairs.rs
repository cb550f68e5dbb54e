//! `cloudctl key-pair`: create (the private key is saved once), import, list, delete.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use nuvem_api::ec2::KeyPair;
use nuvem_sdk::Client;

use super::ssh;
use crate::output::{Out, Tabular, timestamp};

#[derive(Subcommand)]
pub enum KeyPairCmd {
    /// Create a key pair: Nuvem generates an ed25519 key; the private key is saved once.
    Create {
        /// The key pair's name (what `instance launch --key` takes).
        name: String,
        /// Where to save the private key [default: ~/.nuvem/keys/<name>.pem].
        #[arg(long)]
        save_to: Option<PathBuf>,
    },
    /// Import your own public key (e.g. ~/.ssh/id_ed25519.pub).
    Import {
        /// The key pair's name (what `instance launch --key` takes).
        name: String,
        /// The public key file (OpenSSH format).
        #[arg(long)]
        public_key: PathBuf,
    },
    /// List your key pairs with their fingerprints.
    List,
    /// Delete a key pair (instances launched with it keep their key).
    Delete {
        /// The key pair's name.
        name: String,
    },
}

pub async fn key_pair(c: &Client, out: &Out, cmd: &KeyPairCmd) -> anyhow::Result<()> {
    match cmd {
        KeyPairCmd::Create { name, save_to } => {
            let path = match save_to {
                Some(p) => p.clone(),
                None => ssh::key_path(name)?,
            };
            if path.exists() {
                bail!(
                    "{} exists already: choose another name or --save-to",
                    path.display()
                );
            }
            let created = c.create_key_pair(name, None).await?;
            let private = created
                .private_key
                .clone()
                .context("the server returned no private key")?;
            ssh::write_private(&path, &private)?;
            out.message(&format!(
                "Saved the private key in {} (shown only now).",
                path.display()
            ));
            out.list(&[created.key_pair])
        }
        KeyPairCmd::Import { name, public_key } => {
            let key = std::fs::read_to_string(public_key)
                .with_context(|| format!("reading {}", public_key.display()))?;
            out.list(&[c.create_key_pair(name, Some(key.trim())).await?.key_pair])
        }
        KeyPairCmd::List => out.list(&c.list_key_pairs().await?.items),
        KeyPairCmd::Delete { name } => {
            c.delete_key_pair(name).await?;
            out.message(&format!("Deleted key pair {name}."));
            Ok(())
        }
    }
}

impl Tabular for KeyPair {
    const COLUMNS: &'static [&'static str] = &["NAME", "TYPE", "FINGERPRINT", "CREATED"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.key_type.clone(),
            self.fingerprint.clone(),
            timestamp(&self.created_at),
        ]
    }
}
