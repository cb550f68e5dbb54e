//! Queries of the metering clocks: one segment per change, kept so that past times convert.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder};

use super::ClockRow;
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::billing::billing_clock;

impl Store {
    /// Every account's clock segments, oldest first.
    pub async fn clock_list_all(&self) -> Result<Vec<ClockRow>> {
        Ok(billing_clock::Entity::find()
            .order_by_asc(billing_clock::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn clock_add(&self, row: ClockRow) -> Result<ClockRow> {
        let mut am = billing_clock::ActiveModel::from(row);
        am.id = NotSet;
        Ok(am.insert(&self.db).await?)
    }

    pub async fn clock_purge_account(&self, account_id: &str) -> Result<()> {
        billing_clock::Entity::delete_many()
            .filter(billing_clock::Column::AccountId.eq(account_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
