//! The lookups rendering and tracing share (an interface's groups and rules, a group's member
//! addresses), built once per call, so that the rules and their explanation walk the network in
//! the same order.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::cidr::Cidr;
use super::model::{Direction, Group, Interface, Network, Peer, Rule, Subnet};

/// A rule's peer as addresses: a block, or the addresses of a group's current members.
#[derive(Debug, Clone)]
pub(super) enum Resolved {
    Block(Cidr),
    Members(Vec<Ipv4Addr>),
}

/// A rule with the id of the group it belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) struct GroupRule<'a> {
    pub group_id: &'a str,
    pub rule: &'a Rule,
}

pub(super) struct Index<'a> {
    groups_of: BTreeMap<&'a str, Vec<&'a str>>,
    members_of: BTreeMap<&'a str, Vec<Ipv4Addr>>,
    group: BTreeMap<&'a str, &'a Group>,
    pub subnet: BTreeMap<&'a str, &'a Subnet>,
}

impl<'a> Index<'a> {
    pub fn new(net: &'a Network) -> Self {
        let mut groups_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut members_of: BTreeMap<&str, Vec<Ipv4Addr>> = BTreeMap::new();
        for e in &net.interfaces {
            for g in &e.groups {
                groups_of.entry(e.id.as_str()).or_default().push(g.as_str());
                members_of.entry(g.as_str()).or_default().push(e.ip);
            }
        }
        for v in groups_of.values_mut() {
            v.sort();
        }
        for v in members_of.values_mut() {
            v.sort();
        }
        Index {
            groups_of,
            members_of,
            group: net.groups.iter().map(|g| (g.id.as_str(), g)).collect(),
            subnet: net.subnets.iter().map(|s| (s.id.as_str(), s)).collect(),
        }
    }

    pub fn peer(&self, rule: &Rule) -> Resolved {
        match &rule.peer {
            Peer::Block(c) => Resolved::Block(*c),
            Peer::Group(g) => {
                Resolved::Members(self.members_of.get(g.as_str()).cloned().unwrap_or_default())
            }
        }
    }

    /// Rules of an interface's groups in one direction, in evaluation order.
    pub fn rules(&self, eni: &Interface, direction: Direction) -> Vec<GroupRule<'a>> {
        self.groups_of
            .get(eni.id.as_str())
            .into_iter()
            .flatten()
            .filter_map(|g| self.group.get(g))
            .flat_map(|g| {
                g.rules.iter().map(|rule| GroupRule {
                    group_id: g.id.as_str(),
                    rule,
                })
            })
            .filter(|r| r.rule.direction == direction)
            .collect()
    }

    /// An interface's groups, for messages.
    pub fn groups(&self, eni: &Interface) -> String {
        self.groups_of
            .get(eni.id.as_str())
            .map(|g| g.join(", "))
            .unwrap_or_default()
    }
}
