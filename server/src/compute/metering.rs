//! What compute tells metering: the instances that accrue now, what their guests use (libvirt's
//! CPU time and resident memory), and stopping an account's instances at a budget's hard limit.

use futures_util::future::BoxFuture;
use nuvem_api::ec2::InstanceState;

use super::Compute;
use crate::error::Result;
use crate::usage::{Dimensions, Inventory, Metered, Used};

fn dimensions(row: &crate::store::compute::InstanceRow) -> Dimensions {
    Dimensions {
        vcpus: row.vcpus.max(0) as u32,
        memory_mib: row.memory_mib.max(0) as u64,
        disk_gib: row.disk_gib.max(0) as u64,
        sku: Some(row.instance_type.clone()),
        ..Default::default()
    }
}

impl Inventory for Compute {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn metered(&self) -> BoxFuture<'_, Result<(Vec<Metered>, Vec<String>)>> {
        Box::pin(async move {
            let busy = self.busy.lock().expect("busy").clone();
            let mut now = Vec::new();
            let mut moving = Vec::new();
            for row in self.store.instance_list_live().await? {
                let settled = !busy.contains(&row.id)
                    && matches!(
                        row.state.get(),
                        InstanceState::Running | InstanceState::Stopping | InstanceState::Stopped
                    );
                // Never launched: nothing accrues (a failed launch leaves no usage).
                if row.launched_at.is_none() {
                    moving.push(row.id.clone());
                    continue;
                }
                if !settled {
                    moving.push(row.id.clone());
                    continue;
                }
                now.push(Metered {
                    account_id: row.account_id.clone(),
                    service: "ec2",
                    resource_type: "instance",
                    resource_id: row.id.clone(),
                    running: row.state != InstanceState::Stopped,
                    dimensions: dimensions(&row),
                });
            }
            Ok((now, moving))
        })
    }

    fn used(&self) -> BoxFuture<'_, Result<Vec<Used>>> {
        Box::pin(async move {
            let rows: Vec<_> = self
                .store
                .instance_list_live()
                .await?
                .into_iter()
                .filter(|r| r.state == InstanceState::Running)
                .collect();
            let names: Vec<(String, String, String)> = rows
                .iter()
                .map(|r| (r.account_id.clone(), r.id.clone(), self.domain_name(&r.id)))
                .collect();
            // One blocking call for all of them: one trip to libvirt's thread.
            self.blocking(move |hv| {
                let mut out = Vec::new();
                for (account_id, id, name) in names {
                    if let Ok(Some(u)) = hv.usage(&name) {
                        out.push(Used {
                            account_id,
                            resource_id: id,
                            cpu_seconds_total: u.cpu_seconds,
                            memory_mib: u.memory_mib,
                        });
                    }
                }
                Ok(out)
            })
            .await
        })
    }

    fn stop_account<'a>(
        &'a self,
        account_id: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut stopped = Vec::new();
            for row in self.store.instance_list_live().await? {
                if row.account_id != account_id || row.state != InstanceState::Running {
                    continue;
                }
                // One already in an operation is left to it; the next check stops it.
                if self.mark_busy(&row.id).is_err() {
                    continue;
                }
                let id = row.id.clone();
                self.begin_stop(row, "stopping: the budget's hard limit was reached", reason)
                    .await?;
                stopped.push(id);
            }
            Ok(stopped)
        })
    }
}
