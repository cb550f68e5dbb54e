//! Host networking: what the VPC service needs of the host (the [`HostNetwork`] trait and the
//! specs it takes), with Linux behind it on a real host (`real`: bridges, dnsmasq, iptables) and a
//! simulated twin for fast tests (`sim`). Names, address blocks and rules come from
//! [`crate::netspec`], already rendered: drivers apply them, they do not decide them.

mod real;
mod sim;

use std::net::Ipv4Addr;

use super::DriverResult;
use crate::netspec::{Cidr, Naming, Ruleset};

pub use real::LinuxNetwork;
pub use sim::{SimNetwork, SimState};

/// A subnet's bridge: the host is its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeSpec {
    pub name: String,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
}

/// A subnet's DHCP server: fixed leases only, for the addresses Nuvem allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpSpec {
    pub subnet_id: String,
    pub bridge: String,
    pub subnet: Cidr,
    pub gateway: Ipv4Addr,
    /// (mac, ip, host name)
    pub hosts: Vec<(String, String, String)>,
}

/// How an interface is plugged into a network namespace standing in for a host.
#[derive(Debug, Clone)]
pub struct NetnsPlug {
    pub device: String,
    pub bridge: String,
    pub netns: String,
    pub mac: String,
    /// Configure this address statically; `None` leaves it to DHCP.
    pub address: Option<(Ipv4Addr, u8, Ipv4Addr)>,
}

/// What the host network must offer Nuvem. Methods are blocking: call them off the async workers.
pub trait HostNetwork: Send + Sync + 'static {
    /// Kernel settings Nuvem relies on: IPv4 forwarding, bridged traffic through iptables.
    fn prepare(&self) -> DriverResult<()>;
    /// Names of existing links starting with `prefix`.
    fn links(&self, prefix: &str) -> DriverResult<Vec<String>>;
    /// Creates the bridge if missing and makes sure it has its address and is up; true if created.
    fn bridge_ensure(&self, spec: &BridgeSpec) -> DriverResult<bool>;
    fn link_delete(&self, name: &str) -> DriverResult<()>;
    /// Writes the leases and starts (or reloads) the subnet's dnsmasq; true if started.
    fn dhcp_ensure(&self, spec: &DhcpSpec) -> DriverResult<bool>;
    /// Subnet ids whose DHCP state exists on the host.
    fn dhcp_list(&self) -> DriverResult<Vec<String>>;
    fn dhcp_stop(&self, subnet_id: &str) -> DriverResult<()>;
    /// Replaces Nuvem's chains with `rules` in one commit, deletes chains of the cell that are no
    /// longer used, and makes sure the built-in chains jump to Nuvem's. An empty network removes
    /// everything, jumps included.
    fn firewall_apply(&self, rules: &Ruleset, naming: &Naming, empty: bool) -> DriverResult<()>;
    /// Nuvem's rules as the kernel has them (`iptables -S` of the cell's chains).
    fn firewall_dump(&self, naming: &Naming) -> DriverResult<Vec<String>>;
    /// Address blocks configured on the host's interfaces (to refuse overlapping VPCs).
    fn host_networks(&self) -> DriverResult<Vec<(String, Cidr)>>;
    /// Plugs an interface into a network namespace through a veth pair.
    fn plug_netns(&self, plug: &NetnsPlug) -> DriverResult<()>;
    /// Plugs an interface into the network namespace of a process (a container), named
    /// `plug.netns` for the length of the plug only.
    fn plug_process(&self, plug: &NetnsPlug, pid: u32) -> DriverResult<()>;
}
