//! "Would this packet pass?": [`trace`] follows a new connection through the same model that
//! [`render`](super::render::render) turns into rules, in the order the rendered chains evaluate
//! it, so that the explanation and the packets always agree.

use std::net::Ipv4Addr;

use nuvem_api::vpc::{TraceResult, TraceStep, Verdict};

use super::index::{GroupRule, Index, Resolved};
use super::model::{Direction, Network, Peer, Protocol, Rule};

fn rule_matches(
    m: &Index,
    rule: &Rule,
    proto: Protocol,
    port: Option<u16>,
    peer: Ipv4Addr,
) -> bool {
    if rule.protocol != Protocol::All && rule.protocol != proto {
        return false;
    }
    if rule.protocol.has_ports() {
        let (Some((a, b)), Some(p)) = (rule.ports, port) else {
            return false;
        };
        if !(a..=b).contains(&p) {
            return false;
        }
    }
    match m.peer(rule) {
        Resolved::Block(c) => c.contains(peer),
        Resolved::Members(ips) => ips.contains(&peer),
    }
}

fn describe(r: &GroupRule) -> String {
    let rule = r.rule;
    let ports = match rule.ports {
        Some((a, b)) if a == b => format!(" port {a}"),
        Some((a, b)) => format!(" ports {a}-{b}"),
        None => String::new(),
    };
    let peer = match &rule.peer {
        Peer::Block(c) => c.to_string(),
        Peer::Group(g) => format!("members of {g}"),
    };
    let way = match rule.direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    format!(
        "rule {} of {} allows {}{ports} {way} {peer}",
        rule.id,
        r.group_id,
        rule.protocol.as_str()
    )
}

/// One end of a traced connection: the host Nuvem runs on, or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Host,
    Address(Ipv4Addr),
}

/// The address the host has in an interface's subnet (its gateway): where its packets come from.
fn host_address(net: &Network, eni: &super::model::Interface) -> Option<Ipv4Addr> {
    net.subnets
        .iter()
        .find(|s| s.id == eni.subnet_id)
        .map(|s| super::cidr::gateway(s.cidr))
}

fn finish(steps: Vec<TraceStep>) -> TraceResult {
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
}

fn what(proto: Protocol, port: Option<u16>) -> String {
    format!(
        "{}{}",
        proto.as_str(),
        port.map(|p| format!(" port {p}")).unwrap_or_default()
    )
}

/// The ingress step of `dst` for a packet from `from`.
fn ingress_step(
    m: &Index,
    dst: &super::model::Interface,
    from: Ipv4Addr,
    proto: Protocol,
    port: Option<u16>,
) -> TraceStep {
    let ingress = m
        .rules(dst, Direction::Ingress)
        .into_iter()
        .find(|r| rule_matches(m, r.rule, proto, port, from));
    match ingress {
        Some(r) => TraceStep {
            stage: format!("ingress of {}", dst.id),
            verdict: Verdict::Allow,
            reason: describe(&r),
            rule_id: Some(r.rule.id.clone()),
        },
        None => TraceStep {
            stage: format!("ingress of {}", dst.id),
            verdict: Verdict::Deny,
            reason: format!(
                "no ingress rule of {} allows {} from {from} (default deny)",
                m.groups(dst),
                what(proto, port)
            ),
            rule_id: None,
        },
    }
}

/// Explains what Nuvem's rules do with a new connection from `from` to `to`, in the order the
/// rendered chains evaluate it. `account_id` limits which interfaces the caller may name. The
/// host is outside for security groups: it sends from its address in the destination's subnet
/// (the gateway), and a packet to that address is a packet to the host.
pub fn trace(
    net: &Network,
    account_id: &str,
    from: Endpoint,
    to: Endpoint,
    proto: Protocol,
    port: Option<u16>,
) -> Result<TraceResult, String> {
    let m = Index::new(net);
    let find = |ip: Ipv4Addr| net.interfaces.iter().find(|e| e.ip == ip);
    let mine = |ip: Ipv4Addr| {
        find(ip)
            .filter(|e| e.account_id == account_id)
            .ok_or_else(|| format!("{ip} is not the address of one of your network interfaces"))
    };
    let from = match from {
        Endpoint::Address(ip) => ip,
        Endpoint::Host => {
            let Endpoint::Address(to) = to else {
                return Err(
                    "from and to are both the host: trace a packet to or from an interface".into(),
                );
            };
            let dst = mine(to)?;
            let gateway = host_address(net, dst)
                .ok_or_else(|| format!("{} is in no known subnet", dst.id))?;
            let steps = vec![
                TraceStep {
                    stage: "from the host".into(),
                    verdict: Verdict::Allow,
                    reason: format!(
                        "the host sends from {gateway}, its address in subnet {} (the gateway); for security groups it is outside like any other address",
                        dst.subnet_id
                    ),
                    rule_id: None,
                },
                ingress_step(&m, dst, gateway, proto, port),
            ];
            return Ok(finish(steps));
        }
    };
    let src = mine(from)?;
    let gateway = host_address(net, src);
    let to = match to {
        Endpoint::Host => gateway.ok_or_else(|| format!("{} is in no known subnet", src.id))?,
        Endpoint::Address(ip) => ip,
    };
    let mut steps = Vec::new();

    // 1. Egress of the source.
    let egress = m
        .rules(src, Direction::Egress)
        .into_iter()
        .find(|r| rule_matches(&m, r.rule, proto, port, to));
    match egress {
        Some(r) => steps.push(TraceStep {
            stage: format!("egress of {}", src.id),
            verdict: Verdict::Allow,
            reason: describe(&r),
            rule_id: Some(r.rule.id.clone()),
        }),
        None => {
            steps.push(TraceStep {
                stage: format!("egress of {}", src.id),
                verdict: Verdict::Deny,
                reason: format!(
                    "no egress rule of {} allows {} to {to} (default deny)",
                    m.groups(src),
                    what(proto, port)
                ),
                rule_id: None,
            });
            return Ok(finish(steps));
        }
    }

    // 2. Route: the host, same VPC, another VPC, or the outside.
    if Some(to) == gateway {
        steps.push(TraceStep {
            stage: "route".into(),
            verdict: Verdict::Allow,
            reason: format!(
                "{to} is the host (its address in subnet {}, the gateway): it takes the packet",
                src.subnet_id
            ),
            rule_id: None,
        });
        return Ok(finish(steps));
    }
    let src_vpc = net.vpcs.iter().find(|v| v.id == src.vpc_id);
    let dst = match find(to) {
        Some(d) if d.vpc_id == src.vpc_id => {
            steps.push(TraceStep {
                stage: "route".into(),
                verdict: Verdict::Allow,
                reason: format!("{to} is in the same VPC ({})", src.vpc_id),
                rule_id: None,
            });
            d
        }
        dst => {
            let in_some_vpc = net.vpcs.iter().any(|v| v.cidr.contains(to));
            let own_vpc = src_vpc.is_some_and(|v| v.cidr.contains(to));
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
    };

    // 3. Ingress of the destination.
    steps.push(ingress_step(&m, dst, from, proto, port));
    Ok(finish(steps))
}
