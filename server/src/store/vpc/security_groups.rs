//! Queries of security groups and their rules.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use super::{SgRow, SgRuleRow};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::vpc::{eni_security_group, security_group, sg_rule};

impl Store {
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
}
