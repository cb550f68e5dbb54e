//! CapEx against OpEx: what owning a server would cost next to what renting cost this account,
//! from its own usage in the ledger (the seed's shift from buying to paying as you go).

use nuvem_api::billing::{self as api, HOURS_PER_MONTH};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Billing;
use super::catalog::parse_price;
use super::rating::round_money;
use crate::error::{Error, Result};
use crate::iam::Principal;

/// The owner's side and the renter's, for one month.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub purchase_price: Decimal,
    pub lifetime_months: u32,
    pub power_watts: u32,
    pub electricity_price_per_kwh: Decimal,
    pub server_vcpus: u32,
    pub renting_per_month: Decimal,
    pub reserved_vcpu_hours: Decimal,
}

/// The comparison, pure: owning is paid every hour of the month, used or not.
pub fn compare(
    month: &str,
    currency: nuvem_api::billing::Currency,
    i: &Inputs,
) -> api::CapexComparison {
    let hours = Decimal::from(HOURS_PER_MONTH);
    let depreciation = round_money(i.purchase_price / Decimal::from(i.lifetime_months.max(1)));
    let kwh = Decimal::from(i.power_watts) * hours / Decimal::from(1000);
    let power = round_money(kwh * i.electricity_price_per_kwh);
    let owning = depreciation + power;
    let capacity = Decimal::from(i.server_vcpus.max(1)) * hours;
    let utilization = (i.reserved_vcpu_hours / capacity * Decimal::from(100)).round_dp(2);
    let ratio = if owning.is_zero() {
        0.0
    } else {
        (i.renting_per_month / owning)
            .round_dp(4)
            .to_f64()
            .unwrap_or(0.0)
    };
    // Renting scales with use; at what use would it cost as much as owning?
    let break_even = if i.reserved_vcpu_hours.is_zero() || i.renting_per_month.is_zero() {
        None
    } else {
        let per_percent = i.renting_per_month / utilization.max(Decimal::new(1, 2));
        (owning / per_percent).round_dp(2).to_f64()
    };
    let verdict = if i.reserved_vcpu_hours.is_zero() {
        format!(
            "Nothing ran this month, so renting cost {}; an owned server would still cost {owning} a month, used or not.",
            i.renting_per_month
        )
    } else if i.renting_per_month < owning {
        format!(
            "Renting is cheaper: {} against {} a month for owning. This usage fills {}% of the server; owning pays off from about {}% of it in use, all month.",
            i.renting_per_month,
            owning,
            utilization,
            break_even
                .map(|b| format!("{b:.0}"))
                .unwrap_or_else(|| "—".into())
        )
    } else {
        format!(
            "Owning is cheaper: {owning} against {} a month for renting, because this usage fills {}% of the server.",
            i.renting_per_month, utilization
        )
    };
    api::CapexComparison {
        month: month.to_owned(),
        currency,
        owning_depreciation_per_month: depreciation,
        owning_power_per_month: power,
        owning_per_month: owning,
        renting_per_month: i.renting_per_month,
        reserved_vcpu_hours: i.reserved_vcpu_hours.round_dp(3).normalize(),
        utilization_percent: utilization.to_f64().unwrap_or(0.0),
        renting_to_owning_ratio: ratio,
        break_even_utilization_percent: break_even,
        verdict,
    }
}

impl Billing {
    pub async fn capex(
        &self,
        p: &Principal,
        req: api::CapexRequest,
    ) -> Result<api::CapexComparison> {
        self.authorize(
            p,
            "billing:CalculateCapex",
            &format!("bill/{}", p.account.name),
        )
        .await?;
        let purchase_price = parse_price(&req.purchase_price)?;
        let electricity = parse_price(&req.electricity_price_per_kwh)?;
        if req.lifetime_months == 0 || req.lifetime_months > 240 {
            return Err(Error::invalid("lifetime_months is 1 to 240 (twenty years)"));
        }
        if req.server_vcpus == 0 || req.server_vcpus > 4096 {
            return Err(Error::invalid("server_vcpus is 1 to 4096"));
        }
        if req.power_watts > 100_000 {
            return Err(Error::invalid("power_watts is at most 100000"));
        }
        let r = self
            .rate(&p.account.id, req.month.as_deref(), req.currency)
            .await?;
        // The running month is compared by its forecast, a past one by its bill.
        let renting = if r.now < r.to {
            let hourly: Decimal = super::rating::running_rates(&r.spans, &r.prices, r.now)
                .iter()
                .map(|x| x.hourly_rate)
                .sum();
            let remaining =
                Decimal::from((r.to - r.now).num_milliseconds().max(0)) / Decimal::from(3_600_000);
            round_money(r.total + hourly * remaining)
        } else {
            r.total
        };
        let mut vcpu_seconds = Decimal::ZERO;
        for s in r.spans.iter().filter(|s| s.line.usage_type == "running") {
            let start = s.start.max(r.from);
            let end = s.end.unwrap_or(r.to).min(r.to);
            if end > start {
                vcpu_seconds +=
                    Decimal::from(s.dimensions.vcpus) * Decimal::from((end - start).num_seconds());
            }
        }
        Ok(compare(
            &r.month,
            req.currency,
            &Inputs {
                purchase_price,
                lifetime_months: req.lifetime_months,
                power_watts: req.power_watts,
                electricity_price_per_kwh: electricity,
                server_vcpus: req.server_vcpus,
                renting_per_month: renting,
                reserved_vcpu_hours: vcpu_seconds / Decimal::from(3600),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuvem_api::billing::Currency;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn a_lightly_used_server_is_cheaper_to_rent() {
        let c = compare(
            "2026-12",
            Currency::Usd,
            &Inputs {
                purchase_price: d("6000"),
                lifetime_months: 60,
                power_watts: 300,
                electricity_price_per_kwh: d("0.20"),
                server_vcpus: 32,
                renting_per_month: d("15.18"),
                reserved_vcpu_hours: d("1460"),
            },
        );
        assert_eq!(c.owning_depreciation_per_month, d("100"));
        // 300 W × 730 h = 219 kWh at 0.20.
        assert_eq!(c.owning_power_per_month, d("43.8"));
        assert_eq!(c.owning_per_month, d("143.8"));
        assert_eq!(c.utilization_percent, 6.25);
        assert!(c.renting_to_owning_ratio < 1.0);
        assert!(c.verdict.starts_with("Renting is cheaper"));
        let b = c.break_even_utilization_percent.expect("break-even");
        assert!((59.0..60.0).contains(&b), "{b}");
    }
}
