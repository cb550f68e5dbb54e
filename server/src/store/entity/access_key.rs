use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_keys")]
pub struct Model {
    /// The access key id (public half).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    /// The secret, encrypted with the server's data key (AES-256-GCM, base64 of nonce||ciphertext).
    pub secret_ciphertext: String,
    /// `Active` or `Inactive`.
    pub status: crate::store::column::Text<nuvem_api::iam::AccessKeyStatus>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
