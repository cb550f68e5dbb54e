//! The input of the renderer and the trace: the desired network of every account on this host,
//! typed (address blocks, directions, protocols, ports), with nothing of how it is stored.
//!
//! The VPC service builds it from its database rows (`vpc/snapshot.rs`); tests and benchmarks
//! build it by hand.

use std::net::Ipv4Addr;

pub use nuvem_api::vpc::{Direction, Protocol};

use super::cidr::Cidr;

/// Everything the host's network is built from, for all accounts.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    /// Security groups with their rules, in the order the rules are evaluated.
    pub groups: Vec<Group>,
    pub interfaces: Vec<Interface>,
    pub port_forwards: Vec<PortForward>,
    /// The host address port forwards are published on: their DNAT matches only it.
    pub forward_address: Option<Ipv4Addr>,
}

#[derive(Debug, Clone)]
pub struct Vpc {
    pub id: String,
    pub cidr: Cidr,
    pub internet_gateway: bool,
}

#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr: Cidr,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub rules: Vec<Rule>,
}

/// One rule of a security group: what it allows, to or from whom.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub direction: Direction,
    pub protocol: Protocol,
    /// First and last port (inclusive); matched only for protocols with ports.
    pub ports: Option<(u16, u16)>,
    /// The source of an ingress rule, the destination of an egress rule.
    pub peer: Peer,
}

/// Who a rule's peer is: an address block, or the current members of a security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Block(Cidr),
    Group(String),
}

/// A network interface: an address in a subnet, a device on the host, and its groups.
#[derive(Debug, Clone)]
pub struct Interface {
    pub id: String,
    /// The owner: a trace may start only from the caller's own interfaces.
    pub account_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub ip: Ipv4Addr,
    pub mac: String,
    /// The host-side device (tap or veth) plugged into the subnet's bridge.
    pub device: String,
    /// Ids of its security groups.
    pub groups: Vec<String>,
}

/// A host port forwarded to an interface's private port.
#[derive(Debug, Clone)]
pub struct PortForward {
    pub id: String,
    pub interface_id: String,
    pub protocol: Protocol,
    pub host_port: u16,
    pub private_port: u16,
}
