//! Emptying and removing every bucket of an account (account deletion's `buckets` step).
//! Idempotent: a run that a crash interrupted starts again from what is left.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::Storage;
use crate::error::{Error, Result};

impl Storage {
    pub async fn account_purge(&self, account_id: &str) -> Result<()> {
        for row in self.store.bucket_list_for_account(account_id).await? {
            self.bucket_empty(&row.name).await?;
            self.bucket_remove(&row).await?;
        }
        Ok(())
    }

    /// Deletes every object and aborts every multipart upload of a bucket, in the engine.
    async fn bucket_empty(&self, bucket: &str) -> Result<()> {
        let failed = |what: &str, e: &dyn ProvideErrorMetadata| Error::ServiceUnavailable {
            message: format!(
                "the S3 engine refused {what} on bucket {bucket}: {}",
                e.message().unwrap_or("no message")
            ),
            retry_after_seconds: 30,
        };
        loop {
            let page = match self.engine.list_objects_v2().bucket(bucket).send().await {
                Ok(page) => page,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(()),
                Err(e) => return Err(failed("ListObjectsV2", &e)),
            };
            let keys: Vec<ObjectIdentifier> = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            if keys.is_empty() {
                break;
            }
            let delete = Delete::builder()
                .set_objects(Some(keys))
                .quiet(true)
                .build()
                .map_err(Error::internal)?;
            self.engine
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| failed("DeleteObjects", &e))?;
        }
        let uploads = self
            .engine
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| failed("ListMultipartUploads", &e))?;
        for upload in uploads.uploads() {
            if let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) {
                self.engine
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await
                    .map_err(|e| failed("AbortMultipartUpload", &e))?;
            }
        }
        Ok(())
    }
}
