//! Queries of the usage ledger: lifecycle events and samples, appended and never changed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::{UsageEventRow, UsageSampleRow};
use crate::error::Result;
use crate::store::Store;
use crate::store::entity::billing::{usage_event, usage_sample};

/// What rating needs of one ledger event.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct RatingRow {
    pub meter_at: DateTime<Utc>,
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    pub change: String,
    pub vcpus: i32,
    pub memory_mib: i64,
    pub disk_gib: i64,
    pub sku: Option<String>,
    pub storage_bytes: i64,
    pub requests_tier1: i64,
    pub requests_tier2: i64,
    pub bytes_out: i64,
}

impl Store {
    pub async fn usage_event_append(&self, row: UsageEventRow) -> Result<UsageEventRow> {
        let mut am = usage_event::ActiveModel::from(row);
        am.id = NotSet;
        Ok(am.insert(&self.db).await?)
    }

    /// Appends many events in one transaction (a benchmark, or a reconciler's corrections).
    pub async fn usage_event_append_all(&self, rows: Vec<UsageEventRow>) -> Result<()> {
        let txn = self.db.begin().await?;
        for row in rows {
            let mut am = usage_event::ActiveModel::from(row);
            am.id = NotSet;
            am.insert(&txn).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Every event, oldest first: rebuilding what is open at start.
    pub async fn usage_event_list_all(&self) -> Result<Vec<UsageEventRow>> {
        Ok(usage_event::Entity::find()
            .order_by_asc(usage_event::Column::MeterAt)
            .order_by_asc(usage_event::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// An account's events before `until` (metered time), oldest first.
    pub async fn usage_event_list(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<UsageEventRow>> {
        Ok(usage_event::Entity::find()
            .filter(usage_event::Column::AccountId.eq(account_id))
            .filter(usage_event::Column::MeterAt.lt(until))
            .order_by_asc(usage_event::Column::MeterAt)
            .order_by_asc(usage_event::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// What rating needs of an account's events before `until`, oldest first: fewer columns
    /// than [`Store::usage_event_list`], read into a plain struct (a month can hold 100,000 rows).
    pub async fn usage_event_list_for_rating(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<RatingRow>> {
        use usage_event::Column as C;
        Ok(usage_event::Entity::find()
            .select_only()
            .columns([
                C::MeterAt,
                C::Service,
                C::ResourceType,
                C::ResourceId,
                C::Change,
                C::Vcpus,
                C::MemoryMib,
                C::DiskGib,
                C::Sku,
                C::StorageBytes,
                C::RequestsTier1,
                C::RequestsTier2,
                C::BytesOut,
            ])
            .filter(C::AccountId.eq(account_id))
            .filter(C::MeterAt.lt(until))
            .order_by_asc(C::MeterAt)
            .order_by_asc(C::Id)
            .into_model::<RatingRow>()
            .all(&self.db)
            .await?)
    }

    pub async fn usage_sample_append_all(&self, rows: Vec<UsageSampleRow>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let models = rows.into_iter().map(|r| {
            let mut am = usage_sample::ActiveModel::from(r);
            am.id = NotSet;
            am
        });
        usage_sample::Entity::insert_many(models)
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// An account's samples in `[from, until)` (metered time).
    pub async fn usage_sample_list(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<UsageSampleRow>> {
        Ok(usage_sample::Entity::find()
            .filter(usage_sample::Column::AccountId.eq(account_id))
            .filter(usage_sample::Column::MeterAt.gte(from))
            .filter(usage_sample::Column::MeterAt.lt(until))
            .all(&self.db)
            .await?)
    }

    /// Forgets an account's ledger (the account is deleted; its bills go with it).
    pub async fn usage_purge_account(&self, account_id: &str) -> Result<()> {
        usage_event::Entity::delete_many()
            .filter(usage_event::Column::AccountId.eq(account_id))
            .exec(&self.db)
            .await?;
        usage_sample::Entity::delete_many()
            .filter(usage_sample::Column::AccountId.eq(account_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
