//! `cloudctl billing`: prices, usage, bills, the running estimate, budgets, the demo clock, the
//! CapEx/OpEx calculator, and `watch`, a live meter for lectures.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use nuvem_api::billing::*;
use nuvem_sdk::Client;

mod views;

use crate::output::{Out, timestamp};

#[derive(Subcommand)]
pub enum BillingCmd {
    /// The price catalog in force, and changes announced for later.
    Prices,
    /// Set a price from now (or --from a later time) on; never retroactive (operator).
    SetPrice {
        /// The SKU, as `billing prices` lists it (ec2.instance.t3.micro, ec2.disk, …).
        sku: String,
        /// The price per unit, as a decimal (0.0125).
        price: String,
        /// USD or BRL.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// When it applies (RFC 3339, e.g. 2026-12-24T00:00:00Z); now when omitted.
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// What each resource reserved against what it used, for a month.
    Usage(MonthArgs),
    /// A month's bill: line items and totals (--csv for a spreadsheet, --all for every account).
    Bill {
        #[command(flatten)]
        month: MonthArgs,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
        /// Every account's total and the sum (operator).
        #[arg(long, conflicts_with = "csv")]
        all: bool,
    },
    /// The running month so far, the rate of what runs now, and the forecast to month end.
    Estimate {
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
        /// USD or BRL [default: the server's billing currency].
        #[arg(long)]
        currency: Option<String>,
    },
    /// A live meter: the running month's cost, ticking while resources run (Ctrl-C stops).
    Watch {
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
        /// USD or BRL [default: the server's billing currency].
        #[arg(long)]
        currency: Option<String>,
        /// Seconds between readings.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Stop after this many readings (default: until Ctrl-C).
        #[arg(long)]
        count: Option<u32>,
    },
    /// The account's budget: show, set or delete.
    #[command(subcommand)]
    Budget(BudgetCmd),
    /// The metering clock: real time, or a demo clock for a lecture.
    #[command(subcommand)]
    Clock(ClockCmd),
    /// What owning a server would cost next to what renting cost this account.
    Capex {
        /// What buying the server costs.
        #[arg(long)]
        purchase_price: String,
        /// Months it is used before it is replaced.
        #[arg(long, default_value_t = 60)]
        lifetime_months: u32,
        /// Its average power draw.
        #[arg(long, default_value_t = 300)]
        power_watts: u32,
        /// Electricity price per kWh.
        #[arg(long)]
        kwh_price: String,
        /// The server's vCPUs.
        #[arg(long, default_value_t = 32)]
        server_vcpus: u32,
        /// USD or BRL.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// The month whose usage is compared (YYYY-MM); the running month when omitted.
        #[arg(long)]
        month: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct MonthArgs {
    /// The month, YYYY-MM; the running month when omitted.
    #[arg(long)]
    month: Option<String>,
    /// Another account (operator).
    #[arg(long)]
    account: Option<String>,
    /// USD or BRL.
    #[arg(long)]
    currency: Option<String>,
}

impl MonthArgs {
    fn params(&self) -> BillParams {
        BillParams {
            month: self.month.clone(),
            account: self.account.clone(),
            currency: self.currency.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum BudgetCmd {
    /// The budget, this month's spending against it, and its alerts.
    Show {
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
    },
    /// Set the monthly budget.
    Set {
        /// The amount, as a decimal (50.00).
        amount: String,
        /// USD or BRL.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Alert thresholds in percent, ascending.
        #[arg(long, value_delimiter = ',', default_value = "50,80,100")]
        thresholds: Vec<u32>,
        /// At 100 %, stop the account's running instances.
        #[arg(long)]
        hard_limit: bool,
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
    },
    /// Remove the budget.
    Delete {
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ClockCmd {
    /// The account's clock: factor, paused, now.
    Show {
        /// Another account (operator).
        #[arg(long)]
        account: Option<String>,
    },
    /// Run an account's metering at N× real time, pause, resume or jump ahead (operator).
    Set {
        /// The account whose clock changes (only its bills, which say so).
        account: String,
        /// 1 is real time; 3600 makes one second one hour.
        #[arg(long)]
        factor: Option<u32>,
        /// Freeze the clock (metered time stands still).
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        /// Let a paused clock run again.
        #[arg(long)]
        resume: bool,
        /// Jump ahead by a duration: 90s, 30m, 2h, 3d.
        #[arg(long)]
        advance: Option<String>,
    },
}

fn currency(s: &str) -> anyhow::Result<Currency> {
    Currency::parse(s).ok_or_else(|| anyhow::anyhow!("currency must be USD or BRL (got {s:?})"))
}

/// `90s`, `30m`, `2h`, `3d` (or plain seconds) → seconds.
pub fn parse_duration(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a duration: write 90s, 30m, 2h or 3d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => anyhow::bail!("{s:?} is not a duration: write 90s, 30m, 2h or 3d"),
    };
    Ok(n * factor)
}

fn demo_line(mark: &Option<DemoClockMark>) -> Option<String> {
    mark.as_ref().map(|m| format!("*** {} ***", m.note))
}

pub async fn billing(c: &Client, out: &Out, cmd: &BillingCmd) -> anyhow::Result<()> {
    match cmd {
        BillingCmd::Prices => {
            let prices = c.list_prices().await?;
            out.rows_of(&prices, &prices.items)?;
            if !prices.scheduled.is_empty() {
                out.message("Announced for later:");
                out.rows_of(&prices, &prices.scheduled)?;
            }
            Ok(())
        }
        BillingCmd::SetPrice {
            sku,
            price,
            currency: cur,
            from,
        } => {
            let p = c
                .set_price(&SetPriceRequest {
                    sku: sku.clone(),
                    currency: currency(cur)?,
                    unit_price: price.clone(),
                    effective_from: *from,
                })
                .await?;
            out.list(&[p])
        }
        BillingCmd::Usage(m) => {
            let usage = c.get_usage(&m.params()).await?;
            if let Some(l) = demo_line(&usage.demo_clock) {
                out.message(&l);
            }
            out.rows_of(&usage, &usage.items)
        }
        BillingCmd::Bill { month, csv, all } => {
            if *all {
                let s = c.get_bill_summary(&month.params()).await?;
                out.rows_of(&s, &s.items)?;
                out.message(&format!("Total {} {} for {}", s.total, s.currency, s.month));
                return Ok(());
            }
            let bill = c.get_bill(&month.params()).await?;
            if *csv {
                print!("{}", bill_csv(&bill));
                return Ok(());
            }
            if let Some(l) = demo_line(&bill.demo_clock) {
                out.message(&l);
            }
            out.rows_of(&bill, &bill.line_items)?;
            let by_service: Vec<String> = bill
                .by_service
                .iter()
                .map(|s| format!("{} {}", s.service, s.amount))
                .collect();
            out.message(&format!(
                "{} {} ({}, through {}): total {} {}{}",
                bill.account,
                bill.month,
                bill.status,
                timestamp(&bill.through),
                bill.total,
                bill.currency,
                if by_service.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", by_service.join(", "))
                }
            ));
            Ok(())
        }
        BillingCmd::Estimate {
            account,
            currency: cur,
        } => {
            let e = c
                .get_estimate(&BillParams {
                    month: None,
                    account: account.clone(),
                    currency: cur.clone(),
                })
                .await?;
            if let Some(l) = demo_line(&e.demo_clock) {
                out.message(&l);
            }
            out.detail(&e)
        }
        BillingCmd::Watch {
            account,
            currency: cur,
            interval,
            count,
        } => watch(c, out, account, cur, *interval, *count).await,
        BillingCmd::Budget(cmd) => budget(c, out, cmd).await,
        BillingCmd::Clock(cmd) => clock(c, out, cmd).await,
        BillingCmd::Capex {
            purchase_price,
            lifetime_months,
            power_watts,
            kwh_price,
            server_vcpus,
            currency: cur,
            month,
        } => {
            let r = c
                .capex(&CapexRequest {
                    currency: currency(cur)?,
                    purchase_price: purchase_price.clone(),
                    lifetime_months: *lifetime_months,
                    power_watts: *power_watts,
                    electricity_price_per_kwh: kwh_price.clone(),
                    server_vcpus: *server_vcpus,
                    month: month.clone(),
                })
                .await?;
            out.detail(&r)
        }
    }
}

async fn budget(c: &Client, out: &Out, cmd: &BudgetCmd) -> anyhow::Result<()> {
    match cmd {
        BudgetCmd::Show { account } => {
            let b = c.get_budget(account.as_deref()).await?;
            out.detail(&b)?;
            if !b.alerts.is_empty() {
                out.rows_of(&b, &b.alerts)?;
            }
            Ok(())
        }
        BudgetCmd::Set {
            amount,
            currency: cur,
            thresholds,
            hard_limit,
            account,
        } => {
            let b = c
                .set_budget(
                    account.as_deref(),
                    &SetBudgetRequest {
                        amount: amount.clone(),
                        currency: currency(cur)?,
                        thresholds: Some(thresholds.clone()),
                        hard_limit: Some(*hard_limit),
                    },
                )
                .await?;
            out.detail(&b)
        }
        BudgetCmd::Delete { account } => {
            c.delete_budget(account.as_deref()).await?;
            out.message("Budget deleted.");
            Ok(())
        }
    }
}

async fn clock(c: &Client, out: &Out, cmd: &ClockCmd) -> anyhow::Result<()> {
    match cmd {
        ClockCmd::Show { account } => out.detail(&c.get_clock(account.as_deref()).await?),
        ClockCmd::Set {
            account,
            factor,
            pause,
            resume,
            advance,
        } => {
            let paused = match (pause, resume) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let advance_seconds = advance.as_deref().map(parse_duration).transpose()?;
            let clock = c
                .set_clock(
                    account,
                    &SetClockRequest {
                        factor: *factor,
                        paused,
                        advance_seconds,
                    },
                )
                .await?;
            out.detail(&clock)
        }
    }
}

/// Redraws one line per reading; in JSON mode, one JSON object per line (for scripts).
async fn watch(
    c: &Client,
    out: &Out,
    account: &Option<String>,
    cur: &Option<String>,
    interval: f64,
    count: Option<u32>,
) -> anyhow::Result<()> {
    let params = BillParams {
        month: None,
        account: account.clone(),
        currency: cur.clone(),
    };
    let json = out.is_json();
    let mut n = 0;
    loop {
        let e = c.get_estimate(&params).await?;
        if json {
            println!("{}", serde_json::to_string(&e)?);
        } else {
            let demo = e
                .demo_clock
                .as_ref()
                .map(|m| format!("  [DEMO {}×]", m.factor))
                .unwrap_or_default();
            print!(
                "\r{}  {}  accrued {} {}  ·  {} {}/h now ({} running)  ·  forecast {} {}{demo}   ",
                e.account,
                timestamp(&e.now),
                e.accrued,
                e.currency,
                e.hourly_rate,
                e.currency,
                e.running.len(),
                e.forecast,
                e.currency
            );
            std::io::stdout().flush()?;
        }
        n += 1;
        if count.is_some_and(|max| n >= max) {
            if !json {
                println!();
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs_f64(interval.clamp(0.2, 3600.0))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert_eq!(parse_duration("3d").unwrap(), 259_200);
        assert_eq!(parse_duration("45").unwrap(), 45);
        assert!(parse_duration("2 weeks").is_err());
        assert!(parse_duration("h").is_err());
    }
}
