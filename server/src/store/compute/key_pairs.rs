//! Queries of key pairs.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::KeyPairRow;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::compute::key_pair;

impl Store {
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
}
