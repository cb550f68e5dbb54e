//! Queries of instances.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::{ACTIVE_STATES, InstanceRow};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::compute::instance;

impl Store {
    // Instances

    /// Inserts the rows of one launch together: all or none.
    pub async fn instance_create_many(&self, rows: Vec<InstanceRow>) -> Result<()> {
        let txn = self.db.begin().await?;
        for r in rows {
            instance::ActiveModel::from(r).insert(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    pub async fn instance_get(&self, account_id: &str, id: &str) -> Result<Option<InstanceRow>> {
        Ok(instance::Entity::find_by_id(id)
            .filter(instance::Column::AccountId.eq(account_id))
            .one(&self.db)
            .await?)
    }

    pub async fn instance_get_any(&self, id: &str) -> Result<Option<InstanceRow>> {
        Ok(instance::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn instance_list(&self, account_id: &str) -> Result<Vec<InstanceRow>> {
        Ok(instance::Entity::find()
            .filter(instance::Column::AccountId.eq(account_id))
            .order_by_asc(instance::Column::CreatedAt)
            .order_by_asc(instance::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Every instance not yet terminated, all accounts: what the host should be running.
    pub async fn instance_list_live(&self) -> Result<Vec<InstanceRow>> {
        Ok(instance::Entity::find()
            .filter(instance::Column::State.ne("terminated"))
            .order_by_asc(instance::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn instance_list_active_on_host(&self, host_id: &str) -> Result<Vec<InstanceRow>> {
        Ok(instance::Entity::find()
            .filter(instance::Column::HostId.eq(host_id))
            .filter(instance::Column::State.is_in(ACTIVE_STATES.iter().copied()))
            .all(&self.db)
            .await?)
    }

    /// Writes an instance's mutable fields, if nobody wrote it since it was read: the write names
    /// the generation it read and bumps it. Another write in between makes this one a conflict
    /// (reload and decide again), never a silent overwrite.
    pub async fn instance_save(&self, row: &mut InstanceRow) -> Result<()> {
        let am = instance::ActiveModel {
            name: Set(row.name.clone()),
            state: Set(row.state),
            state_reason: Set(row.state_reason.clone()),
            eni_id: Set(row.eni_id.clone()),
            host_id: Set(row.host_id.clone()),
            accelerator: Set(row.accelerator.clone()),
            pinned_cpus: Set(row.pinned_cpus.clone()),
            tags: Set(row.tags.clone()),
            launched_at: Set(row.launched_at),
            terminated_at: Set(row.terminated_at),
            generation: Set(row.generation + 1),
            ..Default::default()
        };
        let res = instance::Entity::update_many()
            .set(am)
            .filter(instance::Column::Id.eq(&row.id))
            .filter(instance::Column::Generation.eq(row.generation))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::Conflict(format!(
                "instance {} was changed by another operation meanwhile; try again",
                row.id
            )));
        }
        row.generation += 1;
        Ok(())
    }
}
