//! The only code that touches the host. Each driver is a trait with a real implementation (shell
//! commands against the kernel and daemons) and a simulated twin for fast unit tests, one folder
//! each (`mod`: the trait and its types, `real`, `sim`). Drivers know nothing of HTTP, IAM,
//! accounts or the database: what they build comes from [`crate::netspec`] and the services.

pub mod cgroup;
pub mod containers;
pub mod host_ports;
pub mod hypervisor;
pub mod keys;
pub mod net;
pub mod proxy;

use std::sync::Arc;

use containers::{ContainerEngine, SimEngine};
use hypervisor::{Hypervisor, SimHypervisor};
use net::{HostNetwork, SimNetwork};
use proxy::{LoadBalancerProxy, SimProxy};

/// The drivers one server runs on: the services get them as trait objects and never learn which
/// implementation is behind. `server::start` builds them from the configuration.
#[derive(Clone)]
pub struct Drivers {
    pub net: Arc<dyn HostNetwork>,
    pub hypervisor: Arc<dyn Hypervisor>,
    /// `None`: container apps are off (no engine configured, or dockerd did not answer).
    pub containers: Option<Arc<dyn ContainerEngine>>,
    pub proxy: Arc<dyn LoadBalancerProxy>,
}

/// The simulated twins behind [`Drivers::simulated`], kept with their concrete types so that a
/// test can inject failures (`SimNetwork::fail`) and guest events
/// (`SimHypervisor::power_off_from_inside`) into the server it started.
#[derive(Debug, Clone, Default)]
pub struct SimDrivers {
    pub net: Arc<SimNetwork>,
    pub hypervisor: Arc<SimHypervisor>,
    pub containers: Arc<SimEngine>,
    pub proxy: Arc<SimProxy>,
}

impl Drivers {
    /// Both drivers simulated, with the twins alongside for the test that wants to reach them.
    pub fn simulated() -> (Drivers, SimDrivers) {
        let sims = SimDrivers::default();
        let drivers = Drivers {
            net: sims.net.clone(),
            hypervisor: sims.hypervisor.clone(),
            containers: Some(sims.containers.clone()),
            proxy: sims.proxy.clone(),
        };
        (drivers, sims)
    }
}

/// A host command failed; the message names the command and what it printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

pub type DriverResult<T> = Result<T, DriverError>;

/// (uid, primary gid) of a user of this host, from `/etc/passwd`.
pub fn host_user(name: &str) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// The gid of a group of this host, from `/etc/group`.
pub fn host_group(name: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[0] == name).then(|| f[2].parse().ok())?
    })
}

/// Creates `dir` if missing and gives it `mode`, owned by root and `group` (when given): the
/// directories below the data directory that an unprivileged daemon must traverse.
pub fn private_dir(dir: &std::path::Path, mode: u32, group: Option<u32>) -> DriverResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let err = |what: &str, e: std::io::Error| {
        DriverError(format!("cannot {what} {}: {e}", dir.display()))
    };
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(mode);
    }
    b.create(dir).map_err(|e| err("create", e))?;
    if let Some(gid) = group {
        std::os::unix::fs::chown(dir, Some(0), Some(gid)).map_err(|e| err("chown", e))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| err("chmod", e))
}

/// Gives a file `mode`, and `group` when given (owner unchanged).
pub fn file_mode(path: &std::path::Path, mode: u32, group: Option<u32>) -> DriverResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let err = |what: &str, e: std::io::Error| {
        DriverError(format!("cannot {what} {}: {e}", path.display()))
    };
    if let Some(gid) = group {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(|e| err("chown", e))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| err("chmod", e))
}

/// Runs a command and returns its stdout; a failure carries the command line and stderr.
pub fn run(program: &str, args: &[&str]) -> DriverResult<String> {
    run_with_input(program, args, None)
}

pub fn run_with_input(program: &str, args: &[&str], input: Option<&str>) -> DriverResult<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let line = || format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DriverError(format!("cannot run `{}`: {e}", line())))?;
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| DriverError(format!("writing to `{}`: {e}", line())))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| DriverError(format!("waiting for `{}`: {e}", line())))?;
    if !out.status.success() {
        return Err(DriverError(format!(
            "`{}` failed ({}): {}",
            line(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
