//! End to end on the real host network: `cloudctl` builds a VPC's pieces, the server is killed
//! with SIGKILL, the host is damaged as a crash or reboot would, and a restarted server rebuilds
//! exactly what its database says. Then everything is deleted and nothing of it is left.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn bin(name: &str) -> PathBuf {
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

fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

const PASSWORD: &str = "e2e-network-admin";
const POOL: &str = "10.121.0.0/16";

fn start_server(data: &Path) -> (Child, String) {
    let mut child = Command::new(bin("nuvem-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--network-driver",
            "linux",
            "--vpc-pool",
            POOL,
            "--data-dir",
        ])
        .arg(data)
        .env("NUVEM_ADMIN_PASSWORD", PASSWORD)
        .env("NUVEM_LOG", "warn")
        .env("NUVEM_WORKERS", "2")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start nuvem-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        assert!(Instant::now() < deadline, "no URL announced");
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("Nuvem is running at ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// Whatever of this cell is on the host: links, chains, dnsmasq processes.
fn leftovers(cell: &str) -> Vec<String> {
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
    found
}

/// Removes this cell's host state if the test fails halfway.
struct HostGuard {
    cell: String,
    servers: Vec<Child>,
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
        if self.cell.is_empty() {
            return;
        }
        let _ = Command::new("pkill")
            .args(["-f", &format!("--interface=nv{}", self.cell)])
            .status();
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
        for table in ["filter", "nat"] {
            for l in sh("iptables", &["-w", "-t", table, "-S"]).lines() {
                if let Some(c) = l
                    .strip_prefix("-N ")
                    .filter(|c| c.starts_with(&format!("NV{}-", self.cell)))
                {
                    let _ = Command::new("iptables")
                        .args(["-w", "-t", table, "-F", c])
                        .status();
                    let _ = Command::new("iptables")
                        .args(["-w", "-t", table, "-X", c])
                        .status();
                }
            }
        }
    }
}

struct Cli {
    config: PathBuf,
    url: String,
}

impl Cli {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
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

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "cloudctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

#[test]
fn network_survives_kill_9_and_cleans_up() {
    if !is_root() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the network tests as root"
        );
        eprintln!(
            "SKIPPED network_survives_kill_9_and_cleans_up: needs root (run infra/test.sh as root)"
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let (server, url) = start_server(data.path());
    let cell = std::fs::read_to_string(data.path().join("net/cell"))
        .unwrap()
        .trim()
        .to_owned();
    let mut guard = HostGuard {
        cell: cell.clone(),
        servers: vec![server],
    };
    let mut cli = Cli {
        config: home.path().join("config.toml"),
        url: url.clone(),
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

    // The default VPC appears on first use; add a group, a rule, two interfaces, a port forward.
    let vpcs = cli.json(&["vpc", "list"]);
    let vpc = vpcs[0]["id"].as_str().unwrap().to_owned();
    assert!(vpcs[0]["cidr"].as_str().unwrap().starts_with("10.121."));
    let subnet = cli.json(&["subnet", "list", "--vpc", &vpc])[0].clone();
    let (subnet_id, bridge) = (
        subnet["id"].as_str().unwrap().to_owned(),
        subnet["bridge"].as_str().unwrap().to_owned(),
    );
    let sg = cli.json(&["sg", "create", "--vpc", &vpc, "--name", "ssh"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rules = cli.json(&[
        "sg",
        "authorize",
        &sg,
        "--protocol",
        "tcp",
        "--port",
        "22",
        "--cidr",
        "0.0.0.0/0",
    ]);
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2);
    let a = cli.json(&["eni", "create", "--subnet", &subnet_id, "--sg", &sg])[0].clone();
    let b = cli.json(&["eni", "create", "--subnet", &subnet_id])[0].clone();
    let (a_ip, b_ip) = (
        a["private_ip"].as_str().unwrap(),
        b["private_ip"].as_str().unwrap(),
    );
    let pf = cli.json(&[
        "port-forward",
        "create",
        "--interface",
        a["id"].as_str().unwrap(),
        "--host-port",
        "42222",
        "--port",
        "22",
    ])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let generated = cli.ok(&["sg", "rules", &sg, "--iptables"]);
    assert!(
        generated.contains("--dport 22") && generated.contains("-j ACCEPT"),
        "{generated}"
    );

    // Trace: ALLOW exits 0, DENY exits 2 and names the default.
    let allow = cli.run(
        &["vpc", "trace", "--from", b_ip, "--to", a_ip, "--port", "22"],
        None,
    );
    assert_eq!(allow.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&allow.stdout).starts_with("ALLOW"));
    let deny = cli.run(
        &["vpc", "trace", "--from", b_ip, "--to", a_ip, "--port", "23"],
        None,
    );
    assert_eq!(deny.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&deny.stdout).contains("default deny"));

    let chain = format!("NV{cell}-FWD");
    let rules_before = sh("iptables", &["-w", "-S", &chain]);
    let nat_before = sh(
        "iptables",
        &["-w", "-t", "nat", "-S", &format!("NV{cell}-PRE")],
    );
    assert!(nat_before.contains("--dport 42222"), "{nat_before}");

    // kill -9, then damage the host as a crash or a reboot would.
    let mut server = guard.servers.pop().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    sh("ip", &["link", "del", &bridge]);
    sh("iptables", &["-w", "-F", &chain]);
    sh(
        "iptables",
        &["-w", "-t", "nat", "-F", &format!("NV{cell}-PRE")],
    );
    let _ = Command::new("pkill")
        .args(["-f", &format!("--interface={bridge}")])
        .status();
    sh(
        "ip",
        &[
            "link",
            "add",
            &format!("nv{cell}bfeedf00d"),
            "type",
            "bridge",
        ],
    );

    // The restarted server makes the host match its database again.
    let (server, url) = start_server(data.path());
    guard.servers.push(server);
    cli.url = url;
    let links = sh("ip", &["-o", "link", "show"]);
    assert!(links.contains(&bridge), "the bridge was not rebuilt");
    assert!(
        !links.contains(&format!("nv{cell}bfeedf00d")),
        "an orphan bridge was left"
    );
    assert_eq!(sh("iptables", &["-w", "-S", &chain]), rules_before);
    assert_eq!(
        sh(
            "iptables",
            &["-w", "-t", "nat", "-S", &format!("NV{cell}-PRE")]
        ),
        nat_before
    );
    assert!(
        leftovers(&cell).iter().any(|l| l.starts_with("dnsmasq")),
        "dnsmasq was not restarted"
    );
    let report = cli.json(&["vpc", "reconcile"]);
    assert_eq!(
        report["bridges_created"].as_array().unwrap().len(),
        0,
        "already reconciled at start"
    );

    // Delete everything through cloudctl: nothing of this server is left on the host.
    cli.ok(&["port-forward", "delete", &pf]);
    for eni in [&a, &b] {
        cli.ok(&["eni", "delete", eni["id"].as_str().unwrap()]);
    }
    cli.ok(&["sg", "delete", &sg]);
    cli.ok(&["vpc", "delete", &vpc]);
    assert_eq!(leftovers(&cell), Vec::<String>::new());

    // SIGTERM stops it cleanly.
    let mut server = guard.servers.pop().unwrap();
    sh("kill", &["-TERM", &server.id().to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no clean stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}
