//! Health checks, made from the host as a load balancer makes them (so they pass the replica's
//! security groups from the subnet's gateway address): an HTTP GET answered with 2xx or 3xx, or
//! a TCP connect. A replica turns healthy after `healthy_threshold` successes in a row and
//! unhealthy after `unhealthy_threshold` failures; each change is an event.

use std::time::Duration;

use nuvem_api::apps::HealthCheck;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Apps;
use crate::error::Result;
use crate::store::apps::{AppRow, ReplicaRow};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One check of `address:port`; `Err` says why it failed.
pub async fn probe(
    address: &str,
    port: u16,
    check: &HealthCheck,
) -> std::result::Result<(), String> {
    let connect = TcpStream::connect((address, port));
    let mut stream = tokio::time::timeout(PROBE_TIMEOUT, connect)
        .await
        .map_err(|_| format!("no answer from {address}:{port} in 2 s"))?
        .map_err(|e| format!("cannot connect to {address}:{port}: {e}"))?;
    let Some(path) = &check.path else {
        return Ok(());
    };
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: nuvem-health\r\n\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 32];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    let head = tokio::time::timeout(PROBE_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("GET {path} got no answer in 2 s"))?
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("GET {path} got no HTTP answer"))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("GET {path} answered {status}"))
    }
}

impl Apps {
    /// Checks one replica and records a change of its health; returns whether it is healthy now.
    pub(super) async fn health_check(
        &self,
        app: &AppRow,
        check: &HealthCheck,
        port: u16,
        r: &ReplicaRow,
    ) -> Result<bool> {
        // A simulated replica has no process and its address is nowhere: probing it would send
        // packets out along the default route, off this machine.
        let outcome = if self.engine.runs_host_processes() {
            probe(&r.private_ip, port, check).await
        } else {
            Err("the simulated engine runs no process to answer".to_owned())
        };
        let was = r.health.clone();
        let now = {
            let mut streaks = self.streaks.lock().unwrap_or_else(|e| e.into_inner());
            let s = streaks.entry(r.id.clone()).or_default();
            match &outcome {
                Ok(()) => {
                    s.successes += 1;
                    s.failures = 0;
                }
                Err(_) => {
                    s.failures += 1;
                    s.successes = 0;
                }
            }
            if s.successes >= check.healthy_threshold {
                "healthy"
            } else if s.failures >= check.unhealthy_threshold {
                "unhealthy"
            } else {
                was.as_str()
            }
            .to_owned()
        };
        if now != was {
            self.store.replica_set_health(&r.id, &now).await?;
            let why = match &outcome {
                Ok(()) => "checks pass".to_owned(),
                Err(e) => e.clone(),
            };
            self.event(
                &app.id,
                &app.account_id,
                "health",
                &format!("replica {} is {now} ({why})", r.id),
            )
            .await;
        }
        Ok(now == "healthy")
    }

    /// Waits until replica `r` is healthy, checking at the app's interval; false after `limit`.
    pub(super) async fn wait_healthy(
        &self,
        app: &AppRow,
        r: &ReplicaRow,
        limit: Duration,
    ) -> Result<bool> {
        let spec = super::view::spec_of(app)?;
        let started = std::time::Instant::now();
        let every = Duration::from_millis(500);
        loop {
            let mut fresh = r.clone();
            if let Some(row) = self
                .store
                .replica_list(&app.id)
                .await?
                .into_iter()
                .find(|x| x.id == r.id)
            {
                fresh = row;
            }
            if self
                .health_check(app, &spec.health_check, spec.port, &fresh)
                .await?
            {
                return Ok(true);
            }
            if started.elapsed() > limit {
                return Ok(false);
            }
            tokio::time::sleep(every).await;
        }
    }
}
