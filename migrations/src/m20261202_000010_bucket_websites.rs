//! Static website hosting: a bucket's index and error documents, on the bucket's own row (the
//! website listener reads owner, policy and website in one lookup). Both empty: no website.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Buckets {
    Table,
    WebsiteIndex,
    WebsiteError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Buckets::Table)
                    // The suffix served for paths ending in `/` (None: no website).
                    .add_column(
                        ColumnDef::new(Buckets::WebsiteIndex)
                            .string_len(1024)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Buckets::Table)
                    // The key served with a 4xx status (None: a plain page).
                    .add_column(
                        ColumnDef::new(Buckets::WebsiteError)
                            .string_len(1024)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Buckets::WebsiteError, Buckets::WebsiteIndex] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Buckets::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
