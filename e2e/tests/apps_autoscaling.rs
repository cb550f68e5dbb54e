//! Target tracking on the real parts: a CPU-burning load through the balancer raises an app's
//! replicas to the maximum, and they fall back to the minimum once it stops; the times are
//! measured and printed, and every decision is an event naming the measurement behind it.

mod apps_support;

use std::time::{Duration, Instant};

use apps_support::*;

const POOL: &str = "10.128.0.0/16";

#[test]
#[ignore = "needs root, dockerd, HAProxy and the nuvem/debian image: run infra/test.sh"]
fn autoscaling_follows_the_cpu_up_and_down() {
    let Some(stack) = apps_stack(POOL, "31050-31099", "apps autoscaling") else {
        return;
    };
    let context = stack.home.path().join("burn");
    write_web_app(&context, "v1");
    stack.cli.ok(&[
        "app",
        "image",
        "build",
        context.to_str().unwrap(),
        "--name",
        "burn",
    ]);
    let app = stack.cli.json(&[
        "app",
        "create",
        "burn",
        "--image",
        "burn:latest",
        "--port",
        "8080",
        "--cpu",
        "0.5",
        "--public-port",
        "31050",
        "--health-path",
        "/",
        "--wait",
    ]);
    let url = app["url"].as_str().unwrap().to_owned();
    let policy = stack.cli.json(&[
        "app",
        "autoscale",
        "burn",
        "--min",
        "1",
        "--max",
        "3",
        "--target-cpu",
        "30",
        "--cooldown",
        "5",
    ]);
    assert_eq!(policy["autoscaling"]["max"], 3, "{policy}");

    // Four clients in a row asking for 200 ms of CPU each: every replica runs at its quota.
    let started = Instant::now();
    let loads: Vec<Load> = (0..4)
        .map(|_| Load::start_at(&format!("{url}/burn"), Duration::ZERO))
        .collect();
    let up = wait_for(&stack.cli, "burn", Duration::from_secs(120), |app| {
        app["replicas"].as_array().unwrap().len() == 3 && healthy(app) == 3
    });
    let time_up = started.elapsed();
    let reports: Vec<LoadReport> = loads.into_iter().map(Load::stop).collect();
    println!(
        "scaled 1 → 3 replicas in {:.0} s under load ({})",
        time_up.as_secs_f64(),
        reports
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert!(up["replicas_desired"] == 3);

    let stopped = Instant::now();
    wait_for(&stack.cli, "burn", Duration::from_secs(120), |app| {
        app["replicas"].as_array().unwrap().len() == 1
    });
    println!(
        "scaled back to 1 replica {:.0} s after the load stopped",
        stopped.elapsed().as_secs_f64()
    );
    let events = stack.cli.json(&["app", "events", "burn"]);
    let decisions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "autoscale")
        .map(|e| e["message"].as_str().unwrap())
        .filter(|m| m.contains('→'))
        .collect();
    println!("decisions: {decisions:#?}");
    assert!(decisions.len() >= 2, "{events}");
    assert!(
        decisions
            .iter()
            .all(|m| m.contains("CPU") && m.contains('%')),
        "a decision without its measurement: {decisions:?}"
    );
    stack.cli.ok(&["app", "delete", "burn"]);
}
