//! Who may touch what on the S3 endpoint: accounts, IAM user policies, bucket policies, wrong and
//! disabled keys — with the real `aws` CLI against the real engine.

use nuvem_api::iam::AccessKeyStatus;
use serde_json::json;

use crate::common::Cloud;
use crate::storage::{Key, aws, aws_ok, aws_refused, bucket, key_of, text};

async fn put(endpoint: &str, key: &Key, target: &str, body: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.txt");
    std::fs::write(&file, body).unwrap();
    aws_ok(
        endpoint,
        key,
        &["s3", "cp", "--no-progress", &file.to_string_lossy(), target],
    )
    .await;
}

async fn account_id(client: &nuvem_sdk::Client) -> String {
    client.whoami().await.expect("whoami").account_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn accounts_users_and_bucket_policies_decide_together() {
    let Some(cloud) =
        Cloud::start_with_s3("accounts_users_and_bucket_policies_decide_together").await
    else {
        return;
    };
    let s3 = cloud.s3_url();
    let a = cloud.account("owner-a").await;
    let b = cloud.account("other-b").await;
    let (ka, kb) = (key_of(&a, "root").await, key_of(&b, "root").await);
    let name = bucket("iam");
    let (obj_public, obj_private) = (
        format!("s3://{name}/shared/notes.txt"),
        format!("s3://{name}/private/salary.txt"),
    );
    aws_ok(&s3, &ka, &["s3", "mb", &format!("s3://{name}")]).await;
    put(&s3, &ka, &obj_public, "shared notes").await;
    put(&s3, &ka, &obj_private, "secret").await;

    // Another account: the name is taken, its objects are not readable, nothing is listed.
    aws_refused(
        &s3,
        &kb,
        &["s3", "mb", &format!("s3://{name}")],
        "BucketAlreadyExists",
    )
    .await;
    aws_refused(&s3, &kb, &["s3", "cp", &obj_public, "-"], "403").await;
    aws_refused(
        &s3,
        &kb,
        &["s3", "ls", &format!("s3://{name}")],
        "AccessDenied",
    )
    .await;
    aws_refused(&s3, &kb, &["s3", "rm", &obj_public], "AccessDenied").await;
    let listed = aws_ok(&s3, &kb, &["s3", "ls"]).await;
    assert!(
        !listed.contains(&name),
        "B lists only its own buckets: {listed}"
    );
    // A missing bucket is NoSuchBucket for everyone, as S3 answers.
    aws_refused(
        &s3,
        &kb,
        &["s3", "ls", &format!("s3://{name}-missing")],
        "NoSuchBucket",
    )
    .await;

    // An IAM user allowed only s3:GetObject on one prefix reads there and nothing else.
    a.create_user("reader", None).await.unwrap();
    a.create_policy(
        "read-shared",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": format!("nrn:nuvem:s3:::{name}/shared/*")}]}),
    )
    .await
    .unwrap();
    a.attach_user_policy("reader", "read-shared").await.unwrap();
    let kr = key_of(&a, "reader").await;
    let got = aws_ok(&s3, &kr, &["s3", "cp", &obj_public, "-"]).await;
    assert_eq!(got, "shared notes");
    aws_refused(&s3, &kr, &["s3", "cp", &obj_private, "-"], "403").await;
    aws_refused(
        &s3,
        &kr,
        &["s3", "ls", &format!("s3://{name}")],
        "AccessDenied",
    )
    .await;
    aws_refused(&s3, &kr, &["s3", "rm", &obj_public], "AccessDenied").await;
    aws_refused(
        &s3,
        &kr,
        &["s3", "mb", &format!("s3://{}", bucket("nope"))],
        "AccessDenied",
    )
    .await;

    // A bucket policy grants account B read on one prefix, and nothing more.
    let b_id = account_id(&b).await;
    let grant = json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadShared",
        "Effect": "Allow", "Principal": {"Nuvem": b_id}, "Action": "s3:GetObject",
        "Resource": format!("nrn:nuvem:s3:::{name}/shared/*")}]});
    aws_ok(
        &s3,
        &ka,
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &name,
            "--policy",
            &grant.to_string(),
        ],
    )
    .await;
    let got = aws_ok(&s3, &kb, &["s3", "cp", &obj_public, "-"]).await;
    assert_eq!(got, "shared notes");
    aws_refused(&s3, &kb, &["s3", "cp", &obj_private, "-"], "403").await;
    aws_refused(&s3, &kb, &["s3", "rm", &obj_public], "AccessDenied").await;
    // Cross-account needs both sides: a user of B without policies gets nothing.
    b.create_user("intern", None).await.unwrap();
    let ki = key_of(&b, "intern").await;
    aws_refused(&s3, &ki, &["s3", "cp", &obj_public, "-"], "403").await;
    // Only the owner reads the policy back.
    let back = aws_ok(&s3, &ka, &["s3api", "get-bucket-policy", "--bucket", &name]).await;
    assert!(back.contains("ReadShared"), "{back}");
    aws_refused(
        &s3,
        &kb,
        &["s3api", "get-bucket-policy", "--bucket", &name],
        "AccessDenied",
    )
    .await;
    aws_refused(&s3, &ka, &["s3api", "put-bucket-policy", "--bucket", &name, "--policy",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#],
        "MalformedPolicy").await;

    // An explicit Deny in the bucket policy beats the owner's own Allow (root's, even).
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Principal": "*", "Action": "s3:DeleteObject",
        "Resource": format!("nrn:nuvem:s3:::{name}/private/*")}]});
    aws_ok(
        &s3,
        &ka,
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &name,
            "--policy",
            &deny.to_string(),
        ],
    )
    .await;
    aws_refused(&s3, &ka, &["s3", "rm", &obj_private], "AccessDenied").await;
    aws_ok(&s3, &ka, &["s3", "rm", &obj_public]).await;
    // Root may still mend the policy that denies it.
    aws_ok(
        &s3,
        &ka,
        &["s3api", "delete-bucket-policy", "--bucket", &name],
    )
    .await;
    aws_ok(&s3, &ka, &["s3", "rm", &obj_private]).await;

    // Public read is a policy: anonymous GETs work while it is in place, and stop after.
    put(&s3, &ka, &obj_public, "for everyone").await;
    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("nrn:nuvem:s3:::{name}/*")}]});
    aws_ok(
        &s3,
        &ka,
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &name,
            "--policy",
            &public.to_string(),
        ],
    )
    .await;
    let url = format!("{s3}/{name}/shared/notes.txt");
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 200);
    assert_eq!(anonymous.text().await.unwrap(), "for everyone");
    // Virtual-host style: the bucket in the host name (`<bucket>.localhost` by default).
    let port = s3.rsplit(':').next().unwrap();
    let virtual_host = reqwest::Client::new()
        .get(format!("{s3}/shared/notes.txt"))
        .header(reqwest::header::HOST, format!("{name}.localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(virtual_host.status(), 200);
    assert_eq!(virtual_host.text().await.unwrap(), "for everyone");
    let anonymous_put = reqwest::Client::new()
        .put(&url)
        .body("vandal")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_put.status(), 403);
    let body = anonymous_put.text().await.unwrap();
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("<RequestId>"),
        "an S3 XML error with a request id: {body}"
    );
    aws_ok(
        &s3,
        &ka,
        &["s3api", "delete-bucket-policy", "--bucket", &name],
    )
    .await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn wrong_unknown_and_disabled_keys_are_refused() {
    let Some(cloud) = Cloud::start_with_s3("wrong_unknown_and_disabled_keys_are_refused").await
    else {
        return;
    };
    let s3 = cloud.s3_url();
    let root = cloud.account("keys").await;
    let key = key_of(&root, "root").await;
    aws_ok(&s3, &key, &["s3", "ls"]).await;

    let wrong = Key {
        id: key.id.clone(),
        secret: format!("{}x", &key.secret[..key.secret.len() - 1]),
    };
    aws_refused(&s3, &wrong, &["s3", "ls"], "SignatureDoesNotMatch").await;
    let unknown = Key {
        id: "NKIAUNKNOWNUNKNOWN00".to_owned(),
        secret: key.secret.clone(),
    };
    aws_refused(&s3, &unknown, &["s3", "ls"], "InvalidAccessKeyId").await;

    // Disabled: refused at once, the very next request; enabled again, accepted again.
    root.update_access_key("root", &key.id, AccessKeyStatus::Inactive)
        .await
        .unwrap();
    aws_refused(&s3, &key, &["s3", "ls"], "InvalidAccessKeyId").await;
    root.update_access_key("root", &key.id, AccessKeyStatus::Active)
        .await
        .unwrap();
    aws_ok(&s3, &key, &["s3", "ls"]).await;
    root.delete_access_key("root", &key.id).await.unwrap();
    let out = aws(&s3, &key, &["s3", "ls"]).await;
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("InvalidAccessKeyId"),
        "{}",
        text(&out)
    );

    // A request signed for another time is refused as too skewed (replay protection).
    let other = key_of(&root, "root").await;
    let skewed = reqwest::Client::new()
        .get(format!("{s3}/"))
        .header("x-amz-date", "20200101T000000Z")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                other.id,
                "0".repeat(64)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(skewed.status(), 403);
    let body = skewed.text().await.unwrap();
    assert!(body.contains("<Code>RequestTimeTooSkewed</Code>"), "{body}");

    // No signature at all: anonymous, and nothing is listed to anonymous callers.
    let anonymous = reqwest::get(format!("{s3}/")).await.unwrap();
    assert_eq!(anonymous.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn batch_delete_deletes_the_permitted_keys_and_reports_the_others() {
    let Some(cloud) =
        Cloud::start_with_s3("batch_delete_deletes_the_permitted_keys_and_reports_the_others")
            .await
    else {
        return;
    };
    let s3 = cloud.s3_url();
    let a = cloud.account("batch-a").await;
    let ka = key_of(&a, "root").await;
    let name = bucket("batch");
    aws_ok(&s3, &ka, &["s3", "mb", &format!("s3://{name}")]).await;
    for k in [
        "tmp/one.txt",
        "tmp/two.txt",
        "keep/three.txt",
        "keep/four.txt",
    ] {
        put(&s3, &ka, &format!("s3://{name}/{k}"), k).await;
    }
    // A user who may clean `tmp/` and nothing else.
    a.create_user("cleaner", None).await.unwrap();
    a.create_policy(
        "clean-tmp",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:DeleteObject", "Resource": format!("nrn:nuvem:s3:::{name}/tmp/*")}]}),
    )
    .await
    .unwrap();
    a.attach_user_policy("cleaner", "clean-tmp").await.unwrap();
    let kc = key_of(&a, "cleaner").await;
    let batch = json!({"Objects": [{"Key": "tmp/one.txt"}, {"Key": "keep/three.txt"},
        {"Key": "tmp/two.txt"}]});
    let answer = aws_ok(
        &s3,
        &kc,
        &[
            "s3api",
            "delete-objects",
            "--bucket",
            &name,
            "--delete",
            &batch.to_string(),
        ],
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    let mut deleted: Vec<&str> = answer["Deleted"]
        .as_array()
        .expect("Deleted")
        .iter()
        .map(|d| d["Key"].as_str().unwrap())
        .collect();
    deleted.sort();
    assert_eq!(deleted, ["tmp/one.txt", "tmp/two.txt"], "{answer}");
    let errors = answer["Errors"].as_array().expect("Errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["Key"], "keep/three.txt");
    assert_eq!(errors[0]["Code"], "AccessDenied");
    assert!(
        errors[0]["Message"]
            .as_str()
            .unwrap()
            .contains("s3:DeleteObject"),
        "{answer}"
    );

    // Only refused keys: nothing reaches the engine, each is reported.
    let refused_only = json!({"Objects": [{"Key": "keep/three.txt"}, {"Key": "keep/four.txt"}],
        "Quiet": true});
    let answer = aws_ok(
        &s3,
        &kc,
        &[
            "s3api",
            "delete-objects",
            "--bucket",
            &name,
            "--delete",
            &refused_only.to_string(),
        ],
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(
        answer["Errors"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );

    // An explicit Deny in the bucket policy is reported per key for the owner too.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
        "Principal": "*", "Action": "s3:DeleteObject",
        "Resource": format!("nrn:nuvem:s3:::{name}/keep/four.txt")}]});
    a.put_bucket_policy(&name, deny).await.unwrap();
    let both = json!({"Objects": [{"Key": "keep/three.txt"}, {"Key": "keep/four.txt"}]});
    let answer = aws_ok(
        &s3,
        &ka,
        &[
            "s3api",
            "delete-objects",
            "--bucket",
            &name,
            "--delete",
            &both.to_string(),
        ],
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["Deleted"][0]["Key"], "keep/three.txt", "{answer}");
    assert_eq!(answer["Errors"][0]["Key"], "keep/four.txt", "{answer}");
    assert!(
        answer["Errors"][0]["Message"]
            .as_str()
            .unwrap()
            .contains("explicitly denied by the bucket policy"),
        "{answer}"
    );

    let left = aws_ok(
        &s3,
        &ka,
        &["s3", "ls", "--recursive", &format!("s3://{name}")],
    )
    .await;
    assert!(left.contains("keep/four.txt"), "{left}");
    for gone in ["tmp/one.txt", "tmp/two.txt", "keep/three.txt"] {
        assert!(!left.contains(gone), "{gone} was deleted: {left}");
    }
    a.delete_bucket_policy(&name).await.unwrap();
    aws_ok(
        &s3,
        &ka,
        &["s3", "rm", &format!("s3://{name}/keep/four.txt")],
    )
    .await;
    aws_ok(&s3, &ka, &["s3", "rb", &format!("s3://{name}")]).await;
}
