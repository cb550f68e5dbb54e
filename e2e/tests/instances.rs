//! End to end with real guests: `cloudctl key-pair create`, `instance launch --wait`, `instance
//! ssh`, `instance console`; then the server is killed with SIGKILL in the middle of a launch and
//! a restarted server leaves that instance running or cleanly failed, never half-made.

use std::process::Command;
use std::time::{Duration, Instant};

use nuvem_e2e::*;

const POOL: &str = "10.123.0.0/16";

fn domains(cell: &str) -> Vec<String> {
    let out = Command::new("virsh")
        .args(["-c", "qemu:///system", "list", "--all", "--name"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|d| d.starts_with(&format!("nv{cell}-")))
        .map(str::to_owned)
        .collect()
}

#[test]
#[ignore = "needs root, libvirt/QEMU and the nuvem-tiny image: run infra/test.sh"]
fn launch_ssh_and_survive_kill_9_during_a_launch() {
    if !is_root() {
        assert!(!in_ci(), "CI must run the instance tests as root");
        eprintln!("SKIPPED launch_ssh_and_survive_kill_9_during_a_launch: needs root");
        return;
    }
    let Some(images) = nuvem_tiny_images("instances e2e") else {
        return;
    };
    let images = images.display().to_string();
    let mut stack = Stack::start(POOL, &libvirt_flags(&images));
    let cell = stack.cell.clone();
    let home = stack.home.path().to_owned();

    // The catalog, the image and a key pair saved next to the profile.
    assert!(
        stack
            .cli
            .ok(&["instance-type", "list"])
            .contains("c1.course")
    );
    assert!(stack.cli.ok(&["image", "list"]).contains("nuvem-tiny"));
    let saved = stack.cli.ok(&["key-pair", "create", "lab"]);
    assert!(home.join("keys/lab.pem").exists(), "{saved}");

    // launch --wait returns when the guest answers SSH; then ssh runs a command in it.
    let user_data = home.join("hello.sh");
    std::fs::write(
        &user_data,
        "#!/bin/sh\necho hello-from-user-data > /data/hello\n",
    )
    .unwrap();
    let launched = stack.cli.launch_tiny("e2e", "lab", &user_data);
    let id = launched["id"].as_str().unwrap().to_owned();
    assert_eq!(launched["state"], "running");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = stack
            .cli
            .run(&["instance", "ssh", &id, "--", "cat", "/data/hello"], None);
        if String::from_utf8_lossy(&out.stdout).trim() == "hello-from-user-data" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "user-data output never appeared: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        stack
            .cli
            .ok(&["instance", "console", &id])
            .contains("nuvem-tiny: ssh ready")
    );
    let hosts = stack.cli.json(&["host", "list"]);
    assert!(
        matches!(hosts[0]["accelerator"].as_str(), Some("kvm" | "tcg")),
        "{hosts}"
    );
    let describe = stack.cli.json(&["instance", "describe", &id]);
    assert_eq!(describe["accelerator"], hosts[0]["accelerator"]);

    // kill -9 right after a launch is accepted, then restart.
    let second = stack.cli.json(&[
        "instance",
        "launch",
        "--image",
        "nuvem-tiny",
        "--name",
        "interrupted",
    ]);
    let second_id = second[0]["id"].as_str().unwrap().to_owned();
    stack.kill_and_restart(|| {});
    let deadline = Instant::now() + Duration::from_secs(120);
    let outcome = loop {
        let d = stack.cli.json(&["instance", "describe", &second_id]);
        match d["state"].as_str().unwrap() {
            "running" | "terminated" => break d,
            _ => {
                assert!(
                    Instant::now() < deadline,
                    "the interrupted launch never settled: {d}"
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    if outcome["state"] == "terminated" {
        let reason = outcome["state_reason"].as_str().unwrap();
        assert!(reason.contains("interrupted"), "{outcome}");
        // The restarted server's log says which instance it unwound, and why, in the words the
        // user sees (less the "launch failed: " the saga puts before them).
        let why = reason.strip_prefix("launch failed: ").unwrap_or(reason);
        // (The line comes when the reconciler's run ends, just after the state is saved.)
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = stack.log.lock().unwrap().join("\n");
            if let Some(line) = log
                .lines()
                .find(|l| l.contains("reconciled") && l.contains(&second_id) && l.contains(why))
            {
                eprintln!("the restarted server logged: {line}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no line of the log names {second_id} and '{why}':\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // Never half-made: exactly the domains of the live instances exist.
    let live: Vec<String> = stack
        .cli
        .json(&["instance", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] != "terminated")
        .map(|i| format!("nv{cell}-{}", i["id"].as_str().unwrap()))
        .collect();
    let mut found = domains(&cell);
    found.sort();
    let mut expected = live.clone();
    expected.sort();
    assert_eq!(found, expected);
    // The first instance survived the crash.
    assert_eq!(
        stack.cli.json(&["instance", "describe", &id])["state"],
        "running"
    );

    // Terminate everything: no domain of this server is left.
    for i in stack.cli.json(&["instance", "list"]).as_array().unwrap() {
        if i["state"] != "terminated" {
            stack
                .cli
                .ok(&["instance", "terminate", i["id"].as_str().unwrap()]);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !domains(&cell).is_empty() {
        assert!(
            Instant::now() < deadline,
            "domains left: {:?}",
            domains(&cell)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
