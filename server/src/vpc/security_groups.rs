//! Security groups and their rules, enforced by the firewall.

use chrono::Utc;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use nuvem_api::vpc as api;

use super::change::Write;
use super::{Vpc, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::netspec::{self, Cidr};
use crate::store::vpc::{SgRow, SgRuleRow};

impl Vpc {
    // Security groups

    pub(super) fn rule_view(r: &SgRuleRow) -> api::SecurityGroupRule {
        api::SecurityGroupRule {
            id: r.id.clone(),
            direction: r.direction.get(),
            protocol: r.protocol.get(),
            from_port: r.from_port.map(|p| p as u16),
            to_port: r.to_port.map(|p| p as u16),
            cidr: r.cidr.clone(),
            source_group_id: r.source_group_id.clone(),
            description: r.description.clone(),
        }
    }

    pub(super) async fn sg_view(&self, g: &SgRow) -> Result<api::SecurityGroup> {
        let rules = self.store.sg_rule_list(vec![g.id.clone()]).await?;
        Ok(api::SecurityGroup {
            id: g.id.clone(),
            vpc_id: g.vpc_id.clone(),
            name: g.name.clone(),
            nrn: nrn("vpc", &g.account_id, "security-group", &g.id),
            description: g.description.clone(),
            is_default: g.is_default,
            rules: rules.iter().map(Self::rule_view).collect(),
            created_at: g.created_at,
        })
    }

    pub(super) async fn sg_lookup(&self, p: &Principal, id: &str) -> Result<SgRow> {
        self.store
            .sg_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("security group", id))
    }

    pub async fn sg_create(
        &self,
        p: &Principal,
        req: api::CreateSecurityGroupRequest,
    ) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:CreateSecurityGroup",
                &Self::res(p, "security-group", "*"),
            )
            .await?;
        validate::label("security group name", &req.name).map_err(Error::InvalidRequest)?;
        self.iam.quota_check(p, &[("security_groups", 1)]).await?;
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
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
        let row = SgRow {
            id: new_id("sg"),
            account_id: p.account.id.clone(),
            vpc_id: vpc.id,
            name: req.name,
            description,
            is_default: false,
            created_at: Utc::now(),
        };
        // As in AWS: a new group allows no ingress and all egress.
        let egress = Self::egress_all(&row.id);
        let row = self.store.sg_create(row, vec![egress]).await?;
        self.sg_view(&row).await
    }

    pub async fn sg_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::SecurityGroupList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", "*"),
            )
            .await?;
        self.default_vpc_ensure(p).await?;
        let mut items = Vec::new();
        for g in self
            .store
            .sg_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.sg_view(&g).await?);
        }
        Ok(api::SecurityGroupList { items })
    }

    pub async fn sg_get(&self, p: &Principal, id: &str) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", id),
            )
            .await?;
        let g = self.sg_lookup(p, id).await?;
        self.sg_view(&g).await
    }

    pub async fn sg_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeleteSecurityGroup",
                &Self::res(p, "security-group", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, id).await?;
        if g.is_default {
            return Err(Error::Conflict(
                "a VPC's default security group cannot be deleted".into(),
            ));
        }
        let members = self.store.sg_member_count(&g.id).await?;
        if members > 0 {
            return Err(Error::DependencyViolation(format!(
                "security group {id} is used by {members} network interface(s); change their groups first"
            )));
        }
        if let Some(r) = self.store.sg_rule_list_referencing(&g.id).await?.first() {
            return Err(Error::DependencyViolation(format!(
                "security group {id} is named by rule {} of {}; revoke that rule first",
                r.id, r.sg_id
            )));
        }
        self.store.sg_delete(&g.id).await?;
        self.apply_firewall().await?;
        Ok(())
    }

    pub async fn sg_rule_authorize(
        &self,
        p: &Principal,
        sg_id: &str,
        req: api::AuthorizeRuleRequest,
    ) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:AuthorizeSecurityGroupRule",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, sg_id).await?;
        let (from_port, to_port) = match (req.protocol.has_ports(), req.from_port, req.to_port) {
            (true, None, _) => {
                return Err(Error::invalid(format!(
                    "{} rules need from_port (and to_port for a range)",
                    req.protocol.as_str()
                )));
            }
            (true, Some(a), b) => {
                let b = b.unwrap_or(a);
                for port in [a, b] {
                    if port > 65535 {
                        return Err(Error::invalid(format!("port {port} is outside 0–65535")));
                    }
                }
                if a > b {
                    return Err(Error::invalid(format!(
                        "from_port {a} is greater than to_port {b}"
                    )));
                }
                (Some(a as i32), Some(b as i32))
            }
            (false, None, None) => (None, None),
            (false, _, _) => {
                return Err(Error::invalid(format!(
                    "{} rules take no ports; use tcp or udp to name ports",
                    req.protocol.as_str()
                )));
            }
        };
        let (cidr, source) = match (&req.cidr, &req.source_group_id) {
            (Some(c), None) => (
                Some(Cidr::parse(c).map_err(Error::InvalidRequest)?.to_string()),
                None,
            ),
            (None, Some(s)) => {
                let src = self.store.sg_get(&p.account.id, s).await?.ok_or_else(|| {
                    Error::invalid(format!(
                        "source_group_id {s} is not a security group of your account"
                    ))
                })?;
                if src.vpc_id != g.vpc_id {
                    return Err(Error::invalid(format!(
                        "source group {s} is in {}, not in {} with {sg_id}",
                        src.vpc_id, g.vpc_id
                    )));
                }
                (None, Some(src.id))
            }
            _ => {
                return Err(Error::invalid(
                    "give exactly one of cidr (e.g. 0.0.0.0/0) and source_group_id",
                ));
            }
        };
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
        let existing = self.store.sg_rule_list(vec![g.id.clone()]).await?;
        if let Some(dup) = existing.iter().find(|r| {
            r.direction == req.direction
                && r.protocol == req.protocol
                && r.from_port == from_port
                && r.to_port == to_port
                && r.cidr == cidr
                && r.source_group_id == source
        }) {
            return Err(Error::AlreadyExists(format!(
                "{sg_id} already has this rule ({})",
                dup.id
            )));
        }
        let row = SgRuleRow {
            id: new_id("sgr"),
            sg_id: g.id.clone(),
            direction: req.direction.into(),
            protocol: req.protocol.into(),
            from_port,
            to_port,
            cidr,
            source_group_id: source,
            description,
            created_at: Utc::now(),
        };
        self.change(Write::AddRule(row)).await?;
        self.sg_view(&g).await
    }

    pub async fn sg_rule_revoke(&self, p: &Principal, sg_id: &str, rule_id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:RevokeSecurityGroupRule",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, sg_id).await?;
        if !self.store.sg_rule_delete(&g.id, rule_id).await? {
            return Err(Error::NotFound(format!(
                "security group {sg_id} has no rule '{rule_id}'"
            )));
        }
        self.apply_firewall().await?;
        Ok(())
    }

    pub async fn sg_generated_rules(
        &self,
        p: &Principal,
        sg_id: &str,
    ) -> Result<api::GeneratedRules> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let g = self.sg_lookup(p, sg_id).await?;
        let snap = self.snapshot().await?;
        Ok(api::GeneratedRules {
            security_group_id: g.id.clone(),
            rules: netspec::rules_for_group(&snap, &self.naming, &g.id),
        })
    }

    // ----------------------------------------------------------------------------------------
}
