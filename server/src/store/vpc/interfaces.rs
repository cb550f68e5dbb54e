//! Queries of network interfaces and their group memberships.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::EniRow;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::vpc::{eni_security_group, network_interface, port_forward};

impl Store {
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
}
