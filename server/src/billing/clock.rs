//! Metering clocks. Every account meters on real time unless the operator gives it a demo clock
//! (N× real time, paused, or moved forward), so that a class sees a month's bill grow in minutes.
//! A clock is a list of segments, each starting where the previous one had got to, so metered
//! time never runs backwards and any past real time converts.

use chrono::{DateTime, Duration, Utc};

use crate::store::billing::ClockRow;

/// From `real_from` on, metered time is `meter_from + (real − real_from) × factor`, or stands
/// at `meter_from` while paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub real_from: DateTime<Utc>,
    pub meter_from: DateTime<Utc>,
    pub factor: u32,
    pub paused: bool,
}

impl From<&ClockRow> for Segment {
    fn from(r: &ClockRow) -> Self {
        Segment {
            real_from: r.real_from,
            meter_from: r.meter_from,
            factor: r.factor.max(1) as u32,
            paused: r.paused,
        }
    }
}

/// One account's clock; no segments is real time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountClock {
    segments: Vec<Segment>,
}

impl AccountClock {
    pub fn new(mut segments: Vec<Segment>) -> Self {
        segments.sort_by_key(|s| s.real_from);
        AccountClock { segments }
    }

    pub fn push(&mut self, s: Segment) {
        self.segments.push(s);
    }

    fn segment_at(&self, real: DateTime<Utc>) -> Option<&Segment> {
        self.segments.iter().rev().find(|s| s.real_from <= real)
    }

    /// The metered time at a real time.
    pub fn meter_at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        match self.segment_at(real) {
            None => real,
            Some(s) if s.paused => s.meter_from,
            Some(s) => {
                let elapsed = (real - s.real_from).num_milliseconds();
                s.meter_from + Duration::milliseconds(elapsed.saturating_mul(i64::from(s.factor)))
            }
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.meter_at(Utc::now())
    }

    /// The factor and pause in force now.
    pub fn current(&self) -> (u32, bool) {
        self.segments
            .last()
            .map(|s| (s.factor, s.paused))
            .unwrap_or((1, false))
    }

    /// Whether this account's metered time was ever anything but real time.
    pub fn is_demo(&self) -> bool {
        !self.segments.is_empty()
    }

    /// The largest factor in force at any time in the metered window, for marking bills; `None`
    /// when the window ran on real time throughout.
    pub fn demo_factor_within(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<u32> {
        let mut found: Option<u32> = None;
        for (i, s) in self.segments.iter().enumerate() {
            // The segment covers metered time from its start to the next segment's start.
            let end = self
                .segments
                .get(i + 1)
                .map(|n| self.meter_at(n.real_from - Duration::milliseconds(1)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if s.meter_from < to && end >= from {
                // A paused or advanced clock is a demo clock even at factor 1.
                found = Some(found.unwrap_or(1).max(s.factor));
            }
        }
        found
    }

    /// The segment that starts now with the given changes, continuing from where the clock is.
    pub fn next_segment(
        &self,
        real_now: DateTime<Utc>,
        factor: Option<u32>,
        paused: Option<bool>,
        advance: Duration,
    ) -> Segment {
        let (f, p) = self.current();
        Segment {
            real_from: real_now,
            meter_from: self.meter_at(real_now) + advance,
            factor: factor.unwrap_or(f),
            paused: paused.unwrap_or(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn real_time_without_segments() {
        let c = AccountClock::default();
        assert_eq!(
            c.meter_at(t("2026-12-01T10:00:00Z")),
            t("2026-12-01T10:00:00Z")
        );
        assert_eq!(
            c.demo_factor_within(t("2026-12-01T00:00:00Z"), t("2027-01-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn factor_pause_and_advance_continue_without_going_back() {
        let mut c = AccountClock::default();
        let start = t("2026-12-01T10:00:00Z");
        c.push(c.next_segment(start, Some(3600), None, Duration::zero()));
        // Ten real seconds are ten metered hours.
        assert_eq!(
            c.meter_at(start + Duration::seconds(10)),
            t("2026-12-01T20:00:00Z")
        );
        // Paused after 20 s: it stands still at 30 metered hours on.
        c.push(c.next_segment(
            start + Duration::seconds(20),
            None,
            Some(true),
            Duration::zero(),
        ));
        assert_eq!(
            c.meter_at(start + Duration::seconds(500)),
            t("2026-12-02T06:00:00Z")
        );
        // Moved forward by an hour while paused.
        c.push(c.next_segment(
            start + Duration::seconds(600),
            None,
            None,
            Duration::hours(1),
        ));
        assert_eq!(
            c.meter_at(start + Duration::seconds(700)),
            t("2026-12-02T07:00:00Z")
        );
        assert_eq!(c.current(), (3600, true));
        // Times before the first segment stay real.
        assert_eq!(
            c.meter_at(start - Duration::seconds(5)),
            start - Duration::seconds(5)
        );
        assert_eq!(
            c.demo_factor_within(t("2026-12-01T00:00:00Z"), t("2027-01-01T00:00:00Z")),
            Some(3600)
        );
        assert_eq!(
            c.demo_factor_within(t("2026-11-01T00:00:00Z"), t("2026-11-30T00:00:00Z")),
            None
        );
    }
}
