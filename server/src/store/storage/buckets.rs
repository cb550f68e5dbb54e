//! Queries of buckets.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::BucketRow;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::bucket;

impl Store {
    /// Claims a global bucket name for an account; `AlreadyExists` when anyone holds it.
    pub async fn bucket_create(&self, row: BucketRow) -> Result<BucketRow> {
        let result: Result<BucketRow> = async {
            let name = row.name.clone();
            bucket::ActiveModel::from(row)
                .insert(&self.db)
                .await
                .map_err(|e| Error::from_db(e, || format!("bucket '{name}' already exists")))
        }
        .await;
        self.buckets_changed(result)
    }

    pub async fn bucket_get(&self, name: &str) -> Result<Option<BucketRow>> {
        Ok(bucket::Entity::find_by_id(name).one(&self.db).await?)
    }

    pub async fn bucket_list_for_account(&self, account_id: &str) -> Result<Vec<BucketRow>> {
        Ok(bucket::Entity::find()
            .filter(bucket::Column::AccountId.eq(account_id))
            .order_by_asc(bucket::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn bucket_list_all(&self) -> Result<Vec<BucketRow>> {
        Ok(bucket::Entity::find()
            .order_by_asc(bucket::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn bucket_set_policy(&self, name: &str, policy: Option<String>) -> Result<()> {
        let result: Result<()> = async {
            let row = bucket::ActiveModel {
                name: Set(name.to_owned()),
                policy: Set(policy),
                ..Default::default()
            };
            bucket::Entity::update(row)
                .filter(bucket::Column::Name.eq(name))
                .exec(&self.db)
                .await?;
            Ok(())
        }
        .await;
        self.buckets_changed(result)
    }

    /// Sets (`Some((index, error))`) or removes (`None`) the bucket's website documents.
    pub async fn bucket_set_website(
        &self,
        name: &str,
        website: Option<(String, Option<String>)>,
    ) -> Result<()> {
        let result: Result<()> = async {
            let (index, error) = match website {
                Some((index, error)) => (Some(index), error),
                None => (None, None),
            };
            let row = bucket::ActiveModel {
                name: Set(name.to_owned()),
                website_index: Set(index),
                website_error: Set(error),
                ..Default::default()
            };
            bucket::Entity::update(row)
                .filter(bucket::Column::Name.eq(name))
                .exec(&self.db)
                .await?;
            Ok(())
        }
        .await;
        self.buckets_changed(result)
    }

    pub async fn bucket_delete(&self, name: &str) -> Result<()> {
        let result: Result<()> = async {
            bucket::Entity::delete_by_id(name).exec(&self.db).await?;
            Ok(())
        }
        .await;
        self.buckets_changed(result)
    }
}
