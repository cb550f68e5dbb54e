//! End to end on the real host network: `cloudctl` builds a VPC's pieces, the server is killed
//! with SIGKILL, the host is damaged as a crash or reboot would, and a restarted server rebuilds
//! exactly what its database says. Then everything is deleted and nothing of it is left.

use std::process::Command;
use std::time::{Duration, Instant};

use nuvem_e2e::*;

const POOL: &str = "10.121.0.0/16";

#[test]
#[ignore = "needs root (bridges, iptables, dnsmasq): run infra/test.sh"]
fn network_survives_kill_9_and_cleans_up() {
    if !is_root() {
        assert!(!in_ci(), "CI must run the network tests as root");
        eprintln!(
            "SKIPPED network_survives_kill_9_and_cleans_up: needs root (run infra/test.sh as root)"
        );
        return;
    }
    let mut stack = Stack::start(POOL, &[]);
    let cell = stack.cell.clone();

    // The default VPC appears on first use; add a group, a rule, two interfaces, a port forward.
    let vpcs = stack.cli.json(&["vpc", "list"]);
    let vpc = vpcs[0]["id"].as_str().unwrap().to_owned();
    assert!(vpcs[0]["cidr"].as_str().unwrap().starts_with("10.121."));
    let subnet = stack.cli.json(&["subnet", "list", "--vpc", &vpc])[0].clone();
    let (subnet_id, bridge) = (
        subnet["id"].as_str().unwrap().to_owned(),
        subnet["bridge"].as_str().unwrap().to_owned(),
    );
    let sg = stack
        .cli
        .json(&["sg", "create", "--vpc", &vpc, "--name", "ssh"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rules = stack.cli.json(&[
        "sg",
        "authorize",
        &sg,
        "--protocol",
        "tcp",
        "--port",
        "22",
        "--cidr",
        "0.0.0.0/0",
    ]);
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2);
    let a = stack
        .cli
        .json(&["eni", "create", "--subnet", &subnet_id, "--sg", &sg])[0]
        .clone();
    let b = stack.cli.json(&["eni", "create", "--subnet", &subnet_id])[0].clone();
    let (a_ip, b_ip) = (
        a["private_ip"].as_str().unwrap(),
        b["private_ip"].as_str().unwrap(),
    );
    let pf = stack.cli.json(&[
        "port-forward",
        "create",
        "--interface",
        a["id"].as_str().unwrap(),
        "--host-port",
        "22222",
        "--port",
        "22",
    ])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let generated = stack.cli.ok(&["sg", "rules", &sg, "--iptables"]);
    assert!(
        generated.contains("--dport 22") && generated.contains("-j ACCEPT"),
        "{generated}"
    );

    // Trace: ALLOW exits 0, DENY exits 2 and names the default.
    let allow = stack.cli.run(
        &["vpc", "trace", "--from", b_ip, "--to", a_ip, "--port", "22"],
        None,
    );
    assert_eq!(allow.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&allow.stdout).starts_with("ALLOW"));
    let deny = stack.cli.run(
        &["vpc", "trace", "--from", b_ip, "--to", a_ip, "--port", "23"],
        None,
    );
    assert_eq!(deny.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&deny.stdout).contains("default deny"));

    let chain = format!("NV{cell}-FWD");
    let rules_before = sh("iptables", &["-w", "-S", &chain]);
    let nat_before = sh(
        "iptables",
        &["-w", "-t", "nat", "-S", &format!("NV{cell}-PRE")],
    );
    assert!(nat_before.contains("--dport 22222"), "{nat_before}");
    // Published on one host address only, never on every local address.
    assert!(
        nat_before
            .lines()
            .filter(|l| l.contains("--dport 22222"))
            .all(|l| l.contains(" -d ")),
        "{nat_before}"
    );

    // kill -9, damage the host as a crash or a reboot would, and restart: the restarted server
    // makes the host match its database again.
    stack.kill_and_restart(|| {
        sh("ip", &["link", "del", &bridge]);
        sh("iptables", &["-w", "-F", &chain]);
        sh(
            "iptables",
            &["-w", "-t", "nat", "-F", &format!("NV{cell}-PRE")],
        );
        let killed = Command::new("pkill")
            .args(["-f", "--", &format!("--interface={bridge}")])
            .status()
            .unwrap();
        assert!(
            killed.success(),
            "the subnet's dnsmasq should have been running"
        );
        sh(
            "ip",
            &[
                "link",
                "add",
                &format!("nv{cell}bfeedf00d"),
                "type",
                "bridge",
            ],
        );
    });
    let links = sh("ip", &["-o", "link", "show"]);
    assert!(links.contains(&bridge), "the bridge was not rebuilt");
    assert!(
        !links.contains(&format!("nv{cell}bfeedf00d")),
        "an orphan bridge was left"
    );
    assert_eq!(sh("iptables", &["-w", "-S", &chain]), rules_before);
    assert_eq!(
        sh(
            "iptables",
            &["-w", "-t", "nat", "-S", &format!("NV{cell}-PRE")]
        ),
        nat_before
    );
    assert!(
        leftovers(&cell).iter().any(|l| l.starts_with("dnsmasq")),
        "dnsmasq was not restarted"
    );
    let report = stack.cli.json(&["vpc", "reconcile"]);
    assert_eq!(
        report["bridges_created"].as_array().unwrap().len(),
        0,
        "already reconciled at start"
    );

    // Delete everything through cloudctl: nothing of this server is left on the host.
    stack.cli.ok(&["port-forward", "delete", &pf]);
    for eni in [&a, &b] {
        stack
            .cli
            .ok(&["eni", "delete", eni["id"].as_str().unwrap()]);
    }
    stack.cli.ok(&["sg", "delete", &sg]);
    stack.cli.ok(&["vpc", "delete", &vpc]);
    assert_eq!(leftovers(&cell), Vec::<String>::new());

    // SIGTERM stops it cleanly.
    let mut server = stack.guard.servers.pop().unwrap();
    sh("kill", &["-TERM", &server.id().to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no clean stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}
