//! The business rules of apps: create (checked here, made by the create saga), describe, scale,
//! change limits in place, delete, autoscaling settings.

use std::time::Duration;

use nuvem_api::apps as api;

use super::balancers::drain;
use super::deploy::{Create, CreateSaga, Delete, DeleteSaga};
use super::replicas::new_id;
use super::{Apps, host, view};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::apps::AppRow;

/// The most replicas one app may ask for (quotas usually stop it sooner).
pub const MAX_REPLICAS: u32 = 50;

/// How long a new replica may take to pass its health check before it serves anyway (scale) or
/// the rollout stops (update).
pub const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

/// The host's CPUs and memory (MiB): no replica may ask for more.
fn host_size() -> (f64, u64) {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib / 1024)
        .unwrap_or(u64::MAX);
    (cpus, mem)
}

pub(super) fn check_fits_host(spec: &api::AppSpec) -> Result<()> {
    let (cpus, mem) = host_size();
    if spec.cpu > cpus {
        return Err(Error::invalid(format!(
            "cpu {} is more than this host has ({cpus} CPUs)",
            spec.cpu
        )));
    }
    if u64::from(spec.memory_mib) > mem {
        return Err(Error::invalid(format!(
            "memory_mib {} is more than this host has ({mem} MiB)",
            spec.memory_mib
        )));
    }
    Ok(())
}

fn check_replicas(n: u32) -> Result<()> {
    if n > MAX_REPLICAS {
        return Err(Error::invalid(format!(
            "replicas {n} is above the maximum of {MAX_REPLICAS} per app"
        )));
    }
    Ok(())
}

impl Apps {
    pub(super) async fn app_lookup(&self, p: &Principal, name: &str) -> Result<AppRow> {
        self.store
            .app_get(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("app", name))
    }

    /// The capacity `n` more replicas of `spec` take from the account's quotas.
    async fn quota_for(&self, p: &Principal, spec: &api::AppSpec, n: u32) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let count = u64::from(n);
        self.iam
            .quota_check(
                p,
                &[
                    ("app_replicas", count),
                    ("vcpus", count * spec.cpu.ceil() as u64),
                    ("memory_mib", count * u64::from(spec.memory_mib)),
                ],
            )
            .await?;
        // The account's limits first (as AWS answers), then whether the host has room now.
        self.host_room_for(n, spec.cpu, spec.memory_mib).await
    }

    /// What raising the limits of an app's `replicas` from `old` to `new` takes from the
    /// account's quotas and from the host (nothing when they stay or shrink): the same checks
    /// as for new replicas, on the difference.
    pub(super) async fn quota_for_growth(
        &self,
        p: &Principal,
        old: &api::AppSpec,
        new: &api::AppSpec,
        replicas: u32,
    ) -> Result<()> {
        let count = u64::from(replicas);
        let more_cpu = (new.cpu - old.cpu).max(0.0);
        let more_memory = new.memory_mib.saturating_sub(old.memory_mib);
        if count == 0 || (more_cpu == 0.0 && more_memory == 0) {
            return Ok(());
        }
        let vcpus = (new.cpu.ceil() as u64).saturating_sub(old.cpu.ceil() as u64);
        self.iam
            .quota_check(
                p,
                &[
                    ("vcpus", count * vcpus),
                    ("memory_mib", count * u64::from(more_memory)),
                ],
            )
            .await?;
        self.host_room_for(replicas, more_cpu, more_memory).await
    }

    pub(super) async fn app_view(&self, row: &AppRow) -> Result<api::App> {
        let mut replicas = Vec::new();
        for r in self.store.replica_list(&row.id).await? {
            let info = self
                .engine
                .container_inspect(&r.container)
                .await
                .map_err(host)?;
            let cpu = self
                .cpu
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&r.id)
                .copied();
            replicas.push(view::replica(&r, info.as_ref(), cpu));
        }
        let url = self.lb_url(&row.load_balancer_id).await?;
        view::app(row, replicas, url)
    }

    pub async fn app_create(&self, p: &Principal, req: api::CreateAppRequest) -> Result<api::App> {
        self.iam
            .authorize(p, "apps:CreateApp", &Self::res(p, "app", &req.name))
            .await?;
        api::check_name("app", &req.name).map_err(Error::InvalidRequest)?;
        api::check_spec(&req.spec).map_err(Error::InvalidRequest)?;
        check_fits_host(&req.spec)?;
        check_replicas(req.replicas)?;
        self.image_resolve(&p.account.id, &req.spec.image).await?;
        if self
            .store
            .app_get(&p.account.id, &req.name)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "app '{}' already exists",
                req.name
            )));
        }
        if let Some(port) = req.public_port {
            self.listener_check(port).await?;
        }
        self.quota_for(p, &req.spec, req.replicas).await?;
        let (subnet, groups) = self
            .vpc
            .placement(
                p,
                req.subnet_id.as_deref(),
                req.security_group_ids.as_deref(),
            )
            .await?;
        let state = Create {
            account_id: p.account.id.clone(),
            app_id: new_id("app"),
            name: req.name.clone(),
            spec: req.spec.clone(),
            replicas: req.replicas,
            subnet_id: subnet.id,
            security_group_ids: req.security_group_ids.as_ref().map(|_| groups),
            own_security_group: None,
            public_port: req.public_port,
            tags: req.tags.clone(),
        };
        let lock = self.app_lock(&state.app_id);
        let _one = lock.lock().await;
        let done = self.platform.sagas.run::<CreateSaga>(self, state).await?;
        let row = self
            .store
            .app_get_by_id(&done.app_id)
            .await?
            .ok_or_else(|| Error::internal("the app vanished right after its deploy"))?;
        self.app_view(&row).await
    }

    pub async fn app_list(&self, p: &Principal) -> Result<api::AppList> {
        self.iam
            .authorize(p, "apps:DescribeApps", &Self::res(p, "app", "*"))
            .await?;
        let mut items = Vec::new();
        for row in self.store.app_list(&p.account.id).await? {
            items.push(self.app_view(&row).await?);
        }
        Ok(api::AppList { items })
    }

    pub async fn app_get(&self, p: &Principal, name: &str) -> Result<api::App> {
        self.iam
            .authorize(p, "apps:DescribeApps", &Self::res(p, "app", name))
            .await?;
        let row = self.app_lookup(p, name).await?;
        self.app_view(&row).await
    }

    pub async fn app_scale(&self, p: &Principal, name: &str, replicas: u32) -> Result<api::App> {
        self.iam
            .authorize(p, "apps:ScaleApp", &Self::res(p, "app", name))
            .await?;
        check_replicas(replicas)?;
        let row = self.app_lookup(p, name).await?;
        let spec = view::spec_of(&row)?;
        let more = replicas.saturating_sub(row.replicas_desired.max(0) as u32);
        self.quota_for(p, &spec, more).await?;
        let lock = self.app_lock(&row.id);
        let _one = lock.lock().await;
        let mut row = self.app_lookup(p, name).await?;
        self.scale_to(&mut row, replicas, "scale", "asked for by the user")
            .await?;
        self.app_view(&row).await
    }

    /// Makes or removes replicas until `n` run; new ones serve once healthy (or after
    /// [`HEALTHY_WITHIN`]), removed ones are drained from the balancer first. Hold the app's lock.
    /// The event is of `kind` (`scale` by hand, `autoscale`) and says why.
    pub(super) async fn scale_to(
        &self,
        app: &mut AppRow,
        n: u32,
        kind: &str,
        why: &str,
    ) -> Result<()> {
        let from = app.replicas_desired.max(0) as u32;
        app.replicas_desired = n as i32;
        self.store.app_save(app).await?;
        let spec = view::spec_of(app)?;
        let rows = self.store.replica_list(&app.id).await?;
        if (rows.len() as u32) < n {
            for _ in rows.len() as u32..n {
                let id = new_id("r");
                drain(&id, true);
                let made = self.replica_make(app, &spec, id.clone()).await;
                let made = match made {
                    Ok(r) => r,
                    Err(e) => {
                        drain(&id, false);
                        return Err(e);
                    }
                };
                // The answer does not wait for health (a client that does: `--wait`): the new
                // replica joins the balancer once healthy, or after HEALTHY_WITHIN regardless,
                // where the balancer's own checks keep it out while it fails.
                let (apps, app) = (self.clone(), app.clone());
                tokio::spawn(async move {
                    if let Err(e) = apps.wait_healthy(&app, &made, HEALTHY_WITHIN).await {
                        tracing::warn!(replica = %made.id, error = %e, "waiting for a new replica's health");
                    }
                    drain(&made.id, false);
                    if let Err(e) = apps.proxy_sync().await {
                        tracing::warn!(error = %e, "cannot add a new replica to its balancer; the reconciler will");
                    }
                });
            }
        } else {
            let excess: Vec<_> = rows.iter().rev().take(rows.len() - n as usize).collect();
            for r in &excess {
                drain(&r.id, true);
            }
            self.proxy_sync().await?;
            // Requests in flight to the drained replicas finish before they go.
            tokio::time::sleep(Duration::from_secs(1)).await;
            for r in excess {
                let removed = self.replica_remove(r).await;
                drain(&r.id, false);
                removed?;
            }
        }
        if from != n {
            self.event(
                &app.id,
                &app.account_id,
                kind,
                &format!("{from} → {n} replica(s): {why}"),
            )
            .await;
        }
        Ok(())
    }

    pub async fn app_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.iam
            .authorize(p, "apps:DeleteApp", &Self::res(p, "app", name))
            .await?;
        let mut row = self.app_lookup(p, name).await?;
        let lock = self.app_lock(&row.id);
        let _one = lock.lock().await;
        row.state = view::state_str(api::AppState::Deleting).into();
        self.store.app_save(&row).await?;
        self.platform
            .sagas
            .run::<DeleteSaga>(
                self,
                Delete {
                    account_id: row.account_id.clone(),
                    app_id: row.id.clone(),
                },
            )
            .await
            .map(drop)
    }

    pub async fn autoscaling_set(
        &self,
        p: &Principal,
        name: &str,
        req: api::Autoscaling,
    ) -> Result<api::App> {
        self.iam
            .authorize(p, "apps:ScaleApp", &Self::res(p, "app", name))
            .await?;
        if req.min > req.max || req.max == 0 {
            return Err(Error::invalid(format!(
                "autoscaling needs 0 < max and min ≤ max (got min {} and max {})",
                req.min, req.max
            )));
        }
        check_replicas(req.max)?;
        if !(1.0..=100.0).contains(&req.target_cpu_percent) {
            return Err(Error::invalid(
                "target_cpu_percent must be 1 to 100 (% of one core per replica)",
            ));
        }
        let mut row = self.app_lookup(p, name).await?;
        let spec = view::spec_of(&row)?;
        let more = req.max.saturating_sub(row.replicas_desired.max(0) as u32);
        // The quota must hold the maximum: scaling out must not fail on it later.
        self.quota_for(p, &spec, more).await?;
        row.autoscaling = Some(serde_json::to_string(&req).map_err(Error::internal)?);
        self.store.app_save(&row).await?;
        self.event(
            &row.id,
            &row.account_id,
            "autoscale",
            &format!(
                "target tracking on: {}–{} replicas, average CPU {}% per replica, cooldown {} s",
                req.min, req.max, req.target_cpu_percent, req.cooldown_seconds
            ),
        )
        .await;
        self.app_view(&row).await
    }

    pub async fn autoscaling_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.iam
            .authorize(p, "apps:ScaleApp", &Self::res(p, "app", name))
            .await?;
        let mut row = self.app_lookup(p, name).await?;
        row.autoscaling = None;
        self.store.app_save(&row).await?;
        self.event(&row.id, &row.account_id, "autoscale", "target tracking off")
            .await;
        Ok(())
    }
}
