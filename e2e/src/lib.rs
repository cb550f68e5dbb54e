//! The harness of the end-to-end tests: the built binaries, run as a user runs them, and a guard
//! that leaves the host clean when a test fails halfway.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The operator password the test servers start with.
pub const PASSWORD: &str = "e2e-network-admin";

pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one definition of "in CI": `CI=true` (set by `.ci/run` and defaulted by `infra/test.sh`).
/// There, a test that cannot run fails instead of skipping. Identical to `in_ci` in
/// `server/tests/api/common/mod.rs` (the two test trees share no crate); keep the two the same.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Starts the built `nuvem-server` on a free loopback port with the real host network (unless
/// `extra` names a `--network-driver`) and the given extra flags; returns the process and its URL.
pub fn start_server(data: &Path, pool: &str, extra: &[&str]) -> (Child, String) {
    let server = launch_server(data, pool, extra, Some(PASSWORD), "warn");
    (server.child, server.url)
}

/// A `nuvem-server` started by [`launch_server`].
pub struct LaunchedServer {
    pub child: Child,
    pub url: String,
    /// Every line the server wrote on standard output (its log included), as it comes.
    pub output: Arc<Mutex<Vec<String>>>,
}

/// Starts the built `nuvem-server` as [`start_server`] does, with the operator password given
/// (`None`: the server generates one, as on a real first start) and the log filter `log`.
pub fn launch_server(
    data: &Path,
    pool: &str,
    extra: &[&str],
    admin_password: Option<&str>,
    log: &str,
) -> LaunchedServer {
    let mut command = Command::new(bin("nuvem-server"));
    command.args(["--listen", "127.0.0.1:0"]);
    // The real host network unless the test chose one (the simulated one needs no root).
    if !extra.contains(&"--network-driver") {
        command.args(["--network-driver", "linux"]);
    }
    command
        .args(["--vpc-pool", pool, "--data-dir"])
        .arg(data)
        .args(extra)
        .env("NUVEM_LOG", log)
        .env("NUVEM_WORKERS", "2")
        .env_remove("NUVEM_ADMIN_PASSWORD")
        .stdout(Stdio::piped());
    if let Some(pw) = admin_password {
        command.env("NUVEM_ADMIN_PASSWORD", pw);
    }
    let mut child = command.spawn().expect("start nuvem-server");
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        assert!(Instant::now() < deadline, "no URL announced");
        let line = lines.next().expect("server output").unwrap();
        output.lock().unwrap().push(line.clone());
        if let Some(rest) = line.strip_prefix("Nuvem is running at ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep reading, so that the server never blocks on a full pipe.
    let kept = output.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    LaunchedServer { child, url, output }
}

/// The directory holding the built `nuvem-tiny` image (`NUVEM_TEST_IMAGES_DIR`, which
/// `infra/test.sh` sets and fills), or `None` outside CI when it is not built: `test` is skipped.
pub fn nuvem_tiny_images(test: &str) -> Option<PathBuf> {
    let dir = std::env::var("NUVEM_TEST_IMAGES_DIR")
        .ok()
        .map(PathBuf::from);
    match dir.filter(|d| d.join("nuvem-tiny/image.json").exists()) {
        Some(d) => Some(d),
        None => {
            assert!(!in_ci(), "CI must build nuvem-tiny (infra/test.sh)");
            eprintln!(
                "SKIPPED {test}: no built nuvem-tiny (set NUVEM_TEST_IMAGES_DIR; infra/test.sh builds it)"
            );
            None
        }
    }
}

/// The server flags of a stack on libvirt/QEMU that boots the images of `images` (see
/// [`nuvem_tiny_images`]), four vCPUs per core so that a test's guests fit on two cores.
pub fn libvirt_flags(images: &str) -> [&str; 6] {
    [
        "--hypervisor",
        "libvirt",
        "--images-dir",
        images,
        "--cpu-ratio",
        "4",
    ]
}

/// Whatever of this cell is on the host: links, chains, dnsmasq processes and their host lists.
pub fn leftovers(cell: &str) -> Vec<String> {
    let mut found: Vec<String> = sh("ip", &["-o", "link", "show"])
        .lines()
        .filter(|l| l.contains(&format!("nv{cell}")))
        .map(str::to_owned)
        .collect();
    for table in ["filter", "nat"] {
        found.extend(
            sh("iptables", &["-w", "-t", table, "-S"])
                .lines()
                .filter(|l| l.contains(&format!("NV{cell}-")))
                .map(|l| format!("[{table}] {l}")),
        );
    }
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmd =
            String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).unwrap_or_default())
                .replace('\0', " ");
        if cmd.starts_with("dnsmasq") && cmd.contains(&format!("--interface=nv{cell}")) {
            found.push(cmd);
        }
    }
    found.extend(
        dhcp_host_lists(cell)
            .iter()
            .map(|p| p.display().to_string()),
    );
    found
}

/// The DHCP host lists of this cell's subnets (`/run/nuvem/dhcp/nv<cell>b….hosts`).
pub fn dhcp_host_lists(cell: &str) -> Vec<PathBuf> {
    std::fs::read_dir("/run/nuvem/dhcp")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("nv{cell}"))
        })
        .map(|e| e.path())
        .collect()
}

/// Removes this cell's host state if the test fails halfway.
pub struct HostGuard {
    pub cell: String,
    pub servers: Vec<Child>,
    /// The servers' data directory, whose HAProxy (it outlives a killed server, by design) is
    /// stopped too.
    pub data: Option<PathBuf>,
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
        if let Some(pid) = self
            .data
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("haproxy/haproxy.pid")).ok())
        {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        if self.cell.is_empty() {
            return;
        }
        // App containers of this cell.
        if let Ok(out) = Command::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=nuvem.cell={}", self.cell))
            .output()
        {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
        // Domains of this cell (instances of the tests' server).
        let virsh = |args: &[&str]| {
            Command::new("virsh")
                .arg("-c")
                .arg("qemu:///system")
                .args(args)
                .output()
        };
        if let Ok(out) = virsh(&["list", "--all", "--name"]) {
            for d in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|d| d.starts_with(&format!("nv{}-", self.cell)))
            {
                let _ = virsh(&["destroy", d]);
                let _ = virsh(&["undefine", d]);
            }
        }
        let _ = Command::new("pkill")
            .args(["-f", "--", &format!("--interface=nv{}", self.cell)])
            .status();
        for f in dhcp_host_lists(&self.cell) {
            let _ = std::fs::remove_file(f);
        }
        for line in sh("ip", &["-o", "link", "show"]).lines() {
            let name = line
                .split(": ")
                .nth(1)
                .map(|n| n.split('@').next().unwrap_or(n));
            if let Some(name) = name.filter(|n| n.starts_with(&format!("nv{}", self.cell))) {
                let _ = Command::new("ip").args(["link", "del", name]).status();
            }
        }
        for (table, chain, pat) in [
            ("filter", "FORWARD", "-j NV"),
            ("filter", "INPUT", "-j NV"),
            ("filter", "OUTPUT", "-j NV"),
            ("nat", "PREROUTING", "-j NV"),
            ("nat", "OUTPUT", "-j NV"),
            ("nat", "POSTROUTING", "-j NV"),
        ] {
            for rule in sh("iptables", &["-w", "-t", table, "-S", chain]).lines() {
                if rule.contains(&format!("{pat}{}-", self.cell)) {
                    let args: Vec<&str> = rule.split_whitespace().skip(2).collect();
                    let mut del = vec!["-w", "-t", table, "-D", chain];
                    del.extend(args);
                    let _ = Command::new("iptables").args(&del).status();
                }
            }
        }
        // Flush every chain of the cell first: a chain can only be deleted once nothing jumps to it.
        for table in ["filter", "nat"] {
            let listing = sh("iptables", &["-w", "-t", table, "-S"]);
            let chains: Vec<&str> = listing
                .lines()
                .filter_map(|l| l.strip_prefix("-N "))
                .filter(|c| c.starts_with(&format!("NV{}-", self.cell)))
                .collect();
            for flag in ["-F", "-X"] {
                for c in &chains {
                    let _ = Command::new("iptables")
                        .args(["-w", "-t", table, flag, c])
                        .status();
                }
            }
        }
    }
}

pub struct Cli {
    pub config: PathBuf,
    pub url: String,
}

impl Cli {
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(bin("cloudctl"))
            .args(args)
            .env("NUVEM_CONFIG_FILE", &self.config)
            .env("NUVEM_ENDPOINT", &self.url)
            .env_remove("NUVEM_PROFILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "cloudctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// `instance launch` of `nuvem-tiny` named `name`, with the key pair `key` and the
    /// user-data script at `user_data`, waiting until it runs: the launched instance.
    pub fn launch_tiny(&self, name: &str, key: &str, user_data: &std::path::Path) -> Value {
        let user_data = user_data.to_str().expect("a UTF-8 path");
        let launched = self.json(&[
            "instance",
            "launch",
            "--image",
            "nuvem-tiny",
            "--key",
            key,
            "--name",
            name,
            "--user-data",
            user_data,
            "--wait",
        ]);
        launched[0].clone()
    }
}

/// A started `nuvem-server` with the real host network, its guard, and `cloudctl` signed in as the
/// operator in a profile of its own.
pub struct Stack {
    /// First: dropped (servers killed, host cleaned) before the data directory goes.
    pub guard: HostGuard,
    pub cli: Cli,
    pub cell: String,
    pub data: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// What the running server wrote on standard output (its log at `info`), line by line.
    pub log: Arc<Mutex<Vec<String>>>,
    pool: String,
    flags: Vec<String>,
}

impl Stack {
    pub fn start(pool: &str, flags: &[&str]) -> Stack {
        let data = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let LaunchedServer {
            child: server,
            url,
            output: log,
        } = launch_server(data.path(), pool, flags, Some(PASSWORD), "info");
        let cell = std::fs::read_to_string(data.path().join("net/cell"))
            .unwrap()
            .trim()
            .to_owned();
        let guard = HostGuard {
            cell: cell.clone(),
            servers: vec![server],
            data: Some(data.path().to_owned()),
        };
        let cli = Cli {
            config: home.path().join("config.toml"),
            url,
        };
        let out = cli.run(
            &["login", "--account", "admin", "--password-stdin"],
            Some(PASSWORD),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Stack {
            guard,
            cli,
            cell,
            data,
            home,
            log,
            pool: pool.to_owned(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    pub fn url(&self) -> &str {
        &self.cli.url
    }

    /// SIGKILLs the server, runs `between` (a crash's damage), and starts a new server on the
    /// same data; `cloudctl` follows it to its new port.
    pub fn kill_and_restart(&mut self, between: impl FnOnce()) {
        let mut server = self.guard.servers.pop().expect("a running server");
        server.kill().unwrap();
        server.wait().unwrap();
        between();
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let server = launch_server(self.data.path(), &self.pool, &flags, Some(PASSWORD), "info");
        self.guard.servers.push(server.child);
        self.cli.url = server.url;
        self.log = server.output;
    }
}

/// What the browser logged since the last call, drained from chromedriver (a session started with
/// `"goog:loggingPrefs": {"browser": "ALL"}`): console messages (`console-api`), uncaught
/// exceptions (`javascript`, e.g. `Uncaught RuntimeError: unreachable`), failed loads (`network`).
/// Each entry has `level` (`SEVERE`, `WARNING`, `INFO`, …), `source` and `message`. Plain HTTP to
/// chromedriver's `POST /session/{id}/se/log`, which the WebDriver clients do not wrap.
pub fn browser_log(chromedriver_port: u16, session: &str) -> Vec<Value> {
    use std::io::Read;
    let body = r#"{"type":"browser"}"#;
    let mut s =
        std::net::TcpStream::connect(("127.0.0.1", chromedriver_port)).expect("chromedriver");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /session/{session}/se/log HTTP/1.1\r\nHost: 127.0.0.1:{chromedriver_port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // The headers, then exactly Content-Length bytes (the connection may stay open).
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("chromedriver's answer");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "chromedriver: {head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a Content-Length");
    let mut json = vec![0u8; length];
    s.read_exact(&mut json).unwrap();
    let v: Value = serde_json::from_slice(&json).expect("chromedriver's JSON");
    v["value"].as_array().cloned().unwrap_or_default()
}
