//! Metering benchmark, in-process on SQLite (debug or release, as `cargo bench` builds it):
//!
//! 1. Ledger overhead: the server's CPU time over 60 s with 200 running resources whose use the
//!    billing reconciler samples every 10 s, against the same 60 s with none. The 200 come from
//!    a synthetic fleet registered with billing through the same `Inventory` trait compute and
//!    VPC implement (what 200 guests would report), so the figure is billing's own work.
//! 2. The time to produce a month's bill of an account with 100,000 ledger rows (goal < 100 ms),
//!    in the service and through the HTTP API.
//!
//! ```sh
//! cargo bench -p nuvem-server --bench billing
//! ```
//! Figures are recorded in docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, TimeZone, Utc};
use futures_util::future::BoxFuture;
use nuvem_api::billing::BillParams;
use nuvem_server::config::Config;
use nuvem_server::drivers::Drivers;
use nuvem_server::store::billing::UsageEventRow;
use nuvem_server::usage::{Dimensions, Inventory, Metered, Used};

const FLEET: usize = 200;
const WINDOW: Duration = Duration::from_secs(60);
const LEDGER_ROWS: usize = 100_000;

/// 200 running resources, each as a guest would report itself.
struct Fleet {
    account_id: String,
    started: Instant,
}

impl Inventory for Fleet {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn metered(&self) -> BoxFuture<'_, nuvem_server::error::Result<(Vec<Metered>, Vec<String>)>> {
        Box::pin(async move {
            Ok((
                (0..FLEET)
                    .map(|i| Metered {
                        account_id: self.account_id.clone(),
                        service: "ec2",
                        resource_type: "instance",
                        resource_id: format!("i-fleet{i:04}"),
                        running: true,
                        dimensions: Dimensions {
                            vcpus: 1,
                            memory_mib: 512,
                            disk_gib: 1,
                            sku: Some("t3.nano".into()),
                            ..Default::default()
                        },
                    })
                    .collect(),
                Vec::new(),
            ))
        })
    }

    fn used(&self) -> BoxFuture<'_, nuvem_server::error::Result<Vec<Used>>> {
        Box::pin(async move {
            let t = self.started.elapsed().as_secs_f64();
            Ok((0..FLEET)
                .map(|i| Used {
                    account_id: self.account_id.clone(),
                    resource_id: format!("i-fleet{i:04}"),
                    cpu_seconds_total: t * 0.3,
                    memory_mib: 300,
                })
                .collect())
        })
    }
}

/// This process's CPU time (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the ")".
    (ticks(11) + ticks(12)) / 100.0
}

async fn cpu_percent_over(window: Duration) -> f64 {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(window).await;
    (cpu_seconds() - c0) / t0.elapsed().as_secs_f64() * 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_tests(dir.path(), None);
    config.log = "error".into();
    let (drivers, _sims) = Drivers::simulated();
    let server = nuvem_server::server::start_with_drivers(config, drivers).await?;
    let nuvem = server.nuvem.clone();
    let password = server
        .generated_admin_password()
        .unwrap_or_default()
        .to_owned();
    let admin = nuvem_sdk::Client::builder()
        .endpoint(server.url())
        .credentials(nuvem_sdk::Credentials::Anonymous)
        .build()?;
    let session = admin.login("admin", "root", &password).await?;
    let admin = nuvem_sdk::Client::builder()
        .endpoint(server.url())
        .credentials(nuvem_sdk::Credentials::Session {
            token: session.token,
        })
        .build()?;
    admin
        .create_account("fleet", Some("fleet-root-password-1"))
        .await?;
    admin
        .create_account("ledger", Some("ledger-root-password-1"))
        .await?;
    let id_of = |name: &str| {
        let store = nuvem.store.clone();
        let name = name.to_owned();
        async move {
            anyhow::Ok(
                store
                    .account_get_by_name(&name)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .ok_or_else(|| anyhow::anyhow!("no account {name}"))?
                    .id,
            )
        }
    };

    // 1. Overhead of metering 200 running resources, sampled every 10 s.
    println!(
        "Ledger overhead ({FLEET} running resources, sampled every 10 s, {} s windows)",
        WINDOW.as_secs()
    );
    let idle = cpu_percent_over(WINDOW).await;
    nuvem.billing.register(Arc::new(Fleet {
        account_id: id_of("fleet").await?,
        started: Instant::now(),
    }));
    // The first tick opens 200 intervals; the windowed ones sample and re-check them.
    nuvem
        .reconcilers
        .run("billing")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let busy = cpu_percent_over(WINDOW).await;
    println!("| server CPU, nothing metered | {idle:.2} % |");
    println!("| server CPU, {FLEET} resources metered | {busy:.2} % |");
    println!("| metering's share | {:.2} % of one core |", busy - idle);

    // 2. A month's bill from 100,000 ledger rows: 2,000 resources started and stopped 25 times.
    let ledger = id_of("ledger").await?;
    let now = Utc::now();
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let span = (now - month_start).num_seconds().max(3600);
    let mut rows = Vec::with_capacity(LEDGER_ROWS);
    for i in 0..LEDGER_ROWS {
        let resource = i % 2000;
        let step = (i / 2000) as i64;
        let at = month_start + chrono::Duration::seconds(step * span / 51 + resource as i64 % 60);
        rows.push(UsageEventRow {
            id: 0,
            account_id: ledger.clone(),
            service: "ec2".into(),
            resource_type: "instance".into(),
            resource_id: format!("i-ledger{resource:05}"),
            change: if step % 2 == 0 { "started" } else { "stopped" }.into(),
            vcpus: 1,
            memory_mib: 1024,
            disk_gib: 2,
            sku: Some("t3.micro".into()),
            storage_bytes: 0,
            requests_tier1: 0,
            requests_tier2: 0,
            bytes_out: 0,
            meter_at: at,
            recorded_at: now,
            source: "event".into(),
        });
    }
    let t = Instant::now();
    for chunk in rows.chunks(5000) {
        nuvem
            .store
            .usage_event_append_all(chunk.to_vec())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!(
        "\nA month's bill from {LEDGER_ROWS} ledger rows (written in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let q = BillParams {
        account: Some("ledger".into()),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut items = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let bill = admin.get_bill(&q).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        items = bill.line_items.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| through the API (5 runs) | median {:.1} ms, best {:.1} ms | {items} line items |",
        times[2], times[0]
    );
    println!("| goal | < 100 ms |");
    server.stop().await;
    Ok(())
}
