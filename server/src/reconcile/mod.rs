//! Background reconciliation: each service that owns host state registers one [`Reconciler`]
//! (desired state in the database against the actual state of the host), and one driver runs them
//! all — at start, on each one's timer, and on demand — never two runs of the same service at
//! once, with the last outcome of each visible to the operator (`GET /v1/reconcilers`,
//! `cloudctl reconciler list`). Shutdown stops them all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;
use nuvem_api::ops::ReconcilerStatus;

use crate::error::{Error, Result};

/// One service's desired-versus-actual loop.
pub trait Reconciler: Send + Sync + 'static {
    /// The service it reconciles (`vpc`, `compute`): its name in the API and in `cloudctl`.
    fn name(&self) -> &'static str;
    /// How often it runs by itself.
    fn period(&self) -> Duration;
    /// Makes the host match the database. Idempotent: a second run right after fixes nothing.
    /// Returns what it fixed, one line each (empty when the host already matched).
    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>>;
}

struct Task {
    reconciler: Arc<dyn Reconciler>,
    /// Held for the length of a run: one run per service at a time.
    running: tokio::sync::Mutex<()>,
    status: std::sync::Mutex<ReconcilerStatus>,
}

impl Task {
    fn status(&self) -> ReconcilerStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn run(&self) -> Result<ReconcilerStatus> {
        let _one_at_a_time = self.running.lock().await;
        let started = Instant::now();
        let at = Utc::now();
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .running = true;
        let outcome = self.reconciler.reconcile().await;
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.running = false;
        status.runs += 1;
        status.last_started_at = Some(at);
        status.last_duration_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(fixed) => {
                if !fixed.is_empty() {
                    tracing::info!(reconciler = self.reconciler.name(), fixed = ?fixed, "reconciled");
                }
                status.last_fixed = fixed.clone();
                status.last_error = None;
            }
            Err(e) => {
                tracing::warn!(reconciler = self.reconciler.name(), error = %e, "reconciliation failed");
                status.failures += 1;
                status.last_fixed = Vec::new();
                status.last_error = Some(e.to_string());
            }
        }
        let status = status.clone();
        outcome.map(|_| status)
    }
}

/// The driver of every registered reconciler; cheap to clone.
#[derive(Clone)]
pub struct Reconcilers {
    tasks: Arc<Vec<Task>>,
    stopped: Arc<AtomicBool>,
    stop: Arc<tokio::sync::Notify>,
}

impl Reconcilers {
    pub fn new(reconcilers: Vec<Arc<dyn Reconciler>>) -> Self {
        let tasks = reconcilers
            .into_iter()
            .map(|r| Task {
                status: std::sync::Mutex::new(ReconcilerStatus {
                    name: r.name().to_owned(),
                    period_seconds: r.period().as_secs(),
                    ..Default::default()
                }),
                reconciler: r,
                running: tokio::sync::Mutex::new(()),
            })
            .collect();
        Reconcilers {
            tasks: Arc::new(tasks),
            stopped: Arc::default(),
            stop: Arc::default(),
        }
    }

    fn task(&self, name: &str) -> Result<&Task> {
        self.tasks
            .iter()
            .find(|t| t.reconciler.name() == name)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "there is no reconciler '{name}'; the reconcilers are {}",
                    self.names().join(", ")
                ))
            })
    }

    /// Runs one reconciler now and fails when it fails: at start, where the server must not
    /// serve a host it could not bring in line with its database.
    pub async fn run_or_fail(&self, name: &str) -> Result<ReconcilerStatus> {
        self.task(name)?.run().await
    }

    /// Starts each reconciler's timer.
    pub fn start(&self) {
        for n in 0..self.tasks.len() {
            let me = self.clone();
            tokio::spawn(async move {
                let task = &me.tasks[n];
                let period = task.reconciler.period();
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(period) => {}
                        _ = me.stop.notified() => break,
                    }
                    if me.stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    // Its outcome is in the status and the log.
                    let _ = task.run().await;
                }
            });
        }
    }

    /// Runs one reconciler now (waiting for a run in progress to finish first).
    pub async fn run(&self, name: &str) -> Result<ReconcilerStatus> {
        let task = self.task(name)?;
        match task.run().await {
            Ok(status) => Ok(status),
            // A failed run is an answer too: the status says why.
            Err(_) => Ok(task.status()),
        }
    }

    pub fn status(&self) -> Vec<ReconcilerStatus> {
        self.tasks.iter().map(Task::status).collect()
    }

    fn names(&self) -> Vec<&'static str> {
        self.tasks.iter().map(|t| t.reconciler.name()).collect()
    }

    /// Stops every timer; a run in progress finishes.
    pub fn shutdown(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.stop.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// Drifts once: the first run fixes something, later runs find nothing to fix.
    struct Drifting {
        runs: AtomicU32,
        fail: AtomicBool,
    }

    impl Reconciler for Drifting {
        fn name(&self) -> &'static str {
            "test"
        }
        fn period(&self) -> Duration {
            Duration::from_millis(20)
        }
        fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
            Box::pin(async move {
                if self.fail.load(Ordering::Relaxed) {
                    return Err(Error::internal("the host did not answer"));
                }
                let n = self.runs.fetch_add(1, Ordering::Relaxed);
                Ok(if n == 0 {
                    vec!["recreated bridge nv0000b1".to_owned()]
                } else {
                    Vec::new()
                })
            })
        }
    }

    #[tokio::test]
    async fn runs_at_start_on_a_timer_and_on_demand_and_reports_its_last_outcome() {
        let r = Arc::new(Drifting {
            runs: AtomicU32::new(0),
            fail: AtomicBool::new(false),
        });
        let driver = Reconcilers::new(vec![r.clone()]);
        driver.run_or_fail("test").await.unwrap();
        let s = &driver.status()[0];
        assert_eq!((s.name.as_str(), s.runs), ("test", 1));
        assert_eq!(s.last_fixed, ["recreated bridge nv0000b1"]);
        // On demand: idempotent, nothing more to fix.
        let s = driver.run("test").await.unwrap();
        assert_eq!((s.runs, s.last_fixed.len()), (2, 0));
        // A failure is recorded, not lost.
        r.fail.store(true, Ordering::Relaxed);
        assert!(driver.run_or_fail("test").await.is_err());
        let s = driver.run("test").await.unwrap();
        assert_eq!(s.failures, 2, "both failures are counted");
        assert!(s.last_error.unwrap().contains("did not answer"));
        r.fail.store(false, Ordering::Relaxed);
        // The timer runs it by itself, and shutdown stops it.
        driver.start();
        tokio::time::sleep(Duration::from_millis(150)).await;
        driver.shutdown();
        let after_stop = driver.status()[0].runs;
        assert!(after_stop > 3, "the timer ran it: {after_stop} runs");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(driver.status()[0].runs <= after_stop + 1, "stopped");
        assert!(matches!(driver.run("nope").await, Err(Error::NotFound(_))));
    }
}
