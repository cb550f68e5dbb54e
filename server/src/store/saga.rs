//! Queries of the saga log (`saga/`).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::Store;
use super::entity::saga;
use crate::error::Result;
use crate::saga::SagaState;

pub use super::entity::saga::Model as SagaRow;

/// Saga states that still need work (a live executor, or recovery after a restart).
pub const SAGA_UNFINISHED: [SagaState; 3] =
    [SagaState::Running, SagaState::Unwinding, SagaState::Stuck];

impl Store {
    pub async fn saga_create(&self, row: SagaRow) -> Result<SagaRow> {
        Ok(saga::ActiveModel::from(row).insert(&self.db).await?)
    }

    /// Records a saga's progress: its state, how far it got, its data and error.
    pub async fn saga_save(&self, row: &SagaRow) -> Result<()> {
        let mut am = row.clone().into_active_model();
        am.state = Set(row.state);
        am.progress = Set(row.progress);
        am.data = Set(row.data.clone());
        am.error = Set(row.error.clone());
        am.updated_at = Set(Utc::now());
        am.update(&self.db).await?;
        Ok(())
    }

    pub async fn saga_get(&self, id: &str) -> Result<Option<SagaRow>> {
        Ok(saga::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Sagas not yet done or unwound, oldest first.
    pub async fn saga_list_unfinished(&self) -> Result<Vec<SagaRow>> {
        let mut rows = saga::Entity::find()
            .filter(saga::Column::State.is_in(SAGA_UNFINISHED.map(SagaState::as_str)))
            .all(&self.db)
            .await?;
        rows.sort_by_key(|r| r.created_at);
        Ok(rows)
    }

    /// Unfinished sagas working on one resource (such as `instance/i-…`).
    pub async fn saga_list_unfinished_for(&self, resource: &str) -> Result<Vec<SagaRow>> {
        Ok(saga::Entity::find()
            .filter(saga::Column::Resource.eq(resource))
            .filter(saga::Column::State.is_in(SAGA_UNFINISHED.map(SagaState::as_str)))
            .all(&self.db)
            .await?)
    }

    /// Every saga of one kind (tests and the operator's view).
    pub async fn saga_list_kind(&self, kind: &str) -> Result<Vec<SagaRow>> {
        Ok(saga::Entity::find()
            .filter(saga::Column::Kind.eq(kind))
            .all(&self.db)
            .await?)
    }

    /// Forgets finished sagas last touched before `before`; returns how many.
    pub async fn saga_prune_finished(&self, before: DateTime<Utc>) -> Result<u64> {
        let res = saga::Entity::delete_many()
            .filter(
                saga::Column::State
                    .is_in([SagaState::Done, SagaState::Unwound].map(SagaState::as_str)),
            )
            .filter(saga::Column::UpdatedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}
