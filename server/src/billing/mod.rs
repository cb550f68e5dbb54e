//! Metering and pay-as-you-go billing (the seed's "measured service").
//!
//! The services report lifecycle changes to the usage hook; [`Billing`] subscribes and appends
//! each one to the ledger (`usage_events`) before the service's call returns. Rating (pure,
//! `rating.rs`) turns an account's ledger and the price catalog into a bill. A reconciler
//! (`reconciler.rs`) compares the ledger with what the services say exists — after a kill -9 the
//! ledger is continued or closed from the real state — samples what running resources actually
//! use, and checks budgets.
//!
//! Files: `clock` (demo clocks), `meters` (what accrues per kind of resource), `catalog`
//! (prices), `rating`, `bills` (bills, estimates, usage), `budgets`, `capex`, `reconciler`.

pub mod bills;
pub mod budgets;
pub mod capex;
pub mod catalog;
pub mod clock;
pub mod meters;
pub mod metrics;
pub mod rating;
pub mod reconciler;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use nuvem_api::billing::{self as api, Currency};

use self::clock::{AccountClock, Segment};
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::store::Store;
use crate::store::billing::{ClockRow, UsageEventRow};
use crate::usage::{Change, Inventory, UsageEvent, UsageSink};

/// What the ledger says of one resource, kept in memory (rebuilt from the ledger at start).
#[derive(Debug, Clone, Default, PartialEq)]
struct LedgerState {
    account_id: String,
    resource_type: String,
    exists: bool,
    running: bool,
}

#[derive(Default)]
struct Ledger {
    by_resource: HashMap<(String, String), LedgerState>,
}

/// The billing service; cheap to clone.
#[derive(Clone)]
pub struct Billing {
    store: Store,
    iam: Iam,
    currency: Currency,
    clocks: Arc<RwLock<HashMap<String, AccountClock>>>,
    /// Held while an event is appended or the reconciler compares: no correction is ever made
    /// from a view older than an event already written.
    ledger: Arc<tokio::sync::Mutex<Ledger>>,
    inventories: Arc<RwLock<Vec<Arc<dyn Inventory>>>>,
    /// The last CPU reading per resource, to turn totals into samples.
    last_used: Arc<Mutex<HashMap<String, (std::time::Instant, f64)>>>,
    /// Per-account figures for `/metrics`, refreshed by the reconciler.
    gauges: Arc<Mutex<Vec<metrics::AccountGauges>>>,
}

impl Billing {
    /// Loads the clocks, writes the default catalog on the first start (then the price file), and
    /// rebuilds what the ledger has open.
    pub async fn start(
        store: Store,
        iam: Iam,
        currency: Currency,
        price_file: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let billing = Billing {
            store,
            iam,
            currency,
            clocks: Arc::default(),
            ledger: Arc::default(),
            inventories: Arc::default(),
            last_used: Arc::default(),
            gauges: Arc::default(),
        };
        billing.catalog_load(price_file).await?;
        let mut clocks: HashMap<String, Vec<Segment>> = HashMap::new();
        for row in billing.store.clock_list_all().await? {
            clocks
                .entry(row.account_id.clone())
                .or_default()
                .push(Segment::from(&row));
        }
        *billing.clocks.write().unwrap_or_else(|e| e.into_inner()) = clocks
            .into_iter()
            .map(|(k, v)| (k, AccountClock::new(v)))
            .collect();
        let mut ledger = billing.ledger.lock().await;
        for e in billing.store.usage_event_list_all().await? {
            apply(&mut ledger, &e);
        }
        drop(ledger);
        Ok(billing)
    }

    /// Adds a service whose resources the reconciler checks, samples and stops.
    pub fn register(&self, inventory: Arc<dyn Inventory>) {
        self.inventories
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(inventory);
    }

    fn inventories(&self) -> Vec<Arc<dyn Inventory>> {
        self.inventories
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clock(&self, account_id: &str) -> AccountClock {
        self.clocks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(account_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Authorizes on `nrn:nuvem:billing:<account>:<resource>` (`bill/2026-12`, `price/*`, …).
    async fn authorize(&self, p: &Principal, action: &str, resource: &str) -> Result<()> {
        let nrn = format!("nrn:nuvem:billing:{}:{resource}", p.account.id);
        self.iam.authorize(p, action, &nrn).await
    }

    /// The account a call is about: the caller's own, or (operator only) the one named.
    async fn target_account(
        &self,
        p: &Principal,
        name: Option<&str>,
        action: &str,
    ) -> Result<crate::store::AccountRow> {
        match name {
            None => Ok(p.account.clone()),
            Some(n) if n == p.account.name => Ok(p.account.clone()),
            Some(n) => {
                self.iam.require_operator(p, action).map_err(|_| {
                    Error::AccessDenied(format!(
                        "{action} on another account ('{n}') is an operator action"
                    ))
                })?;
                self.store
                    .account_get_by_name(n)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("there is no account '{n}'")))
            }
        }
    }

    fn currency_of(&self, param: Option<&str>) -> Result<Currency> {
        match param {
            None => Ok(self.currency),
            Some(c) => Currency::parse(c).ok_or_else(|| {
                Error::invalid(format!(
                    "unknown currency '{c}'; Nuvem prices in USD and BRL"
                ))
            }),
        }
    }

    /// Appends one event, on the account's clock, and updates what is open.
    async fn append(&self, ledger: &mut Ledger, event: &UsageEvent, source: &str) -> Result<()> {
        let row = UsageEventRow {
            id: 0,
            account_id: event.account_id.clone(),
            service: event.service.to_owned(),
            resource_type: event.resource_type.to_owned(),
            resource_id: event.resource_id.clone(),
            change: change_name(event.change).to_owned(),
            vcpus: event.dimensions.vcpus as i32,
            memory_mib: event.dimensions.memory_mib as i64,
            disk_gib: event.dimensions.disk_gib as i64,
            sku: event.dimensions.sku.clone(),
            storage_bytes: event.dimensions.storage_bytes as i64,
            requests_tier1: event.dimensions.requests_tier1 as i64,
            requests_tier2: event.dimensions.requests_tier2 as i64,
            bytes_out: event.dimensions.bytes_out as i64,
            meter_at: self.clock(&event.account_id).meter_at(event.at),
            recorded_at: Utc::now(),
            source: source.to_owned(),
        };
        let row = self.store.usage_event_append(row).await?;
        apply(ledger, &row);
        Ok(())
    }

    /// The operator's clock change for an account.
    pub async fn clock_set(
        &self,
        p: &Principal,
        account: &str,
        req: api::SetClockRequest,
    ) -> Result<api::Clock> {
        self.iam.require_operator(p, "billing:SetClock")?;
        self.authorize(p, "billing:SetClock", &format!("clock/{account}"))
            .await?;
        let target = self
            .target_account(p, Some(account), "billing:SetClock")
            .await?;
        if let Some(f) = req.factor
            && !(1..=api::MAX_CLOCK_FACTOR).contains(&f)
        {
            return Err(Error::invalid(format!(
                "factor {f} is out of range: 1 (real time) to {} (one second is one day)",
                api::MAX_CLOCK_FACTOR
            )));
        }
        let advance = req.advance_seconds.unwrap_or(0);
        if advance > 366 * 86_400 {
            return Err(Error::invalid(
                "advance_seconds is at most a year (31622400)",
            ));
        }
        if req.factor.is_none() && req.paused.is_none() && advance == 0 {
            return Err(Error::invalid(
                "nothing to change: give factor, paused or advance_seconds",
            ));
        }
        // Under the ledger lock, so no event is stamped with the clock half changed.
        let _ledger = self.ledger.lock().await;
        let clock = self.clock(&target.id);
        let now = Utc::now();
        let seg = clock.next_segment(
            now,
            req.factor,
            req.paused,
            chrono::Duration::seconds(advance as i64),
        );
        self.store
            .clock_add(ClockRow {
                id: 0,
                account_id: target.id.clone(),
                real_from: seg.real_from,
                meter_from: seg.meter_from,
                factor: seg.factor as i32,
                paused: seg.paused,
            })
            .await?;
        self.clocks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(target.id.clone())
            .or_default()
            .push(seg);
        tracing::info!(account = %target.name, factor = ?req.factor, paused = ?req.paused, advance, "metering clock changed");
        Ok(self.clock_view(&target.name, &target.id))
    }

    pub async fn clock_get(&self, p: &Principal, account: Option<&str>) -> Result<api::Clock> {
        let target = self.target_account(p, account, "billing:GetClock").await?;
        self.authorize(p, "billing:GetClock", &format!("clock/{}", target.name))
            .await?;
        Ok(self.clock_view(&target.name, &target.id))
    }

    fn clock_view(&self, name: &str, id: &str) -> api::Clock {
        let clock = self.clock(id);
        let (factor, paused) = clock.current();
        let real_now = Utc::now();
        api::Clock {
            account: name.to_owned(),
            factor,
            paused,
            now: clock.meter_at(real_now),
            real_now,
            demo: clock.is_demo(),
        }
    }

    /// The mark a bill or view carries when a demo clock ran in its window.
    fn demo_mark(
        &self,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<api::DemoClockMark> {
        let factor = self.clock(account_id).demo_factor_within(from, to)?;
        Some(api::DemoClockMark {
            factor,
            note: format!(
                "DEMO CLOCK: metered at up to {factor}× real time for a lecture; not a real bill"
            ),
        })
    }
}

fn change_name(c: Change) -> &'static str {
    match c {
        Change::Created => "created",
        Change::Started => "started",
        Change::Stopped => "stopped",
        Change::Resized => "resized",
        Change::Deleted => "deleted",
    }
}

pub(crate) fn change_parse(s: &str) -> Option<Change> {
    Some(match s {
        "created" => Change::Created,
        "started" => Change::Started,
        "stopped" => Change::Stopped,
        "resized" => Change::Resized,
        "deleted" => Change::Deleted,
        _ => return None,
    })
}

fn apply(ledger: &mut Ledger, row: &UsageEventRow) {
    let Some(change) = change_parse(&row.change) else {
        return;
    };
    let key = (row.service.clone(), row.resource_id.clone());
    let st = ledger
        .by_resource
        .entry(key.clone())
        .or_insert_with(|| LedgerState {
            account_id: row.account_id.clone(),
            resource_type: row.resource_type.clone(),
            ..LedgerState::default()
        });
    match change {
        Change::Created => st.exists = true,
        Change::Started => {
            st.exists = true;
            st.running = true;
        }
        Change::Stopped => st.running = false,
        Change::Resized => {}
        Change::Deleted => {
            ledger.by_resource.remove(&key);
        }
    }
}

impl UsageSink for Billing {
    fn record<'a>(&'a self, event: &'a UsageEvent) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut ledger = self.ledger.lock().await;
            if let Err(e) = self.append(&mut ledger, event, "event").await {
                // The reconciler compares the ledger with the services and writes what is missing.
                tracing::error!(error = %e, resource = %event.resource_id, "a usage event was not written; the billing reconciler will catch up");
            }
        })
    }
}
