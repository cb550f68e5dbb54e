//! Updates. New CPU or memory limits alone are applied in place to the running containers (the
//! cgroup files change at once). A new image, command or environment is a new version, rolled out
//! replica by replica as a saga: a new replica is made, serves once healthy, then an old one is
//! drained and removed. A new replica that never gets healthy stops the rollout and the saga
//! unwinds it — the rollback — and so does a crash of the server in the middle.

use std::time::Duration;

use nuvem_api::apps as api;
use serde::{Deserialize, Serialize};

use super::balancers::drain;
use super::lifecycle::{HEALTHY_WITHIN, check_fits_host};
use super::replicas::new_id;
use super::{Apps, host, view};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::saga::{Recovery, SagaKind, Step, StepFuture, nothing_to_undo};
use crate::store::apps::AppRow;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rollout {
    pub app_id: String,
    pub old_spec: api::AppSpec,
    pub old_version: i32,
    pub new_spec: api::AppSpec,
    pub new_version: i32,
}

pub struct RolloutSaga;

impl SagaKind for RolloutSaga {
    type Context = Apps;
    type State = Rollout;
    const KIND: &'static str = "apps.app-rollout";
    /// A rollout a crash interrupted is rolled back: the app ends at its old version.
    const RECOVERY: Recovery = Recovery::Unwind;

    fn steps() -> &'static [Step<Apps, Rollout>] {
        STEPS
    }

    fn resource(state: &Rollout) -> String {
        format!("app/{}", state.app_id)
    }
}

/// How long an update waits for the app's lock before answering Conflict.
const LOCK_PATIENCE: Duration = Duration::from_secs(10);

const STEPS: &[Step<Apps, Rollout>] = &[
    Step {
        name: "version",
        run: version_set,
        undo: version_restore,
    },
    Step {
        name: "replace",
        run: replace,
        undo: restore_replicas,
    },
    Step {
        name: "done",
        run: done,
        undo: nothing_to_undo,
    },
];

async fn app_of(a: &Apps, id: &str) -> Result<AppRow> {
    a.store
        .app_get_by_id(id)
        .await?
        .ok_or_else(|| Error::internal(format!("app {id} vanished during its rollout")))
}

fn version_set<'a>(a: &'a Apps, s: &'a mut Rollout) -> StepFuture<'a> {
    Box::pin(async move {
        let mut app = app_of(a, &s.app_id).await?;
        app.spec = serde_json::to_string(&s.new_spec).map_err(Error::internal)?;
        app.version = s.new_version;
        app.state = "deploying".into();
        app.status_reason = format!("rolling out version {}", s.new_version);
        a.store.app_save(&app).await
    })
}

fn version_restore<'a>(a: &'a Apps, s: &'a Rollout, why: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        let Some(mut app) = a.store.app_get_by_id(&s.app_id).await? else {
            return Ok(());
        };
        app.spec = serde_json::to_string(&s.old_spec).map_err(Error::internal)?;
        app.version = s.old_version;
        app.state = "running".into();
        app.status_reason = format!(
            "the rollout to version {} was rolled back: {why}",
            s.new_version
        );
        a.store.app_save(&app).await?;
        a.event(
            &app.id,
            &app.account_id,
            "rollback",
            &format!(
                "rolled back to version {} ({}): {why}",
                s.old_version, s.old_spec.image
            ),
        )
        .await;
        Ok(())
    })
}

fn replace<'a>(a: &'a Apps, s: &'a mut Rollout) -> StepFuture<'a> {
    Box::pin(async move {
        let app = app_of(a, &s.app_id).await?;
        let old: Vec<_> = a
            .store
            .replica_list(&app.id)
            .await?
            .into_iter()
            .filter(|r| r.version != s.new_version)
            .collect();
        for (i, r_old) in old.iter().enumerate() {
            let id = new_id("r");
            drain(&id, true);
            let made = a.replica_make(&app, &s.new_spec, id.clone()).await;
            let made = match made {
                Ok(m) => m,
                Err(e) => {
                    drain(&id, false);
                    return Err(e);
                }
            };
            let healthy = a.wait_healthy(&app, &made, HEALTHY_WITHIN).await;
            drain(&id, false);
            if !healthy? {
                return Err(Error::Conflict(format!(
                    "new replica {id} of version {} did not pass its health check within {} s",
                    s.new_version,
                    HEALTHY_WITHIN.as_secs()
                )));
            }
            drain(&r_old.id, true);
            a.proxy_sync().await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let removed = a.replica_remove(r_old).await;
            drain(&r_old.id, false);
            removed?;
            a.proxy_sync().await?;
            a.event(
                &app.id,
                &app.account_id,
                "rollout",
                &format!(
                    "replica {}/{}: {} (version {}) replaced {} (version {})",
                    i + 1,
                    old.len(),
                    made.id,
                    s.new_version,
                    r_old.id,
                    r_old.version
                ),
            )
            .await;
        }
        Ok(())
    })
}

fn restore_replicas<'a>(a: &'a Apps, s: &'a Rollout, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        let Some(app) = a.store.app_get_by_id(&s.app_id).await? else {
            return Ok(());
        };
        // The old version back first, then the new one away: the app keeps serving.
        let mut old_app = app.clone();
        old_app.version = s.old_version;
        let rows = a.store.replica_list(&app.id).await?;
        let old_count = rows.iter().filter(|r| r.version != s.new_version).count() as i32;
        for _ in old_count..app.replicas_desired {
            a.replica_make(&old_app, &s.old_spec, new_id("r")).await?;
        }
        a.proxy_sync().await?;
        for r in rows.iter().filter(|r| r.version == s.new_version) {
            drain(&r.id, true);
        }
        a.proxy_sync().await?;
        for r in rows.iter().filter(|r| r.version == s.new_version) {
            let removed = a.replica_remove(r).await;
            drain(&r.id, false);
            removed?;
        }
        // Interfaces and containers of new replicas a crash left without rows.
        a.reconcile_orphans().await?;
        a.proxy_sync().await.map(drop)
    })
}

fn done<'a>(a: &'a Apps, s: &'a mut Rollout) -> StepFuture<'a> {
    Box::pin(async move {
        let mut app = app_of(a, &s.app_id).await?;
        app.state = "running".into();
        app.status_reason = String::new();
        a.store.app_save(&app).await?;
        a.event(
            &app.id,
            &app.account_id,
            "deploy",
            &format!(
                "version {} ({}) rolled out to {} replica(s)",
                s.new_version, s.new_spec.image, app.replicas_desired
            ),
        )
        .await;
        Ok(())
    })
}

impl Apps {
    /// Applies an update: limits in place, anything else as a rollout in the background (follow
    /// it with `GET /v1/apps/{app}` and its events).
    pub async fn app_update(
        &self,
        p: &Principal,
        name: &str,
        req: api::UpdateAppRequest,
    ) -> Result<api::App> {
        self.iam
            .authorize(p, "apps:UpdateApp", &Self::res(p, "app", name))
            .await?;
        let row = self.app_lookup(p, name).await?;
        let old = view::spec_of(&row)?;
        let mut new = old.clone();
        if let Some(v) = req.image {
            new.image = v;
        }
        if let Some(v) = req.command {
            new.command = v;
        }
        if let Some(v) = req.env {
            new.env = v;
        }
        if let Some(v) = req.cpu {
            new.cpu = v;
        }
        if let Some(v) = req.memory_mib {
            new.memory_mib = v;
        }
        api::check_spec(&new).map_err(Error::InvalidRequest)?;
        check_fits_host(&new)?;
        self.image_resolve(&p.account.id, &new.image).await?;
        let replicas = u32::try_from(row.replicas_desired).unwrap_or(0);
        self.quota_for_growth(p, &old, &new, replicas).await?;
        let lock = self.app_lock(&row.id);
        // The reconciler holds the lock for a moment every pass (healing, health checks): wait
        // for it, but not for a rollout or deploy that takes minutes.
        let Ok(guard) = tokio::time::timeout(LOCK_PATIENCE, lock.clone().lock_owned()).await else {
            return Err(Error::Conflict(format!(
                "app '{name}' is being changed (a deploy, scale or rollout); try again when it is running"
            )));
        };
        let mut row = self.app_lookup(p, name).await?;
        let same_program =
            new.image == old.image && new.command == old.command && new.env == old.env;
        if same_program {
            for r in self.store.replica_list(&row.id).await? {
                self.engine
                    .container_update(&r.container, new.cpu, new.memory_mib)
                    .await
                    .map_err(host)?;
            }
            row.spec = serde_json::to_string(&new).map_err(Error::internal)?;
            self.store.app_save(&row).await?;
            self.event(
                &row.id,
                &row.account_id,
                "update",
                &format!(
                    "limits changed in place: cpu {} → {}, memory {} → {} MiB",
                    old.cpu, new.cpu, old.memory_mib, new.memory_mib
                ),
            )
            .await;
            drop(guard);
            return self.app_view(&row).await;
        }
        let state = Rollout {
            app_id: row.id.clone(),
            old_spec: old,
            old_version: row.version,
            new_spec: new,
            new_version: row.version + 1,
        };
        row.state = "deploying".into();
        row.status_reason = format!("rolling out version {}", state.new_version);
        self.store.app_save(&row).await?;
        // The answer names the version being rolled out, so that a client waiting for it can
        // tell it deployed from it rolled back (the saga's first step records it).
        let mut view = self.app_view(&row).await?;
        view.version = state.new_version.max(0) as u32;
        let apps = self.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = apps.platform.sagas.run::<RolloutSaga>(&apps, state).await {
                tracing::warn!(error = %e, "a rollout was rolled back");
            }
        });
        Ok(view)
    }
}
