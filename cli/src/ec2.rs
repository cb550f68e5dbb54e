//! `cloudctl instance|image|key-pair|instance-type|host`: compute.

mod launch;
mod ssh;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use nuvem_api::ec2::{
    ConsoleOutput, Host, Image, ImageFormat, ImportImageRequest, Instance, InstanceType, KeyPair,
    PutInstanceTypeRequest,
};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp, timestamp_or_dash};

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

#[derive(Subcommand)]
pub enum ImageCmd {
    /// List the images you can launch (public ones and your account's).
    List,
    /// Show one image.
    Describe {
        /// The image id (ami-…) or name.
        id: String,
    },
    /// Register an image from files in the server's import directory (operator). Copy the files
    /// to that directory first (`--image-import-dir`, default /var/lib/nuvem/import); paths
    /// elsewhere are refused.
    Import {
        /// The image's name (what `instance launch --image` takes).
        #[arg(long)]
        name: String,
        /// The kernel: a path inside the import directory, or a name relative to it.
        #[arg(long)]
        kernel: Option<String>,
        /// The initrd: a path inside the import directory, or a name relative to it.
        #[arg(long)]
        initrd: Option<String>,
        /// A qcow2 disk instead of kernel + initrd (inside the import directory).
        #[arg(long, conflicts_with_all = ["kernel", "initrd"])]
        disk: Option<String>,
        /// The kernel command line (kernel + initrd images).
        #[arg(long)]
        cmdline: Option<String>,
        /// A description shown in `image list`.
        #[arg(long)]
        description: Option<String>,
        /// Make it private to this account instead of public.
        #[arg(long)]
        account: Option<String>,
    },
    /// Deregister an image (operator).
    Delete {
        /// The image id (ami-…).
        id: String,
    },
}

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

#[derive(Subcommand)]
pub enum InstanceTypeCmd {
    /// List the instance types with their size and price.
    List,
    /// Add or change a type (operator).
    Set {
        /// The type's name, e.g. c1.course.
        name: String,
        /// Virtual CPUs.
        #[arg(long)]
        vcpus: u32,
        /// Memory in MiB.
        #[arg(long)]
        memory_mib: u64,
        /// Disk size in GiB.
        #[arg(long)]
        disk_gib: u64,
        /// Price per hour, for metering.
        #[arg(long)]
        price_per_hour: f64,
    },
}

#[derive(Subcommand)]
pub enum HostCmd {
    /// Hosts with capacity, overcommit ratio and accelerator (operator).
    List,
    /// Change a host's capacity live (operator): the next launch uses it; running instances
    /// are never evicted.
    Update {
        /// The host's id (`host-1`) or name.
        host: String,
        /// vCPUs per core, 0.1 to 16 (1.0: one vCPU per core; 4.0: the commercial figure).
        #[arg(long)]
        cpu_ratio: Option<f64>,
        /// Memory kept for the host itself, in MiB (guests get the rest).
        #[arg(long)]
        reserved_memory_mib: Option<u64>,
    },
}

/// An image given by id or by name.
async fn resolve_image(c: &Client, given: &str) -> anyhow::Result<String> {
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

pub async fn image(c: &Client, out: &Out, cmd: &ImageCmd) -> anyhow::Result<()> {
    match cmd {
        ImageCmd::List => out.list(&c.list_images().await?.items),
        ImageCmd::Describe { id } => out.list(&[c.get_image(&resolve_image(c, id).await?).await?]),
        ImageCmd::Import {
            name,
            kernel,
            initrd,
            disk,
            cmdline,
            description,
            account,
        } => {
            let abs = |p: &Option<String>| {
                p.as_ref().map(|p| {
                    std::fs::canonicalize(p)
                        .map(|a| a.display().to_string())
                        .unwrap_or_else(|_| p.clone())
                })
            };
            let req = ImportImageRequest {
                name: name.clone(),
                format: if disk.is_some() {
                    ImageFormat::Qcow2
                } else {
                    ImageFormat::KernelInitrd
                },
                kernel_path: abs(kernel),
                initrd_path: abs(initrd),
                cmdline: cmdline.clone(),
                disk_path: abs(disk),
                description: description.clone(),
                public: Some(account.is_none()),
                account: account.clone(),
            };
            out.list(&[c.import_image(&req).await?])
        }
        ImageCmd::Delete { id } => {
            c.delete_image(id).await?;
            out.message(&format!("Deregistered image {id}."));
            Ok(())
        }
    }
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

pub async fn instance_type(c: &Client, out: &Out, cmd: &InstanceTypeCmd) -> anyhow::Result<()> {
    match cmd {
        InstanceTypeCmd::List => out.list(&c.list_instance_types().await?.items),
        InstanceTypeCmd::Set {
            name,
            vcpus,
            memory_mib,
            disk_gib,
            price_per_hour,
        } => {
            let req = PutInstanceTypeRequest {
                vcpus: *vcpus,
                memory_mib: *memory_mib,
                disk_gib: *disk_gib,
                price_per_hour: *price_per_hour,
            };
            out.list(&[c.put_instance_type(name, &req).await?])
        }
    }
}

pub async fn host(c: &Client, out: &Out, cmd: &HostCmd) -> anyhow::Result<()> {
    match cmd {
        HostCmd::List => out.list(&c.list_hosts().await?.items),
        HostCmd::Update {
            host,
            cpu_ratio,
            reserved_memory_mib,
        } => {
            if cpu_ratio.is_none() && reserved_memory_mib.is_none() {
                anyhow::bail!("nothing to change: give --cpu-ratio and/or --reserved-memory-mib");
            }
            let updated = c
                .update_host(host, *cpu_ratio, *reserved_memory_mib)
                .await?;
            out.list(std::slice::from_ref(&updated))
        }
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

impl Tabular for Image {
    const COLUMNS: &'static [&'static str] = &["ID", "NAME", "FORMAT", "VISIBILITY", "DESCRIPTION"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            format!("{:?}", self.format).to_lowercase(),
            if self.public {
                "public".into()
            } else {
                self.owner_account_id.clone().unwrap_or_default()
            },
            self.description.clone(),
        ]
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

impl Tabular for InstanceType {
    const COLUMNS: &'static [&'static str] =
        &["TYPE", "VCPUS", "MEMORY MIB", "DISK GIB", "PRICE/HOUR"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.vcpus.to_string(),
            self.memory_mib.to_string(),
            self.disk_gib.to_string(),
            format!("{:.4}", self.price_per_hour),
        ]
    }
}

impl Tabular for Host {
    const COLUMNS: &'static [&'static str] = &[
        "HOST",
        "URI",
        "VCPUS USED",
        "MEMORY",
        "DEDICATED CORES",
        "ACCEL",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.uri.clone(),
            format!(
                "{}/{} (cores {} × ratio {})",
                self.vcpus_used, self.vcpus_capacity, self.cores, self.cpu_ratio
            ),
            format!("{}/{} MiB", self.memory_used_mib, self.memory_mib),
            format!("{:?}", self.pinned_cores),
            self.accelerator.clone(),
        ]
    }
}
