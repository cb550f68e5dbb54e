//! The web console in a real browser: headless Chromium driven through chromedriver (WebDriver,
//! fantoccini) against the built `nuvem-server` serving the built console, with real networking and
//! real guests.
//!
//! The browser's log is read after every step and the test fails on a panic, a `RuntimeError` or
//! any SEVERE entry the step does not expect (a refused request the step makes on purpose logs
//! its status). Routing: every page from every other page, Back and Forward, an address naming no
//! page, and on each page sign-out and sign-in, the account switch and back, and the language:
//! each time exactly one tab is active, the page the address names is the page shown. Then what a
//! browser-only student does: IAM (users, a bad name's message, group membership, policy
//! attachment, access keys), Português remembered, networking (rules with a CIDR or a group as
//! source, revoke, delete a group, interfaces), key pairs (the private key shown once with its
//! download), an instance launched with a name and a key reaching running with the actions its
//! state allows, the host's capacity changed live, an expired session, sign-out. A screenshot of
//! each main page is saved in `e2e/artifacts/` for a reviewer.
//!
//! Needs root, libvirt/QEMU, `nuvem-tiny` (`NUVEM_TEST_IMAGES_DIR`), chromium and chromium-driver,
//! the built console (`NUVEM_TEST_CONSOLE_DIR`) and the built `nuvem-server` and `cloudctl`.

mod browser;
mod console_pages;

use std::path::PathBuf;
use std::time::Duration;

use browser::*;
use console_pages::*;
use fantoccini::Locator;
use nuvem_e2e::*;
use serde_json::Value;

const POOL: &str = "10.124.0.0/16";

/// What the test needs, or why it is skipped (never in CI).
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let images = || {
        std::env::var("NUVEM_TEST_IMAGES_DIR")
            .ok()
            .map(PathBuf::from)
            .filter(|i| i.join("nuvem-tiny/image.json").exists())
            .ok_or("needs nuvem-tiny in NUVEM_TEST_IMAGES_DIR (infra/images/build-tiny.sh)")
    };
    let found = if is_root() {
        built_console().and_then(|console| Ok((console, images()?)))
    } else {
        Err("needs root")
    };
    needs("the console test", found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, libvirt/QEMU, nuvem-tiny, Chromium and the built console: run infra/test.sh"]
async fn the_console_in_a_real_browser() {
    let Some((console, images)) = prerequisites() else {
        return;
    };
    let (console, images) = (console.display().to_string(), images.display().to_string());
    let flags = [&libvirt_flags(&images)[..], &["--console-dir", &console]].concat();
    let stack = Stack::start(POOL, &flags);
    let (cli, url) = (&stack.cli, stack.url().to_owned());
    // A class account, made with cloudctl, for the operator's account switcher.
    assert!(
        cli.run(
            &["account", "create", "turma", "--root-password-stdin"],
            Some("turma-password")
        )
        .status
        .success()
    );
    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(port, profile.path()).await;
    let c = &b.c;

    // Cold start: time to interactive (the sign-in button), printed for docs/benchmarks.md.
    c.goto(&url).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#signin"))
        .await
        .unwrap();
    let cold: f64 = c
        .execute("return performance.now()", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    shot(c, "01-sign-in").await;
    b.log_is_clean("at the start", &[]).await;

    // A wrong password: the API's message on the page.
    fill(c, "#account", "admin").await;
    fill(c, "#password", "not-the-password").await;
    click(c, "#signin").await;
    assert!(
        until_text(c, "#signin-error", "sign-in failed", 20)
            .await
            .contains("Unauthenticated")
    );
    b.log_is_clean("after a wrong password", &["status of 401"])
        .await;
    fill(c, "#password", PASSWORD).await;
    click(c, "#signin").await;
    until_text(c, "#who", "root@admin", 20).await;
    // `/` names no page: the address is made to name Home, the page shown.
    b.at("home").await;
    assert_eq!(text(c, "#home-title").await, "Services");
    routing_follows_the_browser(&b, &url).await;
    every_page_survives_a_session_change(&b).await;

    b.go("home").await;
    // The account at a glance, its quotas as bars, and the operator's hosts.
    until_text(c, "#overview [data-count='vpcs']", "1", 20).await;
    until_text(c, "#quotas", "VPCs", 20).await;
    assert!(count(c, "#quotas progress").await >= 9);
    host_capacity_changes_live(&b).await;
    shot_at(c, "#overview", "02-home").await;
    shot_at(c, "#hosts", "02-home-hosts").await;
    b.log_is_clean("on Home", &["status of 400"]).await;

    // IAM: a bad name shows the API's validation next to the field; a good one is listed.
    b.go("iam").await;
    fill(c, "#new-user", "ana maria").await;
    click(c, "#create-user").await;
    assert!(
        until_text(c, "#user-error", "InvalidRequest", 20)
            .await
            .contains("' '")
    );
    b.log_is_clean("after a bad user name", &["status of 400"])
        .await;
    fill(c, "#new-user", "ana").await;
    click(c, "#create-user").await;
    until_text(c, "#users", "ana", 20).await;
    iam_membership_and_keys(&b).await;
    fill(
        c,
        "#policy-doc",
        "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Maybe\"}}",
    )
    .await;
    until_text(c, "#policy-check", "\"Allow\" or \"Deny\"", 10).await;
    shot_at(c, "#user-detail", "03-iam").await;
    b.log_is_clean("on IAM", &[]).await;

    // Português, remembered across a reload, on the page the address names.
    b.select("#lang", "pt-BR").await;
    until_text(c, "#nav-home", "Início", 10).await;
    assert!(text(c, "body").await.contains("Usuários"));
    c.refresh().await.unwrap();
    until_text(c, "#nav-instances", "Instâncias", 20).await;
    b.at("iam").await;
    shot(c, "04-iam-pt-BR").await;
    let warm: f64 = c
        .execute("return performance.now()", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    b.select("#lang", "en").await;
    until_text(c, "#nav-home", "Home", 10).await;

    network_rules_and_groups(&b).await;
    shot_at(c, "#groups", "05-network").await;
    b.log_is_clean("on Networking", &["status of 400"]).await;

    key_pairs_and_an_instance(&b).await;
    // Leaving the page whose badges are polled: a poll after it would panic (it once did).
    b.go("home").await;
    until_text(c, "#overview [data-count='instances']", "stopped", 20).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    b.log_is_clean("after leaving Instances", &[]).await;
    b.go("network").await;
    until_text(c, "#interfaces", "instance/", 20).await;

    // An expired session leads back to sign-in.
    c.execute(
        "localStorage.setItem('nuvem.token', 'expired.garbage.token')",
        vec![],
    )
    .await
    .unwrap();
    c.refresh().await.unwrap();
    until_text(c, "#expired", "sign in again", 30).await;
    shot(c, "08-expired").await;
    b.log_is_clean("with an expired session", &["status of 401"])
        .await;

    // Sign in again, where the address says; sign out.
    b.sign_in().await;
    b.at("network").await;
    b.sign_out().await;
    b.log_is_clean("at the end", &[]).await;
    b.c.clone().close().await.unwrap();

    let wasm = std::fs::metadata(PathBuf::from(&console).join("pkg/nuvem_console_bg.wasm"))
        .unwrap()
        .len();
    println!(
        "console: time to interactive {cold:.0} ms cold, {warm:.0} ms warm (reload); wasm {} KiB",
        wasm / 1024
    );
}

/// The operator's hosts: vCPUs and memory as bars, KVM or TCG, and the vCPU ratio changed live;
/// a ratio that is not a number is the form's to refuse, one out of range the server's.
async fn host_capacity_changes_live(b: &Browser) {
    let c = &b.c;
    until_text(c, "#hosts", "host-1", 20).await;
    let host = text(c, "#hosts tr[data-host='host-1']").await;
    assert!(host.contains("KVM") || host.contains("TCG"), "{host}");
    until_text(c, "#host-memory-host-1", "MiB", 5).await;
    let capacity = || async {
        let bar = c
            .find(Locator::Css("#host-vcpus-host-1 progress"))
            .await
            .unwrap();
        bar.attr("max")
            .await
            .unwrap()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    let at_four = capacity().await;
    fill(c, "#host-ratio-host-1", "8").await;
    click(c, "#host-save-host-1").await;
    until_text(c, "#host-vcpus-host-1", &format!("/ {}", at_four * 2), 20).await;
    assert_eq!(capacity().await, at_four * 2);
    fill(c, "#host-ratio-host-1", "eight").await;
    click(c, "#host-save-host-1").await;
    until_text(c, "#host-error-host-1", "number", 10).await;
    fill(c, "#host-ratio-host-1", "99").await;
    click(c, "#host-save-host-1").await;
    until_text(c, "#host-error-host-1", "16", 20).await;
    // Back to the ratio the test started with, in pt-BR's decimal comma.
    fill(c, "#host-ratio-host-1", "4,0").await;
    click(c, "#host-save-host-1").await;
    until_text(c, "#host-vcpus-host-1", &format!("/ {at_four} "), 20).await;
}

/// A user's groups and policies edited from their detail, a group's from its own; an access key
/// created (its secret shown once), deactivated and deleted.
async fn iam_membership_and_keys(b: &Browser) {
    let c = &b.c;
    fill(c, "#new-group", "students").await;
    click(c, "#create-group").await;
    until_text(c, "#iam-groups", "students", 20).await;
    fill(c, "#policy-name", "read-iam").await;
    click(c, "#create-policy").await;
    until_text(c, "#policies", "read-iam", 20).await;

    click(c, "#users tr[data-user='ana'] button.link").await;
    until_text(c, "#user-detail", "ana", 10).await;
    until_text(c, "#user-groups-choice", "students", 20).await;
    b.select("#user-groups-choice", "students").await;
    click(c, "#user-groups-add").await;
    until_text(c, "#user-groups", "students", 20).await;
    until_text(c, "#user-policies-choice", "read-iam", 20).await;
    b.select("#user-policies-choice", "read-iam").await;
    click(c, "#user-policies-add").await;
    until_text(c, "#user-policies", "read-iam", 20).await;
    until_text(c, "#policies tr[data-policy='read-iam']", "1", 20).await;

    click(c, "#create-access-key").await;
    let secret = text(c, "#secret-value").await;
    assert!(secret.len() >= 20, "a secret is shown: {secret:?}");
    until_text(c, "#user-keys", "Active", 20).await;
    click(c, "#user-keys button[data-action='status']").await;
    until_text(c, "#user-keys", "Inactive", 20).await;
    b.click_and_confirm("#user-keys button[data-action='delete']")
        .await;
    until_text(c, "#user-keys", "Nothing here yet", 20).await;

    // The group's own view: ana is a member; the policy attached there too, then detached.
    click(c, "#iam-groups tr[data-group='students'] button.link").await;
    until_text(c, "#group-members", "ana", 20).await;
    until_text(c, "#group-policies-choice", "read-iam", 20).await;
    b.select("#group-policies-choice", "read-iam").await;
    click(c, "#group-policies-add").await;
    until_text(c, "#group-policies", "read-iam", 20).await;
    until_text(c, "#policies tr[data-policy='read-iam']", "2", 20).await;
    click(
        c,
        "#group-policies tr[data-name='read-iam'] button[data-action='remove']",
    )
    .await;
    until_gone(c, "#group-policies", "read-iam", 20).await;
    click(
        c,
        "#group-members tr[data-name='ana'] button[data-action='remove']",
    )
    .await;
    until_gone(c, "#group-members", "ana", 20).await;
}

/// A rule with a CIDR, one with a group as source, a port out of range refused; a rule revoked, a
/// group deleted; the interfaces listed.
async fn network_rules_and_groups(b: &Browser) {
    let c = &b.c;
    b.go("network").await;
    until_text(c, "#vpcs", "10.124.", 20).await;
    until_text(c, "#subnets", "10.124.", 20).await;
    fill(c, "#new-sg", "web").await;
    click(c, "#create-sg").await;
    until_text(c, "#groups", "web", 20).await;
    until_text(c, "#sg-detail", "web", 20).await;
    fill(c, "#rule-port", "8080").await;
    click(c, "#add-rule").await;
    until_text(c, "#rules", "8080", 20).await;
    fill(c, "#rule-port", "70000").await;
    click(c, "#add-rule").await;
    until_text(c, "#rule-error", "65535", 20).await;
    // SSH from the members of the default group.
    until_text(c, "#rule-peer", "default", 20).await;
    c.find(Locator::Css("#rule-peer"))
        .await
        .unwrap()
        .select_by(Locator::XPath(
            "./option[starts-with(normalize-space(.), 'default ')]",
        ))
        .await
        .unwrap();
    assert_eq!(
        count(c, "#rule-cidr").await,
        0,
        "no CIDR for a group source"
    );
    fill(c, "#rule-port", "22").await;
    click(c, "#add-rule").await;
    until_text(c, "#rules .peer-group", "default", 20).await;
    // Revoke the 8080 rule.
    let rule = c
        .find(Locator::XPath(
            "//table[@id='rules']//tr[td[3][normalize-space(.)='8080']]",
        ))
        .await
        .unwrap();
    rule.find(Locator::Css("button[data-action='revoke']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_gone(c, "#rules", "8080", 20).await;
    // A group made to be deleted: created, selected, deleted.
    fill(c, "#new-sg", "scratch").await;
    click(c, "#create-sg").await;
    until_text(c, "#sg-detail h2", "scratch", 20).await;
    b.click_and_confirm("#delete-sg").await;
    until_gone(c, "#groups", "scratch", 20).await;
    // web stays, for the launch below, with SSH from the default group's members.
    c.find(Locator::XPath(
        "//table[@id='groups']//button[normalize-space(.)='web']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    until_text(c, "#sg-detail h2", "web", 20).await;
    assert!(text(c, "#groups tr.selected").await.contains("web"));
    until_text(c, "#rules .peer-group", "default", 20).await;
}

/// Key pairs (the private key shown once, with a link that downloads it; one deleted), then an
/// instance launched with a name and the key, reaching running, whose actions follow its state.
async fn key_pairs_and_an_instance(b: &Browser) {
    let c = &b.c;
    b.go("instances").await;
    fill(c, "#new-key-pair", "lab").await;
    click(c, "#create-key-pair").await;
    let private = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#private-key"))
        .await
        .unwrap();
    assert!(
        private
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("PRIVATE KEY")
    );
    let link = c.find(Locator::Css("#private-key-download")).await.unwrap();
    assert_eq!(
        link.attr("download").await.unwrap().as_deref(),
        Some("lab.pem")
    );
    assert!(
        link.attr("href")
            .await
            .unwrap()
            .unwrap_or_default()
            .starts_with("data:application/x-pem-file;charset=utf-8,-----BEGIN")
    );
    until_text(c, "#key-pairs", "lab", 20).await;
    until_text(c, "#key", "lab", 20).await;
    shot_at(c, "#private-key-once", "06-key-pair").await;
    fill(c, "#new-key-pair", "scratch").await;
    click(c, "#create-key-pair").await;
    until_text(c, "#key", "scratch", 20).await;
    b.click_and_confirm("#key-pairs tr[data-key='scratch'] button.danger")
        .await;
    until_gone(c, "#key-pairs", "scratch", 20).await;
    until_gone(c, "#key", "scratch", 20).await;

    // Launch nuvem-tiny with a name and the key; watch its badge reach running without a reload.
    until_text(c, "#image", "nuvem-tiny", 20).await;
    c.find(Locator::Css("#image"))
        .await
        .unwrap()
        .select_by_label("nuvem-tiny")
        .await
        .unwrap();
    fill(c, "#launch-name", "web-1").await;
    b.select("#key", "lab").await;
    until_text(c, "#launch-groups", "web", 20).await;
    c.find(Locator::XPath(
        "//fieldset[@id='launch-groups']//label[contains(., 'web')]/input",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click(c, "#launch").await;
    c.wait()
        .at_most(Duration::from_secs(180))
        .for_element(Locator::Css("span[data-state='running']"))
        .await
        .expect("the instance reached running on the page");
    let row = "#instances tr[data-instance]";
    assert!(text(c, row).await.contains("web-1"));
    // The image's name, not its id; the id on one line.
    assert_eq!(text(c, &format!("{row} td.image")).await, "nuvem-tiny");
    let nowrap = c
        .execute(
            "return getComputedStyle(document.querySelector('#instances td.id')).whiteSpace",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(nowrap, Value::from("nowrap"));
    // Running: Stop and Reboot, no Start.
    assert_eq!(
        count(c, &format!("{row} button[data-action='start']")).await,
        0
    );
    assert_eq!(
        count(c, &format!("{row} button[data-action='stop']")).await,
        1
    );
    assert_eq!(
        count(c, &format!("{row} button[data-action='reboot']")).await,
        1
    );
    c.find(Locator::Css("#instances a.id"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_text(c, "#instance-detail", "t3.nano", 20).await;
    assert_eq!(text(c, "#instance-key").await, "lab");
    assert!(text(c, "#instance-detail").await.contains("nuvem-tiny"));
    b.at("instances").await;
    shot_at(c, "#instances", "07-instances").await;
    // The host counts its vCPUs as used.
    b.go("home").await;
    until_text(c, "#overview [data-count='instances']", "running", 20).await;
    let used = c
        .find(Locator::Css("#host-vcpus-host-1 progress"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap();
    assert_ne!(used.as_deref(), Some("0"), "the instance's vCPUs are used");
    // Stopped: Start, no Stop.
    b.go("instances").await;
    click(c, &format!("{row} button[data-action='stop']")).await;
    c.wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("span[data-state='stopped']"))
        .await
        .expect("the instance stopped on the page");
    until_text(c, &format!("{row} td.actions"), "Start", 10).await;
    assert_eq!(
        count(c, &format!("{row} button[data-action='stop']")).await,
        0
    );
    assert_eq!(
        count(c, &format!("{row} button[data-action='reboot']")).await,
        0
    );
    b.log_is_clean("on Instances", &[]).await;
}
