//! VPC networking on the real kernel: bridges, dnsmasq and iptables, with network namespaces as
//! stand-in hosts plugged into subnets through the interface API. Every claim is checked with real
//! packets, and `vpc trace` must agree with what the packets did.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use nuvem_api::vpc::{
    AuthorizeRuleRequest, CreateNetworkInterfaceRequest, CreatePortForwardRequest, Direction,
    NetworkInterface, Protocol, TraceRequest, Verdict,
};
use nuvem_sdk::Client;
use nuvem_server::config::NetworkDriver;

use crate::common::{Backend, Cloud, real_network_available};

const NETTOOL: &str = r#"
import socket, sys, threading, time
mode = sys.argv[1]
if mode == "serve":
    def serve(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(16)
        while True:
            c, addr = s.accept()
            try:
                c.sendall(("%s\n" % addr[0]).encode())
            finally:
                c.close()
    for p in sys.argv[2:]:
        threading.Thread(target=serve, args=(int(p),), daemon=True).start()
    print("ready", flush=True)
    time.sleep(300)
else:
    host, port, timeout = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    try:
        c = socket.create_connection((host, port), timeout=timeout)
        print("ok " + c.recv(100).decode().strip())
    except socket.timeout:
        print("timeout")
    except ConnectionRefusedError:
        print("refused")
    except OSError as e:
        print("error " + str(e))
"#;

fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace standing in for a host; removed (with its processes) when dropped.
struct Host {
    ns: String,
    servers: Vec<Child>,
}

impl Host {
    fn new(ns: String) -> Host {
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        sh("ip", &["netns", "add", &ns]);
        Host {
            ns,
            servers: Vec::new(),
        }
    }

    /// Starts a TCP server on `ports` that answers each connection with the peer's address.
    fn serve(&mut self, tool: &str, ports: &[u16]) {
        let mut args = vec![
            "netns".to_owned(),
            "exec".into(),
            self.ns.clone(),
            "/usr/bin/python3".into(),
            tool.into(),
            "serve".into(),
        ];
        args.extend(ports.iter().map(|p| p.to_string()));
        let mut child = Command::new("ip")
            .args(&args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("server");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "server in {} did not start", self.ns);
        self.servers.push(child);
    }

    /// Opens a new TCP connection: `ok <address the server saw>`, `timeout` or `refused`.
    fn connect(&self, tool: &str, ip: &str, port: u16) -> String {
        let out = sh(
            "ip",
            &[
                "netns",
                "exec",
                &self.ns,
                "/usr/bin/python3",
                tool,
                "connect",
                ip,
                &port.to_string(),
                "1.5",
            ],
        );
        out.trim().to_owned()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        for c in &mut self.servers {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// Anything this server's cell still has on the host.
fn leftovers(cell: &str) -> Vec<String> {
    let mut found = Vec::new();
    for l in sh("ip", &["-o", "link", "show"]).lines() {
        if l.contains(&format!("nv{cell}")) {
            found.push(l.to_owned());
        }
    }
    for table in ["filter", "nat"] {
        for l in sh("iptables", &["-w", "-t", table, "-S"]).lines() {
            if l.contains(&format!("NV{cell}-")) {
                found.push(format!("[{table}] {l}"));
            }
        }
    }
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.starts_with("dnsmasq") && cmd.contains(&format!("--interface=nv{cell}")) {
                found.push(cmd);
            }
        }
    }
    // The subnets' DHCP host lists (`<bridge>.hosts`).
    for entry in std::fs::read_dir("/run/nuvem/dhcp")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("nv{cell}")) {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

fn tcp_rule(port: u32, cidr: Option<&str>, source: Option<&str>) -> AuthorizeRuleRequest {
    AuthorizeRuleRequest {
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        from_port: Some(port),
        to_port: None,
        cidr: cidr.map(Into::into),
        source_group_id: source.map(Into::into),
        description: None,
    }
}

async fn trace(
    c: &Client,
    from: &NetworkInterface,
    to: &str,
    port: u16,
) -> (Verdict, String, Option<String>) {
    let t = c
        .trace(&TraceRequest {
            from: from.private_ip.clone(),
            to: to.to_owned(),
            protocol: Protocol::Tcp,
            port: Some(port as u32),
        })
        .await
        .unwrap();
    let rule = t.steps.iter().rev().find_map(|s| s.rule_id.clone());
    (t.verdict, t.reason, rule)
}

async fn interface(c: &Client, subnet: &str, groups: &[&str]) -> NetworkInterface {
    c.create_network_interface(&CreateNetworkInterfaceRequest {
        subnet_id: Some(subnet.into()),
        security_group_ids: Some(groups.iter().map(|g| g.to_string()).collect()),
        description: None,
    })
    .await
    .unwrap()
}

/// `10.N.0.0/20` → `10.N.<k*16>.0/24`-style blocks inside the test server's /16 pool.
fn block(pool: &str, third: u8, prefix: u8) -> String {
    let second = pool.split('.').nth(1).unwrap();
    format!("10.{second}.{third}.0/{prefix}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (bridges, iptables, dnsmasq): run infra/test.sh"]
async fn security_groups_nat_and_port_forwards_on_the_kernel() {
    if !real_network_available("security_groups_nat_and_port_forwards_on_the_kernel") {
        return;
    }
    // Port forwards are published on the host's address towards the "outside" namespace below.
    let cloud = Cloud::start_configured(Backend::Sqlite, |c| {
        c.network_driver = NetworkDriver::Linux;
        let second: u8 = c.vpc_pool.split('.').nth(1).unwrap().parse().unwrap();
        c.port_forward_address = Some(format!("198.18.{second}.1").parse().unwrap());
    })
    .await
    .unwrap();
    let cell = cloud.server().nuvem.vpc.naming().cell().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("nettool.py");
    std::fs::write(&tool, NETTOOL).unwrap();
    let tool = tool.to_str().unwrap();
    let root = cloud.account("netlab").await;

    // The default VPC, its default subnet, and a second subnet in it.
    let vpc = root
        .list_vpcs()
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|v| v.is_default)
        .unwrap();
    assert!(
        vpc.cidr
            .starts_with(&cloud.pool[..cloud.pool.find(".0.0").unwrap()]),
        "{} in {}",
        vpc.cidr,
        cloud.pool
    );
    let s1 = root
        .list_subnets(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .remove(0);
    let third: u8 = s1.cidr.split('.').nth(2).unwrap().parse().unwrap();
    let s2 = root
        .create_subnet(&vpc.id, &block(&cloud.pool, third + 1, 24), Some("db"))
        .await
        .unwrap();
    assert!(sh("ip", &["-o", "link", "show", &s2.bridge]).contains(&s2.bridge));

    let web = root
        .create_security_group(&vpc.id, "web", Some("web servers"))
        .await
        .unwrap();
    let web = root
        .authorize_rule(&web.id, &tcp_rule(8080, Some("0.0.0.0/0"), None))
        .await
        .unwrap();
    let http_rule = web
        .rules
        .iter()
        .find(|r| r.from_port == Some(8080))
        .unwrap()
        .id
        .clone();
    let db = root
        .create_security_group(&vpc.id, "db", None)
        .await
        .unwrap();
    let db = root
        .authorize_rule(&db.id, &tcp_rule(5432, None, Some(&web.id)))
        .await
        .unwrap();
    let db_rule = db
        .rules
        .iter()
        .find(|r| r.from_port == Some(5432))
        .unwrap()
        .id
        .clone();
    let clients = root
        .create_security_group(&vpc.id, "clients", None)
        .await
        .unwrap();

    let a = interface(&root, &s1.id, &[&web.id]).await;
    let b = interface(&root, &s1.id, &[&clients.id]).await;
    let c = interface(&root, &s2.id, &[&db.id]).await;
    let vpc_api = &cloud.server().nuvem.vpc;
    let p = cloud
        .server()
        .nuvem
        .iam
        .authenticate(&token(&root))
        .await
        .unwrap();
    let mut host_a = Host::new(format!("nt{cell}a"));
    let host_b = Host::new(format!("nt{cell}b"));
    let mut host_c = Host::new(format!("nt{cell}c"));
    vpc_api
        .interface_plug_netns(&p, &a.id, &host_a.ns, true)
        .await
        .unwrap();
    vpc_api
        .interface_plug_netns(&p, &b.id, &host_b.ns, true)
        .await
        .unwrap();
    vpc_api
        .interface_plug_netns(&p, &c.id, &host_c.ns, true)
        .await
        .unwrap();
    host_a.serve(tool, &[8080, 9090]);
    host_c.serve(tool, &[5432]);

    // An allowed port answers; the reply reaches B although B allows no ingress (stateful).
    assert_eq!(
        host_b.connect(tool, &a.private_ip, 8080),
        format!("ok {}", b.private_ip)
    );
    assert_eq!(
        trace(&root, &b, &a.private_ip, 8080).await.0,
        Verdict::Allow
    );
    assert_eq!(
        trace(&root, &b, &a.private_ip, 8080).await.2.as_deref(),
        Some(http_rule.as_str())
    );
    // A port without a rule times out (dropped, not refused).
    assert_eq!(host_b.connect(tool, &a.private_ip, 9090), "timeout");
    let (v, reason, _) = trace(&root, &b, &a.private_ip, 9090).await;
    assert_eq!(v, Verdict::Deny);
    assert!(
        reason.contains("no ingress rule") && reason.contains(&web.id),
        "{reason}"
    );

    // A rule naming a source group admits its members (across subnets, routed) and no one else.
    assert_eq!(
        host_a.connect(tool, &c.private_ip, 5432),
        format!("ok {}", a.private_ip)
    );
    let (v, _, rule) = trace(&root, &a, &c.private_ip, 5432).await;
    assert_eq!(
        (v, rule.as_deref()),
        (Verdict::Allow, Some(db_rule.as_str()))
    );
    assert_eq!(host_b.connect(tool, &c.private_ip, 5432), "timeout");
    assert_eq!(trace(&root, &b, &c.private_ip, 5432).await.0, Verdict::Deny);

    // The generated rules are visible, naming the rule they come from.
    let generated = root
        .security_group_iptables(&web.id)
        .await
        .unwrap()
        .rules
        .join("\n");
    assert!(
        generated.contains("--dport 8080") && generated.contains(&http_rule),
        "{generated}"
    );

    // Revoking takes effect on the next new connection.
    root.revoke_rule(&web.id, &http_rule).await.unwrap();
    assert_eq!(host_b.connect(tool, &a.private_ip, 8080), "timeout");
    assert_eq!(trace(&root, &b, &a.private_ip, 8080).await.0, Verdict::Deny);
    let web = root
        .authorize_rule(&web.id, &tcp_rule(8080, Some("0.0.0.0/0"), None))
        .await
        .unwrap();
    assert!(host_b.connect(tool, &a.private_ip, 8080).starts_with("ok"));
    let _ = web;

    // Traffic between two VPCs is dropped, whatever the groups say.
    let other = root
        .create_vpc(&block(&cloud.pool, 64, 20), Some("other"))
        .await
        .unwrap();
    let os = root
        .create_subnet(&other.id, &block(&cloud.pool, 64, 24), None)
        .await
        .unwrap();
    let other_default = root
        .list_security_groups(Some(&other.id))
        .await
        .unwrap()
        .items
        .remove(0);
    let e = interface(&root, &os.id, &[&other_default.id]).await;
    let host_e = Host::new(format!("nt{cell}e"));
    vpc_api
        .interface_plug_netns(&p, &e.id, &host_e.ns, true)
        .await
        .unwrap();
    assert_eq!(host_e.connect(tool, &a.private_ip, 8080), "timeout");
    let (v, reason, _) = trace(&root, &e, &a.private_ip, 8080).await;
    assert_eq!(v, Verdict::Deny);
    assert!(reason.contains("another VPC"), "{reason}");

    // NAT to an "outside" namespace only while the internet gateway is on.
    let second: u8 = cloud.pool.split('.').nth(1).unwrap().parse().unwrap();
    let (host_ip, out_ip) = (format!("198.18.{second}.1"), format!("198.18.{second}.2"));
    let mut out = Host::new(format!("nt{cell}o"));
    let veth = format!("to{cell}");
    let _ = Command::new("ip").args(["link", "del", &veth]).output();
    sh(
        "ip",
        &[
            "link", "add", &veth, "type", "veth", "peer", "name", "tpeer", "netns", &out.ns,
        ],
    );
    sh(
        "ip",
        &["addr", "add", &format!("{host_ip}/24"), "dev", &veth],
    );
    sh("ip", &["link", "set", &veth, "up"]);
    sh(
        "ip",
        &[
            "-n",
            &out.ns,
            "addr",
            "add",
            &format!("{out_ip}/24"),
            "dev",
            "tpeer",
        ],
    );
    sh("ip", &["-n", &out.ns, "link", "set", "tpeer", "up"]);
    sh("ip", &["-n", &out.ns, "link", "set", "lo", "up"]);
    out.serve(tool, &[8000]);
    assert_eq!(host_b.connect(tool, &out_ip, 8000), "timeout");
    let (v, reason, _) = trace(&root, &b, &out_ip, 8000).await;
    assert_eq!(v, Verdict::Deny);
    assert!(reason.contains("no internet gateway"), "{reason}");
    root.set_internet_gateway(&vpc.id, true).await.unwrap();
    // The outside sees the host's address: the private one was translated.
    assert_eq!(host_b.connect(tool, &out_ip, 8000), format!("ok {host_ip}"));
    assert_eq!(trace(&root, &b, &out_ip, 8000).await.0, Verdict::Allow);
    root.set_internet_gateway(&vpc.id, false).await.unwrap();
    assert_eq!(host_b.connect(tool, &out_ip, 8000), "timeout");

    // A port forward reaches the private address (its security group still applies).
    let host_port = 20000 + u32::from(second) * 10;
    let pf = root
        .create_port_forward(&CreatePortForwardRequest {
            protocol: Protocol::Tcp,
            host_port,
            interface_id: a.id.clone(),
            private_port: 8080,
        })
        .await
        .unwrap();
    assert_eq!(
        out.connect(tool, &host_ip, host_port as u16),
        format!("ok {out_ip}")
    );
    // The same port on another address of the host is not forwarded: nothing listens there.
    let other_host_ip = format!("198.18.{second}.3");
    sh(
        "ip",
        &["addr", "add", &format!("{other_host_ip}/24"), "dev", &veth],
    );
    assert_ne!(
        out.connect(tool, &other_host_ip, host_port as u16),
        format!("ok {out_ip}"),
        "a forward answered on an address it is not published on"
    );
    let pf9090 = root
        .create_port_forward(&CreatePortForwardRequest {
            protocol: Protocol::Tcp,
            host_port: host_port + 1,
            interface_id: a.id.clone(),
            private_port: 9090,
        })
        .await
        .unwrap();
    assert_eq!(
        out.connect(tool, &host_ip, host_port as u16 + 1),
        "timeout",
        "9090 has no rule in web"
    );

    // DHCP hands out exactly the address Nuvem allocated.
    let f = interface(&root, &s1.id, &[&clients.id]).await;
    let host_f = Host::new(format!("nt{cell}f"));
    vpc_api
        .interface_plug_netns(&p, &f.id, &host_f.ns, false)
        .await
        .unwrap();
    let lease = dir.path().join("lease");
    let script = dir.path().join("udhcpc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = bound ] && echo \"$ip\" > {}\nexit 0\n",
            lease.display()
        ),
    )
    .unwrap();
    sh("chmod", &["+x", script.to_str().unwrap()]);
    sh(
        "ip",
        &[
            "netns",
            "exec",
            &host_f.ns,
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-n",
            "-q",
            "-f",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            script.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&lease).unwrap().trim(),
        f.private_ip
    );
    // The subnet's dnsmasq answered as an unprivileged user, not root.
    let pid = std::fs::read_to_string(
        cloud
            .data_dir()
            .join("net/dhcp")
            .join(&s1.id)
            .join("dnsmasq.pid"),
    )
    .expect("dnsmasq pid file");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    for key in ["Uid:", "Gid:"] {
        let ids: Vec<&str> = status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect();
        assert!(
            ids.iter().all(|id| *id != "0"),
            "dnsmasq of {} runs with {key} {ids:?}",
            s1.id
        );
    }

    // An address freed and handed to a new interface (a new MAC) is leased to the new one at
    // once, not held for the old MAC until its lease ends.
    root.delete_network_interface(&f.id).await.unwrap();
    drop(host_f);
    let g = interface(&root, &s1.id, &[&clients.id]).await;
    assert_eq!(
        g.private_ip, f.private_ip,
        "the lowest free address is reused"
    );
    let host_g = Host::new(format!("nt{cell}g"));
    vpc_api
        .interface_plug_netns(&p, &g.id, &host_g.ns, false)
        .await
        .unwrap();
    std::fs::remove_file(&lease).unwrap();
    let dhcp = Command::new("ip")
        .args([
            "netns", "exec", &host_g.ns, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t",
            "5", "-T", "1", "-s",
        ])
        .arg(&script)
        .status()
        .unwrap();
    assert!(dhcp.success(), "no DHCP lease for the reused address");
    assert_eq!(
        std::fs::read_to_string(&lease).unwrap().trim(),
        g.private_ip
    );

    // Deleting a subnet or VPC that still has interfaces is refused.
    let err = root.delete_subnet(&s1.id).await.unwrap_err();
    assert_eq!(err.code(), Some(nuvem_api::ErrorCode::DependencyViolation));
    let err = root.delete_vpc(&vpc.id).await.unwrap_err();
    assert_eq!(err.code(), Some(nuvem_api::ErrorCode::DependencyViolation));

    // Deleting everything leaves nothing of this server on the host.
    for id in [&pf.id, &pf9090.id] {
        root.delete_port_forward(id).await.unwrap();
    }
    for eni in [&a, &b, &c, &e, &g] {
        root.delete_network_interface(&eni.id).await.unwrap();
    }
    for g in [&db.id, &clients.id] {
        root.delete_security_group(g).await.unwrap();
    }
    let web_id = root
        .list_security_groups(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|g| g.name == "web")
        .unwrap()
        .id;
    root.delete_security_group(&web_id).await.unwrap();
    root.delete_subnet(&s2.id).await.unwrap();
    root.delete_vpc(&other.id).await.unwrap();
    root.delete_vpc(&vpc.id).await.unwrap();
    let _ = Command::new("ip").args(["link", "del", &veth]).output();
    assert_eq!(leftovers(&cell), Vec::<String>::new());
    drop((host_a, host_b, host_c, host_e, host_g, out));
    cloud.stop().await;
}

fn token(c: &Client) -> String {
    match c.credentials() {
        nuvem_sdk::Credentials::Session { token } => token.clone(),
        other => panic!("expected a session, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (bridges, iptables, dnsmasq): run infra/test.sh"]
async fn restart_rebuilds_what_the_database_says() {
    if !real_network_available("restart_rebuilds_what_the_database_says") {
        return;
    }
    let cloud = Cloud::start_with(Backend::Sqlite, NetworkDriver::Linux)
        .await
        .unwrap();
    let cell = cloud.server().nuvem.vpc.naming().cell().to_owned();
    let root = cloud.account("durable-net").await;
    let subnet = root.list_subnets(None).await.unwrap().items.remove(0);
    let sg = root
        .list_security_groups(None)
        .await
        .unwrap()
        .items
        .remove(0);
    let eni = interface(&root, &subnet.id, &[&sg.id]).await;
    let rules_before = sh("iptables", &["-w", "-S", &format!("NV{cell}-FWD")]);

    // Damage the host while the server is down, as a crash or a reboot would.
    let (server, dir) = cloud
        .restart_after(|data_dir| {
            sh("ip", &["link", "del", &subnet.bridge]);
            sh("iptables", &["-w", "-F", &format!("NV{cell}-FWD")]);
            let pidfile = data_dir
                .join("net/dhcp")
                .join(&subnet.id)
                .join("dnsmasq.pid");
            let pid = std::fs::read_to_string(pidfile).expect("dnsmasq pid file");
            sh("kill", &[pid.trim()]);
            sh(
                "ip",
                &[
                    "link",
                    "add",
                    &format!("nv{cell}bdeadbeef"),
                    "type",
                    "bridge",
                ],
            );
        })
        .await;
    // The restarted server rebuilt the bridge, the DHCP server and the chains, and removed the
    // bridge the database does not know.
    let links = sh("ip", &["-o", "link", "show"]);
    assert!(links.contains(&subnet.bridge), "bridge not rebuilt");
    assert!(
        !links.contains(&format!("nv{cell}bdeadbeef")),
        "orphan bridge left"
    );
    assert_eq!(
        sh("iptables", &["-w", "-S", &format!("NV{cell}-FWD")]),
        rules_before
    );
    assert!(
        leftovers(&cell).iter().any(|l| l.starts_with("dnsmasq")),
        "dnsmasq not restarted"
    );
    assert!(
        sh(
            "iptables",
            &["-w", "-S", &format!("NV{cell}-I-{}", &eni.id[4..])]
        )
        .contains("DROP")
    );
    server.nuvem.vpc.teardown_host_blocking().unwrap();
    server.stop().await;
    drop(dir);
    assert_eq!(leftovers(&cell), Vec::<String>::new());
}

/// Connects from the host itself (the root namespace): `ok <address the server saw>` or
/// `timeout`.
fn connect_from_the_host(tool: &str, ip: &str, port: u16) -> String {
    sh(
        "/usr/bin/python3",
        &[tool, "connect", ip, &port.to_string(), "1.5"],
    )
    .trim()
    .to_owned()
}

async fn trace_ends(c: &Client, from: &str, to: &str, port: u16) -> (Verdict, String) {
    let t = c
        .trace(&TraceRequest {
            from: from.to_owned(),
            to: to.to_owned(),
            protocol: Protocol::Tcp,
            port: Some(port as u32),
        })
        .await
        .unwrap();
    (t.verdict, t.reason)
}

/// For security groups the host is outside like any other address: its packets to an interface
/// pass the interface's ingress rules (from the subnet's gateway address), an interface's packets
/// to the host pass its egress rules, and `vpc trace` agrees with the kernel both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (bridges, iptables, dnsmasq): run infra/test.sh"]
async fn security_groups_hold_for_traffic_from_and_to_the_host() {
    if !real_network_available("security_groups_hold_for_traffic_from_and_to_the_host") {
        return;
    }
    let cloud = Cloud::start_with(Backend::Sqlite, NetworkDriver::Linux)
        .await
        .unwrap();
    let cell = cloud.server().nuvem.vpc.naming().cell().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("nettool.py");
    std::fs::write(&tool, NETTOOL).unwrap();
    let tool = tool.to_str().unwrap();
    let root = cloud.account("hostlab").await;
    let vpc = root.list_vpcs().await.unwrap().items.remove(0);
    let subnet = root
        .list_subnets(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .remove(0);
    let gateway = subnet.gateway.clone();

    // A group that lets web traffic in, and nothing else.
    let web = root
        .create_security_group(&vpc.id, "web80", None)
        .await
        .unwrap();
    root.authorize_rule(&web.id, &tcp_rule(8080, Some("0.0.0.0/0"), None))
        .await
        .unwrap();
    let a = interface(&root, &subnet.id, &[&web.id]).await;
    let p = cloud
        .server()
        .nuvem
        .iam
        .authenticate(&token(&root))
        .await
        .unwrap();
    let vpc_api = &cloud.server().nuvem.vpc;
    let mut host_a = Host::new(format!("nt{cell}h"));
    vpc_api
        .interface_plug_netns(&p, &a.id, &host_a.ns, true)
        .await
        .unwrap();
    host_a.serve(tool, &[8080, 9090]);

    // Host → interface: the allowed port answers (from the gateway address), the other is
    // dropped, and the trace says the same.
    assert_eq!(
        connect_from_the_host(tool, &a.private_ip, 8080),
        format!("ok {gateway}")
    );
    assert_eq!(
        trace_ends(&root, "host", &a.private_ip, 8080).await.0,
        Verdict::Allow
    );
    assert_eq!(connect_from_the_host(tool, &a.private_ip, 9090), "timeout");
    let (verdict, reason) = trace_ends(&root, "host", &a.private_ip, 9090).await;
    assert_eq!(verdict, Verdict::Deny, "{reason}");
    assert!(reason.contains(&format!("from {gateway}")), "{reason}");
    // A rule for the host's address opens it, for the host only.
    root.authorize_rule(
        &web.id,
        &tcp_rule(9090, Some(&format!("{gateway}/32")), None),
    )
    .await
    .unwrap();
    assert_eq!(
        connect_from_the_host(tool, &a.private_ip, 9090),
        format!("ok {gateway}")
    );
    assert_eq!(
        trace_ends(&root, "host", &a.private_ip, 9090).await.0,
        Verdict::Allow
    );

    // The default group lets the host in on SSH (and nothing else), with a rule the student
    // sees and may revoke.
    let default = root
        .list_security_groups(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|g| g.name == "default")
        .unwrap();
    let ssh = default
        .rules
        .iter()
        .find(|r| r.from_port == Some(22))
        .expect("the default group's SSH-from-the-host rule");
    assert_eq!(ssh.cidr.as_deref(), Some(format!("{gateway}/32").as_str()));
    let d = interface(&root, &subnet.id, &[&default.id]).await;
    let mut host_d = Host::new(format!("nt{cell}d"));
    vpc_api
        .interface_plug_netns(&p, &d.id, &host_d.ns, true)
        .await
        .unwrap();
    host_d.serve(tool, &[22, 8080]);
    assert_eq!(
        connect_from_the_host(tool, &d.private_ip, 22),
        format!("ok {gateway}")
    );
    assert_eq!(connect_from_the_host(tool, &d.private_ip, 8080), "timeout");
    assert_eq!(
        trace_ends(&root, "host", &d.private_ip, 22).await.0,
        Verdict::Allow
    );
    assert_eq!(
        trace_ends(&root, "host", &d.private_ip, 8080).await.0,
        Verdict::Deny
    );

    // Interface → host: its egress rules decide. A group with no egress rule reaches nothing
    // on the host; an egress rule to the host's address opens exactly that port.
    let port = 47000 + (std::process::id() % 1000) as u16;
    let mut server = Command::new("/usr/bin/python3")
        .args([tool, "serve", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let closed = root
        .create_security_group(&vpc.id, "no-egress", None)
        .await
        .unwrap();
    for r in &closed.rules {
        root.revoke_rule(&closed.id, &r.id).await.unwrap();
    }
    let b = interface(&root, &subnet.id, &[&closed.id]).await;
    let host_b = Host::new(format!("nt{cell}e"));
    vpc_api
        .interface_plug_netns(&p, &b.id, &host_b.ns, true)
        .await
        .unwrap();
    assert_eq!(host_b.connect(tool, &gateway, port), "timeout");
    let (verdict, reason) = trace_ends(&root, &b.private_ip, "host", port).await;
    assert_eq!(verdict, Verdict::Deny, "{reason}");
    root.authorize_rule(
        &closed.id,
        &AuthorizeRuleRequest {
            direction: Direction::Egress,
            ..tcp_rule(port as u32, Some(&format!("{gateway}/32")), None)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        host_b.connect(tool, &gateway, port),
        format!("ok {}", b.private_ip)
    );
    assert_eq!(
        trace_ends(&root, &b.private_ip, "host", port).await.0,
        Verdict::Allow
    );
    assert_eq!(
        trace_ends(&root, &b.private_ip, &gateway, port).await.0,
        Verdict::Allow,
        "the gateway address is the host"
    );
    let _ = server.kill();
    let _ = server.wait();
    drop((host_a, host_b, host_d));
    cloud.stop().await;
    assert_eq!(
        leftovers(&cell),
        Vec::<String>::new(),
        "the host's chains too"
    );
}
