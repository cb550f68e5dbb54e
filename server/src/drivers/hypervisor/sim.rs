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
}

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
        Ok(())
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
