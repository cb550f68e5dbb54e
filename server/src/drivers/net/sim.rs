//! A simulated host network with the same trait as the real one: it records what would exist, so
//! that service logic (validation, allocation, unwinding) is unit-tested in milliseconds. The real
//! driver is tested against the kernel in `server/tests/api/vpc_kernel.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::{BridgeSpec, DhcpSpec, HostNetwork, NetnsPlug};
use crate::drivers::{DriverError, DriverResult};
use crate::netspec::{Cidr, Naming, Ruleset};

#[derive(Debug, Default, Clone)]
pub struct SimState {
    pub links: BTreeSet<String>,
    pub bridges: BTreeMap<String, BridgeSpec>,
    pub dhcp: BTreeMap<String, DhcpSpec>,
    pub rules: Ruleset,
    pub applies: u64,
}

#[derive(Debug, Default)]
pub struct SimNetwork {
    pub state: Mutex<SimState>,
    /// Operations that fail from now on (`bridge_ensure`, `dhcp_ensure`, `firewall_apply`), to
    /// test that a change failing halfway is unwound.
    pub failing: Mutex<BTreeSet<&'static str>>,
}

impl SimNetwork {
    pub fn snapshot(&self) -> SimState {
        self.state.lock().expect("sim state").clone()
    }

    pub fn fail(&self, op: &'static str, failing: bool) {
        let mut f = self.failing.lock().expect("sim failures");
        if failing {
            f.insert(op);
        } else {
            f.remove(op);
        }
    }

    fn check(&self, op: &'static str) -> DriverResult<()> {
        if self.failing.lock().expect("sim failures").contains(op) {
            return Err(DriverError(format!("simulated failure of {op}")));
        }
        Ok(())
    }
}

impl HostNetwork for SimNetwork {
    fn prepare(&self) -> DriverResult<()> {
        Ok(())
    }

    fn links(&self, prefix: &str) -> DriverResult<Vec<String>> {
        let s = self.state.lock().expect("sim state");
        Ok(s.links
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn bridge_ensure(&self, spec: &BridgeSpec) -> DriverResult<bool> {
        self.check("bridge_ensure")?;
        let mut s = self.state.lock().expect("sim state");
        let created = s.links.insert(spec.name.clone());
        s.bridges.insert(spec.name.clone(), spec.clone());
        Ok(created)
    }

    fn link_delete(&self, name: &str) -> DriverResult<()> {
        let mut s = self.state.lock().expect("sim state");
        s.links.remove(name);
        s.bridges.remove(name);
        Ok(())
    }

    fn dhcp_ensure(&self, spec: &DhcpSpec) -> DriverResult<bool> {
        self.check("dhcp_ensure")?;
        let mut s = self.state.lock().expect("sim state");
        Ok(s.dhcp
            .insert(spec.subnet_id.clone(), spec.clone())
            .is_none())
    }

    fn dhcp_list(&self) -> DriverResult<Vec<String>> {
        Ok(self
            .state
            .lock()
            .expect("sim state")
            .dhcp
            .keys()
            .cloned()
            .collect())
    }

    fn dhcp_stop(&self, subnet_id: &str) -> DriverResult<()> {
        self.state.lock().expect("sim state").dhcp.remove(subnet_id);
        Ok(())
    }

    fn firewall_apply(&self, rules: &Ruleset, _: &Naming, empty: bool) -> DriverResult<()> {
        self.check("firewall_apply")?;
        let mut s = self.state.lock().expect("sim state");
        s.rules = if empty {
            Ruleset::default()
        } else {
            rules.clone()
        };
        s.applies += 1;
        Ok(())
    }

    fn firewall_dump(&self, _: &Naming) -> DriverResult<Vec<String>> {
        let s = self.state.lock().expect("sim state");
        Ok(s.rules
            .filter
            .rules
            .iter()
            .chain(&s.rules.nat.rules)
            .cloned()
            .collect())
    }

    fn host_networks(&self) -> DriverResult<Vec<(String, Cidr)>> {
        let s = self.state.lock().expect("sim state");
        Ok(s.bridges
            .values()
            .map(|b| (b.name.clone(), Cidr::new(u32::from(b.gateway), b.prefix)))
            .collect())
    }

    fn plug_process(&self, plug: &NetnsPlug, _pid: u32) -> DriverResult<()> {
        self.plug_netns(plug)
    }

    fn plug_netns(&self, plug: &NetnsPlug) -> DriverResult<()> {
        self.state
            .lock()
            .expect("sim state")
            .links
            .insert(plug.device.clone());
        Ok(())
    }
}
