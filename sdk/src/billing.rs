//! Metering and billing: prices, bills, estimates, usage, budgets, the demo clock, CapEx/OpEx.

use reqwest::Method;

use crate::{Client, Result};
use nuvem_api::billing::*;

impl Client {
    /// The price catalog: prices in force now and changes announced for later.
    pub async fn list_prices(&self) -> Result<PriceList> {
        self.get(&["v1", "billing", "prices"]).await
    }

    /// Sets a price from now or a later time on (operator only).
    pub async fn set_price(&self, req: &SetPriceRequest) -> Result<Price> {
        self.post(&["v1", "billing", "prices"], req).await
    }

    /// A month's bill (the running month when `month` is `None`).
    pub async fn get_bill(&self, q: &BillParams) -> Result<Bill> {
        self.call(
            Method::GET,
            &["v1", "billing", "bill"],
            Some(q),
            None::<&()>,
        )
        .await
    }

    /// Every account's total for a month (operator only).
    pub async fn get_bill_summary(&self, q: &BillParams) -> Result<BillSummary> {
        self.call(
            Method::GET,
            &["v1", "billing", "bills"],
            Some(q),
            None::<&()>,
        )
        .await
    }

    /// The running month: accrued, hourly rate of what runs, forecast to month end.
    pub async fn get_estimate(&self, q: &BillParams) -> Result<Estimate> {
        self.call(
            Method::GET,
            &["v1", "billing", "estimate"],
            Some(q),
            None::<&()>,
        )
        .await
    }

    /// Reserved against used, per resource, for a month.
    pub async fn get_usage(&self, q: &BillParams) -> Result<Usage> {
        self.call(
            Method::GET,
            &["v1", "billing", "usage"],
            Some(q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_budget(&self, account: Option<&str>) -> Result<Budget> {
        let q = AccountParam {
            account: account.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "billing", "budget"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn set_budget(
        &self,
        account: Option<&str>,
        req: &SetBudgetRequest,
    ) -> Result<Budget> {
        let q = AccountParam {
            account: account.map(Into::into),
        };
        self.call(
            Method::PUT,
            &["v1", "billing", "budget"],
            Some(&q),
            Some(req),
        )
        .await
    }

    pub async fn delete_budget(&self, account: Option<&str>) -> Result<()> {
        let q = AccountParam {
            account: account.map(Into::into),
        };
        self.call::<_, (), serde_json::Value>(
            Method::DELETE,
            &["v1", "billing", "budget"],
            Some(&q),
            None,
        )
        .await
        .map(drop)
    }

    /// An account's metering clock (the caller's own when `account` is `None`).
    pub async fn get_clock(&self, account: Option<&str>) -> Result<Clock> {
        let q = AccountParam {
            account: account.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "billing", "clock"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    /// Changes an account's metering clock: a factor, a pause, a jump forward (operator only).
    pub async fn set_clock(&self, account: &str, req: &SetClockRequest) -> Result<Clock> {
        self.call(
            Method::PUT,
            &["v1", "billing", "clocks", account],
            None::<&()>,
            Some(req),
        )
        .await
    }

    /// Owning a server against renting, from this account's usage.
    pub async fn capex(&self, req: &CapexRequest) -> Result<CapexComparison> {
        self.post(&["v1", "billing", "capex"], req).await
    }
}
