//! VPC and subnet names as wide as their validation: `validate::label` takes 1–255 characters (as
//! AWS takes for a Name tag or a security group name), but the columns were `varchar(128)`, so a
//! name of 129–255 characters passed validation and then failed on PostgreSQL with a 500.
//!
//! PostgreSQL widens the columns in place. SQLite does not enforce a `varchar` length, so it has
//! nothing to change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Vpcs {
    Table,
    Name,
}

#[derive(DeriveIden)]
enum Subnets {
    Table,
    Name,
}

/// The longest label (`nuvem_api::validate::label`).
const NAME: u32 = 255;
/// The width before this migration.
const OLD_NAME: u32 = 128;

async fn set_width(m: &SchemaManager<'_>, width: u32) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for (table, name) in [
        (Vpcs::Table.into_iden(), Vpcs::Name.into_iden()),
        (Subnets::Table.into_iden(), Subnets::Name.into_iden()),
    ] {
        m.alter_table(
            Table::alter()
                .table(table)
                .modify_column(ColumnDef::new(name).string_len(width).not_null())
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, NAME).await
    }

    /// Fails on PostgreSQL while a name longer than 128 characters is stored.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, OLD_NAME).await
    }
}
