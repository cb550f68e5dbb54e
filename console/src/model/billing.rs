//! What the Billing pages work out: money as each language writes it (from exact decimals), the
//! running month's cost per day stacked by service (from the bill's line items), the geometry of
//! that chart, the live meter between two polls of the estimate, and the budget and CapEx forms
//! read.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use nuvem_api::billing::{Bill, CapexRequest, Currency, LineItem, SetBudgetRequest};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::i18n::{self, Lang};

/// `amount` in `currency` as `lang` writes it, with `decimals` places (rounded half away from
/// zero, as the server rounds): `$1,234.5678`, `US$ 1.234,5678`, `R$ 0,0104`. Exact: from the
/// decimal's own digits, never through floating point.
pub fn money(lang: Lang, currency: Currency, amount: Decimal, decimals: u32) -> String {
    let rounded = amount.round_dp_with_strategy(
        decimals,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    let digits = format!("{:.*}", decimals as usize, rounded.abs());
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    let figure = i18n::localize(lang, &digits);
    match (lang, currency) {
        (Lang::En, Currency::Usd) => format!("{sign}${figure}"),
        (Lang::PtBr, Currency::Usd) => format!("{sign}US$ {figure}"),
        (_, Currency::Brl) => format!("{sign}R$ {figure}"),
    }
}

/// A decimal for drawing (bar lengths, the meter between polls); what is shown as money comes
/// from the decimal itself ([`money`]).
pub fn approx(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// The first instant of `month` (`YYYY-MM`) and the number of days it has.
pub fn month_days(month: &str) -> Option<(DateTime<Utc>, u32)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
    };
    let days = u32::try_from((next - first).num_days()).ok()?;
    Some((Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0)?), days))
}

/// One day of the month: what each service cost that day, in the order of [`services`].
#[derive(Debug, Clone, PartialEq)]
pub struct DayCost {
    /// 1 to 31.
    pub day: u32,
    pub by_service: Vec<f64>,
}

impl DayCost {
    pub fn total(&self) -> f64 {
        self.by_service.iter().sum()
    }
}

/// The services the bill names, sorted, each with its colour in the chart.
pub fn services(bill: &Bill) -> Vec<String> {
    let mut s: Vec<String> = bill.line_items.iter().map(|i| i.service.clone()).collect();
    s.sort();
    s.dedup();
    s
}

/// The colour of the `index`-th service: the same in the chart and in its legend.
pub fn service_colour(index: usize) -> &'static str {
    const PALETTE: [&str; 6] = [
        "#0b6bcb", "#e07b00", "#1a7f37", "#8250df", "#cf222e", "#5b6475",
    ];
    PALETTE[index % PALETTE.len()]
}

/// The running month's cost per day, stacked by service. A line item is a resource's usage from
/// `from` to `to`, possibly with stops between (the bill adds a resource's intervals up); its
/// amount is spread over that span in proportion to each day's share of it, so a day's bars are an
/// approximation of when the money accrued while the month's total is exact.
pub fn cost_per_day(bill: &Bill) -> Vec<DayCost> {
    let Some((start, days)) = month_days(&bill.month) else {
        return Vec::new();
    };
    let names = services(bill);
    let mut out: Vec<DayCost> = (1..=days)
        .map(|day| DayCost {
            day,
            by_service: vec![0.0; names.len()],
        })
        .collect();
    for item in &bill.line_items {
        let Some(s) = names.iter().position(|n| *n == item.service) else {
            continue;
        };
        for (day, share) in day_shares(item, start, days) {
            out[day].by_service[s] += approx(item.amount) * share;
        }
    }
    out
}

/// The days (0-based) a line item's span covers, each with its fraction of the span; all on its
/// first day when the span is an instant.
fn day_shares(item: &LineItem, start: DateTime<Utc>, days: u32) -> Vec<(usize, f64)> {
    let day_of = |t: DateTime<Utc>| {
        let d = (t - start).num_days().clamp(0, i64::from(days) - 1);
        usize::try_from(d).unwrap_or(0)
    };
    let span = (item.to - item.from).num_milliseconds();
    if span <= 0 {
        return vec![(day_of(item.from), 1.0)];
    }
    let (first, last) = (day_of(item.from), day_of(item.to));
    (first..=last)
        .filter_map(|d| {
            let day_start = start + Duration::days(d as i64);
            let day_end = day_start + Duration::days(1);
            let overlap = (item.to.min(day_end) - item.from.max(day_start)).num_milliseconds();
            (overlap > 0).then(|| (d, overlap as f64 / span as f64))
        })
        .collect()
}

/// One rectangle of the stacked chart, in the SVG's own units.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub day: u32,
    pub service: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The chart's size in SVG units; the SVG scales to the page's width.
pub const CHART_WIDTH: f64 = 1000.0;
pub const CHART_HEIGHT: f64 = 240.0;

/// The stacked bars of [`cost_per_day`]: a column per day, the services one above the other,
/// the highest day reaching the top.
pub fn stacked(days: &[DayCost]) -> Vec<Segment> {
    let highest = days.iter().map(DayCost::total).fold(0.0, f64::max);
    if highest <= 0.0 || days.is_empty() {
        return Vec::new();
    }
    let column = CHART_WIDTH / days.len() as f64;
    let mut out = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let mut top = CHART_HEIGHT;
        for (service, &v) in d.by_service.iter().enumerate() {
            let height = v / highest * CHART_HEIGHT;
            if height <= 0.0 {
                continue;
            }
            top -= height;
            out.push(Segment {
                day: d.day,
                service,
                x: i as f64 * column + column * 0.1,
                y: top,
                width: column * 0.8,
                height,
            });
        }
    }
    out
}

/// The meter between two polls: what had accrued at the last poll, plus the hourly rate of what
/// runs for the metered time since, which on a demo clock is `factor` times the real time; a
/// paused clock does not move. The next poll replaces it with the server's exact figure.
pub fn meter(accrued: f64, hourly_rate: f64, real_ms_since: f64, factor: u32, paused: bool) -> f64 {
    if paused || real_ms_since <= 0.0 {
        return accrued;
    }
    accrued + hourly_rate * real_ms_since / 3_600_000.0 * f64::from(factor)
}

/// A field of a billing form that is not what it must be (the page names it in its language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadField {
    Thresholds,
    Lifetime,
    Watts,
    Vcpus,
    Effective,
}

/// A whole number of a form (`lifetime`, `watts`), spaces around allowed.
fn whole(text: &str, field: BadField) -> Result<u32, BadField> {
    text.trim().parse().map_err(|_| field)
}

/// A decimal of a form as the API takes it (text): a decimal comma (pt-BR's `0,75`) is a
/// decimal mark. Whether it is positive is the server's to say, with its own message.
pub fn decimal_field(text: &str) -> String {
    text.trim().replace(',', ".")
}

/// The thresholds field, `50, 80, 100` (commas, spaces or semicolons between); empty is the
/// server's default. Their order and range are the server's to check.
pub fn thresholds(text: &str) -> Result<Option<Vec<u32>>, BadField> {
    let parts: Vec<&str> = text
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(None);
    }
    parts
        .into_iter()
        .map(|p| whole(p.trim_end_matches('%'), BadField::Thresholds))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The effective time of a price change, from a `datetime-local` field (`2026-12-24T18:30`, read
/// as UTC, as the catalog shows times); empty is now. A time in the past is the server's to
/// refuse, with its message.
pub fn effective_field(text: &str) -> Result<Option<DateTime<Utc>>, BadField> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.trim_end_matches('Z');
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .map(|n| Some(Utc.from_utc_datetime(&n)))
        .map_err(|_| BadField::Effective)
}

/// The currency `<select>` (its values are the API's names); dollars unless it says reais.
pub fn currency(value: &str) -> Currency {
    Currency::parse(value).unwrap_or(Currency::Usd)
}

/// The budget form read.
pub fn budget_request(
    amount: &str,
    currency_value: &str,
    threshold_text: &str,
    hard_limit: bool,
) -> Result<SetBudgetRequest, BadField> {
    Ok(SetBudgetRequest {
        amount: decimal_field(amount),
        currency: currency(currency_value),
        thresholds: thresholds(threshold_text)?,
        hard_limit: Some(hard_limit),
    })
}

/// The CapEx form's fields, as typed.
#[derive(Debug, Clone, Default)]
pub struct CapexForm {
    pub currency: String,
    pub purchase_price: String,
    pub lifetime_months: String,
    pub power_watts: String,
    pub electricity_price_per_kwh: String,
    pub server_vcpus: String,
}

/// The CapEx form read: whole numbers are checked here, decimals by the server.
pub fn capex_request(f: &CapexForm) -> Result<CapexRequest, BadField> {
    Ok(CapexRequest {
        currency: currency(&f.currency),
        purchase_price: decimal_field(&f.purchase_price),
        lifetime_months: whole(&f.lifetime_months, BadField::Lifetime)?,
        power_watts: whole(&f.power_watts, BadField::Watts)?,
        electricity_price_per_kwh: decimal_field(&f.electricity_price_per_kwh),
        server_vcpus: whole(&f.server_vcpus, BadField::Vcpus)?,
        month: None,
    })
}

/// Two amounts as the widths of two bars, in percent of the larger (which fills its row).
pub fn bar_widths(a: Decimal, b: Decimal) -> (f64, f64) {
    let (a, b) = (approx(a).max(0.0), approx(b).max(0.0));
    let top = a.max(b);
    if top <= 0.0 {
        return (0.0, 0.0);
    }
    (a / top * 100.0, b / top * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn item(service: &str, amount: &str, from: &str, to: &str) -> LineItem {
        LineItem {
            service: service.into(),
            resource_type: "instance".into(),
            resource_id: "i-1".into(),
            usage_type: "running".into(),
            sku: "ec2.instance.t3.micro".into(),
            quantity: dec("1"),
            unit: "hour".into(),
            unit_price: dec("0.0104"),
            amount: dec(amount),
            seconds: 3600,
            from: at(from),
            to: at(to),
        }
    }

    fn bill(items: Vec<LineItem>) -> Bill {
        Bill {
            account: "turma".into(),
            account_id: "a-1".into(),
            month: "2026-02".into(),
            currency: Currency::Usd,
            status: "estimate".into(),
            through: at("2026-02-10T00:00:00Z"),
            line_items: items,
            total: Decimal::ZERO,
            by_service: vec![],
            demo_clock: None,
        }
    }

    #[test]
    fn money_in_each_language_and_currency_exactly() {
        assert_eq!(
            money(Lang::En, Currency::Usd, dec("1234.56785"), 4),
            "$1,234.5679"
        );
        assert_eq!(
            money(Lang::PtBr, Currency::Usd, dec("0.0104"), 4),
            "US$ 0,0104"
        );
        assert_eq!(
            money(Lang::PtBr, Currency::Brl, dec("1234.5"), 2),
            "R$ 1.234,50"
        );
        assert_eq!(money(Lang::En, Currency::Brl, dec("-2"), 2), "-R$ 2.00");
        // Half away from zero, as the bill rounds; no float error at the fourth place.
        assert_eq!(money(Lang::En, Currency::Usd, dec("0.00005"), 4), "$0.0001");
        assert_eq!(
            money(Lang::En, Currency::Usd, dec("-0.00001"), 4),
            "$0.0000"
        );
    }

    #[test]
    fn months_know_their_days() {
        assert_eq!(month_days("2026-02").unwrap().1, 28);
        assert_eq!(month_days("2028-02").unwrap().1, 29);
        let (start, days) = month_days("2026-12").unwrap();
        assert_eq!((start, days), (at("2026-12-01T00:00:00Z"), 31));
        assert_eq!(month_days("2026-13"), None);
    }

    #[test]
    fn an_amount_is_spread_over_the_days_it_ran() {
        // 36 hours from noon on the 2nd: a third on the 2nd, two thirds on the 3rd.
        let b = bill(vec![
            item("ec2", "3.0", "2026-02-02T12:00:00Z", "2026-02-04T00:00:00Z"),
            item("vpc", "1.0", "2026-02-03T05:00:00Z", "2026-02-03T05:00:00Z"),
        ]);
        let days = cost_per_day(&b);
        assert_eq!(days.len(), 28);
        assert_eq!(services(&b), ["ec2", "vpc"]);
        assert!((days[1].by_service[0] - 1.0).abs() < 1e-9);
        assert!((days[2].by_service[0] - 2.0).abs() < 1e-9);
        assert!(
            (days[2].by_service[1] - 1.0).abs() < 1e-9,
            "an instant is its day's"
        );
        assert_eq!(days[3].total(), 0.0);
        let total: f64 = days.iter().map(DayCost::total).sum();
        assert!((total - 4.0).abs() < 1e-9, "the days add up to the bill");
    }

    #[test]
    fn the_chart_stacks_services_and_fits_its_box() {
        let b = bill(vec![
            item("ec2", "3.0", "2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z"),
            item("vpc", "1.0", "2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z"),
            item("ec2", "2.0", "2026-02-05T00:00:00Z", "2026-02-06T00:00:00Z"),
        ]);
        let seg = stacked(&cost_per_day(&b));
        assert_eq!(seg.len(), 3);
        let (ec2, vpc) = (&seg[0], &seg[1]);
        assert_eq!((ec2.day, vpc.day), (2, 2));
        // The highest day fills the height; vpc sits on ec2.
        assert!((ec2.height + vpc.height - CHART_HEIGHT).abs() < 1e-9);
        assert!((vpc.y + vpc.height - ec2.y).abs() < 1e-9);
        assert!((seg[2].height - CHART_HEIGHT / 2.0).abs() < 1e-9);
        assert!(
            seg.iter()
                .all(|s| s.x >= 0.0 && s.x + s.width <= CHART_WIDTH)
        );
        assert!(stacked(&cost_per_day(&bill(vec![]))).is_empty());
    }

    #[test]
    fn the_meter_runs_on_the_accounts_clock() {
        // 1 $/h, 2 real seconds at 3600×: two metered hours.
        assert!((meter(5.0, 1.0, 2000.0, 3600, false) - 7.0).abs() < 1e-9);
        assert!((meter(5.0, 1.0, 3_600_000.0, 1, false) - 6.0).abs() < 1e-9);
        assert_eq!(meter(5.0, 1.0, 2000.0, 3600, true), 5.0, "paused");
        assert_eq!(meter(5.0, 0.0, 2000.0, 3600, false), 5.0, "nothing runs");
    }

    #[test]
    fn the_budget_form_read() {
        let r = budget_request(" 12,50 ", "BRL", "50, 80 ,100%", true).unwrap();
        assert_eq!(r.amount, "12.50");
        assert_eq!(r.currency, Currency::Brl);
        assert_eq!(r.thresholds, Some(vec![50, 80, 100]));
        assert_eq!(r.hard_limit, Some(true));
        assert_eq!(thresholds("  ").unwrap(), None, "the server's default");
        assert_eq!(thresholds("50; 90").unwrap(), Some(vec![50, 90]));
        assert_eq!(
            budget_request("10", "USD", "half", false).unwrap_err(),
            BadField::Thresholds
        );
        assert_eq!(currency("nope"), Currency::Usd);
    }

    #[test]
    fn the_capex_form_read() {
        let mut f = CapexForm {
            currency: "USD".into(),
            purchase_price: "4000".into(),
            lifetime_months: "36".into(),
            power_watts: " 350 ".into(),
            electricity_price_per_kwh: "0,15".into(),
            server_vcpus: "32".into(),
        };
        let r = capex_request(&f).unwrap();
        assert_eq!(
            (r.lifetime_months, r.power_watts, r.server_vcpus),
            (36, 350, 32)
        );
        assert_eq!(r.electricity_price_per_kwh, "0.15");
        f.power_watts = "lots".into();
        assert_eq!(capex_request(&f).unwrap_err(), BadField::Watts);
    }

    #[test]
    fn a_price_change_from_its_field() {
        assert_eq!(effective_field(" ").unwrap(), None, "now");
        assert_eq!(
            effective_field("2026-12-24T18:30").unwrap(),
            Some(at("2026-12-24T18:30:00Z"))
        );
        assert_eq!(
            effective_field("2026-12-24T18:30:15Z").unwrap(),
            Some(at("2026-12-24T18:30:15Z"))
        );
        assert_eq!(
            effective_field("tomorrow").unwrap_err(),
            BadField::Effective
        );
    }

    #[test]
    fn bars_compare_two_amounts() {
        assert_eq!(bar_widths(dec("50"), dec("200")), (25.0, 100.0));
        assert_eq!(bar_widths(dec("0"), dec("0")), (0.0, 0.0));
    }
}
