//! The firewall as a pure function of the database: [`render`] turns a [`NetworkSnapshot`] into
//! the iptables rules of Nuvem's chains, and [`trace`] answers "would this packet pass?" from the
//! same model, in the same order, so that the explanation and the packets always agree.
//!
//! Chains (filter table), all prefixed `NV<cell>-` so that several Nuvem servers (or test servers)
//! can share a host without touching each other's rules:
//!
//! ```text
//! FORWARD -i nv<cell>+ / -o nv<cell>+  →  FWD
//! FWD   RELATED,ESTABLISHED → ACCEPT          (stateful: replies pass, revokes hit new flows)
//!       INVALID → DROP
//!       --physdev-in <device>  → E-<eni>        (egress rules; RETURN when allowed)
//!       -i <bridge>            → V-<vpc>        (own subnets: RETURN; other VPCs: DROP;
//!                                                outside: ACCEPT only with an internet gateway)
//!       -o <bridge> -d <ip>    → I-<eni>        (ingress rules; ACCEPT when allowed)
//!       DROP
//! ```
//! NAT table: `POST` masquerades a VPC's traffic leaving Nuvem's bridges when its internet gateway
//! is on; `PRE`/`OUT` DNAT forwarded host ports to private addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use nuvem_api::vpc::{Direction, Protocol, TraceResult, TraceStep, Verdict};

use super::cidr::Cidr;
use crate::store::vpc::{EniRow, NetworkSnapshot, SgRuleRow, SubnetRow};

/// Names of Nuvem's host objects for one server (its "cell").
#[derive(Debug, Clone)]
pub struct Naming {
    cell: String,
}

/// The hex part of an id such as `subnet-0a1b2c3d`.
fn suffix(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

impl Naming {
    pub fn new(cell: &str) -> Self {
        Naming {
            cell: cell.to_owned(),
        }
    }

    pub fn cell(&self) -> &str {
        &self.cell
    }

    /// Every device Nuvem creates starts with this (15 characters at most in all).
    pub fn device_prefix(&self) -> String {
        format!("nv{}", self.cell)
    }

    pub fn bridge(&self, subnet_id: &str) -> String {
        format!("nv{}b{}", self.cell, suffix(subnet_id))
    }

    pub fn bridge_prefix(&self) -> String {
        format!("nv{}b", self.cell)
    }

    /// The host-side device (tap or veth) of an interface.
    pub fn device(&self, eni_id: &str) -> String {
        format!("nv{}t{}", self.cell, suffix(eni_id))
    }

    pub fn device_of_interface_prefix(&self) -> String {
        format!("nv{}t", self.cell)
    }

    pub fn chain_prefix(&self) -> String {
        format!("NV{}-", self.cell)
    }

    pub fn forward_chain(&self) -> String {
        format!("NV{}-FWD", self.cell)
    }

    fn egress_chain(&self, eni_id: &str) -> String {
        format!("NV{}-E-{}", self.cell, suffix(eni_id))
    }

    fn ingress_chain(&self, eni_id: &str) -> String {
        format!("NV{}-I-{}", self.cell, suffix(eni_id))
    }

    fn vpc_chain(&self, vpc_id: &str) -> String {
        format!("NV{}-V-{}", self.cell, suffix(vpc_id))
    }

    pub fn nat_chains(&self) -> [String; 3] {
        [
            format!("NV{}-PRE", self.cell),
            format!("NV{}-OUT", self.cell),
            format!("NV{}-POST", self.cell),
        ]
    }

    /// The jumps from the built-in chains, as (table, chain, rule arguments).
    pub fn jumps(&self) -> Vec<(&'static str, &'static str, Vec<String>)> {
        let any = format!("{}+", self.device_prefix());
        let [pre, out, post] = self.nat_chains();
        let fwd = self.forward_chain();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        vec![
            ("filter", "FORWARD", s(&["-i", &any, "-j", &fwd])),
            ("filter", "FORWARD", s(&["-o", &any, "-j", &fwd])),
            (
                "nat",
                "PREROUTING",
                s(&["-m", "addrtype", "--dst-type", "LOCAL", "-j", &pre]),
            ),
            (
                "nat",
                "OUTPUT",
                s(&["-m", "addrtype", "--dst-type", "LOCAL", "-j", &out]),
            ),
            ("nat", "POSTROUTING", s(&["-j", &post])),
        ]
    }
}

/// Rules for one table: the chains it owns and the `-A` lines that fill them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub chains: Vec<String>,
    pub rules: Vec<String>,
}

impl Table {
    /// `iptables-restore --noflush` input: declaring a chain flushes it, so the whole of Nuvem's
    /// state is replaced in one atomic commit while other chains stay untouched.
    pub fn restore_text(&self, table: &str) -> String {
        let mut out = format!("*{table}\n");
        for c in &self.chains {
            out.push_str(&format!(":{c} - [0:0]\n"));
        }
        for r in &self.rules {
            out.push_str(r);
            out.push('\n');
        }
        out.push_str("COMMIT\n");
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub filter: Table,
    pub nat: Table,
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        self.filter.rules.len() + self.nat.rules.len()
    }
}

/// Who a rule's peer is: an address block, or the current members of a security group.
#[derive(Debug, Clone)]
enum Peer {
    Block(Cidr),
    Members(Vec<Ipv4Addr>),
}

/// The facts of the snapshot that rules and traces look up.
struct Model<'a> {
    groups_of: BTreeMap<&'a str, Vec<&'a str>>,
    members_of: BTreeMap<&'a str, Vec<Ipv4Addr>>,
    rules_of: BTreeMap<&'a str, Vec<&'a SgRuleRow>>,
    subnet: BTreeMap<&'a str, &'a SubnetRow>,
}

impl<'a> Model<'a> {
    fn new(snap: &'a NetworkSnapshot) -> Self {
        let mut groups_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut members_of: BTreeMap<&str, Vec<Ipv4Addr>> = BTreeMap::new();
        let ip_of: BTreeMap<&str, Ipv4Addr> = snap
            .interfaces
            .iter()
            .filter_map(|e| e.private_ip.parse().ok().map(|ip| (e.id.as_str(), ip)))
            .collect();
        for (eni, sg) in &snap.memberships {
            groups_of.entry(eni.as_str()).or_default().push(sg.as_str());
            if let Some(ip) = ip_of.get(eni.as_str()) {
                members_of.entry(sg.as_str()).or_default().push(*ip);
            }
        }
        for v in groups_of.values_mut() {
            v.sort();
        }
        for v in members_of.values_mut() {
            v.sort();
        }
        let mut rules_of: BTreeMap<&str, Vec<&SgRuleRow>> = BTreeMap::new();
        for r in &snap.rules {
            rules_of.entry(r.sg_id.as_str()).or_default().push(r);
        }
        let subnet = snap.subnets.iter().map(|s| (s.id.as_str(), s)).collect();
        Model {
            groups_of,
            members_of,
            rules_of,
            subnet,
        }
    }

    fn peer(&self, rule: &SgRuleRow) -> Option<Peer> {
        if let Some(c) = &rule.cidr {
            return Cidr::parse(c).ok().map(Peer::Block);
        }
        let g = rule.source_group_id.as_deref()?;
        Some(Peer::Members(
            self.members_of.get(g).cloned().unwrap_or_default(),
        ))
    }

    /// Rules of an interface's groups in one direction, in evaluation order.
    fn rules(&self, eni: &EniRow, direction: Direction) -> Vec<&'a SgRuleRow> {
        let dir = direction_str(direction);
        self.groups_of
            .get(eni.id.as_str())
            .into_iter()
            .flatten()
            .flat_map(|g| self.rules_of.get(g).into_iter().flatten())
            .filter(|r| r.direction == dir)
            .copied()
            .collect()
    }

    fn groups(&self, eni: &EniRow) -> String {
        self.groups_of
            .get(eni.id.as_str())
            .map(|g| g.join(", "))
            .unwrap_or_default()
    }
}

pub fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Ingress => "ingress",
        Direction::Egress => "egress",
    }
}

fn protocol_of(rule: &SgRuleRow) -> Protocol {
    match rule.protocol.as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "icmp" => Protocol::Icmp,
        _ => Protocol::All,
    }
}

/// `-p tcp --dport 80:90` for a rule (nothing for `all`).
fn match_args(rule: &SgRuleRow) -> String {
    let proto = protocol_of(rule);
    let mut s = String::new();
    if proto != Protocol::All {
        s.push_str(&format!(" -p {}", proto.as_str()));
    }
    if proto.has_ports()
        && let (Some(a), Some(b)) = (rule.from_port, rule.to_port)
    {
        if a == b {
            s.push_str(&format!(" --dport {a}"));
        } else {
            s.push_str(&format!(" --dport {a}:{b}"));
        }
    }
    s
}

fn comment(text: &str) -> String {
    format!(" -m comment --comment \"{}\"", text.replace('"', "'"))
}

/// Renders Nuvem's whole ruleset for one cell.
pub fn render(snap: &NetworkSnapshot, naming: &Naming) -> Ruleset {
    let m = Model::new(snap);
    let fwd = naming.forward_chain();
    let any = format!("{}+", naming.device_prefix());
    let mut filter = Table {
        chains: vec![fwd.clone()],
        rules: Vec::new(),
    };
    let push = |t: &mut Table, chain: &str, args: String| t.rules.push(format!("-A {chain}{args}"));

    push(
        &mut filter,
        &fwd,
        " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".into(),
    );
    push(
        &mut filter,
        &fwd,
        " -m conntrack --ctstate INVALID -j DROP".into(),
    );

    // Egress of each interface, keyed on the bridge port its packets come from.
    for eni in &snap.interfaces {
        let chain = naming.egress_chain(&eni.id);
        filter.chains.push(chain.clone());
        push(
            &mut filter,
            &fwd,
            format!(" -m physdev --physdev-in {} -j {chain}", eni.device),
        );
        push(
            &mut filter,
            &chain,
            format!(
                " ! -s {}/32{} -j DROP",
                eni.private_ip,
                comment("anti-spoofing: only its own address")
            ),
        );
        for rule in m.rules(eni, Direction::Egress) {
            for dst in peers(&m, rule) {
                push(
                    &mut filter,
                    &chain,
                    format!(
                        "{}{}{} -j RETURN",
                        dst_arg(&dst),
                        match_args(rule),
                        comment(&format!("{} {}", rule.sg_id, rule.id))
                    ),
                );
            }
        }
        push(
            &mut filter,
            &chain,
            format!(
                "{} -j DROP",
                comment(&format!(
                    "default: no egress rule of {} allows it",
                    m.groups(eni)
                ))
            ),
        );
    }

    // VPC boundaries: a subnet's traffic may reach its own VPC's subnets, and the outside only
    // through an internet gateway.
    for vpc in &snap.vpcs {
        let own: Vec<&SubnetRow> = snap.subnets.iter().filter(|s| s.vpc_id == vpc.id).collect();
        if own.is_empty() {
            continue;
        }
        let chain = naming.vpc_chain(&vpc.id);
        filter.chains.push(chain.clone());
        for s in &own {
            push(
                &mut filter,
                &fwd,
                format!(" -i {} -j {chain}", naming.bridge(&s.id)),
            );
        }
        for s in &own {
            push(
                &mut filter,
                &chain,
                format!(" -o {} -j RETURN", naming.bridge(&s.id)),
            );
        }
        push(
            &mut filter,
            &chain,
            format!(" -o {any}{} -j DROP", comment("other VPCs are isolated")),
        );
        if vpc.internet_gateway {
            push(
                &mut filter,
                &chain,
                format!(
                    "{} -j ACCEPT",
                    comment(&format!("internet gateway of {}", vpc.id))
                ),
            );
        } else {
            push(
                &mut filter,
                &chain,
                format!(
                    "{} -j DROP",
                    comment(&format!("{} has no internet gateway", vpc.id))
                ),
            );
        }
    }

    // Ingress of each interface, keyed on its address (bridged and routed traffic alike).
    for eni in &snap.interfaces {
        let chain = naming.ingress_chain(&eni.id);
        filter.chains.push(chain.clone());
        let Some(subnet) = m.subnet.get(eni.subnet_id.as_str()) else {
            continue;
        };
        push(
            &mut filter,
            &fwd,
            format!(
                " -o {} -d {}/32 -j {chain}",
                naming.bridge(&subnet.id),
                eni.private_ip
            ),
        );
        for rule in m.rules(eni, Direction::Ingress) {
            for src in peers(&m, rule) {
                push(
                    &mut filter,
                    &chain,
                    format!(
                        "{}{}{} -j ACCEPT",
                        src_arg(&src),
                        match_args(rule),
                        comment(&format!("{} {}", rule.sg_id, rule.id))
                    ),
                );
            }
        }
        push(
            &mut filter,
            &chain,
            format!(
                "{} -j DROP",
                comment(&format!(
                    "default: no ingress rule of {} allows it",
                    m.groups(eni)
                ))
            ),
        );
    }
    push(
        &mut filter,
        &fwd,
        format!(
            "{} -j DROP",
            comment("nothing else crosses Nuvem's networks")
        ),
    );

    // NAT.
    let [pre, out, post] = naming.nat_chains();
    let mut nat = Table {
        chains: vec![pre.clone(), out.clone(), post.clone()],
        rules: Vec::new(),
    };
    for vpc in snap.vpcs.iter().filter(|v| v.internet_gateway) {
        push(
            &mut nat,
            &post,
            format!(
                " -s {} ! -o {any}{} -j MASQUERADE",
                vpc.cidr,
                comment(&format!("internet gateway of {}", vpc.id))
            ),
        );
    }
    let eni_ip: BTreeMap<&str, &str> = snap
        .interfaces
        .iter()
        .map(|e| (e.id.as_str(), e.private_ip.as_str()))
        .collect();
    for pf in &snap.port_forwards {
        let Some(ip) = eni_ip.get(pf.eni_id.as_str()) else {
            continue;
        };
        // Only the published address: the same port on the host's other addresses (and
        // every port outside the forward range) stays the host's own.
        let on = snap
            .forward_address
            .map(|a| format!(" -d {a}/32"))
            .unwrap_or_default();
        for chain in [&pre, &out] {
            push(
                &mut nat,
                chain,
                format!(
                    "{on} -p {} --dport {} -j DNAT --to-destination {ip}:{}{}",
                    pf.protocol,
                    pf.host_port,
                    pf.private_port,
                    comment(&pf.id)
                ),
            );
        }
    }
    Ruleset { filter, nat }
}

/// The peers of a rule as iptables address blocks (a group expands to its members' addresses).
fn peers(m: &Model, rule: &SgRuleRow) -> Vec<Cidr> {
    match m.peer(rule) {
        Some(Peer::Block(c)) => vec![c],
        Some(Peer::Members(ips)) => ips
            .into_iter()
            .map(|ip| Cidr::new(u32::from(ip), 32))
            .collect(),
        None => Vec::new(),
    }
}

fn src_arg(c: &Cidr) -> String {
    if c.prefix() == 0 {
        String::new()
    } else {
        format!(" -s {c}")
    }
}

fn dst_arg(c: &Cidr) -> String {
    if c.prefix() == 0 {
        String::new()
    } else {
        format!(" -d {c}")
    }
}

/// The lines of a rendered ruleset that enforce one security group: its members' chains.
pub fn rules_for_group(snap: &NetworkSnapshot, naming: &Naming, sg_id: &str) -> Vec<String> {
    let set = render(snap, naming);
    let chains: BTreeSet<String> = snap
        .memberships
        .iter()
        .filter(|(_, g)| g == sg_id)
        .flat_map(|(eni, _)| [naming.egress_chain(eni), naming.ingress_chain(eni)])
        .collect();
    set.filter
        .rules
        .into_iter()
        .filter(|r| {
            r.split_whitespace()
                .nth(1)
                .is_some_and(|c| chains.contains(c))
                || chains.iter().any(|c| r.ends_with(&format!("-j {c}")))
        })
        .collect()
}

fn rule_matches(
    m: &Model,
    rule: &SgRuleRow,
    proto: Protocol,
    port: Option<u16>,
    peer: Ipv4Addr,
) -> bool {
    let rp = protocol_of(rule);
    if rp != Protocol::All && rp != proto {
        return false;
    }
    if rp.has_ports() {
        let (Some(a), Some(b), Some(p)) = (rule.from_port, rule.to_port, port) else {
            return false;
        };
        if !(a..=b).contains(&(p as i32)) {
            return false;
        }
    }
    match m.peer(rule) {
        Some(Peer::Block(c)) => c.contains(peer),
        Some(Peer::Members(ips)) => ips.contains(&peer),
        None => false,
    }
}

fn describe(rule: &SgRuleRow) -> String {
    let proto = protocol_of(rule);
    let ports = match (rule.from_port, rule.to_port) {
        (Some(a), Some(b)) if a == b => format!(" port {a}"),
        (Some(a), Some(b)) => format!(" ports {a}-{b}"),
        _ => String::new(),
    };
    let peer = rule
        .cidr
        .clone()
        .or_else(|| {
            rule.source_group_id
                .as_ref()
                .map(|g| format!("members of {g}"))
        })
        .unwrap_or_default();
    let way = if rule.direction == "ingress" {
        "from"
    } else {
        "to"
    };
    format!(
        "rule {} of {} allows {}{ports} {way} {peer}",
        rule.id,
        rule.sg_id,
        proto.as_str()
    )
}

/// Explains what Nuvem's rules do with a new connection from `from` to `to`, in the order the
/// rendered chains evaluate it. `account_id` limits which interfaces the caller may name.
pub fn trace(
    snap: &NetworkSnapshot,
    account_id: &str,
    from: Ipv4Addr,
    to: Ipv4Addr,
    proto: Protocol,
    port: Option<u16>,
) -> Result<TraceResult, String> {
    let m = Model::new(snap);
    let find = |ip: Ipv4Addr| {
        snap.interfaces
            .iter()
            .find(|e| e.private_ip == ip.to_string())
    };
    let src = find(from)
        .filter(|e| e.account_id == account_id)
        .ok_or_else(|| format!("{from} is not the address of one of your network interfaces"))?;
    let mut steps = Vec::new();
    let finish = |steps: Vec<TraceStep>| {
        let last = steps.last().cloned();
        let verdict = if steps.iter().all(|s| s.verdict == Verdict::Allow) {
            Verdict::Allow
        } else {
            Verdict::Deny
        };
        let reason = match (&verdict, last) {
            (Verdict::Deny, _) => steps
                .iter()
                .find(|s| s.verdict == Verdict::Deny)
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
            (Verdict::Allow, Some(s)) => s.reason,
            (Verdict::Allow, None) => String::new(),
        };
        TraceResult {
            verdict,
            reason,
            steps,
        }
    };

    // 1. Egress of the source.
    let egress = m
        .rules(src, Direction::Egress)
        .into_iter()
        .find(|r| rule_matches(&m, r, proto, port, to));
    match egress {
        Some(r) => steps.push(TraceStep {
            stage: format!("egress of {}", src.id),
            verdict: Verdict::Allow,
            reason: describe(r),
            rule_id: Some(r.id.clone()),
        }),
        None => {
            steps.push(TraceStep {
                stage: format!("egress of {}", src.id),
                verdict: Verdict::Deny,
                reason: format!(
                    "no egress rule of {} allows {}{} to {to} (default deny)",
                    m.groups(src),
                    proto.as_str(),
                    port.map(|p| format!(" port {p}")).unwrap_or_default()
                ),
                rule_id: None,
            });
            return Ok(finish(steps));
        }
    }

    // 2. Route: same VPC, another VPC, or the outside.
    let src_vpc = snap.vpcs.iter().find(|v| v.id == src.vpc_id);
    let dst = find(to);
    match dst {
        Some(d) if d.vpc_id == src.vpc_id => {
            steps.push(TraceStep {
                stage: "route".into(),
                verdict: Verdict::Allow,
                reason: format!("{to} is in the same VPC ({})", src.vpc_id),
                rule_id: None,
            });
        }
        _ => {
            let in_some_vpc = snap
                .vpcs
                .iter()
                .any(|v| Cidr::parse(&v.cidr).is_ok_and(|c| c.contains(to)));
            let own_vpc = src_vpc
                .and_then(|v| Cidr::parse(&v.cidr).ok())
                .is_some_and(|c| c.contains(to));
            let (verdict, reason) = if own_vpc {
                (
                    Verdict::Deny,
                    format!("no interface in {} has the address {to}", src.vpc_id),
                )
            } else if in_some_vpc || dst.is_some() {
                (
                    Verdict::Deny,
                    format!("{to} belongs to another VPC: VPCs are isolated from each other"),
                )
            } else if src_vpc.is_some_and(|v| v.internet_gateway) {
                (
                    Verdict::Allow,
                    format!(
                        "{to} is outside: the internet gateway of {} translates the address (NAT)",
                        src.vpc_id
                    ),
                )
            } else {
                (
                    Verdict::Deny,
                    format!("{to} is outside and {} has no internet gateway", src.vpc_id),
                )
            };
            steps.push(TraceStep {
                stage: "route".into(),
                verdict,
                reason,
                rule_id: None,
            });
            return Ok(finish(steps));
        }
    }

    // 3. Ingress of the destination.
    let dst = dst.expect("matched above");
    let ingress = m
        .rules(dst, Direction::Ingress)
        .into_iter()
        .find(|r| rule_matches(&m, r, proto, port, from));
    steps.push(match ingress {
        Some(r) => TraceStep {
            stage: format!("ingress of {}", dst.id),
            verdict: Verdict::Allow,
            reason: describe(r),
            rule_id: Some(r.id.clone()),
        },
        None => TraceStep {
            stage: format!("ingress of {}", dst.id),
            verdict: Verdict::Deny,
            reason: format!(
                "no ingress rule of {} allows {}{} from {from} (default deny)",
                m.groups(dst),
                proto.as_str(),
                port.map(|p| format!(" port {p}")).unwrap_or_default()
            ),
            rule_id: None,
        },
    });
    Ok(finish(steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vpc::{SgRow, SgRuleRow, VpcRow};
    use chrono::Utc;

    fn rule(
        id: &str,
        sg: &str,
        dir: &str,
        proto: &str,
        port: Option<i32>,
        cidr: Option<&str>,
        src: Option<&str>,
    ) -> SgRuleRow {
        SgRuleRow {
            id: id.into(),
            sg_id: sg.into(),
            direction: dir.into(),
            protocol: proto.into(),
            from_port: port,
            to_port: port,
            cidr: cidr.map(Into::into),
            source_group_id: src.map(Into::into),
            description: String::new(),
            created_at: Utc::now(),
        }
    }

    fn eni(id: &str, ip: &str, vpc: &str, subnet: &str) -> EniRow {
        EniRow {
            id: id.into(),
            account_id: "111111111111".into(),
            vpc_id: vpc.into(),
            subnet_id: subnet.into(),
            private_ip: ip.into(),
            mac: "52:54:00:00:00:01".into(),
            device: Naming::new("abcd").device(id),
            attached_to: String::new(),
            description: String::new(),
            created_at: Utc::now(),
        }
    }

    /// web (8080 from anywhere), db (5432 from web's members), two interfaces in one subnet.
    fn lab() -> NetworkSnapshot {
        let now = Utc::now();
        let sg = |id: &str| SgRow {
            id: id.into(),
            account_id: "111111111111".into(),
            vpc_id: "vpc-00000001".into(),
            name: id.into(),
            description: String::new(),
            is_default: false,
            created_at: now,
        };
        NetworkSnapshot {
            vpcs: vec![VpcRow {
                id: "vpc-00000001".into(),
                account_id: "111111111111".into(),
                name: "lab".into(),
                cidr: "10.64.0.0/20".into(),
                is_default: true,
                internet_gateway: false,
                created_at: now,
            }],
            subnets: vec![SubnetRow {
                id: "subnet-00000001".into(),
                account_id: "111111111111".into(),
                vpc_id: "vpc-00000001".into(),
                name: "a".into(),
                cidr: "10.64.0.0/24".into(),
                is_default: true,
                created_at: now,
            }],
            groups: vec![sg("sg-web"), sg("sg-db")],
            rules: vec![
                rule(
                    "sgr-1",
                    "sg-web",
                    "ingress",
                    "tcp",
                    Some(8080),
                    Some("0.0.0.0/0"),
                    None,
                ),
                rule(
                    "sgr-2",
                    "sg-web",
                    "egress",
                    "all",
                    None,
                    Some("0.0.0.0/0"),
                    None,
                ),
                rule(
                    "sgr-3",
                    "sg-db",
                    "ingress",
                    "tcp",
                    Some(5432),
                    None,
                    Some("sg-web"),
                ),
                rule(
                    "sgr-4",
                    "sg-db",
                    "egress",
                    "all",
                    None,
                    Some("0.0.0.0/0"),
                    None,
                ),
            ],
            interfaces: vec![
                eni(
                    "eni-0000000a",
                    "10.64.0.4",
                    "vpc-00000001",
                    "subnet-00000001",
                ),
                eni(
                    "eni-0000000b",
                    "10.64.0.5",
                    "vpc-00000001",
                    "subnet-00000001",
                ),
            ],
            memberships: vec![
                ("eni-0000000a".into(), "sg-web".into()),
                ("eni-0000000b".into(), "sg-db".into()),
            ],
            port_forwards: vec![],
            forward_address: None,
        }
    }

    #[test]
    fn renders_chains_per_interface_with_group_members_expanded() {
        let rules = render(&lab(), &Naming::new("abcd"));
        let text = rules.filter.rules.join("\n");
        assert!(rules.filter.chains.contains(&"NVabcd-FWD".to_owned()));
        assert!(
            text.contains("-A NVabcd-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        );
        assert!(text.contains(
            "-A NVabcd-FWD -m physdev --physdev-in nvabcdt0000000a -j NVabcd-E-0000000a"
        ));
        assert!(
            text.contains("-A NVabcd-FWD -o nvabcdb00000001 -d 10.64.0.5/32 -j NVabcd-I-0000000b")
        );
        assert!(text.contains("-A NVabcd-I-0000000a -p tcp --dport 8080 -m comment --comment \"sg-web sgr-1\" -j ACCEPT"));
        // The source group became its member's address.
        assert!(text.contains("-A NVabcd-I-0000000b -s 10.64.0.4/32 -p tcp --dport 5432"));
        assert!(text.lines().last().unwrap().ends_with("-j DROP"));
        // The VPC has no internet gateway: no NAT.
        assert!(rules.nat.rules.is_empty());
        let restore = rules.filter.restore_text("filter");
        assert!(
            restore.starts_with("*filter\n:NVabcd-FWD - [0:0]\n") && restore.ends_with("COMMIT\n")
        );
    }

    #[test]
    fn port_forwards_match_only_their_published_address() {
        let mut snap = lab();
        snap.forward_address = Some("192.0.2.7".parse().unwrap());
        snap.port_forwards.push(crate::store::vpc::PortForwardRow {
            id: "pf-1".into(),
            account_id: "111111111111".into(),
            eni_id: "eni-0000000a".into(),
            protocol: "tcp".into(),
            host_port: 20022,
            private_port: 22,
            created_at: Utc::now(),
        });
        let rules = render(&snap, &Naming::new("abcd"));
        let dnat: Vec<&String> = rules
            .nat
            .rules
            .iter()
            .filter(|r| r.contains("DNAT"))
            .collect();
        assert_eq!(dnat.len(), 2, "PREROUTING and OUTPUT: {dnat:?}");
        for r in dnat {
            assert!(
                r.contains(
                    "-d 192.0.2.7/32 -p tcp --dport 20022 -j DNAT --to-destination 10.64.0.4:22"
                ),
                "{r}"
            );
        }
    }

    #[test]
    fn trace_names_the_deciding_rule_or_default() {
        let snap = lab();
        let a: Ipv4Addr = "10.64.0.4".parse().unwrap();
        let b: Ipv4Addr = "10.64.0.5".parse().unwrap();
        let t = trace(&snap, "111111111111", a, b, Protocol::Tcp, Some(5432)).unwrap();
        assert_eq!(t.verdict, Verdict::Allow);
        assert_eq!(t.steps.last().unwrap().rule_id.as_deref(), Some("sgr-3"));
        let t = trace(&snap, "111111111111", b, a, Protocol::Tcp, Some(5432)).unwrap();
        assert_eq!(t.verdict, Verdict::Deny);
        assert!(
            t.reason.contains("no ingress rule of sg-web"),
            "{}",
            t.reason
        );
        let t = trace(
            &snap,
            "111111111111",
            a,
            "198.18.0.2".parse().unwrap(),
            Protocol::Tcp,
            Some(80),
        )
        .unwrap();
        assert!(
            t.verdict == Verdict::Deny && t.reason.contains("no internet gateway"),
            "{}",
            t.reason
        );
        assert!(
            trace(&snap, "222222222222", a, b, Protocol::Tcp, Some(1)).is_err(),
            "not your interface"
        );
    }
}
