//! `cloudctl instance|image|key-pair|instance-type|host`: compute.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use nuvem_api::ec2::{
    ImageFormat, ImportImageRequest, InstanceState, PutInstanceTypeRequest, RunInstancesRequest,
};
use nuvem_sdk::Client;

use crate::output::Out;

#[derive(Subcommand)]
pub enum InstanceCmd {
    /// Launch instances (RunInstances).
    Launch {
        /// Image id or name (see `cloudctl image list`).
        #[arg(long)]
        image: String,
        #[arg(long = "type", default_value = "t3.nano")]
        instance_type: String,
        #[arg(long = "key")]
        key_name: Option<String>,
        #[arg(long)]
        subnet: Option<String>,
        /// Security group ids (repeat for several).
        #[arg(long = "sg")]
        groups: Vec<String>,
        /// A file with user-data (a #!/bin/sh script, or cloud-config).
        #[arg(long)]
        user_data: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[arg(long)]
        name: Option<String>,
        /// key=value (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Pin each vCPU to a host core of its own.
        #[arg(long)]
        dedicated: bool,
        /// Wait until the instances run and answer SSH, showing progress.
        #[arg(long)]
        wait: bool,
    },
    List,
    Describe {
        id: String,
    },
    Stop {
        id: String,
    },
    Start {
        id: String,
    },
    Reboot {
        id: String,
    },
    Terminate {
        id: String,
    },
    /// The end of the serial console.
    Console {
        id: String,
    },
    /// SSH into the instance with its key pair (from ~/.nuvem/keys unless --identity).
    Ssh {
        id: String,
        #[arg(long, short = 'i')]
        identity: Option<PathBuf>,
        #[arg(long, default_value = "root")]
        user: String,
        /// A command to run instead of a shell.
        #[arg(last = true)]
        command: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum ImageCmd {
    List,
    Describe {
        id: String,
    },
    /// Register an image from files in the server's import directory (operator). Copy the files
    /// to that directory first (`--image-import-dir`, default /var/lib/nuvem/import); paths
    /// elsewhere are refused.
    Import {
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
        #[arg(long)]
        cmdline: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Make it private to this account instead of public.
        #[arg(long)]
        account: Option<String>,
    },
    /// Deregister an image (operator).
    Delete {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum KeyPairCmd {
    /// Create a key pair: Nuvem generates an ed25519 key; the private key is saved once.
    Create {
        name: String,
        /// Where to save the private key [default: ~/.nuvem/keys/<name>.pem].
        #[arg(long)]
        save_to: Option<PathBuf>,
    },
    /// Import your own public key (e.g. ~/.ssh/id_ed25519.pub).
    Import {
        name: String,
        #[arg(long)]
        public_key: PathBuf,
    },
    List,
    Delete {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum InstanceTypeCmd {
    List,
    /// Add or change a type (operator).
    Set {
        name: String,
        #[arg(long)]
        vcpus: u32,
        #[arg(long)]
        memory_mib: u64,
        #[arg(long)]
        disk_gib: u64,
        #[arg(long)]
        price_per_hour: f64,
    },
}

#[derive(Subcommand)]
pub enum HostCmd {
    /// Hosts with capacity, overcommit ratio and accelerator (operator).
    List,
}

/// `~/.nuvem/keys/<name>.pem`.
fn key_path(name: &str) -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("NUVEM_CONFIG_FILE")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.to_owned()))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".nuvem")))
        .context("no home directory")?;
    Ok(home.join("keys").join(format!("{name}.pem")))
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
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

/// A one-line progress indicator on stderr (only when it is a terminal).
struct Progress {
    tty: bool,
    started: Instant,
    tick: usize,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            tick: 0,
        }
    }

    fn show(&mut self, text: &str) {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        self.tick += 1;
        let secs = self.started.elapsed().as_secs();
        if self.tty {
            eprint!(
                "\r\x1b[2K{} {text} ({secs} s)",
                FRAMES[self.tick % FRAMES.len()]
            );
        } else if self.tick % 10 == 1 {
            eprintln!("... {text} ({secs} s)");
        }
    }

    fn done(&self, text: &str) {
        if self.tty {
            eprintln!("\r\x1b[2K✔ {text} ({} s)", self.started.elapsed().as_secs());
        } else {
            eprintln!("{text} ({} s)", self.started.elapsed().as_secs());
        }
    }
}

/// Waits until every instance runs and answers on port 22.
async fn wait_ready(c: &Client, ids: &[String]) -> anyhow::Result<()> {
    let mut progress = Progress::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut ready: BTreeMap<String, String> = BTreeMap::new();
    while ready.len() < ids.len() {
        if Instant::now() > deadline {
            bail!("gave up waiting after 10 minutes; see `cloudctl instance console <id>`");
        }
        let mut states = Vec::new();
        let waiting: Vec<String> = ids
            .iter()
            .filter(|id| !ready.contains_key(*id))
            .cloned()
            .collect();
        for id in &waiting {
            let i = c.get_instance(id).await?;
            match (i.state, &i.private_ip) {
                (InstanceState::Terminated, _) => bail!("{id} failed: {}", i.state_reason),
                (InstanceState::Running, Some(ip)) => {
                    let addr = format!("{ip}:22");
                    let open = tokio::time::timeout(
                        Duration::from_secs(1),
                        tokio::net::TcpStream::connect(&addr),
                    )
                    .await
                    .is_ok_and(|r| r.is_ok());
                    if open {
                        ready.insert(id.clone(), ip.clone());
                    } else {
                        states.push(format!("{id}: booting"));
                    }
                }
                (state, _) => states.push(format!("{id}: {}", state.as_str())),
            }
        }
        if ready.len() < ids.len() {
            progress.show(&states.join(", "));
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for (id, ip) in &ready {
        progress.done(&format!(
            "{id} answers SSH at {ip}  (cloudctl instance ssh {id})"
        ));
    }
    Ok(())
}

pub async fn instance(c: &Client, out: &Out, cmd: &InstanceCmd) -> anyhow::Result<()> {
    match cmd {
        InstanceCmd::Launch {
            image,
            instance_type,
            key_name,
            subnet,
            groups,
            user_data,
            count,
            name,
            tags,
            dedicated,
            wait,
        } => {
            let user_data = match user_data {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                ),
                None => None,
            };
            let mut tag_map = BTreeMap::new();
            for t in tags {
                let (k, v) = t
                    .split_once('=')
                    .with_context(|| format!("tag '{t}' must be key=value"))?;
                tag_map.insert(k.to_owned(), v.to_owned());
            }
            let req = RunInstancesRequest {
                image_id: resolve_image(c, image).await?,
                instance_type: instance_type.clone(),
                key_name: key_name.clone(),
                subnet_id: subnet.clone(),
                security_group_ids: (!groups.is_empty()).then(|| groups.clone()),
                user_data,
                count: Some(*count),
                name: name.clone(),
                tags: (!tag_map.is_empty()).then_some(tag_map),
                dedicated: dedicated.then_some(true),
            };
            let launched = c.run_instances(&req).await?.items;
            if *wait {
                let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
                wait_ready(c, &ids).await?;
                let mut now = Vec::new();
                for id in &ids {
                    now.push(c.get_instance(id).await?);
                }
                return out.instances(&now);
            }
            out.instances(&launched)
        }
        InstanceCmd::List => out.instances(&c.list_instances().await?.items),
        InstanceCmd::Describe { id } => out.instance_detail(&c.get_instance(id).await?),
        InstanceCmd::Stop { id } => out.instances(&[c.stop_instance(id).await?]),
        InstanceCmd::Start { id } => out.instances(&[c.start_instance(id).await?]),
        InstanceCmd::Reboot { id } => out.instances(&[c.reboot_instance(id).await?]),
        InstanceCmd::Terminate { id } => out.instances(&[c.terminate_instance(id).await?]),
        InstanceCmd::Console { id } => {
            let console = c.console_output(id).await?;
            out.console(&console)
        }
        InstanceCmd::Ssh {
            id,
            identity,
            user,
            command,
        } => {
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
    }
}

pub async fn image(c: &Client, out: &Out, cmd: &ImageCmd) -> anyhow::Result<()> {
    match cmd {
        ImageCmd::List => out.images(&c.list_images().await?.items),
        ImageCmd::Describe { id } => {
            out.images(&[c.get_image(&resolve_image(c, id).await?).await?])
        }
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
            out.images(&[c.import_image(&req).await?])
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
                None => key_path(name)?,
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
            write_private(&path, &private)?;
            out.message(&format!(
                "Saved the private key in {} (shown only now).",
                path.display()
            ));
            out.key_pairs(&[created.key_pair])
        }
        KeyPairCmd::Import { name, public_key } => {
            let key = std::fs::read_to_string(public_key)
                .with_context(|| format!("reading {}", public_key.display()))?;
            out.key_pairs(&[c.create_key_pair(name, Some(key.trim())).await?.key_pair])
        }
        KeyPairCmd::List => out.key_pairs(&c.list_key_pairs().await?.items),
        KeyPairCmd::Delete { name } => {
            c.delete_key_pair(name).await?;
            out.message(&format!("Deleted key pair {name}."));
            Ok(())
        }
    }
}

pub async fn instance_type(c: &Client, out: &Out, cmd: &InstanceTypeCmd) -> anyhow::Result<()> {
    match cmd {
        InstanceTypeCmd::List => out.instance_types(&c.list_instance_types().await?.items),
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
            out.instance_types(&[c.put_instance_type(name, &req).await?])
        }
    }
}

pub async fn host(c: &Client, out: &Out, cmd: &HostCmd) -> anyhow::Result<()> {
    match cmd {
        HostCmd::List => out.hosts(&c.list_hosts().await?.items),
    }
}
