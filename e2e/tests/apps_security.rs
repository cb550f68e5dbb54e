//! Security groups hold for containers as for instances: a client in another container (its
//! own network namespace, in the same subnet) is blocked by the app's group until a rule lets it
//! in, and `vpc trace` names the deciding rule for the container's interface.

mod apps_support;

use std::time::{Duration, Instant};

use apps_support::*;
use nuvem_e2e::*;

const POOL: &str = "10.129.0.0/16";

/// busybox's httpd on 8080, serving a one-line page.
const SERVE: &str =
    "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www";

fn wait_for_log(stack: &Stack, app: &str, word: &str, after: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = stack.cli.ok(&["app", "logs", app, "--tail", "1000"]);
        let count = logs.matches(word).count();
        if count > after {
            return count;
        }
        assert!(
            Instant::now() < deadline,
            "no {word} in {app}'s logs: {logs}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
#[ignore = "needs root, dockerd, HAProxy and the nuvem/busybox image: run infra/test.sh"]
fn security_groups_hold_between_containers() {
    let Some(stack) = apps_stack(POOL, "31100-31149", "apps security groups") else {
        return;
    };
    let cell = stack.cell.clone();
    // `-o json` before the command: after `--` it would be part of the container's command.
    let json = |args: &[&str]| -> serde_json::Value {
        let all = [&["-o", "json"][..], args].concat();
        serde_json::from_str(&stack.cli.ok(&all)).unwrap()
    };
    let target = json(&[
        "app",
        "create",
        "target",
        "--image",
        "nuvem/busybox:latest",
        "--port",
        "8080",
        "--wait",
        "--",
        "sh",
        "-c",
        SERVE,
    ]);
    let target_ip = target["replicas"][0]["private_ip"]
        .as_str()
        .unwrap()
        .to_owned();
    let target_sg = target["security_group_ids"][0].as_str().unwrap().to_owned();
    // busybox's nc, not its wget: the static wget of Debian's busybox crashes (SIGSEGV) on some
    // connections.
    let probe = format!(
        "{SERVE} & while true; do if printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {target_ip} 8080 \
         | grep -q hello; then echo REACHED; else echo BLOCKED; fi; sleep 1; done"
    );
    let client = json(&[
        "app",
        "create",
        "client",
        "--image",
        "nuvem/busybox:latest",
        "--port",
        "8080",
        "--wait",
        "--",
        "sh",
        "-c",
        &probe,
    ]);
    let client_ip = client["replicas"][0]["private_ip"]
        .as_str()
        .unwrap()
        .to_owned();

    // The app's own group lets only the balancer (the subnet's gateway) in.
    wait_for_log(&stack, "client", "BLOCKED", 4);
    let logs = stack.cli.ok(&["app", "logs", "client", "--tail", "1000"]);
    assert!(!logs.contains("REACHED"), "{logs}");
    let trace = |expect_code: i32| {
        let out = stack.cli.run(
            &[
                "vpc", "trace", "--from", &client_ip, "--to", &target_ip, "--port", "8080",
            ],
            None,
        );
        assert_eq!(
            out.status.code(),
            Some(expect_code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let denied = trace(2);
    assert!(denied.contains("DENY"), "{denied}");
    assert!(
        denied.contains(&target_sg) || denied.contains("no rule"),
        "{denied}"
    );

    // A rule for the client's address lets it through, and trace names that rule.
    let cidr = format!("{client_ip}/32");
    stack.cli.ok(&[
        "sg",
        "authorize",
        &target_sg,
        "--protocol",
        "tcp",
        "--port",
        "8080",
        "--cidr",
        &cidr,
    ]);
    let reached = wait_for_log(&stack, "client", "REACHED", 0);
    assert!(reached >= 1);
    let allowed = trace(0);
    assert!(
        allowed.contains("ALLOW") && allowed.contains(&cidr),
        "{allowed}"
    );
    let generated = stack.cli.ok(&["sg", "rules", &target_sg, "--iptables"]);
    assert!(generated.contains(&client_ip), "{generated}");

    for app in ["client", "target"] {
        stack.cli.ok(&["app", "delete", app]);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cell_containers(&cell).is_empty() {
        assert!(
            Instant::now() < deadline,
            "containers left: {:?}",
            cell_containers(&cell)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(stack.cli.json(&["eni", "list"]), serde_json::json!([]));
}
