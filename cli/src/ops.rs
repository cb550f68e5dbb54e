//! `cloudctl reconciler`: the platform's background reconcilers (operator).

use clap::Subcommand;
use nuvem_api::ops::ReconcilerStatus;
use nuvem_sdk::Client;

use crate::output::{Out, Tabular};

#[derive(Subcommand)]
pub enum ReconcilerCmd {
    /// Each service's reconciler (database against host) and how its last run went.
    List,
    /// Run one now (vpc or compute) and show what it fixed.
    Run {
        /// The reconciler: vpc or compute.
        name: String,
    },
}

pub async fn reconciler(c: &Client, out: &Out, cmd: &ReconcilerCmd) -> anyhow::Result<()> {
    match cmd {
        ReconcilerCmd::List => out.list(&c.list_reconcilers().await?.items),
        ReconcilerCmd::Run { name } => out.list(&[c.run_reconciler(name).await?]),
    }
}

impl Tabular for ReconcilerStatus {
    const COLUMNS: &'static [&'static str] = &[
        "RECONCILER",
        "EVERY",
        "RUNS",
        "LAST RUN",
        "TOOK",
        "LAST OUTCOME",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            format!("{} s", self.period_seconds),
            format!("{} ({} failed)", self.runs, self.failures),
            // Only the time of day: the reconcilers run every few seconds to minutes.
            self.last_started_at
                .map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_else(|| "never".into()),
            format!("{} ms", self.last_duration_ms),
            match (&self.last_error, self.last_fixed.is_empty()) {
                (Some(e), _) => format!("failed: {e}"),
                (None, true) => "nothing to fix".into(),
                (None, false) => self.last_fixed.join("; "),
            },
        ]
    }
}
