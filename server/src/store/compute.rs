//! Queries of the compute service.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::Store;
use super::entity::compute::{host, image, instance, instance_type, key_pair};
use crate::error::{Error, Result};

pub use super::entity::compute::{
    host::Model as HostRow, image::Model as ImageRow, instance::Model as InstanceRow,
    instance_type::Model as InstanceTypeRow, key_pair::Model as KeyPairRow,
};

/// States in which an instance holds capacity on its host.
pub const ACTIVE_STATES: &[&str] = &["pending", "running", "stopping"];

impl Store {
    // Images

    pub async fn image_create(&self, row: ImageRow) -> Result<ImageRow> {
        Ok(image::ActiveModel::from(row).insert(&self.db).await?)
    }

    pub async fn image_get(&self, id: &str) -> Result<Option<ImageRow>> {
        Ok(image::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn image_list(&self) -> Result<Vec<ImageRow>> {
        Ok(image::Entity::find()
            .order_by_asc(image::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn image_delete(&self, id: &str) -> Result<()> {
        image::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn instance_count_using_image(&self, image_id: &str) -> Result<u64> {
        Ok(instance::Entity::find()
            .filter(instance::Column::ImageId.eq(image_id))
            .filter(instance::Column::State.ne("terminated"))
            .count(&self.db)
            .await?)
    }

    // Instance types

    pub async fn instance_type_list(&self) -> Result<Vec<InstanceTypeRow>> {
        Ok(instance_type::Entity::find()
            .order_by_asc(instance_type::Column::Vcpus)
            .order_by_asc(instance_type::Column::MemoryMib)
            .order_by_asc(instance_type::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn instance_type_get(&self, name: &str) -> Result<Option<InstanceTypeRow>> {
        Ok(instance_type::Entity::find_by_id(name)
            .one(&self.db)
            .await?)
    }

    /// Inserts or replaces an instance type.
    pub async fn instance_type_put(&self, row: InstanceTypeRow) -> Result<InstanceTypeRow> {
        if self.instance_type_get(&row.name).await?.is_some() {
            let mut am = row.clone().into_active_model();
            am.vcpus = Set(row.vcpus);
            am.memory_mib = Set(row.memory_mib);
            am.disk_gib = Set(row.disk_gib);
            am.price_per_hour = Set(row.price_per_hour);
            Ok(am.update(&self.db).await?)
        } else {
            Ok(instance_type::ActiveModel::from(row)
                .insert(&self.db)
                .await?)
        }
    }

    // Key pairs

    pub async fn key_pair_create(&self, row: KeyPairRow) -> Result<KeyPairRow> {
        let name = row.name.clone();
        key_pair::ActiveModel::from(row)
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("a key pair named '{name}' already exists")))
    }

    pub async fn key_pair_get_by_name(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<KeyPairRow>> {
        Ok(key_pair::Entity::find()
            .filter(key_pair::Column::AccountId.eq(account_id))
            .filter(key_pair::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn key_pair_list(&self, account_id: &str) -> Result<Vec<KeyPairRow>> {
        Ok(key_pair::Entity::find()
            .filter(key_pair::Column::AccountId.eq(account_id))
            .order_by_asc(key_pair::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn key_pair_delete(&self, id: &str) -> Result<()> {
        key_pair::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    // Hosts

    pub async fn host_list(&self) -> Result<Vec<HostRow>> {
        Ok(host::Entity::find()
            .order_by_asc(host::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn host_put(&self, row: HostRow) -> Result<HostRow> {
        if host::Entity::find_by_id(&row.id)
            .one(&self.db)
            .await?
            .is_some()
        {
            let mut am = row.clone().into_active_model();
            am.name = Set(row.name);
            am.uri = Set(row.uri);
            am.cores = Set(row.cores);
            am.memory_mib = Set(row.memory_mib);
            am.cpu_ratio = Set(row.cpu_ratio);
            am.accelerator = Set(row.accelerator);
            Ok(am.update(&self.db).await?)
        } else {
            Ok(host::ActiveModel::from(row).insert(&self.db).await?)
        }
    }

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
