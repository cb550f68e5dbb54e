//! Queries of access keys.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::error::Result;
use crate::store::entity::access_key;
use crate::store::{AccessKeyRow, Store};

impl Store {
    pub async fn access_key_create(&self, row: AccessKeyRow) -> Result<AccessKeyRow> {
        let result: Result<AccessKeyRow> =
            async { Ok(access_key::ActiveModel::from(row).insert(&self.db).await?) }.await;
        self.iam_changed(result)
    }

    pub async fn access_key_get(&self, id: &str) -> Result<Option<AccessKeyRow>> {
        Ok(access_key::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn access_key_list_for_user(&self, user_id: &str) -> Result<Vec<AccessKeyRow>> {
        Ok(access_key::Entity::find()
            .filter(access_key::Column::UserId.eq(user_id))
            .order_by_asc(access_key::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn access_key_set_status(
        &self,
        id: &str,
        status: nuvem_api::iam::AccessKeyStatus,
    ) -> Result<AccessKeyRow> {
        let result: Result<AccessKeyRow> = async {
            Ok(access_key::ActiveModel {
                id: Set(id.to_owned()),
                status: Set(status.into()),
                ..Default::default()
            }
            .update(&self.db)
            .await?)
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn access_key_touch(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        access_key::ActiveModel {
            id: Set(id.to_owned()),
            last_used_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }

    pub async fn access_key_delete(&self, id: &str) -> Result<()> {
        let result: Result<()> = async {
            access_key::Entity::delete_by_id(id).exec(&self.db).await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }
}
