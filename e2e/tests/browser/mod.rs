//! The browser the console's tests drive, shared by the `console*.rs` tests: what they need (the
//! built console, chromedriver), a server on simulated drivers serving the console, chromedriver
//! and headless Chromium, the browser's log read after every step, and the small steps (fill,
//! click, wait for a text, screenshots into `e2e/artifacts/`).

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use nuvem_e2e::*;
use serde_json::json;

pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The built console (`NUVEM_TEST_CONSOLE_DIR`), with chromedriver to drive it, or what is
/// missing.
pub fn built_console() -> Result<PathBuf, &'static str> {
    if !Path::new("/usr/bin/chromedriver").exists() {
        return Err("needs chromium and chromium-driver (infra/install.sh)");
    }
    std::env::var("NUVEM_TEST_CONSOLE_DIR")
        .ok()
        .map(PathBuf::from)
        .filter(|c| c.join("pkg/nuvem_console_bg.wasm").exists())
        .ok_or("needs the built console in NUVEM_TEST_CONSOLE_DIR (infra/build-console.sh)")
}

/// What `test` needs, or `None` when something is missing: skipped with the reason outside CI,
/// a failure in CI.
pub fn needs<T>(test: &str, found: Result<T, &str>) -> Option<T> {
    match found {
        Ok(t) => Some(t),
        Err(why) => {
            assert!(!in_ci(), "CI must run {test}: it {why}");
            eprintln!("SKIPPED {test}: it {why}");
            None
        }
    }
}

/// A server on simulated network and hypervisor drivers (plus `flags`) serving the console, and
/// `cloudctl` signed in as the operator; the server stops when this is dropped.
pub struct ConsoleServer {
    pub url: String,
    pub cli: Cli,
    // Declared before the directories: the server stops before its data goes.
    _guard: HostGuard,
    _data: tempfile::TempDir,
    _home: tempfile::TempDir,
}

impl ConsoleServer {
    pub fn start(pool: &str, console: &Path, flags: &[&str]) -> ConsoleServer {
        let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let console = console.display().to_string();
        let all = [
            &["--network-driver", "simulated", "--hypervisor", "simulated"][..],
            flags,
            &["--console-dir", &console],
        ]
        .concat();
        let server = launch_server(data.path(), pool, &all, Some(PASSWORD), "warn");
        let url = server.url.clone();
        let guard = HostGuard {
            cell: String::new(),
            servers: vec![server.child],
            data: None,
        };
        let cli = Cli {
            config: home.path().join("config.toml"),
            url: url.clone(),
        };
        let login = cli.run(
            &["login", "--account", "admin", "--password-stdin"],
            Some(PASSWORD),
        );
        assert!(login.status.success(), "{login:?}");
        ConsoleServer {
            url,
            cli,
            _guard: guard,
            _data: data,
            _home: home,
        }
    }
}

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_chromedriver() -> (Driver, u16) {
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

/// The browser, and where its log is read.
pub struct Browser {
    pub c: Client,
    pub port: u16,
    pub session: String,
}

pub async fn browser(port: u16, profile: &std::path::Path) -> Browser {
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
    // Every console message, uncaught exception and failed load, read by `Browser::log`.
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let c = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver");
    let session = c.session_id().await.unwrap().expect("a session");
    Browser { c, port, session }
}

impl Browser {
    /// Fails on anything wrong the browser logged since the last check: a panic or a
    /// `RuntimeError` always, and any other SEVERE entry unless it contains one of `expected`
    /// (e.g. `status of 400` for a request the step makes to be refused). Warnings are printed.
    pub async fn log_is_clean(&self, step: &str, expected: &[&str]) {
        for e in browser_log(self.port, &self.session) {
            let level = e["level"].as_str().unwrap_or_default();
            let message = e["message"].as_str().unwrap_or_default();
            let fatal = ["panicked", "RuntimeError", "unreachable"]
                .iter()
                .any(|f| message.contains(f));
            let allowed = !fatal && expected.iter().any(|x| message.contains(x));
            if fatal || (level == "SEVERE" && !allowed) {
                shot(&self.c, "failure").await;
                panic!("the browser logged, {step}: {level} {message}");
            }
            if level == "WARNING" || level == "SEVERE" {
                eprintln!("browser log, {step}: {level} {message}");
            }
        }
    }

    pub async fn sign_in(&self) {
        fill(&self.c, "#account", "admin").await;
        fill(&self.c, "#user", "root").await;
        fill(&self.c, "#password", PASSWORD).await;
        click(&self.c, "#signin").await;
        until_text(&self.c, "#who", "root@admin", 20).await;
    }

    /// Signs out and waits for the sign-in form.
    pub async fn sign_out(&self) {
        click(&self.c, "#signout").await;
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#signin"))
            .await
            .unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        on_element(&self.c, css, async |e| e.select_by_value(value).await).await;
    }

    /// Clicks what asks before deleting, and says yes.
    pub async fn click_and_confirm(&self, css: &str) {
        click(&self.c, css).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.c.accept_alert().await.is_err() {
            assert!(Instant::now() < deadline, "{css} asked nothing");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A screenshot with `css` scrolled to the top of the window.
pub async fn shot_at(c: &Client, css: &str, name: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView()",
        vec![json!(css)],
    )
    .await
    .unwrap();
    shot(c, name).await;
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

/// Finds `css` and acts on it. The console re-renders parts of a page as answers arrive, so
/// the element found can be replaced before the act reaches it (a stale element): it is then
/// found again and the act repeated, for up to 20 s.
async fn on_element<T>(
    c: &Client,
    css: &str,
    act: impl AsyncFn(Element) -> Result<T, CmdError>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("{css} never appeared: {err}"));
        match act(e).await {
            Ok(v) => return v,
            Err(err) if err.is_stale_element_reference() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("{css}: {err}"),
        }
    }
}

pub async fn text(c: &Client, css: &str) -> String {
    on_element(c, css, async |e| e.text().await).await
}

pub async fn fill(c: &Client, css: &str, value: &str) {
    on_element(c, css, async |e| {
        e.clear().await?;
        e.send_keys(value).await
    })
    .await;
}

pub async fn click(c: &Client, css: &str) {
    on_element(c, css, async |e| e.click().await).await;
}

/// Waits until `css` shows text containing `needle` (or, `gone`, no longer does).
pub async fn until(c: &Client, css: &str, needle: &str, gone: bool, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let t = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if t.contains(needle) != gone {
            return t;
        }
        if Instant::now() > deadline {
            shot(c, "failure").await;
            let what = if gone { "kept showing" } else { "never showed" };
            panic!("{css} {what} {needle:?}; it shows {t:?} (see e2e/artifacts/failure.png)");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn until_text(c: &Client, css: &str, needle: &str, secs: u64) -> String {
    until(c, css, needle, false, secs).await
}

pub async fn until_gone(c: &Client, css: &str, needle: &str, secs: u64) {
    until(c, css, needle, true, secs).await;
}

/// The elements matching `css` now.
pub async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.unwrap().len()
}
