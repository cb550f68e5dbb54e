//! Buckets: global names claimed by one account, made and removed in the engine, their sizes and
//! their policies. The S3 endpoint (`gateway`) and the management API call the same rules here.

use aws_sdk_s3::error::ProvideErrorMetadata;
use chrono::Utc;
use nuvem_api::s3 as api;
use s3s::{S3Error, S3ErrorCode};

use super::Storage;
use super::access::Denied;
use crate::error::Error;
use crate::iam::Principal;
use crate::store::storage::BucketRow;
use crate::usage::{Change, Dimensions, UsageEvent};

/// Why a bucket operation failed, in terms both surfaces can say in their own codes.
#[derive(Debug)]
pub enum BucketError {
    InvalidName(String),
    /// Another account holds the name.
    AlreadyExists(String),
    AlreadyOwnedByYou(String),
    NoSuchBucket(String),
    NotEmpty(String),
    MalformedPolicy(String),
    NoSuchPolicy(String),
    /// Website settings that break S3's rules.
    InvalidWebsite(String),
    /// The bucket has no website settings.
    NoSuchWebsite(String),
    Denied(String),
    /// The engine failed or could not be reached.
    Engine(String),
    Other(Error),
}

impl From<Error> for BucketError {
    fn from(e: Error) -> Self {
        BucketError::Other(e)
    }
}

impl From<Denied> for BucketError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NoSuchBucket(b) => BucketError::NoSuchBucket(b),
            Denied::Refused(m) => BucketError::Denied(m),
            Denied::Failed(e) => BucketError::Other(e),
        }
    }
}

impl From<BucketError> for Error {
    fn from(e: BucketError) -> Self {
        match e {
            BucketError::InvalidName(m)
            | BucketError::MalformedPolicy(m)
            | BucketError::InvalidWebsite(m) => Error::InvalidRequest(m),
            BucketError::AlreadyExists(b) | BucketError::AlreadyOwnedByYou(b) => {
                Error::AlreadyExists(format!("bucket '{b}' already exists"))
            }
            BucketError::NoSuchBucket(b) => Error::NotFound(format!("bucket '{b}' does not exist")),
            BucketError::NoSuchPolicy(b) => {
                Error::NotFound(format!("bucket '{b}' has no bucket policy"))
            }
            BucketError::NoSuchWebsite(b) => Error::NotFound(format!(
                "bucket '{b}' has no website configuration (NoSuchWebsiteConfiguration): set one with PUT /v1/s3/buckets/{b}/website"
            )),
            BucketError::NotEmpty(b) => Error::DependencyViolation(format!(
                "bucket '{b}' is not empty: delete its objects (and abort its multipart uploads) first"
            )),
            BucketError::Denied(m) => Error::AccessDenied(m),
            BucketError::Engine(m) => Error::ServiceUnavailable {
                message: format!("the S3 engine did not answer as expected: {m}"),
                retry_after_seconds: 5,
            },
            BucketError::Other(e) => e,
        }
    }
}

impl From<BucketError> for S3Error {
    fn from(e: BucketError) -> Self {
        let (code, msg) = match e {
            BucketError::InvalidName(m) => (S3ErrorCode::InvalidBucketName, m),
            BucketError::AlreadyExists(b) => (
                S3ErrorCode::BucketAlreadyExists,
                format!("the bucket name '{b}' is taken: bucket names are global; choose another"),
            ),
            BucketError::AlreadyOwnedByYou(b) => (
                S3ErrorCode::BucketAlreadyOwnedByYou,
                format!("your account already owns bucket '{b}'"),
            ),
            BucketError::NoSuchBucket(b) => (
                S3ErrorCode::NoSuchBucket,
                format!("the bucket '{b}' does not exist"),
            ),
            BucketError::NotEmpty(b) => (
                S3ErrorCode::BucketNotEmpty,
                format!("the bucket '{b}' is not empty"),
            ),
            BucketError::MalformedPolicy(m) => (S3ErrorCode::MalformedPolicy, m),
            BucketError::NoSuchPolicy(b) => (
                S3ErrorCode::NoSuchBucketPolicy,
                format!("the bucket '{b}' has no bucket policy"),
            ),
            BucketError::InvalidWebsite(m) => (S3ErrorCode::InvalidArgument, m),
            BucketError::NoSuchWebsite(b) => (
                S3ErrorCode::NoSuchWebsiteConfiguration,
                format!("the bucket '{b}' has no website configuration"),
            ),
            BucketError::Denied(m) => (S3ErrorCode::AccessDenied, m),
            BucketError::Engine(m) => {
                tracing::warn!(error = %m, "the S3 engine failed");
                (
                    S3ErrorCode::ServiceUnavailable,
                    "the storage engine is unavailable; retry".to_owned(),
                )
            }
            BucketError::Other(e) => return super::access::s3_error_of(e),
        };
        S3Error::with_message(code, msg)
    }
}

pub(super) fn engine_error<E: ProvideErrorMetadata + std::fmt::Debug>(e: &E) -> BucketError {
    BucketError::Engine(format!(
        "{}: {}",
        e.code().unwrap_or("no error code"),
        e.message().unwrap_or("no message")
    ))
}

pub(super) fn bucket_view(
    row: &BucketRow,
    size_bytes: u64,
    object_count: u64,
    website_url: Option<String>,
) -> api::Bucket {
    let public_read = row
        .policy
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .and_then(|v| api::parse_bucket_policy(&row.name, &v).ok())
        .is_some_and(|p| p.allows_public_read());
    api::Bucket {
        name: row.name.clone(),
        account_id: row.account_id.clone(),
        created_at: row.created_at,
        size_bytes,
        object_count,
        public_read,
        website_url,
    }
}

impl Storage {
    /// Claims `name` for the caller's account and makes it in the engine (the caller has been
    /// authorized for `s3:CreateBucket`). The name is claimed first so that two accounts racing
    /// for it cannot both win; if the engine then fails, the claim is given back.
    pub(super) async fn bucket_claim(
        &self,
        p: &Principal,
        name: &str,
    ) -> Result<BucketRow, BucketError> {
        api::check_bucket_name(name).map_err(BucketError::InvalidName)?;
        let owned = self.store.bucket_list_for_account(&p.account.id).await?;
        if owned.len() >= api::MAX_BUCKETS_PER_ACCOUNT {
            return Err(BucketError::Other(Error::LimitExceeded(format!(
                "account '{}' already owns {} buckets, the most an account may own (as in AWS); delete one first",
                p.account.name,
                owned.len()
            ))));
        }
        if let Some(existing) = self.store.bucket_get(name).await? {
            return Err(if existing.account_id == p.account.id {
                BucketError::AlreadyOwnedByYou(name.to_owned())
            } else {
                BucketError::AlreadyExists(name.to_owned())
            });
        }
        let row = BucketRow {
            name: name.to_owned(),
            account_id: p.account.id.clone(),
            policy: None,
            website_index: None,
            website_error: None,
            created_at: Utc::now(),
        };
        let row = match self.store.bucket_create(row).await {
            Ok(row) => row,
            Err(Error::AlreadyExists(_)) => {
                return Err(BucketError::AlreadyExists(name.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let made = self.engine.create_bucket().bucket(name).send().await;
        if let Err(e) = made {
            // The engine already having it (a bucket left over by a crash between the two steps
            // of a delete) is fine: it is ours, and now the database says so again.
            if e.code() != Some("BucketAlreadyOwnedByYou") {
                let err = engine_error(&e);
                if let Err(undo) = self.store.bucket_delete(name).await {
                    tracing::error!(bucket = name, error = %undo, "giving back a bucket name failed");
                }
                return Err(err);
            }
        }
        self.report(&row, Change::Created, 0).await;
        Ok(row)
    }

    /// Deletes an empty bucket in the engine, then its row (the caller is authorized). The
    /// engine refuses a non-empty bucket (`-s3.allowDeleteBucketNotEmpty=false`); the check here
    /// first makes the refusal the same on an engine that would not.
    pub(super) async fn bucket_remove(&self, row: &BucketRow) -> Result<(), BucketError> {
        let name = row.name.as_str();
        let listed = self
            .engine
            .list_objects_v2()
            .bucket(name)
            .max_keys(1)
            .send()
            .await;
        match listed {
            Ok(out) if out.key_count().unwrap_or(0) > 0 => {
                return Err(BucketError::NotEmpty(name.to_owned()));
            }
            Ok(_) => {}
            Err(e) if e.code() == Some("NoSuchBucket") => {}
            Err(e) => return Err(engine_error(&e)),
        }
        let uploads = self
            .engine
            .list_multipart_uploads()
            .bucket(name)
            .send()
            .await;
        if let Ok(out) = &uploads
            && !out.uploads().is_empty()
        {
            return Err(BucketError::NotEmpty(name.to_owned()));
        }
        match self.engine.delete_bucket().bucket(name).send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("NoSuchBucket") => {}
            Err(e) if e.code() == Some("BucketNotEmpty") => {
                return Err(BucketError::NotEmpty(name.to_owned()));
            }
            Err(e) => return Err(engine_error(&e)),
        }
        self.store.bucket_delete(name).await?;
        self.meter.forget(name);
        self.report(row, Change::Deleted, 0).await;
        Ok(())
    }

    /// Bytes stored and object count of a bucket, from the engine's listing.
    pub(super) async fn bucket_size(&self, name: &str) -> Result<(u64, u64), BucketError> {
        let (mut bytes, mut count) = (0u64, 0u64);
        let mut pages = self
            .engine
            .list_objects_v2()
            .bucket(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| engine_error(&e))?;
            for object in page.contents() {
                bytes += object.size().unwrap_or(0).max(0) as u64;
                count += 1;
            }
        }
        Ok((bytes, count))
    }

    /// The bucket's parsed policy (stored documents were validated when they were put).
    pub(super) fn bucket_policy_of(row: &BucketRow) -> Result<Option<api::BucketPolicy>, Error> {
        let Some(text) = row.policy.as_deref() else {
            return Ok(None);
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(Error::internal)?;
        api::parse_bucket_policy(&row.name, &value)
            .map(Some)
            .map_err(|e| Error::internal(format!("stored policy of bucket {}: {e}", row.name)))
    }

    /// Validates and stores a bucket policy (authorized by the caller).
    pub(super) async fn bucket_policy_store(
        &self,
        row: &BucketRow,
        policy: &str,
    ) -> Result<(), BucketError> {
        let value: serde_json::Value = serde_json::from_str(policy).map_err(|e| {
            BucketError::MalformedPolicy(format!("the policy is not valid JSON: {e}"))
        })?;
        api::parse_bucket_policy(&row.name, &value)
            .map_err(|e| BucketError::MalformedPolicy(e.0))?;
        self.store
            .bucket_set_policy(&row.name, Some(value.to_string()))
            .await?;
        Ok(())
    }

    /// A usage event of a bucket: its size now, and the requests and bytes out counted since
    /// its previous event.
    pub(super) async fn report(&self, row: &BucketRow, change: Change, storage_bytes: u64) {
        let counted = self.meter.take(&row.name);
        if change != Change::Deleted {
            self.meter.set_stored(&row.name, storage_bytes);
        }
        self.platform
            .usage
            .emit(UsageEvent {
                at: Utc::now(),
                account_id: row.account_id.clone(),
                service: "s3",
                resource_type: "bucket",
                resource_id: row.name.clone(),
                change,
                dimensions: Dimensions {
                    storage_bytes,
                    requests_tier1: counted.tier1,
                    requests_tier2: counted.tier2,
                    bytes_out: counted.bytes_out,
                    ..Default::default()
                },
            })
            .await;
    }
}
