//! The console's Apps pages in a real browser: headless Chromium through chromedriver against
//! the built `nuvem-server` serving the built console, on the simulated container engine, proxy,
//! network and hypervisor (no root, dockerd or HAProxy needed; the pages read the same API).
//!
//! The operator opens Apps: a bad name is refused by the server under the form; an app made from
//! the `nuvem/busybox:latest` base with a public port shows in the list with its badge and opens
//! its detail; live logs carry the replica prefix; scaled to 2 it has two replica rows with
//! state and health badges (the scale answers at once); a replica's internals say why the simulated engine has none (it starts no process, so
//! there is no `/proc` to read: nothing is made up); in Português the labels are translated; the
//! scale's event arrives; the balancer lists both targets with HAProxy's state; an image built
//! with cloudctl shows its layers, is deployed (the rollout's progress shows, then its rollback:
//! nothing on the simulated engine answers the app's health path) and cannot be deleted while
//! the app uses it; autoscaling is set and turned off; the app is deleted, then its image. The browser's
//! log is read after every step.
//!
//! The namespace diagram and the cgroup bars are drawn from a real engine's answer only: the
//! second test runs an app on the real dockerd (root, the container bases built) and reads them
//! in the browser — new pid, net, mnt and uts namespaces, PID 1 inside, the memory limit of the
//! form in the cgroup's bar and files, the writable layer on top of the stack.

mod browser;

use std::path::Path;
use std::time::Duration;

use browser::*;
use fantoccini::Locator;
use nuvem_e2e::*;

const POOL: &str = "10.127.0.0/16";
const REAL_POOL: &str = "10.128.0.0/16";

/// The two tests of this file take turns: `start_chromedriver` picks its port from the process
/// id, so two at once would share one chromedriver, and the first to end would stop it.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A build context for cloudctl: the simulated engine reads the `FROM` line.
fn dockerfile(dir: &Path) {
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM nuvem/busybox:latest\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built console: run infra/test.sh"]
async fn apps_in_a_real_browser() {
    let Some(console) = needs("the apps console test", built_console()) else {
        return;
    };
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let context = tempfile::tempdir().unwrap();
    let server = ConsoleServer::start(POOL, &console, &["--container-engine", "simulated"]);
    let (cli, url) = (&server.cli, &server.url);
    dockerfile(context.path());
    let context_dir = context.path().display().to_string();
    cli.ok(&[
        "app",
        "image",
        "build",
        &context_dir,
        "--name",
        "hello",
        "--tag",
        "v1",
    ]);

    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(port, profile.path()).await;
    let c = &b.c;
    c.goto(url).await.unwrap();
    b.sign_in().await;

    click(c, "#nav-apps").await;
    until_text(c, "#apps-title", "Apps", 20).await;
    until_text(c, "#apps", "Nothing here yet", 20).await;
    assert_eq!(
        c.execute("return location.hash", vec![]).await.unwrap(),
        "#/apps"
    );
    b.log_is_clean("on Apps", &[]).await;

    create_from_a_base(&b).await;
    scale_to_two(&b).await;
    internals_on_the_simulated_engine(&b).await;
    in_portuguese(&b).await;

    // The scale's event says what changed.
    until_text(c, "#app-events", "1 → 2 replica(s)", 30).await;
    until_gone(c, "#app-scaling", "Scaling", 20).await;
    // Whatever the scale's answer left under the detail, for the reader of the log.
    let left = c
        .execute(
            "const e = document.querySelector('#app-error'); return e ? e.textContent : ''",
            vec![],
        )
        .await
        .unwrap();
    eprintln!("after the scale, the detail's error line says: {left}");
    c.set_window_size(1280, 1400).await.unwrap();
    shot_at(c, "#app-detail", "apps-detail").await;
    c.set_window_size(1280, 900).await.unwrap();
    b.log_is_clean("after the scale", &[]).await;

    balancer_targets(&b).await;
    image_layers(&b).await;
    rollout_and_rollback(&b).await;
    autoscaling(&b).await;

    // Delete the app (asked first), then its image.
    b.click_and_confirm("#app-delete").await;
    until_text(c, "#apps", "Nothing here yet", 60).await;
    click(c, "#apps-load-balancers").await;
    until_text(c, "#balancers-none", "Nothing here yet", 20).await;
    click(c, "#apps-images").await;
    until_text(c, "#container-images", "hello:v1", 20).await;
    b.click_and_confirm("#container-images tr[data-image='hello:v1'] button[data-action='delete']")
        .await;
    until_gone(c, "#container-images", "hello:v1", 20).await;
    // A poll of the detail's logs already in flight when the app went may come back 404.
    b.log_is_clean("after deleting", &["/v1/apps/web/logs?since="])
        .await;

    // Leaving Apps ends its polling quietly: a poll after it would panic on a disposed signal.
    click(c, "#apps-apps").await;
    until_text(c, "#apps", "Nothing here yet", 20).await;
    click(c, "#nav-home").await;
    until_text(c, "#home-title", "Services", 20).await;
    tokio::time::sleep(Duration::from_millis(4000)).await;
    b.log_is_clean("after leaving Apps", &[]).await;
    b.c.clone().close().await.unwrap();
}

/// A name the server refuses, its message under the form; then `web` from the busybox base with
/// a public port: in the list with its badge, its detail open, its first replica and its logs.
async fn create_from_a_base(b: &Browser) {
    let c = &b.c;
    until_text(c, "#app-image", "hello:v1", 20).await;
    let offered = text(c, "#app-image").await;
    assert!(
        offered.contains("nuvem/busybox:latest") && offered.contains("nuvem/debian:12"),
        "{offered}"
    );
    fill(c, "#app-name", "Web_1").await;
    click(c, "#app-create").await;
    until_text(c, "#app-create-error", "InvalidRequest", 20).await;
    until_text(c, "#app-create-error", "lowercase", 5).await;
    b.log_is_clean("a refused name", &["status of 400"]).await;

    fill(c, "#app-name", "web").await;
    b.select("#app-image", "nuvem/busybox:latest").await;
    fill(c, "#app-command", "httpd -f -p 8080").await;
    fill(c, "#app-public-port", "30080").await;
    // Nothing the simulated engine starts answers `/healthz` with a 2xx: its replicas never get
    // healthy, whatever the network does with the probes (here a TCP connect to any address is
    // accepted, so a TCP check could pass).
    fill(c, "#app-health-path", "/healthz").await;
    click(c, "#app-create").await;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(
            "#apps tr[data-app='web'] span[data-state='running']",
        ))
        .await
        .expect("the app reached running in the list");
    let row = text(c, "#apps tr[data-app='web']").await;
    assert!(
        row.contains("nuvem/busybox:latest") && row.contains("/1") && row.contains(":30080"),
        "{row}"
    );
    assert_eq!(count(c, "#app-create-error").await, 0, "the error is gone");
    until_text(c, "#app-detail h2", "web", 20).await;
    until_text(c, "#app-url", ":30080", 20).await;
    until_text(c, "#replicas", "r-", 20).await;
    assert_eq!(count(c, "#replicas tr[data-replica]").await, 1);
    until_text(c, "#app-events", "deployed version 1", 20).await;
    // Live logs, merged with the replica's id in front of each line.
    until_text(
        c,
        "#app-logs",
        "| simulated nuvem/busybox:latest started",
        20,
    )
    .await;
    let logs = text(c, "#app-logs").await;
    assert!(logs.starts_with("r-"), "{logs}");
    b.log_is_clean("after creating web", &[]).await;
}

/// Two replica rows with their badges once scaled (the scale answers at once; the new replica
/// joins the balancer when healthy, which on the simulated engine it never is).
async fn scale_to_two(b: &Browser) {
    let c = &b.c;
    fill(c, "#app-scale", "2").await;
    click(c, "#app-scale-button").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while count(c, "#replicas tr[data-replica]").await != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "two replica rows never showed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    until_text(c, "#apps tr[data-app='web'] .replicas", "/2", 10).await;
    assert_eq!(
        count(c, "#replicas tr[data-replica] span[data-state='running']").await,
        2
    );
    // Health is checked but never passes (see the health path): unknown, then unhealthy.
    assert_eq!(count(c, "#replicas td.health span[data-state]").await, 2);
    assert_eq!(
        count(c, "#replicas span[data-state='healthy']").await,
        0,
        "nothing answers the health path on the simulated engine"
    );
    until_text(c, "#app-events", "unhealthy", 30).await;
}

/// The simulated engine starts no process: the internals view says so, with the API's code.
async fn internals_on_the_simulated_engine(b: &Browser) {
    let c = &b.c;
    click(
        c,
        "#replicas tr[data-replica] button[data-action='internals']",
    )
    .await;
    until_text(c, "#internals-error", "simulated container engine", 20).await;
    until_text(c, "#internals-error", "Conflict", 5).await;
    assert_eq!(
        count(c, "#ns-diagram").await,
        0,
        "no diagram of made-up data"
    );
    b.log_is_clean("internals", &["status of 409"]).await;
}

/// The tab, the sub-navigation and the detail's labels in Português, then back.
async fn in_portuguese(b: &Browser) {
    let c = &b.c;
    b.select("#lang", "pt-BR").await;
    until_text(c, "#nav-apps", "Aplicações", 10).await;
    until_text(c, "#apps-load-balancers", "Balanceadores de carga", 10).await;
    until_text(c, "label[for='app-scale']", "Réplicas desejadas", 10).await;
    until_text(c, "#app-detail", "Réplicas", 10).await;
    until_text(c, "#app-detail", "Eventos", 10).await;
    until_text(c, "#internals", "Por dentro da réplica", 10).await;
    b.select("#lang", "en").await;
    until_text(c, "#nav-apps", "Apps", 10).await;
    b.log_is_clean("in Português", &[]).await;
}

/// The app's balancer: both replicas as targets with HAProxy's state and counters.
async fn balancer_targets(b: &Browser) {
    let c = &b.c;
    click(c, "#apps-load-balancers").await;
    until_text(c, "#page-apps", "Load balancers", 10).await;
    until_text(c, ".balancer[data-balancer='web']", ":30080", 20).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while count(c, "#targets-web tr[data-target]").await != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the balancer never listed two targets"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The first replica went in with the app; the one the scale added stays out of the proxy
    // until its health checks pass, which on the simulated engine they never do.
    assert_eq!(
        count(c, "#targets-web span[data-state='UP']").await,
        1,
        "the simulated proxy reports the first replica UP"
    );
    assert_eq!(
        count(c, "#targets-web span[data-state='initial']").await,
        1,
        "the replica the scale added waits outside the proxy"
    );
    until_text(c, "#targets-web", "replica", 5).await;
    shot_at(c, "#page-apps", "apps-balancers").await;
    b.log_is_clean("on the load balancers", &[]).await;
}

/// The image built with cloudctl: its size, two layers as `docker history` lists them.
async fn image_layers(b: &Browser) {
    let c = &b.c;
    click(c, "#apps-images").await;
    until_text(c, "#container-images", "hello:v1", 20).await;
    let row = text(c, "#container-images tr[data-image='hello:v1']").await;
    assert!(row.contains("MiB") && row.contains('2'), "{row}");
    assert_eq!(
        count(
            c,
            "#container-images tr[data-image='nuvem/busybox:latest'] button[data-action='delete']"
        )
        .await,
        0,
        "a shared base cannot be deleted"
    );
    click(
        c,
        "#container-images tr[data-image='hello:v1'] button[data-action='layers']",
    )
    .await;
    until_text(c, "#container-images tr.layers", "simulated step", 10).await;
    until_text(c, "#container-images tr.layers", "import", 10).await;
    b.log_is_clean("on the images", &[]).await;
}

/// hello:v1 deployed: the rollout's progress shows; the image in use cannot be deleted; the new
/// replica never gets healthy here, so the rollout rolls back and says why.
async fn rollout_and_rollback(b: &Browser) {
    let c = &b.c;
    click(c, "#apps-apps").await;
    click(c, "#apps tr[data-app='web'] a").await;
    until_text(c, "#app-detail h2", "web", 20).await;
    until_text(c, "#app-deploy-image", "hello:v1", 20).await;
    b.select("#app-deploy-image", "hello:v1").await;
    click(c, "#app-deploy").await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#app-summary span[data-state='deploying']"))
        .await
        .expect("the app shows its rollout");
    until_text(c, "#app-reason", "rolling out version 2", 20).await;
    until_text(c, "#app-rollout", "Version 2", 20).await;
    until_text(c, "#app-rollout", "replicas at this version", 5).await;
    b.log_is_clean("a rollout", &[]).await;

    click(c, "#apps-images").await;
    b.click_and_confirm("#container-images tr[data-image='hello:v1'] button[data-action='delete']")
        .await;
    until_text(c, "#image-error", "DependencyViolation", 20).await;
    b.log_is_clean("an image in use", &["status of 409"]).await;

    click(c, "#apps-apps").await;
    click(c, "#apps tr[data-app='web'] a").await;
    until_text(c, "#app-reason", "rolled back", 100).await;
    until_text(c, "#app-events", "rolled back to version 1", 20).await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#app-summary span[data-state='running']"))
        .await
        .expect("running again at version 1");
    until_text(c, "#app-rollout", "Version 1", 20).await;
    b.log_is_clean("after the rollback", &[]).await;
}

/// A policy that keeps the two replicas (min 2: an idle app is not scaled in), then off.
async fn autoscaling(b: &Browser) {
    let c = &b.c;
    until_text(c, "#app-autoscaling", "Off", 10).await;
    fill(c, "#as-min", "2").await;
    fill(c, "#as-max", "3").await;
    fill(c, "#as-target", "many").await;
    click(c, "#as-save").await;
    until_text(c, "#app-autoscaling-error", "Not a number", 10).await;
    fill(c, "#as-target", "50").await;
    click(c, "#as-save").await;
    until_text(c, "#app-autoscaling", "Target tracking on: 2–3", 20).await;
    click(c, "#as-off").await;
    until_text(c, "#app-autoscaling", "Off", 20).await;
    b.log_is_clean("autoscaling", &[]).await;
}

/// A server on the real dockerd and HAProxy with the console, or why the test is skipped (never
/// in CI).
fn real_engine(console: &str) -> Option<Stack> {
    let bases = std::process::Command::new("docker")
        .args(["image", "inspect", "nuvem/busybox:latest"])
        .output();
    let missing = if !is_root() {
        Some("needs root")
    } else if !bases.is_ok_and(|o| o.status.success()) {
        Some("needs nuvem/busybox:latest in dockerd (infra/images/build-containers.sh)")
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(
            !in_ci(),
            "CI must run the apps internals console test: it {why}"
        );
        eprintln!("SKIPPED the apps internals console test: it {why}");
        return None;
    }
    Some(Stack::start(
        REAL_POOL,
        &[
            "--container-engine",
            "docker",
            "--load-balancer-ports",
            "31900-31919",
            "--console-dir",
            console,
        ],
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, dockerd, HAProxy, Chromium and the built console: run infra/test.sh"]
async fn internals_of_a_real_container_in_a_real_browser() {
    let Some(console) = needs("the apps console test", built_console()) else {
        return;
    };
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let Some(stack) = real_engine(&console.display().to_string()) else {
        return;
    };
    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(port, profile.path()).await;
    let c = &b.c;
    c.goto(stack.url()).await.unwrap();
    b.sign_in().await;
    click(c, "#nav-apps").await;
    until_text(c, "#apps", "Nothing here yet", 20).await;
    fill(c, "#app-name", "inside").await;
    b.select("#app-image", "nuvem/busybox:latest").await;
    fill(c, "#app-command", "httpd -f -p 8080").await;
    fill(c, "#app-memory", "64").await;
    click(c, "#app-create").await;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(
            "#apps tr[data-app='inside'] span[data-state='running']",
        ))
        .await
        .expect("the app reached running on dockerd");
    until_text(c, "#app-command-shown", "httpd -f -p 8080", 20).await;
    until_text(c, "#replicas", "r-", 20).await;
    click(
        c,
        "#replicas tr[data-replica] button[data-action='internals']",
    )
    .await;
    until_text(c, "#ns-diagram", "pid", 30).await;
    for kind in ["pid", "net", "mnt", "uts", "ipc"] {
        assert_eq!(
            count(
                c,
                &format!("#ns-diagram [data-ns='{kind}'][data-isolated='true']")
            )
            .await,
            1,
            "the container has a {kind} namespace of its own"
        );
    }
    assert_eq!(
        count(c, "#ns-diagram [data-ns='user'][data-isolated='false']").await,
        1,
        "Docker keeps the host's user namespace"
    );
    assert_eq!(text(c, "#container-pid").await, "1");
    let host_pid: u32 = text(c, "#host-pid").await.parse().unwrap();
    assert!(host_pid > 1, "a process of the host: {host_pid}");
    until_text(c, "#cgroup-memory", "/ 64.0 MiB", 10).await;
    let files = text(c, "#cgroup-files").await;
    assert!(files.contains(&(64u64 << 20).to_string()), "{files}");
    assert!(
        files.contains("memory.limit_in_bytes") || files.contains("memory.max"),
        "{files}"
    );
    assert_eq!(count(c, "#rootfs-layers li.writable").await, 1);
    let top = text(c, "#rootfs-layers li:first-child").await;
    assert!(top.contains("writable"), "{top}");
    until_text(c, "#internals-network", "sg-", 10).await;
    c.set_window_size(1280, 1600).await.unwrap();
    shot_at(c, "#internals", "apps-internals").await;
    c.set_window_size(1280, 900).await.unwrap();
    b.log_is_clean("internals on dockerd", &[]).await;

    b.click_and_confirm("#app-delete").await;
    until_text(c, "#apps", "Nothing here yet", 60).await;
    b.log_is_clean("after deleting on dockerd", &[]).await;
    b.c.clone().close().await.unwrap();
}
