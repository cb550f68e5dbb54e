//! `cloudctl eni|port-forward`: network interfaces and the host ports forwarded to them.

use clap::Subcommand;
use nuvem_api::vpc::{
    CreateNetworkInterfaceRequest, CreatePortForwardRequest, NetworkInterface, PortForward,
};
use nuvem_sdk::Client;

use super::ProtocolArg;
use crate::output::{Out, Tabular};

#[derive(Subcommand)]
pub enum EniCmd {
    /// Create a network interface (default: the default subnet and group).
    Create {
        /// The subnet id (subnet-…; default: your default VPC's subnet).
        #[arg(long)]
        subnet: Option<String>,
        /// Security group ids (repeat the flag for several).
        #[arg(long = "sg")]
        groups: Vec<String>,
        /// A description shown in `eni list`.
        #[arg(long)]
        description: Option<String>,
    },
    /// List your network interfaces.
    List {
        /// Only the interfaces of this VPC (vpc-…).
        #[arg(long)]
        vpc: Option<String>,
    },
    /// Show one network interface.
    Get {
        /// The interface id (eni-…).
        id: String,
    },
    /// Delete a network interface (not one attached to an instance).
    Delete {
        /// The interface id (eni-…).
        id: String,
    },
    /// Replace the interface's security groups.
    SetGroups {
        /// The interface id (eni-…).
        id: String,
        /// The security group ids (sg-…) it is to have, replacing its current ones.
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum PortForwardCmd {
    /// Forward a host port to an interface's private address.
    Create {
        /// The interface id (eni-…) whose address receives the traffic.
        #[arg(long)]
        interface: String,
        /// The host port (inside the operator's range, default 20000-29999).
        #[arg(long)]
        host_port: u32,
        /// The private port (default: the host port).
        #[arg(long)]
        port: Option<u32>,
        /// The protocol forwarded.
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
    },
    /// List your port forwards.
    List,
    /// Delete a port forward.
    Delete {
        /// The port forward id.
        id: String,
    },
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
            out.list(&[c.create_network_interface(&req).await?])
        }
        EniCmd::List { vpc } => out.list(&c.list_network_interfaces(vpc.as_deref()).await?.items),
        EniCmd::Get { id } => out.list(&[c.get_network_interface(id).await?]),
        EniCmd::Delete { id } => {
            c.delete_network_interface(id).await?;
            out.message(&format!("Deleted network interface {id}."));
            Ok(())
        }
        EniCmd::SetGroups { id, groups } => {
            out.list(&[c.set_interface_security_groups(id, groups.clone()).await?])
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
            out.list(&[c.create_port_forward(&req).await?])
        }
        PortForwardCmd::List => out.list(&c.list_port_forwards().await?.items),
        PortForwardCmd::Delete { id } => {
            c.delete_port_forward(id).await?;
            out.message(&format!("Deleted port forward {id}."));
            Ok(())
        }
    }
}

impl Tabular for NetworkInterface {
    const COLUMNS: &'static [&'static str] = &[
        "ID",
        "SUBNET",
        "PRIVATE IP",
        "MAC",
        "DEVICE",
        "GROUPS",
        "ATTACHED TO",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.subnet_id.clone(),
            self.private_ip.clone(),
            self.mac.clone(),
            self.device.clone(),
            self.security_group_ids.join(","),
            self.attached_to.clone(),
        ]
    }
}

impl Tabular for PortForward {
    const COLUMNS: &'static [&'static str] = &["ID", "PUBLISHED ON", "TO", "INTERFACE"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            format!(
                "{}:{}/{}",
                self.host_address,
                self.host_port,
                self.protocol.as_str()
            ),
            format!("{}:{}", self.private_ip, self.private_port),
            self.interface_id.clone(),
        ]
    }
}
