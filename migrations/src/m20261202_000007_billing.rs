//! Metering: the append-only usage ledger (lifecycle events and sampled use), the price catalog
//! (each price from its effective time), per-account metering clocks (the lecture's demo clock),
//! budgets and their alerts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageEvents {
    Table,
    Id,
    AccountId,
    Service,
    ResourceType,
    ResourceId,
    Change,
    Vcpus,
    MemoryMib,
    DiskGib,
    Sku,
    MeterAt,
    RecordedAt,
    Source,
}

#[derive(DeriveIden)]
enum UsageSamples {
    Table,
    Id,
    AccountId,
    ResourceId,
    MeterAt,
    RealSeconds,
    CpuSeconds,
    MemoryMib,
}

#[derive(DeriveIden)]
enum Prices {
    Table,
    Id,
    Sku,
    Currency,
    UnitPrice,
    EffectiveFrom,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BillingClocks {
    Table,
    Id,
    AccountId,
    RealFrom,
    MeterFrom,
    Factor,
    Paused,
}

#[derive(DeriveIden)]
enum Budgets {
    Table,
    AccountId,
    Amount,
    Currency,
    Thresholds,
    HardLimit,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BudgetAlerts {
    Table,
    Id,
    AccountId,
    Month,
    Threshold,
    Spent,
    MeterAt,
    Action,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageEvents::Table)
                    .col(id(UsageEvents::Id))
                    .col(
                        ColumnDef::new(UsageEvents::AccountId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::Service)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::ResourceType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::ResourceId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::Change)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UsageEvents::Vcpus).integer().not_null())
                    .col(
                        ColumnDef::new(UsageEvents::MemoryMib)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::DiskGib)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(UsageEvents::Sku).string_len(128).null())
                    .col(at(UsageEvents::MeterAt))
                    .col(at(UsageEvents::RecordedAt))
                    .col(
                        ColumnDef::new(UsageEvents::Source)
                            .string_len(16)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_events_account_meter_at")
                    .table(UsageEvents::Table)
                    .col(UsageEvents::AccountId)
                    .col(UsageEvents::MeterAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageSamples::Table)
                    .col(id(UsageSamples::Id))
                    .col(
                        ColumnDef::new(UsageSamples::AccountId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageSamples::ResourceId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(at(UsageSamples::MeterAt))
                    .col(
                        ColumnDef::new(UsageSamples::RealSeconds)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(UsageSamples::CpuSeconds).double().not_null())
                    .col(
                        ColumnDef::new(UsageSamples::MemoryMib)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_samples_account_meter_at")
                    .table(UsageSamples::Table)
                    .col(UsageSamples::AccountId)
                    .col(UsageSamples::MeterAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Prices::Table)
                    .col(id(Prices::Id))
                    .col(ColumnDef::new(Prices::Sku).string_len(128).not_null())
                    .col(ColumnDef::new(Prices::Currency).string_len(3).not_null())
                    // Exact decimal as text: no floating point anywhere near money.
                    .col(ColumnDef::new(Prices::UnitPrice).string_len(40).not_null())
                    .col(at(Prices::EffectiveFrom))
                    .col(at(Prices::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BillingClocks::Table)
                    .col(id(BillingClocks::Id))
                    .col(
                        ColumnDef::new(BillingClocks::AccountId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(at(BillingClocks::RealFrom))
                    .col(at(BillingClocks::MeterFrom))
                    .col(ColumnDef::new(BillingClocks::Factor).integer().not_null())
                    .col(ColumnDef::new(BillingClocks::Paused).boolean().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Budgets::Table)
                    .col(
                        ColumnDef::new(Budgets::AccountId)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Budgets::Amount).string_len(40).not_null())
                    .col(ColumnDef::new(Budgets::Currency).string_len(3).not_null())
                    .col(
                        ColumnDef::new(Budgets::Thresholds)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Budgets::HardLimit).boolean().not_null())
                    .col(at(Budgets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BudgetAlerts::Table)
                    .col(id(BudgetAlerts::Id))
                    .col(
                        ColumnDef::new(BudgetAlerts::AccountId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetAlerts::Month).string_len(7).not_null())
                    .col(ColumnDef::new(BudgetAlerts::Threshold).integer().not_null())
                    .col(
                        ColumnDef::new(BudgetAlerts::Spent)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(at(BudgetAlerts::MeterAt))
                    .col(ColumnDef::new(BudgetAlerts::Action).text().not_null())
                    .to_owned(),
            )
            .await?;
        // An alert fires once per threshold and month, whoever records it first.
        manager
            .create_index(
                Index::create()
                    .name("ux_budget_alerts_once")
                    .table(BudgetAlerts::Table)
                    .col(BudgetAlerts::AccountId)
                    .col(BudgetAlerts::Month)
                    .col(BudgetAlerts::Threshold)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BudgetAlerts::Table.into_iden(),
            Budgets::Table.into_iden(),
            BillingClocks::Table.into_iden(),
            Prices::Table.into_iden(),
            UsageSamples::Table.into_iden(),
            UsageEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
