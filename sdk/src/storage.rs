//! Object storage's management calls: buckets, bucket policies, websites, usage, and the object
//! browser the console uses (one folder's listing, upload, download, delete, presigned URLs).
//! Programs that move many or large objects use S3 itself: `aws-sdk-s3` with a Nuvem access key
//! and [`Client::storage_info`]'s endpoint (see `examples/s3.rs`).

use reqwest::Method;

use crate::{Client, Result};
use nuvem_api::s3;

/// An object's bytes as the server streams them: read them piece by piece with `chunk` (not in a
/// browser) or all at once with [`ObjectDownload::bytes`].
#[derive(Debug)]
pub struct ObjectDownload {
    response: reqwest::Response,
}

impl ObjectDownload {
    /// The object's size, from the answer's `Content-Length`.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The next piece of the object; `None` at its end. (Not in a browser, whose `fetch` answer
    /// reqwest reads only whole.)
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let endpoint = self.response.url().to_string();
        self.response
            .chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|e| crate::Error::Transport {
                endpoint,
                reason: crate::error_chain(&e),
            })
    }

    /// The whole object, in memory.
    pub async fn bytes(self) -> Result<Vec<u8>> {
        let endpoint = self.response.url().to_string();
        self.response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| crate::Error::Transport {
                endpoint,
                reason: crate::error_chain(&e),
            })
    }
}

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

    /// One folder of a bucket: its objects and sub-folders (`prefix` ends in `/`; empty for the
    /// top level). Pass the answer's `next_continuation` to read the next page.
    pub async fn list_objects(
        &self,
        bucket: &str,
        params: &s3::ObjectListParams,
    ) -> Result<s3::ObjectList> {
        self.call(
            Method::GET,
            &["v1", "s3", "buckets", bucket, "objects"],
            Some(params),
            None::<&()>,
        )
        .await
    }

    /// Uploads an object of `length` bytes (a `Vec<u8>`, `&'static [u8]`, or a stream with
    /// reqwest's `stream` feature); the server streams it to the engine.
    pub async fn upload_object(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<reqwest::Body>,
        content_type: &str,
    ) -> Result<s3::ObjectSummary> {
        let params = s3::ObjectKeyParams {
            key: Some(key.to_owned()),
        };
        let res = self
            .call_raw(
                Method::PUT,
                &["v1", "s3", "buckets", bucket, "object"],
                Some(&params),
                Some((body.into(), content_type)),
            )
            .await?;
        let endpoint = self.endpoint().to_owned();
        res.json().await.map_err(|e| crate::Error::Transport {
            endpoint,
            reason: crate::error_chain(&e),
        })
    }

    /// Downloads an object, streamed: see [`ObjectDownload`].
    pub async fn download_object(&self, bucket: &str, key: &str) -> Result<ObjectDownload> {
        let params = s3::ObjectKeyParams {
            key: Some(key.to_owned()),
        };
        let response = self
            .call_raw(
                Method::GET,
                &["v1", "s3", "buckets", bucket, "object"],
                Some(&params),
                None,
            )
            .await?;
        Ok(ObjectDownload { response })
    }

    /// Deletes an object (`NotFound` when the key does not exist).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        let params = s3::ObjectKeyParams {
            key: Some(key.to_owned()),
        };
        self.call::<_, (), serde_json::Value>(
            Method::DELETE,
            &["v1", "s3", "buckets", bucket, "object"],
            Some(&params),
            None,
        )
        .await
        .map(drop)
    }

    /// A presigned URL of the S3 endpoint for one object (`method` GET or PUT, 1 s to 7 days),
    /// signed with one of the caller's own access keys.
    pub async fn presign_object(
        &self,
        bucket: &str,
        key: &str,
        method: &str,
        expires_secs: u64,
    ) -> Result<s3::PresignedUrl> {
        let body = s3::PresignRequest {
            key: key.to_owned(),
            method: method.to_owned(),
            expires_secs,
        };
        self.post(&["v1", "s3", "buckets", bucket, "presign"], &body)
            .await
    }

    /// The address of an object's upload and download (`/v1/s3/buckets/{bucket}/object?key=…`),
    /// for a caller that sends the request itself: the console uploads with the browser's
    /// `XMLHttpRequest`, whose progress events `fetch` lacks.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let mut url = self.url(&["v1", "s3", "buckets", bucket, "object"]);
        url.query_pairs_mut().append_pair("key", key);
        url.to_string()
    }
}
