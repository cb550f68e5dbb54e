//! How billing's answers look in tables: a row per price, line item, account, resource or alert,
//! and label/value lines for an estimate, a budget, a clock and a CapEx comparison.

use nuvem_api::billing::*;

use crate::output::{Detail, Tabular, timestamp};

impl Tabular for Price {
    const COLUMNS: &'static [&'static str] =
        &["SKU", "PRICE", "CURRENCY", "PER", "SINCE", "DESCRIPTION"];

    fn row(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.unit_price.to_string(),
            self.currency.to_string(),
            self.unit.clone(),
            if self.effective_from.timestamp() == 0 {
                "always".into()
            } else {
                timestamp(&self.effective_from)
            },
            self.description.clone(),
        ]
    }
}

impl Tabular for LineItem {
    const COLUMNS: &'static [&'static str] = &[
        "SERVICE",
        "RESOURCE",
        "USAGE",
        "QUANTITY",
        "UNIT",
        "UNIT PRICE",
        "AMOUNT",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.service.clone(),
            self.resource_id.clone(),
            self.usage_type.clone(),
            self.quantity.to_string(),
            self.unit.clone(),
            self.unit_price.to_string(),
            self.amount.to_string(),
        ]
    }
}

impl Tabular for AccountTotal {
    const COLUMNS: &'static [&'static str] = &["ACCOUNT", "TOTAL", "CLOCK"];

    fn row(&self) -> Vec<String> {
        vec![
            self.account.clone(),
            self.total.to_string(),
            self.demo_clock
                .as_ref()
                .map(|d| format!("demo {}×", d.factor))
                .unwrap_or_else(|| "real time".into()),
        ]
    }
}

impl Tabular for ResourceUsage {
    const COLUMNS: &'static [&'static str] = &[
        "SERVICE",
        "RESOURCE",
        "RAN",
        "RESERVED",
        "USED (AVG)",
        "MEMORY USED",
        "SAMPLES",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.service.clone(),
            self.resource_id.clone(),
            format!("{:.2} h", self.running_seconds as f64 / 3600.0),
            format!(
                "{} vCPU, {} MiB",
                self.reserved_vcpus, self.reserved_memory_mib
            ),
            self.used_vcpus_average
                .map(|v| format!("{v:.2} vCPU"))
                .unwrap_or_else(|| "-".into()),
            self.used_memory_mib_average
                .map(|m| format!("{m} MiB"))
                .unwrap_or_else(|| "-".into()),
            self.samples.to_string(),
        ]
    }
}

impl Tabular for BudgetAlert {
    const COLUMNS: &'static [&'static str] = &["THRESHOLD", "SPENT", "AT", "ACTION"];

    fn row(&self) -> Vec<String> {
        vec![
            format!("{} %", self.threshold),
            self.spent.to_string(),
            timestamp(&self.at),
            self.action.clone(),
        ]
    }
}

impl Detail for Estimate {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Account", self.account.clone()),
            ("Month", self.month.clone()),
            ("Now", timestamp(&self.now)),
            ("Accrued", format!("{} {}", self.accrued, self.currency)),
            (
                "Rate now",
                format!("{} {}/hour", self.hourly_rate, self.currency),
            ),
            (
                "Forecast",
                format!("{} {} by month end", self.forecast, self.currency),
            ),
            ("Running", self.running.len().to_string()),
        ]
    }
}

impl Detail for Budget {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Account", self.account.clone()),
            (
                "Budget",
                format!("{} {} a month", self.amount, self.currency),
            ),
            (
                "Spent",
                format!(
                    "{} {} ({:.1} %)",
                    self.spent, self.currency, self.percent_used
                ),
            ),
            (
                "Alerts at",
                self.thresholds
                    .iter()
                    .map(|t| format!("{t} %"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Hard limit",
                if self.hard_limit {
                    "yes: at 100 % the account's instances are stopped".into()
                } else {
                    "no".into()
                },
            ),
        ]
    }
}

impl Detail for Clock {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Account", self.account.clone()),
            (
                "Clock",
                match (self.factor, self.paused) {
                    (_, true) => format!("paused (factor {}×)", self.factor),
                    (1, false) if !self.demo => "real time".into(),
                    (f, false) => format!("demo clock, {f}× real time"),
                },
            ),
            ("Now (metered)", timestamp(&self.now)),
            ("Now (real)", timestamp(&self.real_now)),
        ]
    }
}

impl Detail for CapexComparison {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let c = self.currency;
        vec![
            ("Month", self.month.clone()),
            (
                "Owning",
                format!(
                    "{} {c}/month ({} depreciation + {} power)",
                    self.owning_per_month,
                    self.owning_depreciation_per_month,
                    self.owning_power_per_month
                ),
            ),
            ("Renting", format!("{} {c}/month", self.renting_per_month)),
            (
                "Reserved",
                format!("{} vCPU-hours", self.reserved_vcpu_hours),
            ),
            (
                "Utilization",
                format!("{:.2} % of the server", self.utilization_percent),
            ),
            (
                "Break-even",
                self.break_even_utilization_percent
                    .map(|b| format!("{b:.1} % utilization"))
                    .unwrap_or_else(|| "-".into()),
            ),
            ("Verdict", self.verdict.clone()),
        ]
    }
}
