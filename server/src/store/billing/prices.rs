//! Queries of the price catalog: rows are added, never changed, so every past bill can be
//! recomputed with the prices it was made with.

use sea_orm::{ActiveModelTrait, EntityTrait, NotSet, PaginatorTrait, QueryOrder};

use super::PriceRow;
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::billing::price;

impl Store {
    pub async fn price_list(&self) -> Result<Vec<PriceRow>> {
        Ok(price::Entity::find()
            .order_by_asc(price::Column::EffectiveFrom)
            .order_by_asc(price::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn price_count(&self) -> Result<u64> {
        Ok(price::Entity::find().count(&self.db).await?)
    }

    pub async fn price_add(&self, row: PriceRow) -> Result<PriceRow> {
        let mut am = price::ActiveModel::from(row);
        am.id = NotSet;
        Ok(am.insert(&self.db).await?)
    }
}
