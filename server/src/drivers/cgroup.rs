//! Reading a process's control group from the kernel: which cgroup version the host runs, where
//! the process's cgroup is, and the files that enforce its CPU and memory limits. Used by the
//! apps service's internals view and by the autoscaler's CPU measurement.

use std::path::{Path, PathBuf};

use super::{DriverError, DriverResult};

const ROOT: &str = "/sys/fs/cgroup";

/// Whether `/sys/fs/cgroup` is the unified (v2) hierarchy.
pub fn version() -> u8 {
    if Path::new(ROOT).join("cgroup.controllers").exists() {
        2
    } else {
        1
    }
}

/// The cgroup path of `pid` for a controller (`memory`, `cpu`, `cpuacct`; ignored on v2), from
/// `/proc/PID/cgroup`.
pub fn path_of(pid: u32, controller: &str) -> DriverResult<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map_err(|e| DriverError(format!("cannot read /proc/{pid}/cgroup: {e}")))?;
    let v2 = version() == 2;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let rel = path.trim_start_matches('/');
        if v2 && controllers.is_empty() {
            return Ok(Path::new(ROOT).join(rel));
        }
        if !v2 && controllers.split(',').any(|c| c == controller) {
            // The directory is named after the controllers mounted together (`cpu,cpuacct`) or
            // the controller alone; both usually exist as links.
            let joined = Path::new(ROOT).join(controllers).join(rel);
            if joined.exists() {
                return Ok(joined);
            }
            return Ok(Path::new(ROOT).join(controller).join(rel));
        }
    }
    Err(DriverError(format!(
        "process {pid} has no {controller} cgroup in /proc/{pid}/cgroup"
    )))
}

/// A cgroup file's content, trimmed.
pub fn read(dir: &Path, file: &str) -> DriverResult<String> {
    let p = dir.join(file);
    std::fs::read_to_string(&p)
        .map(|s| s.trim().to_owned())
        .map_err(|e| DriverError(format!("cannot read {}: {e}", p.display())))
}

/// The CPU time the process's cgroup used so far, in nanoseconds.
pub fn cpu_usage_nanos(pid: u32) -> DriverResult<u64> {
    if version() == 2 {
        let dir = path_of(pid, "cpu")?;
        let stat = read(&dir, "cpu.stat")?;
        let usec = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| DriverError(format!("no usage_usec in {}/cpu.stat", dir.display())))?;
        Ok(usec * 1000)
    } else {
        let dir = path_of(pid, "cpuacct")?;
        read(&dir, "cpuacct.usage")?
            .parse::<u64>()
            .map_err(|e| DriverError(format!("cpuacct.usage in {}: {e}", dir.display())))
    }
}

/// A cgroup file: (absolute path, value, what it means).
pub type LimitFile = (String, String, String);

/// The files that enforce the limits and report usage, with what each means, as
/// (path, value, meaning). The paths are absolute so a student can `cat` them.
pub fn limit_files(pid: u32) -> DriverResult<(u8, PathBuf, Vec<LimitFile>)> {
    let v = version();
    let mut files = Vec::new();
    let mut add = |dir: &Path, file: &str, meaning: &str| {
        if let Ok(value) = read(dir, file) {
            files.push((
                dir.join(file).display().to_string(),
                value,
                meaning.to_owned(),
            ));
        }
    };
    let memory_dir = path_of(pid, "memory")?;
    if v == 2 {
        add(
            &memory_dir,
            "cpu.max",
            "CPU quota and period in µs: the group may run QUOTA µs every PERIOD µs",
        );
        add(
            &memory_dir,
            "memory.max",
            "memory limit in bytes: above it the kernel reclaims, then kills (OOM)",
        );
        add(&memory_dir, "memory.current", "memory in use now, in bytes");
        add(
            &memory_dir,
            "cpu.stat",
            "CPU time used (usage_usec), and throttling",
        );
        add(&memory_dir, "pids.current", "processes in the group");
    } else {
        let cpu_dir = path_of(pid, "cpu")?;
        add(
            &cpu_dir,
            "cpu.cfs_quota_us",
            "CPU quota in µs per period: the group may run this long every period",
        );
        add(&cpu_dir, "cpu.cfs_period_us", "the CFS period in µs");
        add(
            &memory_dir,
            "memory.limit_in_bytes",
            "memory limit in bytes: above it the kernel reclaims, then kills (OOM)",
        );
        add(
            &memory_dir,
            "memory.usage_in_bytes",
            "memory in use now, in bytes",
        );
        if let Ok(acct) = path_of(pid, "cpuacct") {
            add(
                &acct,
                "cpuacct.usage",
                "CPU time used so far, in nanoseconds",
            );
        }
        add(
            &cpu_dir,
            "cpu.stat",
            "how often the quota throttled the group",
        );
    }
    Ok((v, memory_dir, files))
}

/// The inode of each namespace of `pid` (`/proc/PID/ns/KIND`), for the kinds the kernel has.
pub fn namespaces(pid: u32) -> Vec<(String, u64)> {
    use std::os::unix::fs::MetadataExt;
    ["pid", "mnt", "net", "uts", "ipc", "user", "cgroup", "time"]
        .iter()
        .filter_map(|kind| {
            let meta = std::fs::metadata(format!("/proc/{pid}/ns/{kind}")).ok()?;
            Some(((*kind).to_owned(), meta.ino()))
        })
        .collect()
}

/// The PID of the process inside its own PID namespace (the last `NSpid` field).
pub fn pid_in_namespace(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}
