//! Queries of subnets.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{EniRow, SubnetRow};
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::vpc::{network_interface, subnet};

impl Store {
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
}
