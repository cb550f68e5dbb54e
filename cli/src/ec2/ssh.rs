//! `cloudctl instance ssh`, and the private key files it uses (`~/.nuvem/keys/<name>.pem`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use nuvem_sdk::Client;

/// `~/.nuvem/keys/<name>.pem`, beside `$NUVEM_CONFIG_FILE` when that is set.
pub fn key_path(name: &str) -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("NUVEM_CONFIG_FILE")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.to_owned()))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".nuvem")))
        .context("no home directory")?;
    Ok(home.join("keys").join(format!("{name}.pem")))
}

/// Writes a new file only its owner can read (ssh refuses keys others can); an existing file
/// is never overwritten.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Runs `ssh` to the instance and exits with its status.
pub async fn ssh(
    c: &Client,
    id: &str,
    identity: &Option<PathBuf>,
    user: &str,
    command: &[String],
) -> anyhow::Result<()> {
    let i = c.get_instance(id).await?;
    let ip = i
        .private_ip
        .with_context(|| format!("{id} has no address (it is {})", i.state.as_str()))?;
    let key = match identity {
        Some(k) => k.clone(),
        None => {
            let name = i.key_name.with_context(|| {
                format!("{id} was launched without a key pair: pass --identity")
            })?;
            key_path(&name)?
        }
    };
    let status = std::process::Command::new("ssh")
        .arg("-i")
        .arg(&key)
        .args([
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("{user}@{ip}"))
        .args(command)
        .status()
        .context("running ssh (apt-get install openssh-client)")?;
    std::process::exit(status.code().unwrap_or(1));
}
