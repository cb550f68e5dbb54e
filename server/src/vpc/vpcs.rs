//! VPCs: the default VPC, create, list, delete, the internet gateway.

use chrono::Utc;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use nuvem_api::vpc as api;

use super::change::Write;
use super::{DEFAULT_SUBNET_PREFIX, DEFAULT_VPC_PREFIX, Vpc, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::vpc::{SgRow, SgRuleRow, SubnetRow, VpcRow};
use crate::usage::Change;

impl Vpc {
    // VPCs

    pub(super) fn default_sg(vpc_id: &str, account_id: &str) -> (SgRow, Vec<SgRuleRow>) {
        let now = Utc::now();
        let sg = SgRow {
            id: new_id("sg"),
            account_id: account_id.to_owned(),
            vpc_id: vpc_id.to_owned(),
            name: "default".into(),
            description: "default group: members reach each other, the host on SSH; all egress"
                .into(),
            is_default: true,
            created_at: now,
        };
        let rules = vec![
            SgRuleRow {
                id: new_id("sgr"),
                sg_id: sg.id.clone(),
                direction: api::Direction::Ingress.into(),
                protocol: api::Protocol::All.into(),
                from_port: None,
                to_port: None,
                cidr: None,
                source_group_id: Some(sg.id.clone()),
                description: "members of this group".into(),
                created_at: now,
            },
            Self::egress_all(&sg.id),
        ];
        (sg, rules)
    }

    pub(super) fn egress_all(sg_id: &str) -> SgRuleRow {
        SgRuleRow {
            id: new_id("sgr"),
            sg_id: sg_id.to_owned(),
            direction: api::Direction::Egress.into(),
            protocol: api::Protocol::All.into(),
            from_port: None,
            to_port: None,
            cidr: Some("0.0.0.0/0".into()),
            source_group_id: None,
            description: "all traffic out".into(),
            created_at: Utc::now(),
        }
    }

    /// The account's default VPC, created with a subnet and the default group on first use.
    pub async fn default_vpc_ensure(&self, p: &Principal) -> Result<VpcRow> {
        if let Some(v) = self.store.vpc_get_default(&p.account.id).await? {
            return Ok(v);
        }
        let _guard = self.lock.lock().await;
        if let Some(v) = self.store.vpc_get_default(&p.account.id).await? {
            return Ok(v);
        }
        let used = self.used_blocks().await?;
        let block = self
            .pool
            .blocks(DEFAULT_VPC_PREFIX)
            .find(|b| !used.iter().any(|(_, u)| u.overlaps(*b)))
            .ok_or_else(|| {
                Error::LimitExceeded(format!(
                    "no free /{DEFAULT_VPC_PREFIX} left in the pool {} for a default VPC",
                    self.pool
                ))
            })?;
        let now = Utc::now();
        let vpc = VpcRow {
            id: new_id("vpc"),
            account_id: p.account.id.clone(),
            name: "default".into(),
            cidr: block.to_string(),
            is_default: true,
            internet_gateway: false,
            created_at: now,
        };
        let (sg, mut rules) = Self::default_sg(&vpc.id, &p.account.id);
        let block = block
            .blocks(DEFAULT_SUBNET_PREFIX)
            .next()
            .ok_or_else(|| Error::internal("a /20 holds a /24"))?;
        rules.push(Self::host_ssh_rule(&sg.id, block));
        let subnet = SubnetRow {
            id: new_id("subnet"),
            account_id: p.account.id.clone(),
            vpc_id: vpc.id.clone(),
            name: "default".into(),
            cidr: block.to_string(),
            is_default: true,
            created_at: now,
        };
        self.change(Write::CreateVpc {
            vpc: vpc.clone(),
            sg,
            rules,
            subnet,
        })
        .await?;
        Ok(vpc)
    }

    pub(super) fn vpc_view(&self, v: &VpcRow) -> api::Vpc {
        api::Vpc {
            id: v.id.clone(),
            name: v.name.clone(),
            nrn: nrn("vpc", &v.account_id, "vpc", &v.id),
            cidr: v.cidr.clone(),
            is_default: v.is_default,
            internet_gateway: v.internet_gateway,
            created_at: v.created_at,
        }
    }

    pub(super) async fn vpc_lookup(&self, p: &Principal, id: &str) -> Result<VpcRow> {
        self.store
            .vpc_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("VPC", id))
    }

    pub async fn vpc_create(&self, p: &Principal, req: api::CreateVpcRequest) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:CreateVpc", &Self::res(p, "vpc", "*"))
            .await?;
        let block = self.check_block("VPC", &req.cidr)?;
        if let Some(n) = &req.name {
            validate::label("VPC name", n).map_err(Error::InvalidRequest)?;
        }
        if !self.pool.covers(block) {
            return Err(Error::invalid(format!(
                "{block} is outside the address pool of this Nuvem ({}); choose a block inside it",
                self.pool
            )));
        }
        let _guard = self.lock.lock().await;
        self.iam
            .quota_check(p, &[("vpcs", 1), ("vpc_addresses", block.size())])
            .await?;
        if let Some((what, c)) = self
            .used_blocks()
            .await?
            .into_iter()
            .find(|(_, c)| c.overlaps(block))
        {
            return Err(Error::Conflict(format!(
                "{block} overlaps {c}, used by {what}; choose another block"
            )));
        }
        let id = new_id("vpc");
        let row = VpcRow {
            name: req.name.unwrap_or_else(|| id.clone()),
            id,
            account_id: p.account.id.clone(),
            cidr: block.to_string(),
            is_default: false,
            internet_gateway: false,
            created_at: Utc::now(),
        };
        let (sg, rules) = Self::default_sg(&row.id, &p.account.id);
        let row = self.store.vpc_create(row, sg, rules).await?;
        Ok(self.vpc_view(&row))
    }

    pub async fn vpc_list(&self, p: &Principal) -> Result<api::VpcList> {
        self.iam
            .authorize(p, "vpc:DescribeVpcs", &Self::res(p, "vpc", "*"))
            .await?;
        self.default_vpc_ensure(p).await?;
        let rows = self.store.vpc_list(&p.account.id).await?;
        Ok(api::VpcList {
            items: rows.iter().map(|v| self.vpc_view(v)).collect(),
        })
    }

    pub async fn vpc_get(&self, p: &Principal, id: &str) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:DescribeVpcs", &Self::res(p, "vpc", id))
            .await?;
        Ok(self.vpc_view(&self.vpc_lookup(p, id).await?))
    }

    pub async fn vpc_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(p, "vpc:DeleteVpc", &Self::res(p, "vpc", id))
            .await?;
        let _guard = self.lock.lock().await;
        let vpc = self.vpc_lookup(p, id).await?;
        let n = self.store.eni_count_in_vpc(&vpc.id).await?;
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "VPC {id} still has {n} network interface(s); delete them (or their instances) first"
            )));
        }
        self.store.vpc_delete(&vpc.id).await?;
        if vpc.internet_gateway {
            self.report_gateway(&vpc.account_id, &vpc.id, Change::Deleted)
                .await;
        }
        self.reconcile().await?;
        Ok(())
    }

    pub async fn internet_gateway_set(
        &self,
        p: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:SetInternetGateway", &Self::res(p, "vpc", id))
            .await?;
        let _guard = self.lock.lock().await;
        let vpc = self.vpc_lookup(p, id).await?;
        self.change(Write::SetInternetGateway {
            vpc_id: vpc.id.clone(),
            enabled,
            before: vpc.internet_gateway,
        })
        .await?;
        if enabled != vpc.internet_gateway {
            let change = if enabled {
                Change::Created
            } else {
                Change::Deleted
            };
            self.report_gateway(&vpc.account_id, &vpc.id, change).await;
        }
        Ok(self.vpc_view(&VpcRow {
            internet_gateway: enabled,
            ..vpc
        }))
    }

    // ----------------------------------------------------------------------------------------
}
