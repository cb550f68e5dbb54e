//! Capacity: what each host holds, and placement through the scheduler.

use nuvem_api::ec2 as api;

use super::{Compute, scheduler};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::compute::HostRow;

impl Compute {
    // ----------------------------------------------------------------------------------------
    // Capacity

    /// A host with the capacity its instances hold. (A corrupt `pinned_cpus` fails the read in the
    /// store, never becomes an empty list: that would silently hand dedicated cores to someone.)
    pub(super) async fn host_load(&self, host: &HostRow) -> Result<scheduler::HostLoad> {
        let mut reservations = Vec::new();
        for i in self.store.instance_list_active_on_host(&host.id).await? {
            let pinned_cores = i.pinned_cpus.0;
            reservations.push(scheduler::Reservation {
                vcpus: i.vcpus.max(0) as u32,
                memory_mib: i.memory_mib,
                pinned_cores,
            });
        }
        Ok(scheduler::HostLoad {
            host: scheduler::HostCapacity {
                id: host.id.clone(),
                name: host.name.clone(),
                cores: host.cores.max(0) as u32,
                cpu_ratio: host.cpu_ratio,
                memory_mib: host.memory_mib,
            },
            reservations,
        })
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

    pub async fn host_list(&self, p: &Principal) -> Result<api::HostList> {
        self.iam.require_operator(p, "ec2:DescribeHosts")?;
        self.iam
            .authorize(p, "ec2:DescribeHosts", &Self::res(p, "host", "*"))
            .await?;
        let mut items = Vec::new();
        for h in self.store.host_list().await? {
            let load = self.host_load(&h).await?;
            let (used, mem, pinned) = (
                load.vcpus_used(),
                load.memory_used_mib(),
                load.pinned_cores(),
            );
            items.push(api::Host {
                id: h.id.clone(),
                name: h.name.clone(),
                uri: h.uri.clone(),
                cores: h.cores as u32,
                memory_mib: h.memory_mib as u64,
                cpu_ratio: h.cpu_ratio,
                vcpus_used: used,
                vcpus_capacity: load.host.vcpus(),
                memory_used_mib: mem as u64,
                pinned_cores: pinned.into_iter().collect(),
                accelerator: h.accelerator.clone(),
            });
        }
        Ok(api::HostList { items })
    }
}
