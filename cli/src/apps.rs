//! `cloudctl app ...` (container apps) and `cloudctl lb ...` (load balancers).

mod images;
mod lb;
mod observe;
mod show;
mod wait;

pub use lb::{LbCmd, lb};

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use nuvem_api::apps::{
    AppSpec, Autoscaling, CreateAppRequest, HealthCheck, LogParams, UpdateAppRequest,
};
use nuvem_sdk::Client;

use crate::output::Out;

#[derive(Subcommand)]
pub enum AppCmd {
    /// Container images: build from a Dockerfile, list with layers, describe, delete.
    #[command(subcommand)]
    Image(images::ImageCmd),
    /// Create an app and deploy its replicas (and a load balancer with --public-port).
    Create(CreateArgs),
    /// Deploy a new version (image, command, env: rolled out replica by replica) or new limits.
    Deploy(DeployArgs),
    /// Your apps with their state and replicas.
    List,
    /// One app: its replicas (state, health, restarts, CPU), balancer, autoscaling.
    Describe {
        /// The app's name.
        name: String,
    },
    /// Scale by hand to a number of replicas.
    Scale {
        /// The app's name.
        name: String,
        /// How many replicas to run.
        #[arg(long)]
        replicas: u32,
        /// Wait until that many replicas are healthy.
        #[arg(long)]
        wait: bool,
    },
    /// Target tracking on average CPU (like AWS target tracking or Kubernetes' HPA); --off
    /// turns it off.
    Autoscale {
        /// The app's name.
        name: String,
        /// The fewest replicas.
        #[arg(long, required_unless_present = "off")]
        min: Option<u32>,
        /// The most replicas.
        #[arg(long, required_unless_present = "off")]
        max: Option<u32>,
        /// The average CPU % of one core per replica to keep.
        #[arg(long = "target-cpu", required_unless_present = "off")]
        target_cpu: Option<f64>,
        /// Seconds between two scaling decisions.
        #[arg(long, default_value_t = 30)]
        cooldown: u32,
        /// Turn target tracking off (the replicas stay as they are).
        #[arg(long, conflicts_with_all = ["min", "max", "target_cpu"])]
        off: bool,
    },
    /// Log lines of the replicas merged by time, each with its replica.
    Logs {
        /// The app's name.
        name: String,
        /// Keep printing new lines (Ctrl-C stops).
        #[arg(long, short = 'f')]
        follow: bool,
        /// One replica: its number in `app describe` (1, 2, ...) or its id (r-…).
        #[arg(long)]
        replica: Option<String>,
        /// Only lines after this time (RFC 3339, e.g. 2026-12-02T10:00:00Z) or this long ago
        /// (30s, 5m, 2h).
        #[arg(long)]
        since: Option<String>,
        /// The last N lines per replica.
        #[arg(long)]
        tail: Option<u32>,
    },
    /// Deploys, scales, restarts, health changes, rollouts, rollbacks, autoscaling decisions.
    Events {
        /// The app's name.
        name: String,
    },
    /// One replica as the kernel sees it: PIDs, namespaces beside the host's, cgroup limits.
    Internals {
        /// The app's name.
        name: String,
        /// Its number in `app describe` (1, 2, ...) or its id (r-…); default the first.
        #[arg(long)]
        replica: Option<String>,
    },
    /// Delete an app: its balancer, replicas, interfaces and own security group.
    Delete {
        /// The app's name.
        name: String,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// A name: lowercase letters, digits and hyphens.
    name: String,
    /// `name:tag` of one of your images (`cloudctl app image list`), or a base such as
    /// nuvem/busybox:latest.
    #[arg(long)]
    image: String,
    /// The port the container listens on.
    #[arg(long)]
    port: u16,
    /// How many replicas to run.
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// A host port for a load balancer in front of the replicas.
    #[arg(long = "public-port")]
    public_port: Option<u16>,
    /// vCPUs per replica (the cgroup's CPU quota).
    #[arg(long, default_value_t = 0.5)]
    cpu: f64,
    /// MiB per replica (the cgroup's memory limit).
    #[arg(long = "memory", default_value_t = 128)]
    memory_mib: u32,
    /// KEY=VALUE (repeat for several).
    #[arg(long = "env")]
    env: Vec<String>,
    /// An HTTP path for the health check (default: a TCP connect to the port).
    #[arg(long = "health-path")]
    health_path: Option<String>,
    /// Seconds between health checks.
    #[arg(long = "health-interval", default_value_t = 2)]
    health_interval: u32,
    /// Subnet id (default: your default VPC's subnet).
    #[arg(long)]
    subnet: Option<String>,
    /// Security group ids (default: a group made for the app that lets the balancer in).
    #[arg(long = "sg")]
    groups: Vec<String>,
    /// key=value (repeat for several).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Wait until every replica is healthy, showing progress.
    #[arg(long)]
    wait: bool,
    /// The command to run instead of the image's (after --).
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Args)]
pub struct DeployArgs {
    /// The app's name.
    name: String,
    /// A new image (name:tag): a new version, rolled out replica by replica.
    #[arg(long)]
    image: Option<String>,
    /// New vCPUs per replica (applied in place).
    #[arg(long)]
    cpu: Option<f64>,
    /// New MiB per replica (applied in place).
    #[arg(long = "memory")]
    memory_mib: Option<u32>,
    /// KEY=VALUE: the whole new environment (repeat for several).
    #[arg(long = "env")]
    env: Vec<String>,
    /// Wait until the rollout is done (or rolled back), showing progress.
    #[arg(long)]
    wait: bool,
    /// The new command (after --).
    #[arg(last = true)]
    command: Vec<String>,
}

fn key_values(what: &str, items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("{what} '{kv}' must be KEY=VALUE"))
        })
        .collect()
}

pub async fn app(c: &Client, out: &Out, cmd: &AppCmd) -> anyhow::Result<()> {
    match cmd {
        AppCmd::Image(cmd) => images::image(c, out, cmd).await,
        AppCmd::Create(args) => create(c, out, args).await,
        AppCmd::Deploy(args) => deploy(c, out, args).await,
        AppCmd::List => out.list(&c.list_apps().await?.items),
        AppCmd::Describe { name } => show::describe(out, &c.get_app(name).await?),
        AppCmd::Scale {
            name,
            replicas,
            wait,
        } => {
            let app = c.scale_app(name, *replicas).await?;
            let app = if *wait {
                wait::deployed(c, name, app.version).await?
            } else {
                app
            };
            show::describe(out, &app)
        }
        AppCmd::Autoscale {
            name,
            min,
            max,
            target_cpu,
            cooldown,
            off,
        } => {
            if *off {
                c.delete_autoscaling(name).await?;
                out.message(&format!("autoscaling of {name} is off"));
                return Ok(());
            }
            let (Some(min), Some(max), Some(target)) = (min, max, target_cpu) else {
                bail!("--min, --max and --target-cpu are all needed (or --off)");
            };
            let policy = Autoscaling {
                min: *min,
                max: *max,
                target_cpu_percent: *target,
                cooldown_seconds: *cooldown,
            };
            show::describe(out, &c.set_autoscaling(name, &policy).await?)
        }
        AppCmd::Logs {
            name,
            follow,
            replica,
            since,
            tail,
        } => {
            let replica = match replica {
                Some(r) => Some(show::replica_id(&c.get_app(name).await?, r)?),
                None => None,
            };
            let params = LogParams {
                replica,
                since: since.as_deref().map(observe::parse_since).transpose()?,
                tail: *tail,
            };
            observe::logs(c, out, name, params, *follow).await
        }
        AppCmd::Events { name } => out.list(&c.app_events(name).await?.items),
        AppCmd::Internals { name, replica } => {
            let app = c.get_app(name).await?;
            let id = show::replica_id(&app, replica.as_deref().unwrap_or("1"))?;
            let internals = c.replica_internals(name, &id).await?;
            out.text(&internals, show::internals_text)
        }
        AppCmd::Delete { name } => {
            c.delete_app(name).await?;
            out.message(&format!("deleted app {name}"));
            Ok(())
        }
    }
}

async fn create(c: &Client, out: &Out, a: &CreateArgs) -> anyhow::Result<()> {
    let request = CreateAppRequest {
        name: a.name.clone(),
        spec: AppSpec {
            image: a.image.clone(),
            command: a.command.clone(),
            env: key_values("env", &a.env)?,
            port: a.port,
            cpu: a.cpu,
            memory_mib: a.memory_mib,
            health_check: HealthCheck {
                path: a.health_path.clone(),
                interval_seconds: a.health_interval,
                ..HealthCheck::default()
            },
        },
        replicas: a.replicas,
        public_port: a.public_port,
        subnet_id: a.subnet.clone(),
        security_group_ids: (!a.groups.is_empty()).then(|| a.groups.clone()),
        tags: key_values("tag", &a.tags)?,
    };
    let app = c.create_app(&request).await?;
    let app = if a.wait {
        wait::deployed(c, &a.name, app.version).await?
    } else {
        app
    };
    show::describe(out, &app)
}

async fn deploy(c: &Client, out: &Out, a: &DeployArgs) -> anyhow::Result<()> {
    let request = UpdateAppRequest {
        image: a.image.clone(),
        command: (!a.command.is_empty()).then(|| a.command.clone()),
        env: (!a.env.is_empty())
            .then(|| key_values("env", &a.env))
            .transpose()?,
        cpu: a.cpu,
        memory_mib: a.memory_mib,
    };
    if request == UpdateAppRequest::default() {
        bail!("nothing to deploy: give --image, --env, --cpu, --memory or a command after --");
    }
    let app = c.update_app(&a.name, &request).await?;
    let app = if a.wait {
        wait::deployed(c, &a.name, app.version).await?
    } else {
        app
    };
    show::describe(out, &app)
}
