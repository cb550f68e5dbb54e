//! Entities of metering and billing, one module per table.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// One lifecycle change of something that costs, on the account's metering clock. Append-only.
pub mod usage_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: String,
        pub service: String,
        pub resource_type: String,
        pub resource_id: String,
        /// `created`, `started`, `stopped`, `resized` or `deleted`.
        pub change: String,
        pub vcpus: i32,
        pub memory_mib: i64,
        pub disk_gib: i64,
        pub sku: Option<String>,
        /// Object storage: bytes stored; requests by class and bytes out since the last event.
        pub storage_bytes: i64,
        pub requests_tier1: i64,
        pub requests_tier2: i64,
        pub bytes_out: i64,
        /// When it happened on the account's metering clock (real time unless a demo clock runs).
        pub meter_at: DateTimeUtc,
        /// When it was written, in real time.
        pub recorded_at: DateTimeUtc,
        /// `event` (the service reported it) or `reconciler` (found by comparing with reality).
        pub source: String,
    }

    no_relations!();
}

/// What a running resource actually used between two samples (CPU time, resident memory).
pub mod usage_sample {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_samples")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: String,
        pub resource_id: String,
        pub meter_at: DateTimeUtc,
        /// Real seconds since the previous sample of the resource.
        pub real_seconds: f64,
        /// CPU seconds it used in them.
        pub cpu_seconds: f64,
        pub memory_mib: i64,
    }

    no_relations!();
}

pub mod price {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "prices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub sku: String,
        pub currency: String,
        /// Exact decimal as text.
        pub unit_price: String,
        /// Real time.
        pub effective_from: DateTimeUtc,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

/// One segment of an account's metering clock: from `real_from` on, metered time is `meter_from`
/// plus the real time elapsed since, times `factor` (or stands still while paused).
pub mod billing_clock {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "billing_clocks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: String,
        pub real_from: DateTimeUtc,
        pub meter_from: DateTimeUtc,
        pub factor: i32,
        pub paused: bool,
    }

    no_relations!();
}

pub mod budget {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budgets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: String,
        pub amount: String,
        pub currency: String,
        /// Percentages, comma-separated and ascending: `50,80,100`.
        pub thresholds: String,
        pub hard_limit: bool,
        pub updated_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod budget_alert {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_alerts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: String,
        pub month: String,
        pub threshold: i32,
        pub spent: String,
        pub meter_at: DateTimeUtc,
        pub action: String,
    }

    no_relations!();
}
