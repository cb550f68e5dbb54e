//! What other services (container apps) ask of the VPC on a caller's behalf they already
//! authorized, or on their own (a reconciler, an undo): plugging an interface into a running
//! container's network namespace, the subnet's gateway (the address the host and the load
//! balancer send from), and removing a security group the service made for its resource.

use std::net::Ipv4Addr;

use chrono::Utc;
use nuvem_api::vpc as api;

use super::{Vpc, new_id};
use crate::drivers::net::NetnsPlug;
use crate::error::{Error, Result};
use crate::netspec::cidr::{self, Cidr};
use crate::store::vpc::{SgRow, SgRuleRow};

impl Vpc {
    /// Plugs interface `id` into the network namespace of process `pid` (a container's init):
    /// a veth pair whose host end joins the subnet's bridge under the interface's device name, so
    /// the security groups' chains apply to it as to an instance's tap. Replaces a previous plug
    /// (after the container restarted, its old namespace and veth are gone).
    pub async fn interface_plug_process(&self, account_id: &str, id: &str, pid: u32) -> Result<()> {
        let e = self
            .store
            .eni_get(account_id, id)
            .await?
            .ok_or_else(|| Error::internal(format!("interface {id} vanished")))?;
        let subnet = self
            .store
            .subnet_get(account_id, &e.subnet_id)
            .await?
            .ok_or_else(|| Error::internal(format!("subnet {} vanished", e.subnet_id)))?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        let ip: Ipv4Addr = e.private_ip.parse().map_err(Error::internal)?;
        let plug = NetnsPlug {
            device: e.device.clone(),
            bridge: self.naming.bridge(&subnet.id),
            netns: format!("nv-{}", e.id),
            mac: e.mac.clone(),
            address: Some((ip, block.prefix(), cidr::gateway(block))),
        };
        self.blocking(move |net| net.plug_process(&plug, pid)).await
    }

    /// The subnet's gateway: the host's address on its bridge, which the host (and so the load
    /// balancer and the health checks) sends from.
    pub async fn subnet_gateway(&self, account_id: &str, subnet_id: &str) -> Result<Ipv4Addr> {
        let subnet = self
            .store
            .subnet_get(account_id, subnet_id)
            .await?
            .ok_or_else(|| Error::invalid(format!("subnet {subnet_id} no longer exists")))?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        Ok(cidr::gateway(block))
    }

    /// Makes a security group for another service's resource (an app) in the subnet's VPC: all
    /// egress, and TCP `port` in from `cidr` (the balancer's address). Returns its id.
    pub async fn sg_create_owned(
        &self,
        account_id: &str,
        subnet_id: &str,
        name: &str,
        port: u16,
        cidr: &str,
    ) -> Result<String> {
        let subnet = self
            .store
            .subnet_get(account_id, subnet_id)
            .await?
            .ok_or_else(|| Error::invalid(format!("subnet {subnet_id} no longer exists")))?;
        let row = SgRow {
            id: new_id("sg"),
            account_id: account_id.to_owned(),
            vpc_id: subnet.vpc_id.clone(),
            name: name.to_owned(),
            description: format!("made for {name}: its port from the load balancer"),
            is_default: false,
            created_at: Utc::now(),
        };
        let ingress = SgRuleRow {
            id: new_id("sgr"),
            sg_id: row.id.clone(),
            direction: api::Direction::Ingress.into(),
            protocol: api::Protocol::Tcp.into(),
            from_port: Some(i32::from(port)),
            to_port: Some(i32::from(port)),
            cidr: Some(cidr.to_owned()),
            source_group_id: None,
            description:
                "the load balancer and health checks (the host, from the subnet's gateway)".into(),
            created_at: Utc::now(),
        };
        let _guard = self.lock.lock().await;
        // No firewall commit: a group without members renders no rule, and the interface made
        // with it next commits the firewall anyway (one commit per deploy instead of two).
        let row = self
            .store
            .sg_create(row.clone(), vec![Self::egress_all(&row.id), ingress])
            .await?;
        Ok(row.id)
    }

    /// Deletes a security group a service made for its own resource; a missing one is fine.
    pub async fn sg_delete_owned(&self, account_id: &str, id: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        if self.store.sg_get(account_id, id).await?.is_none() {
            return Ok(());
        }
        let members = self.store.sg_member_count(id).await?;
        if members > 0 {
            return Err(Error::DependencyViolation(format!(
                "security group {id} is still used by {members} network interface(s)"
            )));
        }
        self.store.sg_delete(id).await?;
        self.apply_firewall().await.map(drop)
    }

    /// Interfaces of an account held by another service's resources whose names start with
    /// `prefix` (`replica/`), as (interface id, attached_to).
    pub async fn interfaces_attached_with(
        &self,
        account_id: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(self
            .store
            .eni_list(account_id, None)
            .await?
            .into_iter()
            .filter(|e| e.attached_to.starts_with(prefix))
            .map(|e| (e.id, e.attached_to))
            .collect())
    }
}
