//! Port forwards: a host port of the operator's range to a private port of an interface.

use chrono::Utc;
use nuvem_api::vpc as api;

use super::change::Write;
use super::{Vpc, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::vpc::PortForwardRow;
use crate::usage::Change;

impl Vpc {
    // Port forwards

    pub(super) fn pf_view(&self, f: &PortForwardRow, ip: &str) -> api::PortForward {
        api::PortForward {
            id: f.id.clone(),
            protocol: f.protocol.get(),
            host_address: self.forwards.address.to_string(),
            host_port: f.host_port as u16,
            interface_id: f.eni_id.clone(),
            private_ip: ip.to_owned(),
            private_port: f.private_port as u16,
            created_at: f.created_at,
        }
    }

    pub async fn port_forward_create(
        &self,
        p: &Principal,
        req: api::CreatePortForwardRequest,
    ) -> Result<api::PortForward> {
        self.iam
            .authorize(
                p,
                "vpc:CreatePortForward",
                &Self::res(p, "port-forward", "*"),
            )
            .await?;
        if !req.protocol.has_ports() {
            return Err(Error::invalid("port forwards are tcp or udp"));
        }
        if !(1..=65535).contains(&req.private_port) {
            return Err(Error::invalid(format!(
                "private_port {} is outside 1–65535",
                req.private_port
            )));
        }
        let (first, last) = self.forwards.ports;
        if !(u32::from(first)..=u32::from(last)).contains(&req.host_port) {
            return Err(Error::invalid(format!(
                "host_port {} is outside the range this host keeps for port forwards ({first}–{last}); the host's other ports are its own services",
                req.host_port
            )));
        }
        let host_port = req.host_port as u16;
        let protocol = req.protocol.as_str();
        let _guard = self.lock.lock().await;
        self.iam.quota_check(p, &[("port_forwards", 1)]).await?;
        if crate::drivers::host_ports::listening(protocol, host_port) {
            return Err(Error::Conflict(format!(
                "host port {host_port}/{protocol} is in use by a service of the host; choose another port in {first}–{last}"
            )));
        }
        let e = self
            .store
            .eni_get(&p.account.id, &req.interface_id)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "interface_id {} is not a network interface of your account",
                    req.interface_id
                ))
            })?;
        let row = PortForwardRow {
            id: new_id("pf"),
            account_id: p.account.id.clone(),
            eni_id: e.id.clone(),
            protocol: req.protocol.into(),
            host_port: req.host_port as i32,
            private_port: req.private_port as i32,
            created_at: Utc::now(),
        };
        self.change(Write::CreatePortForward(row.clone())).await?;
        self.report_forward(&row, Change::Created).await;
        Ok(self.pf_view(&row, &e.private_ip))
    }

    pub async fn port_forward_list(&self, p: &Principal) -> Result<api::PortForwardList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribePortForwards",
                &Self::res(p, "port-forward", "*"),
            )
            .await?;
        let enis = self.store.eni_list(&p.account.id, None).await?;
        let items = self
            .store
            .port_forward_list(&p.account.id)
            .await?
            .iter()
            .map(|f| {
                let ip = enis
                    .iter()
                    .find(|e| e.id == f.eni_id)
                    .map(|e| e.private_ip.as_str())
                    .unwrap_or("");
                self.pf_view(f, ip)
            })
            .collect();
        Ok(api::PortForwardList { items })
    }

    pub async fn port_forward_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeletePortForward",
                &Self::res(p, "port-forward", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let f = self
            .store
            .port_forward_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("port forward", id))?;
        self.store.port_forward_delete(&f.id).await?;
        self.report_forward(&f, Change::Deleted).await;
        self.apply_firewall().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
}
