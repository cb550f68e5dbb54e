//! Creates a user, a read-only policy and an access key, then acts as that user.
//!
//! ```sh
//! export NUVEM_ENDPOINT=http://127.0.0.1:8080
//! export NUVEM_ACCESS_KEY_ID=...  NUVEM_SECRET_ACCESS_KEY=...   # or a profile in ~/.nuvem/config.toml
//! cargo run -p nuvem-sdk --example quickstart
//! ```

use nuvem_sdk::{Client, Credentials, ErrorCode};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = Client::from_env()?;
    let me = admin.whoami().await?;
    println!(
        "signed in as {} in account {} ({})",
        me.user, me.account_name, me.account_id
    );

    let user = match admin.create_user("sdk-reader", None).await {
        Ok(u) => u,
        Err(e) if e.code() == Some(ErrorCode::AlreadyExists) => {
            admin.get_user("sdk-reader").await?
        }
        Err(e) => return Err(e.into()),
    };
    println!("user {}", user.nrn);

    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]
    });
    match admin
        .create_policy("sdk-read-only", Some("read IAM"), document)
        .await
    {
        Err(e) if e.code() != Some(ErrorCode::AlreadyExists) => return Err(e.into()),
        _ => {}
    }
    admin
        .attach_user_policy("sdk-reader", "sdk-read-only")
        .await?;

    for old in admin.list_access_keys("sdk-reader").await?.items {
        admin
            .delete_access_key("sdk-reader", &old.access_key_id)
            .await?;
    }
    let key = admin.create_access_key("sdk-reader").await?;
    let reader = Client::builder()
        .endpoint(admin.endpoint())
        .credentials(Credentials::access_key(
            &key.access_key_id,
            &key.secret_access_key,
        ))
        .build()?;
    println!(
        "the reader sees {} users",
        reader.list_users_all().await?.len()
    );
    match reader.delete_user("sdk-reader").await {
        Err(e) if e.code() == Some(ErrorCode::AccessDenied) => println!("and may not delete: {e}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
