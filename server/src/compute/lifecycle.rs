//! Stop, start, reboot, terminate, console output: operations on existing instances.

use std::time::Duration;

use chrono::Utc;
use nuvem_api::ec2::{self as api, InstanceState};

use super::{Compute, STOP_GRACE};
use crate::drivers::hypervisor::DomainState;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::column::CoreList;
use crate::store::compute::InstanceRow;
use crate::usage::Change;

impl Compute {
    pub(super) fn mark_busy(&self, id: &str) -> Result<()> {
        if !self.busy.lock().expect("busy").insert(id.to_owned()) {
            return Err(Error::Conflict(format!(
                "instance {id} is busy with another operation; try again shortly"
            )));
        }
        Ok(())
    }

    pub(super) fn spawn_op<F>(&self, id: String, f: F)
    where
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        let busy = self.busy.clone();
        tokio::spawn(async move {
            if let Err(e) = f.await {
                tracing::error!(instance = %id, error = %e, "instance operation failed");
            }
            busy.lock().expect("busy").remove(&id);
        });
    }

    pub async fn instance_stop(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:StopInstances", &Self::res(p, "instance", id))
            .await?;
        let row = self.instance_lookup(p, id).await?;
        match row.state.get() {
            InstanceState::Running => {}
            InstanceState::Stopped | InstanceState::Stopping => return self.view(&row).await,
            other => {
                return Err(Error::Conflict(format!(
                    "instance {id} is {other}; only a running instance can be stopped"
                )));
            }
        }
        self.mark_busy(id)?;
        self.begin_stop(row, "stop requested", "User initiated")
            .await
    }

    /// Marks a running instance stopping (the caller made it busy) and powers it off in the
    /// background, leaving `reason` as its state reason once stopped.
    pub(super) async fn begin_stop(
        &self,
        mut row: InstanceRow,
        while_stopping: &str,
        reason: &str,
    ) -> Result<api::Instance> {
        let id = row.id.clone();
        row.state = InstanceState::Stopping.into();
        row.state_reason = while_stopping.into();
        if let Err(e) = self.store.instance_save(&mut row).await {
            self.busy.lock().expect("busy").remove(&id);
            return Err(e);
        }
        let me = self.clone();
        let view = self.view(&row).await?;
        let reason = reason.to_owned();
        self.spawn_op(id, async move {
            let name = me.domain_name(&row.id);
            let n = name.clone();
            me.blocking(move |hv| hv.shutdown(&n)).await?;
            let deadline = tokio::time::Instant::now() + STOP_GRACE;
            loop {
                let n = name.clone();
                let st = me.blocking(move |hv| hv.state(&n)).await?;
                if matches!(st, DomainState::ShutOff | DomainState::Missing) {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    let n = name.clone();
                    me.blocking(move |hv| hv.destroy(&n)).await?;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            row.state = InstanceState::Stopped.into();
            row.state_reason = reason;
            row.pinned_cpus = CoreList::default();
            me.store.instance_save(&mut row).await?;
            // Stopped is what callers wait for: a start right after must not find it busy while
            // the usage event is written.
            me.busy.lock().expect("busy").remove(&row.id);
            me.report(&row, Change::Stopped).await;
            Ok(())
        });
        Ok(view)
    }

    pub async fn instance_start(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:StartInstances", &Self::res(p, "instance", id))
            .await?;
        let mut row = self.instance_lookup(p, id).await?;
        match row.state.get() {
            InstanceState::Stopped => {}
            InstanceState::Running | InstanceState::Pending => return self.view(&row).await,
            other => {
                return Err(Error::Conflict(format!(
                    "instance {id} is {other}; only a stopped instance can be started"
                )));
            }
        }
        let image = self
            .store
            .image_get(&row.image_id)
            .await?
            .ok_or_else(|| Error::internal("the instance's image is gone"))?;
        self.mark_busy(id)?;
        let placed = async {
            let _guard = self.lock.lock().await;
            // A stopped instance released its capacity: starting it takes quota again.
            self.iam
                .quota_check(
                    p,
                    &[
                        ("vcpus", row.vcpus.max(0) as u64),
                        ("memory_mib", row.memory_mib.max(0) as u64),
                    ],
                )
                .await?;
            let (host, pins) = self
                .place(1, row.vcpus as u32, row.memory_mib, row.dedicated)
                .await?;
            row.host_id = host.id;
            row.pinned_cpus = CoreList(pins[0].clone());
            row.state = InstanceState::Pending.into();
            row.state_reason = "starting".into();
            self.store.instance_save(&mut row).await
        }
        .await;
        if let Err(e) = placed {
            self.busy.lock().expect("busy").remove(id);
            return Err(e);
        }
        let view = self.view(&row).await?;
        let me = self.clone();
        self.spawn_op(id.to_owned(), async move {
            let started = async {
                let accel = me.accelerator().await?;
                let spec = me.domain_spec(&row, &image, accel).await?;
                me.blocking(move |hv| hv.define_and_start(&spec)).await?;
                row.accelerator = accel.as_str().into();
                Ok::<_, Error>(())
            }
            .await;
            let ok = started.is_ok();
            match started {
                Ok(()) => {
                    row.state = InstanceState::Running.into();
                    row.state_reason = String::new();
                    row.launched_at = Some(Utc::now());
                }
                Err(e) => {
                    row.state = InstanceState::Stopped.into();
                    row.state_reason = format!("start failed: {e}");
                    row.pinned_cpus = CoreList::default();
                }
            }
            me.store.instance_save(&mut row).await?;
            me.busy.lock().expect("busy").remove(&row.id);
            if ok {
                me.report(&row, Change::Started).await;
            }
            Ok(())
        });
        Ok(view)
    }

    pub async fn instance_reboot(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:RebootInstances", &Self::res(p, "instance", id))
            .await?;
        let row = self.instance_lookup(p, id).await?;
        if row.state != InstanceState::Running {
            return Err(Error::Conflict(format!(
                "instance {id} is {}; only a running instance can be rebooted",
                row.state
            )));
        }
        let name = self.domain_name(id);
        self.blocking(move |hv| hv.reboot(&name)).await?;
        self.view(&row).await
    }

    pub async fn instance_terminate(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:TerminateInstances", &Self::res(p, "instance", id))
            .await?;
        let mut row = self.instance_lookup(p, id).await?;
        if matches!(
            row.state.get(),
            InstanceState::Terminated | InstanceState::ShuttingDown
        ) {
            return self.view(&row).await;
        }
        self.mark_busy(id)?;
        row.state = InstanceState::ShuttingDown.into();
        row.state_reason = "User initiated".into();
        self.store.instance_save(&mut row).await?;
        let view = self.view(&row).await?;
        let me = self.clone();
        self.spawn_op(id.to_owned(), async move {
            me.teardown(&mut row, "User initiated").await
        });
        Ok(view)
    }

    pub async fn console_output(&self, p: &Principal, id: &str) -> Result<api::ConsoleOutput> {
        self.iam
            .authorize(p, "ec2:GetConsoleOutput", &Self::res(p, "instance", id))
            .await?;
        let row = self.instance_lookup(p, id).await?;
        let bytes =
            std::fs::read(self.instance_dir(&row.id).join("console.log")).unwrap_or_default();
        const MAX: usize = 64 * 1024;
        let truncated = bytes.len() > MAX;
        let tail = &bytes[bytes.len().saturating_sub(MAX)..];
        Ok(api::ConsoleOutput {
            instance_id: row.id,
            output: String::from_utf8_lossy(tail).into_owned(),
            truncated,
        })
    }

    /// Terminates every instance of an account at once (the account is being deleted).
    pub async fn account_purge(&self, account_id: &str) -> Result<()> {
        for mut row in self.store.instance_list(account_id).await? {
            if row.state != InstanceState::Terminated {
                self.teardown(&mut row, "the account was deleted").await?;
            }
        }
        Ok(())
    }
}
