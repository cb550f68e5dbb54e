//! `cloudctl reconciler`: the platform's background reconcilers (operator).

use clap::Subcommand;
use nuvem_api::ops::ReconcilerStatus;
use nuvem_sdk::Client;

use crate::output::Out;

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

fn table(out: &Out, items: &[ReconcilerStatus]) -> anyhow::Result<()> {
    out.value(
        &items,
        |items| {
            items
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        format!("{} s", r.period_seconds),
                        format!("{} ({} failed)", r.runs, r.failures),
                        r.last_started_at
                            .map(|t| t.format("%H:%M:%S").to_string())
                            .unwrap_or_else(|| "never".into()),
                        format!("{} ms", r.last_duration_ms),
                        match (&r.last_error, r.last_fixed.is_empty()) {
                            (Some(e), _) => format!("failed: {e}"),
                            (None, true) => "nothing to fix".into(),
                            (None, false) => r.last_fixed.join("; "),
                        },
                    ]
                })
                .collect()
        },
        &[
            "RECONCILER",
            "EVERY",
            "RUNS",
            "LAST RUN",
            "TOOK",
            "LAST OUTCOME",
        ],
    )
}

pub async fn reconciler(c: &Client, out: &Out, cmd: &ReconcilerCmd) -> anyhow::Result<()> {
    match cmd {
        ReconcilerCmd::List => table(out, &c.list_reconcilers().await?.items),
        ReconcilerCmd::Run { name } => table(out, &[c.run_reconciler(name).await?]),
    }
}
