//! `cloudctl vpc|subnet|sg|eni|port-forward`: VPC networking.

use anyhow::bail;
use clap::Subcommand;
use nuvem_api::vpc::{
    AuthorizeRuleRequest, CreateNetworkInterfaceRequest, CreatePortForwardRequest, Direction,
    Protocol, TraceRequest, Verdict,
};
use nuvem_sdk::Client;

use crate::output::Out;

#[derive(Subcommand)]
pub enum VpcCmd {
    /// Create a VPC with an address block inside the host's pool (/16 to /28).
    Create {
        #[arg(long)]
        cidr: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List your VPCs (your default VPC is created on first use).
    List,
    Get {
        id: String,
    },
    /// Delete a VPC with its subnets and groups (refused while interfaces remain).
    Delete {
        id: String,
    },
    /// Switch the VPC's internet gateway (NAT to the outside) on or off.
    InternetGateway {
        id: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Would a new connection pass? Answers ALLOW or DENY and names the deciding rule.
    Trace {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
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
        #[arg(long)]
        vpc: String,
        #[arg(long)]
        cidr: String,
        #[arg(long)]
        name: Option<String>,
    },
    List {
        #[arg(long)]
        vpc: Option<String>,
    },
    Get {
        id: String,
    },
    Delete {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum SgCmd {
    /// Create a security group: no ingress and all egress until you add rules.
    Create {
        #[arg(long)]
        vpc: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    List {
        #[arg(long)]
        vpc: Option<String>,
    },
    /// Show a group's rules; with --iptables, the kernel rules Nuvem generated for them.
    Rules {
        id: String,
        #[arg(long)]
        iptables: bool,
    },
    Delete {
        id: String,
    },
    /// Add a rule, e.g. `sg authorize sg-1 --protocol tcp --port 22 --cidr 0.0.0.0/0`.
    Authorize {
        id: String,
        #[arg(long, value_enum, default_value_t = DirectionArg::Ingress)]
        direction: DirectionArg,
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
        /// A port (22) or a range (8000-8100), for tcp and udp.
        #[arg(long)]
        port: Option<String>,
        /// Source (ingress) or destination (egress) block.
        #[arg(long, conflicts_with = "source_group")]
        cidr: Option<String>,
        /// Or the members of another group of the same VPC.
        #[arg(long)]
        source_group: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a rule by its id (see `sg rules`).
    Revoke {
        id: String,
        rule: String,
    },
}

#[derive(Subcommand)]
pub enum EniCmd {
    /// Create a network interface (default: the default subnet and group).
    Create {
        #[arg(long)]
        subnet: Option<String>,
        /// Security group ids (repeat the flag for several).
        #[arg(long = "sg")]
        groups: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    List {
        #[arg(long)]
        vpc: Option<String>,
    },
    Get {
        id: String,
    },
    Delete {
        id: String,
    },
    /// Replace the interface's security groups.
    SetGroups {
        id: String,
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum PortForwardCmd {
    /// Forward a host port to an interface's private address.
    Create {
        #[arg(long)]
        interface: String,
        #[arg(long)]
        host_port: u32,
        /// The private port (default: the host port).
        #[arg(long)]
        port: Option<u32>,
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
    },
    List,
    Delete {
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

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DirectionArg {
    Ingress,
    Egress,
}

/// `22` → (22, None); `8000-8100` → (8000, Some(8100)).
fn parse_ports(text: &str) -> anyhow::Result<(u32, Option<u32>)> {
    let num = |s: &str| -> anyhow::Result<u32> {
        s.trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("'{s}' is not a port number"))
    };
    match text.split_once('-') {
        Some((a, b)) => Ok((num(a)?, Some(num(b)?))),
        None => Ok((num(text)?, None)),
    }
}

pub async fn vpc(c: &Client, out: &Out, cmd: &VpcCmd) -> anyhow::Result<()> {
    match cmd {
        VpcCmd::Create { cidr, name } => out.vpcs(&[c.create_vpc(cidr, name.as_deref()).await?]),
        VpcCmd::List => out.vpcs(&c.list_vpcs().await?.items),
        VpcCmd::Get { id } => out.vpcs(&[c.get_vpc(id).await?]),
        VpcCmd::Delete { id } => {
            c.delete_vpc(id).await?;
            out.message(&format!("Deleted VPC {id}."));
            Ok(())
        }
        VpcCmd::InternetGateway { id, state } => {
            out.vpcs(&[c.set_internet_gateway(id, state == "on").await?])
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
            out.trace(&result)?;
            // Scripts can branch on the exit status: 0 ALLOW, 2 DENY.
            if result.verdict == Verdict::Deny {
                std::process::exit(2);
            }
            Ok(())
        }
        VpcCmd::Reconcile => out.reconcile(&c.reconcile_network().await?),
    }
}

pub async fn subnet(c: &Client, out: &Out, cmd: &SubnetCmd) -> anyhow::Result<()> {
    match cmd {
        SubnetCmd::Create { vpc, cidr, name } => {
            out.subnets(&[c.create_subnet(vpc, cidr, name.as_deref()).await?])
        }
        SubnetCmd::List { vpc } => out.subnets(&c.list_subnets(vpc.as_deref()).await?.items),
        SubnetCmd::Get { id } => out.subnets(&[c.get_subnet(id).await?]),
        SubnetCmd::Delete { id } => {
            c.delete_subnet(id).await?;
            out.message(&format!("Deleted subnet {id}."));
            Ok(())
        }
    }
}

pub async fn sg(c: &Client, out: &Out, cmd: &SgCmd) -> anyhow::Result<()> {
    match cmd {
        SgCmd::Create {
            vpc,
            name,
            description,
        } => out.security_groups(&[c
            .create_security_group(vpc, name, description.as_deref())
            .await?]),
        SgCmd::List { vpc } => {
            out.security_groups(&c.list_security_groups(vpc.as_deref()).await?.items)
        }
        SgCmd::Rules {
            id,
            iptables: false,
        } => out.sg_rules(&c.get_security_group(id).await?),
        SgCmd::Rules { id, iptables: true } => out.generated(&c.security_group_iptables(id).await?),
        SgCmd::Delete { id } => {
            c.delete_security_group(id).await?;
            out.message(&format!("Deleted security group {id}."));
            Ok(())
        }
        SgCmd::Authorize {
            id,
            direction,
            protocol,
            port,
            cidr,
            source_group,
            description,
        } => {
            let (from_port, to_port) = match port {
                Some(p) => {
                    let (a, b) = parse_ports(p)?;
                    (Some(a), b)
                }
                None => (None, None),
            };
            if cidr.is_none() && source_group.is_none() {
                bail!("give --cidr (e.g. 0.0.0.0/0) or --source-group");
            }
            let rule = AuthorizeRuleRequest {
                direction: match direction {
                    DirectionArg::Ingress => Direction::Ingress,
                    DirectionArg::Egress => Direction::Egress,
                },
                protocol: (*protocol).into(),
                from_port,
                to_port,
                cidr: cidr.clone(),
                source_group_id: source_group.clone(),
                description: description.clone(),
            };
            out.sg_rules(&c.authorize_rule(id, &rule).await?)
        }
        SgCmd::Revoke { id, rule } => {
            c.revoke_rule(id, rule).await?;
            out.message(&format!("Revoked {rule} from {id}."));
            Ok(())
        }
    }
}

pub async fn eni(c: &Client, out: &Out, cmd: &EniCmd) -> anyhow::Result<()> {
    match cmd {
        EniCmd::Create {
            subnet,
            groups,
            description,
        } => {
            let req = CreateNetworkInterfaceRequest {
                subnet_id: subnet.clone(),
                security_group_ids: (!groups.is_empty()).then(|| groups.clone()),
                description: description.clone(),
            };
            out.interfaces(&[c.create_network_interface(&req).await?])
        }
        EniCmd::List { vpc } => {
            out.interfaces(&c.list_network_interfaces(vpc.as_deref()).await?.items)
        }
        EniCmd::Get { id } => out.interfaces(&[c.get_network_interface(id).await?]),
        EniCmd::Delete { id } => {
            c.delete_network_interface(id).await?;
            out.message(&format!("Deleted network interface {id}."));
            Ok(())
        }
        EniCmd::SetGroups { id, groups } => {
            out.interfaces(&[c.set_interface_security_groups(id, groups.clone()).await?])
        }
    }
}

pub async fn port_forward(c: &Client, out: &Out, cmd: &PortForwardCmd) -> anyhow::Result<()> {
    match cmd {
        PortForwardCmd::Create {
            interface,
            host_port,
            port,
            protocol,
        } => {
            let req = CreatePortForwardRequest {
                protocol: (*protocol).into(),
                host_port: *host_port,
                interface_id: interface.clone(),
                private_port: port.unwrap_or(*host_port),
            };
            out.port_forwards(&[c.create_port_forward(&req).await?])
        }
        PortForwardCmd::List => out.port_forwards(&c.list_port_forwards().await?.items),
        PortForwardCmd::Delete { id } => {
            c.delete_port_forward(id).await?;
            out.message(&format!("Deleted port forward {id}."));
            Ok(())
        }
    }
}
