//! Object storage through Nuvem's S3 endpoint on the real engine (SeaweedFS), with the clients
//! students use — the `aws` CLI, boto3 and `aws-sdk-s3` — configured with nothing but a Nuvem
//! access key and the endpoint.

use std::path::Path;
use std::process::Output;

use aws_sdk_s3::primitives::ByteStream;
use nuvem_sdk::Client;

use crate::common::{Cloud, s3_clients_bin};

/// A Nuvem access key, as a student holds it.
#[derive(Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

/// A new access key of `user`, made by `client` (root makes its own with "root").
pub async fn key_of(client: &Client, user: &str) -> Key {
    let k = client.create_access_key(user).await.expect("access key");
    Key {
        id: k.access_key_id,
        secret: k.secret_access_key,
    }
}

/// Bucket names are global and the test engine outlives a test run: each test's are its own.
pub fn bucket(base: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{base}-{:x}", nanos % 0xffff_ffff_ffff)
}

/// Runs the real `aws` CLI with only this key and the endpoint: no profile, no other config.
pub async fn aws(endpoint: &str, key: &Key, args: &[&str]) -> Output {
    tokio::process::Command::new(s3_clients_bin().join("aws"))
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("AWS_ACCESS_KEY_ID", &key.id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .expect("run the aws CLI (infra/seaweedfs.sh install puts it in /opt/nuvem/s3-clients)")
}

pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub async fn aws_ok(endpoint: &str, key: &Key, args: &[&str]) -> String {
    let out = aws(endpoint, key, args).await;
    assert!(out.status.success(), "aws {args:?} failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `aws` expecting a refusal with `code` (the S3 error code the CLI prints).
pub async fn aws_refused(endpoint: &str, key: &Key, args: &[&str], code: &str) {
    let out = aws(endpoint, key, args).await;
    assert!(
        !out.status.success(),
        "aws {args:?} should fail: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(code),
        "aws {args:?} should fail with {code}: {}",
        text(&out)
    );
}

fn sha256_file(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn random_file(path: &Path, bytes: usize) {
    use rand::RngCore;
    let mut data = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut data);
    std::fs::write(path, data).expect("write a test file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn aws_cli_works_against_nuvem_with_a_nuvem_key() {
    let Some(cloud) = Cloud::start_with_s3("aws_cli_works_against_nuvem_with_a_nuvem_key").await
    else {
        return;
    };
    let s3 = cloud.s3_url();
    let root = cloud.account("aws-cli").await;
    let key = key_of(&root, "root").await;
    let b = bucket("cli");
    let dir = tempfile::tempdir().unwrap();

    aws_ok(&s3, &key, &["s3", "mb", &format!("s3://{b}")]).await;
    aws_refused(
        &s3,
        &key,
        &["s3", "mb", &format!("s3://{b}")],
        "BucketAlreadyOwnedByYou",
    )
    .await;
    let listed = aws_ok(&s3, &key, &["s3", "ls"]).await;
    assert!(listed.contains(&b), "{listed}");

    // 50 MB: the CLI uploads it in parts (8 MB each), through Nuvem, streamed.
    let big = dir.path().join("big.bin");
    random_file(&big, 50 * 1024 * 1024);
    let big_s = big.to_string_lossy().into_owned();
    aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "cp",
            "--no-progress",
            &big_s,
            &format!("s3://{b}/data/big.bin"),
        ],
    )
    .await;
    let head = aws_ok(
        &s3,
        &key,
        &[
            "s3api",
            "head-object",
            "--bucket",
            &b,
            "--key",
            "data/big.bin",
        ],
    )
    .await;
    let head: serde_json::Value = serde_json::from_str(&head).unwrap();
    assert_eq!(head["ContentLength"], 50 * 1024 * 1024);
    let etag = head["ETag"].as_str().unwrap_or_default();
    assert!(
        etag.contains('-'),
        "a multipart upload's ETag ends in -<parts>: {etag}"
    );
    let ls = aws_ok(&s3, &key, &["s3", "ls", &format!("s3://{b}/data/")]).await;
    assert!(ls.contains("52428800 big.bin"), "{ls}");

    // Range GET: exactly the bytes asked for.
    let part = dir.path().join("part.bin");
    aws_ok(
        &s3,
        &key,
        &[
            "s3api",
            "get-object",
            "--bucket",
            &b,
            "--key",
            "data/big.bin",
            "--range",
            "bytes=1000-1999",
            &part.to_string_lossy(),
        ],
    )
    .await;
    let whole = std::fs::read(&big).unwrap();
    assert_eq!(std::fs::read(&part).unwrap(), whole[1000..2000]);

    // Copy inside the engine, then download the copy: byte for byte.
    aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "cp",
            "--no-progress",
            &format!("s3://{b}/data/big.bin"),
            &format!("s3://{b}/copy/big.bin"),
        ],
    )
    .await;
    let back = dir.path().join("back.bin");
    aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "cp",
            "--no-progress",
            &format!("s3://{b}/copy/big.bin"),
            &back.to_string_lossy(),
        ],
    )
    .await;
    assert_eq!(sha256_file(&back), sha256_file(&big));

    // Presign, then fetch with curl: no key needed, only the URL.
    let url = aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "presign",
            &format!("s3://{b}/data/big.bin"),
            "--expires-in",
            "300",
        ],
    )
    .await;
    let fetched = dir.path().join("presigned.bin");
    let curl = tokio::process::Command::new("curl")
        .args(["-fsS", "-o"])
        .arg(&fetched)
        .arg(url.trim())
        .output()
        .await
        .expect("curl");
    assert!(
        curl.status.success(),
        "curl of a presigned URL: {}",
        text(&curl)
    );
    assert_eq!(sha256_file(&fetched), sha256_file(&big));
    // The same URL with its path changed is refused (the signature covers it).
    let tampered = url.trim().replace("/data/big.bin", "/copy/big.bin");
    let refused = tokio::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(&tampered)
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "403");
    // An expired URL is refused with AccessDenied, as S3 answers.
    let short = aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "presign",
            &format!("s3://{b}/data/big.bin"),
            "--expires-in",
            "1",
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = reqwest::get(short.trim()).await.unwrap();
    assert_eq!(expired.status(), 403);
    let body = expired.text().await.unwrap();
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("expired"),
        "{body}"
    );

    // Sync a directory up, change it, sync again: only what changed goes.
    let tree = dir.path().join("site");
    std::fs::create_dir_all(tree.join("img")).unwrap();
    std::fs::write(tree.join("index.html"), "<h1>hello</h1>").unwrap();
    std::fs::write(tree.join("img/logo.txt"), "logo").unwrap();
    // sync compares modification times with LastModified (whole seconds): files older than
    // the upload are not sent again.
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for f in ["index.html", "img/logo.txt"] {
        let file = std::fs::File::options()
            .write(true)
            .open(tree.join(f))
            .unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let tree_s = tree.to_string_lossy().into_owned();
    aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "sync",
            "--no-progress",
            &tree_s,
            &format!("s3://{b}/site"),
        ],
    )
    .await;
    std::fs::write(tree.join("about.html"), "<p>about</p>").unwrap();
    let second = aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "sync",
            "--no-progress",
            &tree_s,
            &format!("s3://{b}/site"),
        ],
    )
    .await;
    assert!(
        second.contains("about.html") && !second.contains("index.html"),
        "{second}"
    );
    let ls = aws_ok(
        &s3,
        &key,
        &["s3", "ls", "--recursive", &format!("s3://{b}/site/")],
    )
    .await;
    assert_eq!(ls.lines().count(), 3, "{ls}");

    // A bucket with objects is not deleted (the engine's default would delete it silently).
    aws_refused(
        &s3,
        &key,
        &["s3", "rb", &format!("s3://{b}")],
        "BucketNotEmpty",
    )
    .await;
    aws_ok(
        &s3,
        &key,
        &["s3", "rm", "--recursive", &format!("s3://{b}")],
    )
    .await;
    aws_ok(&s3, &key, &["s3", "rb", &format!("s3://{b}")]).await;
    let listed = aws_ok(&s3, &key, &["s3", "ls"]).await;
    assert!(!listed.contains(&b), "{listed}");
    aws_refused(
        &s3,
        &key,
        &["s3", "ls", &format!("s3://{b}")],
        "NoSuchBucket",
    )
    .await;
}

const BOTO3_SCRIPT: &str = r#"
import os, sys, datetime, urllib.request, urllib.error
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["KEY_ID"], aws_secret_access_key=os.environ["SECRET"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
b = os.environ["BUCKET"]

def code(f):
    try:
        f()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "no error"

s3.create_bucket(Bucket=b)
s3.put_object(Bucket=b, Key="docs/a.txt", Body=b"alpha", Metadata={"course": "cloud"},
              ContentType="text/plain")
head = s3.head_object(Bucket=b, Key="docs/a.txt")
assert head["Metadata"] == {"course": "cloud"}, head["Metadata"]
assert head["ContentType"] == "text/plain"
etag = head["ETag"]

# Conditional GETs.
assert code(lambda: s3.get_object(Bucket=b, Key="docs/a.txt", IfNoneMatch=etag)) in ("304", "NotModified")
assert s3.get_object(Bucket=b, Key="docs/a.txt", IfMatch=etag)["Body"].read() == b"alpha"
assert code(lambda: s3.get_object(Bucket=b, Key="docs/a.txt", IfMatch='"0000"')) in ("412", "PreconditionFailed")
future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
assert code(lambda: s3.get_object(Bucket=b, Key="docs/a.txt", IfModifiedSince=future)) in ("304", "NotModified")
assert code(lambda: s3.get_object(Bucket=b, Key="docs/a.txt", Range="bytes=100-200")) == "InvalidRange"
assert code(lambda: s3.get_object(Bucket=b, Key="docs/missing")) == "NoSuchKey"

# Tagging.
s3.put_object_tagging(Bucket=b, Key="docs/a.txt", Tagging={"TagSet": [{"Key": "lab", "Value": "1"}]})
assert s3.get_object_tagging(Bucket=b, Key="docs/a.txt")["TagSet"] == [{"Key": "lab", "Value": "1"}]

# Listing: prefix, delimiter, start-after and paging, v1 and v2.
for i in range(5):
    s3.put_object(Bucket=b, Key=f"logs/{i}.log", Body=b"x" * i)
top = s3.list_objects_v2(Bucket=b, Delimiter="/")
assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["docs/", "logs/"], top
page1 = s3.list_objects_v2(Bucket=b, Prefix="logs/", MaxKeys=2)
assert page1["IsTruncated"] and len(page1["Contents"]) == 2
page2 = s3.list_objects_v2(Bucket=b, Prefix="logs/", MaxKeys=10, ContinuationToken=page1["NextContinuationToken"])
assert [o["Key"] for o in page2["Contents"]] == ["logs/2.log", "logs/3.log", "logs/4.log"]
after = s3.list_objects_v2(Bucket=b, Prefix="logs/", StartAfter="logs/3.log")
assert [o["Key"] for o in after["Contents"]] == ["logs/4.log"]
v1 = s3.list_objects(Bucket=b, Prefix="logs/", Marker="logs/0.log")
assert [o["Key"] for o in v1["Contents"]] == ["logs/1.log", "logs/2.log", "logs/3.log", "logs/4.log"]

# Multipart by hand: a small part that is not the last is refused; abort leaves no upload.
up = s3.create_multipart_upload(Bucket=b, Key="mp.bin")["UploadId"]
p1 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=up, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
p2 = s3.upload_part(Bucket=b, Key="mp.bin", UploadId=up, PartNumber=2, Body=b"b" * 10)
parts = s3.list_parts(Bucket=b, Key="mp.bin", UploadId=up)["Parts"]
assert [p["PartNumber"] for p in parts] == [1, 2]
assert any(u["UploadId"] == up for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", []))
s3.complete_multipart_upload(Bucket=b, Key="mp.bin", UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
assert s3.head_object(Bucket=b, Key="mp.bin")["ContentLength"] == 5 * 1024 * 1024 + 10
up2 = s3.create_multipart_upload(Bucket=b, Key="aborted.bin")["UploadId"]
s3.upload_part(Bucket=b, Key="aborted.bin", UploadId=up2, PartNumber=1, Body=b"z" * 1000)
s3.abort_multipart_upload(Bucket=b, Key="aborted.bin", UploadId=up2)
assert code(lambda: s3.list_parts(Bucket=b, Key="aborted.bin", UploadId=up2)) == "NoSuchUpload"
assert code(lambda: s3.head_object(Bucket=b, Key="aborted.bin")) == "404"

# Copy with metadata replaced.
s3.copy_object(Bucket=b, Key="docs/b.txt", CopySource={"Bucket": b, "Key": "docs/a.txt"},
               Metadata={"course": "copy"}, MetadataDirective="REPLACE")
assert s3.head_object(Bucket=b, Key="docs/b.txt")["Metadata"] == {"course": "copy"}

# Presigned PUT, then GET, with plain HTTP.
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "up.txt"}, ExpiresIn=60)
req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
assert urllib.request.urlopen(req).status == 200
get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "up.txt"}, ExpiresIn=60)
assert urllib.request.urlopen(get_url).read() == b"presigned body"

# Batch delete, then the bucket.
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
deleted = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys]})
assert len(deleted["Deleted"]) == len(keys), deleted
assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
s3.delete_bucket(Bucket=b)
assert code(lambda: s3.head_bucket(Bucket=b)) == "404"
assert code(lambda: s3.create_bucket(Bucket="Not_A_Valid_Name")) == "InvalidBucketName"
print("boto3 ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn boto3_covers_the_s3_operations() {
    let Some(cloud) = Cloud::start_with_s3("boto3_covers_the_s3_operations").await else {
        return;
    };
    let root = cloud.account("boto").await;
    let key = key_of(&root, "root").await;
    let out = tokio::process::Command::new(s3_clients_bin().join("python"))
        .arg("-c")
        .arg(BOTO3_SCRIPT)
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ENDPOINT", cloud.s3_url())
        .env("KEY_ID", &key.id)
        .env("SECRET", &key.secret)
        .env("BUCKET", bucket("boto"))
        .output()
        .await
        .expect("python with boto3 (infra/seaweedfs.sh install)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("boto3 ok"),
        "{}",
        text(&out)
    );
}

/// `aws-sdk-s3` configured from a Nuvem key, as `sdk/examples/s3.rs` shows.
pub fn rust_client(endpoint: &str, key: &Key) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&key.id, &key.secret, None, None, "nuvem"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn aws_sdk_for_rust_works_against_nuvem() {
    let Some(cloud) = Cloud::start_with_s3("aws_sdk_for_rust_works_against_nuvem").await else {
        return;
    };
    let root = cloud.account("rusty").await;
    let s3 = rust_client(&cloud.s3_url(), &key_of(&root, "root").await);
    let b = bucket("rust");
    s3.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create bucket");
    // The SDK's default is a streamed upload with a CRC32 trailer (aws-chunked).
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket(&b)
        .key("k/data.bin")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let got = s3
        .get_object()
        .bucket(&b)
        .key("k/data.bin")
        .send()
        .await
        .expect("get");
    let bytes = got.body.collect().await.expect("read").into_bytes();
    assert_eq!(bytes.as_ref(), body.as_slice());
    s3.copy_object()
        .bucket(&b)
        .key("k/copy.bin")
        .copy_source(format!("{b}/k/data.bin"))
        .send()
        .await
        .expect("copy");
    let listed = s3
        .list_objects_v2()
        .bucket(&b)
        .prefix("k/")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["k/copy.bin", "k/data.bin"]);
    let buckets = s3.list_buckets().send().await.expect("list buckets");
    assert!(
        buckets
            .buckets()
            .iter()
            .any(|x| x.name() == Some(b.as_str()))
    );
    for k in keys {
        s3.delete_object()
            .bucket(&b)
            .key(k)
            .send()
            .await
            .expect("delete");
    }
    s3.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("delete bucket");
}

#[tokio::test]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn the_engine_runs_without_telemetry_on_loopback() {
    let Some(engine) = crate::common::s3_engine("the_engine_runs_without_telemetry_on_loopback")
    else {
        return;
    };
    let dir = engine.parent().expect("engine dir");
    let pid =
        std::fs::read_to_string(dir.join("weed.pid")).expect("infra/seaweedfs.sh writes weed.pid");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).expect("the engine runs");
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    for flag in [
        "-master.telemetry=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        "-ip.bind=127.0.0.1",
    ] {
        assert!(
            args.iter().any(|a| a == flag),
            "{flag} missing from {args:?}"
        );
    }
    let config = std::fs::read_to_string(&engine).unwrap();
    assert!(
        config.contains("endpoint = \"http://127.0.0.1:"),
        "{config}"
    );
}
