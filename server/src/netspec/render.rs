//! The firewall as a pure function of the network: [`render`] turns a [`Network`] into the
//! iptables rules of Nuvem's chains, so that the whole ruleset is rebuilt from the desired state
//! on every change and a crash or a half-done change is repaired the same way.
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
//! OUTPUT -o nv<cell>+  →  HOUT                (the host's own packets to interfaces)
//! HOUT  RELATED,ESTABLISHED, DHCP offers → RETURN
//!       -d <ip>                → I-<eni>        (the same ingress rules: the host is outside)
//! INPUT -i nv<cell>+   →  HIN                 (interfaces' packets to the host itself)
//! HIN   RELATED,ESTABLISHED, DHCP and DNS requests → RETURN
//!       --physdev-in <device>  → E-<eni>        (the same egress rules)
//! ```
//! For security groups the host is one more outside address: it reaches an interface from its
//! subnet's gateway address (`.1`), and only DHCP and DNS — the subnet's own services — bypass
//! the rules, as AWS exempts its DHCP and DNS resolver.
//! NAT table: `POST` masquerades a VPC's traffic leaving Nuvem's bridges when its internet gateway
//! is on; `PRE`/`OUT` DNAT forwarded host ports to private addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::cidr::Cidr;
use super::index::{GroupRule, Index, Resolved};
use super::model::{Direction, Network, Protocol, Rule, Subnet};
use super::naming::Naming;
use super::ruleset::{Ruleset, Table};

/// `-p tcp --dport 80:90` for a rule (nothing for `all`).
fn match_args(rule: &Rule) -> String {
    let mut s = String::new();
    if rule.protocol != Protocol::All {
        s.push_str(&format!(" -p {}", rule.protocol.as_str()));
    }
    if rule.protocol.has_ports()
        && let Some((a, b)) = rule.ports
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
pub fn render(net: &Network, naming: &Naming) -> Ruleset {
    let m = Index::new(net);
    let fwd = naming.forward_chain();
    let any = format!("{}+", naming.device_prefix());
    let mut filter = Table {
        chains: vec![fwd.clone()],
        rules: Vec::new(),
    };
    let push = |t: &mut Table, chain: &str, args: String| t.rules.push(format!("-A {chain}{args}"));
    let rule_comment = |r: &GroupRule| comment(&format!("{} {}", r.group_id, r.rule.id));

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
    for eni in &net.interfaces {
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
                eni.ip,
                comment("anti-spoofing: only its own address")
            ),
        );
        for r in m.rules(eni, Direction::Egress) {
            for dst in peers(&m, r.rule) {
                push(
                    &mut filter,
                    &chain,
                    format!(
                        "{}{}{} -j RETURN",
                        dst_arg(&dst),
                        match_args(r.rule),
                        rule_comment(&r)
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
    for vpc in &net.vpcs {
        let own: Vec<&Subnet> = net.subnets.iter().filter(|s| s.vpc_id == vpc.id).collect();
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
    for eni in &net.interfaces {
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
                eni.ip
            ),
        );
        for r in m.rules(eni, Direction::Ingress) {
            for src in peers(&m, r.rule) {
                push(
                    &mut filter,
                    &chain,
                    format!(
                        "{}{}{} -j ACCEPT",
                        src_arg(&src),
                        match_args(r.rule),
                        rule_comment(&r)
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
    host_rules(net, naming, &mut filter);

    // NAT.
    let [pre, out, post] = naming.nat_chains();
    let mut nat = Table {
        chains: vec![pre.clone(), out.clone(), post.clone()],
        rules: Vec::new(),
    };
    for vpc in net.vpcs.iter().filter(|v| v.internet_gateway) {
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
    let eni_ip: BTreeMap<&str, Ipv4Addr> = net
        .interfaces
        .iter()
        .map(|e| (e.id.as_str(), e.ip))
        .collect();
    for pf in &net.port_forwards {
        let Some(ip) = eni_ip.get(pf.interface_id.as_str()) else {
            continue;
        };
        // Only the published address: the same port on the host's other addresses (and
        // every port outside the forward range) stays the host's own.
        let on = net
            .forward_address
            .map(|a| format!(" -d {a}/32"))
            .unwrap_or_default();
        for chain in [&pre, &out] {
            push(
                &mut nat,
                chain,
                format!(
                    "{on} -p {} --dport {} -j DNAT --to-destination {ip}:{}{}",
                    pf.protocol.as_str(),
                    pf.host_port,
                    pf.private_port,
                    comment(&pf.id)
                ),
            );
        }
    }
    Ruleset { filter, nat }
}

/// The host's own traffic to interfaces, and theirs to it, through the same per-interface chains
/// as any other traffic (see the module's picture).
fn host_rules(net: &Network, naming: &Naming, filter: &mut Table) {
    let (hout, hin) = (naming.host_out_chain(), naming.host_in_chain());
    filter.chains.push(hout.clone());
    filter.chains.push(hin.clone());
    let mut push = |chain: &str, args: String| filter.rules.push(format!("-A {chain}{args}"));
    for chain in [&hout, &hin] {
        push(
            chain,
            " -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN".into(),
        );
    }
    push(
        &hout,
        format!(
            " -p udp --sport 67 --dport 68{} -j RETURN",
            comment("DHCP offers")
        ),
    );
    push(
        &hin,
        format!(" -p udp --dport 67{} -j RETURN", comment("DHCP requests")),
    );
    for proto in ["udp", "tcp"] {
        push(
            &hin,
            format!(" -p {proto} --dport 53{} -j RETURN", comment("DNS")),
        );
    }
    for eni in &net.interfaces {
        push(
            &hout,
            format!(" -d {}/32 -j {}", eni.ip, naming.ingress_chain(&eni.id)),
        );
        push(
            &hin,
            format!(
                " -m physdev --physdev-in {} -j {}",
                eni.device,
                naming.egress_chain(&eni.id)
            ),
        );
    }
}

/// The peers of a rule as iptables address blocks (a group expands to its members' addresses).
fn peers(m: &Index, rule: &Rule) -> Vec<Cidr> {
    match m.peer(rule) {
        Resolved::Block(c) => vec![c],
        Resolved::Members(ips) => ips
            .into_iter()
            .map(|ip| Cidr::new(u32::from(ip), 32))
            .collect(),
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
pub fn rules_for_group(net: &Network, naming: &Naming, sg_id: &str) -> Vec<String> {
    let set = render(net, naming);
    let chains: BTreeSet<String> = net
        .interfaces
        .iter()
        .filter(|e| e.groups.iter().any(|g| g == sg_id))
        .flat_map(|e| [naming.egress_chain(&e.id), naming.ingress_chain(&e.id)])
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
