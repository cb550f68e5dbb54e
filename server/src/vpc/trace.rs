//! The trace tool, on-demand reconciliation, and releasing an account's networks.

use std::net::Ipv4Addr;

use nuvem_api::vpc as api;

use super::Vpc;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::netspec;

impl Vpc {
    // Trace and reconcile

    pub async fn trace(&self, p: &Principal, req: api::TraceRequest) -> Result<api::TraceResult> {
        self.iam
            .authorize(p, "vpc:Trace", &Self::res(p, "network-interface", "*"))
            .await?;
        let end = |what: &str, s: &str| -> Result<netspec::Endpoint> {
            if s == "host" {
                return Ok(netspec::Endpoint::Host);
            }
            s.parse::<Ipv4Addr>()
                .map(netspec::Endpoint::Address)
                .map_err(|_| {
                    Error::invalid(format!(
                        "{what} '{s}' is not an IPv4 address (or `host`, the machine Nuvem runs on)"
                    ))
                })
        };
        let (from, to) = (end("from", &req.from)?, end("to", &req.to)?);
        let port = match (req.protocol.has_ports(), req.port) {
            (true, Some(p)) if p <= 65535 => Some(p as u16),
            (true, Some(p)) => return Err(Error::invalid(format!("port {p} is outside 0–65535"))),
            (true, None) => {
                return Err(Error::invalid(format!(
                    "{} needs a port",
                    req.protocol.as_str()
                )));
            }
            (false, None) => None,
            (false, Some(_)) => {
                return Err(Error::invalid(format!(
                    "{} has no ports",
                    req.protocol.as_str()
                )));
            }
        };
        let snap = self.snapshot().await?;
        netspec::trace(&snap, &p.account.id, from, to, req.protocol, port)
            .map_err(Error::InvalidRequest)
    }

    /// On-demand reconciliation (operator only).
    pub async fn reconcile_on_demand(&self, p: &Principal) -> Result<api::ReconcileReport> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied(
                "reconciling the host network is an operator action".into(),
            ));
        }
        self.iam
            .authorize(p, "vpc:Reconcile", &Self::res(p, "vpc", "*"))
            .await?;
        let _guard = self.lock.lock().await;
        self.reconcile().await
    }

    /// Removes every VPC resource of an account (when the account is deleted).
    pub async fn account_purge(&self, account_id: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        for e in self.store.eni_list(account_id, None).await? {
            self.eni_delete_reporting(&e).await?;
        }
        for v in self.store.vpc_list(account_id).await? {
            self.store.vpc_delete(&v.id).await?;
        }
        self.reconcile().await.map(drop)
    }
}
