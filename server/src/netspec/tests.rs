//! The renderer and the trace on a small lab network, built by hand: no database, no host.

use nuvem_api::vpc::Verdict;

use super::model::{Direction, Protocol};
use super::*;

fn rule(id: &str, direction: Direction, protocol: Protocol, port: Option<u16>, peer: Peer) -> Rule {
    Rule {
        id: id.into(),
        direction,
        protocol,
        ports: port.map(|p| (p, p)),
        peer,
    }
}

fn block(text: &str) -> Peer {
    Peer::Block(Cidr::parse(text).unwrap())
}

fn eni(id: &str, ip: &str, vpc: &str, subnet: &str, group: &str) -> Interface {
    Interface {
        id: id.into(),
        account_id: "111111111111".into(),
        vpc_id: vpc.into(),
        subnet_id: subnet.into(),
        ip: ip.parse().unwrap(),
        mac: "52:54:00:00:00:01".into(),
        device: Naming::new("abcd").device(id),
        groups: vec![group.into()],
    }
}

/// web (8080 from anywhere), db (5432 from web's members), two interfaces in one subnet.
fn lab() -> Network {
    use Direction::{Egress, Ingress};
    Network {
        vpcs: vec![Vpc {
            id: "vpc-00000001".into(),
            cidr: Cidr::parse("10.64.0.0/20").unwrap(),
            internet_gateway: false,
        }],
        subnets: vec![Subnet {
            id: "subnet-00000001".into(),
            vpc_id: "vpc-00000001".into(),
            cidr: Cidr::parse("10.64.0.0/24").unwrap(),
        }],
        groups: vec![
            Group {
                id: "sg-db".into(),
                rules: vec![
                    rule(
                        "sgr-3",
                        Ingress,
                        Protocol::Tcp,
                        Some(5432),
                        Peer::Group("sg-web".into()),
                    ),
                    rule("sgr-4", Egress, Protocol::All, None, block("0.0.0.0/0")),
                ],
            },
            Group {
                id: "sg-web".into(),
                rules: vec![
                    rule(
                        "sgr-1",
                        Ingress,
                        Protocol::Tcp,
                        Some(8080),
                        block("0.0.0.0/0"),
                    ),
                    rule("sgr-2", Egress, Protocol::All, None, block("0.0.0.0/0")),
                ],
            },
        ],
        interfaces: vec![
            eni(
                "eni-0000000a",
                "10.64.0.4",
                "vpc-00000001",
                "subnet-00000001",
                "sg-web",
            ),
            eni(
                "eni-0000000b",
                "10.64.0.5",
                "vpc-00000001",
                "subnet-00000001",
                "sg-db",
            ),
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
    assert!(text.contains("-A NVabcd-FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
    assert!(
        text.contains("-A NVabcd-FWD -m physdev --physdev-in nvabcdt0000000a -j NVabcd-E-0000000a")
    );
    assert!(text.contains("-A NVabcd-FWD -o nvabcdb00000001 -d 10.64.0.5/32 -j NVabcd-I-0000000b"));
    assert!(text.contains(
        "-A NVabcd-I-0000000a -p tcp --dport 8080 -m comment --comment \"sg-web sgr-1\" -j ACCEPT"
    ));
    // The source group became its member's address.
    assert!(text.contains("-A NVabcd-I-0000000b -s 10.64.0.4/32 -p tcp --dport 5432"));
    // The forward chain ends in a drop (the host's chains follow it).
    let last_fwd = text.lines().rfind(|l| l.starts_with("-A NVabcd-FWD "));
    assert!(last_fwd.unwrap().ends_with("-j DROP"));
    // The VPC has no internet gateway: no NAT.
    assert!(rules.nat.rules.is_empty());
    let restore = rules.filter.restore_text("filter");
    assert!(restore.starts_with("*filter\n:NVabcd-FWD - [0:0]\n") && restore.ends_with("COMMIT\n"));
}

#[test]
fn port_forwards_match_only_their_published_address() {
    let mut net = lab();
    net.forward_address = Some("192.0.2.7".parse().unwrap());
    net.port_forwards.push(PortForward {
        id: "pf-1".into(),
        interface_id: "eni-0000000a".into(),
        protocol: Protocol::Tcp,
        host_port: 20022,
        private_port: 22,
    });
    let rules = render(&net, &Naming::new("abcd"));
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
fn rules_for_group_are_its_members_chains() {
    let lines = rules_for_group(&lab(), &Naming::new("abcd"), "sg-db");
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(l.contains("0000000b") && !l.contains("0000000a -j"), "{l}");
    }
}

#[test]
fn trace_names_the_deciding_rule_or_default() {
    let net = lab();
    let a = Endpoint::Address("10.64.0.4".parse().unwrap());
    let b = Endpoint::Address("10.64.0.5".parse().unwrap());
    let t = trace(&net, "111111111111", a, b, Protocol::Tcp, Some(5432)).unwrap();
    assert_eq!(t.verdict, Verdict::Allow);
    assert_eq!(t.steps.last().unwrap().rule_id.as_deref(), Some("sgr-3"));
    assert_eq!(
        t.reason,
        "rule sgr-3 of sg-db allows tcp port 5432 from members of sg-web"
    );
    let t = trace(&net, "111111111111", b, a, Protocol::Tcp, Some(5432)).unwrap();
    assert_eq!(t.verdict, Verdict::Deny);
    assert!(
        t.reason.contains("no ingress rule of sg-web"),
        "{}",
        t.reason
    );
    let t = trace(
        &net,
        "111111111111",
        a,
        Endpoint::Address("198.18.0.2".parse().unwrap()),
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
        trace(&net, "222222222222", a, b, Protocol::Tcp, Some(1)).is_err(),
        "not your interface"
    );
}

#[test]
fn the_host_passes_the_same_rules_as_any_outside_address() {
    let net = lab();
    let web = Endpoint::Address("10.64.0.4".parse().unwrap());
    let db = Endpoint::Address("10.64.0.5".parse().unwrap());
    // web allows 8080 from anywhere: the host too, from its gateway address.
    let t = trace(
        &net,
        "111111111111",
        Endpoint::Host,
        web,
        Protocol::Tcp,
        Some(8080),
    )
    .unwrap();
    assert_eq!(t.verdict, Verdict::Allow, "{t:?}");
    assert!(t.steps[0].reason.contains("10.64.0.1"), "{t:?}");
    // SSH is not allowed: the host is refused like anyone else.
    let t = trace(
        &net,
        "111111111111",
        Endpoint::Host,
        web,
        Protocol::Tcp,
        Some(22),
    )
    .unwrap();
    assert_eq!(t.verdict, Verdict::Deny);
    assert!(t.reason.contains("from 10.64.0.1"), "{}", t.reason);
    // db admits only web's members.
    let t = trace(
        &net,
        "111111111111",
        Endpoint::Host,
        db,
        Protocol::Tcp,
        Some(5432),
    )
    .unwrap();
    assert_eq!(t.verdict, Verdict::Deny);
    // To the host: the source's egress rules decide; the gateway address is the host.
    let t = trace(
        &net,
        "111111111111",
        web,
        Endpoint::Host,
        Protocol::Tcp,
        Some(7070),
    )
    .unwrap();
    assert_eq!(t.verdict, Verdict::Allow);
    assert_eq!(t.steps.last().unwrap().stage, "route");
    let gw = Endpoint::Address("10.64.0.1".parse().unwrap());
    let same = trace(&net, "111111111111", web, gw, Protocol::Tcp, Some(7070)).unwrap();
    assert_eq!(same.steps.len(), t.steps.len());
    assert!(
        trace(
            &net,
            "111111111111",
            Endpoint::Host,
            Endpoint::Host,
            Protocol::All,
            None
        )
        .is_err()
    );
}

#[test]
fn the_host_chains_send_its_traffic_through_the_interfaces_rules() {
    let set = render(&lab(), &Naming::new("abcd"));
    let rules = &set.filter.rules;
    let has = |needle: &str| rules.iter().any(|r| r.contains(needle));
    assert!(set.filter.chains.contains(&"NVabcd-HOUT".to_owned()));
    assert!(set.filter.chains.contains(&"NVabcd-HIN".to_owned()));
    assert!(
        has("-A NVabcd-HOUT -d 10.64.0.4/32 -j NVabcd-I-"),
        "{rules:#?}"
    );
    assert!(has("-A NVabcd-HIN -m physdev --physdev-in"), "{rules:#?}");
    // DHCP and DNS are the subnet's own services, exempt as in AWS.
    assert!(has("-A NVabcd-HIN -p udp --dport 67"));
    assert!(has("-A NVabcd-HOUT -p udp --sport 67 --dport 68"));
    let jumps = Naming::new("abcd").jumps();
    assert!(jumps.iter().any(|(t, c, a)| *t == "filter"
        && *c == "OUTPUT"
        && a.contains(&"NVabcd-HOUT".to_owned())));
    assert!(
        jumps.iter().any(|(t, c, a)| *t == "filter"
            && *c == "INPUT"
            && a.contains(&"NVabcd-HIN".to_owned()))
    );
}
