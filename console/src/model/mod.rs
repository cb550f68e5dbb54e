//! The pages' plain logic: how a state is badged, a rule read from its form, a verdict shown,
//! which page the address names (`route`), what an instance or a host offers (`compute`), what
//! the Billing pages work out (`billing`), what the Apps pages show (`apps`). Plain Rust on
//! `nuvem-api` types, so it is tested on the host like `i18n`.

pub mod apps;
pub mod billing;
mod compute;
mod route;
pub mod storage;

pub use compute::*;
pub use route::{AppsView, BillingView, Page};

use nuvem_api::ec2::InstanceState;
use nuvem_api::vpc::{AuthorizeRuleRequest, Direction, Protocol, TraceRequest, TraceResult};

/// The CSS classes of an instance's status badge: green when it runs, amber while it changes,
/// grey when stopped or gone.
pub fn badge_class(state: InstanceState) -> &'static str {
    match state {
        InstanceState::Running => "badge ok",
        InstanceState::Pending | InstanceState::Stopping | InstanceState::ShuttingDown => {
            "badge busy"
        }
        InstanceState::Stopped => "badge idle",
        InstanceState::Terminated => "badge off",
    }
}

/// The protocol of the rule form's `<select>` (its values are the API's names).
pub fn protocol(value: &str) -> Protocol {
    match value {
        "udp" => Protocol::Udp,
        "icmp" => Protocol::Icmp,
        "all" => Protocol::All,
        _ => Protocol::Tcp,
    }
}

/// The rule form's direction `<select>` (its values are the API's names).
pub fn direction(value: &str) -> Direction {
    match value {
        "egress" => Direction::Egress,
        _ => Direction::Ingress,
    }
}

/// Whom a rule lets in (ingress) or out to (egress): an address block, or the members of another
/// security group of the same VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Cidr(String),
    Group(String),
}

impl Peer {
    /// From the form: the source `<select>` says `cidr` (then the CIDR field counts) or names a
    /// group's id.
    pub fn from_form(choice: &str, cidr: &str) -> Peer {
        match choice {
            "" | "cidr" => Peer::Cidr(cidr.trim().to_owned()),
            group => Peer::Group(group.to_owned()),
        }
    }
}

/// The rule form's port is not a number.
#[derive(Debug, PartialEq, Eq)]
pub struct NotAPort;

/// A rule from the form. A port that is not a number is refused here; a number out of range goes
/// to the server, whose message names the range.
pub fn rule(
    direction: Direction,
    protocol: Protocol,
    port: &str,
    peer: Peer,
) -> Result<AuthorizeRuleRequest, NotAPort> {
    let from_port = if protocol.has_ports() {
        Some(port.trim().parse::<u32>().map_err(|_| NotAPort)?)
    } else {
        None
    };
    let (cidr, source_group_id) = match peer {
        Peer::Cidr(c) => (Some(c), None),
        Peer::Group(g) => (None, Some(g)),
    };
    Ok(AuthorizeRuleRequest {
        direction,
        protocol,
        from_port,
        to_port: None,
        cidr,
        source_group_id,
        description: None,
    })
}

/// A rule's ports: `22`, `8000-8080`, or `all`.
pub fn ports(from: Option<u16>, to: Option<u16>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "all".into(),
    }
}

/// The trace form's question: a TCP connection to a port (not a number: port 0, which the
/// server refuses with its own message).
pub fn trace_request(from: &str, to: &str, port: &str) -> TraceRequest {
    TraceRequest {
        from: from.to_owned(),
        to: to.to_owned(),
        protocol: Protocol::Tcp,
        port: Some(port.trim().parse().unwrap_or(0)),
    }
}

/// `ALLOW: <reason>` or `DENY: <reason>`.
pub fn verdict(t: &TraceResult) -> String {
    format!(
        "{}: {}",
        format!("{:?}", t.verdict).to_uppercase(),
        t.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuvem_api::vpc::Verdict;

    #[test]
    fn badges_follow_the_api_states() {
        assert_eq!(badge_class(InstanceState::Running), "badge ok");
        assert_eq!(badge_class(InstanceState::ShuttingDown), "badge busy");
        assert_eq!(badge_class(InstanceState::Stopped), "badge idle");
        assert_eq!(badge_class(InstanceState::Terminated), "badge off");
    }

    #[test]
    fn a_rule_from_the_form() {
        let cidr = || Peer::from_form("cidr", " 0.0.0.0/0 ");
        let r = rule(direction("ingress"), protocol("tcp"), " 8080 ", cidr()).unwrap();
        assert_eq!((r.protocol, r.from_port), (Protocol::Tcp, Some(8080)));
        assert_eq!(r.direction, Direction::Ingress);
        assert_eq!(r.cidr.as_deref(), Some("0.0.0.0/0"));
        assert_eq!(r.source_group_id, None);
        // Out of range is the server's to refuse; not a number is the form's.
        let udp = rule(Direction::Ingress, Protocol::Udp, "70000", cidr()).unwrap();
        assert_eq!(udp.from_port, Some(70000));
        assert_eq!(
            rule(Direction::Ingress, Protocol::Tcp, "ssh", cidr()).unwrap_err(),
            NotAPort
        );
        // ICMP has no port, whatever the field says.
        let icmp = rule(Direction::Egress, protocol("icmp"), "ssh", cidr()).unwrap();
        assert_eq!((icmp.from_port, icmp.direction), (None, Direction::Egress));
    }

    #[test]
    fn a_rule_whose_source_is_a_group() {
        let peer = Peer::from_form("sg-0abc", "0.0.0.0/0");
        assert_eq!(peer, Peer::Group("sg-0abc".into()));
        let r = rule(Direction::Ingress, Protocol::Tcp, "22", peer).unwrap();
        assert_eq!(r.source_group_id.as_deref(), Some("sg-0abc"));
        assert_eq!(r.cidr, None, "a rule names a CIDR or a group, not both");
    }

    #[test]
    fn ports_and_verdicts_as_shown() {
        assert_eq!(ports(Some(22), Some(22)), "22");
        assert_eq!(ports(Some(8000), Some(8080)), "8000-8080");
        assert_eq!(ports(None, None), "all");
        let t = TraceResult {
            verdict: Verdict::Allow,
            reason: "rule sgr-1 of web".into(),
            steps: vec![],
        };
        assert_eq!(verdict(&t), "ALLOW: rule sgr-1 of web");
        assert_eq!(trace_request("a", "b", "x").port, Some(0));
    }
}
