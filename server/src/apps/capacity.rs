//! App replicas hold host capacity as instances do: each replica reserves its CPU limit (a
//! fraction of a vCPU: 0.5 is half of one, overcommitted by the host's ratio like a VM's vCPUs)
//! and its memory limit on the local host, in the one accounting the compute scheduler places
//! VMs with. A VM launch sees the replicas, and a deploy or
//! scale-up that would overfill the host is refused with the same words as a launch.

use super::{Apps, view};
use crate::compute::scheduler::{self, Reservation};
use crate::error::{Error, Result};
use crate::store::Store;

/// The host app containers run on: the machine Nuvem runs on.
pub use crate::compute::LOCAL_HOST_ID as APPS_HOST_ID;

/// Thousandths of a vCPU a replica limited to `cpu` reserves.
pub fn millivcpus_of(cpu: f64) -> u32 {
    (cpu * 1000.0).ceil().max(1.0) as u32
}

/// What every app replica holds on the local host.
pub async fn replica_reservations(store: &Store) -> Result<Vec<Reservation>> {
    let apps = store.app_list_all().await?;
    let mut out = Vec::new();
    for r in store.replica_list_all().await? {
        let Some(app) = apps.iter().find(|a| a.id == r.app_id) else {
            continue;
        };
        let spec = view::spec_of(app)?;
        out.push(Reservation {
            vcpus: 0,
            millivcpus: millivcpus_of(spec.cpu),
            memory_mib: i64::from(spec.memory_mib),
            pinned_cores: Vec::new(),
        });
    }
    Ok(out)
}

impl Apps {
    /// Refuses `n` more replicas of `cpu`/`memory_mib` when the host has no room for them next
    /// to its instances and the other replicas (InsufficientCapacity, saying what is used).
    pub(super) async fn host_room_for(&self, n: u32, cpu: f64, memory_mib: u32) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let Some(host) = self
            .store
            .host_list()
            .await?
            .into_iter()
            .find(|h| h.id == APPS_HOST_ID)
        else {
            // Without compute there is no host row, and nothing else to share it with.
            return Ok(());
        };
        let load = crate::compute::host_load(&self.store, &host).await?;
        let request = scheduler::Request {
            count: n,
            vcpus: 0,
            millivcpus: millivcpus_of(cpu),
            memory_mib: i64::from(memory_mib),
            dedicated: false,
        };
        scheduler::place(&[load], &request)
            .map(drop)
            .map_err(|no| Error::InsufficientCapacity(no.to_string()))
    }
}
