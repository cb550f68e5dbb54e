//! Instance launch benchmark: "launch to SSH-ready" of the `nuvem-tiny` image on the real stack
//! (libvirt + QEMU — TCG where nested KVM hangs, which the server detects itself — real bridges,
//! dnsmasq and iptables), split into Nuvem's own time and libvirt/QEMU/guest time. Five
//! sequential launches (each terminated before the next), then ten at once (`count = 10`).
//! Prints a table; figures are recorded in docs/benchmarks.md.
//!
//! ```sh
//! bash infra/daemons.sh start                                   # libvirtd, virtlogd
//! bash infra/images/build-tiny.sh /var/cache/nuvem/images/nuvem-tiny
//! cargo bench -p nuvem-server --bench launch                    # as root
//! ```
//! `NUVEM_TEST_IMAGES_DIR` overrides the images directory (default /var/cache/nuvem/images).
//!
//! One timeline per instance, all wall clock (the server runs in this process, so its
//! timestamps and the benchmark's share one clock):
//!
//! | mark | source |
//! |---|---|
//! | sent | the benchmark, just before the RunInstances HTTP call |
//! | created | the instance's `created_at` (row written, saga spawned) |
//! | NIC done | birth time of the instance directory (the Disk step creates it first) |
//! | seed done | modification time of `seed.iso` (end of the Seed step) |
//! | QEMU start | libvirt's `starting up` line in /var/log/libvirt/qemu/<domain>.log |
//! | launched | the instance's `launched_at` (virDomainCreate returned) |
//! | SSH ready | the first `ssh ... root@<private ip> true` that succeeds |
//!
//! Nuvem's part is sent → QEMU start: the API call up to the row, the NIC step (interface,
//! tap, firewall), disk and seed (`qemu-img`, `genisoimage`), then the Domain step up to QEMU:
//! database writes, the wait for the one libvirt connection, virDomainDefineXML and libvirt's own
//! preparation before it logs `starting up` (so the share is, if anything, overstated).
//! libvirt/QEMU is QEMU start → launched (the bulk of virDomainCreate), the guest is launched →
//! SSH ready. SSH is polled every 250 ms: a 250 ms TCP probe of port 22, then the real `ssh`.
//!
//! The address of a terminated instance is parked on a spare interface before the next launch:
//! Nuvem hands a freed address to the next interface at once, but the subnet's dnsmasq still holds
//! a lease (1 h) for the old MAC and refuses it to the new guest, which then never gets an address.
//!
//! Everything is bounded in count and time; traffic goes only to the guests' private addresses
//! on this host. Instances are terminated, domains, bridges and rules removed at the end, on an
//! error, a panic or Ctrl-C too.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use nuvem_api::ec2::{InstanceState, RunInstancesRequest};
use nuvem_api::vpc::CreateNetworkInterfaceRequest;
use nuvem_sdk::{Client, Credentials};
use nuvem_server::compute::Compute;
use nuvem_server::config::{Config, HypervisorDriver, NetworkDriver};

const SEQUENTIAL: usize = 5;
const PARALLEL: u32 = 10;
const INSTANCE_TYPE: &str = "t3.nano";
/// 2 cores × 6 = 12 vCPUs: room for the ten t3.nano of the parallel case.
const CPU_RATIO: f64 = 6.0;
const VPC_POOL: &str = "10.122.0.0/16";
const ACCOUNT: &str = "launchbench";
const ROOT_PASSWORD: &str = "launchbench-root-password";
const POLL: Duration = Duration::from_millis(250);
/// From the call to `running`.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(180);
/// From `running` to SSH-ready, one guest alone.
const SSH_TIMEOUT: Duration = Duration::from_secs(180);
/// From `running` to SSH-ready, ten guests sharing two cores under TCG.
const SSH_TIMEOUT_PARALLEL: Duration = Duration::from_secs(600);
/// One `ssh ... true`, whatever happens.
const SSH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(90);

/// Everything measured about one launch.
struct Sample {
    id: String,
    ip: String,
    sent: DateTime<Utc>,
    api: Duration,
    created: DateTime<Utc>,
    nic_done: Option<DateTime<Utc>>,
    seed_done: Option<DateTime<Utc>>,
    qemu_start: Option<DateTime<Utc>>,
    launched: DateTime<Utc>,
    ssh_ready: DateTime<Utc>,
    /// How long the successful `ssh true` took (part of the guest column).
    ssh_attempt: Duration,
    /// The guest's own `boot took N s (guest uptime)` line on its console.
    guest_uptime: Option<f64>,
    /// `kvm` or `tcg`, as the server chose.
    accelerator: String,
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

impl Sample {
    fn qemu_start_or_seed(&self) -> DateTime<Utc> {
        // Without libvirt's log, the whole Domain step counts as libvirt's.
        self.qemu_start.or(self.seed_done).unwrap_or(self.created)
    }
    fn nuvem(&self) -> f64 {
        secs(self.sent, self.qemu_start_or_seed())
    }
    fn qemu(&self) -> f64 {
        secs(self.qemu_start_or_seed(), self.launched)
    }
    fn guest(&self) -> f64 {
        secs(self.launched, self.ssh_ready)
    }
    fn total(&self) -> f64 {
        secs(self.sent, self.ssh_ready)
    }
    fn saga(&self) -> f64 {
        secs(self.created, self.launched)
    }
    fn share(&self) -> f64 {
        self.nuvem() / self.total()
    }
    /// The columns of the table, in order (NaN: not measured).
    fn columns(&self) -> [f64; 11] {
        let nan = f64::NAN;
        [
            self.api.as_secs_f64(),
            self.nic_done.map_or(nan, |t| secs(self.created, t)),
            match (self.nic_done, self.seed_done) {
                (Some(a), Some(b)) => secs(a, b),
                _ => nan,
            },
            match (self.seed_done, self.qemu_start) {
                (Some(a), Some(b)) => secs(a, b),
                _ => nan,
            },
            self.nuvem(),
            self.qemu(),
            self.saga(),
            self.guest(),
            self.guest_uptime.unwrap_or(nan),
            self.total(),
            self.share() * 100.0,
        ]
    }
}

const HEADERS: [&str; 11] = [
    "API",
    "NIC",
    "disk+seed",
    "to QEMU",
    "NUVEM",
    "QEMU",
    "saga",
    "GUEST",
    "uptime",
    "TOTAL",
    "share",
];

fn print_header(first: &str) {
    print!("{first:<14}");
    for h in HEADERS {
        print!(" {h:>9}");
    }
    println!();
}

fn print_row(label: &str, cols: &[f64; 11]) {
    print!("{label:<14}");
    for (n, v) in cols.iter().enumerate() {
        if v.is_nan() {
            print!(" {:>9}", "-");
        } else if n == cols.len() - 1 {
            print!(" {:>8.1}%", v);
        } else {
            print!(" {:>8.3}s", v);
        }
    }
    println!();
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.iter().filter(|v| !v.is_nan()).count();
    if n == 0 {
        return f64::NAN;
    }
    values[((n as f64 - 1.0) * p).round() as usize]
}

/// Per-launch rows, then p50 and max of each column, then Nuvem's share of the summed totals.
fn print_table(title: &str, samples: &[Sample]) {
    println!("\n{title}");
    print_header("launch");
    let rows: Vec<[f64; 11]> = samples.iter().map(Sample::columns).collect();
    for (n, (s, r)) in samples.iter().zip(&rows).enumerate() {
        print_row(&format!("#{} {}", n + 1, &s.id[2..]), r);
    }
    for (label, p) in [("p50", 0.5), ("max", 1.0)] {
        let mut out = [0.0; 11];
        for (c, o) in out.iter_mut().enumerate() {
            let mut col: Vec<f64> = rows.iter().map(|r| r[c]).collect();
            *o = percentile(&mut col, p);
        }
        print_row(label, &out);
    }
    let nuvem: f64 = samples.iter().map(Sample::nuvem).sum();
    let total: f64 = samples.iter().map(Sample::total).sum();
    let attempts: Vec<f64> = samples
        .iter()
        .map(|s| s.ssh_attempt.as_secs_f64())
        .collect();
    println!(
        "Nuvem share = (API + saga excluding virDomainCreate) / total = {:.2} s / {:.2} s = {:.1} % \
         (goal < 10 %); successful `ssh true` took {:.2}–{:.2} s of GUEST",
        nuvem,
        total,
        100.0 * nuvem / total,
        attempts.iter().copied().fold(f64::INFINITY, f64::min),
        attempts.iter().copied().fold(0.0, f64::max),
    );
    if samples.iter().any(|s| s.qemu_start.is_none()) {
        println!(
            "note: libvirt's log was missing for some instances: their whole Domain step counts \
             as QEMU"
        );
    }
    if samples
        .iter()
        .any(|s| s.guest_uptime.is_some_and(|u| u > s.guest()))
    {
        println!(
            "note: some guests report more uptime than wall-clock GUEST: their clock ran fast \
             (TCG on an overloaded host); read `uptime` as indicative only"
        );
    }
}

fn print_legend() {
    println!(
        "\nColumns (seconds, wall clock; NUVEM + QEMU + GUEST = TOTAL):\n\
         API        the RunInstances HTTP call (validation, placement, row written; overlaps NIC)\n\
         NIC        saga step Interface: created_at → instance directory born (ENI, tap, firewall)\n\
         disk+seed  saga steps Disk + Seed: qemu-img create, genisoimage → seed.iso written\n\
         to QEMU    seed.iso written → libvirt logs `starting up` (DB writes, libvirt lock wait,\n\
         \x20          virDomainDefineXML, libvirt's preparation)\n\
         NUVEM      request sent → QEMU start = API + saga excluding virDomainCreate\n\
         QEMU       libvirt `starting up` → launched_at (virDomainCreate: QEMU exec, QMP, resume)\n\
         saga       created_at → launched_at (the whole saga, including virDomainCreate)\n\
         GUEST      launched_at → first successful `ssh root@<ip> true` (firmware, kernel, init,\n\
         \x20          DHCP, dropbear, ≤ 250 ms polling, the ssh handshake)\n\
         uptime     the guest's own uptime when its init said `ssh ready` (from its console)\n\
         TOTAL      request sent → SSH-ready\n\
         share      NUVEM / TOTAL"
    );
}

fn to_utc(t: std::io::Result<std::time::SystemTime>) -> Option<DateTime<Utc>> {
    t.ok().map(DateTime::<Utc>::from)
}

/// When libvirt last logged `starting up` for `domain` (its log has millisecond stamps).
fn qemu_started(domain: &str) -> Option<DateTime<Utc>> {
    let log = std::fs::read_to_string(format!("/var/log/libvirt/qemu/{domain}.log")).ok()?;
    let line = log.lines().rev().find(|l| l.contains(": starting up"))?;
    let stamp = line.split(": starting up").next()?;
    DateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.3f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `boot took 12.34s (guest uptime)` from the guest's console.
fn guest_uptime(console: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(console).ok()?;
    let line = text.lines().rev().find(|l| l.contains("boot took "))?;
    let rest = line.split("boot took ").nth(1)?;
    rest.split('s').next()?.trim().parse().ok()
}

/// The host's 1-minute load average (other work on the host skews every figure).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// One `ssh ... true`; whether it succeeded.
async fn ssh_true(key: &Path, ip: &str) -> bool {
    let child = tokio::process::Command::new("ssh")
        .arg("-i")
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=2",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("root@{ip}"))
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(
        tokio::time::timeout(SSH_ATTEMPT_TIMEOUT, child).await,
        Ok(Ok(s)) if s.success()
    )
}

/// Polls every 250 ms until `ssh true` succeeds; (when it returned, how long it took).
async fn wait_ssh(
    key: &Path,
    ip: &str,
    budget: Duration,
) -> anyhow::Result<(DateTime<Utc>, Duration)> {
    let addr = SocketAddr::new(ip.parse::<IpAddr>().context("private ip")?, 22);
    let deadline = Instant::now() + budget;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        ensure!(
            Instant::now() < deadline,
            "{ip} did not answer SSH within {} s",
            budget.as_secs()
        );
        // A cheap probe first: until the guest has its address, a connect waits for ARP.
        let open = matches!(
            tokio::time::timeout(POLL, tokio::net::TcpStream::connect(addr)).await,
            Ok(Ok(_))
        );
        if !open {
            continue;
        }
        let t = Instant::now();
        if ssh_true(key, ip).await {
            return Ok((Utc::now(), t.elapsed()));
        }
    }
}

/// What every measurement needs.
struct Lab {
    root: Client,
    image: String,
    key: PathBuf,
    compute: Compute,
    data_dir: PathBuf,
    instances_dir: PathBuf,
}

impl Lab {
    fn request(&self, count: u32) -> RunInstancesRequest {
        RunInstancesRequest {
            image_id: self.image.clone(),
            instance_type: INSTANCE_TYPE.into(),
            key_name: Some("bench".into()),
            subnet_id: None,
            security_group_ids: None,
            user_data: None,
            count: (count > 1).then_some(count),
            name: None,
            tags: None,
            dedicated: None,
        }
    }

    /// Launches `count` instances in one call; (sent, API time, instance ids).
    async fn launch(&self, count: u32) -> anyhow::Result<(DateTime<Utc>, Duration, Vec<String>)> {
        let sent = Utc::now();
        let t = Instant::now();
        let list = self.root.run_instances(&self.request(count)).await?;
        let api = t.elapsed();
        ensure!(
            list.items.len() == count as usize,
            "asked {count}, got {}",
            list.items.len()
        );
        Ok((sent, api, list.items.into_iter().map(|i| i.id).collect()))
    }

    /// Follows one instance from the call to SSH-ready.
    async fn follow(
        &self,
        id: &str,
        sent: DateTime<Utc>,
        api: Duration,
        ssh_budget: Duration,
    ) -> anyhow::Result<Sample> {
        let deadline = Instant::now() + RUNNING_TIMEOUT;
        let instance = loop {
            let i = self.root.get_instance(id).await?;
            match i.state {
                InstanceState::Running => break i,
                InstanceState::Pending => {}
                other => bail!("{id} is {other:?}: {}", i.state_reason),
            }
            ensure!(
                Instant::now() < deadline,
                "{id} still pending after {} s",
                RUNNING_TIMEOUT.as_secs()
            );
            tokio::time::sleep(POLL).await;
        };
        let dir = self.instances_dir.join(id);
        let nic_done = to_utc(std::fs::metadata(&dir).and_then(|m| m.created()));
        let seed_done = to_utc(std::fs::metadata(dir.join("seed.iso")).and_then(|m| m.modified()));
        let qemu_start = qemu_started(&self.compute.domain_name(id));
        let ip = instance
            .private_ip
            .clone()
            .context("running without an address")?;
        let launched = instance
            .launched_at
            .context("running without launched_at")?;
        let (ssh_ready, ssh_attempt) = match wait_ssh(&self.key, &ip, ssh_budget).await {
            Ok(r) => r,
            Err(e) => return Err(e.context(self.diagnose(id, &ip))),
        };
        Ok(Sample {
            id: id.to_owned(),
            ip,
            sent,
            api,
            created: instance.created_at,
            nic_done,
            seed_done,
            qemu_start,
            launched,
            ssh_ready,
            ssh_attempt,
            guest_uptime: guest_uptime(&dir.join("console.log")),
            accelerator: instance.accelerator.clone(),
        })
    }

    /// The end of the guest's console and what the subnet's DHCP server said about its address.
    fn diagnose(&self, id: &str, ip: &str) -> String {
        let tail = |text: String, n: usize| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        let console = std::fs::read_to_string(self.instances_dir.join(id).join("console.log"))
            .unwrap_or_default();
        let dhcp_dir = self.data_dir.join("net").join("dhcp");
        let mut dhcp = String::new();
        for entry in std::fs::read_dir(&dhcp_dir).into_iter().flatten().flatten() {
            let log = std::fs::read_to_string(entry.path().join("dnsmasq.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().filter(|l| l.contains(ip)).collect();
            dhcp.push_str(&lines[lines.len().saturating_sub(8)..].join("\n"));
        }
        format!(
            "{id} ({ip}) never answered SSH\n--- console (end) ---\n{}\n--- dnsmasq about {ip} ---\n{dhcp}",
            tail(console, 15)
        )
    }

    /// Terminates the instances and waits until they are gone.
    async fn terminate(&self, ids: &[String]) -> anyhow::Result<()> {
        for id in ids {
            self.root.terminate_instance(id).await?;
        }
        for id in ids {
            let i = self
                .root
                .wait_for_state(id, InstanceState::Terminated, TERMINATE_TIMEOUT)
                .await?;
            ensure!(
                i.state == InstanceState::Terminated,
                "{id} is {:?}",
                i.state
            );
        }
        Ok(())
    }

    /// Holds the `n` lowest free addresses of the default subnet with spare interfaces, so the
    /// next launches get fresh ones. A freed address goes to the next interface at once, but the
    /// subnet's dnsmasq keeps its 1 h lease for the old MAC and refuses it to the new one ("not
    /// using configured address ... because it is leased to ..."): such a guest never gets an
    /// address. Spare interfaces have no guest; they only add a tap and a few rules.
    async fn park(&self, n: usize) -> anyhow::Result<()> {
        let request = CreateNetworkInterfaceRequest {
            subnet_id: None,
            security_group_ids: None,
            description: Some("launch bench: parked address".into()),
        };
        for _ in 0..n {
            let eni = self.root.create_network_interface(&request).await?;
            eprintln!("parked {} on spare interface {}", eni.private_ip, eni.id);
        }
        Ok(())
    }
}

/// Signs in as `user` of `account`.
async fn login(url: &str, account: &str, user: &str, password: &str) -> anyhow::Result<Client> {
    let anon = Client::builder()
        .endpoint(url)
        .credentials(Credentials::Anonymous)
        .build()?;
    let session = anon.login(account, user, password).await?;
    Ok(Client::builder()
        .endpoint(url)
        .credentials(Credentials::session(session.token))
        .build()?)
}

/// The measurements; everything it launches is terminated by `cleanup` whatever happens.
async fn bench(
    url: String,
    admin_password: String,
    compute: Compute,
    data_dir: PathBuf,
) -> anyhow::Result<()> {
    let admin = login(&url, "admin", "root", &admin_password).await?;
    admin.create_account(ACCOUNT, Some(ROOT_PASSWORD)).await?;
    let root = login(&url, ACCOUNT, "root", ROOT_PASSWORD).await?;
    let image = root
        .list_images()
        .await?
        .items
        .into_iter()
        .find(|i| i.name == "nuvem-tiny")
        .context("nuvem-tiny is not registered (is it built in the images directory?)")?
        .id;
    let created = root.create_key_pair("bench", None).await?;
    let key = data_dir.join("bench.pem");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key)?
            .write_all(created.private_key.context("no private key")?.as_bytes())?;
    }
    let lab = Lab {
        root,
        image,
        key,
        compute,
        instances_dir: data_dir.join("compute").join("instances"),
        data_dir: data_dir.clone(),
    };

    let load_before = load_average();
    let mut sequential = Vec::new();
    for n in 0..SEQUENTIAL {
        let (sent, api, ids) = lab.launch(1).await?;
        let sample = lab.follow(&ids[0], sent, api, SSH_TIMEOUT).await;
        lab.terminate(&ids).await?;
        lab.park(ids.len()).await?;
        let sample = sample?;
        eprintln!(
            "sequential {}/{SEQUENTIAL}: {} ({}) SSH-ready after {:.2} s",
            n + 1,
            sample.id,
            sample.ip,
            sample.total()
        );
        sequential.push(sample);
    }
    let (sent, api, ids) = lab.launch(PARALLEL).await?;
    let followed = futures_util::future::join_all(
        ids.iter()
            .map(|id| lab.follow(id, sent, api, SSH_TIMEOUT_PARALLEL)),
    )
    .await;
    lab.terminate(&ids).await?;
    let mut parallel = Vec::new();
    for s in followed {
        parallel.push(s?);
    }
    let all_ready = parallel.iter().map(|s| s.ssh_ready).max().expect("ten");
    eprintln!(
        "parallel: all {PARALLEL} SSH-ready after {:.2} s",
        secs(sent, all_ready)
    );

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let accelerator = &sequential[0].accelerator;
    println!(
        "\nInstance launch to SSH-ready: nuvem-tiny, {INSTANCE_TYPE} (1 vCPU, 512 MiB), \
         accelerator {accelerator}, {cores} host cores; host load average {load_before} before, \
         {} after",
        load_average()
    );
    print_legend();
    print_table(
        &format!(
            "{SEQUENTIAL} sequential launches (each terminated, its address parked, before the next)"
        ),
        &sequential,
    );
    print_table(
        &format!("{PARALLEL} launched at once (one RunInstances call, count = {PARALLEL})"),
        &parallel,
    );
    let last = parallel.iter().max_by_key(|s| s.ssh_ready).expect("ten");
    println!(
        "all {PARALLEL} answered SSH {:.2} s after the call; the last one ({}) spent {:.2} s of it \
         in Nuvem ({:.1} %), {:.2} s in QEMU start, {:.2} s booting",
        secs(sent, all_ready),
        last.id,
        last.nuvem(),
        100.0 * last.share(),
        last.qemu(),
        last.guest(),
    );
    Ok(())
}

/// Terminates what the benchmark account still runs, then removes domains, bridges and rules.
async fn cleanup(running: nuvem_server::server::Running) {
    match login(&running.url(), ACCOUNT, "root", ROOT_PASSWORD).await {
        Ok(root) => {
            let live: Vec<String> = match root.list_instances().await {
                Ok(l) => l
                    .items
                    .into_iter()
                    .filter(|i| i.state != InstanceState::Terminated)
                    .map(|i| i.id)
                    .collect(),
                Err(e) => {
                    eprintln!("cleanup: listing instances failed: {e}");
                    Vec::new()
                }
            };
            for id in &live {
                if let Err(e) = root.terminate_instance(id).await {
                    eprintln!("cleanup: terminating {id} failed: {e}");
                }
            }
            for id in &live {
                if let Err(e) = root
                    .wait_for_state(id, InstanceState::Terminated, TERMINATE_TIMEOUT)
                    .await
                {
                    eprintln!("cleanup: {id}: {e}");
                }
            }
        }
        Err(e) => eprintln!("cleanup: no benchmark account to clean ({e})"),
    }
    tokio::task::block_in_place(|| {
        if let Err(e) = running.nuvem.compute.teardown_host_blocking() {
            eprintln!("cleanup: removing the domains failed: {e}");
        }
        if let Err(e) = running.nuvem.vpc.teardown_host_blocking() {
            eprintln!("cleanup: tearing down the network failed: {e}");
        }
    });
    running.stop().await;
}

/// Root, libvirt, ssh and the built image, or a clear message.
fn preflight(images: &Path) -> anyhow::Result<()> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    ensure!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")),
        "run as root: the benchmark makes bridges, taps and iptables rules"
    );
    ensure!(
        images.join("nuvem-tiny").join("image.json").exists(),
        "no nuvem-tiny in {} (bash infra/images/build-tiny.sh {}/nuvem-tiny, or set \
         NUVEM_TEST_IMAGES_DIR)",
        images.display(),
        images.display()
    );
    let virsh = std::process::Command::new("virsh")
        .args(["-c", "qemu:///system", "version"])
        .output();
    ensure!(
        virsh.is_ok_and(|o| o.status.success()),
        "libvirtd is not answering (bash infra/daemons.sh start)"
    );
    ensure!(
        std::process::Command::new("ssh")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "no ssh client (apt-get install openssh-client)"
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let images = std::env::var("NUVEM_TEST_IMAGES_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/var/cache/nuvem/images"), PathBuf::from);
    preflight(&images)?;
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_tests(dir.path(), None);
    config.network_driver = NetworkDriver::Linux;
    config.hypervisor = HypervisorDriver::Libvirt;
    config.images_dir = images;
    config.cpu_ratio = Some(CPU_RATIO);
    config.vpc_pool = VPC_POOL.into();
    let running = nuvem_server::server::start(config).await?;
    let admin_password = running
        .generated_admin_password()
        .context("a fresh server generates the operator password")?
        .to_owned();
    let cell = running.nuvem.vpc.naming().cell().to_owned();
    eprintln!(
        "server at {}, host cell {cell} (devices nv{cell}…, chains NV{cell}-…)",
        running.url()
    );
    let mut task = tokio::spawn(bench(
        running.url(),
        admin_password,
        running.nuvem.compute.clone(),
        dir.path().to_owned(),
    ));
    let outcome = tokio::select! {
        r = &mut task => match r {
            Ok(r) => r,
            Err(e) => Err(anyhow::anyhow!("the benchmark panicked: {e}")),
        },
        _ = tokio::signal::ctrl_c() => {
            task.abort();
            Err(anyhow::anyhow!("interrupted"))
        }
    };
    eprintln!("cleaning up (terminating instances, removing domains and the network)");
    cleanup(running).await;
    outcome
}
