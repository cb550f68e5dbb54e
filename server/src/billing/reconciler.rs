//! The billing reconciler: the ledger against what the services say exists, what running
//! resources use (sampled into the ledger), and budgets. At start it runs before the first
//! request, so after a kill -9 every interval the server missed is closed or continued from the
//! real state (the services' own reconcilers having aligned them with libvirt first): a resource
//! that kept running while the server was down was billed for that time, because it ran.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;

use super::Billing;
use crate::error::Result;
use crate::reconcile::Reconciler;
use crate::store::billing::UsageSampleRow;
use crate::usage::{Change, Dimensions, UsageEvent};

/// How often the ledger is checked, usage sampled and budgets looked at.
pub const PERIOD: Duration = Duration::from_secs(10);

impl Reconciler for Billing {
    fn name(&self) -> &'static str {
        "billing"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let mut fixed = self.ledger_reconcile().await?;
            self.sample().await?;
            fixed.extend(self.budget_check_all().await?);
            self.metrics_refresh().await?;
            Ok(fixed)
        })
    }
}

impl Billing {
    /// Appends what the ledger misses: a start, a stop or an end it never got.
    pub async fn ledger_reconcile(&self) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        let mut ledger = self.ledger.lock().await;
        for inv in self.inventories() {
            let service = inv.service();
            let (now, busy) = inv.metered().await?;
            let busy: HashSet<String> = busy.into_iter().collect();
            let mut seen = HashSet::new();
            for m in now {
                seen.insert(m.resource_id.clone());
                let st = ledger
                    .by_resource
                    .get(&(service.to_owned(), m.resource_id.clone()))
                    .cloned()
                    .unwrap_or_default();
                let change = match (st.exists, st.running, m.running) {
                    (_, false, true) => Some(Change::Started),
                    (true, true, false) => Some(Change::Stopped),
                    (false, _, false) => Some(Change::Created),
                    _ => None,
                };
                if let Some(change) = change {
                    let event = UsageEvent {
                        at: Utc::now(),
                        account_id: m.account_id.clone(),
                        service: m.service,
                        resource_type: m.resource_type,
                        resource_id: m.resource_id.clone(),
                        change,
                        dimensions: m.dimensions.clone(),
                    };
                    self.append(&mut ledger, &event, "reconciler").await?;
                    fixed.push(format!(
                        "{}: {:?} (the ledger had missed it)",
                        m.resource_id, change
                    ));
                }
            }
            let gone: Vec<(String, super::LedgerState)> = ledger
                .by_resource
                .iter()
                .filter(|((s, id), _)| s == service && !seen.contains(id) && !busy.contains(id))
                .map(|((_, id), st)| (id.clone(), st.clone()))
                .collect();
            for (id, st) in gone {
                let resource_type = super::meters::METERS
                    .iter()
                    .find(|m| m.service == service && m.resource_type == st.resource_type)
                    .map(|m| m.resource_type)
                    .unwrap_or("unknown");
                let event = UsageEvent {
                    at: Utc::now(),
                    account_id: st.account_id.clone(),
                    service,
                    resource_type,
                    resource_id: id.clone(),
                    change: Change::Deleted,
                    dimensions: Dimensions::default(),
                };
                self.append(&mut ledger, &event, "reconciler").await?;
                fixed.push(format!("{id}: deleted (gone while the ledger had it open)"));
            }
        }
        Ok(fixed)
    }

    /// Samples what running resources use: CPU time over wall time, resident memory.
    pub async fn sample(&self) -> Result<usize> {
        let mut rows = Vec::new();
        let mut live = HashSet::new();
        for inv in self.inventories() {
            let used = inv.used().await?;
            let now = Instant::now();
            let mut last = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
            for u in used {
                live.insert(u.resource_id.clone());
                if let Some((at, cpu)) = last.get(&u.resource_id).copied() {
                    let real = now.duration_since(at).as_secs_f64();
                    let delta = u.cpu_seconds_total - cpu;
                    // A restarted guest's counter starts again from zero: no sample across it.
                    if real > 0.0 && delta >= 0.0 {
                        rows.push(UsageSampleRow {
                            id: 0,
                            account_id: u.account_id.clone(),
                            resource_id: u.resource_id.clone(),
                            meter_at: self.clock(&u.account_id).now(),
                            real_seconds: real,
                            cpu_seconds: delta,
                            memory_mib: u.memory_mib as i64,
                        });
                    }
                }
                last.insert(u.resource_id.clone(), (now, u.cpu_seconds_total));
            }
        }
        self.last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| live.contains(id));
        let n = rows.len();
        self.store.usage_sample_append_all(rows).await?;
        Ok(n)
    }
}
