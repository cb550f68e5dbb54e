//! VPC firewall benchmark on the real kernel (iptables nft backend, Linux bridges, network
//! namespaces). Prints two tables; figures are recorded in docs/benchmarks.md.
//!
//! 1. Rule change: what the server does on every security-group rule change, a full re-render of
//!    the cell's rules and `firewall_apply` (`iptables-restore --noflush` of Nuvem's chains, the
//!    stale-chain scan and the jump checks), at 10 interfaces / 50 rules, 50 / 250, 100 / 500.
//! 2. Per-packet cost: two namespaces on one subnet bridge, TCP throughput and new connections
//!    per second with the two interfaces' rules only, then with 500 extra rules in the
//!    destination's ingress chain before the matching allow rule (alternating rounds), and a
//!    control: one client alternating between a port allowed before the 500 rules and one after.
//!
//! ```sh
//! cargo bench -p nuvem-server --bench firewall     # as root, with ip, iptables, python3
//! ```
//! Everything lives in a random cell (`nv<cell>…` devices, `NV<cell>-` chains) and two namespaces
//! of its own, and is removed at the end, on panic too. Traffic only flows between the two
//! namespaces; every loop is bounded in count and time.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nuvem_server::drivers::net::{BridgeSpec, HostNetwork, LinuxNetwork, NetnsPlug};
use nuvem_server::drivers::run_with_input;
use nuvem_server::netspec::model::{Direction, Protocol};
use nuvem_server::netspec::{
    self, Cidr, Group, Interface, Naming, Network, Peer, Rule, Ruleset, Subnet as SubnetSpec, Vpc,
};

/// (interfaces, security-group rules): 5 rules per interface.
const SCALES: [(usize, usize); 3] = [(10, 50), (50, 250), (100, 500)];
const CHANGES: usize = 10;
const EXTRA_RULES: usize = 500;
/// Rounds of (rules only, +500 rules), alternating, so that drift and other load hit both.
const ROUNDS: usize = 8;
const STREAM_SECONDS: f64 = 2.0;
const STREAM_MAX_BYTES: u64 = 4 << 30;
const CONN_SECONDS: f64 = 1.5;
const CONN_MAX: u64 = 4_000;
/// The interleaved control: one client alternating between a port allowed before the 500 rules
/// and one allowed after them.
const CONTROL_SECONDS: f64 = 4.0;
const CONTROL_MAX: u64 = 12_000;
const PORT_STREAM: u16 = 5001;
const PORT_CONN: u16 = 5002;
const PORT_DENIED: u16 = 5003;
const PORT_FIRST: u16 = 5004;
const PYTHON: &str = "/usr/bin/python3";

const TOOL: &str = r#"
import socket, sys, threading, time
mode = sys.argv[1]

def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(512)
    return s

if mode == "serve":
    def sink(s):
        buf = bytearray(1 << 20)
        while True:
            c, _ = s.accept()
            total = 0
            while True:
                n = c.recv_into(buf)
                if n == 0:
                    break
                total += n
            c.sendall(b"%d\n" % total)
            c.close()
    def closer(s):
        while True:
            c, _ = s.accept()
            c.close()
    threading.Thread(target=sink, args=(listen(int(sys.argv[2])),), daemon=True).start()
    for p in sys.argv[3:]:
        threading.Thread(target=closer, args=(listen(int(p)),), daemon=True).start()
    print("ready", flush=True)
    time.sleep(900)
elif mode == "stream":
    host, port, secs, limit = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    c = socket.create_connection((host, port), timeout=10)
    buf = b"\0" * (1 << 18)
    sent = 0
    t0 = time.monotonic()
    deadline = t0 + secs
    while sent < limit and time.monotonic() < deadline:
        c.sendall(buf)
        sent += len(buf)
    c.shutdown(socket.SHUT_WR)
    got = int(c.makefile().readline())
    print(got, time.monotonic() - t0)
elif mode == "conns":
    # Short connections, round robin over the ports; per port: count and median time.
    host, secs, limit = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    ports = [int(p) for p in sys.argv[5:]]
    times = {p: [] for p in ports}
    n = fails = 0
    t0 = time.monotonic()
    deadline = t0 + secs
    while n < limit and time.monotonic() < deadline and fails < 10:
        port = ports[n % len(ports)]
        try:
            t = time.perf_counter()
            c = socket.create_connection((host, port), timeout=2)
            c.recv(1)
            c.close()
            times[port].append(time.perf_counter() - t)
            n += 1
        except OSError:
            fails += 1
    out = [str(fails), str(time.monotonic() - t0)]
    for p in ports:
        v = sorted(times[p])
        out += [str(len(v)), str(v[len(v) // 2] * 1e6 if v else 0)]
    print(" ".join(out))
else:
    host, port, timeout = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        print("ok")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print("error " + str(e))
"#;

fn sh(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn p50<T: Copy + PartialOrd>(v: &[T]) -> T {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    s[(s.len() - 1) / 2]
}

fn max(v: &[Duration]) -> Duration {
    v.iter().copied().max().unwrap_or_default()
}

// ------------------------------------------------------------------------------------------------
// A synthetic network: one VPC, one /24 subnet, interfaces each in a group of its own.

struct Subnet {
    vpc: Vpc,
    subnet: SubnetSpec,
    block: Cidr,
}

impl Subnet {
    fn new(block: Cidr) -> Subnet {
        let vpc = Vpc {
            id: "vpc-be0c0001".into(),
            cidr: block,
            internet_gateway: false,
        };
        let subnet = SubnetSpec {
            id: "subnet-be0c0001".into(),
            vpc_id: vpc.id.clone(),
            cidr: block,
        };
        Subnet { vpc, subnet, block }
    }

    fn ip(&self, host: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.block.network()) + host)
    }

    fn gateway(&self) -> Ipv4Addr {
        self.ip(1)
    }

    fn snapshot(&self) -> Network {
        Network {
            vpcs: vec![self.vpc.clone()],
            subnets: vec![self.subnet.clone()],
            ..Default::default()
        }
    }

    /// Adds an interface with its own group; returns (interface id, index of its group).
    fn add_interface(
        &self,
        snap: &mut Network,
        naming: &Naming,
        n: u32,
        host: u32,
    ) -> (String, usize) {
        let eni = format!("eni-be0e{n:04x}");
        let sg = format!("sg-be05{n:04x}");
        snap.interfaces.push(Interface {
            id: eni.clone(),
            account_id: "bench".into(),
            vpc_id: self.vpc.id.clone(),
            subnet_id: self.subnet.id.clone(),
            ip: self.ip(host),
            mac: format!("02:be:0e:00:{:02x}:{:02x}", n >> 8, n & 0xff),
            device: naming.device(&eni),
            groups: vec![sg.clone()],
        });
        snap.groups.push(Group {
            id: sg,
            rules: Vec::new(),
        });
        (eni, snap.groups.len() - 1)
    }
}

fn rule(n: usize, direction: Direction, port: Option<u16>, cidr: &str) -> Rule {
    Rule {
        id: format!(
            "sgr-be0{}{n:04x}",
            if direction == Direction::Ingress {
                'a'
            } else {
                'b'
            }
        ),
        direction,
        protocol: if port.is_some() {
            Protocol::Tcp
        } else {
            Protocol::All
        },
        ports: port.map(|p| (p, p)),
        peer: Peer::Block(Cidr::parse(cidr).expect("a block")),
    }
}

/// Rules of all groups.
fn rule_total(snap: &Network) -> usize {
    snap.groups.iter().map(|g| g.rules.len()).sum()
}

/// A peer address that never carries traffic here (198.18.0.0/15, the benchmarking block).
fn other_peer(n: usize) -> String {
    format!("198.18.{}.{}/32", n / 250, 1 + n % 250)
}

/// `interfaces` interfaces with `rules / interfaces` rules each: one egress "all", the rest
/// ingress TCP from a /32.
fn scale_snapshot(subnet: &Subnet, naming: &Naming, interfaces: usize, rules: usize) -> Network {
    let mut snap = subnet.snapshot();
    let per = rules / interfaces;
    let mut n = 0;
    for i in 0..interfaces {
        let (_, sg) = subnet.add_interface(&mut snap, naming, i as u32, 10 + i as u32);
        let group = &mut snap.groups[sg].rules;
        group.push(rule(n, Direction::Egress, None, "0.0.0.0/0"));
        n += 1;
        for k in 1..per {
            group.push(rule(
                n,
                Direction::Ingress,
                Some(1000 + k as u16),
                &other_peer(n),
            ));
            n += 1;
        }
    }
    assert_eq!(rule_total(&snap), rules);
    snap
}

// ------------------------------------------------------------------------------------------------
// Host objects, removed when dropped (on panic too).

struct Lab {
    net: LinuxNetwork,
    naming: Naming,
    links: Vec<String>,
    netns: Vec<String>,
    children: Vec<Child>,
    tool: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn netns_add(&mut self, ns: &str) -> anyhow::Result<()> {
        self.netns.push(ns.to_owned());
        let _ = Command::new("ip").args(["netns", "del", ns]).output();
        sh("ip", &["netns", "add", ns])?;
        Ok(())
    }

    fn python(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, PYTHON])
            .arg(&self.tool)
            .args(args);
        c
    }

    fn run_tool(&self, ns: &str, args: &[&str]) -> anyhow::Result<Vec<String>> {
        let out = self.python(ns, args).output()?;
        anyhow::ensure!(
            out.status.success(),
            "python {args:?} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }

    fn apply(&self, snap: &Network) -> anyhow::Result<Ruleset> {
        let rules = netspec::render(snap, &self.naming);
        self.net.firewall_apply(&rules, &self.naming, false)?;
        Ok(rules)
    }

    /// What the cell still has on the host.
    fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        let dev = self.naming.device_prefix();
        if let Ok(out) = sh("ip", &["-o", "link", "show"]) {
            found.extend(out.lines().filter(|l| l.contains(&dev)).map(str::to_owned));
        }
        for table in ["filter", "nat"] {
            if let Ok(out) = sh("iptables", &["-w", "-t", table, "-S"]) {
                let prefix = self.naming.chain_prefix();
                found.extend(
                    out.lines()
                        .filter(|l| l.contains(&prefix))
                        .map(str::to_owned),
                );
            }
        }
        if let Ok(out) = sh("ip", &["netns", "list"]) {
            for ns in &self.netns {
                if out.lines().any(|l| l.split_whitespace().next() == Some(ns)) {
                    found.push(format!("netns {ns}"));
                }
            }
        }
        found
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Err(e) = self
            .net
            .firewall_apply(&Ruleset::default(), &self.naming, true)
        {
            eprintln!("cleanup: removing the chains failed: {e}");
        }
        for l in self.links.iter().rev() {
            if let Err(e) = self.net.link_delete(l) {
                eprintln!("cleanup: {e}");
            }
        }
        for ns in &self.netns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let left = self.leftovers();
        if left.is_empty() {
            println!(
                "cleanup: cell {} removed (chains, bridge, veths, namespaces)",
                self.naming.cell()
            );
        } else {
            eprintln!("cleanup: LEFT ON THE HOST:\n  {}", left.join("\n  "));
        }
    }
}

fn available() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let tools = ["ip", "iptables", "iptables-restore"].iter().all(|t| {
        ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .any(|d| Path::new(d).join(t).exists())
    });
    root && tools && Path::new(PYTHON).exists()
}

/// A cell nobody uses on this host, and a free /24 inside 10.120.0.0/16.
fn pick_cell_and_block(net: &LinuxNetwork) -> anyhow::Result<(String, Cidr)> {
    let links = sh("ip", &["-o", "link", "show"])?;
    let filter = sh("iptables", &["-w", "-t", "filter", "-S"])?;
    let nat = sh("iptables", &["-w", "-t", "nat", "-S"])?;
    let pid = std::process::id();
    let cell = (0..256u32)
        .map(|k| {
            format!(
                "{:04x}",
                (pid.wrapping_mul(2_654_435_761) >> 8).wrapping_add(k) & 0xffff
            )
        })
        .find(|c| {
            let (dev, chain) = (format!("nv{c}"), format!("NV{c}-"));
            !links.contains(&dev) && !filter.contains(&chain) && !nat.contains(&chain)
        })
        .ok_or_else(|| anyhow::anyhow!("no free cell"))?;
    let used: Vec<Cidr> = net.host_networks()?.into_iter().map(|(_, c)| c).collect();
    let block = (0..256u32)
        .map(|k| {
            let third = (pid + k * 7) % 256;
            Cidr::new(u32::from(Ipv4Addr::new(10, 120, third as u8, 0)), 24)
        })
        .find(|b| !used.iter().any(|u| u.overlaps(*b)))
        .ok_or_else(|| anyhow::anyhow!("no free /24 in 10.120.0.0/16"))?;
    Ok((cell, block))
}

// ------------------------------------------------------------------------------------------------
// 1. Rule changes.

struct ScaleResult {
    interfaces: usize,
    rules: usize,
    lines: usize,
    render: Vec<Duration>,
    apply: Vec<Duration>,
    restore: Vec<Duration>,
}

fn rule_changes(lab: &Lab, subnet: &Subnet) -> anyhow::Result<Vec<ScaleResult>> {
    let mut results = Vec::new();
    for (interfaces, rules) in SCALES {
        let mut snap = scale_snapshot(subnet, &lab.naming, interfaces, rules);
        // The first apply creates the chains (and the jumps); then only changes are timed.
        let first = lab.apply(&snap)?;
        let mut r = ScaleResult {
            interfaces,
            rules,
            lines: first.rule_count(),
            render: Vec::new(),
            apply: Vec::new(),
            restore: Vec::new(),
        };
        for change in 0..CHANGES {
            // A rule change: one ingress rule gets another port.
            let port = 2000 + change as u16;
            snap.groups[change % interfaces].rules[1].ports = Some((port, port));
            let t = Instant::now();
            let set = netspec::render(&snap, &lab.naming);
            let rendered = t.elapsed();
            lab.net.firewall_apply(&set, &lab.naming, false)?;
            r.apply.push(t.elapsed());
            r.render.push(rendered);
            // The same commit alone, for comparison: the filter table's restore, nothing else.
            let text = set.filter.restore_text("filter");
            let t = Instant::now();
            run_with_input("iptables-restore", &["-w", "--noflush"], Some(&text))?;
            r.restore.push(t.elapsed());
        }
        results.push(r);
    }
    Ok(results)
}

// ------------------------------------------------------------------------------------------------
// 2. Packets between two namespaces.

struct Pair {
    client_ip: Ipv4Addr,
    server_ip: Ipv4Addr,
    client_ns: String,
    server_ns: String,
}

/// The two interfaces' rules; `extra` rules in the server's ingress chain before the allow
/// rules; with `control`, one more allow rule (port [`PORT_FIRST`]) before the extra rules.
fn pair_snapshot(
    subnet: &Subnet,
    naming: &Naming,
    pair: &Pair,
    extra: usize,
    control: bool,
) -> Network {
    let mut snap = subnet.snapshot();
    let (_, client_sg) = subnet.add_interface(&mut snap, naming, 0xc1, 10);
    let (_, server_sg) = subnet.add_interface(&mut snap, naming, 0x5e, 11);
    let client = format!("{}/32", pair.client_ip);
    snap.groups[client_sg]
        .rules
        .push(rule(1, Direction::Egress, None, "0.0.0.0/0"));
    let server = &mut snap.groups[server_sg].rules;
    server.push(rule(2, Direction::Egress, None, "0.0.0.0/0"));
    if control {
        server.push(rule(5, Direction::Ingress, Some(PORT_FIRST), &client));
    }
    // Extra rules first, so that every new flow walks them before the allow rule.
    for n in 0..extra {
        server.push(rule(
            0x1000 + n,
            Direction::Ingress,
            Some(10_000 + n as u16),
            &other_peer(n),
        ));
    }
    server.push(rule(3, Direction::Ingress, Some(PORT_CONN), &client));
    server.push(rule(4, Direction::Ingress, Some(PORT_STREAM), &client));
    snap
}

/// Packets that matched a rule (by its id in the comment), from the kernel's counters.
fn rule_packets(naming: &Naming, rule_id: &str) -> anyhow::Result<u64> {
    let out = sh("iptables", &["-w", "-t", "filter", "-S", "-v"])?;
    let line = out
        .lines()
        .find(|l| l.contains(&naming.chain_prefix()) && l.contains(rule_id))
        .ok_or_else(|| anyhow::anyhow!("rule {rule_id} not in the kernel"))?;
    let mut words = line.split_whitespace();
    words.find(|w| *w == "-c");
    Ok(words.next().unwrap_or("0").parse()?)
}

/// Short connections round robin over `ports`: (connections per second over all, and per port
/// (count, median time of one connection in µs)).
fn connections(
    lab: &Lab,
    pair: &Pair,
    secs: f64,
    limit: u64,
    ports: &[u16],
) -> anyhow::Result<(f64, Vec<(u64, f64)>)> {
    let mut args = vec![
        "conns".to_owned(),
        pair.server_ip.to_string(),
        secs.to_string(),
        limit.to_string(),
    ];
    args.extend(ports.iter().map(u16::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lab.run_tool(&pair.client_ns, &args)?;
    let fails: u64 = out[0].parse()?;
    anyhow::ensure!(fails == 0, "{fails} connections failed");
    let elapsed: f64 = out[1].parse()?;
    let per_port = out[2..]
        .chunks(2)
        .map(|c| Ok((c[0].parse()?, c[1].parse()?)))
        .collect::<anyhow::Result<Vec<(u64, f64)>>>()?;
    let total: u64 = per_port.iter().map(|p| p.0).sum();
    Ok((total as f64 / elapsed, per_port))
}

struct Sample {
    mb_s: f64,
    conn_s: f64,
    conn_us: f64,
    new_flows: u64,
}

fn measure(lab: &Lab, pair: &Pair) -> anyhow::Result<Sample> {
    let stream = lab.run_tool(
        &pair.client_ns,
        &[
            "stream",
            &pair.server_ip.to_string(),
            &PORT_STREAM.to_string(),
            &STREAM_SECONDS.to_string(),
            &STREAM_MAX_BYTES.to_string(),
        ],
    )?;
    let bytes: f64 = stream[0].parse()?;
    let secs: f64 = stream[1].parse()?;
    let (conn_s, per_port) = connections(lab, pair, CONN_SECONDS, CONN_MAX, &[PORT_CONN])?;
    Ok(Sample {
        mb_s: bytes / secs / 1e6,
        conn_s,
        conn_us: per_port[0].1,
        new_flows: rule_packets(&lab.naming, "sgr-be0a0003")?,
    })
}

struct Packets {
    /// Per round: (rules only, +500 rules).
    rounds: Vec<(Sample, Sample)>,
    /// The interleaved control: median connection time (µs) with the allow rule before and
    /// after the 500 rules, and the connections made to each.
    control: [(u64, f64); 2],
}

fn packets(lab: &mut Lab, subnet: &Subnet) -> anyhow::Result<Packets> {
    let naming = lab.naming.clone();
    let cell = naming.cell().to_owned();
    let pair = Pair {
        client_ip: subnet.ip(10),
        server_ip: subnet.ip(11),
        client_ns: format!("nvbench-{cell}-a"),
        server_ns: format!("nvbench-{cell}-b"),
    };
    let bridge = naming.bridge(&subnet.subnet.id);
    let only = pair_snapshot(subnet, &naming, &pair, 0, false);
    let extra = pair_snapshot(subnet, &naming, &pair, EXTRA_RULES, false);
    let control = pair_snapshot(subnet, &naming, &pair, EXTRA_RULES, true);

    lab.net.prepare()?;
    lab.links.push(bridge.clone());
    lab.net.bridge_ensure(&BridgeSpec {
        name: bridge.clone(),
        gateway: subnet.gateway(),
        prefix: subnet.block.prefix(),
    })?;
    for (eni, ns, ip) in [
        (&only.interfaces[0], &pair.client_ns, pair.client_ip),
        (&only.interfaces[1], &pair.server_ns, pair.server_ip),
    ] {
        lab.netns_add(ns)?;
        lab.links.push(eni.device.clone());
        lab.net.plug_netns(&NetnsPlug {
            device: eni.device.clone(),
            bridge: bridge.clone(),
            netns: ns.clone(),
            mac: eni.mac.clone(),
            address: Some((ip, subnet.block.prefix(), subnet.gateway())),
        })?;
    }
    lab.apply(&only)?;

    let mut child = lab
        .python(
            &pair.server_ns,
            &[
                "serve",
                &PORT_STREAM.to_string(),
                &PORT_CONN.to_string(),
                &PORT_DENIED.to_string(),
                &PORT_FIRST.to_string(),
            ],
        )
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take();
    lab.children.push(child);
    let mut line = String::new();
    BufReader::new(stdout.expect("piped")).read_line(&mut line)?;
    anyhow::ensure!(line.trim() == "ready", "the server did not start: {line:?}");

    // The firewall must be in the path: an allowed port answers, a port without a rule does not.
    let server = pair.server_ip.to_string();
    for (port, want) in [(PORT_CONN, "ok"), (PORT_DENIED, "timeout")] {
        let got = lab.run_tool(&pair.client_ns, &["probe", &server, &port.to_string(), "1"])?;
        anyhow::ensure!(
            got.first().map(String::as_str) == Some(want),
            "port {port}: expected {want}, got {got:?} (is bridged traffic filtered?)"
        );
    }

    let mut rounds = Vec::new();
    for round in 0..ROUNDS {
        let mut pair_of = Vec::new();
        for (name, snap) in [("rules only", &only), ("+500 rules", &extra)] {
            let set = lab.apply(snap)?;
            let s = measure(lab, &pair)?;
            println!(
                "  round {} {name:<11} {:>6.0} MB/s {:>6.0} conn/s {:>5.0} us/conn  \
                 ({} iptables lines; {} SYNs reached the allow rule)",
                round + 1,
                s.mb_s,
                s.conn_s,
                s.conn_us,
                set.rule_count(),
                s.new_flows
            );
            pair_of.push(s);
        }
        let b = pair_of.pop().expect("two");
        let a = pair_of.pop().expect("two");
        rounds.push((a, b));
    }

    lab.apply(&control)?;
    let (_, per_port) = connections(
        lab,
        &pair,
        CONTROL_SECONDS,
        CONTROL_MAX,
        &[PORT_FIRST, PORT_CONN],
    )?;
    Ok(Packets {
        rounds,
        control: [per_port[0], per_port[1]],
    })
}

// ------------------------------------------------------------------------------------------------

fn main() -> anyhow::Result<()> {
    if !available() {
        eprintln!("SKIPPED firewall bench: needs root, ip, iptables and {PYTHON}");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let net = LinuxNetwork::new(dir.path())?;
    let (cell, block) = pick_cell_and_block(&net)?;
    let mut lab = Lab {
        net,
        naming: Naming::new(&cell),
        links: Vec::new(),
        netns: Vec::new(),
        children: Vec::new(),
        tool: dir.path().join("tool.py"),
        _dir: dir,
    };
    std::fs::write(&lab.tool, TOOL)?;
    let subnet = Subnet::new(block);
    println!(
        "cell {cell}, subnet {block}; iptables: {}",
        sh("iptables", &["--version"])?.trim()
    );

    println!("\n1. Rule change = render + firewall_apply, {CHANGES} changes per size");
    let scales = rule_changes(&lab, &subnet)?;
    let base = p50(&scales[0].apply).as_secs_f64();
    println!(
        "{:>10} {:>8} {:>9} {:>11} {:>11} {:>11} {:>14} {:>8}",
        "interfaces",
        "rules",
        "ipt lines",
        "render p50",
        "apply p50",
        "apply max",
        "restore p50",
        "growth"
    );
    for s in &scales {
        println!(
            "{:>10} {:>8} {:>9} {:>11} {:>11} {:>11} {:>14} {:>7.2}x",
            s.interfaces,
            s.rules,
            s.lines,
            format!("{:.3} ms", p50(&s.render).as_secs_f64() * 1000.0),
            ms(p50(&s.apply)),
            ms(max(&s.apply)),
            ms(p50(&s.restore)),
            p50(&s.apply).as_secs_f64() / base,
        );
    }
    println!("(apply includes render; restore = the filter table's iptables-restore alone)");

    println!(
        "\n2. Two namespaces on one bridge, {ROUNDS} alternating rounds (stream: {STREAM_SECONDS} s \
         or 4 GiB; short connections: {CONN_SECONDS} s or {CONN_MAX})"
    );
    let p = packets(&mut lab, &subnet)?;
    println!(
        "{:<30} {:>12} {:>12} {:>10}",
        "median of rounds", "rules only", "+500 rules", "ratio"
    );
    type Metric = fn(&Sample) -> f64;
    let metrics: [(&str, Metric); 3] = [
        ("TCP stream (MB/s)", |s| s.mb_s),
        ("new connections per second", |s| s.conn_s),
        ("time per connection (us, p50)", |s| s.conn_us),
    ];
    for (name, f) in metrics {
        let a = p50(&p.rounds.iter().map(|r| f(&r.0)).collect::<Vec<_>>());
        let b = p50(&p.rounds.iter().map(|r| f(&r.1)).collect::<Vec<_>>());
        let ratio = p50(&p
            .rounds
            .iter()
            .map(|r| f(&r.1) / f(&r.0))
            .collect::<Vec<_>>());
        println!("{name:<30} {a:>12.0} {b:>12.0} {ratio:>10.2}");
    }
    println!("(ratio: median of the per-round ratios +500 / rules only)");
    let [(n1, first), (n2, after)] = p.control;
    let extra_us = after - first;
    println!(
        "interleaved control, one chain, {n1} + {n2} connections: allow rule before the {EXTRA_RULES} \
         rules {first:.0} us, after them {after:.0} us (p50) -> {extra_us:+.1} us per new flow, \
         ~{:.0} ns per rule",
        extra_us * 1000.0 / EXTRA_RULES as f64
    );
    drop(lab);
    Ok(())
}
