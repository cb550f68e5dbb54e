//! The console's object browser through the management API (`/objects`, `/object`, `/presign`)
//! on the real engine: folders by delimiter and paging, a streamed upload and download, delete,
//! presigned URLs signed with the caller's own key, the same IAM decisions as the S3 endpoint
//! (another account denied, a bucket policy's grant honoured, an IAM user limited to one
//! prefix), the requests metered by class, and bad input answered with stable codes.

use nuvem_api::ErrorCode;
use nuvem_api::s3::ObjectListParams;
use serde_json::json;

use crate::common::Cloud;
use crate::storage::{aws_ok, bucket, key_of};

/// Sends `request` as it is on a new connection, closes the sending side, and reads the answer
/// (empty when the server closes without one): for requests a client library would not make.
async fn raw_http(host: &str, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "no answer within 30 s");
    String::from_utf8_lossy(&answer).into_owned()
}

fn folder(prefix: &str) -> ObjectListParams {
    ObjectListParams {
        prefix: Some(prefix.to_owned()),
        ..Default::default()
    }
}

/// A body of `n` bytes that is not all alike, so a reordering would show.
fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn the_object_browser_lists_uploads_downloads_deletes_and_presigns() {
    let Some(cloud) =
        Cloud::start_with_s3("the_object_browser_lists_uploads_downloads_deletes_and_presigns")
            .await
    else {
        return;
    };
    let a = cloud.account("browse-a").await;
    let name = bucket("browse");
    a.create_bucket(&name).await.unwrap();

    // A 6 MiB upload streams through and comes back byte for byte.
    let big = payload(6 * 1024 * 1024 + 7);
    let stored = a
        .upload_object(&name, "docs/big.bin", big.clone(), "application/x-test")
        .await
        .unwrap();
    assert_eq!(
        (stored.key.as_str(), stored.size_bytes),
        ("docs/big.bin", big.len() as u64)
    );
    let mut download = a.download_object(&name, "docs/big.bin").await.unwrap();
    assert_eq!(download.content_length(), Some(big.len() as u64));
    assert_eq!(download.content_type(), Some("application/x-test"));
    let mut back = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = download.chunk().await.unwrap() {
        back.extend(chunk);
        chunks += 1;
    }
    assert!(back == big, "the download differs from the upload");
    assert!(
        chunks > 1,
        "a 6 MiB answer arrives in pieces, not as one buffer"
    );

    // The download is an attachment named after the key's last segment.
    let token = crate::sweeps::session_token(&cloud, &a, "A").await;
    let raw = reqwest::Client::new()
        .get(a.object_url(&name, "docs/big.bin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"big.bin\"; filename*=UTF-8''big.bin"
    );
    drop(raw);

    // Folders by delimiter: the top level shows `docs/` and the loose object; `docs/` its own.
    a.upload_object(&name, "top.txt", b"top".to_vec(), "text/plain")
        .await
        .unwrap();
    a.upload_object(&name, "docs/deeper/x.txt", b"x".to_vec(), "text/plain")
        .await
        .unwrap();
    let top = a.list_objects(&name, &folder("")).await.unwrap();
    assert_eq!(top.common_prefixes, vec!["docs/".to_owned()]);
    assert_eq!(
        top.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        vec!["top.txt"]
    );
    assert_eq!(top.objects[0].size_bytes, 3);
    assert!(top.objects[0].last_modified.timestamp() > 0);
    let docs = a.list_objects(&name, &folder("docs/")).await.unwrap();
    assert_eq!(docs.common_prefixes, vec!["docs/deeper/".to_owned()]);
    assert_eq!(docs.objects[0].key, "docs/big.bin");
    assert_eq!(docs.objects[0].size_bytes, big.len() as u64);

    // Paging: one entry per page, every entry once, then no token.
    let mut seen = Vec::new();
    let mut params = ObjectListParams {
        prefix: Some("docs/".into()),
        limit: Some(1),
        ..Default::default()
    };
    for _ in 0..5 {
        let page = a.list_objects(&name, &params).await.unwrap();
        seen.extend(page.objects.into_iter().map(|o| o.key));
        seen.extend(page.common_prefixes);
        match page.next_continuation {
            Some(t) => params.continuation = Some(t),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, vec!["docs/big.bin", "docs/deeper/"]);

    // A presigned GET is signed with the caller's own key, and fetches the bytes without one.
    let err = a
        .presign_object(&name, "top.txt", "GET", 300)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::DependencyViolation), "{err}");
    assert!(err.to_string().contains("access key"), "{err}");
    let key = key_of(&a, "root").await;
    let url = a
        .presign_object(&name, "docs/big.bin", "GET", 300)
        .await
        .unwrap();
    assert_eq!(url.access_key_id, key.id);
    assert!(url.url.starts_with(&cloud.s3_url()), "{}", url.url);
    assert!(url.url.contains("X-Amz-Signature="), "{}", url.url);
    let fetched = reqwest::get(&url.url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert!(fetched.bytes().await.unwrap() == big);
    // A presigned PUT uploads without credentials.
    let put = a
        .presign_object(&name, "docs/by-url.txt", "PUT", 60)
        .await
        .unwrap();
    let sent = reqwest::Client::new()
        .put(&put.url)
        .body("sent by URL")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200, "{}", sent.text().await.unwrap());
    let got = a.download_object(&name, "docs/by-url.txt").await.unwrap();
    assert_eq!(got.bytes().await.unwrap(), b"sent by URL");
    // Disabling the key revokes its URLs at once.
    a.update_access_key("root", &key.id, nuvem_api::iam::AccessKeyStatus::Inactive)
        .await
        .unwrap();
    assert_eq!(reqwest::get(&url.url).await.unwrap().status(), 403);

    // Delete: gone from the listing, and a second delete says there is nothing to delete.
    a.delete_object(&name, "top.txt").await.unwrap();
    let err = a.delete_object(&name, "top.txt").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    assert!(err.to_string().contains("top.txt"), "{err}");
    assert!(
        a.list_objects(&name, &folder(""))
            .await
            .unwrap()
            .objects
            .is_empty()
    );

    // Every call was metered like its S3 request: uploads and listings are tier 1, the
    // downloads tier 2 with their bytes.
    let usage = a.storage_usage().await.unwrap();
    let u = usage.items.iter().find(|u| u.bucket == name).unwrap();
    assert!(u.requests_tier1 >= 9, "3 uploads, 6 listings: {u:?}");
    assert!(u.requests_tier2 >= 3, "the downloads: {u:?}");
    assert!(u.bytes_out >= 2 * big.len() as u64, "{u:?}");
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn the_object_browser_decides_as_the_s3_endpoint_does() {
    let Some(cloud) =
        Cloud::start_with_s3("the_object_browser_decides_as_the_s3_endpoint_does").await
    else {
        return;
    };
    let a = cloud.account("decide-a").await;
    let b = cloud.account("decide-b").await;
    let name = bucket("decide");
    a.create_bucket(&name).await.unwrap();
    a.upload_object(&name, "shared/notes.txt", b"notes".to_vec(), "text/plain")
        .await
        .unwrap();
    a.upload_object(
        &name,
        "private/salary.txt",
        b"secret".to_vec(),
        "text/plain",
    )
    .await
    .unwrap();

    // Another account: denied everything, and told nothing about the objects.
    let denied = |r: nuvem_sdk::Error| assert_eq!(r.code(), Some(ErrorCode::AccessDenied), "{r}");
    denied(b.list_objects(&name, &folder("")).await.unwrap_err());
    denied(
        b.download_object(&name, "shared/notes.txt")
            .await
            .unwrap_err(),
    );
    denied(b.download_object(&name, "no/such.txt").await.unwrap_err());
    denied(
        b.upload_object(&name, "shared/evil.txt", b"x".to_vec(), "text/plain")
            .await
            .unwrap_err(),
    );
    denied(
        b.delete_object(&name, "shared/notes.txt")
            .await
            .unwrap_err(),
    );
    key_of(&b, "root").await;
    denied(
        b.presign_object(&name, "shared/notes.txt", "GET", 60)
            .await
            .unwrap_err(),
    );
    assert!(
        a.list_objects(&name, &folder("shared/"))
            .await
            .unwrap()
            .objects
            .len()
            == 1,
        "B's upload did not land"
    );

    // A bucket policy granting B read on one prefix: B reads there and nothing more.
    let b_id = b.whoami().await.unwrap().account_id;
    a.put_bucket_policy(
        &name,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Nuvem": b_id}, "Action": "s3:GetObject",
            "Resource": format!("nrn:nuvem:s3:::{name}/shared/*")}]}),
    )
    .await
    .unwrap();
    let notes = b.download_object(&name, "shared/notes.txt").await.unwrap();
    assert_eq!(notes.bytes().await.unwrap(), b"notes");
    let url = b
        .presign_object(&name, "shared/notes.txt", "GET", 60)
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(&url.url).await.unwrap().text().await.unwrap(),
        "notes"
    );
    denied(
        b.download_object(&name, "private/salary.txt")
            .await
            .unwrap_err(),
    );
    denied(b.list_objects(&name, &folder("")).await.unwrap_err());

    // An IAM user of A allowed only s3:GetObject on `shared/*`.
    a.create_policy(
        "read-shared",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": format!("nrn:nuvem:s3:::{name}/shared/*")}]}),
    )
    .await
    .unwrap();
    let reader = cloud.user(&a, "decide-a", "reader").await;
    a.attach_user_policy("reader", "read-shared").await.unwrap();
    let got = reader
        .download_object(&name, "shared/notes.txt")
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap(), b"notes");
    denied(
        reader
            .download_object(&name, "private/salary.txt")
            .await
            .unwrap_err(),
    );
    denied(reader.list_objects(&name, &folder("")).await.unwrap_err());
    denied(
        reader
            .delete_object(&name, "shared/notes.txt")
            .await
            .unwrap_err(),
    );
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn bad_object_requests_get_stable_codes() {
    let Some(cloud) = Cloud::start_with_s3("bad_object_requests_get_stable_codes").await else {
        return;
    };
    let a = cloud.account("bad-objects").await;
    let name = bucket("bad");
    a.create_bucket(&name).await.unwrap();
    let code = |r: nuvem_sdk::Error| r.code();

    let missing = format!("{name}-missing");
    assert_eq!(
        code(a.list_objects(&missing, &folder("")).await.unwrap_err()),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(
            a.upload_object(&missing, "k", b"x".to_vec(), "text/plain")
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(a.download_object(&name, "no/such.txt").await.unwrap_err()),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(
            a.presign_object(&name, "no/such.txt", "GET", 60)
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(a.list_objects("Bad_Name", &folder("")).await.unwrap_err()),
        Some(ErrorCode::InvalidRequest)
    );
    let long = "p".repeat(1025);
    let err = a.list_objects(&name, &folder(&long)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    assert!(err.to_string().contains("prefix"), "{err}");
    let err = a
        .list_objects(
            &name,
            &ObjectListParams {
                limit: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    let err = a
        .upload_object(&name, &long, b"x".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    key_of(&a, "root").await;
    a.upload_object(&name, "k.txt", b"x".to_vec(), "text/plain")
        .await
        .unwrap();
    for (method, secs, needle) in [
        ("POST", 60, "GET"),
        ("GET", 0, "expires"),
        ("GET", 604_801, "7 days"),
    ] {
        let err = a
            .presign_object(&name, "k.txt", method, secs)
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(ErrorCode::InvalidRequest),
            "{method} {secs}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }

    // Raw requests: no key, no Content-Length, a continuation token the engine never gave.
    let token = crate::sweeps::session_token(&cloud, &a, "A").await;
    let no_key = reqwest::Client::new()
        .get(format!("{}/v1/s3/buckets/{name}/object", cloud.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 400);
    let body: serde_json::Value = no_key.json().await.unwrap();
    assert_eq!(body["code"], "InvalidRequest");
    assert!(body["message"].as_str().unwrap().contains("key"), "{body}");
    let host = cloud.url().trim_start_matches("http://").to_owned();
    let chunked = raw_http(
        &host,
        format!(
            "PUT /v1/s3/buckets/{name}/object?key=c.txt HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nchunk\r\n0\r\n\r\n"
        ),
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 400"), "{chunked}");
    assert!(chunked.contains("Content-Length"), "{chunked}");
    let bad_token = a
        .list_objects(
            &name,
            &ObjectListParams {
                continuation: Some("not-a-token".into()),
                ..Default::default()
            },
        )
        .await;
    if let Err(e) = bad_token {
        // Engines differ: S3 refuses a token it never gave; SeaweedFS starts over. Either way
        // the answer is never a 500.
        assert_eq!(e.code(), Some(ErrorCode::InvalidRequest), "{e}");
    }

    // A failed upload (the body ends early) leaves no object.
    let short = raw_http(
        &host,
        format!(
            "PUT /v1/s3/buckets/{name}/object?key=short.bin HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\n{}",
            "x".repeat(10)
        ),
    )
    .await;
    assert!(
        !short.starts_with("HTTP/1.1 200"),
        "an upload cut short must fail: {short}"
    );
    let listed = a.list_objects(&name, &folder("")).await.unwrap();
    assert!(
        listed.objects.iter().all(|o| o.key != "short.bin"),
        "a failed upload left an object: {listed:?}"
    );
    // The engine holds nothing it should not: the aws CLI sees the same listing.
    let key = key_of(&a, "root").await;
    let ls = aws_ok(
        &cloud.s3_url(),
        &key,
        &["s3", "ls", &format!("s3://{name}/")],
    )
    .await;
    assert!(!ls.contains("short.bin"), "{ls}");
    cloud.stop().await;
}
