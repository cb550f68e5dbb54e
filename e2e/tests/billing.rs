//! Metering end to end on real guests: a schedule (launch, stop, start, terminate) on a paused
//! 3600× demo clock moved by exact steps, with `kill -9` of the server in the middle while the
//! guest keeps running under libvirt. The restarted server continues the ledger from the guest's
//! real state: the bill has every second the guest ran, once.

use std::time::{Duration, Instant};

use nuvem_e2e::*;
use serde_json::Value;

const POOL: &str = "10.126.0.0/16";

fn wait_state(stack: &Stack, id: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let d = stack.cli.json(&["instance", "describe", id]);
        if d["state"] == state {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became {state}: {d}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn advance(stack: &Stack, by: &str) {
    stack
        .cli
        .ok(&["billing", "clock", "set", "admin", "--advance", by]);
}

fn seconds(bill: &Value, id: &str, usage: &str) -> i64 {
    bill["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["resource_id"] == id && l["usage_type"] == usage)
        .map(|l| l["seconds"].as_i64().unwrap())
        .sum()
}

#[test]
#[ignore = "needs root, libvirt/QEMU and the nuvem-tiny image: run infra/test.sh"]
fn a_schedule_with_kill_9_in_the_middle_is_billed_exactly() {
    if !is_root() {
        assert!(!in_ci(), "CI must run the billing end-to-end test as root");
        eprintln!("SKIPPED a_schedule_with_kill_9_in_the_middle_is_billed_exactly: needs root");
        return;
    }
    let Some(images) = nuvem_tiny_images("billing e2e") else {
        return;
    };
    let images = images.display().to_string();
    let mut stack = Stack::start(POOL, &libvirt_flags(&images));

    // The lecture's clock: 3600×, paused, moved by hand so every step is exact.
    let clock = stack.cli.json(&[
        "billing", "clock", "set", "admin", "--factor", "3600", "--pause",
    ]);
    assert_eq!(clock["factor"], 3600);
    assert_eq!(clock["paused"], true);

    let launched = stack.cli.json(&[
        "instance",
        "launch",
        "--image",
        "nuvem-tiny",
        "--type",
        "c1.course",
        "--name",
        "metered",
    ]);
    let id = launched[0]["id"].as_str().unwrap().to_owned();
    wait_state(&stack, &id, "running");
    advance(&stack, "2h");

    // kill -9: the guest keeps running under libvirt while no server is there to see it.
    stack.kill_and_restart(|| {});
    assert_eq!(
        stack.cli.json(&["instance", "describe", &id])["state"],
        "running"
    );
    advance(&stack, "1h");
    stack.cli.ok(&["instance", "stop", &id]);
    wait_state(&stack, &id, "stopped");
    advance(&stack, "30m");
    stack.cli.ok(&["instance", "start", &id]);
    wait_state(&stack, &id, "running");
    advance(&stack, "1h");
    // Two readings of the running guest two seconds apart make one sample of what it used.
    stack.cli.ok(&["reconciler", "run", "billing"]);
    std::thread::sleep(Duration::from_secs(2));
    stack.cli.ok(&["reconciler", "run", "billing"]);
    let usage = stack.cli.json(&["billing", "usage"]);
    stack.cli.ok(&["instance", "terminate", &id]);
    wait_state(&stack, &id, "terminated");
    advance(&stack, "1h");

    let bill = stack.cli.json(&["billing", "bill"]);
    // Ran 2 h + 1 h (across the crash) + 1 h; the disk existed 4.5 h.
    assert_eq!(seconds(&bill, &id, "running"), 4 * 3600, "{bill:#}");
    assert_eq!(seconds(&bill, &id, "disk"), 4 * 3600 + 1800, "{bill:#}");
    let running = bill["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resource_id"] == id.as_str() && l["usage_type"] == "running")
        .unwrap();
    assert_eq!(running["unit_price"], "0.034");
    assert_eq!(running["amount"], "0.136");
    assert_eq!(bill["demo_clock"]["factor"], 3600);
    // Line items add up to the total, in decimal.
    let sum: rust_decimal::Decimal = bill["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(sum.to_string(), bill["total"].as_str().unwrap());

    // The reconciler wrote nothing: every change came as an event, the crash included (the guest
    // ran on, and its open interval simply continued).
    let events = stack.cli.json(&["reconciler", "run", "billing"]);
    assert_eq!(events[0]["last_fixed"], serde_json::json!([]), "{events}");

    // What the real guest used, sampled from libvirt while it ran, beside what it reserved.
    let item = usage["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["resource_id"] == id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["reserved_vcpus"], 2, "{usage:#}");
    assert!(item["samples"].as_u64().unwrap_or(0) >= 1, "{usage:#}");
    let used = item["used_vcpus_average"].as_f64().unwrap();
    // A real guest under TCG: some CPU, at most its two vCPUs (plus QEMU's own threads).
    assert!(used > 0.0 && used <= 2.5, "{item}");
    assert!(
        item["used_memory_mib_average"].as_u64().unwrap() > 0,
        "{item}"
    );
    eprintln!("usage while it ran: {item}");
}
