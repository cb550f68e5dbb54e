//! Object storage: the `buckets` table. Bucket names are global (as in AWS), so the name is the
//! key; each bucket belongs to one account. The objects themselves live in the S3 engine.
//!
//! No foreign key to `accounts`: the engine holds the objects, so a bucket row must outlive a
//! failed deletion until the engine has let go of the bucket too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Buckets {
    Table,
    Name,
    AccountId,
    Policy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Buckets::Table)
                    .col(
                        ColumnDef::new(Buckets::Name)
                            .string_len(63)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Buckets::AccountId).string_len(32).not_null())
                    // The bucket policy as JSON text, validated on write (None: no policy).
                    .col(ColumnDef::new(Buckets::Policy).text().null())
                    .col(
                        ColumnDef::new(Buckets::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_buckets_account")
                    .table(Buckets::Table)
                    .col(Buckets::AccountId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Buckets::Table).to_owned())
            .await
    }
}
