//! `cloudctl instance|image|key-pair|instance-type|host`: compute.

mod hosts;
mod images;
mod key_pairs;
mod launch;
mod ssh;

pub use hosts::{HostCmd, InstanceTypeCmd, host, instance_type};
pub use images::{ImageCmd, image};
pub use key_pairs::{KeyPairCmd, key_pair};
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use nuvem_api::ec2::{ConsoleOutput, Instance};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp_or_dash};

#[derive(Subcommand)]
pub enum InstanceCmd {
    /// Launch instances (RunInstances).
    Launch(launch::LaunchArgs),
    /// List your instances with their state and private address.
    List,
    /// Show one instance: type, image, network, host, CPUs.
    Describe {
        /// The instance id (i-…).
        id: String,
    },
    /// Stop instances (the guest is shut down; its disk stays).
    Stop {
        /// Instance ids (i-…), one or several.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Start stopped instances.
    Start {
        /// Instance ids (i-…), one or several.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Reboot instances.
    Reboot {
        /// Instance ids (i-…), one or several.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Terminate instances: the guest, its disk and its interface go.
    Terminate {
        /// Instance ids (i-…), one or several.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// The end of the serial console.
    Console {
        /// The instance id (i-…).
        id: String,
    },
    /// SSH into the instance with its key pair (from ~/.nuvem/keys unless --identity).
    Ssh {
        /// The instance id (i-…).
        id: String,
        /// The private key to use instead of ~/.nuvem/keys/<key pair>.pem.
        #[arg(long, short = 'i')]
        identity: Option<PathBuf>,
        /// The user to sign in as.
        #[arg(long, default_value = "root")]
        user: String,
        /// A command to run instead of a shell.
        #[arg(last = true)]
        command: Vec<String>,
    },
}

/// An image given by id or by name.
pub(super) async fn resolve_image(c: &Client, given: &str) -> anyhow::Result<String> {
    if given.starts_with("ami-") {
        return Ok(given.to_owned());
    }
    let images = c.list_images().await?.items;
    match images.iter().find(|i| i.name == given) {
        Some(i) => Ok(i.id.clone()),
        None => bail!(
            "no image named '{given}'; images you can use: {}",
            images
                .iter()
                .map(|i| format!("{} ({})", i.name, i.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub async fn instance(c: &Client, out: &Out, cmd: &InstanceCmd) -> anyhow::Result<()> {
    match cmd {
        InstanceCmd::Launch(args) => launch::launch(c, out, args).await,
        InstanceCmd::List => out.list(&c.list_instances().await?.items),
        InstanceCmd::Describe { id } => out.detail(&c.get_instance(id).await?),
        InstanceCmd::Stop { ids } => each(out, ids, |id| c.stop_instance(id)).await,
        InstanceCmd::Start { ids } => each(out, ids, |id| c.start_instance(id)).await,
        InstanceCmd::Reboot { ids } => each(out, ids, |id| c.reboot_instance(id)).await,
        InstanceCmd::Terminate { ids } => each(out, ids, |id| c.terminate_instance(id)).await,
        InstanceCmd::Console { id } => out.text(&c.console_output(id).await?, console_text),
        InstanceCmd::Ssh {
            id,
            identity,
            user,
            command,
        } => ssh::ssh(c, id, identity, user, command).await,
    }
}

/// Runs `call` on each instance in turn, as `aws ec2 terminate-instances` takes several ids: the
/// ones it was done to are shown, every failure is reported, and the command fails if any did.
async fn each<'a, F, Fut>(out: &Out, ids: &'a [String], call: F) -> anyhow::Result<()>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = nuvem_sdk::Result<Instance>>,
{
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match call(id).await {
            Ok(instance) => done.push(instance),
            Err(e) => failed.push((id, e)),
        }
    }
    if !done.is_empty() || failed.is_empty() {
        out.list(&done)?;
    }
    // The last failure is the command's error (with its code); the others are named before it.
    let last = failed.pop();
    for (id, e) in &failed {
        eprintln!("error: {id}: {e}");
    }
    match last {
        Some((_, e)) => Err(e.into()),
        None => Ok(()),
    }
}

/// The console's end as the instance wrote it, without a table around it.
fn console_text(console: &ConsoleOutput) -> anyhow::Result<String> {
    Ok(console.output.clone())
}

impl Tabular for Instance {
    const COLUMNS: &'static [&'static str] = &[
        "ID",
        "NAME",
        "STATE",
        "TYPE",
        "PRIVATE IP",
        "ACCEL",
        "REASON",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            self.state.as_str().into(),
            self.instance_type.clone(),
            self.private_ip.clone().unwrap_or_default(),
            self.accelerator.clone(),
            self.state_reason.clone(),
        ]
    }
}

impl Detail for Instance {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let cpus = if self.pinned_cpus.is_empty() {
            "shared".into()
        } else {
            self.pinned_cpus
                .iter()
                .enumerate()
                .map(|(vcpu, core)| format!("vCPU {vcpu} → core {core}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            ("id", self.id.clone()),
            ("name", self.name.clone()),
            (
                "state",
                format!("{} {}", self.state.as_str(), self.state_reason),
            ),
            (
                "type",
                format!(
                    "{} ({} vCPU, {} MiB)",
                    self.instance_type, self.vcpus, self.memory_mib
                ),
            ),
            ("image", self.image_id.clone()),
            ("key pair", self.key_name.clone().unwrap_or_default()),
            (
                "network",
                format!(
                    "{} in {} / {}",
                    self.private_ip.clone().unwrap_or_default(),
                    self.subnet_id,
                    self.vpc_id
                ),
            ),
            ("security groups", self.security_group_ids.join(", ")),
            ("host", self.host.clone()),
            ("accelerator", self.accelerator.clone()),
            ("cpus", cpus),
            ("launched", timestamp_or_dash(&self.launched_at)),
        ]
    }
}
