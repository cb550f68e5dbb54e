//! HAProxy from Debian, run by Nuvem without systemd: `haproxy -W -D -f CFG -p PIDFILE` (master
//! -worker, daemonized so that it outlives a crashed server: the balancers keep serving while
//! Nuvem restarts). A new configuration is checked (`haproxy -c`) before it replaces the old one,
//! then SIGUSR2 makes the master start new workers on it; old workers finish their connections.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Frontend, LoadBalancerProxy, ServerStats, parse_stats, render};
use crate::drivers::{DriverError, DriverResult, run};

#[derive(Debug, Clone)]
pub struct Haproxy {
    dir: PathBuf,
}

impl Haproxy {
    /// Its files live in `DATA_DIR/haproxy`: `haproxy.cfg`, `haproxy.pid`, `admin.sock`.
    pub fn new(data_dir: &Path) -> DriverResult<Haproxy> {
        let dir = data_dir.join("haproxy");
        crate::drivers::private_dir(&dir, 0o700, None)?;
        Ok(Haproxy { dir })
    }

    fn cfg(&self) -> PathBuf {
        self.dir.join("haproxy.cfg")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("haproxy.pid")
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("admin.sock")
    }

    /// The master's PID when it runs.
    fn master(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.pid_file())
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains("haproxy")
            .then_some(pid)
    }

    fn signal(pid: i32, sig: &str) -> DriverResult<()> {
        run("kill", &[sig, &pid.to_string()]).map(drop)
    }

    fn stop(&self) -> DriverResult<()> {
        if let Some(pid) = self.master() {
            Self::signal(pid, "-TERM")?;
            for _ in 0..50 {
                if self.master().is_none() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_file(self.pid_file());
        let _ = std::fs::remove_file(self.cfg());
        Ok(())
    }
}

impl LoadBalancerProxy for Haproxy {
    fn apply(&self, frontends: &[Frontend]) -> DriverResult<bool> {
        let running = self.master();
        if frontends.is_empty() {
            let had = running.is_some() || self.cfg().exists();
            self.stop()?;
            return Ok(had);
        }
        let text = render(frontends, &self.socket().display().to_string());
        let current = std::fs::read_to_string(self.cfg()).ok();
        if running.is_some() && current.as_deref() == Some(text.as_str()) {
            return Ok(false);
        }
        let next = self.dir.join("haproxy.cfg.next");
        std::fs::write(&next, &text)
            .map_err(|e| DriverError(format!("cannot write {}: {e}", next.display())))?;
        let next_s = next.display().to_string();
        run("haproxy", &["-c", "-q", "-f", &next_s])
            .map_err(|e| DriverError(format!("HAProxy refused the configuration: {e}")))?;
        std::fs::rename(&next, self.cfg())
            .map_err(|e| DriverError(format!("cannot install the HAProxy configuration: {e}")))?;
        match running {
            Some(pid) => Self::signal(pid, "-USR2")?,
            None => {
                let cfg = self.cfg().display().to_string();
                let pid = self.pid_file().display().to_string();
                run("haproxy", &["-W", "-D", "-f", &cfg, "-p", &pid])?;
            }
        }
        Ok(true)
    }

    fn stats(&self) -> DriverResult<Vec<ServerStats>> {
        if self.master().is_none() {
            return Ok(Vec::new());
        }
        let mut s = match std::os::unix::net::UnixStream::connect(self.socket()) {
            Ok(s) => s,
            // Between a reload's old and new worker the socket may be briefly absent.
            Err(_) => return Ok(Vec::new()),
        };
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| DriverError(e.to_string()))?;
        s.write_all(b"show stat\n")
            .map_err(|e| DriverError(format!("HAProxy's runtime API: {e}")))?;
        let mut out = String::new();
        s.read_to_string(&mut out)
            .map_err(|e| DriverError(format!("HAProxy's runtime API: {e}")))?;
        Ok(parse_stats(&out))
    }
}
