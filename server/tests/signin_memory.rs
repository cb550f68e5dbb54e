//! Memory under a burst of concurrent sign-ins. Its own test binary, so that the process's
//! resident set is this server's alone.
//!
//! Each argon2 check holds 19 MiB; run one thread per request, 64 concurrent wrong sign-ins took
//! the server from 0.8 to 8 GB, never returned. Hashing now runs on one thread per core with a
//! bounded queue (503 past it), so RSS stays flat however many arrive.

use nuvem_server::config::Config;
use nuvem_server::iam::throttle::ThrottleLimits;
use nuvem_server::server;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

async fn burst(url: &str, n: usize) -> (usize, usize) {
    let client = reqwest::Client::new();
    let calls = (0..n).map(|i| {
        let client = client.clone();
        let url = format!("{url}/v1/auth/login");
        async move {
            client
                .post(url)
                .json(&serde_json::json!({"account": "admin", "user": "root", "password": format!("wrong-{i}")}))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    for s in &statuses {
        assert!(matches!(s, 401 | 503), "a sign-in answered {s}");
    }
    (
        statuses.iter().filter(|s| **s == 401).count(),
        statuses.iter().filter(|s| **s == 503).count(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_ins_keep_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path(), None);
    // Measure the hashing bound alone: no back-off, every attempt is checked.
    config.sign_in_throttle = ThrottleLimits {
        user_free: u32::MAX,
        address_free: u32::MAX,
        ..ThrottleLimits::default()
    };
    let running = server::start(config).await.expect("server starts");
    let url = running.url();
    // Warm up with one burst: hashing threads, HTTP workers and both sides' connection buffers
    // exist before the first reading (the client runs in this process too).
    let start = rss_mib();
    burst(&url, 200).await;
    let before = rss_mib();
    let (checked, busy) = burst(&url, 200).await;
    let after_first = rss_mib();
    let (checked2, busy2) = burst(&url, 200).await;
    let after_second = rss_mib();
    println!(
        "RSS {start:.0} MiB at start, {before:.0} MiB after a first burst of 200 concurrent sign-ins, {after_first:.0} MiB after a second ({checked} checked, {busy} told to retry), {after_second:.0} MiB after a third ({checked2} checked, {busy2} told to retry)"
    );
    assert!(checked > 0 && checked2 > 0, "some sign-ins were checked");
    // Measured here: about +210 MiB for the first burst (two hashing threads at 19 MiB each,
    // 400 connection buffers of server and client, allocator arenas), then flat. The old code
    // grew by gigabytes at 64 concurrent sign-ins.
    assert!(
        before - start < 512.0,
        "RSS grew {:.0} MiB under the first 200 concurrent sign-ins",
        before - start
    );
    assert!(
        after_second - before < 64.0,
        "RSS kept growing with each burst: {before:.0} → {after_first:.0} → {after_second:.0} MiB"
    );
    running.stop().await;
}
