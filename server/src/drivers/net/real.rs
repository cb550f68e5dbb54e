//! The real host network: Linux bridges (`ip`), DHCP (`dnsmasq`, one per subnet, bound to its
//! bridge), and the firewall (`iptables-restore` into Nuvem's own chains). Verified recipes:
//! ../shared/RECIPES.md.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::{BridgeSpec, DhcpSpec, HostNetwork, NetnsPlug};
use crate::drivers::{self, DriverError, DriverResult, run, run_with_input};
use crate::netspec::{Cidr, Naming, Ruleset};

/// The unprivileged user and group dnsmasq drops to once it has bound its socket and opened its
/// lease, log and pid files (as root).
pub const DNSMASQ_USER: &str = "nobody";
pub const DNSMASQ_GROUP: &str = "nogroup";

/// Where the subnets' DHCP host lists live (`<bridge>.hosts`, so named after the server's cell):
/// the one file dnsmasq reads after dropping root (at start and on SIGHUP), so outside the data
/// directory, which only root and QEMU's group may traverse. Root writes them; only dnsmasq's
/// group may read them. The subnet's folder in the data directory links to its file (`hosts`).
pub const DHCP_HOSTS_DIR: &str = "/run/nuvem/dhcp";

/// The real host, through `ip`, `dnsmasq` and `iptables`.
pub struct LinuxNetwork {
    /// `<data_dir>/net/dhcp`: one folder per subnet (leases, pid, log), root's alone.
    dhcp_dir: PathBuf,
    /// gid of [`DNSMASQ_GROUP`].
    dnsmasq_gid: u32,
}

impl LinuxNetwork {
    pub fn new(data_dir: &Path) -> DriverResult<Self> {
        let dnsmasq_gid = drivers::host_group(DNSMASQ_GROUP).ok_or_else(|| {
            DriverError(format!(
                "dnsmasq runs as {DNSMASQ_USER}:{DNSMASQ_GROUP}, but this host has no group {DNSMASQ_GROUP}"
            ))
        })?;
        let dhcp_dir = data_dir.join("net").join("dhcp");
        drivers::private_dir(&data_dir.join("net"), 0o700, None)?;
        drivers::private_dir(&dhcp_dir, 0o700, None)?;
        Ok(LinuxNetwork {
            dhcp_dir,
            dnsmasq_gid,
        })
    }

    fn hosts_file(bridge: &str) -> PathBuf {
        Path::new(DHCP_HOSTS_DIR).join(format!("{bridge}.hosts"))
    }

    fn pid_of(&self, subnet_id: &str, bridge: Option<&str>) -> Option<u32> {
        let text =
            std::fs::read_to_string(self.dhcp_dir.join(subnet_id).join("dnsmasq.pid")).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        let ours = cmdline.contains("dnsmasq")
            && bridge.is_none_or(|b| cmdline.contains(&format!("--interface={b}\0")));
        ours.then_some(pid)
    }
}

fn write_file(path: &Path, text: &str) -> DriverResult<()> {
    std::fs::write(path, text)
        .map_err(|e| DriverError(format!("cannot write {}: {e}", path.display())))
}

fn iptables(table: &str, args: &[&str]) -> DriverResult<String> {
    let mut all = vec!["-w", "-t", table];
    all.extend_from_slice(args);
    run("iptables", &all)
}

fn chains_with_prefix(table: &str, prefix: &str) -> DriverResult<Vec<String>> {
    Ok(iptables(table, &["-S"])?
        .lines()
        .filter_map(|l| l.strip_prefix("-N "))
        .filter(|c| c.starts_with(prefix))
        .map(str::to_owned)
        .collect())
}

impl HostNetwork for LinuxNetwork {
    fn prepare(&self) -> DriverResult<()> {
        if !Path::new("/proc/sys/net/bridge/bridge-nf-call-iptables").exists() {
            run("modprobe", &["br_netfilter"]).map_err(|e| {
                DriverError(format!(
                    "security groups need the br_netfilter kernel module: {e}"
                ))
            })?;
        }
        for (key, value) in [
            ("/proc/sys/net/ipv4/ip_forward", "1"),
            ("/proc/sys/net/bridge/bridge-nf-call-iptables", "1"),
        ] {
            let current = std::fs::read_to_string(key).unwrap_or_default();
            if current.trim() != value {
                write_file(Path::new(key), value)?;
            }
        }
        Ok(())
    }

    fn links(&self, prefix: &str) -> DriverResult<Vec<String>> {
        let out = run("ip", &["-j", "link", "show"])?;
        let links: Vec<serde_json::Value> = serde_json::from_str(&out)
            .map_err(|e| DriverError(format!("cannot read `ip -j link show`: {e}")))?;
        Ok(links
            .iter()
            .filter_map(|l| l["ifname"].as_str())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_owned)
            .collect())
    }

    fn bridge_ensure(&self, spec: &BridgeSpec) -> DriverResult<bool> {
        let exists = Path::new("/sys/class/net").join(&spec.name).exists();
        if !exists {
            run(
                "ip",
                &[
                    "link",
                    "add",
                    &spec.name,
                    "type",
                    "bridge",
                    "stp_state",
                    "0",
                    "forward_delay",
                    "0",
                ],
            )?;
        }
        let addr = format!("{}/{}", spec.gateway, spec.prefix);
        let current = run("ip", &["-4", "-o", "addr", "show", "dev", &spec.name])?;
        if !current.contains(&format!(" {addr} ")) {
            run("ip", &["addr", "replace", &addr, "dev", &spec.name])?;
        }
        run("ip", &["link", "set", &spec.name, "up"])?;
        Ok(!exists)
    }

    fn link_delete(&self, name: &str) -> DriverResult<()> {
        let present = || Path::new("/sys/class/net").join(name).exists();
        if present()
            && let Err(e) = run("ip", &["link", "del", name])
        {
            // A container's veth goes with its network namespace, asynchronously: the kernel
            // may remove it between the check and `ip link del`. Gone is what was asked for.
            if present() {
                return Err(e);
            }
        }
        Ok(())
    }

    fn dhcp_ensure(&self, spec: &DhcpSpec) -> DriverResult<bool> {
        let dir = self.dhcp_dir.join(&spec.subnet_id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| DriverError(format!("cannot create {}: {e}", dir.display())))?;
        let hosts: String = spec
            .hosts
            .iter()
            .map(|(mac, ip, name)| format!("{mac},{ip},{name}\n"))
            .collect();
        let hosts_file = Self::hosts_file(&spec.bridge);
        let link = dir.join("hosts");
        if std::fs::read_link(&link).ok().as_ref() != Some(&hosts_file) {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&hosts_file, &link)
                .map_err(|e| DriverError(format!("cannot link {}: {e}", link.display())))?;
        }
        let before = std::fs::read_to_string(&hosts_file).unwrap_or_default();
        let changed = before != hosts || !hosts_file.exists();
        // An address freed and given to a new interface must not stay leased to the old MAC:
        // dnsmasq keeps leases across a reload, so a removed entry means a restart without them.
        let removed = before.lines().any(|l| !hosts.lines().any(|n| n == l));
        if changed {
            let gid = Some(self.dnsmasq_gid);
            let hosts_dir = Path::new(DHCP_HOSTS_DIR);
            if let Some(parent) = hosts_dir.parent().filter(|p| !p.exists()) {
                drivers::private_dir(parent, 0o755, None)?;
            }
            drivers::private_dir(hosts_dir, 0o710, gid)?;
            // Written aside and renamed: dnsmasq never reads half a list.
            let tmp = hosts_file.with_extension("hosts.tmp");
            write_file(&tmp, &hosts)?;
            drivers::file_mode(&tmp, 0o640, gid)?;
            std::fs::rename(&tmp, &hosts_file).map_err(|e| {
                DriverError(format!("cannot replace {}: {e}", hosts_file.display()))
            })?;
        }
        if let Some(pid) = self.pid_of(&spec.subnet_id, Some(&spec.bridge)) {
            // One started by an older Nuvem (as root, another hosts file) is replaced.
            let current = std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .contains(&format!("--dhcp-hostsfile={}\0", hosts_file.display()))
            });
            if !removed && current {
                if changed {
                    run("kill", &["-HUP", &pid.to_string()])?;
                }
                return Ok(false);
            }
            run("kill", &[&pid.to_string()])?;
            for _ in 0..50 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = std::fs::remove_file(dir.join("leases"));
        }
        let p = |f: &str| dir.join(f).display().to_string();
        run(
            "dnsmasq",
            &[
                "--conf-file=/dev/null",
                &format!("--user={DNSMASQ_USER}"),
                &format!("--group={DNSMASQ_GROUP}"),
                "--bind-interfaces",
                &format!("--interface={}", spec.bridge),
                "--except-interface=lo",
                "--port=0",
                "--no-resolv",
                "--no-hosts",
                "--dhcp-authoritative",
                &format!(
                    "--dhcp-range={},static,{},1h",
                    spec.subnet.network(),
                    spec.subnet.netmask()
                ),
                &format!("--dhcp-option=option:router,{}", spec.gateway),
                &format!("--dhcp-hostsfile={}", hosts_file.display()),
                &format!("--dhcp-leasefile={}", p("leases")),
                &format!("--pid-file={}", p("dnsmasq.pid")),
                &format!("--log-facility={}", p("dnsmasq.log")),
                "--log-dhcp",
            ],
        )?;
        Ok(true)
    }

    fn dhcp_list(&self) -> DriverResult<Vec<String>> {
        let entries = std::fs::read_dir(&self.dhcp_dir)
            .map_err(|e| DriverError(format!("cannot read {}: {e}", self.dhcp_dir.display())))?;
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }

    fn dhcp_stop(&self, subnet_id: &str) -> DriverResult<()> {
        if let Some(pid) = self.pid_of(subnet_id, None) {
            run("kill", &[&pid.to_string()])?;
            // dnsmasq exits at once on SIGTERM; wait briefly so its socket is released.
            for _ in 0..50 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let dir = self.dhcp_dir.join(subnet_id);
        if let Ok(hosts) = std::fs::read_link(dir.join("hosts"))
            && hosts.starts_with(DHCP_HOSTS_DIR)
            && hosts.exists()
        {
            std::fs::remove_file(&hosts)
                .map_err(|e| DriverError(format!("cannot remove {}: {e}", hosts.display())))?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| DriverError(format!("cannot remove {}: {e}", dir.display())))?;
        }
        Ok(())
    }

    fn firewall_apply(&self, rules: &Ruleset, naming: &Naming, empty: bool) -> DriverResult<()> {
        let prefix = naming.chain_prefix();
        if empty {
            for (table, chain, args) in naming.jumps() {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut check = vec!["-C", chain];
                check.extend(&args);
                while iptables(table, &check).is_ok() {
                    let mut del = vec!["-D", chain];
                    del.extend(&args);
                    iptables(table, &del)?;
                }
            }
            for table in ["filter", "nat"] {
                let chains = chains_with_prefix(table, &prefix)?;
                for c in &chains {
                    iptables(table, &["-F", c])?;
                }
                for c in &chains {
                    iptables(table, &["-X", c])?;
                }
            }
            return Ok(());
        }
        for (table, t) in [("filter", &rules.filter), ("nat", &rules.nat)] {
            run_with_input(
                "iptables-restore",
                &["-w", "--noflush"],
                Some(&t.restore_text(table)),
            )?;
            let stale: Vec<String> = chains_with_prefix(table, &prefix)?
                .into_iter()
                .filter(|c| !t.chains.contains(c))
                .collect();
            for c in &stale {
                iptables(table, &["-F", c])?;
            }
            for c in &stale {
                iptables(table, &["-X", c])?;
            }
        }
        for (table, chain, args) in naming.jumps() {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut check = vec!["-C", chain];
            check.extend(&args);
            if iptables(table, &check).is_err() {
                let mut insert = vec!["-I", chain, "1"];
                insert.extend(&args);
                iptables(table, &insert)?;
            }
        }
        Ok(())
    }

    fn firewall_dump(&self, naming: &Naming) -> DriverResult<Vec<String>> {
        let prefix = naming.chain_prefix();
        let mut out = Vec::new();
        for table in ["filter", "nat"] {
            for line in iptables(table, &["-S"])?.lines() {
                if line.contains(&prefix) {
                    out.push(format!("[{table}] {line}"));
                }
            }
        }
        Ok(out)
    }

    fn host_networks(&self) -> DriverResult<Vec<(String, Cidr)>> {
        let out = run("ip", &["-j", "-4", "addr", "show"])?;
        let links: Vec<serde_json::Value> = serde_json::from_str(&out)
            .map_err(|e| DriverError(format!("cannot read `ip -j addr show`: {e}")))?;
        let mut nets = Vec::new();
        for link in &links {
            let name = link["ifname"].as_str().unwrap_or_default().to_owned();
            for a in link["addr_info"].as_array().into_iter().flatten() {
                let (Some(ip), Some(len)) = (a["local"].as_str(), a["prefixlen"].as_u64()) else {
                    continue;
                };
                if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                    nets.push((name.clone(), Cidr::new(u32::from(ip), len as u8)));
                }
            }
        }
        Ok(nets)
    }

    fn plug_netns(&self, plug: &NetnsPlug) -> DriverResult<()> {
        // The peer gets a temporary name (names are per namespace, but the peer is created in
        // the host's first), then becomes eth0 inside.
        let peer = format!("{}p", &plug.device[..plug.device.len().min(14)]);
        let ns = plug.netns.as_str();
        self.link_delete(&plug.device)?;
        run(
            "ip",
            &[
                "link",
                "add",
                &plug.device,
                "type",
                "veth",
                "peer",
                "name",
                &peer,
            ],
        )?;
        let inside = || -> DriverResult<()> {
            run("ip", &["link", "set", &peer, "netns", ns])?;
            run("ip", &["-n", ns, "link", "set", &peer, "name", "eth0"])?;
            run(
                "ip",
                &["-n", ns, "link", "set", "eth0", "address", &plug.mac],
            )?;
            run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
            run("ip", &["-n", ns, "link", "set", "eth0", "up"])?;
            if let Some((ip, prefix, gw)) = plug.address {
                run(
                    "ip",
                    &[
                        "-n",
                        ns,
                        "addr",
                        "add",
                        &format!("{ip}/{prefix}"),
                        "dev",
                        "eth0",
                    ],
                )?;
                run(
                    "ip",
                    &["-n", ns, "route", "add", "default", "via", &gw.to_string()],
                )?;
            }
            run("ip", &["link", "set", &plug.device, "master", &plug.bridge])?;
            run("ip", &["link", "set", &plug.device, "up"])?;
            Ok(())
        };
        inside().inspect_err(|_| {
            let _ = self.link_delete(&plug.device);
        })
    }

    fn plug_process(&self, plug: &NetnsPlug, pid: u32) -> DriverResult<()> {
        // `ip netns attach` names the process's namespace in /run/netns so that `ip -n` reaches
        // it; the name is removed right after (the namespace lives as long as the process).
        let _ = run("ip", &["netns", "delete", &plug.netns]);
        run("ip", &["netns", "attach", &plug.netns, &pid.to_string()])?;
        let plugged = self.plug_netns(plug);
        let _ = run("ip", &["netns", "delete", &plug.netns]);
        plugged
    }
}
