//! `cloudctl vpc|subnet|sg|eni|port-forward`: VPC networking.

mod interface;
mod security_group;

use std::fmt::Write as _;

use clap::Subcommand;
use nuvem_api::vpc::{Protocol, ReconcileReport, Subnet, TraceRequest, TraceResult, Verdict, Vpc};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular};

pub use interface::{EniCmd, PortForwardCmd, eni, port_forward};
pub use security_group::{SgCmd, sg};

#[derive(Subcommand)]
pub enum VpcCmd {
    /// Create a VPC with an address block inside the host's pool (/16 to /28).
    Create {
        /// The VPC's address block, e.g. 10.70.0.0/16.
        #[arg(long)]
        cidr: String,
        /// A name for the VPC.
        #[arg(long)]
        name: Option<String>,
    },
    /// List your VPCs (your default VPC is created on first use).
    List,
    /// Show one VPC.
    Get {
        /// The VPC id (vpc-…).
        id: String,
    },
    /// Delete a VPC with its subnets and groups (refused while interfaces remain).
    Delete {
        /// The VPC id (vpc-…).
        id: String,
    },
    /// Switch the VPC's internet gateway (NAT to the outside) on or off.
    InternetGateway {
        /// The VPC id (vpc-…).
        id: String,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Would a new connection pass? Answers ALLOW or DENY and names the deciding rule.
    Trace {
        /// The source: a private address of one of your interfaces, or `host` (the machine Nuvem
        /// runs on, which reaches guests from its subnet's gateway address).
        #[arg(long)]
        from: String,
        /// The destination: a private address in one of your VPCs, an outside address, or
        /// `host`.
        #[arg(long)]
        to: String,
        /// The protocol of the connection.
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
        /// The destination port (tcp and udp).
        #[arg(long)]
        port: Option<u32>,
    },
    /// Rebuild bridges, DHCP and firewall from the database now (operator).
    Reconcile,
}

#[derive(Subcommand)]
pub enum SubnetCmd {
    /// Create a subnet: a Linux bridge, the host as gateway, a DHCP server.
    Create {
        /// The VPC id (vpc-…).
        #[arg(long)]
        vpc: String,
        /// The subnet's block, inside the VPC's, e.g. 10.70.1.0/24.
        #[arg(long)]
        cidr: String,
        /// A name for the subnet.
        #[arg(long)]
        name: Option<String>,
    },
    /// List your subnets.
    List {
        /// Only the subnets of this VPC (vpc-…).
        #[arg(long)]
        vpc: Option<String>,
    },
    /// Show one subnet.
    Get {
        /// The subnet id (subnet-…).
        id: String,
    },
    /// Delete a subnet (refused while interfaces remain in it).
    Delete {
        /// The subnet id (subnet-…).
        id: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProtocolArg {
    Tcp,
    Udp,
    Icmp,
    All,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Protocol {
        match p {
            ProtocolArg::Tcp => Protocol::Tcp,
            ProtocolArg::Udp => Protocol::Udp,
            ProtocolArg::Icmp => Protocol::Icmp,
            ProtocolArg::All => Protocol::All,
        }
    }
}

pub async fn vpc(c: &Client, out: &Out, cmd: &VpcCmd) -> anyhow::Result<()> {
    match cmd {
        VpcCmd::Create { cidr, name } => out.list(&[c.create_vpc(cidr, name.as_deref()).await?]),
        VpcCmd::List => out.list(&c.list_vpcs().await?.items),
        VpcCmd::Get { id } => out.list(&[c.get_vpc(id).await?]),
        VpcCmd::Delete { id } => {
            c.delete_vpc(id).await?;
            out.message(&format!("Deleted VPC {id}."));
            Ok(())
        }
        VpcCmd::InternetGateway { id, state } => {
            out.list(&[c.set_internet_gateway(id, state == "on").await?])
        }
        VpcCmd::Trace {
            from,
            to,
            protocol,
            port,
        } => {
            let result = c
                .trace(&TraceRequest {
                    from: from.clone(),
                    to: to.clone(),
                    protocol: (*protocol).into(),
                    port: *port,
                })
                .await?;
            out.text(&result, trace_text)?;
            // Scripts can branch on the exit status: 0 ALLOW, 2 DENY.
            if result.verdict == Verdict::Deny {
                std::process::exit(2);
            }
            Ok(())
        }
        VpcCmd::Reconcile => out.detail(&c.reconcile_network().await?),
    }
}

pub async fn subnet(c: &Client, out: &Out, cmd: &SubnetCmd) -> anyhow::Result<()> {
    match cmd {
        SubnetCmd::Create { vpc, cidr, name } => {
            out.list(&[c.create_subnet(vpc, cidr, name.as_deref()).await?])
        }
        SubnetCmd::List { vpc } => out.list(&c.list_subnets(vpc.as_deref()).await?.items),
        SubnetCmd::Get { id } => out.list(&[c.get_subnet(id).await?]),
        SubnetCmd::Delete { id } => {
            c.delete_subnet(id).await?;
            out.message(&format!("Deleted subnet {id}."));
            Ok(())
        }
    }
}

/// `vpc trace`: the verdict, then each stage that led to it.
fn trace_text(trace: &TraceResult) -> anyhow::Result<String> {
    let mut text = format!(
        "{}: {}\n",
        format!("{:?}", trace.verdict).to_uppercase(),
        trace.reason
    );
    for step in &trace.steps {
        writeln!(
            text,
            "  {:<26} {:<5} {}",
            step.stage,
            format!("{:?}", step.verdict).to_uppercase(),
            step.reason
        )?;
    }
    Ok(text)
}

impl Tabular for Vpc {
    const COLUMNS: &'static [&'static str] = &["ID", "NAME", "CIDR", "DEFAULT", "INTERNET GATEWAY"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            self.cidr.clone(),
            if self.is_default { "yes" } else { "" }.into(),
            if self.internet_gateway { "on" } else { "off" }.into(),
        ]
    }
}

impl Tabular for Subnet {
    const COLUMNS: &'static [&'static str] = &["ID", "VPC", "CIDR", "GATEWAY", "BRIDGE", "FREE"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.vpc_id.clone(),
            self.cidr.clone(),
            self.gateway.clone(),
            self.bridge.clone(),
            self.available_addresses.to_string(),
        ]
    }
}

impl Detail for ReconcileReport {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("bridges created", self.bridges_created.join(", ")),
            ("bridges removed", self.bridges_removed.join(", ")),
            ("DHCP started", self.dhcp_started.join(", ")),
            ("DHCP stopped", self.dhcp_stopped.join(", ")),
            ("firewall rules", self.firewall_rules.to_string()),
            ("took", format!("{} ms", self.duration_ms)),
        ]
    }
}
