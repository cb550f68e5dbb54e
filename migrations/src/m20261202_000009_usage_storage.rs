//! The usage ledger gets object storage's dimensions: bytes stored when the event was made, and
//! the requests (by price class) and bytes out counted since the bucket's previous event.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 4] = [
    "storage_bytes",
    "requests_tier1",
    "requests_tier2",
    "bytes_out",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for c in COLUMNS {
            db.execute_unprepared(&format!(
                "ALTER TABLE usage_events ADD COLUMN {c} BIGINT NOT NULL DEFAULT 0"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for c in COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE usage_events DROP COLUMN {c}"))
                .await?;
        }
        Ok(())
    }
}
