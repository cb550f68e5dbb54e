//! `cloudctl app logs [-f]`: the replicas' lines merged by time, each prefixed with its replica.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use nuvem_api::apps::{LogLine, LogParams};
use nuvem_sdk::Client;

use crate::output::Out;

/// An RFC 3339 time, or a duration ago: `30s`, `5m`, `2h`, `1d`.
pub(super) fn parse_since(given: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(given) {
        return Ok(t.with_timezone(&Utc));
    }
    let (number, unit) = given.split_at(given.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .with_context(|| format!("--since '{given}': give a time (RFC 3339) or 30s, 5m, 2h, 1d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--since '{given}': the unit must be s, m, h or d"),
    };
    Ok(Utc::now() - chrono::Duration::seconds(seconds))
}

fn print(out: &Out, line: &LogLine) -> anyhow::Result<()> {
    if out.is_json() {
        println!("{}", serde_json::to_string(line)?);
    } else {
        println!("{} | {}", line.replica, line.line);
    }
    Ok(())
}

pub(super) async fn logs(
    c: &Client,
    out: &Out,
    name: &str,
    mut params: LogParams,
    follow: bool,
) -> anyhow::Result<()> {
    let first = c.app_logs(name, &params).await?.items;
    if !follow {
        if out.is_json() {
            println!("{}", serde_json::to_string_pretty(&first)?);
        } else {
            for line in &first {
                print(out, line)?;
            }
        }
        return Ok(());
    }
    // Lines come back from `since` on, inclusive of its second: those already printed at the
    // newest time seen are remembered, so none is printed twice and none is lost.
    let mut newest: Option<DateTime<Utc>> = None;
    let mut printed_at_newest: HashSet<(String, String)> = HashSet::new();
    let mut batch = first;
    loop {
        for line in &batch {
            if newest.is_some_and(|t| line.at < t) {
                continue;
            }
            if newest == Some(line.at)
                && !printed_at_newest.insert((line.replica.clone(), line.line.clone()))
            {
                continue;
            }
            if newest != Some(line.at) {
                newest = Some(line.at);
                printed_at_newest.clear();
                printed_at_newest.insert((line.replica.clone(), line.line.clone()));
            }
            print(out, line)?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        params.since = newest.or(params.since);
        params.tail = None;
        batch = c.app_logs(name, &params).await?.items;
    }
}
