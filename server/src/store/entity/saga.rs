use sea_orm::entity::prelude::*;

/// One multi-step operation (`saga/`): which kind, on which resource, how far it got, and the
/// data its steps share, so that a restarted server can finish or unwind it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sagas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The saga's kind, such as `compute.instance-launch`; recovery dispatches on it.
    pub kind: String,
    /// What it works on, such as `instance/i-0a1b2c3d`.
    pub resource: String,
    /// `running`, `unwinding`, `done`, `unwound` or `stuck`.
    pub state: crate::store::column::Text<crate::saga::SagaState>,
    /// Running: how many steps have completed. Unwinding: how many remain to be undone.
    pub progress: i32,
    /// The state the steps share (the saga kind's `State`), as JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    /// Why it is unwinding (the failed step's error), or why an undo failed too.
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
