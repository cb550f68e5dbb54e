//! The network as data: CIDR arithmetic, device naming, and the firewall ruleset as pure
//! functions. No I/O, no database, no HTTP.
//!
//! Why a module of its own: the VPC service (which owns the database) and the host drivers
//! (which own the kernel) both need these facts, and neither should depend on the other. The VPC
//! service turns its rows into a [`Network`] in one place (`vpc/snapshot.rs`); the drivers take
//! the [`Ruleset`] rendered from it and the [`Naming`] of the cell. Everything here is a function
//! of its arguments, so it is unit-tested without a host.
//!
//! One file per job: `cidr` (address blocks), `naming` (device and chain names of a cell),
//! `model` (the input: VPCs, subnets, interfaces, groups and rules), `index` (the lookups that
//! rendering and tracing share), `ruleset` (iptables tables as text), `render` (the network as
//! iptables rules), `trace` ("would this packet pass?", in the rules' own order).

pub mod cidr;
mod index;
pub mod model;
pub mod naming;
pub mod render;
pub mod ruleset;
pub mod trace;

#[cfg(test)]
mod tests;

pub use cidr::Cidr;
pub use model::{Group, Interface, Network, Peer, PortForward, Rule, Subnet, Vpc};
pub use naming::Naming;
pub use render::{render, rules_for_group};
pub use ruleset::{Ruleset, Table};
pub use trace::{Endpoint, trace};
