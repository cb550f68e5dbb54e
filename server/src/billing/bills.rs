//! Bills, estimates and the reserved-versus-used view, computed from the ledger on demand.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use nuvem_api::billing::{self as api, Currency};
use rust_decimal::Decimal;

use super::Billing;
use super::rating::{self, Event, Interval, PriceBook};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::AccountRow;
use crate::usage::Dimensions;

/// `YYYY-MM` of a time.
pub fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// The metered window of a month: its first instant and the next month's.
pub fn month_window(month: &str) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || {
        Error::invalid(format!(
            "month '{month}' is not a month; write it as YYYY-MM, like 2026-12"
        ))
    };
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    let from = Utc
        .with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .ok_or_else(bad)?;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let to = Utc
        .with_ymd_and_hms(ny, nm, 1, 0, 0, 0)
        .single()
        .ok_or_else(bad)?;
    Ok((from, to))
}

/// A month's figures before they become a bill.
pub(super) struct Rated {
    pub month: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub spans: Vec<Interval>,
    pub prices: PriceBook,
    pub items: Vec<api::LineItem>,
    pub total: Decimal,
}

impl Billing {
    /// The catalog in one currency, its effective times moved onto the account's clock (a
    /// demo clock meets a price change when real time does).
    pub(super) async fn price_book(
        &self,
        account_id: &str,
        currency: Currency,
    ) -> Result<PriceBook> {
        let clock = self.clock(account_id);
        let mut book = PriceBook::default();
        for row in self.store.price_list().await? {
            if row.currency != currency.as_str() {
                continue;
            }
            let Ok(price) = row.unit_price.parse::<Decimal>() else {
                tracing::warn!(sku = %row.sku, "a stored price is not a decimal; skipped");
                continue;
            };
            let from = if row.effective_from == super::catalog::epoch() {
                row.effective_from
            } else {
                clock.meter_at(row.effective_from)
            };
            book.add(&row.sku, from, price);
        }
        // An instance type the operator added without a catalog price: its own hourly price,
        // in the server's billing currency only (the catalog wins once it has one).
        if currency == self.currency {
            for t in self.store.instance_type_list().await? {
                let sku = format!("ec2.instance.{}", t.name);
                if !book.by_sku.contains_key(&sku)
                    && let Some(p) = Decimal::from_f64_retain(t.price_per_hour)
                {
                    book.add(&sku, super::catalog::epoch(), p.round_dp(6));
                }
            }
        }
        Ok(book)
    }

    /// The account's billed spans up to the end of the window.
    pub(super) async fn spans(
        &self,
        account_id: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<Interval>> {
        let rows = self
            .store
            .usage_event_list_for_rating(account_id, until)
            .await?;
        let events: Vec<Event> = rows
            .into_iter()
            .filter_map(|r| {
                Some(Event {
                    at: r.meter_at,
                    change: super::change_parse(&r.change)?,
                    service: r.service,
                    resource_type: r.resource_type,
                    resource_id: r.resource_id,
                    dimensions: Dimensions {
                        vcpus: r.vcpus.max(0) as u32,
                        memory_mib: r.memory_mib.max(0) as u64,
                        disk_gib: r.disk_gib.max(0) as u64,
                        sku: r.sku,
                        storage_bytes: r.storage_bytes.max(0) as u64,
                        requests_tier1: r.requests_tier1.max(0) as u64,
                        requests_tier2: r.requests_tier2.max(0) as u64,
                        bytes_out: r.bytes_out.max(0) as u64,
                    },
                })
            })
            .collect();
        Ok(rating::intervals(&events))
    }

    /// Rates one month of an account (no authorization: the callers check).
    pub(super) async fn rate(
        &self,
        account_id: &str,
        month: Option<&str>,
        currency: Currency,
    ) -> Result<Rated> {
        let now = self.clock(account_id).now();
        let month = month.map(str::to_owned).unwrap_or_else(|| month_of(now));
        let (from, to) = month_window(&month)?;
        if from > now {
            return Err(Error::invalid(format!(
                "{month} has not begun on this account's clock (now {}); there is no bill for a future month",
                now.format("%Y-%m-%d %H:%M:%S")
            )));
        }
        let spans = self.spans(account_id, to).await?;
        let prices = self.price_book(account_id, currency).await?;
        let items = rating::line_items(&spans, &prices, from, to, now);
        let total = items.iter().map(|i| i.amount).sum::<Decimal>().normalize();
        Ok(Rated {
            month,
            from,
            to,
            now,
            spans,
            prices,
            items,
            total,
        })
    }

    pub(super) async fn bill_of(
        &self,
        account: &AccountRow,
        month: Option<&str>,
        currency: Currency,
    ) -> Result<api::Bill> {
        let r = self.rate(&account.id, month, currency).await?;
        let mut by_service: BTreeMap<String, Decimal> = BTreeMap::new();
        for i in &r.items {
            *by_service.entry(i.service.clone()).or_default() += i.amount;
        }
        let final_ = r.now >= r.to;
        Ok(api::Bill {
            account: account.name.clone(),
            account_id: account.id.clone(),
            month: r.month.clone(),
            currency,
            status: if final_ { "final" } else { "estimate" }.to_owned(),
            through: r.now.min(r.to),
            total: r.total,
            by_service: by_service
                .into_iter()
                .map(|(service, amount)| api::ServiceTotal { service, amount })
                .collect(),
            line_items: r.items,
            demo_clock: self.demo_mark(&account.id, r.from, r.to),
        })
    }

    pub async fn bill(&self, p: &Principal, q: &api::BillParams) -> Result<api::Bill> {
        let account = self
            .target_account(p, q.account.as_deref(), "billing:GetBill")
            .await?;
        let currency = self.currency_of(q.currency.as_deref())?;
        self.authorize(p, "billing:GetBill", &format!("bill/{}", account.name))
            .await?;
        self.bill_of(&account, q.month.as_deref(), currency).await
    }

    /// Every account's total for a month, and the sum (operator only).
    pub async fn bill_summary(
        &self,
        p: &Principal,
        q: &api::BillParams,
    ) -> Result<api::BillSummary> {
        self.iam.require_operator(p, "billing:ListBills")?;
        self.authorize(p, "billing:ListBills", "bill/*").await?;
        let currency = self.currency_of(q.currency.as_deref())?;
        let month = match &q.month {
            Some(m) => m.clone(),
            None => month_of(Utc::now()),
        };
        month_window(&month)?;
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self.store.account_list(500, marker.as_deref()).await?;
            for a in &page.items {
                // An account whose clock has not reached the month has nothing in it yet.
                match self.bill_of(a, Some(&month), currency).await {
                    Ok(b) => items.push(api::AccountTotal {
                        account: a.name.clone(),
                        account_id: a.id.clone(),
                        total: b.total,
                        demo_clock: b.demo_clock,
                    }),
                    Err(Error::InvalidRequest(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        let total = items.iter().map(|i| i.total).sum();
        Ok(api::BillSummary {
            month,
            currency,
            items,
            total,
        })
    }

    /// The running month: accrued, the rate of what runs now, and the forecast to month end.
    pub async fn estimate(&self, p: &Principal, q: &api::BillParams) -> Result<api::Estimate> {
        let account = self
            .target_account(p, q.account.as_deref(), "billing:GetEstimate")
            .await?;
        let currency = self.currency_of(q.currency.as_deref())?;
        self.authorize(p, "billing:GetEstimate", &format!("bill/{}", account.name))
            .await?;
        if q.month.is_some() {
            return Err(Error::invalid(
                "an estimate is always of the running month; ask for a bill to see another",
            ));
        }
        let r = self.rate(&account.id, None, currency).await?;
        let running = rating::running_rates(&r.spans, &r.prices, r.now);
        let hourly: Decimal = running.iter().map(|x| x.hourly_rate).sum();
        let remaining_ms = (r.to - r.now).num_milliseconds().max(0);
        let forecast = rating::round_money(
            r.total + hourly * Decimal::from(remaining_ms) / Decimal::from(3_600_000),
        );
        Ok(api::Estimate {
            account: account.name.clone(),
            month: r.month,
            currency,
            now: r.now,
            accrued: r.total,
            hourly_rate: hourly.normalize(),
            forecast,
            running,
            demo_clock: self.demo_mark(&account.id, r.from, r.to),
        })
    }

    /// What each resource reserved against what it used (sampled), over a month.
    pub async fn usage(&self, p: &Principal, q: &api::BillParams) -> Result<api::Usage> {
        let account = self
            .target_account(p, q.account.as_deref(), "billing:GetUsage")
            .await?;
        self.authorize(p, "billing:GetUsage", &format!("usage/{}", account.name))
            .await?;
        let r = self
            .rate(&account.id, q.month.as_deref(), self.currency)
            .await?;
        let samples = self
            .store
            .usage_sample_list(&account.id, r.from, r.to)
            .await?;
        let mut sampled: BTreeMap<String, (f64, f64, u64, u64)> = BTreeMap::new();
        for s in &samples {
            let e = sampled.entry(s.resource_id.clone()).or_default();
            e.0 += s.real_seconds;
            e.1 += s.cpu_seconds;
            e.2 += s.memory_mib.max(0) as u64;
            e.3 += 1;
        }
        let mut items: BTreeMap<(String, String), api::ResourceUsage> = BTreeMap::new();
        for span in r.spans.iter().filter(|s| s.line.usage_type == "running") {
            let start = span.start.max(r.from);
            let end = span.end.unwrap_or(r.now).min(r.to).min(r.now.max(start));
            let seconds = (end - start).num_seconds().max(0);
            let entry = items
                .entry((span.service.clone(), span.resource_id.clone()))
                .or_insert_with(|| api::ResourceUsage {
                    service: span.service.clone(),
                    resource_type: span.resource_type.clone(),
                    resource_id: span.resource_id.clone(),
                    running_seconds: 0,
                    reserved_vcpus: span.dimensions.vcpus,
                    reserved_memory_mib: span.dimensions.memory_mib,
                    used_vcpus_average: None,
                    used_memory_mib_average: None,
                    samples: 0,
                });
            entry.running_seconds += seconds;
        }
        for item in items.values_mut() {
            if let Some((real, cpu, mem, n)) = sampled.get(&item.resource_id)
                && *real > 0.0
            {
                item.used_vcpus_average = Some((cpu / real * 1000.0).round() / 1000.0);
                item.used_memory_mib_average = Some(mem / (*n).max(1));
                item.samples = *n;
            }
        }
        Ok(api::Usage {
            account: account.name.clone(),
            month: r.month,
            items: items.into_values().collect(),
            demo_clock: self.demo_mark(&account.id, r.from, r.to),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        let (a, b) = month_window("2026-12").expect("ok");
        assert_eq!(a.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        for bad in ["2026-13", "2026-1", "26-12", "december", "2026-00", ""] {
            assert!(month_window(bad).is_err(), "{bad}");
        }
    }
}
