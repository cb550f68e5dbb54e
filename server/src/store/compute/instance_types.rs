//! Queries of instance types.

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder, Set};

use super::InstanceTypeRow;
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::compute::instance_type;

impl Store {
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
}
