//! The `apps` reconciler, at start and every 2 seconds: a replica whose container died is
//! started again (its interface plugged back) and one removed behind Nuvem's back is made again;
//! replicas are health-checked; containers and interfaces Nuvem made but no longer knows (a crash
//! between two steps) are removed — and nothing it did not make is touched; the proxy is made to
//! match the database; autoscaling decides.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::{BoxFuture, join_all};

use super::replicas::{APP_LABEL, CELL_LABEL, REPLICA_LABEL};
use super::{Apps, host, view};
use crate::error::Result;
use crate::reconcile::Reconciler;
use crate::store::apps::AppRow;

impl Reconciler for Apps {
    fn name(&self) -> &'static str {
        "apps"
    }

    fn period(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(self.reconcile_all())
    }
}

impl Apps {
    async fn reconcile_all(&self) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        for app in self.store.app_list_all().await? {
            // A deploy, scale or rollout holds the lock; its saga owns the replicas meanwhile.
            let lock = self.app_lock(&app.id);
            let Ok(_one) = lock.try_lock() else { continue };
            if self
                .platform
                .sagas
                .unfinished_for(&format!("app/{}", app.id))
                .await?
            {
                continue;
            }
            let Some(app) = self.store.app_get_by_id(&app.id).await? else {
                continue;
            };
            if app.state == "deleting" {
                continue;
            }
            fixed.extend(self.heal(&app).await?);
        }
        fixed.extend(self.reconcile_orphans().await?);
        if self.proxy_sync().await? {
            fixed.push("load balancer configuration rewritten".into());
        }
        fixed.extend(self.autoscale().await?);
        Ok(fixed)
    }

    /// Restarts, recreates and checks the replicas of one app.
    async fn heal(&self, app: &AppRow) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        let spec = view::spec_of(app)?;
        for r in self.store.replica_list(&app.id).await? {
            let info = self
                .engine
                .container_inspect(&r.container)
                .await
                .map_err(host)?;
            let what = match &info {
                None => {
                    let made = self.replica_recreate(app, &spec, &r).await;
                    Some((
                        "recreate",
                        format!(
                            "replica {}'s container was removed outside Nuvem; made it again",
                            r.id
                        ),
                        made,
                    ))
                }
                Some(i) if i.state != "running" => {
                    let made = self.replica_restart(&r).await;
                    Some((
                        "restart",
                        format!(
                            "replica {} died (exit code {}); restarted it (restart #{})",
                            r.id,
                            i.exit_code,
                            r.restarts + 1
                        ),
                        made,
                    ))
                }
                Some(_) => None,
            };
            match what {
                Some((kind, message, Ok(()))) => {
                    self.event(&app.id, &app.account_id, kind, &message).await;
                    fixed.push(message);
                }
                Some((kind, message, Err(e))) => {
                    let message = format!("{message} — failed: {e}");
                    self.event(&app.id, &app.account_id, kind, &message).await;
                }
                None => {
                    self.health_check(app, &spec.health_check, spec.port, &r)
                        .await?;
                }
            }
        }
        Ok(fixed)
    }

    /// Removes the containers and interfaces of apps that no replica row names, unless a saga
    /// of that app is still running (it owns them).
    pub(super) async fn reconcile_orphans(&self) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        let known: HashSet<String> = self
            .store
            .replica_list_all()
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut accounts: HashSet<String> = self
            .store
            .app_list_all()
            .await?
            .into_iter()
            .map(|a| a.account_id)
            .collect();
        let ours = format!("{CELL_LABEL}={}", self.vpc.naming().cell());
        for c in self.engine.container_list(&ours).await.map_err(host)? {
            if let Some(account) = c.labels.get("nuvem.account") {
                accounts.insert(account.clone());
            }
            let (Some(app), Some(replica)) = (c.labels.get(APP_LABEL), c.labels.get(REPLICA_LABEL))
            else {
                continue;
            };
            if known.contains(replica) || self.busy(app).await? {
                continue;
            }
            self.engine.container_remove(&c.name).await.map_err(host)?;
            fixed.push(format!("removed orphan container {}", c.name));
        }
        for account in accounts {
            for (eni, attached) in self.vpc.interfaces_attached_with(&account, "app/").await? {
                let mut parts = attached.split('/').skip(1);
                let (Some(app), Some(replica)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if known.contains(replica) || self.busy(app).await? {
                    continue;
                }
                self.vpc.interface_release(&account, &eni).await?;
                fixed.push(format!("released orphan interface {eni} ({attached})"));
            }
        }
        Ok(fixed)
    }

    /// Whether an app's saga is running (in this process, or interrupted and not yet unwound).
    async fn busy(&self, app_id: &str) -> Result<bool> {
        let lock = self.app_lock(app_id);
        if lock.try_lock().is_err() {
            return Ok(true);
        }
        self.platform
            .sagas
            .unfinished_for(&format!("app/{app_id}"))
            .await
    }

    /// Target tracking: measures each replica's CPU (from its cgroup, over a second), and scales
    /// to `ceil(replicas × average / target)` within min and max, at most once per cooldown.
    async fn autoscale(&self) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        for app in self.store.app_list_all().await? {
            let Some(policy) = view::autoscaling_of(&app) else {
                continue;
            };
            if app.state != "running" {
                continue;
            }
            let replicas = self.store.replica_list(&app.id).await?;
            let samples = join_all(replicas.iter().map(|r| async {
                (
                    r.id.clone(),
                    self.engine.container_cpu_percent(&r.container).await,
                )
            }))
            .await;
            let mut total = 0.0;
            let mut counted = 0u32;
            for (id, sample) in samples {
                if let Ok(pct) = sample {
                    self.cpu
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, pct);
                    total += pct;
                    counted += 1;
                }
            }
            let n = app.replicas_desired.max(0) as u32;
            let average = if counted == 0 {
                0.0
            } else {
                total / f64::from(counted)
            };
            let wanted = if n == 0 {
                policy.min.max(1)
            } else {
                ((f64::from(n) * average / policy.target_cpu_percent).ceil() as u32)
                    .clamp(policy.min, policy.max)
            };
            let wanted = wanted.clamp(policy.min, policy.max);
            if wanted == n {
                continue;
            }
            let cooled = app.last_scaled_at.is_none_or(|t| {
                (Utc::now() - t).num_seconds() >= i64::from(policy.cooldown_seconds)
            });
            if !cooled {
                continue;
            }
            let lock = self.app_lock(&app.id);
            let Ok(_one) = lock.try_lock() else { continue };
            let Some(mut row) = self.store.app_get_by_id(&app.id).await? else {
                continue;
            };
            row.last_scaled_at = Some(Utc::now());
            let why = format!(
                "average CPU {average:.1}% of one core over {counted} replica(s), target {}%",
                policy.target_cpu_percent
            );
            self.scale_to(&mut row, wanted, "autoscale", &why).await?;
            fixed.push(format!("app {} scaled to {wanted}: {why}", app.name));
        }
        Ok(fixed)
    }
}
