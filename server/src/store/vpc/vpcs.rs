//! Queries of VPCs.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::{SgRow, SgRuleRow, SubnetRow, VpcRow};
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::vpc::{
    network_interface, security_group, sg_rule, subnet, vpc_row as vpc,
};

impl Store {
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
}
