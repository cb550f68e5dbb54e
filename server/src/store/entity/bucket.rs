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
    /// The website's index document (a suffix without `/`); `None`: no website.
    pub website_index: Option<String>,
    /// The website's error document (an object key); `None`: a plain error page.
    pub website_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
