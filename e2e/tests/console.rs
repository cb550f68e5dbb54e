//! The web console in a real browser: headless Chromium driven through chromedriver (WebDriver,
//! fantoccini) against the built `nuvem-server` serving the built console, with real networking and
//! real guests. Sign in, IAM, Português, networking, an instance reaching running, errors shown on
//! the page, an expired session, sign-out. A screenshot of each main page is saved in
//! `e2e/artifacts/` for a reviewer.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use nuvem_e2e::*;
use serde_json::json;

const POOL: &str = "10.124.0.0/16";

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the test needs, or why it is skipped (never in CI).
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let console = std::env::var("NUVEM_TEST_CONSOLE_DIR")
        .ok()
        .map(PathBuf::from);
    let images = std::env::var("NUVEM_TEST_IMAGES_DIR")
        .ok()
        .map(PathBuf::from);
    let missing = if !is_root() {
        Some("needs root")
    } else if !std::path::Path::new("/usr/bin/chromedriver").exists() {
        Some("needs chromium and chromium-driver (infra/install.sh)")
    } else if console
        .as_ref()
        .is_none_or(|c| !c.join("pkg/nuvem_console_bg.wasm").exists())
    {
        Some("needs the built console in NUVEM_TEST_CONSOLE_DIR (infra/build-console.sh)")
    } else if images
        .as_ref()
        .is_none_or(|i| !i.join("nuvem-tiny/image.json").exists())
    {
        Some("needs nuvem-tiny in NUVEM_TEST_IMAGES_DIR (infra/images/build-tiny.sh)")
    } else {
        None
    };
    match missing {
        Some(why) => {
            assert!(!in_ci(), "CI must run the console test: it {why}");
            eprintln!("SKIPPED the console test: it {why}");
            None
        }
        None => Some((console.unwrap(), images.unwrap())),
    }
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_chromedriver() -> (Driver, u16) {
    let port = 9515 + (std::process::id() % 400) as u16;
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Driver(child), port)
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                "--window-size=1280,900"]
        }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver")
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until `css` shows text containing `needle`.
async fn until_text(c: &Client, css: &str, needle: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let t = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if t.contains(needle) {
            return t;
        }
        if Instant::now() > deadline {
            shot(c, "failure").await;
            panic!("{css} never showed {needle:?}; it shows {t:?} (see e2e/artifacts/failure.png)");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, libvirt/QEMU, nuvem-tiny, Chromium and the built console: run infra/test.sh"]
async fn the_console_in_a_real_browser() {
    let Some((console, images)) = prerequisites() else {
        return;
    };
    let (console, images) = (console.display().to_string(), images.display().to_string());
    let flags = [
        "--hypervisor",
        "libvirt",
        "--images-dir",
        &images,
        "--cpu-ratio",
        "4",
        "--console-dir",
        &console,
    ];
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
    let c = browser(port, profile.path()).await;

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
    shot(&c, "01-sign-in").await;

    // A wrong password: the API's message on the page.
    fill(&c, "#account", "admin").await;
    fill(&c, "#password", "not-the-password").await;
    click(&c, "#signin").await;
    assert!(
        until_text(&c, "#signin-error", "sign-in failed", 20)
            .await
            .contains("Unauthenticated")
    );
    fill(&c, "#password", PASSWORD).await;
    click(&c, "#signin").await;
    until_text(&c, "#who", "root@admin", 20).await;
    assert_eq!(text(&c, "#home-title").await, "Services");
    // The account's quotas, as bars of used against limit.
    until_text(&c, "#quotas", "VPCs", 20).await;
    shot(&c, "02-home").await;

    // The operator acts as a class account's root, then comes back.
    until_text(&c, "#switch-account", "turma", 20).await;
    c.find(Locator::Css("#switch-account"))
        .await
        .unwrap()
        .select_by_value("turma")
        .await
        .unwrap();
    until_text(&c, "#who", "root@turma", 20).await;
    click(&c, "#switch-back").await;
    until_text(&c, "#who", "root@admin", 20).await;

    // IAM: a bad name shows the API's validation next to the field; a good one is listed.
    click(&c, "#nav-iam").await;
    fill(&c, "#new-user", "ana maria").await;
    click(&c, "#create-user").await;
    assert!(
        until_text(&c, "#user-error", "InvalidRequest", 20)
            .await
            .contains("' '")
    );
    fill(&c, "#new-user", "ana").await;
    click(&c, "#create-user").await;
    until_text(&c, "#users", "ana", 20).await;
    fill(&c, "#new-group", "students").await;
    click(&c, "#create-group").await;
    until_text(&c, "#iam-groups", "students", 20).await;
    fill(
        &c,
        "#policy-doc",
        "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Maybe\"}}",
    )
    .await;
    until_text(&c, "#policy-check", "\"Allow\" or \"Deny\"", 10).await;
    shot(&c, "03-iam").await;

    // Português, remembered across a reload.
    c.find(Locator::Css("#lang"))
        .await
        .unwrap()
        .select_by_value("pt-BR")
        .await
        .unwrap();
    until_text(&c, "#nav-home", "Início", 10).await;
    assert!(text(&c, "body").await.contains("Usuários"));
    c.refresh().await.unwrap();
    until_text(&c, "#nav-instances", "Instâncias", 20).await;
    shot(&c, "04-iam-pt-BR").await;
    let warm: f64 = c
        .execute("return performance.now()", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    c.find(Locator::Css("#lang"))
        .await
        .unwrap()
        .select_by_value("en")
        .await
        .unwrap();
    until_text(&c, "#nav-home", "Home", 10).await;

    // Networking: a security group, a rule, the iptables rules it became.
    click(&c, "#nav-network").await;
    until_text(&c, "#vpcs", "10.124.", 20).await;
    until_text(&c, "#subnets", "10.124.", 20).await;
    fill(&c, "#new-sg", "web").await;
    click(&c, "#create-sg").await;
    until_text(&c, "#groups", "web", 20).await;
    fill(&c, "#rule-port", "8080").await;
    click(&c, "#add-rule").await;
    until_text(&c, "#rules", "8080", 20).await;
    fill(&c, "#rule-port", "70000").await;
    click(&c, "#add-rule").await;
    until_text(&c, "#rule-error", "65535", 20).await;
    shot(&c, "05-network").await;

    // Instances: launch nuvem-tiny and watch its badge reach running without a reload.
    click(&c, "#nav-instances").await;
    until_text(&c, "#image", "nuvem-tiny", 20).await;
    c.find(Locator::Css("#image"))
        .await
        .unwrap()
        .select_by_label("nuvem-tiny")
        .await
        .unwrap();
    until_text(&c, "#launch-groups", "web", 20).await;
    c.find(Locator::XPath(
        "//fieldset[@id='launch-groups']//label[contains(., 'web')]/input",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click(&c, "#launch").await;
    c.wait()
        .at_most(Duration::from_secs(180))
        .for_element(Locator::Css("span[data-state='running']"))
        .await
        .expect("the instance reached running on the page");
    c.find(Locator::Css("#instances a.id"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_text(&c, "#instance-detail", "t3.nano", 20).await;
    shot(&c, "06-instances").await;

    // An expired session leads back to sign-in.
    c.execute(
        "localStorage.setItem('nuvem.token', 'expired.garbage.token')",
        vec![],
    )
    .await
    .unwrap();
    c.refresh().await.unwrap();
    until_text(&c, "#expired", "sign in again", 30).await;
    shot(&c, "07-expired").await;

    // Sign in again, sign out.
    fill(&c, "#account", "admin").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "#signin").await;
    until_text(&c, "#who", "root@admin", 20).await;
    click(&c, "#signout").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#signin"))
        .await
        .unwrap();
    c.close().await.unwrap();

    let wasm = std::fs::metadata(PathBuf::from(&console).join("pkg/nuvem_console_bg.wasm"))
        .unwrap()
        .len();
    println!(
        "console: time to interactive {cold:.0} ms cold, {warm:.0} ms warm (reload); wasm {} KiB",
        wasm / 1024
    );
}
