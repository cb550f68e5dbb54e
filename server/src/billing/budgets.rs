//! Budgets: a monthly amount per account, alerts at thresholds (each fires once a month), and an
//! optional hard limit that stops the account's running resources and says why.

use chrono::Utc;
use nuvem_api::billing::{self as api, Currency};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Billing;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::AccountRow;
use crate::store::billing::{BudgetAlertRow, BudgetRow};

pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

fn parse_thresholds(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

/// Thresholds must climb: `[50, 80, 100]`, each 1–1000 %.
pub fn check_thresholds(t: &[u32]) -> Result<()> {
    if t.is_empty() || t.len() > 10 {
        return Err(Error::invalid(
            "a budget has 1 to 10 thresholds, such as [50, 80, 100]",
        ));
    }
    if let Some(bad) = t.iter().find(|x| !(1..=1000).contains(*x)) {
        return Err(Error::invalid(format!(
            "threshold {bad} is out of range: a percentage of the budget from 1 to 1000"
        )));
    }
    if t.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::invalid(format!(
            "thresholds {t:?} are out of order: list them ascending, each once, like [50, 80, 100]"
        )));
    }
    Ok(())
}

impl Billing {
    pub async fn budget_get(&self, p: &Principal, account: Option<&str>) -> Result<api::Budget> {
        let target = self.target_account(p, account, "billing:GetBudget").await?;
        self.authorize(p, "billing:GetBudget", &format!("budget/{}", target.name))
            .await?;
        let row = self.store.budget_get(&target.id).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "account '{}' has no budget; set one with `cloudctl billing budget set`",
                target.name
            ))
        })?;
        self.budget_view(&target, &row).await
    }

    pub async fn budget_set(
        &self,
        p: &Principal,
        account: Option<&str>,
        req: api::SetBudgetRequest,
    ) -> Result<api::Budget> {
        let target = self.target_account(p, account, "billing:SetBudget").await?;
        self.authorize(p, "billing:SetBudget", &format!("budget/{}", target.name))
            .await?;
        let amount = super::catalog::parse_price(&req.amount)?;
        if amount.is_zero() {
            return Err(Error::invalid("a budget's amount must be more than zero"));
        }
        let thresholds = req.thresholds.unwrap_or(DEFAULT_THRESHOLDS.to_vec());
        check_thresholds(&thresholds)?;
        let row = self
            .store
            .budget_put(BudgetRow {
                account_id: target.id.clone(),
                amount: amount.to_string(),
                currency: req.currency.as_str().to_owned(),
                thresholds: thresholds
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                hard_limit: req.hard_limit.unwrap_or(false),
                updated_at: Utc::now(),
            })
            .await?;
        self.budget_check(&target, &row).await?;
        self.budget_view(&target, &row).await
    }

    pub async fn budget_delete(&self, p: &Principal, account: Option<&str>) -> Result<()> {
        let target = self
            .target_account(p, account, "billing:DeleteBudget")
            .await?;
        self.authorize(
            p,
            "billing:DeleteBudget",
            &format!("budget/{}", target.name),
        )
        .await?;
        if !self.store.budget_delete(&target.id).await? {
            return Err(Error::NotFound(format!(
                "account '{}' has no budget",
                target.name
            )));
        }
        Ok(())
    }

    async fn spent(&self, account: &AccountRow, currency: Currency) -> Result<(String, Decimal)> {
        let r = self.rate(&account.id, None, currency).await?;
        Ok((r.month, r.total))
    }

    async fn budget_view(&self, account: &AccountRow, row: &BudgetRow) -> Result<api::Budget> {
        let currency = Currency::parse(&row.currency).unwrap_or(self.currency);
        let amount: Decimal = row.amount.parse().unwrap_or_default();
        let (month, spent) = self.spent(account, currency).await?;
        let alerts = self.store.budget_alert_list(&account.id, &month).await?;
        Ok(api::Budget {
            account: account.name.clone(),
            amount,
            currency,
            thresholds: parse_thresholds(&row.thresholds),
            hard_limit: row.hard_limit,
            spent,
            percent_used: percent(spent, amount),
            alerts: alerts
                .into_iter()
                .map(|a| api::BudgetAlert {
                    month: a.month,
                    threshold: a.threshold.max(0) as u32,
                    spent: a.spent.parse().unwrap_or_default(),
                    at: a.meter_at,
                    action: a.action,
                })
                .collect(),
        })
    }

    /// Raises the alerts the month's cost has reached (each once) and, over a hard limit, stops
    /// the account's running resources. Returns what it did, for the reconciler's log.
    pub(super) async fn budget_check(
        &self,
        account: &AccountRow,
        row: &BudgetRow,
    ) -> Result<Vec<String>> {
        let currency = Currency::parse(&row.currency).unwrap_or(self.currency);
        let amount: Decimal = row.amount.parse().unwrap_or_default();
        if amount.is_zero() {
            return Ok(Vec::new());
        }
        let (month, spent) = self.spent(account, currency).await?;
        let now = self.clock(&account.id).now();
        let mut did = Vec::new();
        for t in parse_thresholds(&row.thresholds) {
            if spent * Decimal::from(100) < amount * Decimal::from(t) {
                break;
            }
            let message = format!(
                "alert: {t}% of the budget ({amount} {currency}) reached, {spent} {currency} spent in {month}"
            );
            let fired = self
                .store
                .budget_alert_add(BudgetAlertRow {
                    id: 0,
                    account_id: account.id.clone(),
                    month: month.clone(),
                    threshold: t as i32,
                    spent: spent.to_string(),
                    meter_at: now,
                    action: message.clone(),
                })
                .await?;
            if fired {
                tracing::warn!(account = %account.name, threshold = t, %spent, "budget alert");
                did.push(format!("{}: {message}", account.name));
            }
        }
        if row.hard_limit && spent >= amount {
            let reason = format!(
                "Budget.HardLimit: the account's budget of {amount} {currency} for {month} was reached ({spent} {currency} spent)"
            );
            let mut stopped = Vec::new();
            for inv in self.inventories() {
                stopped.extend(inv.stop_account(&account.id, &reason).await?);
            }
            if !stopped.is_empty() {
                let note = format!("hard limit: stopped {}", stopped.join(", "));
                if let Some(alert) = self
                    .store
                    .budget_alert_list(&account.id, &month)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|a| a.threshold >= 100)
                {
                    let action = format!("{}; {note}", alert.action);
                    self.store.budget_alert_note(alert, action).await?;
                }
                tracing::warn!(account = %account.name, ?stopped, "budget hard limit: stopped the account's resources");
                did.push(format!("{}: {note}", account.name));
            }
        }
        Ok(did)
    }

    /// Checks every account's budget (the reconciler's tick).
    pub(super) async fn budget_check_all(&self) -> Result<Vec<String>> {
        let mut did = Vec::new();
        for row in self.store.budget_list().await? {
            let Some(account) = self.store.account_get(&row.account_id).await? else {
                continue;
            };
            did.extend(self.budget_check(&account, &row).await?);
        }
        Ok(did)
    }
}

fn percent(spent: Decimal, amount: Decimal) -> f64 {
    if amount.is_zero() {
        return 0.0;
    }
    let p = (spent * Decimal::from(100) / amount).round_dp(2);
    p.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_climb_within_range() {
        assert!(check_thresholds(&[50, 80, 100]).is_ok());
        assert!(check_thresholds(&[80, 50]).is_err());
        assert!(check_thresholds(&[50, 50]).is_err());
        assert!(check_thresholds(&[0]).is_err());
        assert!(check_thresholds(&[]).is_err());
        assert!(check_thresholds(&[1001]).is_err());
    }
}
