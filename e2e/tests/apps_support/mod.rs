//! What the container-app tests share: a stack on the real engine, the test app, an HTTP
//! client and a steady request loop that counts failures.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nuvem_e2e::*;
use serde_json::Value;

/// A server on the real dockerd and HAProxy, signed in as the operator; `None` (skipped) outside
/// CI when not root or the bases are not built.
pub fn apps_stack(pool: &str, lb_ports: &str, test: &str) -> Option<Stack> {
    apps_stack_with(pool, lb_ports, test, &[])
}

/// [`apps_stack`] with more server flags (a hypervisor, for instance targets).
pub fn apps_stack_with(pool: &str, lb_ports: &str, test: &str, more: &[&str]) -> Option<Stack> {
    if !is_root() {
        assert!(!in_ci(), "CI must run the container app tests as root");
        eprintln!("SKIPPED {test}: needs root (run infra/test.sh as root)");
        return None;
    }
    let bases = std::process::Command::new("docker")
        .args([
            "image",
            "inspect",
            "nuvem/debian:12",
            "nuvem/busybox:latest",
        ])
        .output();
    if !bases.is_ok_and(|o| o.status.success()) {
        assert!(
            !in_ci(),
            "CI must build the container bases (infra/images/build-containers.sh)"
        );
        eprintln!(
            "SKIPPED {test}: no nuvem/debian:12 in dockerd (infra/images/build-containers.sh)"
        );
        return None;
    }
    let flags = [
        &[
            "--container-engine",
            "docker",
            "--load-balancer-ports",
            lb_ports,
        ][..],
        more,
    ]
    .concat();
    Some(Stack::start(pool, &flags))
}

/// An HTTP app on the Debian base that answers `VERSION HOSTNAME` (the hostname is the
/// replica's id), `/burn` spins the CPU for 200 ms first, and logs each request line.
pub fn write_web_app(dir: &Path, version: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM nuvem/debian:12\nENV VERSION={version}\nCOPY server.py /srv/server.py\n\
             CMD [\"python3\", \"-u\", \"/srv/server.py\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("server.py"),
        r#"import http.server, os, socket, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        if self.path.startswith("/burn"):
            end = time.time() + 0.2
            while time.time() < end:
                pass
        body = ("%s %s\n" % (os.environ.get("VERSION", "?"), socket.gethostname())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print(self.requestline, flush=True)
http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
"#,
    )
    .unwrap();
}

/// One GET over a fresh connection: the status and the body.
pub fn get(url: &str) -> Result<(u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or("not http://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = host.parse().map_err(|e| format!("{host}: {e}"))?;
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not HTTP: {raw:?}"))?;
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("").trim().to_owned();
    Ok((status, body))
}

/// `n` answers of the balancer, each `VERSION HOSTNAME`; a failure fails the test.
pub fn answers(url: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match get(url) {
            Ok((200, body)) => body,
            other => panic!("GET {url}: {other:?}"),
        })
        .collect()
}

/// What a request loop saw.
#[derive(Debug, Clone, Copy)]
pub struct LoadReport {
    pub ok: u64,
    pub failed: u64,
    pub seconds: f64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests answered 200, {} failed, in {:.1} s",
            self.ok, self.failed, self.seconds
        )
    }
}

/// A steady request loop (one request at a time, about 20 per second) in a thread.
pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    started: Instant,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl Load {
    pub fn start(url: &str) -> Load {
        Self::start_at(url, Duration::from_millis(50))
    }

    pub fn start_at(url: &str, pause: Duration) -> Load {
        let (stop, ok, failed) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let (s, o, f, url) = (stop.clone(), ok.clone(), failed.clone(), url.to_owned());
        let thread = std::thread::spawn(move || {
            let mut failures = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match get(&url) {
                    Ok((200, _)) => {
                        o.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        f.fetch_add(1, Ordering::Relaxed);
                        if failures.len() < 10 {
                            failures.push(format!("{other:?}"));
                        }
                    }
                }
                std::thread::sleep(pause);
            }
            failures
        });
        Load {
            stop,
            ok,
            failed,
            started: Instant::now(),
            thread: Some(thread),
        }
    }

    pub fn stop(mut self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let failures = self
            .thread
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default();
        if !failures.is_empty() {
            eprintln!("failed requests (first ones): {failures:#?}");
        }
        LoadReport {
            ok: self.ok.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn replica_ids(app: &Value) -> Vec<String> {
    app["replicas"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn healthy(app: &Value) -> usize {
    let version = &app["version"];
    app["replicas"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["health"] == "healthy" && r["state"] == "running")
                .filter(|r| &r["version"] == version)
                .count()
        })
        .unwrap_or(0)
}

pub fn container_of(app: &Value, index: usize) -> String {
    app["replicas"][index]["container"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `app describe NAME` until `done` holds; returns the app then.
pub fn wait_for(cli: &Cli, name: &str, patience: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + patience;
    loop {
        let out = cli.run(&["app", "describe", name, "-o", "json"], None);
        if out.status.success() {
            let app: Value = serde_json::from_slice(&out.stdout).unwrap();
            if done(&app) {
                return app;
            }
            assert!(Instant::now() < deadline, "{name} never got there: {app:#}");
        } else {
            assert!(
                Instant::now() < deadline,
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The value of the file holding the memory limit (cgroup v2 `memory.max` or v1
/// `memory.limit_in_bytes`), read from the host, not from the API's answer.
pub fn memory_limit_file(internals: &Value) -> String {
    let files = internals["cgroup"]["files"].as_array().unwrap();
    let file = files
        .iter()
        .find(|f| {
            let p = f["path"].as_str().unwrap_or("");
            p.ends_with("memory.max") || p.ends_with("memory.limit_in_bytes")
        })
        .unwrap_or_else(|| panic!("no memory limit file: {internals}"));
    let path = file["path"].as_str().unwrap();
    let on_host = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_owned();
    assert_eq!(file["value"].as_str(), Some(on_host.as_str()), "{file}");
    on_host
}

/// The containers of this cell in dockerd, by name.
pub fn cell_containers(cell: &str) -> Vec<String> {
    let mut names: Vec<String> = sh(
        "docker",
        &[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "--filter",
            &format!("label=nuvem.cell={cell}"),
        ],
    )
    .split_whitespace()
    .map(str::to_owned)
    .collect();
    names.sort();
    names
}

/// `cloudctl` signed in as the root user of a new account, in a profile of its own.
pub struct Profile<'a> {
    cli: &'a Cli,
    name: String,
}

impl Profile<'_> {
    fn args<'b>(&'b self, args: &[&'b str]) -> Vec<&'b str> {
        [&["--profile", self.name.as_str()][..], args].concat()
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.cli.run(&self.args(args), stdin)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.cli.ok(&self.args(args))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        self.cli.json(&self.args(args))
    }
}

pub fn other_account<'a>(stack: &'a Stack, account: &str) -> Profile<'a> {
    let created = stack.cli.json(&["account", "create", account]);
    let password = created["generated_root_password"].as_str().unwrap();
    let out = stack.cli.run(
        &[
            "--profile",
            account,
            "login",
            "--account",
            account,
            "--password-stdin",
        ],
        Some(password),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Profile {
        cli: &stack.cli,
        name: account.to_owned(),
    }
}
