//! Queries of images.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::ImageRow;
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::compute::{image, instance};

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
}
