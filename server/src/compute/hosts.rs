//! Capacity: what each host holds, and placement through the scheduler.

use nuvem_api::ec2 as api;

use super::{Compute, scheduler};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::Store;
use crate::store::compute::HostRow;

impl Compute {
    // ----------------------------------------------------------------------------------------
    // Capacity

    /// A host with the capacity its instances hold. (A corrupt `pinned_cpus` fails the read in the
    /// store, never becomes an empty list: that would silently hand dedicated cores to someone.)
    pub(super) async fn host_load(&self, host: &HostRow) -> Result<scheduler::HostLoad> {
        host_load(&self.store, host).await
    }

    /// Picks a host for `count` instances of `vcpus`/`memory`, and the cores of each when
    /// dedicated (see [`scheduler::place`]). Called under the placement lock.
    pub(super) async fn place(
        &self,
        count: u32,
        vcpus: u32,
        memory: i64,
        dedicated: bool,
    ) -> Result<(HostRow, Vec<Vec<u32>>)> {
        let hosts = self.store.host_list().await?;
        let mut loads = Vec::with_capacity(hosts.len());
        for h in &hosts {
            loads.push(self.host_load(h).await?);
        }
        let request = scheduler::Request {
            count,
            vcpus,
            millivcpus: 0,
            memory_mib: memory,
            dedicated,
        };
        let placement = scheduler::place(&loads, &request)
            .map_err(|no| Error::InsufficientCapacity(no.to_string()))?;
        let host = hosts
            .into_iter()
            .find(|h| h.id == placement.host_id)
            .ok_or_else(|| Error::internal("the scheduler chose an unknown host"))?;
        Ok((host, placement.cores))
    }

    fn host_view(h: &HostRow, load: &scheduler::HostLoad) -> api::Host {
        api::Host {
            id: h.id.clone(),
            name: h.name.clone(),
            uri: h.uri.clone(),
            cores: h.cores.max(0) as u32,
            memory_mib: h.memory_mib.max(0) as u64,
            cpu_ratio: h.cpu_ratio,
            vcpus_used: load.vcpus_used(),
            vcpus_capacity: load.host.vcpus(),
            memory_used_mib: load.memory_used_mib().max(0) as u64,
            pinned_cores: load.pinned_cores().into_iter().collect(),
            accelerator: h.accelerator.clone(),
            reserved_memory_mib: h.reserved_memory_mib.max(0) as u64,
            vcpus_free: load.vcpus_free(),
            memory_free_mib: load.memory_free_mib() as u64,
        }
    }

    pub async fn host_list(&self, p: &Principal) -> Result<api::HostList> {
        self.iam.require_operator(p, "ec2:DescribeHosts")?;
        self.iam
            .authorize(p, "ec2:DescribeHosts", &Self::res(p, "host", "*"))
            .await?;
        let mut items = Vec::new();
        for h in self.store.host_list().await? {
            let load = self.host_load(&h).await?;
            items.push(Self::host_view(&h, &load));
        }
        Ok(api::HostList { items })
    }

    /// Changes a host's overcommit ratio or reserved memory, live: the scheduler uses them at
    /// the next launch; running instances are never evicted, even when they now exceed it.
    pub async fn host_update(
        &self,
        p: &Principal,
        host: &str,
        req: api::UpdateHostRequest,
    ) -> Result<api::Host> {
        self.iam.require_operator(p, "ec2:ModifyHosts")?;
        self.iam
            .authorize(p, "ec2:ModifyHosts", &Self::res(p, "host", host))
            .await?;
        let _guard = self.lock.lock().await;
        let mut row = self
            .store
            .host_list()
            .await?
            .into_iter()
            .find(|h| h.id == host || h.name == host)
            .ok_or_else(|| Error::not_found("host", host))?;
        if let Some(r) = req.cpu_ratio {
            api::check_cpu_ratio(r).map_err(Error::InvalidRequest)?;
            row.cpu_ratio = r;
        }
        if let Some(m) = req.reserved_memory_mib {
            if m > row.memory_mib.max(0) as u64 {
                return Err(Error::invalid(format!(
                    "reserved_memory_mib {m} is more than the host has ({} MiB)",
                    row.memory_mib
                )));
            }
            row.reserved_memory_mib = m as i64;
        }
        let row = self.store.host_put(row).await?;
        let load = self.host_load(&row).await?;
        tracing::info!(host = %row.id, cpu_ratio = row.cpu_ratio, reserved_memory_mib = row.reserved_memory_mib, vcpus_used = load.vcpus_used(), vcpus_capacity = load.host.vcpus(), "host capacity changed");
        Ok(Self::host_view(&row, &load))
    }
}

/// A host with the capacity its instances and (on the local host) the app replicas hold: VMs
/// and containers share one accounting. (A corrupt `pinned_cpus` fails the read in the store,
/// never becomes an empty list: that would silently hand dedicated cores to someone.)
pub async fn host_load(store: &Store, host: &HostRow) -> Result<scheduler::HostLoad> {
    let mut reservations = Vec::new();
    for i in store.instance_list_active_on_host(&host.id).await? {
        let pinned_cores = i.pinned_cpus.0;
        reservations.push(scheduler::Reservation {
            vcpus: i.vcpus.max(0) as u32,
            millivcpus: 0,
            memory_mib: i.memory_mib,
            pinned_cores,
        });
    }
    if host.id == crate::apps::capacity::APPS_HOST_ID {
        reservations.extend(crate::apps::capacity::replica_reservations(store).await?);
    }
    Ok(scheduler::HostLoad {
        host: scheduler::HostCapacity {
            id: host.id.clone(),
            name: host.name.clone(),
            cores: host.cores.max(0) as u32,
            cpu_ratio: host.cpu_ratio,
            memory_mib: host.memory_mib,
            reserved_memory_mib: host.reserved_memory_mib,
        },
        reservations,
    })
}
