//! One replica: an interface in the app's subnet, a container made without a network, started,
//! and the interface plugged into its network namespace. Each step is undone when a later one
//! fails; what a crash leaves between steps carries the app's name (the container's labels, the
//! interface's `attached_to`), so the reconciler finds and removes it.

use std::collections::BTreeMap;

use chrono::Utc;
use nuvem_api::apps::AppSpec;
use rand::Rng;

use super::{Apps, OWNER, host, view};
use crate::drivers::containers::{ContainerSpec, OWNER_LABEL};
use crate::error::{Error, Result};
use crate::store::apps::{AppRow, ReplicaRow};

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::thread_rng().r#gen::<u32>())
}

/// What an app's interfaces are attached to: `app/<app id>/<replica id>`.
pub fn attached_to(app_id: &str, replica_id: &str) -> String {
    format!("app/{app_id}/{replica_id}")
}

pub fn attached_prefix(app_id: &str) -> String {
    format!("app/{app_id}/")
}

/// The label that names the app a container belongs to.
pub const APP_LABEL: &str = "nuvem.app";
pub const REPLICA_LABEL: &str = "nuvem.replica";
/// The label naming the installation (its network cell): two Nuvem servers sharing one dockerd
/// (a test beside a real one) never take each other's containers for orphans.
pub const CELL_LABEL: &str = "nuvem.cell";

impl Apps {
    /// The container of replica `replica` at `private_ip`.
    async fn container_spec(
        &self,
        app: &AppRow,
        spec: &AppSpec,
        image: &str,
        name: &str,
        replica: &str,
        private_ip: &str,
    ) -> Result<ContainerSpec> {
        let gateway = self
            .vpc
            .subnet_gateway(&app.account_id, &app.subnet_id)
            .await?;
        Ok(ContainerSpec {
            name: name.to_owned(),
            image: image.to_owned(),
            command: spec.command.clone(),
            env: spec.env.clone(),
            labels: BTreeMap::from([
                (OWNER_LABEL.to_owned(), OWNER.to_owned()),
                (CELL_LABEL.to_owned(), self.vpc.naming().cell().to_owned()),
                (APP_LABEL.to_owned(), app.id.clone()),
                (REPLICA_LABEL.to_owned(), replica.to_owned()),
                ("nuvem.account".to_owned(), app.account_id.clone()),
                ("nuvem.version".to_owned(), app.version.to_string()),
            ]),
            cpu: spec.cpu,
            memory_mib: spec.memory_mib,
            hostname: replica.to_owned(),
            extra_hosts: vec![format!("{replica}:{private_ip}")],
            dns: vec![gateway.to_string()],
        })
    }

    /// Starts the container and plugs its interface into the new network namespace.
    async fn start_and_plug(&self, account_id: &str, container: &str, eni: &str) -> Result<()> {
        self.engine.container_start(container).await.map_err(host)?;
        let info = self
            .engine
            .container_inspect(container)
            .await
            .map_err(host)?
            .ok_or_else(|| Error::internal(format!("container {container} vanished at start")))?;
        if info.pid == 0 {
            return Err(Error::invalid(format!(
                "the container {container} exited right after it started (exit code {}); see cloudctl app logs",
                info.exit_code
            )));
        }
        self.vpc
            .interface_plug_process(account_id, eni, info.pid)
            .await
    }

    /// Makes replica `id` (from [`new_id`]) of `app` at the app's version, running `spec`.
    pub(super) async fn replica_make(
        &self,
        app: &AppRow,
        spec: &AppSpec,
        id: String,
    ) -> Result<ReplicaRow> {
        let image = self.image_resolve(&app.account_id, &spec.image).await?;
        let groups = view::groups_of(app)?;
        let eni = self
            .vpc
            .interface_create_in(
                &app.account_id,
                &app.subnet_id,
                &groups,
                &attached_to(&app.id, &id),
                &format!("app {} replica {id}", app.name),
            )
            .await?;
        let container = format!("nv-{}-{id}", app.name);
        let made = async {
            self.engine
                .container_create(
                    &self
                        .container_spec(app, spec, &image, &container, &id, &eni.private_ip)
                        .await?,
                )
                .await
                .map_err(host)?;
            self.start_and_plug(&app.account_id, &container, &eni.id)
                .await?;
            self.store
                .replica_create(ReplicaRow {
                    id: id.clone(),
                    app_id: app.id.clone(),
                    account_id: app.account_id.clone(),
                    version: app.version,
                    container: container.clone(),
                    interface_id: eni.id.clone(),
                    private_ip: eni.private_ip.clone(),
                    restarts: 0,
                    health: "unknown".into(),
                    created_at: Utc::now(),
                })
                .await
        }
        .await;
        match made {
            Ok(row) => Ok(row),
            Err(e) => {
                if let Err(undo) = self.engine.container_remove(&container).await {
                    tracing::warn!(%container, error = %undo, "cannot remove a half-made replica's container; the reconciler will");
                }
                if let Err(undo) = self.vpc.interface_release(&app.account_id, &eni.id).await {
                    tracing::warn!(interface = %eni.id, error = %undo, "cannot release a half-made replica's interface; the reconciler will");
                }
                Err(e)
            }
        }
    }

    /// Removes a replica: its container, its interface, its row. Missing parts are fine.
    pub(super) async fn replica_remove(&self, r: &ReplicaRow) -> Result<()> {
        self.engine
            .container_remove(&r.container)
            .await
            .map_err(host)?;
        self.vpc
            .interface_release(&r.account_id, &r.interface_id)
            .await?;
        self.store.replica_delete(&r.id).await?;
        self.streaks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&r.id);
        Ok(())
    }

    /// Starts a dead replica's container again and plugs its interface into the new namespace.
    pub(super) async fn replica_restart(&self, r: &ReplicaRow) -> Result<()> {
        self.start_and_plug(&r.account_id, &r.container, &r.interface_id)
            .await?;
        self.store
            .replica_count_restart(&r.id, r.restarts + 1)
            .await
    }

    /// Makes a replica's container again (it was removed behind Nuvem's back), same name and
    /// interface.
    pub(super) async fn replica_recreate(
        &self,
        app: &AppRow,
        spec: &AppSpec,
        r: &ReplicaRow,
    ) -> Result<()> {
        let image = self.image_resolve(&app.account_id, &spec.image).await?;
        self.engine
            .container_create(
                &self
                    .container_spec(app, spec, &image, &r.container, &r.id, &r.private_ip)
                    .await?,
            )
            .await
            .map_err(host)?;
        self.start_and_plug(&r.account_id, &r.container, &r.interface_id)
            .await
    }

    /// Removes every container and interface of an app, rows or not (a delete, an unwound
    /// create, the orphans of a crash).
    pub(super) async fn replicas_remove_all(&self, account_id: &str, app_id: &str) -> Result<()> {
        let label = format!("{APP_LABEL}={app_id}");
        for c in self.engine.container_list(&label).await.map_err(host)? {
            self.engine.container_remove(&c.name).await.map_err(host)?;
        }
        for (eni, _) in self
            .vpc
            .interfaces_attached_with(account_id, &attached_prefix(app_id))
            .await?
        {
            self.vpc.interface_release(account_id, &eni).await?;
        }
        for r in self.store.replica_list(app_id).await? {
            self.store.replica_delete(&r.id).await?;
        }
        Ok(())
    }
}
