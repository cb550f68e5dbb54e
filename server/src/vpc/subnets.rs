//! Subnets: blocks of a VPC, each a bridge with its DHCP server.

use chrono::Utc;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use nuvem_api::vpc as api;

use super::change::Write;
use super::{HOST_SSH_DESCRIPTION, Vpc, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::netspec::cidr::{self, Cidr};
use crate::store::vpc::{SgRuleRow, SubnetRow};

impl Vpc {
    // Subnets

    pub(super) async fn subnet_view(&self, s: &SubnetRow) -> Result<api::Subnet> {
        let c = Cidr::parse(&s.cidr).map_err(Error::internal)?;
        let used = self.store.eni_list_in_subnet(&s.id).await?.len() as u64;
        Ok(api::Subnet {
            id: s.id.clone(),
            vpc_id: s.vpc_id.clone(),
            name: s.name.clone(),
            nrn: nrn("vpc", &s.account_id, "subnet", &s.id),
            cidr: s.cidr.clone(),
            gateway: cidr::gateway(c).to_string(),
            bridge: self.naming.bridge(&s.id),
            available_addresses: cidr::usable(c).count() as u64 - used,
            is_default: s.is_default,
            created_at: s.created_at,
        })
    }

    pub(super) async fn subnet_lookup(&self, p: &Principal, id: &str) -> Result<SubnetRow> {
        self.store
            .subnet_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("subnet", id))
    }

    /// The rule a default group gets for each subnet of its VPC: SSH from the host, which
    /// reaches its guests from the subnet's gateway address (the host is outside, for security
    /// groups, like any other address).
    pub(super) fn host_ssh_rule(sg_id: &str, subnet: Cidr) -> SgRuleRow {
        SgRuleRow {
            id: new_id("sgr"),
            sg_id: sg_id.to_owned(),
            direction: api::Direction::Ingress.into(),
            protocol: api::Protocol::Tcp.into(),
            from_port: Some(22),
            to_port: Some(22),
            cidr: Some(format!("{}/32", cidr::gateway(subnet))),
            source_group_id: None,
            description: HOST_SSH_DESCRIPTION.into(),
            created_at: Utc::now(),
        }
    }

    pub async fn subnet_create(
        &self,
        p: &Principal,
        req: api::CreateSubnetRequest,
    ) -> Result<api::Subnet> {
        self.iam
            .authorize(p, "vpc:CreateSubnet", &Self::res(p, "subnet", "*"))
            .await?;
        let block = self.check_block("subnet", &req.cidr)?;
        if let Some(n) = &req.name {
            validate::label("subnet name", n).map_err(Error::InvalidRequest)?;
        }
        let _guard = self.lock.lock().await;
        self.iam.quota_check(p, &[("subnets", 1)]).await?;
        let vpc = self
            .store
            .vpc_get(&p.account.id, &req.vpc_id)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "vpc_id {} is not a VPC of your account",
                    req.vpc_id
                ))
            })?;
        let vpc_block = Cidr::parse(&vpc.cidr).map_err(Error::internal)?;
        if !vpc_block.covers(block) {
            return Err(Error::invalid(format!(
                "{block} is not inside the VPC's block {vpc_block}"
            )));
        }
        for s in self.store.subnet_list_in_vpc(&vpc.id).await? {
            if Cidr::parse(&s.cidr).is_ok_and(|c| c.overlaps(block)) {
                return Err(Error::Conflict(format!(
                    "{block} overlaps subnet {} ({})",
                    s.id, s.cidr
                )));
            }
        }
        let prefix = self.naming.bridge_prefix();
        for (dev, c) in self.blocking(|net| net.host_networks()).await? {
            if !dev.starts_with(&prefix) && c.overlaps(block) {
                return Err(Error::Conflict(format!(
                    "{block} overlaps {c} of host interface {dev}"
                )));
            }
        }
        let id = new_id("subnet");
        let row = SubnetRow {
            name: req.name.unwrap_or_else(|| id.clone()),
            id,
            account_id: p.account.id.clone(),
            vpc_id: vpc.id,
            cidr: block.to_string(),
            is_default: false,
            created_at: Utc::now(),
        };
        let host_ssh = match self.store.sg_get_default(&row.vpc_id).await? {
            Some(g) => Some(Self::host_ssh_rule(&g.id, block)),
            None => None,
        };
        self.change(Write::CreateSubnet {
            subnet: row.clone(),
            host_ssh,
        })
        .await?;
        self.subnet_view(&row).await
    }

    pub async fn subnet_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::SubnetList> {
        self.iam
            .authorize(p, "vpc:DescribeSubnets", &Self::res(p, "subnet", "*"))
            .await?;
        self.default_vpc_ensure(p).await?;
        let mut items = Vec::new();
        for s in self
            .store
            .subnet_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.subnet_view(&s).await?);
        }
        Ok(api::SubnetList { items })
    }

    pub async fn subnet_get(&self, p: &Principal, id: &str) -> Result<api::Subnet> {
        self.iam
            .authorize(p, "vpc:DescribeSubnets", &Self::res(p, "subnet", id))
            .await?;
        let s = self.subnet_lookup(p, id).await?;
        self.subnet_view(&s).await
    }

    pub async fn subnet_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(p, "vpc:DeleteSubnet", &Self::res(p, "subnet", id))
            .await?;
        let _guard = self.lock.lock().await;
        let s = self.subnet_lookup(p, id).await?;
        let n = self.store.eni_list_in_subnet(&s.id).await?.len();
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "subnet {id} still has {n} network interface(s); delete them (or their instances) first"
            )));
        }
        // The default group's SSH-from-the-host rule names this subnet's gateway: it goes too.
        if let (Some(g), Ok(block)) = (
            self.store.sg_get_default(&s.vpc_id).await?,
            Cidr::parse(&s.cidr),
        ) {
            let gateway = Some(format!("{}/32", cidr::gateway(block)));
            for r in self.store.sg_rule_list(vec![g.id.clone()]).await? {
                if r.cidr == gateway && r.description == HOST_SSH_DESCRIPTION {
                    self.store.sg_rule_delete(&g.id, &r.id).await?;
                }
            }
        }
        self.store.subnet_delete(&s.id).await?;
        self.reconcile().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
}
