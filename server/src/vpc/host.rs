//! The host: desired state (the database) made actual — bridges, DHCP, the firewall.

use std::collections::BTreeSet;
use std::time::Instant;

use nuvem_api::vpc as api;

use super::Vpc;
use crate::drivers::net::{BridgeSpec, DhcpSpec};
use crate::error::{Error, Result};
use crate::netspec::{self, Cidr, cidr};

impl Vpc {
    // The host: desired state (database) → actual state

    /// Makes the host match the database: bridges, DHCP servers, interface devices, firewall.
    /// Removes what this server owns on the host that the database does not explain.
    pub async fn reconcile(&self) -> Result<api::ReconcileReport> {
        let started = Instant::now();
        let snap = self.snapshot().await?;
        let naming = self.naming.clone();
        let mut report = self
            .blocking(move |net| {
                let mut report = api::ReconcileReport::default();
                net.prepare()?;
                let mut desired = BTreeSet::new();
                for s in &snap.subnets {
                    let c = s.cidr;
                    let spec = BridgeSpec {
                        name: naming.bridge(&s.id),
                        gateway: cidr::gateway(c),
                        prefix: c.prefix(),
                    };
                    if net.bridge_ensure(&spec)? {
                        // A dnsmasq bound to a bridge that vanished (a crash, a reboot) serves
                        // nothing on the new one: start the subnet's DHCP afresh.
                        net.dhcp_stop(&s.id)?;
                        report.bridges_created.push(spec.name.clone());
                    }
                    desired.insert(spec.name.clone());
                    let hosts = snap
                        .interfaces
                        .iter()
                        .filter(|e| e.subnet_id == s.id)
                        .map(|e| (e.mac.clone(), e.ip.to_string(), e.id.clone()))
                        .collect();
                    let dhcp = DhcpSpec {
                        subnet_id: s.id.clone(),
                        bridge: spec.name,
                        subnet: c,
                        gateway: cidr::gateway(c),
                        hosts,
                    };
                    if net.dhcp_ensure(&dhcp)? {
                        report.dhcp_started.push(s.id.clone());
                    }
                }
                let subnet_ids: BTreeSet<&str> =
                    snap.subnets.iter().map(|s| s.id.as_str()).collect();
                for id in net.dhcp_list()? {
                    if !subnet_ids.contains(id.as_str()) {
                        net.dhcp_stop(&id)?;
                        report.dhcp_stopped.push(id);
                    }
                }
                for b in net.links(&naming.bridge_prefix())? {
                    if !desired.contains(&b) {
                        net.link_delete(&b)?;
                        report.bridges_removed.push(b);
                    }
                }
                let devices: BTreeSet<&str> =
                    snap.interfaces.iter().map(|e| e.device.as_str()).collect();
                for d in net.links(&naming.device_of_interface_prefix())? {
                    if !devices.contains(d.as_str()) {
                        net.link_delete(&d)?;
                    }
                }
                let rules = netspec::render(&snap, &naming);
                net.firewall_apply(&rules, &naming, snap.subnets.is_empty())?;
                report.firewall_rules = if snap.subnets.is_empty() {
                    0
                } else {
                    rules.rule_count() as u64
                };
                Ok(report)
            })
            .await?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Rebuilds only the firewall: enough after a security-group or gateway change.
    pub async fn apply_firewall(&self) -> Result<usize> {
        let snap = self.snapshot().await?;
        let naming = self.naming.clone();
        self.blocking(move |net| {
            let rules = netspec::render(&snap, &naming);
            net.firewall_apply(&rules, &naming, snap.subnets.is_empty())?;
            Ok(rules.rule_count())
        })
        .await
    }

    /// Removes everything this server made on the host (its database stays): for tests and
    /// uninstalling.
    pub fn teardown_host_blocking(&self) -> crate::drivers::DriverResult<()> {
        let net = self.net.as_ref();
        for id in net.dhcp_list()? {
            net.dhcp_stop(&id)?;
        }
        for l in net.links(&self.naming.device_prefix())? {
            net.link_delete(&l)?;
        }
        net.firewall_apply(&Default::default(), &self.naming, true)
    }

    pub(super) async fn used_blocks(&self) -> Result<Vec<(String, Cidr)>> {
        let mut used: Vec<(String, Cidr)> = Vec::new();
        for v in self.store.vpc_list_all().await? {
            if let Ok(c) = Cidr::parse(&v.cidr) {
                used.push(("a VPC on this host".into(), c));
            }
        }
        let prefix = self.naming.bridge_prefix();
        for (dev, c) in self.blocking(|net| net.host_networks()).await? {
            if !dev.starts_with(&prefix) {
                used.push((format!("host interface {dev}"), c));
            }
        }
        Ok(used)
    }

    pub(super) fn check_block(&self, kind: &str, text: &str) -> Result<Cidr> {
        let c = Cidr::parse(text).map_err(Error::InvalidRequest)?;
        if !(16..=28).contains(&c.prefix()) {
            return Err(Error::invalid(format!(
                "a {kind} must be between /16 and /28 (got /{}): /16 has 65,536 addresses, /28 has 16",
                c.prefix()
            )));
        }
        Ok(c)
    }

    // ----------------------------------------------------------------------------------------
}
