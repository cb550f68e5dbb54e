//! Network interfaces: the layer compute (and container) backends attach NICs through.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use chrono::Utc;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use nuvem_api::vpc as api;

use super::change::Write;
use super::{Vpc, new_id, new_mac};
use crate::drivers::net::NetnsPlug;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::netspec::cidr::{self, Cidr};
use crate::store::vpc::{EniRow, SubnetRow};

impl Vpc {
    // Network interfaces: the layer compute backends attach NICs through

    pub(super) async fn eni_view(&self, e: &EniRow) -> Result<api::NetworkInterface> {
        Ok(api::NetworkInterface {
            id: e.id.clone(),
            subnet_id: e.subnet_id.clone(),
            vpc_id: e.vpc_id.clone(),
            nrn: nrn("vpc", &e.account_id, "network-interface", &e.id),
            private_ip: e.private_ip.clone(),
            mac: e.mac.clone(),
            device: e.device.clone(),
            security_group_ids: self.store.eni_sg_list(&e.id).await?,
            attached_to: e.attached_to.clone(),
            description: e.description.clone(),
            created_at: e.created_at,
        })
    }

    pub(super) async fn eni_lookup(&self, p: &Principal, id: &str) -> Result<EniRow> {
        self.store
            .eni_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("network interface", id))
    }

    /// Security groups by id, all of the caller's account and of one VPC.
    pub async fn groups_in_vpc(
        &self,
        p: &Principal,
        ids: &[String],
        vpc_id: &str,
    ) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Err(Error::invalid(
                "an interface needs at least one security group",
            ));
        }
        let mut out = BTreeSet::new();
        for id in ids {
            let g = self.store.sg_get(&p.account.id, id).await?.ok_or_else(|| {
                Error::invalid(format!("{id} is not a security group of your account"))
            })?;
            if g.vpc_id != vpc_id {
                return Err(Error::invalid(format!(
                    "security group {id} is in {}, not in {vpc_id}",
                    g.vpc_id
                )));
            }
            out.insert(g.id);
        }
        Ok(out.into_iter().collect())
    }

    /// Creates an interface in a subnet: allocates an address and a MAC, records the security
    /// groups, adds the DHCP lease and the firewall chains. `attached_to` names the user (an
    /// instance, an app) or is empty for a free-standing interface.
    pub async fn interface_create(
        &self,
        p: &Principal,
        req: api::CreateNetworkInterfaceRequest,
    ) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:CreateNetworkInterface",
                &Self::res(p, "network-interface", "*"),
            )
            .await?;
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
        self.iam
            .quota_check(p, &[("network_interfaces", 1)])
            .await?;
        let (subnet, groups) = self
            .placement(
                p,
                req.subnet_id.as_deref(),
                req.security_group_ids.as_deref(),
            )
            .await?;
        let row = self
            .interface_create_in(&p.account.id, &subnet.id, &groups, "", &description)
            .await?;
        self.eni_view(&row).await
    }

    /// Resolves where an interface goes: the subnet (default: the default subnet of the default
    /// VPC) and its security groups (default: the VPC's default group), all of the caller's account
    /// and one VPC. Other services call it to check a request before they start work.
    pub async fn placement(
        &self,
        p: &Principal,
        subnet_id: Option<&str>,
        security_group_ids: Option<&[String]>,
    ) -> Result<(SubnetRow, Vec<String>)> {
        let subnet = match subnet_id {
            Some(id) => self
                .store
                .subnet_get(&p.account.id, id)
                .await?
                .ok_or_else(|| {
                    Error::invalid(format!("subnet_id {id} is not a subnet of your account"))
                })?,
            None => {
                let vpc = self.default_vpc_ensure(p).await?;
                self.store
                    .subnet_list(&p.account.id, Some(&vpc.id))
                    .await?
                    .into_iter()
                    .find(|s| s.is_default)
                    .ok_or_else(|| {
                        Error::invalid("the default VPC has no default subnet: name a subnet_id")
                    })?
            }
        };
        let groups = match security_group_ids {
            Some(ids) => self.groups_in_vpc(p, ids, &subnet.vpc_id).await?,
            None => vec![
                self.store
                    .sg_get_default(&subnet.vpc_id)
                    .await?
                    .ok_or_else(|| Error::internal("a VPC without its default security group"))?
                    .id,
            ],
        };
        Ok((subnet, groups))
    }

    /// Creates an interface in a resolved placement: allocates an address and a MAC, records the
    /// groups, adds the DHCP lease and the firewall chains. For services that already authorized
    /// the caller (an instance launch); `attached_to` names the user, e.g. `instance/i-0a1b2c3d`.
    pub async fn interface_create_in(
        &self,
        account_id: &str,
        subnet_id: &str,
        groups: &[String],
        attached_to: &str,
        description: &str,
    ) -> Result<EniRow> {
        let _guard = self.lock.lock().await;
        let subnet = self
            .store
            .subnet_get(account_id, subnet_id)
            .await?
            .ok_or_else(|| Error::invalid(format!("subnet {subnet_id} no longer exists")))?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        let taken: BTreeSet<String> = self
            .store
            .eni_list_in_subnet(&subnet.id)
            .await?
            .into_iter()
            .map(|e| e.private_ip)
            .collect();
        let ip: Ipv4Addr = cidr::usable(block)
            .find(|a| !taken.contains(&a.to_string()))
            .ok_or_else(|| {
                Error::LimitExceeded(format!(
                    "subnet {} ({}) has no free address left",
                    subnet.id, subnet.cidr
                ))
            })?;
        let id = new_id("eni");
        let row = EniRow {
            device: self.naming.device(&id),
            id,
            account_id: account_id.to_owned(),
            vpc_id: subnet.vpc_id.clone(),
            subnet_id: subnet.id.clone(),
            private_ip: ip.to_string(),
            mac: new_mac(),
            attached_to: attached_to.to_owned(),
            description: description.to_owned(),
            created_at: Utc::now(),
        };
        self.change(Write::CreateInterface {
            eni: row.clone(),
            groups: groups.to_vec(),
        })
        .await?;
        Ok(row)
    }

    /// Removes an interface on behalf of the service that owns it; a missing one is not an error.
    pub async fn interface_release(&self, account_id: &str, id: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        let Some(e) = self.store.eni_get(account_id, id).await? else {
            return Ok(());
        };
        self.eni_delete_reporting(&e).await?;
        let device = e.device.clone();
        self.blocking(move |net| net.link_delete(&device)).await?;
        self.reconcile().await.map(drop)
    }

    /// Removes every interface a resource of another service holds (`attached_to`, such as
    /// `instance/i-0a1b2c3d`), found by that name, so that nothing leaks when its creator crashed
    /// before recording the interface's id.
    pub async fn interface_release_attached(
        &self,
        account_id: &str,
        attached_to: &str,
    ) -> Result<()> {
        let held: Vec<String> = self
            .store
            .eni_list(account_id, None)
            .await?
            .into_iter()
            .filter(|e| e.attached_to == attached_to)
            .map(|e| e.id)
            .collect();
        for id in held {
            self.interface_release(account_id, &id).await?;
        }
        Ok(())
    }

    /// The bridge and host-side device names of an interface, for the hypervisor.
    pub async fn interface_wiring(&self, account_id: &str, id: &str) -> Result<(EniRow, String)> {
        let e = self
            .store
            .eni_get(account_id, id)
            .await?
            .ok_or_else(|| Error::internal(format!("interface {id} vanished")))?;
        let bridge = self.naming.bridge(&e.subnet_id);
        Ok((e, bridge))
    }

    pub async fn interface_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::NetworkInterfaceList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeNetworkInterfaces",
                &Self::res(p, "network-interface", "*"),
            )
            .await?;
        let mut items = Vec::new();
        for e in self
            .store
            .eni_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.eni_view(&e).await?);
        }
        Ok(api::NetworkInterfaceList { items })
    }

    pub async fn interface_get(&self, p: &Principal, id: &str) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeNetworkInterfaces",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let e = self.eni_lookup(p, id).await?;
        self.eni_view(&e).await
    }

    /// Deletes an interface: its device, lease, chains and port forwards. An interface in use by
    /// an instance or app is detached by that service (`force`), not by the API.
    pub async fn interface_delete(&self, p: &Principal, id: &str, force: bool) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeleteNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let e = self.eni_lookup(p, id).await?;
        if !e.attached_to.is_empty() && !force {
            return Err(Error::Conflict(format!(
                "network interface {id} belongs to {}; remove it through that resource",
                e.attached_to
            )));
        }
        self.eni_delete_reporting(&e).await?;
        let device = e.device.clone();
        self.blocking(move |net| net.link_delete(&device)).await?;
        self.reconcile().await?;
        Ok(())
    }

    pub async fn interface_set_groups(
        &self,
        p: &Principal,
        id: &str,
        req: api::SetSecurityGroupsRequest,
    ) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:ModifyNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let e = self.eni_lookup(p, id).await?;
        let groups = self
            .groups_in_vpc(p, &req.security_group_ids, &e.vpc_id)
            .await?;
        let before = self.store.eni_sg_list(&e.id).await?;
        self.change(Write::SetInterfaceGroups {
            eni_id: e.id.clone(),
            groups,
            before,
        })
        .await?;
        self.eni_view(&e).await
    }

    /// Plugs an interface into a network namespace through a veth pair: a stand-in host, used by
    /// the tests (and by container backends). `static_address` configures the address directly;
    /// otherwise the namespace must ask DHCP.
    pub async fn interface_plug_netns(
        &self,
        p: &Principal,
        id: &str,
        netns: &str,
        static_address: bool,
    ) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:ModifyNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let e = self.eni_lookup(p, id).await?;
        let subnet = self.subnet_lookup(p, &e.subnet_id).await?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        let ip: Ipv4Addr = e.private_ip.parse().map_err(Error::internal)?;
        let plug = NetnsPlug {
            device: e.device.clone(),
            bridge: self.naming.bridge(&subnet.id),
            netns: netns.to_owned(),
            mac: e.mac.clone(),
            address: static_address.then_some((ip, block.prefix(), cidr::gateway(block))),
        };
        self.blocking(move |net| net.plug_netns(&plug)).await
    }

    // ----------------------------------------------------------------------------------------
}
