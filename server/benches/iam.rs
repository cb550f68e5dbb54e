//! IAM benchmark: one account filled with 1,000 users; latency of authorized list and get calls
//! (as an IAM user whose permission comes from a policy, so every call evaluates it), and password
//! sign-ins per second. Prints a table; figures are recorded in docs/benchmarks.md.
//!
//! ```sh
//! cargo bench -p nuvem-server --bench iam                      # SQLite (the default)
//! NUVEM_BENCH_DATABASE_URL=postgres://... cargo bench -p nuvem-server --bench iam
//! ```
//! Traffic stays on loopback; every loop is bounded in count and time.

use std::time::{Duration, Instant};

use nuvem_api::ListParams;
use nuvem_sdk::{Client, Credentials};
use nuvem_server::config::Config;
use serde_json::json;

const USERS: usize = 1000;
const GETS: usize = 2000;
const PAGE_LISTS: usize = 300;
const FULL_LISTS: usize = 50;
const LOGIN_SECONDS: u64 = 5;
const LOGIN_CONCURRENCY: usize = 4;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Row {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Row {
    fn print(&mut self) {
        self.samples.sort();
        let total: Duration = self.samples.iter().sum();
        println!(
            "{:<34} {:>6} {:>10} {:>10} {:>10} {:>10}",
            self.name,
            self.samples.len(),
            ms(percentile(&self.samples, 0.5)),
            ms(percentile(&self.samples, 0.99)),
            ms(*self.samples.last().unwrap()),
            format!("{:.0}/s", self.samples.len() as f64 / total.as_secs_f64()),
        );
    }
}

async fn timed<F, T>(n: usize, mut f: impl FnMut(usize) -> F) -> Vec<Duration>
where
    F: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = std::env::var("NUVEM_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let backend = if db.is_some() { "postgres" } else { "sqlite" };
    let running = nuvem_server::server::start(Config::for_tests(dir.path(), db)).await?;
    let url = running.url();
    let anon = Client::builder()
        .endpoint(&url)
        .credentials(Credentials::Anonymous)
        .build()?;
    let admin_pw = running
        .generated_admin_password()
        .expect("fresh server")
        .to_owned();
    let admin_session = anon.login("admin", "root", &admin_pw).await?;
    let admin = Client::builder()
        .endpoint(&url)
        .credentials(Credentials::session(admin_session.token))
        .build()?;
    admin
        .create_account("bench", Some("bench-root-password"))
        .await?;
    let root_session = anon.login("bench", "root", "bench-root-password").await?;
    let root = Client::builder()
        .endpoint(&url)
        .credentials(Credentials::session(root_session.token))
        .build()?;

    let fill = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..8 {
        let root = root.clone();
        handles.push(tokio::spawn(async move {
            for i in (worker..USERS).step_by(8) {
                root.create_user(&format!("student-{i:04}"), None)
                    .await
                    .expect("create user");
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let fill = fill.elapsed();

    root.create_policy(
        "readers",
        None,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}]}),
    )
    .await?;
    root.create_user("reader", Some("reader-password")).await?;
    root.attach_user_policy("reader", "readers").await?;
    let reader_session = anon.login("bench", "reader", "reader-password").await?;
    let reader = Client::builder()
        .endpoint(&url)
        .credentials(Credentials::session(reader_session.token))
        .build()?;
    // Warm up connections and caches.
    for _ in 0..20 {
        reader.get_user("student-0000").await?;
    }

    let page = ListParams {
        limit: Some(100),
        marker: None,
    };
    let full = ListParams {
        limit: Some(1000),
        marker: None,
    };
    let mut rows = vec![
        Row {
            name: "get user (policy-authorized)",
            samples: timed(GETS, |i| {
                let r = reader.clone();
                async move {
                    r.get_user(&format!("student-{:04}", (i * 7919) % USERS))
                        .await
                        .expect("get")
                }
            })
            .await,
        },
        Row {
            name: "list users, page of 100",
            samples: timed(PAGE_LISTS, |_| {
                let r = reader.clone();
                let p = page.clone();
                async move { assert_eq!(r.list_users(&p).await.expect("list").items.len(), 100) }
            })
            .await,
        },
        Row {
            name: "list users, page of 1000",
            samples: timed(FULL_LISTS, |_| {
                let r = reader.clone();
                let p = full.clone();
                async move { assert_eq!(r.list_users(&p).await.expect("list").items.len(), 1000) }
            })
            .await,
        },
        Row {
            name: "get user (root, no policy lookup)",
            samples: timed(GETS, |i| {
                let r = root.clone();
                async move {
                    r.get_user(&format!("student-{:04}", (i * 7919) % USERS))
                        .await
                        .expect("get")
                }
            })
            .await,
        },
    ];

    // Sign-ins: argon2id verification dominates by design.
    let deadline = Instant::now() + Duration::from_secs(LOGIN_SECONDS);
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..LOGIN_CONCURRENCY {
        let anon = anon.clone();
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline && samples.len() < 10_000 {
                let t = Instant::now();
                anon.login("bench", "reader", "reader-password")
                    .await
                    .expect("login");
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut logins = Vec::new();
    for h in handles {
        logins.extend(h.await?);
    }
    let login_rate = logins.len() as f64 / started.elapsed().as_secs_f64();

    println!();
    println!(
        "Nuvem IAM benchmark — {backend}, {USERS} users in one account, 2 HTTP workers, loopback"
    );
    println!(
        "filled {USERS} users in {:.2} s ({:.0} creates/s, 8 clients)",
        fill.as_secs_f64(),
        USERS as f64 / fill.as_secs_f64()
    );
    println!();
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>10} {:>10}",
        "operation", "n", "p50", "p99", "max", "rate"
    );
    for r in &mut rows {
        r.print();
    }
    let mut login_row = Row {
        name: "password sign-in (latency, 1 client)",
        samples: logins,
    };
    login_row.samples.sort();
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>10} {:>10}",
        "password sign-in",
        login_row.samples.len(),
        ms(percentile(&login_row.samples, 0.5)),
        ms(percentile(&login_row.samples, 0.99)),
        ms(*login_row.samples.last().unwrap()),
        format!("{login_rate:.1}/s"),
    );
    println!(
        "(sign-ins: {LOGIN_CONCURRENCY} concurrent clients for {LOGIN_SECONDS} s; rate is total sign-ins per second)"
    );
    running.stop().await;
    Ok(())
}
