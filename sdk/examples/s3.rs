//! Object storage from Rust: the Nuvem SDK for the management calls, `aws-sdk-s3` for the
//! objects, both configured from one Nuvem access key.
//!
//! ```sh
//! export NUVEM_ENDPOINT=http://127.0.0.1:8080
//! export NUVEM_ACCESS_KEY_ID=...  NUVEM_SECRET_ACCESS_KEY=...
//! cargo run -p nuvem-sdk --example s3 --features native
//! ```

use aws_sdk_s3::config::{BehaviorVersion, Credentials as S3Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use nuvem_sdk::{Client, Credentials};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nuvem = Client::from_env()?;
    let Credentials::AccessKey {
        access_key_id,
        secret_access_key,
    } = nuvem.credentials()
    else {
        anyhow::bail!(
            "set NUVEM_ACCESS_KEY_ID and NUVEM_SECRET_ACCESS_KEY: S3 is signed with a key"
        );
    };
    // Where the S3 endpoint is; path-style, as Nuvem serves it.
    let info = nuvem.storage_info().await?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&info.endpoint)
            .region(Region::new(info.region))
            .credentials_provider(S3Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "nuvem",
            ))
            .force_path_style(true)
            .build(),
    );

    let bucket = format!("sdk-example-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await?;
    s3.put_object()
        .bucket(&bucket)
        .key("hello.txt")
        .body(ByteStream::from_static(b"hello from Rust"))
        .send()
        .await?;
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("hello.txt")
        .send()
        .await?;
    let text = got.body.collect().await?.into_bytes();
    println!("read back: {}", String::from_utf8_lossy(&text));

    // The management API sees the bucket with its size.
    let shown = nuvem.get_bucket(&bucket).await?;
    println!(
        "bucket {} of account {}: {} object(s), {} bytes",
        shown.name, shown.account_id, shown.object_count, shown.size_bytes
    );

    s3.delete_object()
        .bucket(&bucket)
        .key("hello.txt")
        .send()
        .await?;
    nuvem.delete_bucket(&bucket).await?;
    println!("cleaned up");
    Ok(())
}
