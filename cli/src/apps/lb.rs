//! `cloudctl lb create|list|describe|targets|delete`: load balancers (HAProxy) in front of app
//! replicas or instances.

use clap::Subcommand;
use nuvem_api::apps::{CreateLoadBalancerRequest, HealthCheck, LoadBalancer, Target};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp};

#[derive(Subcommand)]
pub enum LbCmd {
    /// Create a load balancer listening on a host port, for an app or for instances.
    Create {
        /// A name for the load balancer.
        name: String,
        /// The host port it listens on.
        #[arg(long)]
        port: u16,
        /// An app whose replicas are the targets.
        #[arg(long, required_unless_present = "instances")]
        app: Option<String>,
        /// Instance ids (i-…) as targets (repeat for several), on --target-port.
        #[arg(long = "instance")]
        instances: Vec<String>,
        /// The port of the instances the balancer sends to.
        #[arg(long = "target-port")]
        target_port: Option<u16>,
        /// An HTTP path for the health check (default: a TCP connect).
        #[arg(long = "health-path")]
        health_path: Option<String>,
    },
    /// Your load balancers.
    List,
    /// One load balancer with its targets' live state.
    Describe {
        /// The load balancer's name or id.
        name: String,
    },
    /// The targets with HAProxy's live numbers: state, sessions, requests, errors.
    Targets {
        /// The load balancer's name or id.
        name: String,
    },
    /// Delete a load balancer (its listener stops at once).
    Delete {
        /// The load balancer's name or id.
        name: String,
    },
}

pub async fn lb(c: &Client, out: &Out, cmd: &LbCmd) -> anyhow::Result<()> {
    match cmd {
        LbCmd::Create {
            name,
            port,
            app,
            instances,
            target_port,
            health_path,
        } => {
            let request = CreateLoadBalancerRequest {
                name: name.clone(),
                port: *port,
                app: app.clone(),
                instance_ids: instances.clone(),
                target_port: *target_port,
                health_check: HealthCheck {
                    path: health_path.clone(),
                    ..HealthCheck::default()
                },
            };
            out.detail(&c.create_load_balancer(&request).await?)
        }
        LbCmd::List => out.list(&c.list_load_balancers().await?.items),
        LbCmd::Describe { name } => {
            let lb = c.get_load_balancer(name).await?;
            out.detail(&lb)?;
            if !out.is_json() {
                out.list(&lb.targets)?;
            }
            Ok(())
        }
        LbCmd::Targets { name } => {
            let lb = c.get_load_balancer(name).await?;
            out.rows_of(&lb.targets, &lb.targets)
        }
        LbCmd::Delete { name } => {
            c.delete_load_balancer(name).await?;
            out.message(&format!("deleted load balancer {name}"));
            Ok(())
        }
    }
}

impl Tabular for LoadBalancer {
    const COLUMNS: &'static [&'static str] = &["NAME", "ID", "URL", "APP", "TARGETS", "UP"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.id.clone(),
            self.url.clone(),
            self.app.clone().unwrap_or_default(),
            self.targets.len().to_string(),
            self.targets
                .iter()
                .filter(|t| t.state.starts_with("UP"))
                .count()
                .to_string(),
        ]
    }
}

impl Detail for LoadBalancer {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let h = &self.health_check;
        vec![
            ("name", self.name.clone()),
            ("id", self.id.clone()),
            ("url", self.url.clone()),
            ("app", self.app.clone().unwrap_or_else(|| "-".into())),
            (
                "health check",
                format!(
                    "{} every {} s, healthy after {}, unhealthy after {}",
                    h.path
                        .as_deref()
                        .map(|p| format!("HTTP GET {p}"))
                        .unwrap_or_else(|| "TCP connect".into()),
                    h.interval_seconds,
                    h.healthy_threshold,
                    h.unhealthy_threshold
                ),
            ),
            ("targets", self.targets.len().to_string()),
            ("created", timestamp(&self.created_at)),
        ]
    }
}

impl Tabular for Target {
    const COLUMNS: &'static [&'static str] = &[
        "TARGET", "ADDRESS", "STATE", "SESSIONS", "TOTAL", "REQUESTS", "ERRORS",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            format!("{}:{}", self.address, self.port),
            self.state.clone(),
            self.sessions_current.to_string(),
            self.sessions_total.to_string(),
            self.requests_total.to_string(),
            self.errors.to_string(),
        ]
    }
}
