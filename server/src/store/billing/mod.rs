//! Queries of metering and billing, one file per resource.

mod budgets;
mod clocks;
mod ledger;

pub use ledger::RatingRow;
mod prices;

pub use super::entity::billing::{
    billing_clock::Model as ClockRow, budget::Model as BudgetRow,
    budget_alert::Model as BudgetAlertRow, price::Model as PriceRow,
    usage_event::Model as UsageEventRow, usage_sample::Model as UsageSampleRow,
};
