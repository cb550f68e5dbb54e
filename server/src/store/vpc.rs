//! Queries of the VPC service.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::Store;
use super::entity::vpc::{
    eni_security_group, network_interface, port_forward, security_group, sg_rule, subnet,
    vpc_row as vpc,
};
use crate::error::{Error, Result};

pub use super::entity::vpc::{
    network_interface::Model as EniRow, port_forward::Model as PortForwardRow,
    security_group::Model as SgRow, sg_rule::Model as SgRuleRow, subnet::Model as SubnetRow,
    vpc_row::Model as VpcRow,
};

/// Everything the host's network is built from, for all accounts: the desired state.
#[derive(Debug, Clone, Default)]
pub struct NetworkSnapshot {
    pub vpcs: Vec<VpcRow>,
    pub subnets: Vec<SubnetRow>,
    pub groups: Vec<SgRow>,
    pub rules: Vec<SgRuleRow>,
    pub interfaces: Vec<EniRow>,
    /// (interface id, security group id)
    pub memberships: Vec<(String, String)>,
    pub port_forwards: Vec<PortForwardRow>,
    /// The host address port forwards are published on (the VPC service's configuration): their
    /// DNAT matches only it.
    pub forward_address: Option<std::net::Ipv4Addr>,
}

impl Store {
    pub async fn network_snapshot(&self) -> Result<NetworkSnapshot> {
        Ok(NetworkSnapshot {
            vpcs: vpc::Entity::find()
                .order_by_asc(vpc::Column::Id)
                .all(&self.db)
                .await?,
            subnets: subnet::Entity::find()
                .order_by_asc(subnet::Column::Id)
                .all(&self.db)
                .await?,
            groups: security_group::Entity::find()
                .order_by_asc(security_group::Column::Id)
                .all(&self.db)
                .await?,
            rules: sg_rule::Entity::find()
                .order_by_asc(sg_rule::Column::CreatedAt)
                .order_by_asc(sg_rule::Column::Id)
                .all(&self.db)
                .await?,
            interfaces: network_interface::Entity::find()
                .order_by_asc(network_interface::Column::Id)
                .all(&self.db)
                .await?,
            memberships: eni_security_group::Entity::find()
                .all(&self.db)
                .await?
                .into_iter()
                .map(|m| (m.eni_id, m.sg_id))
                .collect(),
            port_forwards: port_forward::Entity::find()
                .order_by_asc(port_forward::Column::Id)
                .all(&self.db)
                .await?,
            forward_address: None,
        })
    }

    // ----------------------------------------------------------------------------------------
    // VPCs

    /// Creates a VPC with its default security group (and rules) in one transaction.
    pub async fn vpc_create(
        &self,
        row: VpcRow,
        sg: SgRow,
        rules: Vec<SgRuleRow>,
    ) -> Result<VpcRow> {
        let txn = self.db.begin().await?;
        let row = vpc::ActiveModel::from(row).insert(&txn).await?;
        security_group::ActiveModel::from(sg).insert(&txn).await?;
        for r in rules {
            sg_rule::ActiveModel::from(r).insert(&txn).await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    /// A default VPC with its first subnet, in one transaction.
    pub async fn vpc_create_with_subnet(
        &self,
        row: VpcRow,
        sg: SgRow,
        rules: Vec<SgRuleRow>,
        subnet: SubnetRow,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        vpc::ActiveModel::from(row).insert(&txn).await?;
        security_group::ActiveModel::from(sg).insert(&txn).await?;
        for r in rules {
            sg_rule::ActiveModel::from(r).insert(&txn).await?;
        }
        subnet::ActiveModel::from(subnet).insert(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn vpc_get_any(&self, id: &str) -> Result<Option<VpcRow>> {
        Ok(vpc::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn vpc_get(&self, account_id: &str, id: &str) -> Result<Option<VpcRow>> {
        Ok(vpc::Entity::find_by_id(id)
            .filter(vpc::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn vpc_get_default(&self, account_id: &str) -> Result<Option<VpcRow>> {
        Ok(vpc::Entity::find()
            .filter(vpc::Column::AccountId.eq(account_id))
            .filter(vpc::Column::IsDefault.eq(true))
            .one(&self.db)
            .await?)
    }

    pub async fn vpc_list(&self, account_id: &str) -> Result<Vec<VpcRow>> {
        Ok(vpc::Entity::find()
            .filter(vpc::Column::AccountId.eq(account_id))
            .order_by_asc(vpc::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn vpc_list_all(&self) -> Result<Vec<VpcRow>> {
        Ok(vpc::Entity::find().all(&self.db).await?)
    }

    pub async fn vpc_set_internet_gateway(&self, id: &str, enabled: bool) -> Result<VpcRow> {
        Ok(vpc::ActiveModel {
            id: Set(id.to_owned()),
            internet_gateway: Set(enabled),
            ..Default::default()
        }
        .update(&self.db)
        .await?)
    }

    /// Deletes a VPC with its subnets, security groups and rules (interfaces must be gone).
    pub async fn vpc_delete(&self, id: &str) -> Result<()> {
        let txn = self.db.begin().await?;
        let sg_ids: Vec<String> = security_group::Entity::find()
            .filter(security_group::Column::VpcId.eq(id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        sg_rule::Entity::delete_many()
            .filter(sg_rule::Column::SgId.is_in(sg_ids))
            .exec(&txn)
            .await?;
        security_group::Entity::delete_many()
            .filter(security_group::Column::VpcId.eq(id))
            .exec(&txn)
            .await?;
        subnet::Entity::delete_many()
            .filter(subnet::Column::VpcId.eq(id))
            .exec(&txn)
            .await?;
        vpc::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn eni_count_in_vpc(&self, vpc_id: &str) -> Result<u64> {
        Ok(network_interface::Entity::find()
            .filter(network_interface::Column::VpcId.eq(vpc_id))
            .count(&self.db)
            .await?)
    }

    // ----------------------------------------------------------------------------------------
    // Subnets

    pub async fn subnet_create(&self, row: SubnetRow) -> Result<SubnetRow> {
        Ok(subnet::ActiveModel::from(row).insert(&self.db).await?)
    }

    pub async fn subnet_get(&self, account_id: &str, id: &str) -> Result<Option<SubnetRow>> {
        Ok(subnet::Entity::find_by_id(id)
            .filter(subnet::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn subnet_list(
        &self,
        account_id: &str,
        vpc_id: Option<&str>,
    ) -> Result<Vec<SubnetRow>> {
        let mut q = subnet::Entity::find().filter(subnet::Column::AccountId.eq(account_id));
        if let Some(v) = vpc_id {
            q = q.filter(subnet::Column::VpcId.eq(v));
        }
        Ok(q.order_by_asc(subnet::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn subnet_list_in_vpc(&self, vpc_id: &str) -> Result<Vec<SubnetRow>> {
        Ok(subnet::Entity::find()
            .filter(subnet::Column::VpcId.eq(vpc_id))
            .all(&self.db)
            .await?)
    }

    pub async fn subnet_delete(&self, id: &str) -> Result<()> {
        subnet::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn eni_list_in_subnet(&self, subnet_id: &str) -> Result<Vec<EniRow>> {
        Ok(network_interface::Entity::find()
            .filter(network_interface::Column::SubnetId.eq(subnet_id))
            .all(&self.db)
            .await?)
    }

    // ----------------------------------------------------------------------------------------
    // Security groups

    pub async fn sg_create(&self, row: SgRow, rules: Vec<SgRuleRow>) -> Result<SgRow> {
        let name = row.name.clone();
        let txn = self.db.begin().await?;
        let row = security_group::ActiveModel::from(row)
            .insert(&txn)
            .await
            .map_err(|e| {
                Error::from_db(e, || {
                    format!("the VPC already has a security group named '{name}'")
                })
            })?;
        for r in rules {
            sg_rule::ActiveModel::from(r).insert(&txn).await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    pub async fn sg_get(&self, account_id: &str, id: &str) -> Result<Option<SgRow>> {
        Ok(security_group::Entity::find_by_id(id)
            .filter(security_group::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn sg_get_default(&self, vpc_id: &str) -> Result<Option<SgRow>> {
        Ok(security_group::Entity::find()
            .filter(security_group::Column::VpcId.eq(vpc_id))
            .filter(security_group::Column::IsDefault.eq(true))
            .one(&self.db)
            .await?)
    }

    pub async fn sg_list(&self, account_id: &str, vpc_id: Option<&str>) -> Result<Vec<SgRow>> {
        let mut q =
            security_group::Entity::find().filter(security_group::Column::AccountId.eq(account_id));
        if let Some(v) = vpc_id {
            q = q.filter(security_group::Column::VpcId.eq(v));
        }
        Ok(q.order_by_asc(security_group::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn sg_delete(&self, id: &str) -> Result<()> {
        let txn = self.db.begin().await?;
        sg_rule::Entity::delete_many()
            .filter(sg_rule::Column::SgId.eq(id))
            .exec(&txn)
            .await?;
        security_group::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn sg_member_count(&self, sg_id: &str) -> Result<u64> {
        Ok(eni_security_group::Entity::find()
            .filter(eni_security_group::Column::SgId.eq(sg_id))
            .count(&self.db)
            .await?)
    }

    /// Rules of other groups that name this group as their source.
    pub async fn sg_rule_list_referencing(&self, sg_id: &str) -> Result<Vec<SgRuleRow>> {
        Ok(sg_rule::Entity::find()
            .filter(sg_rule::Column::SourceGroupId.eq(sg_id))
            .filter(sg_rule::Column::SgId.ne(sg_id))
            .all(&self.db)
            .await?)
    }

    pub async fn sg_rule_list(&self, sg_ids: Vec<String>) -> Result<Vec<SgRuleRow>> {
        Ok(sg_rule::Entity::find()
            .filter(sg_rule::Column::SgId.is_in(sg_ids))
            .order_by_asc(sg_rule::Column::CreatedAt)
            .order_by_asc(sg_rule::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn sg_rule_create(&self, row: SgRuleRow) -> Result<SgRuleRow> {
        Ok(sg_rule::ActiveModel::from(row).insert(&self.db).await?)
    }

    /// Removes a rule of a group; returns whether it existed.
    pub async fn sg_rule_delete(&self, sg_id: &str, rule_id: &str) -> Result<bool> {
        let res = sg_rule::Entity::delete_many()
            .filter(sg_rule::Column::SgId.eq(sg_id))
            .filter(sg_rule::Column::Id.eq(rule_id))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    // ----------------------------------------------------------------------------------------
    // Network interfaces

    pub async fn eni_create(&self, row: EniRow, sg_ids: &[String]) -> Result<EniRow> {
        let txn = self.db.begin().await?;
        let row = network_interface::ActiveModel::from(row)
            .insert(&txn)
            .await
            .map_err(|e| {
                Error::from_db(e, || {
                    "that address was just taken by another interface; try again".into()
                })
            })?;
        for sg in sg_ids {
            eni_security_group::ActiveModel::from(eni_security_group::Model {
                eni_id: row.id.clone(),
                sg_id: sg.clone(),
            })
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    pub async fn eni_get(&self, account_id: &str, id: &str) -> Result<Option<EniRow>> {
        Ok(network_interface::Entity::find_by_id(id)
            .filter(network_interface::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn eni_list(&self, account_id: &str, vpc_id: Option<&str>) -> Result<Vec<EniRow>> {
        let mut q = network_interface::Entity::find()
            .filter(network_interface::Column::AccountId.eq(account_id));
        if let Some(v) = vpc_id {
            q = q.filter(network_interface::Column::VpcId.eq(v));
        }
        Ok(q.order_by_asc(network_interface::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn eni_sg_list(&self, eni_id: &str) -> Result<Vec<String>> {
        let mut ids: Vec<String> = eni_security_group::Entity::find()
            .filter(eni_security_group::Column::EniId.eq(eni_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.sg_id)
            .collect();
        ids.sort();
        Ok(ids)
    }

    pub async fn eni_get_any(&self, id: &str) -> Result<Option<EniRow>> {
        Ok(network_interface::Entity::find_by_id(id)
            .one(&self.db)
            .await?)
    }

    pub async fn eni_set_security_groups(&self, eni_id: &str, sg_ids: &[String]) -> Result<()> {
        let txn = self.db.begin().await?;
        eni_security_group::Entity::delete_many()
            .filter(eni_security_group::Column::EniId.eq(eni_id))
            .exec(&txn)
            .await?;
        for sg in sg_ids {
            eni_security_group::ActiveModel::from(eni_security_group::Model {
                eni_id: eni_id.to_owned(),
                sg_id: sg.clone(),
            })
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Deletes an interface with its group memberships and port forwards.
    pub async fn eni_delete(&self, id: &str) -> Result<()> {
        let txn = self.db.begin().await?;
        port_forward::Entity::delete_many()
            .filter(port_forward::Column::EniId.eq(id))
            .exec(&txn)
            .await?;
        eni_security_group::Entity::delete_many()
            .filter(eni_security_group::Column::EniId.eq(id))
            .exec(&txn)
            .await?;
        network_interface::Entity::delete_by_id(id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Port forwards

    pub async fn port_forward_create(&self, row: PortForwardRow) -> Result<PortForwardRow> {
        let (proto, port) = (row.protocol.clone(), row.host_port);
        port_forward::ActiveModel::from(row)
            .insert(&self.db)
            .await
            .map_err(|e| {
                Error::from_db(e, || {
                    format!("host port {port}/{proto} is already forwarded")
                })
            })
    }

    pub async fn port_forward_get(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<PortForwardRow>> {
        Ok(port_forward::Entity::find_by_id(id)
            .filter(port_forward::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn port_forward_list(&self, account_id: &str) -> Result<Vec<PortForwardRow>> {
        Ok(port_forward::Entity::find()
            .filter(port_forward::Column::AccountId.eq(account_id))
            .order_by_asc(port_forward::Column::HostPort)
            .all(&self.db)
            .await?)
    }

    pub async fn port_forward_delete(&self, id: &str) -> Result<()> {
        port_forward::Entity::delete_by_id(id)
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The number of addresses of a stored block (`10.64.0.0/20` → 4096); 0 for a malformed one.
pub fn cidr_addresses(cidr: &str) -> u64 {
    cidr.split_once('/')
        .and_then(|(_, p)| p.parse::<u32>().ok())
        .filter(|p| *p <= 32)
        .map(|p| 1u64 << (32 - p))
        .unwrap_or(0)
}
