//! The one place where the VPC service's database rows become the network as data
//! ([`netspec::Network`]): the renderer, the trace and the host drivers never see a row, so the
//! store can change without touching them, and a malformed row is caught here, once.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::Vpc;
use crate::error::{Error, Result};
use crate::netspec::{self, Cidr, Network, Peer};
use crate::store::vpc::{EniRow, NetworkSnapshot, PortForwardRow, SgRuleRow};

/// A row the code cannot read: the database was changed behind Nuvem's back.
fn malformed(what: &str, id: &str, value: impl std::fmt::Debug) -> Error {
    Error::Internal(format!(
        "the database holds a malformed {what} for {id}: {value:?}"
    ))
}

fn cidr(what: &str, id: &str, text: &str) -> Result<Cidr> {
    Cidr::parse(text).map_err(|_| malformed(what, id, text))
}

fn port(what: &str, id: &str, p: i32) -> Result<u16> {
    u16::try_from(p).map_err(|_| malformed(what, id, p))
}

fn rule(r: &SgRuleRow) -> Result<netspec::Rule> {
    let peer = match (&r.cidr, &r.source_group_id) {
        (Some(c), _) => Peer::Block(cidr("rule address block", &r.id, c)?),
        (None, Some(g)) => Peer::Group(g.clone()),
        (None, None) => return Err(malformed("rule peer", &r.id, "none")),
    };
    let ports = match (r.from_port, r.to_port) {
        (Some(a), Some(b)) => Some((port("rule port", &r.id, a)?, port("rule port", &r.id, b)?)),
        _ => None,
    };
    Ok(netspec::Rule {
        id: r.id.clone(),
        direction: r.direction.get(),
        protocol: r.protocol.get(),
        ports,
        peer,
    })
}

fn interface(e: &EniRow, groups: Vec<String>) -> Result<netspec::Interface> {
    Ok(netspec::Interface {
        id: e.id.clone(),
        account_id: e.account_id.clone(),
        vpc_id: e.vpc_id.clone(),
        subnet_id: e.subnet_id.clone(),
        ip: e
            .private_ip
            .parse::<Ipv4Addr>()
            .map_err(|_| malformed("private address", &e.id, &e.private_ip))?,
        mac: e.mac.clone(),
        device: e.device.clone(),
        groups,
    })
}

fn port_forward(f: &PortForwardRow) -> Result<netspec::PortForward> {
    Ok(netspec::PortForward {
        id: f.id.clone(),
        interface_id: f.eni_id.clone(),
        protocol: f.protocol.get(),
        host_port: port("host port", &f.id, f.host_port)?,
        private_port: port("private port", &f.id, f.private_port)?,
    })
}

/// The rows of every account, as the network they describe. Orders are kept: VPCs, subnets,
/// groups and interfaces by id, a group's rules as the store lists them.
pub(super) fn network(snap: &NetworkSnapshot) -> Result<Network> {
    // Rules by group, seeded with every group (one without rules still has members).
    let mut rules: BTreeMap<&str, Vec<netspec::Rule>> = snap
        .groups
        .iter()
        .map(|g| (g.id.as_str(), Vec::new()))
        .collect();
    for r in &snap.rules {
        rules.entry(r.sg_id.as_str()).or_default().push(rule(r)?);
    }
    let mut groups_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (eni, sg) in &snap.memberships {
        groups_of.entry(eni.as_str()).or_default().push(sg.clone());
    }
    Ok(Network {
        vpcs: snap
            .vpcs
            .iter()
            .map(|v| {
                Ok(netspec::Vpc {
                    id: v.id.clone(),
                    cidr: cidr("VPC block", &v.id, &v.cidr)?,
                    internet_gateway: v.internet_gateway,
                })
            })
            .collect::<Result<_>>()?,
        subnets: snap
            .subnets
            .iter()
            .map(|s| {
                Ok(netspec::Subnet {
                    id: s.id.clone(),
                    vpc_id: s.vpc_id.clone(),
                    cidr: cidr("subnet block", &s.id, &s.cidr)?,
                })
            })
            .collect::<Result<_>>()?,
        groups: rules
            .into_iter()
            .map(|(id, rules)| netspec::Group {
                id: id.to_owned(),
                rules,
            })
            .collect(),
        interfaces: snap
            .interfaces
            .iter()
            .map(|e| interface(e, groups_of.remove(e.id.as_str()).unwrap_or_default()))
            .collect::<Result<_>>()?,
        port_forwards: snap
            .port_forwards
            .iter()
            .map(port_forward)
            .collect::<Result<_>>()?,
        forward_address: snap.forward_address,
    })
}

impl Vpc {
    /// The desired state of the host network, with the address port forwards are published on.
    pub(super) async fn snapshot(&self) -> Result<Network> {
        let mut snap = self.store.network_snapshot().await?;
        snap.forward_address = Some(self.forwards.address);
        network(&snap)
    }
}
