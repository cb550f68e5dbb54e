//! HAProxy from Debian, run by Nuvem without systemd: `haproxy -W -D -f CFG -p PIDFILE` (master
//! -worker, daemonized so that it outlives a crashed server: the balancers keep serving while
//! Nuvem restarts). A new configuration is checked (`haproxy -c`) before it replaces the running
//! one, then SIGUSR2 makes the master start new workers on it; old workers finish their
//! connections. A first start is its own check.

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
        let Some(pid) = running else {
            // A first start checks the configuration itself: HAProxy parses it and binds its
            // ports before it daemonizes, and exits non-zero on any error (one process instead
            // of a `-c` run and then a start, ~30 ms less per deploy of a first balancer).
            let cfg = self.cfg();
            std::fs::write(&cfg, &text)
                .map_err(|e| DriverError(format!("cannot write {}: {e}", cfg.display())))?;
            let (cfg_s, pid) = (
                cfg.display().to_string(),
                self.pid_file().display().to_string(),
            );
            if let Err(e) = run("haproxy", &["-W", "-D", "-f", &cfg_s, "-p", &pid]) {
                let _ = std::fs::remove_file(&cfg);
                return Err(DriverError(format!(
                    "HAProxy refused the configuration: {e}"
                )));
            }
            return Ok(true);
        };
        // A running proxy is reloaded only onto a configuration that passed `haproxy -c`: a bad
        // one must never replace what serves now.
        let next = self.dir.join("haproxy.cfg.next");
        std::fs::write(&next, &text)
            .map_err(|e| DriverError(format!("cannot write {}: {e}", next.display())))?;
        let next_s = next.display().to_string();
        run("haproxy", &["-c", "-q", "-f", &next_s])
            .map_err(|e| DriverError(format!("HAProxy refused the configuration: {e}")))?;
        std::fs::rename(&next, self.cfg())
            .map_err(|e| DriverError(format!("cannot install the HAProxy configuration: {e}")))?;
        Self::signal(pid, "-USR2")?;
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

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};

    use super::*;
    use crate::drivers::proxy::Backend;

    fn listening_on(port: u16, health_path: &str) -> Frontend {
        Frontend {
            id: "lb-test".into(),
            binds: vec![(Ipv4Addr::LOCALHOST, port)],
            backends: vec![Backend {
                name: "r-a".into(),
                address: Ipv4Addr::LOCALHOST,
                port: 9,
            }],
            health_path: Some(health_path.into()),
            interval_seconds: 2,
            rise: 2,
            fall: 2,
        }
    }

    fn free_port() -> u16 {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
        held.local_addr().expect("its address").port()
    }

    /// A first start that HAProxy refuses (its port is taken) leaves nothing installed; a reload
    /// onto a configuration HAProxy refuses keeps the running one serving.
    #[test]
    #[ignore = "needs HAProxy (Debian haproxy): run infra/test.sh"]
    fn a_refused_configuration_never_replaces_a_good_one() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let proxy = Haproxy::new(dir.path()).expect("its directory");

        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a port to hold");
        let port = taken.local_addr().expect("its address").port();
        let refused = proxy.apply(&[listening_on(port, "/")]);
        assert!(refused.is_err(), "{refused:?}");
        assert!(proxy.master().is_none() && !proxy.cfg().exists());
        drop(taken);

        let port = free_port();
        assert!(
            proxy
                .apply(&[listening_on(port, "/")])
                .expect("a good start")
        );
        let good = std::fs::read_to_string(proxy.cfg()).expect("the installed configuration");
        let master = proxy.master().expect("a running master");

        let hostile = listening_on(port, "/x\n    no-such-keyword");
        let refused = proxy.apply(&[hostile]).expect_err("an unknown keyword");
        assert!(refused.to_string().contains("refused"), "{refused}");
        assert_eq!(proxy.master(), Some(master));
        assert_eq!(std::fs::read_to_string(proxy.cfg()).ok(), Some(good));
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok());

        assert!(proxy.apply(&[]).expect("a stop"));
        assert!(proxy.master().is_none());
    }
}
