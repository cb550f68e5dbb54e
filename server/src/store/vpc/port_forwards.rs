//! Queries of port forwards.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::PortForwardRow;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::vpc::port_forward;

impl Store {
    // ----------------------------------------------------------------------------------------
    // Port forwards

    pub async fn port_forward_create(&self, row: PortForwardRow) -> Result<PortForwardRow> {
        let (proto, port) = (row.protocol, row.host_port);
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

    /// Every account's port forwards (metering checks its ledger against them).
    pub async fn port_forward_list_all(&self) -> Result<Vec<PortForwardRow>> {
        Ok(port_forward::Entity::find()
            .order_by_asc(port_forward::Column::HostPort)
            .all(&self.db)
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
