//! The real hypervisor: libvirt (one persistent connection, through the `virt` crate) plus the
//! guest files it needs (`qemu-img` disks, `genisoimage` NoCloud seeds), with guests run as
//! libvirt's unprivileged QEMU user.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use virt::connect::Connect;
use virt::domain::{Domain, DomainState as VirtState};

use super::{Accelerator, DomainSpec, DomainState, GuestUsage, Hypervisor};
use crate::drivers::{DriverError, DriverResult, run};

/// The unprivileged user QEMU runs as: libvirt's own (`libvirt-qemu` on Debian and Ubuntu, `qemu`
/// on Fedora), with its primary group (`kvm`), which also owns `/dev/kvm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuUser {
    pub name: &'static str,
    pub uid: u32,
    pub gid: u32,
}

/// The QEMU user of this host; `None` when libvirt's packages did not create one.
pub fn qemu_user() -> Option<QemuUser> {
    ["libvirt-qemu", "qemu"].into_iter().find_map(|name| {
        let (uid, gid) = crate::drivers::host_user(name)?;
        (uid != 0).then_some(QemuUser { name, uid, gid })
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// The libvirt domain XML of an instance, whose QEMU runs as `user` (libvirt relabels its disks,
/// kernel, initrd and console file to that user while it runs, and gives them back after).
pub fn domain_xml(spec: &DomainSpec, user: &QemuUser) -> String {
    let e = |p: &Path| xml_escape(&p.display().to_string());
    let (kind, cpu) = match spec.accelerator {
        Accelerator::Kvm => ("kvm", "<cpu mode='host-passthrough'/>".to_owned()),
        // Recipes: under TCG use machine `pc` and the plain qemu64 model.
        Accelerator::Tcg => (
            "qemu",
            "<cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>"
                .to_owned(),
        ),
    };
    let os_boot = match &spec.kernel {
        Some((k, i, cmd)) => format!(
            "<kernel>{}</kernel><initrd>{}</initrd><cmdline>{}</cmdline>",
            e(k),
            e(i),
            xml_escape(cmd)
        ),
        None => "<boot dev='hd'/>".to_owned(),
    };
    let cputune = if spec.pinned.is_empty() {
        String::new()
    } else {
        let pins: String = spec
            .pinned
            .iter()
            .enumerate()
            .map(|(v, c)| format!("<vcpupin vcpu='{v}' cpuset='{c}'/>"))
            .collect();
        format!("<cputune>{pins}</cputune>")
    };
    format!(
        "<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>{mem}</memory>
  <vcpu placement='static'>{vcpus}</vcpu>
  {cputune}
  <os><type arch='x86_64' machine='pc'>hvm</type>{os_boot}</os>
  <features><acpi/><apic/></features>
  {cpu}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{seed}'/><target dev='vdb' bus='virtio'/><readonly/></disk>
    <interface type='bridge'><source bridge='{bridge}'/><mac address='{mac}'/><target dev='{tap}'/><model type='virtio'/></interface>
    <serial type='file'><source path='{console}' append='on'/><target port='0'/></serial>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='yes'><label>+{uid}:+{gid}</label></seclabel>
</domain>",
        uid = user.uid,
        gid = user.gid,
        name = xml_escape(&spec.name),
        mem = spec.memory_mib,
        vcpus = spec.vcpus,
        disk = e(&spec.disk),
        seed = e(&spec.seed),
        bridge = xml_escape(&spec.bridge),
        mac = xml_escape(&spec.mac),
        tap = xml_escape(&spec.tap),
        console = e(&spec.console_log),
    )
}

/// libvirt through one persistent connection.
pub struct Libvirt {
    uri: String,
    conn: Mutex<Option<Connect>>,
    user: Option<QemuUser>,
}

fn verr(what: &str, e: virt::error::Error) -> DriverError {
    DriverError(format!("libvirt: {what}: {e}"))
}

impl Libvirt {
    pub fn new(uri: &str) -> Self {
        Libvirt {
            uri: uri.to_owned(),
            conn: Mutex::new(None),
            user: qemu_user(),
        }
    }

    fn user(&self) -> DriverResult<&QemuUser> {
        self.user.as_ref().ok_or_else(|| {
            DriverError(
                "this host has no unprivileged QEMU user (libvirt-qemu or qemu, made by libvirt's \
                 packages: infra/install.sh); guests never run as root"
                    .into(),
            )
        })
    }

    /// Runs `f` with the connection, opening (or reopening, after libvirtd restarted) it.
    fn with<T>(&self, f: impl Fn(&Connect) -> DriverResult<T>) -> DriverResult<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| DriverError("libvirt connection lock poisoned".into()))?;
        if guard
            .as_ref()
            .is_none_or(|c| !c.is_alive().unwrap_or(false))
        {
            let conn = Connect::open(Some(&self.uri)).map_err(|e| {
                DriverError(format!(
                    "cannot connect to libvirt at {} (is libvirtd running? infra/daemons.sh): {e}",
                    self.uri
                ))
            })?;
            // Set again once libvirt is initialised: it installs its printing handler then.
            virt::error::clear_error_callback();
            *guard = Some(conn);
        }
        // libvirt connections are thread-safe: take a reference and let go of the lock, so that
        // ten launches start their domains in parallel rather than one after another.
        let conn = guard.as_ref().expect("connected").clone();
        drop(guard);
        f(&conn)
    }

    fn lookup(conn: &Connect, name: &str) -> Option<Domain> {
        conn.lookup_domain_by_name(name).ok()
    }
}

impl Hypervisor for Libvirt {
    fn define_and_start(&self, spec: &DomainSpec) -> DriverResult<()> {
        let xml = domain_xml(spec, self.user()?);
        self.with(|conn| {
            // A stopped instance keeps its domain; its definition is replaced (the pinning may
            // differ on this start), which libvirt allows only after forgetting the old one.
            if let Some(old) = Self::lookup(conn, &spec.name) {
                if old.is_active().unwrap_or(false) {
                    return Err(DriverError(format!(
                        "domain {} is already running",
                        spec.name
                    )));
                }
                old.undefine()
                    .map_err(|e| verr("replacing the old definition", e))?;
            }
            let dom = conn
                .define_domain_xml(&xml)
                .map_err(|e| verr("defining the domain", e))?;
            dom.create().map_err(|e| verr("starting the domain", e))?;
            Ok(())
        })
    }

    fn shutdown(&self, name: &str) -> DriverResult<()> {
        self.with(|conn| match Self::lookup(conn, name) {
            Some(d) if d.is_active().unwrap_or(false) => {
                d.shutdown().map(drop).map_err(|e| verr("shutdown", e))
            }
            _ => Ok(()),
        })
    }

    fn destroy(&self, name: &str) -> DriverResult<()> {
        self.with(|conn| match Self::lookup(conn, name) {
            Some(d) if d.is_active().unwrap_or(false) => {
                d.destroy().map_err(|e| verr("destroy", e))
            }
            _ => Ok(()),
        })
    }

    fn undefine(&self, name: &str) -> DriverResult<()> {
        self.with(|conn| match Self::lookup(conn, name) {
            Some(d) => d.undefine().map_err(|e| verr("undefine", e)),
            None => Ok(()),
        })
    }

    fn reboot(&self, name: &str) -> DriverResult<()> {
        self.with(|conn| match Self::lookup(conn, name) {
            Some(d) => d.reboot(0).map_err(|e| verr("reboot", e)),
            None => Err(DriverError(format!("domain {name} does not exist"))),
        })
    }

    fn state(&self, name: &str) -> DriverResult<DomainState> {
        self.with(|conn| {
            let Some(d) = Self::lookup(conn, name) else {
                return Ok(DomainState::Missing);
            };
            let (state, _) = d.state().map_err(|e| verr("state", e))?;
            Ok(match state.unwrap_or(VirtState::NoState) {
                VirtState::Running | VirtState::Blocked => DomainState::Running,
                VirtState::Paused | VirtState::PMSuspended => DomainState::Paused,
                VirtState::Shutdown => DomainState::ShuttingDown,
                VirtState::Crashed => DomainState::Crashed,
                VirtState::Shutoff | VirtState::NoState => DomainState::ShutOff,
            })
        })
    }

    fn list(&self, prefix: &str) -> DriverResult<Vec<String>> {
        self.with(|conn| {
            let doms = conn
                .list_all_domains(0)
                .map_err(|e| verr("listing domains", e))?;
            Ok(doms
                .iter()
                .filter_map(|d| d.name().ok())
                .filter(|n| n.starts_with(prefix))
                .collect())
        })
    }

    fn usage(&self, name: &str) -> DriverResult<Option<GuestUsage>> {
        /// libvirt's `VIR_DOMAIN_MEMORY_STAT_RSS`: the QEMU process's resident set, in KiB.
        const MEMORY_STAT_RSS: u32 = 7;
        self.with(|conn| {
            let Some(d) = Self::lookup(conn, name) else {
                return Ok(None);
            };
            if !d.is_active().unwrap_or(false) {
                return Ok(None);
            }
            let info = d.info().map_err(|e| verr("domain info", e))?;
            let rss_kib = d
                .memory_stats(0)
                .ok()
                .and_then(|s| s.into_iter().find(|m| m.tag == MEMORY_STAT_RSS))
                .map(|m| m.val)
                .unwrap_or(info.memory);
            Ok(Some(GuestUsage {
                cpu_seconds: info.cpu_time as f64 / 1e9,
                memory_mib: rss_kib / 1024,
            }))
        })
    }

    fn vcpu_pins(&self, name: &str) -> DriverResult<Vec<u32>> {
        self.with(|conn| {
            let d = Self::lookup(conn, name)
                .ok_or_else(|| DriverError(format!("domain {name} does not exist")))?;
            let xml = d
                .xml_desc(0)
                .map_err(|e| verr("reading the domain XML", e))?;
            let mut pins = BTreeMap::new();
            for part in xml.split("<vcpupin ").skip(1) {
                let attr = |key: &str| {
                    part.split(&format!("{key}='"))
                        .nth(1)
                        .and_then(|r| r.split('\'').next())
                        .and_then(|v| v.parse::<u32>().ok())
                };
                if let (Some(v), Some(c)) = (attr("vcpu"), attr("cpuset")) {
                    pins.insert(v, c);
                }
            }
            Ok(pins.into_values().collect())
        })
    }

    fn disk_create(&self, path: &Path, size_gib: u64, backing: Option<&Path>) -> DriverResult<()> {
        let p = path.display().to_string();
        let size = format!("{size_gib}G");
        match backing {
            Some(b) => {
                let b = b.display().to_string();
                run(
                    "qemu-img",
                    &[
                        "create", "-q", "-f", "qcow2", "-b", &b, "-F", "qcow2", &p, &size,
                    ],
                )?;
            }
            None => {
                run("qemu-img", &["create", "-q", "-f", "qcow2", &p, &size])?;
            }
        }
        // Root's alone; libvirt hands it to the QEMU user while the guest runs.
        crate::drivers::file_mode(path, 0o600, None)
    }

    fn seed_create(&self, path: &Path, meta_data: &str, user_data: &str) -> DriverResult<()> {
        // The user-data may hold secrets: root's alone, as the ISO (libvirt lends it to QEMU).
        let dir = path.with_extension("d");
        crate::drivers::private_dir(&dir, 0o700, None)?;
        let write = |f: &str, text: &str| {
            std::fs::write(dir.join(f), text)
                .map_err(|e| DriverError(format!("cannot write the seed's {f}: {e}")))
        };
        write("meta-data", meta_data)?;
        write("user-data", user_data)?;
        let out = path.display().to_string();
        let m = dir.join("meta-data").display().to_string();
        let u = dir.join("user-data").display().to_string();
        let result = run(
            "genisoimage",
            &[
                "-quiet", "-output", &out, "-volid", "cidata", "-joliet", "-rock", &u, &m,
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
        result?;
        crate::drivers::file_mode(path, 0o600, None)
    }

    fn probe_accelerator(&self, kernel: Option<&Path>) -> Accelerator {
        if !Path::new("/dev/kvm").exists() {
            return Accelerator::Tcg;
        }
        let (Some(kernel), Some(user)) = (kernel, &self.user) else {
            return Accelerator::Tcg;
        };
        // Boot the kernel without a root file system under KVM: a working KVM prints the kernel's
        // banner within a second or two and panics (then exits, -no-reboot); a nested KVM that
        // cannot run guests hangs before the kernel speaks.
        // As the guests' user, not root: the kernel is the only input, but QEMU has no business
        // running with more than a guest has.
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("qemu-system-x86_64")
            .uid(user.uid)
            .gid(user.gid)
            .args([
                "-enable-kvm",
                "-machine",
                "pc",
                "-cpu",
                "host",
                "-m",
                "128",
                "-nographic",
                "-no-reboot",
                "-nodefaults",
                "-serial",
                "stdio",
                "-kernel",
            ])
            .arg(kernel)
            .args(["-append", "console=ttyS0 panic=-1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            return Accelerator::Tcg;
        };
        let mut stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if String::from_utf8_lossy(&buf).contains("Linux version") {
                    return true;
                }
            }
            false
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline && !reader.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        if reader.join().unwrap_or(false) {
            Accelerator::Kvm
        } else {
            Accelerator::Tcg
        }
    }

    fn guest_group(&self) -> Option<u32> {
        self.user.as_ref().map(|u| u.gid)
    }
}
