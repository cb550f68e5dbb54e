//! Object storage's management calls: buckets, bucket policies, usage. The objects themselves
//! are S3 calls: use `aws-sdk-s3` with a Nuvem access key and [`Client::storage_info`]'s endpoint
//! (see `examples/s3.rs`).

use reqwest::Method;

use crate::{Client, Result};
use nuvem_api::s3;

impl Client {
    /// Where the S3 endpoint is and its region.
    pub async fn storage_info(&self) -> Result<s3::StorageInfo> {
        self.get(&["v1", "s3"]).await
    }

    pub async fn create_bucket(&self, name: &str) -> Result<s3::Bucket> {
        let body = s3::CreateBucketRequest { name: name.into() };
        self.post(&["v1", "s3", "buckets"], &body).await
    }

    /// Your account's buckets, with their size and object count.
    pub async fn list_buckets(&self) -> Result<s3::BucketList> {
        self.get(&["v1", "s3", "buckets"]).await
    }

    pub async fn get_bucket(&self, name: &str) -> Result<s3::Bucket> {
        self.get(&["v1", "s3", "buckets", name]).await
    }

    /// Deletes an empty bucket (`DependencyViolation` while it holds objects).
    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "s3", "buckets", name]).await
    }

    pub async fn get_bucket_policy(&self, bucket: &str) -> Result<serde_json::Value> {
        let body: s3::BucketPolicyBody =
            self.get(&["v1", "s3", "buckets", bucket, "policy"]).await?;
        Ok(body.policy)
    }

    /// Sets the bucket's policy: the IAM grammar plus `Principal` in every statement.
    pub async fn put_bucket_policy(&self, bucket: &str, policy: serde_json::Value) -> Result<()> {
        let body = s3::BucketPolicyBody { policy };
        self.call::<(), _, s3::BucketPolicyBody>(
            Method::PUT,
            &["v1", "s3", "buckets", bucket, "policy"],
            None,
            Some(&body),
        )
        .await
        .map(drop)
    }

    pub async fn delete_bucket_policy(&self, bucket: &str) -> Result<()> {
        self.delete(&["v1", "s3", "buckets", bucket, "policy"])
            .await
    }

    /// Your buckets' sizes, requests by price class and bytes out.
    pub async fn storage_usage(&self) -> Result<s3::StorageUsage> {
        self.get(&["v1", "s3", "usage"]).await
    }
    /// The bucket's static-website settings (`NotFound` when it has none).
    pub async fn get_bucket_website(&self, bucket: &str) -> Result<s3::BucketWebsite> {
        self.get(&["v1", "s3", "buckets", bucket, "website"]).await
    }

    /// Turns on (or changes) static website hosting for the bucket.
    pub async fn put_bucket_website(
        &self,
        bucket: &str,
        website: &s3::BucketWebsite,
    ) -> Result<s3::BucketWebsite> {
        self.call::<(), _, s3::BucketWebsite>(
            Method::PUT,
            &["v1", "s3", "buckets", bucket, "website"],
            None,
            Some(website),
        )
        .await
    }

    pub async fn delete_bucket_website(&self, bucket: &str) -> Result<()> {
        self.delete(&["v1", "s3", "buckets", bucket, "website"])
            .await
    }
}
