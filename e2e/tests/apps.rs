//! Container apps end to end on the real parts: dockerd builds an app image from a Dockerfile on
//! `nuvem/debian`, replicas run with their own VPC interfaces, HAProxy balances them; containers
//! killed or removed behind Nuvem's back come back; rollouts under a steady request loop fail no
//! request, a broken version rolls back; `internals` reads the kernel; another account sees
//! nothing; the server is killed with SIGKILL during a deploy and a rollout; after the deletes
//! nothing is left on the host.

mod apps_support;

use std::time::{Duration, Instant};

use apps_support::*;
use nuvem_e2e::*;

const POOL: &str = "10.127.0.0/16";

#[test]
#[ignore = "needs root, dockerd, HAProxy and the nuvem/debian image: run infra/test.sh"]
fn apps_build_deploy_heal_roll_out_and_leave_nothing() {
    let Some(mut stack) = apps_stack(POOL, "31000-31049", "apps e2e") else {
        return;
    };
    let cell = stack.cell.clone();
    let context = stack.home.path().join("web");
    write_web_app(&context, "v1");

    // A build streams its log and leaves an image with its layers; a failing one leaves none.
    let built = stack.cli.run(
        &[
            "app",
            "image",
            "build",
            context.to_str().unwrap(),
            "--name",
            "web",
            "--tag",
            "v1",
            "-o",
            "json",
        ],
        None,
    );
    let log = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "build: {log}");
    assert!(
        log.contains("COPY") || log.contains("Step"),
        "no build log: {log}"
    );
    let image = stack.cli.json(&["app", "image", "describe", "web:v1"]);
    assert!(image["layers"].as_array().unwrap().len() >= 2, "{image}");
    let broken = stack.home.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("Dockerfile"),
        "FROM nuvem/debian:12\nRUN echo a first step > /first\nRUN echo about to fail && false\n",
    )
    .unwrap();
    let failed = stack.cli.run(
        &[
            "app",
            "image",
            "build",
            broken.to_str().unwrap(),
            "--name",
            "broken",
        ],
        None,
    );
    let failed_log = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "a failing RUN built: {failed_log}"
    );
    assert!(failed_log.contains("about to fail"), "{failed_log}");
    assert!(
        !stack.cli.ok(&["app", "image", "list"]).contains("broken:"),
        "a failed build left an image"
    );
    // Nor an untagged one: the first step's image (` ---> ID` in the log) is gone too.
    let steps: Vec<&str> = failed_log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("---> "))
        .filter(|id| id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert!(
        steps.len() >= 2,
        "the base and the first step: {failed_log}"
    );
    let first_step = steps[steps.len() - 1];
    let inspected = std::process::Command::new("docker")
        .args(["image", "inspect", first_step])
        .output()
        .unwrap();
    assert!(
        !inspected.status.success(),
        "the failed build left its first step's image {first_step}"
    );

    // Two replicas behind a balancer, which spreads requests over both.
    let app = stack.cli.json(&[
        "app",
        "create",
        "web",
        "--image",
        "web:v1",
        "--port",
        "8080",
        "--replicas",
        "2",
        "--public-port",
        "31001",
        "--health-path",
        "/",
        "--health-interval",
        "1",
        "--wait",
    ]);
    assert_eq!(app["state"], "running", "{app}");
    let url = app["url"].as_str().unwrap().to_owned();
    let replicas = replica_ids(&app);
    assert_eq!(replicas.len(), 2);
    let seen = answers(&url, 20);
    for r in &replicas {
        assert!(
            seen.iter().any(|a| a.ends_with(r.as_str())),
            "replica {r} never answered: {seen:?}"
        );
    }
    assert!(seen.iter().all(|a| a.starts_with("v1 ")), "{seen:?}");

    // The kernel's view of replica 1: new namespaces, the memory limit in the cgroup's file, and
    // the file changes when the limit does.
    let internals = stack
        .cli
        .json(&["app", "internals", "web", "--replica", "1"]);
    for kind in ["pid", "net", "mnt", "uts"] {
        let ns = internals["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} namespace: {internals}"));
        assert_eq!(ns["isolated"], true, "{ns}");
        assert_ne!(ns["container_inode"], ns["host_inode"]);
    }
    assert_eq!(internals["container_pid"], 1);
    assert_eq!(
        memory_limit_file(&internals),
        (128u64 << 20).to_string(),
        "{internals}"
    );
    stack
        .cli
        .ok(&["app", "deploy", "web", "--memory", "192", "--wait"]);
    let internals = stack
        .cli
        .json(&["app", "internals", "web", "--replica", "1"]);
    assert_eq!(memory_limit_file(&internals), (192u64 << 20).to_string());

    // A container killed behind Nuvem's back is restarted; the balancer keeps answering.
    let load = Load::start(&url);
    let victim = container_of(&stack.cli.json(&["app", "describe", "web"]), 0);
    sh("docker", &["kill", &victim]);
    wait_for(&stack.cli, "web", Duration::from_secs(60), |app| {
        app["replicas"][0]["restarts"].as_u64() >= Some(1) && healthy(app) == 2
    });
    // One removed is made again.
    // Until the reconciler notices, the app still looks healthy: wait for its event first.
    sh("docker", &["rm", "-f", &victim]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stack.cli.ok(&["app", "events", "web"]).contains("recreate") {
        assert!(
            Instant::now() < deadline,
            "the removed container was never made again"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    wait_for(&stack.cli, "web", Duration::from_secs(60), |app| {
        healthy(app) == 2
    });
    let report = load.stop();
    println!("while a container was killed then removed: {report}");
    assert_eq!(report.failed, 0, "{report}");
    let events = stack.cli.ok(&["app", "events", "web"]);
    assert!(
        events.contains("restart") && events.contains("recreate"),
        "{events}"
    );

    // Scale by hand, up and down.
    let three = stack
        .cli
        .json(&["app", "scale", "web", "--replicas", "3", "--wait"]);
    assert_eq!(healthy(&three), 3, "{three}");
    let one = stack
        .cli
        .json(&["app", "scale", "web", "--replicas", "1", "--wait"]);
    assert_eq!(one["replicas"].as_array().unwrap().len(), 1, "{one}");
    stack
        .cli
        .ok(&["app", "scale", "web", "--replicas", "2", "--wait"]);

    // A rollout to a new image under a steady request loop fails no request.
    write_web_app(&context, "v2");
    stack.cli.ok(&[
        "app",
        "image",
        "build",
        context.to_str().unwrap(),
        "--name",
        "web",
        "--tag",
        "v2",
    ]);
    let load = Load::start(&url);
    let rolled = stack
        .cli
        .json(&["app", "deploy", "web", "--image", "web:v2", "--wait"]);
    let report = load.stop();
    println!("during the rollout to web:v2: {report}");
    assert_eq!(report.failed, 0, "{report}");
    assert!(report.ok > 0);
    assert_eq!(rolled["version"].as_u64(), Some(2), "{rolled}");
    assert!(answers(&url, 6).iter().all(|a| a.starts_with("v2 ")));

    // A version whose replicas never get healthy rolls back, saying why.
    let load = Load::start(&url);
    let rollback = stack.cli.run(
        &["app", "deploy", "web", "--wait", "--", "sh", "-c", "exit 3"],
        None,
    );
    let report = load.stop();
    let why = String::from_utf8_lossy(&rollback.stderr);
    assert!(
        !rollback.status.success(),
        "a broken version deployed: {why}"
    );
    assert!(why.contains("rolled back"), "{why}");
    println!("during the broken rollout: {report}");
    assert_eq!(report.failed, 0, "{report}");
    assert!(answers(&url, 6).iter().all(|a| a.starts_with("v2 ")));
    assert!(stack.cli.ok(&["app", "events", "web"]).contains("rollback"));

    // Logs merged across replicas; the balancer's live numbers.
    let logs = stack.cli.ok(&["app", "logs", "web"]);
    assert!(logs.contains("GET / "), "{logs}");
    let lb_name = stack.cli.json(&["lb", "list"])[0]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let targets = stack.cli.json(&["lb", "targets", &lb_name]);
    assert_eq!(targets.as_array().unwrap().len(), 2, "{targets}");
    assert!(
        targets
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"].as_str().unwrap_or("").starts_with("UP")),
        "{targets}"
    );

    // Images in use are not deleted; another account sees none of it.
    let in_use = stack.cli.run(&["app", "image", "delete", "web:v2"], None);
    assert!(!in_use.status.success());
    let other = other_account(&stack, "turma-b");
    assert_eq!(other.json(&["app", "list"]), serde_json::json!([]));
    assert!(other.json(&["lb", "list"]).as_array().unwrap().is_empty());
    let their_images = other.ok(&["app", "image", "list"]);
    assert!(!their_images.contains("web:"), "{their_images}");
    for args in [
        &["app", "describe", "web"][..],
        &["app", "image", "describe", "web:v1"],
        &["lb", "describe", &lb_name],
        &["app", "delete", "web"],
        &["app", "scale", "web", "--replicas", "5"],
    ] {
        let out = other.run(args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("NotFound"),
            "{args:?}: {err}"
        );
    }

    // SIGKILL during a deploy (the create call is still running): the restarted server finishes
    // or unwinds it, and leaves no orphan.
    let creating = {
        let cli = Cli {
            config: stack.cli.config.clone(),
            url: stack.cli.url.clone(),
        };
        std::thread::spawn(move || {
            cli.run(
                &[
                    "app",
                    "create",
                    "api",
                    "--image",
                    "web:v1",
                    "--port",
                    "8080",
                    "--replicas",
                    "2",
                ],
                None,
            )
        })
    };
    let load = Load::start(&url);
    std::thread::sleep(Duration::from_millis(700));
    stack.kill_and_restart(|| {});
    let interrupted = creating.join().unwrap();
    println!(
        "the create interrupted by SIGKILL answered: {}",
        String::from_utf8_lossy(&interrupted.stderr).trim()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let api = loop {
        let out = stack
            .cli
            .run(&["app", "describe", "api", "-o", "json"], None);
        if out.status.success() {
            let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if app["state"] == "failed" || (app["state"] == "running" && healthy(&app) == 2) {
                break app;
            }
        } else if String::from_utf8_lossy(&out.stderr).contains("NotFound") {
            break serde_json::json!({"state": "unwound", "replicas": []});
        }
        assert!(
            Instant::now() < deadline,
            "the interrupted deploy never ended"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    println!("the interrupted deploy ended {}", api["state"]);
    // SIGKILL during a rollout: the app ends at one version, serving all along.
    stack.cli.ok(&["app", "deploy", "web", "--image", "web:v1"]);
    std::thread::sleep(Duration::from_millis(1500));
    stack.kill_and_restart(|| {});
    let web = wait_for(&stack.cli, "web", Duration::from_secs(120), |app| {
        app["state"] == "running" && healthy(app) == 2
    });
    let report = load.stop();
    println!("across two SIGKILLs of the server: {report}");
    assert_eq!(report.failed, 0, "{report}");
    let versions: Vec<u64> = web["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert!(
        versions.iter().all(|v| Some(*v) == web["version"].as_u64()),
        "{web}"
    );
    assert_eq!(cell_containers(&cell).len(), 2 + replica_ids(&api).len());

    // Deleting leaves nothing: containers, interfaces, chains of those, proxy configuration.
    for name in ["api", "web"] {
        if name == "web" || api["state"] != "unwound" {
            stack.cli.ok(&["app", "delete", name]);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stack
        .cli
        .json(&["app", "list"])
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "apps never went away");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(cell_containers(&cell), Vec::<String>::new());
    assert_eq!(stack.cli.json(&["eni", "list"]), serde_json::json!([]));
    assert!(
        stack
            .cli
            .json(&["lb", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !stack.data.path().join("haproxy/haproxy.pid").exists(),
        "HAProxy still runs with no load balancer"
    );
    for name in ["web:v1", "web:v2"] {
        stack.cli.ok(&["app", "image", "delete", name]);
    }
}
