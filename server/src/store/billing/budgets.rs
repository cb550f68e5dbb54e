//! Queries of budgets and the alerts they raised.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, QueryFilter, QueryOrder,
};

use super::{BudgetAlertRow, BudgetRow};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::entity::billing::{budget, budget_alert};

impl Store {
    pub async fn budget_get(&self, account_id: &str) -> Result<Option<BudgetRow>> {
        Ok(budget::Entity::find_by_id(account_id).one(&self.db).await?)
    }

    pub async fn budget_list(&self) -> Result<Vec<BudgetRow>> {
        Ok(budget::Entity::find().all(&self.db).await?)
    }

    pub async fn budget_put(&self, row: BudgetRow) -> Result<BudgetRow> {
        if self.budget_get(&row.account_id).await?.is_some() {
            let mut am = row.clone().into_active_model();
            am.amount = sea_orm::Set(row.amount);
            am.currency = sea_orm::Set(row.currency);
            am.thresholds = sea_orm::Set(row.thresholds);
            am.hard_limit = sea_orm::Set(row.hard_limit);
            am.updated_at = sea_orm::Set(row.updated_at);
            Ok(am.update(&self.db).await?)
        } else {
            Ok(budget::ActiveModel::from(row).insert(&self.db).await?)
        }
    }

    pub async fn budget_delete(&self, account_id: &str) -> Result<bool> {
        let res = budget::Entity::delete_by_id(account_id)
            .exec(&self.db)
            .await?;
        budget_alert::Entity::delete_many()
            .filter(budget_alert::Column::AccountId.eq(account_id))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Records an alert; `false` when this threshold already fired this month (it fires once).
    pub async fn budget_alert_add(&self, row: BudgetAlertRow) -> Result<bool> {
        let mut am = budget_alert::ActiveModel::from(row);
        am.id = NotSet;
        match am.insert(&self.db).await {
            Ok(_) => Ok(true),
            Err(e) => match Error::from_db(e, String::new) {
                Error::AlreadyExists(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Changes what an alert says was done (the hard limit adds the resources it stopped).
    pub async fn budget_alert_note(&self, row: BudgetAlertRow, action: String) -> Result<()> {
        let mut am = row.into_active_model();
        am.action = sea_orm::Set(action);
        am.update(&self.db).await?;
        Ok(())
    }

    pub async fn budget_alert_list(
        &self,
        account_id: &str,
        month: &str,
    ) -> Result<Vec<BudgetAlertRow>> {
        Ok(budget_alert::Entity::find()
            .filter(budget_alert::Column::AccountId.eq(account_id))
            .filter(budget_alert::Column::Month.eq(month))
            .order_by_asc(budget_alert::Column::Threshold)
            .all(&self.db)
            .await?)
    }
}
