use sea_orm::entity::prelude::*;

/// A bucket: a global name owned by one account. The objects are in the S3 engine.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "buckets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub account_id: String,
    /// The bucket policy (JSON text, validated when it was put); `None`: no policy.
    pub policy: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
