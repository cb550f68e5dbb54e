//! Queries of hosts.

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder, Set};

use super::HostRow;
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::compute::host;

impl Store {
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
            am.reserved_memory_mib = Set(row.reserved_memory_mib);
            am.accelerator = Set(row.accelerator);
            Ok(am.update(&self.db).await?)
        } else {
            Ok(host::ActiveModel::from(row).insert(&self.db).await?)
        }
    }
}
