//! Object storage's management API (through the SDK), its metering (usage events, Prometheus),
//! and what survives restarts of the server and of the engine — on the real engine.

use std::path::PathBuf;
use std::sync::Arc;

use nuvem_api::ErrorCode;
use nuvem_server::usage::{Change, Recorder};
use serde_json::json;

use crate::common::Cloud;
use crate::storage::{Key, aws_ok, bucket, key_of};

async fn upload(s3: &str, key: &Key, target: &str, bytes: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object.bin");
    let data: Vec<u8> = (0..bytes).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    aws_ok(
        s3,
        key,
        &["s3", "cp", "--no-progress", &file.to_string_lossy(), target],
    )
    .await;
    data
}

async fn download(s3: &str, key: &Key, source: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("back.bin");
    aws_ok(
        s3,
        key,
        &["s3", "cp", "--no-progress", source, &file.to_string_lossy()],
    )
    .await;
    std::fs::read(file).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn management_api_and_metering() {
    let Some(cloud) = Cloud::start_with_s3("management_api_and_metering").await else {
        return;
    };
    let recorder = Arc::new(Recorder::default());
    cloud.server().nuvem.usage.subscribe(recorder.clone());
    let s3 = cloud.s3_url();
    let a = cloud.account("manage-a").await;
    let b = cloud.account("manage-b").await;
    let key = key_of(&a, "root").await;
    let name = bucket("manage");

    let info = a.storage_info().await.unwrap();
    assert_eq!(info.endpoint, s3);
    let made = a.create_bucket(&name).await.unwrap();
    assert_eq!((made.size_bytes, made.object_count), (0, 0));
    let err = b.create_bucket(&name).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AlreadyExists));
    let err = a.create_bucket("Bad_Name").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));

    let data = upload(&s3, &key, &format!("s3://{name}/a/one.bin"), 1_048_576).await;
    assert_eq!(
        download(&s3, &key, &format!("s3://{name}/a/one.bin")).await,
        data
    );
    let listed = a.list_buckets().await.unwrap();
    let mine = listed
        .items
        .iter()
        .find(|x| x.name == name)
        .expect("listed");
    assert_eq!((mine.size_bytes, mine.object_count), (1_048_576, 1));
    assert_eq!(mine.account_id, a.whoami().await.unwrap().account_id);
    assert!(b.list_buckets().await.unwrap().items.is_empty());
    let err = b.get_bucket(&name).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));
    let err = a.get_bucket(&format!("{name}-none")).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    let err = a.delete_bucket(&name).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::DependencyViolation));

    // Policies: validated, stored, shown as public when they let anyone read.
    let err = a.get_bucket_policy(&name).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("nrn:nuvem:s3:::{name}/*")}]});
    a.put_bucket_policy(&name, public.clone()).await.unwrap();
    assert_eq!(a.get_bucket_policy(&name).await.unwrap(), public);
    assert!(a.get_bucket(&name).await.unwrap().public_read);
    let err = b
        .put_bucket_policy(&name, public.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));
    let err = a
        .put_bucket_policy(&name, json!({"Version": "2012-10-17", "Statement": []}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    a.delete_bucket_policy(&name).await.unwrap();
    assert!(!a.get_bucket(&name).await.unwrap().public_read);

    // Usage: requests by price class and bytes out, through the API.
    let usage = a.storage_usage().await.unwrap();
    let u = usage
        .items
        .iter()
        .find(|u| u.bucket == name)
        .expect("usage");
    assert!(u.requests_tier1 >= 1, "the PUT: {u:?}");
    assert!(u.requests_tier2 >= 1, "the GET: {u:?}");
    assert!(u.bytes_out >= 1_048_576, "the download: {u:?}");
    assert_eq!(u.size_bytes, 1_048_576);

    // A metering run reports the bucket's size and what it used, once, to the usage hook.
    cloud.admin.run_reconciler("storage").await.unwrap();
    let events: Vec<_> = recorder
        .events()
        .into_iter()
        .filter(|e| e.service == "s3" && e.resource_id == name)
        .collect();
    assert_eq!(events[0].change, Change::Created);
    let resized = events
        .iter()
        .find(|e| e.change == Change::Resized)
        .expect("a metering event");
    assert_eq!(resized.dimensions.storage_bytes, 1_048_576);
    assert!(resized.dimensions.requests_tier1 >= 1 && resized.dimensions.bytes_out >= 1_048_576);
    let metrics = reqwest::get(format!("{}/metrics", cloud.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "nuvem_s3_bucket_bytes{{bucket=\"{name}\"}} 1048576"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "nuvem_s3_requests_total{{bucket=\"{name}\",class=\"tier1\"}}"
    )));

    aws_ok(&s3, &key, &["s3", "rm", &format!("s3://{name}/a/one.bin")]).await;
    a.delete_bucket(&name).await.unwrap();
    let deleted = recorder
        .events()
        .into_iter()
        .filter(|e| e.resource_id == name && e.change == Change::Deleted)
        .count();
    assert_eq!(deleted, 1);

    // Billing meters the bucket from those events: bytes stored over time, requests by price
    // class and bytes out, at the catalog's prices.
    let bill = a
        .get_bill(&nuvem_api::billing::BillParams::default())
        .await
        .unwrap();
    let line = |usage: &str| {
        bill.line_items
            .iter()
            .find(|l| l.resource_id == name && l.usage_type == usage)
            .unwrap_or_else(|| panic!("no {usage} line: {bill:#?}"))
            .clone()
    };
    let storage = line("storage");
    assert_eq!(
        (storage.service.as_str(), storage.unit.as_str()),
        ("s3", "GiB-month")
    );
    assert!(storage.seconds >= 1, "{storage:?}");
    let puts = line("requests-put");
    assert_eq!(puts.unit, "1000 requests");
    assert!(puts.quantity >= "0.001".parse().unwrap(), "{puts:?}");
    assert!(line("requests-get").quantity >= "0.001".parse().unwrap());
    let out = line("bytes-out");
    // The 1 MiB download: 1/1024 GiB at 0.09.
    assert!(out.quantity >= "0.000976".parse().unwrap(), "{out:?}");
    assert_eq!(out.unit_price, "0.09".parse().unwrap());
    assert_eq!(
        bill.total,
        bill.line_items
            .iter()
            .map(|l| l.amount)
            .sum::<rust_decimal::Decimal>()
    );
}

fn seaweedfs_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/seaweedfs.sh")
}

fn engine(action: &str, dir: &std::path::Path) -> PathBuf {
    let out = std::process::Command::new("bash")
        .arg(seaweedfs_script())
        .arg(action)
        .arg(dir)
        .output()
        .expect("infra/seaweedfs.sh");
    assert!(
        out.status.success(),
        "infra/seaweedfs.sh {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Stops the test's own engine even when an assertion fails.
struct OwnEngine(PathBuf);

impl Drop for OwnEngine {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(seaweedfs_script())
            .arg("stop")
            .arg(&self.0)
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn objects_survive_restarts_of_the_server_and_the_engine() {
    // Its own engine, as the shared one must not restart under the other tests.
    if crate::common::s3_engine("objects_survive_restarts_of_the_server_and_the_engine").is_none() {
        return;
    }
    let engine_dir = tempfile::tempdir().unwrap();
    let own = OwnEngine(engine_dir.path().to_owned());
    let engine_file = engine("start", &own.0);
    let file = engine_file.clone();
    let cloud = Cloud::start_configured(crate::common::Backend::Sqlite, move |c| {
        c.s3_engine_file = Some(file)
    })
    .await
    .expect("sqlite");
    let root = cloud.account("durable").await;
    let key = key_of(&root, "root").await;
    let name = bucket("durable");
    let s3 = cloud.s3_url();
    aws_ok(&s3, &key, &["s3", "mb", &format!("s3://{name}")]).await;
    let mut objects = Vec::new();
    for (k, size) in [
        ("small.txt", 10usize),
        ("medium.bin", 300_000),
        ("large.bin", 12_000_000),
    ] {
        let data = upload(&s3, &key, &format!("s3://{name}/{k}"), size).await;
        objects.push((k, sha256(&data)));
    }

    // The server restarts on the same data.
    let file = engine_file.clone();
    let (server, _dir) = cloud
        .restart_configured(move |c| c.s3_engine_file = Some(file))
        .await;
    let s3 = server.s3_url().expect("storage on");
    for (k, sum) in &objects {
        assert_eq!(
            &sha256(&download(&s3, &key, &format!("s3://{name}/{k}")).await),
            sum,
            "{k}"
        );
    }
    // The engine restarts under the running server.
    engine("stop", &own.0);
    engine("start", &own.0);
    for (k, sum) in &objects {
        assert_eq!(
            &sha256(&download(&s3, &key, &format!("s3://{name}/{k}")).await),
            sum,
            "{k}"
        );
    }
    aws_ok(
        &s3,
        &key,
        &["s3", "rm", "--recursive", &format!("s3://{name}")],
    )
    .await;
    aws_ok(&s3, &key, &["s3", "rb", &format!("s3://{name}")]).await;
    server.stop().await;
}

/// A client that pauses mid-upload for 10 s still stores its object: Nuvem streams the body to
/// the engine at the client's pace and leaves timeouts to the client (with the AWS SDK's
/// stalled-stream protection on, the forwarded upload failed after 6 s with a 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn a_paused_upload_completes() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(cloud) = Cloud::start_with_s3("a_paused_upload_completes").await else {
        return;
    };
    let root = cloud.account("paused").await;
    let s3 = crate::storage::rust_client(&cloud.s3_url(), &key_of(&root, "root").await);
    let name = bucket("paused");
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    let expiry = PresigningConfig::expires_in(std::time::Duration::from_secs(300)).unwrap();
    let url: http::Uri = s3
        .put_object()
        .bucket(&name)
        .key("slow.bin")
        .presigned(expiry)
        .await
        .expect("presign")
        .uri()
        .parse()
        .unwrap();
    let host = url.authority().unwrap().as_str().to_owned();
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path_and_query().unwrap(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..500_000]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    stream.write_all(&body[500_000..]).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let got = s3
        .get_object()
        .bucket(&name)
        .key("slow.bin")
        .send()
        .await
        .expect("get");
    let bytes = got.body.collect().await.expect("read").into_bytes();
    assert!(
        bytes.as_ref() == body.as_slice(),
        "the stored object differs"
    );
    s3.delete_object()
        .bucket(&name)
        .key("slow.bin")
        .send()
        .await
        .expect("delete");
    s3.delete_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("delete bucket");
}

fn sha256(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    let out = child.wait_with_output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn deleting_an_account_deletes_its_buckets_and_objects() {
    let Some(cloud) =
        Cloud::start_with_s3("deleting_an_account_deletes_its_buckets_and_objects").await
    else {
        return;
    };
    let s3 = cloud.s3_url();
    let leaving = cloud.account("leaving").await;
    let key = key_of(&leaving, "root").await;
    let name = bucket("closed");
    aws_ok(&s3, &key, &["s3", "mb", &format!("s3://{name}")]).await;
    for k in ["a.bin", "dir/b.bin"] {
        upload(&s3, &key, &format!("s3://{name}/{k}"), 2048).await;
    }
    // An upload left half-way holds parts too.
    aws_ok(
        &s3,
        &key,
        &[
            "s3api",
            "create-multipart-upload",
            "--bucket",
            &name,
            "--key",
            "half",
        ],
    )
    .await;

    cloud.admin.delete_account("leaving").await.unwrap();

    // The name is free again, and what the new owner finds there is empty.
    let next = cloud.account("next-owner").await;
    let next_key = key_of(&next, "root").await;
    aws_ok(&s3, &next_key, &["s3", "mb", &format!("s3://{name}")]).await;
    let listed = aws_ok(
        &s3,
        &next_key,
        &["s3api", "list-objects-v2", "--bucket", &name],
    )
    .await;
    assert!(
        !listed.contains("a.bin") && !listed.contains("b.bin"),
        "{listed}"
    );
    let uploads = aws_ok(
        &s3,
        &next_key,
        &["s3api", "list-multipart-uploads", "--bucket", &name],
    )
    .await;
    assert!(!uploads.contains("half"), "{uploads}");
    aws_ok(&s3, &next_key, &["s3", "rb", &format!("s3://{name}")]).await;
}
