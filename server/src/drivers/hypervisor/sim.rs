//! The simulated hypervisor: domains in memory, empty files for disks and seeds, so that the
//! compute service (launch, stop, the reconciler) is tested in milliseconds without libvirt.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use super::{Accelerator, DomainSpec, DomainState, Hypervisor};
use crate::drivers::{DriverError, DriverResult};

/// A simulated hypervisor: domains in memory, empty files for disks and seeds.
#[derive(Debug, Default)]
pub struct SimHypervisor {
    pub domains: Mutex<BTreeMap<String, (DomainSpec, DomainState)>>,
    /// When each domain last started: its simulated CPU time grows from there.
    started: Mutex<BTreeMap<String, std::time::Instant>>,
}

/// The share of each vCPU a simulated guest keeps busy.
pub const SIM_CPU_SHARE: f64 = 0.25;

impl SimHypervisor {
    fn set(&self, name: &str, state: DomainState) -> DriverResult<()> {
        let mut d = self.domains.lock().expect("sim domains");
        match d.get_mut(name) {
            Some(entry) => {
                entry.1 = state;
                Ok(())
            }
            None => Err(DriverError(format!("domain {name} does not exist"))),
        }
    }

    /// What a guest powering itself off looks like.
    pub fn power_off_from_inside(&self, name: &str) {
        let _ = self.set(name, DomainState::ShutOff);
    }
}

impl Hypervisor for SimHypervisor {
    fn define_and_start(&self, spec: &DomainSpec) -> DriverResult<()> {
        self.domains
            .lock()
            .expect("sim domains")
            .insert(spec.name.clone(), (spec.clone(), DomainState::Running));
        self.started
            .lock()
            .expect("sim starts")
            .insert(spec.name.clone(), std::time::Instant::now());
        Ok(())
    }

    fn usage(&self, name: &str) -> DriverResult<Option<super::GuestUsage>> {
        let domains = self.domains.lock().expect("sim domains");
        let Some((spec, DomainState::Running)) = domains.get(name) else {
            return Ok(None);
        };
        let since = self.started.lock().expect("sim starts").get(name).copied();
        let elapsed = since.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
        Ok(Some(super::GuestUsage {
            cpu_seconds: elapsed * SIM_CPU_SHARE * f64::from(spec.vcpus),
            memory_mib: spec.memory_mib / 2,
        }))
    }

    fn shutdown(&self, name: &str) -> DriverResult<()> {
        let _ = self.set(name, DomainState::ShutOff);
        Ok(())
    }

    fn destroy(&self, name: &str) -> DriverResult<()> {
        let _ = self.set(name, DomainState::ShutOff);
        Ok(())
    }

    fn undefine(&self, name: &str) -> DriverResult<()> {
        self.domains.lock().expect("sim domains").remove(name);
        Ok(())
    }

    fn reboot(&self, name: &str) -> DriverResult<()> {
        self.set(name, DomainState::Running)
    }

    fn state(&self, name: &str) -> DriverResult<DomainState> {
        Ok(self
            .domains
            .lock()
            .expect("sim domains")
            .get(name)
            .map(|d| d.1)
            .unwrap_or(DomainState::Missing))
    }

    fn list(&self, prefix: &str) -> DriverResult<Vec<String>> {
        Ok(self
            .domains
            .lock()
            .expect("sim domains")
            .keys()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn vcpu_pins(&self, name: &str) -> DriverResult<Vec<u32>> {
        Ok(self
            .domains
            .lock()
            .expect("sim domains")
            .get(name)
            .map(|d| d.0.pinned.clone())
            .unwrap_or_default())
    }

    fn disk_create(&self, path: &Path, _: u64, _: Option<&Path>) -> DriverResult<()> {
        std::fs::write(path, b"").map_err(|e| DriverError(e.to_string()))
    }

    fn seed_create(&self, path: &Path, meta: &str, user: &str) -> DriverResult<()> {
        std::fs::write(path, format!("{meta}\n---\n{user}")).map_err(|e| DriverError(e.to_string()))
    }

    fn probe_accelerator(&self, _: Option<&Path>) -> Accelerator {
        Accelerator::Tcg
    }
}
