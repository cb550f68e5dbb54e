//! A load balancer in front of an instance, on the real parts: a `nuvem-tiny` guest under
//! libvirt/QEMU serves HTTP (busybox httpd, started by its user-data), HAProxy balances it. The
//! balancer's health checks come from the subnet's gateway, so the instance's security group
//! decides: blocked until a rule lets the gateway in on the port, then `UP` and serving; a
//! server that stops inside the guest is taken out (503) and put back when it answers again.

mod apps_support;

use std::time::{Duration, Instant};

use apps_support::*;
use nuvem_e2e::*;
use serde_json::Value;

const POOL: &str = "10.130.0.0/16";

/// The subnet's gateway (its first address), which the balancer and its checks send from.
fn gateway_of(cidr: &str) -> String {
    let (network, _) = cidr.split_once('/').expect("a CIDR");
    let base: std::net::Ipv4Addr = network.parse().expect("an IPv4 network");
    std::net::Ipv4Addr::from(u32::from(base) + 1).to_string()
}

/// The balancer's only target, once its state satisfies `done`.
fn target_when(cli: &Cli, lb: &str, what: &str, done: impl Fn(&str) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = cli.json(&["lb", "describe", lb]);
        let target = described["targets"][0].clone();
        if target["state"].as_str().is_some_and(&done) {
            return target;
        }
        assert!(
            Instant::now() < deadline,
            "the target never got {what}: {described}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "needs root, libvirt/QEMU, dockerd, HAProxy and the nuvem-tiny image: run infra/test.sh"]
fn a_load_balancer_serves_an_instance_through_its_security_group() {
    let Some(images) = nuvem_tiny_images("load balancer with instance targets") else {
        return;
    };
    let images = images.display().to_string();
    let Some(stack) = apps_stack_with(
        POOL,
        "31150-31159",
        "load balancer with instance targets",
        &libvirt_flags(&images),
    ) else {
        return;
    };
    let cli = &stack.cli;
    cli.ok(&["key-pair", "create", "lab"]);
    let user_data = stack.home.path().join("serve.sh");
    std::fs::write(
        &user_data,
        "#!/bin/sh\nmkdir -p /www\necho \"hello from $(hostname)\" > /www/index.html\n\
         httpd -p 8080 -h /www\n",
    )
    .unwrap();
    let instance = &cli.launch_tiny("web-vm", "lab", &user_data);
    let id = instance["id"].as_str().unwrap().to_owned();
    let group = instance["security_group_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let subnet = cli.json(&["subnet", "get", instance["subnet_id"].as_str().unwrap()]);
    let gateway = gateway_of(subnet[0]["cidr"].as_str().unwrap());

    // The instance's default group lets the host in on SSH only: the checks on 8080 fail.
    let lb = cli.json(&[
        "lb",
        "create",
        "web-vm",
        "--port",
        "31150",
        "--instance",
        &id,
        "--target-port",
        "8080",
        "--health-path",
        "/",
    ]);
    let url = lb["url"].as_str().unwrap().to_owned();
    assert_eq!(lb["targets"][0]["id"], format!("instance/{id}"), "{lb}");
    let down = target_when(cli, "web-vm", "DOWN", |s| s.starts_with("DOWN"));
    println!("blocked by the security group: {down}");
    assert!(matches!(get(&url), Ok((503, _))), "{:?}", get(&url));

    // A rule for the gateway on the port: the checks pass and the guest's page comes back.
    let source = format!("{gateway}/32");
    cli.ok(&[
        "sg",
        "authorize",
        &group,
        "--protocol",
        "tcp",
        "--port",
        "8080",
        "--cidr",
        &source,
        "--description",
        "the load balancer and its health checks",
    ]);
    let started = Instant::now();
    target_when(cli, "web-vm", "UP", |s| s.starts_with("UP"));
    println!("UP {:.1} s after the rule", started.elapsed().as_secs_f64());
    for body in answers(&url, 5) {
        assert!(body.starts_with("hello from"), "{body}");
    }

    // The server stops inside the guest: taken out, then back once it answers again.
    cli.ok(&["instance", "ssh", &id, "--", "killall", "httpd"]);
    target_when(cli, "web-vm", "DOWN", |s| s.starts_with("DOWN"));
    assert!(matches!(get(&url), Ok((503, _))), "{:?}", get(&url));
    cli.ok(&[
        "instance", "ssh", &id, "--", "httpd", "-p", "8080", "-h", "/www",
    ]);
    target_when(cli, "web-vm", "UP", |s| s.starts_with("UP"));
    let stats = target_when(cli, "web-vm", "UP", |_| true);
    assert!(
        stats["requests_total"].as_u64().unwrap_or(0) >= 5,
        "{stats}"
    );
    assert!(!answers(&url, 1).is_empty());

    // Deleting the balancer closes its port; the instance is left as it was.
    cli.ok(&["lb", "delete", "web-vm"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(&url).is_ok() {
        assert!(Instant::now() < deadline, "{url} still answers");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(cli.json(&["instance", "describe", &id])["state"], "running");
    cli.ok(&["instance", "terminate", &id]);
}
