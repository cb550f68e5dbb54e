//! Rating: from an account's ledger (lifecycle events on its metering clock) and the price
//! catalog to billed intervals and line items. Pure: the same ledger and prices always give the
//! same bill, which is what lets a past month be recomputed exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use nuvem_api::billing::{LineItem, RunningResource};
use rust_decimal::{Decimal, RoundingStrategy};

use super::meters::{Accrues, Line, meter_for};
use crate::usage::{Change, Dimensions};

/// One ledger event, as rating needs it.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    pub change: Change,
    pub dimensions: Dimensions,
}

/// A span during which one usage line of one resource accrued.
#[derive(Debug, Clone)]
pub struct Interval {
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    pub line: &'static Line,
    pub dimensions: Dimensions,
    pub start: DateTime<Utc>,
    /// `None`: still accruing.
    pub end: Option<DateTime<Utc>>,
    /// Whether the span began with a start, so the minimum billed length applies.
    pub from_start: bool,
}

impl Interval {
    /// The end of what is billed: the real end stretched to the minimum, or `now` if open.
    fn billed_end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let end = self.end.unwrap_or(now.max(self.start));
        if self.from_start {
            end.max(self.start + Duration::seconds(self.line.minimum_seconds))
        } else {
            end
        }
    }
}

/// Prices of one currency by SKU, each a list of (effective metered time, unit price), oldest
/// first.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    pub by_sku: BTreeMap<String, Vec<(DateTime<Utc>, Decimal)>>,
}

impl PriceBook {
    pub fn add(&mut self, sku: &str, from: DateTime<Utc>, price: Decimal) {
        let v = self.by_sku.entry(sku.to_owned()).or_default();
        v.push((from, price));
        v.sort_by_key(|(t, _)| *t);
    }

    /// The price in force at `at` (zero where the catalog has none: never a guess).
    pub fn at(&self, sku: &str, at: DateTime<Utc>) -> Decimal {
        self.by_sku
            .get(sku)
            .and_then(|v| v.iter().rev().find(|(t, _)| *t <= at))
            .map(|(_, p)| *p)
            .unwrap_or_default()
    }

    /// The times in `(from, to)` at which the SKU's price changes.
    fn changes_within(
        &self,
        sku: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        self.by_sku
            .get(sku)
            .map(|v| {
                v.iter()
                    .map(|(t, _)| *t)
                    .filter(|t| *t > from && *t < to)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct ResourceState {
    exists: bool,
    running: bool,
    dimensions: Dimensions,
}

/// Replays events (oldest first) into the spans each usage line accrued.
pub fn intervals(events: &[Event]) -> Vec<Interval> {
    let mut open: BTreeMap<(String, String, &'static str), Interval> = BTreeMap::new();
    let mut state: BTreeMap<(String, String), ResourceState> = BTreeMap::new();
    let mut done = Vec::new();
    for e in events {
        let Some(meter) = meter_for(&e.service, &e.resource_type) else {
            continue;
        };
        let key = (e.service.clone(), e.resource_id.clone());
        let st = state.entry(key.clone()).or_default();
        let before = (st.exists, st.running);
        let resized = st.dimensions != e.dimensions && e.change == Change::Resized;
        match e.change {
            Change::Created => st.exists = true,
            Change::Started => {
                st.exists = true;
                st.running = true;
            }
            Change::Stopped => st.running = false,
            Change::Resized => {}
            Change::Deleted => {
                st.exists = false;
                st.running = false;
            }
        }
        if e.change != Change::Deleted {
            st.dimensions = e.dimensions.clone();
        }
        let after = (st.exists, st.running);
        for line in meter.lines {
            if line.accrues == Accrues::Counted {
                // What was used since the previous event, at this event's time.
                if !(line.scale)(&e.dimensions).is_zero() {
                    done.push(Interval {
                        service: e.service.clone(),
                        resource_type: e.resource_type.clone(),
                        resource_id: e.resource_id.clone(),
                        line,
                        dimensions: e.dimensions.clone(),
                        start: e.at,
                        end: Some(e.at),
                        from_start: false,
                    });
                }
                continue;
            }
            let on = |(exists, running): (bool, bool)| match line.accrues {
                Accrues::Running => running,
                Accrues::Exists | Accrues::Counted => exists,
            };
            let okey = (key.0.clone(), key.1.clone(), line.usage_type);
            let was = on(before);
            let is = on(after);
            if was
                && (!is || resized)
                && let Some(mut i) = open.remove(&okey)
            {
                i.end = Some(e.at);
                done.push(i);
            }
            if is && (!was || resized) {
                open.insert(
                    okey,
                    Interval {
                        service: e.service.clone(),
                        resource_type: e.resource_type.clone(),
                        resource_id: e.resource_id.clone(),
                        line,
                        dimensions: st.dimensions.clone(),
                        start: e.at,
                        end: None,
                        from_start: !was && e.change == Change::Started,
                    },
                );
            }
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| (a.start, &a.resource_id).cmp(&(b.start, &b.resource_id)));
    done
}

/// Milliseconds as whole billed seconds, a started second counting as one.
fn whole_seconds(d: Duration) -> i64 {
    let ms = d.num_milliseconds().max(0);
    (ms + 999) / 1000
}

pub fn round_money(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// Line items being summed: one per resource, usage type, SKU and unit price.
#[derive(Default)]
struct Accumulator {
    lines: BTreeMap<(String, String, String, String, Decimal), Acc>,
}

struct Acc {
    item: LineItem,
    /// Unrounded quantity: amounts are rounded once, from it.
    units: Decimal,
}

impl Accumulator {
    fn add(
        &mut self,
        span: &Interval,
        sku: &str,
        unit_price: Decimal,
        (a, b): (DateTime<Utc>, DateTime<Utc>),
        units: Decimal,
        seconds: i64,
    ) {
        let key = (
            span.resource_id.clone(),
            span.line.usage_type.to_owned(),
            sku.to_owned(),
            span.service.clone(),
            unit_price,
        );
        let entry = self.lines.entry(key).or_insert_with(|| Acc {
            item: LineItem {
                service: span.service.clone(),
                resource_type: span.resource_type.clone(),
                resource_id: span.resource_id.clone(),
                usage_type: span.line.usage_type.to_owned(),
                sku: sku.to_owned(),
                quantity: Decimal::ZERO,
                unit: span.line.unit.to_owned(),
                unit_price,
                amount: Decimal::ZERO,
                seconds: 0,
                from: a,
                to: b,
            },
            units: Decimal::ZERO,
        });
        entry.units += units;
        entry.item.seconds += seconds;
        entry.item.from = entry.item.from.min(a);
        entry.item.to = entry.item.to.max(b);
    }
}

/// The line items of the spans within `[from, to)`, counted up to `now` for spans still open.
pub fn line_items(
    spans: &[Interval],
    prices: &PriceBook,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<LineItem> {
    let mut acc = Accumulator::default();
    for span in spans {
        if span.line.accrues == Accrues::Counted {
            if span.start < from || span.start >= to || span.start > now {
                continue;
            }
            let sku = (span.line.sku)(&span.dimensions);
            let unit_price = prices.at(&sku, span.start);
            let units = (span.line.scale)(&span.dimensions);
            acc.add(span, &sku, unit_price, (span.start, span.start), units, 0);
            continue;
        }
        let s = span.start.max(from);
        let e = span.billed_end(now).min(to);
        if e <= s {
            continue;
        }
        let sku = (span.line.sku)(&span.dimensions);
        let scale = (span.line.scale)(&span.dimensions);
        let mut cuts = vec![s];
        cuts.extend(prices.changes_within(&sku, s, e));
        cuts.push(e);
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let seconds = whole_seconds(b - a);
            if seconds == 0 {
                continue;
            }
            let unit_price = prices.at(&sku, a);
            let units = scale * Decimal::from(seconds) / Decimal::from(span.line.seconds_per_unit);
            acc.add(span, &sku, unit_price, (a, b), units, seconds);
        }
    }
    let mut items: Vec<LineItem> = acc
        .lines
        .into_values()
        .map(|mut a| {
            a.item.quantity = a
                .units
                .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
                .normalize();
            a.item.amount = round_money(a.units * a.item.unit_price).normalize();
            a.item.unit_price = a.item.unit_price.normalize();
            a.item
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.service, &a.resource_id, &a.usage_type, a.from).cmp(&(
            &b.service,
            &b.resource_id,
            &b.usage_type,
            b.from,
        ))
    });
    items
}

/// What the spans still open at `now` cost per hour.
pub fn running_rates(
    spans: &[Interval],
    prices: &PriceBook,
    now: DateTime<Utc>,
) -> Vec<RunningResource> {
    spans
        .iter()
        .filter(|s| s.end.is_none() && s.start <= now && s.line.accrues != Accrues::Counted)
        .map(|s| {
            let sku = (s.line.sku)(&s.dimensions);
            let scale = (s.line.scale)(&s.dimensions);
            let hourly = scale * prices.at(&sku, now) * Decimal::from(3600)
                / Decimal::from(s.line.seconds_per_unit);
            RunningResource {
                service: s.service.clone(),
                resource_type: s.resource_type.clone(),
                resource_id: s.resource_id.clone(),
                usage_type: s.line.usage_type.to_owned(),
                hourly_rate: hourly
                    .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
                    .normalize(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn ev(at: &str, change: Change) -> Event {
        Event {
            at: t(at),
            service: "ec2".into(),
            resource_type: "instance".into(),
            resource_id: "i-1".into(),
            change,
            dimensions: Dimensions {
                vcpus: 1,
                memory_mib: 1024,
                disk_gib: 8,
                sku: Some("t3.micro".into()),
                ..Default::default()
            },
        }
    }

    fn book() -> PriceBook {
        let mut b = PriceBook::default();
        b.add(
            "ec2.instance.t3.micro",
            t("1970-01-01T00:00:00Z"),
            "0.0104".parse().expect("d"),
        );
        b.add(
            "ec2.disk",
            t("1970-01-01T00:00:00Z"),
            "0.08".parse().expect("d"),
        );
        b
    }

    #[test]
    fn start_stop_start_terminate_bills_running_and_disk_time() {
        let events = [
            ev("2026-12-01T00:00:00Z", Change::Started),
            ev("2026-12-01T02:00:00Z", Change::Stopped),
            ev("2026-12-01T02:30:00Z", Change::Started),
            ev("2026-12-01T03:30:00Z", Change::Deleted),
        ];
        let spans = intervals(&events);
        let items = line_items(
            &spans,
            &book(),
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-05T00:00:00Z"),
        );
        let running = items
            .iter()
            .find(|i| i.usage_type == "running")
            .expect("running");
        assert_eq!(running.seconds, 3 * 3600);
        assert_eq!(running.quantity, Decimal::from(3));
        assert_eq!(running.amount, "0.0312".parse::<Decimal>().expect("d"));
        let disk = items.iter().find(|i| i.usage_type == "disk").expect("disk");
        assert_eq!(disk.seconds, 3 * 3600 + 1800);
        // 8 GiB for 3.5 h of a 730-h month at 0.08.
        let expected = round_money(
            Decimal::from(8) * Decimal::from(12_600) / Decimal::from(730 * 3600)
                * "0.08".parse::<Decimal>().expect("d"),
        );
        assert_eq!(disk.amount, expected);
    }

    #[test]
    fn object_storage_accrues_bytes_stored_and_counts_requests_and_bytes_out() {
        let bucket = |at: &str, change, stored: u64, puts: u64, gets: u64, out: u64| Event {
            at: t(at),
            service: "s3".into(),
            resource_type: "bucket".into(),
            resource_id: "photos".into(),
            change,
            dimensions: Dimensions {
                storage_bytes: stored,
                requests_tier1: puts,
                requests_tier2: gets,
                bytes_out: out,
                ..Default::default()
            },
        };
        let gib = 1u64 << 30;
        let events = [
            bucket("2026-12-01T00:00:00Z", Change::Created, 0, 0, 0, 0),
            bucket("2026-12-01T01:00:00Z", Change::Resized, 2 * gib, 2000, 0, 0),
            bucket(
                "2026-12-01T11:00:00Z",
                Change::Resized,
                2 * gib,
                0,
                5000,
                gib,
            ),
            bucket("2026-12-01T12:00:00Z", Change::Deleted, 0, 0, 1000, 0),
        ];
        let mut prices = PriceBook::default();
        for (sku, p) in [
            ("s3.storage", "0.023"),
            ("s3.requests.put", "0.005"),
            ("s3.requests.get", "0.0004"),
            ("s3.bytes-out", "0.09"),
        ] {
            prices.add(sku, t("1970-01-01T00:00:00Z"), p.parse().expect("d"));
        }
        let items = line_items(
            &intervals(&events),
            &prices,
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z"),
        );
        let of = |u: &str| {
            items
                .iter()
                .filter(|i| i.usage_type == u)
                .map(|i| i.quantity)
                .sum::<Decimal>()
        };
        // 2 GiB for 11 hours of a 730-hour month.
        assert_eq!(
            of("storage"),
            (Decimal::from(22) / Decimal::from(730))
                .round_dp(6)
                .normalize()
        );
        assert_eq!(of("requests-put"), Decimal::from(2));
        assert_eq!(of("requests-get"), Decimal::from(6));
        assert_eq!(of("bytes-out"), Decimal::ONE);
        let amount = |u: &str| items.iter().find(|i| i.usage_type == u).expect(u).amount;
        assert_eq!(
            amount("requests-put"),
            "0.01".parse::<Decimal>().expect("d")
        );
        assert_eq!(amount("bytes-out"), "0.09".parse::<Decimal>().expect("d"));
    }

    #[test]
    fn a_short_run_is_billed_sixty_seconds() {
        let events = [
            ev("2026-12-01T00:00:00Z", Change::Started),
            ev("2026-12-01T00:00:10Z", Change::Stopped),
        ];
        let items = line_items(
            &intervals(&events),
            &book(),
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-02T00:00:00Z"),
        );
        let running = items
            .iter()
            .find(|i| i.usage_type == "running")
            .expect("running");
        assert_eq!(running.seconds, 60);
    }

    #[test]
    fn a_price_change_splits_the_line_and_never_applies_backwards() {
        let mut prices = book();
        prices.add(
            "ec2.instance.t3.micro",
            t("2026-12-01T01:00:00Z"),
            "0.02".parse().expect("d"),
        );
        let events = [ev("2026-12-01T00:00:00Z", Change::Started)];
        let items = line_items(
            &intervals(&events),
            &prices,
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-01T03:00:00Z"),
        );
        let running: Vec<_> = items.iter().filter(|i| i.usage_type == "running").collect();
        assert_eq!(running.len(), 2);
        assert_eq!(running[0].seconds, 3600);
        assert_eq!(running[0].amount, "0.0104".parse::<Decimal>().expect("d"));
        assert_eq!(running[1].seconds, 7200);
        assert_eq!(running[1].amount, "0.04".parse::<Decimal>().expect("d"));
    }

    #[test]
    fn a_month_counts_only_its_own_part_of_a_span() {
        let events = [ev("2026-11-30T23:00:00Z", Change::Started)];
        let items = line_items(
            &intervals(&events),
            &book(),
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-01T01:00:00Z"),
        );
        let running = items
            .iter()
            .find(|i| i.usage_type == "running")
            .expect("running");
        assert_eq!(running.seconds, 3600);
        let rates = running_rates(&intervals(&events), &book(), t("2026-12-01T01:00:00Z"));
        assert_eq!(rates.len(), 2);
    }
}
