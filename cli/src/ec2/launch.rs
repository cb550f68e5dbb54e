//! `cloudctl instance launch`, and waiting until the new instances answer SSH (`--wait`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use nuvem_api::ec2::{InstanceState, RunInstancesRequest};
use nuvem_api::vpc::{Protocol, TraceRequest, Verdict};
use nuvem_sdk::Client;

use crate::output::Out;

// No doc comment: clap would take it as the help of `instance launch` over the variant's.
#[derive(Args)]
pub struct LaunchArgs {
    /// Image id or name (see `cloudctl image list`).
    #[arg(long)]
    image: String,
    /// Instance type (see `cloudctl instance-type list`).
    #[arg(long = "type", default_value = "t3.nano")]
    instance_type: String,
    /// Key pair to put in the guest for SSH (see `cloudctl key-pair list`).
    #[arg(long = "key")]
    key_name: Option<String>,
    /// Subnet id (default: your default VPC's subnet).
    #[arg(long)]
    subnet: Option<String>,
    /// Security group ids (repeat for several).
    #[arg(long = "sg")]
    groups: Vec<String>,
    /// A file with user-data (a #!/bin/sh script, or cloud-config).
    #[arg(long)]
    user_data: Option<PathBuf>,
    /// How many instances to launch.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// A name for the instance (also its hostname).
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
}

pub async fn launch(c: &Client, out: &Out, args: &LaunchArgs) -> anyhow::Result<()> {
    let user_data = match &args.user_data {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let mut tags = BTreeMap::new();
    for t in &args.tags {
        let (k, v) = t
            .split_once('=')
            .with_context(|| format!("tag '{t}' must be key=value"))?;
        tags.insert(k.to_owned(), v.to_owned());
    }
    let request = RunInstancesRequest {
        image_id: super::resolve_image(c, &args.image).await?,
        instance_type: args.instance_type.clone(),
        key_name: args.key_name.clone(),
        subnet_id: args.subnet.clone(),
        security_group_ids: (!args.groups.is_empty()).then(|| args.groups.clone()),
        user_data,
        count: Some(args.count),
        name: args.name.clone(),
        tags: (!tags.is_empty()).then_some(tags),
        dedicated: args.dedicated.then_some(true),
    };
    let launched = c.run_instances(&request).await?.items;
    if args.wait {
        let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
        wait_ready(c, &ids).await?;
        // Show them as they are now, running with their addresses.
        let mut now = Vec::new();
        for id in &ids {
            now.push(c.get_instance(id).await?);
        }
        return out.list(&now);
    }
    out.list(&launched)
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

/// Why the host may not reach `ip` on SSH, if its security groups say so (`vpc trace` from the
/// host): then there is no point waiting for port 22.
async fn ssh_refused(c: &Client, ip: &str) -> Option<String> {
    let t = c
        .trace(&TraceRequest {
            from: "host".into(),
            to: ip.to_owned(),
            protocol: Protocol::Tcp,
            port: Some(22),
        })
        .await
        .ok()?;
    (t.verdict == Verdict::Deny).then_some(t.reason)
}

/// Waits until every instance runs and answers on port 22 — or runs, when its security groups
/// do not let the host in on SSH (said, instead of waiting forever).
async fn wait_ready(c: &Client, ids: &[String]) -> anyhow::Result<()> {
    let mut progress = Progress::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut ready: BTreeMap<String, String> = BTreeMap::new();
    let mut no_ssh: BTreeMap<String, (String, String)> = BTreeMap::new();
    while ready.len() < ids.len() {
        if Instant::now() > deadline {
            bail!("gave up waiting after 10 minutes; see `cloudctl instance console <id>`");
        }
        let mut states = Vec::new();
        let waiting: Vec<String> = ids
            .iter()
            .filter(|id| !ready.contains_key(*id) && !no_ssh.contains_key(*id))
            .cloned()
            .collect();
        if waiting.is_empty() {
            break;
        }
        for id in &waiting {
            let i = c.get_instance(id).await?;
            match (i.state, &i.private_ip) {
                (InstanceState::Terminated, _) => bail!("{id} failed: {}", i.state_reason),
                (InstanceState::Running, Some(ip)) => {
                    if let Some(why) = ssh_refused(c, ip).await {
                        no_ssh.insert(id.clone(), (ip.clone(), why));
                        continue;
                    }
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
        if ready.len() + no_ssh.len() < ids.len() {
            progress.show(&states.join(", "));
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for (id, ip) in &ready {
        progress.done(&format!(
            "{id} answers SSH at {ip}  (cloudctl instance ssh {id})"
        ));
    }
    for (id, (ip, why)) in &no_ssh {
        progress.done(&format!(
            "{id} runs at {ip}; not waiting for SSH: its security groups do not let the host in on port 22 ({why}). Allow it with `cloudctl sg authorize <sg-id> --protocol tcp --port 22 --cidr <gateway>/32` (the subnet's gateway is the host's address: `cloudctl subnet list`)"
        ));
    }
    Ok(())
}
