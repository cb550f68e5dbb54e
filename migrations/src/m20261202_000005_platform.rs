//! The shared platform: the saga log, and instances with a generation (optimistic concurrency),
//! JSON columns and no launch-step column (a launch's progress lives in its saga now). Hosts get
//! the memory they keep for themselves, which the operator changes live with their ratio.
//!
//! Existing databases upgrade in place: instances keep their rows (generation 0), and on
//! PostgreSQL the JSON text columns become `jsonb` (SQLite keeps JSON as text either way).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sagas {
    Table,
    Id,
    Kind,
    Resource,
    State,
    Progress,
    Data,
    Error,
    CreatedAt,
    UpdatedAt,
}

/// The instance columns that hold JSON.
const INSTANCE_JSON_COLUMNS: [&str; 3] = ["security_group_ids", "pinned_cpus", "tags"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let mut data = ColumnDef::new(Sagas::Data);
        if postgres {
            data.json_binary();
        } else {
            data.text();
        }
        manager
            .create_table(
                Table::create()
                    .table(Sagas::Table)
                    .col(
                        ColumnDef::new(Sagas::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Sagas::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(Sagas::Resource).string_len(255).not_null())
                    .col(ColumnDef::new(Sagas::State).string_len(16).not_null())
                    .col(ColumnDef::new(Sagas::Progress).integer().not_null())
                    .col(data.not_null())
                    .col(ColumnDef::new(Sagas::Error).text().null())
                    .col(
                        ColumnDef::new(Sagas::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sagas::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sagas_state")
                    .table(Sagas::Table)
                    .col(Sagas::State)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Plain SQL that SQLite (3.35+) and PostgreSQL both accept.
        db.execute_unprepared(
            "ALTER TABLE instances ADD COLUMN generation BIGINT NOT NULL DEFAULT 0",
        )
        .await?;
        db.execute_unprepared("ALTER TABLE instances DROP COLUMN step")
            .await?;
        // The operator changes a host's capacity live (ratio and reserved memory).
        db.execute_unprepared(
            "ALTER TABLE hosts ADD COLUMN reserved_memory_mib BIGINT NOT NULL DEFAULT 1024",
        )
        .await?;
        if postgres {
            for c in INSTANCE_JSON_COLUMNS {
                // Older rows may hold '' where serialising failed; they become empty values.
                let empty = if c == "tags" { "{}" } else { "[]" };
                db.execute_unprepared(&format!(
                    "ALTER TABLE instances ALTER COLUMN {c} TYPE jsonb \
                     USING (CASE WHEN {c} = '' THEN '{empty}' ELSE {c} END)::jsonb"
                ))
                .await?;
            }
        } else {
            for c in INSTANCE_JSON_COLUMNS {
                let empty = if c == "tags" { "{}" } else { "[]" };
                db.execute_unprepared(&format!(
                    "UPDATE instances SET {c} = '{empty}' WHERE {c} = ''"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for c in INSTANCE_JSON_COLUMNS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE instances ALTER COLUMN {c} TYPE text USING {c}::text"
                ))
                .await?;
            }
        }
        db.execute_unprepared("ALTER TABLE instances ADD COLUMN step INTEGER NOT NULL DEFAULT 5")
            .await?;
        db.execute_unprepared("ALTER TABLE instances DROP COLUMN generation")
            .await?;
        db.execute_unprepared("ALTER TABLE hosts DROP COLUMN reserved_memory_mib")
            .await?;
        manager
            .drop_table(Table::drop().table(Sagas::Table).to_owned())
            .await
    }
}
