//! Prometheus figures per account: the month's accrued cost and what runs, by kind. Refreshed on
//! each reconciler tick (not at scrape time, so a scrape costs nothing).

use std::collections::BTreeMap;
use std::fmt::Write;

use rust_decimal::prelude::ToPrimitive;

use super::Billing;
use crate::error::Result;

#[derive(Debug, Clone, Default)]
pub struct AccountGauges {
    pub account: String,
    pub currency: &'static str,
    pub accrued: f64,
    pub demo: bool,
    /// `ec2/instance` → how many run (or exist, for what accrues while it exists).
    pub running: BTreeMap<String, u64>,
}

/// A label value with Prometheus' escapes.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Billing {
    pub(super) async fn metrics_refresh(&self) -> Result<()> {
        let mut gauges = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self.store.account_list(500, marker.as_deref()).await?;
            for a in &page.items {
                let r = self.rate(&a.id, None, self.currency).await?;
                let mut running: BTreeMap<String, u64> = BTreeMap::new();
                for s in r
                    .spans
                    .iter()
                    .filter(|s| s.end.is_none() && s.start <= r.now)
                {
                    // One count per resource: its first usage line (running, or exists).
                    if s.line.usage_type == "disk" {
                        continue;
                    }
                    *running
                        .entry(format!("{}/{}", s.service, s.resource_type))
                        .or_default() += 1;
                }
                gauges.push(AccountGauges {
                    account: a.name.clone(),
                    currency: self.currency.as_str(),
                    accrued: r.total.to_f64().unwrap_or(0.0),
                    demo: self.clock(&a.id).is_demo(),
                    running,
                });
            }
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        *self.gauges.lock().unwrap_or_else(|e| e.into_inner()) = gauges;
        Ok(())
    }

    /// The gauges in Prometheus' text format.
    pub fn metrics_text(&self) -> String {
        let gauges = self
            .gauges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str("# HELP nuvem_billing_accrued_cost This month's accrued cost per account, in the billing currency (demo=\"true\": metered on a demo clock).\n");
        out.push_str("# TYPE nuvem_billing_accrued_cost gauge\n");
        for g in &gauges {
            let _ = writeln!(
                out,
                "nuvem_billing_accrued_cost{{account=\"{}\",currency=\"{}\",demo=\"{}\"}} {}",
                label(&g.account),
                g.currency,
                g.demo,
                g.accrued
            );
        }
        out.push_str(
            "# HELP nuvem_billing_running_resources Resources accruing now per account, by kind.\n",
        );
        out.push_str("# TYPE nuvem_billing_running_resources gauge\n");
        for g in &gauges {
            for (kind, n) in &g.running {
                let _ = writeln!(
                    out,
                    "nuvem_billing_running_resources{{account=\"{}\",kind=\"{}\"}} {n}",
                    label(&g.account),
                    label(kind)
                );
            }
        }
        out
    }
}
