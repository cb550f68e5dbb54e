//! The compute service's reconciler: instances in the database against domains in libvirt
//! (registered with the driver in `reconcile/`).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::BoxFuture;
use nuvem_api::ec2::InstanceState;

use super::Compute;
use super::launch::LaunchSaga;
use crate::drivers::hypervisor::DomainState;
use crate::error::Result;
use crate::reconcile::Reconciler;
use crate::store::column::CoreList;
use crate::usage::Change;

/// Guests power off, crash or vanish by themselves: follow them within seconds.
const PERIOD: Duration = Duration::from_secs(5);

impl Reconciler for Compute {
    fn name(&self) -> &'static str {
        "compute"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            // Tearing down (tests, uninstall): leave the hypervisor alone.
            if self.stopped.load(Ordering::Relaxed) {
                return Ok(Vec::new());
            }
            Compute::reconcile(self).await
        })
    }
}

impl Compute {
    // ----------------------------------------------------------------------------------------
    // Reconciliation: the database against the hypervisor

    /// Unwinds launches a crash interrupted, follows what guests did by themselves (a guest that
    /// powers off becomes stopped), and removes domains of this server the database does not know.
    /// Returns what it fixed, one line each.
    pub async fn reconcile(&self) -> Result<Vec<String>> {
        let live = self.store.instance_list_live().await?;
        let busy: HashSet<String> = self.busy.lock().expect("busy").clone();
        let mut known = HashSet::new();
        let mut fixed = Vec::new();
        for mut row in live {
            let name = self.domain_name(&row.id);
            known.insert(name.clone());
            if busy.contains(&row.id) {
                continue;
            }
            let n = name.clone();
            let st = self.blocking(move |hv| hv.state(&n)).await?;
            match row.state.get() {
                // A launch in the saga log is the saga reconciler's to unwind.
                InstanceState::Pending
                    if self
                        .sagas
                        .unfinished_for(&LaunchSaga::resource_of(&row.id))
                        .await? => {}
                InstanceState::Pending if st == DomainState::Running => {
                    // A start (not a launch) the server did not see finish.
                    row.state = InstanceState::Running.into();
                    self.store.instance_save(&mut row).await?;
                    self.report(&row, Change::Started).await;
                    fixed.push(format!("{}: running (its guest was up)", row.id));
                }
                InstanceState::Pending if row.launched_at.is_none() => {
                    // The server stopped between writing the reservation and starting its saga.
                    let reason = "launch interrupted: the server stopped during the launch";
                    self.teardown(&mut row, reason).await?;
                    tracing::warn!(instance = %row.id, reason, "unwound an interrupted launch");
                    fixed.push(format!("{}: unwound ({reason})", row.id));
                }
                InstanceState::ShuttingDown => {
                    self.teardown(&mut row, "User initiated").await?;
                    fixed.push(format!("{}: finished terminating", row.id));
                }
                InstanceState::Running | InstanceState::Stopping => {
                    let reason = match st {
                        DomainState::ShutOff => {
                            Some("Client.InstanceInitiatedShutdown: the guest powered itself off")
                        }
                        DomainState::Crashed => Some("Server.InternalError: the guest crashed"),
                        DomainState::Missing => {
                            Some("Server.InternalError: the domain disappeared from the hypervisor")
                        }
                        _ => None,
                    };
                    if let Some(reason) = reason.filter(|_| {
                        row.state == InstanceState::Running || st != DomainState::Running
                    }) {
                        let n = name.clone();
                        self.blocking(move |hv| hv.destroy(&n)).await?;
                        let was_running = row.state == InstanceState::Running;
                        row.state = InstanceState::Stopped.into();
                        row.state_reason = reason.into();
                        row.pinned_cpus = CoreList::default();
                        self.store.instance_save(&mut row).await?;
                        if was_running {
                            self.report(&row, Change::Stopped).await;
                        }
                        fixed.push(format!("{}: stopped ({reason})", row.id));
                    }
                }
                InstanceState::Stopped if st == DomainState::Running => {
                    row.state = InstanceState::Running.into();
                    row.state_reason = "started outside Nuvem".into();
                    self.store.instance_save(&mut row).await?;
                    self.report(&row, Change::Started).await;
                    fixed.push(format!("{}: running (started outside Nuvem)", row.id));
                }
                _ => {}
            }
        }
        let prefix = self.domain_prefix.clone();
        let domains = self.blocking(move |hv| hv.list(&prefix)).await?;
        for d in domains.into_iter().filter(|d| !known.contains(d)) {
            tracing::warn!(domain = %d, "removing a domain this server does not know");
            fixed.push(format!("removed domain {d}, which no instance explains"));
            self.blocking(move |hv| {
                hv.destroy(&d)?;
                hv.undefine(&d)
            })
            .await?;
        }
        Ok(fixed)
    }

    /// Removes every domain of this server from the hypervisor (its database stays): for tests.
    pub fn teardown_host_blocking(&self) -> crate::drivers::DriverResult<()> {
        self.shutdown();
        for d in self.hv.list(&self.domain_prefix)? {
            self.hv.destroy(&d)?;
            self.hv.undefine(&d)?;
        }
        Ok(())
    }

    /// The cores libvirt pinned an instance's vCPUs to.
    pub async fn pins_reported(&self, id: &str) -> Result<Vec<u32>> {
        let name = self.domain_name(id);
        self.blocking(move |hv| hv.vcpu_pins(&name)).await
    }
}
