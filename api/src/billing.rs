//! Metering and pay-as-you-go billing: the usage ledger, the price catalog, bills, budgets, the
//! demo clock for lectures and the CapEx-versus-OpEx calculator.
//!
//! Money is exact decimal (`rust_decimal`), sent as a JSON string such as `"0.0104"`, never as a
//! floating-point number.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every billing action Nuvem authorizes (`billing:<Action>`).
pub const ACTIONS: &[&str] = &[
    "billing:GetUsage",
    "billing:GetBill",
    "billing:GetEstimate",
    "billing:ListPrices",
    "billing:SetPrice",
    "billing:GetBudget",
    "billing:SetBudget",
    "billing:DeleteBudget",
    "billing:GetClock",
    "billing:SetClock",
    "billing:CalculateCapex",
    "billing:ListBills",
];

/// The largest demo-clock factor: one real second is one metered day.
pub const MAX_CLOCK_FACTOR: u32 = 86_400;
/// Hours in a billing month, for prices per month (GiB-month), as AWS counts them.
pub const HOURS_PER_MONTH: i64 = 730;

/// The currencies prices are kept in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Brl,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Brl => "BRL",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "USD" => Some(Currency::Usd),
            "BRL" => Some(Currency::Brl),
            _ => None,
        }
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the price catalog, in force from `effective_from` until the next entry of the
/// same SKU and currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Price {
    /// What is priced: `ec2.instance.t3.micro`, `ec2.disk`, `vpc.port-forward`, …
    pub sku: String,
    pub description: String,
    /// The unit the price is per: `hour`, `GiB-month`, `1000 requests`, `GiB`.
    pub unit: String,
    pub currency: Currency,
    #[schema(value_type = String, example = "0.0104")]
    pub unit_price: Decimal,
    pub effective_from: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    /// The prices in force now, one per SKU and currency.
    pub items: Vec<Price>,
    /// Price changes announced for later (effective time in the future).
    pub scheduled: Vec<Price>,
}

/// Set the price of one SKU from a time on (operator only). A change never applies retroactively:
/// the effective time is now or later.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriceRequest {
    pub sku: String,
    pub currency: Currency,
    /// A decimal number as text, such as `"0.0125"`; zero or more.
    #[schema(example = "0.0125")]
    pub unit_price: String,
    /// When it applies; now when omitted. A time in the past is refused.
    pub effective_from: Option<DateTime<Utc>>,
}

/// Query of the bill, usage and estimate calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BillParams {
    /// The month, `YYYY-MM`; the running month (on the account's clock) when omitted.
    pub month: Option<String>,
    /// Another account's name (operator only); the caller's own when omitted.
    pub account: Option<String>,
    /// `USD` or `BRL`; the server's billing currency when omitted.
    pub currency: Option<String>,
}

/// One line of a bill: a resource's usage of one kind, at one unit price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LineItem {
    /// `ec2`, `vpc`, `apps`, `s3`, …
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    /// `running`, `disk`, `exists`, …
    pub usage_type: String,
    pub sku: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub unit: String,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    /// `quantity × unit_price`, rounded to 4 decimal places (half away from zero).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Metered seconds behind the quantity (after the 60-second minimum per start).
    pub seconds: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The demo clock a bill or view was made under, shown on it so nobody mistakes it for real time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DemoClockMark {
    /// The largest factor in force during the period (3600: one second is one hour).
    pub factor: u32,
    pub note: String,
}

/// A month's bill of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    pub account: String,
    pub account_id: String,
    /// `YYYY-MM`.
    pub month: String,
    pub currency: Currency,
    /// `final` for a past month, `estimate` for the running one.
    pub status: String,
    /// The end of what is counted: the month's end, or now on the account's clock.
    pub through: DateTime<Utc>,
    pub line_items: Vec<LineItem>,
    /// The sum of the line items' amounts.
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Totals per service, adding up to `total`.
    pub by_service: Vec<ServiceTotal>,
    /// Set when a demo clock ran during the month.
    pub demo_clock: Option<DemoClockMark>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceTotal {
    pub service: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// Every account's bill for a month (operator only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BillSummary {
    pub month: String,
    pub currency: Currency,
    pub items: Vec<AccountTotal>,
    #[schema(value_type = String)]
    pub total: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountTotal {
    pub account: String,
    pub account_id: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub demo_clock: Option<DemoClockMark>,
}

/// The running month so far, and where it is heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Estimate {
    pub account: String,
    pub month: String,
    pub currency: Currency,
    /// Now, on the account's clock.
    pub now: DateTime<Utc>,
    /// Accrued this month until now.
    #[schema(value_type = String)]
    pub accrued: Decimal,
    /// What the resources running now cost per hour.
    #[schema(value_type = String)]
    pub hourly_rate: Decimal,
    /// `accrued` plus `hourly_rate` until the month ends.
    #[schema(value_type = String)]
    pub forecast: Decimal,
    /// What accrues now, one entry per resource.
    pub running: Vec<RunningResource>,
    pub demo_clock: Option<DemoClockMark>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunningResource {
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    pub usage_type: String,
    #[schema(value_type = String)]
    pub hourly_rate: Decimal,
}

/// What each resource reserved, and what it used, over a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub account: String,
    pub month: String,
    pub items: Vec<ResourceUsage>,
    pub demo_clock: Option<DemoClockMark>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceUsage {
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    /// Metered seconds it ran this month.
    pub running_seconds: i64,
    /// vCPUs it reserved while running.
    pub reserved_vcpus: u32,
    pub reserved_memory_mib: u64,
    /// vCPUs it used on average while sampled (CPU time over wall time, from libvirt or the
    /// container's cgroup); absent before the first two samples.
    pub used_vcpus_average: Option<f64>,
    /// Average resident memory while sampled.
    pub used_memory_mib_average: Option<u64>,
    pub samples: u64,
}

/// A budget for one account's monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    pub account: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    /// Percentages of `amount` that raise an alert, ascending (50, 80, 100).
    pub thresholds: Vec<u32>,
    /// At 100 %: stop the account's running instances (and scale its apps to zero).
    pub hard_limit: bool,
    /// This month's cost so far.
    #[schema(value_type = String)]
    pub spent: Decimal,
    pub percent_used: f64,
    /// This month's alerts, oldest first.
    pub alerts: Vec<BudgetAlert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudgetRequest {
    /// A positive decimal as text.
    #[schema(example = "50.00")]
    pub amount: String,
    pub currency: Currency,
    /// Ascending, each 1 to 1000; `[50, 80, 100]` when omitted.
    pub thresholds: Option<Vec<u32>>,
    pub hard_limit: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetAlert {
    pub month: String,
    pub threshold: u32,
    #[schema(value_type = String)]
    pub spent: Decimal,
    /// On the account's clock.
    pub at: DateTime<Utc>,
    /// What was done about it: `alert`, or which resources the hard limit stopped.
    pub action: String,
}

/// The metering clock of one account. Real time unless the operator set a demo clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Clock {
    pub account: String,
    /// 1 is real time; 3600 makes one real second one metered hour.
    pub factor: u32,
    pub paused: bool,
    /// Now on this clock.
    pub now: DateTime<Utc>,
    pub real_now: DateTime<Utc>,
    /// Whether a demo clock ever ran for this account (its bills say so).
    pub demo: bool,
}

/// Change an account's metering clock (operator only).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClockRequest {
    /// 1 to 86400; unchanged when omitted.
    pub factor: Option<u32>,
    /// Freeze or resume the clock.
    pub paused: Option<bool>,
    /// Move the clock forward by this many metered seconds at once (at most a year).
    pub advance_seconds: Option<u64>,
}

/// Owning a server against renting from Nuvem, with this account's usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapexRequest {
    pub currency: Currency,
    /// What buying the server costs, as decimal text.
    pub purchase_price: String,
    /// How many months it is used before it is replaced.
    pub lifetime_months: u32,
    /// Its average power draw.
    pub power_watts: u32,
    /// Electricity price per kWh, as decimal text.
    pub electricity_price_per_kwh: String,
    /// The server's vCPUs: how much of it this account's usage would fill.
    pub server_vcpus: u32,
    /// The month whose usage is compared; the running month when omitted.
    pub month: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CapexComparison {
    pub month: String,
    pub currency: Currency,
    /// Owning: the purchase spread over its lifetime, per month (paid whether used or not).
    #[schema(value_type = String)]
    pub owning_depreciation_per_month: Decimal,
    /// Owning: power for a month of being on.
    #[schema(value_type = String)]
    pub owning_power_per_month: Decimal,
    #[schema(value_type = String)]
    pub owning_per_month: Decimal,
    /// Renting: this account's bill for the month (the forecast, for the running month).
    #[schema(value_type = String)]
    pub renting_per_month: Decimal,
    /// vCPU-hours this account reserved in the month (for the running month, what runs now
    /// projected to its end, as the renting side is).
    #[schema(value_type = String)]
    pub reserved_vcpu_hours: Decimal,
    /// How much of the owned server that usage would fill, 0–100 %.
    pub utilization_percent: f64,
    /// Renting costs this fraction of owning (below 1: renting is cheaper).
    pub renting_to_owning_ratio: f64,
    /// The usage at which both cost the same, as a percentage of the server.
    pub break_even_utilization_percent: Option<f64>,
    pub verdict: String,
}

/// Query of the budget and clock calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountParam {
    /// Another account's name (operator only); the caller's own when omitted.
    pub account: Option<String>,
}

/// A bill as CSV: one row per line item, then the total.
pub fn bill_csv(bill: &Bill) -> String {
    let mut out = String::from(
        "account,month,service,resource_type,resource_id,usage_type,sku,quantity,unit,unit_price,amount,currency,from,to\n",
    );
    let esc = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for i in &bill.line_items {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            esc(&bill.account),
            bill.month,
            esc(&i.service),
            esc(&i.resource_type),
            esc(&i.resource_id),
            esc(&i.usage_type),
            esc(&i.sku),
            i.quantity,
            esc(&i.unit),
            i.unit_price,
            i.amount,
            bill.currency,
            i.from.to_rfc3339(),
            i.to.to_rfc3339()
        ));
    }
    out.push_str(&format!(
        "{},{},total,,,,,,,,{},{},,\n",
        esc(&bill.account),
        bill.month,
        bill.total,
        bill.currency
    ));
    if let Some(d) = &bill.demo_clock {
        out.push_str(&format!("# {}\n", d.note));
    }
    out
}
