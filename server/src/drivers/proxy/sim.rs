//! A simulated proxy: remembers the frontends it serves; every target reports `UP`.

use std::sync::Mutex;

use super::{Frontend, LoadBalancerProxy, ServerStats};
use crate::drivers::DriverResult;

#[derive(Debug, Default)]
pub struct SimProxy {
    frontends: Mutex<Vec<Frontend>>,
}

impl SimProxy {
    pub fn frontends(&self) -> Vec<Frontend> {
        self.frontends
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl LoadBalancerProxy for SimProxy {
    fn apply(&self, frontends: &[Frontend]) -> DriverResult<bool> {
        let mut held = self.frontends.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *held != frontends;
        *held = frontends.to_vec();
        Ok(changed)
    }

    fn stats(&self) -> DriverResult<Vec<ServerStats>> {
        Ok(self
            .frontends()
            .iter()
            .flat_map(|f| {
                f.backends.iter().map(|b| ServerStats {
                    frontend: f.id.clone(),
                    server: b.name.clone(),
                    status: "UP".into(),
                    ..Default::default()
                })
            })
            .collect())
    }

    fn port_free(&self, _address: std::net::Ipv4Addr, _port: u16) -> bool {
        true
    }
}
