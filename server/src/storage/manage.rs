//! The management API of object storage (`/v1/s3/...`): buckets with their owner, size and
//! object count, and bucket policies — the same rules and the same authorization as the S3
//! endpoint, reached with a Nuvem session instead of a SigV4 signature.

use nuvem_api::policy::Decision;
use nuvem_api::s3 as api;

use super::Storage;
use super::buckets::{BucketError, bucket_view};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::storage::BucketRow;

impl Storage {
    /// Where the S3 endpoint is (for `aws --endpoint-url` and the SDKs).
    pub fn info(&self) -> api::StorageInfo {
        api::StorageInfo {
            endpoint: self.endpoint_url.get().cloned().unwrap_or_default(),
            region: self.region.clone(),
        }
    }

    async fn identity_allows(&self, p: &Principal, action: &str, resource: &str) -> Result<()> {
        match self.iam.identity_decision(p, action, resource).await? {
            Decision::Allow { .. } => Ok(()),
            Decision::ExplicitDeny { policy, .. } => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: explicitly denied by policy '{policy}'",
                p.user_nrn()
            ))),
            Decision::ImplicitDeny => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: no policy attached to the user or its groups allows it",
                p.user_nrn()
            ))),
        }
    }

    pub(super) async fn authorized_bucket(
        &self,
        p: &Principal,
        name: &str,
        action: &str,
    ) -> Result<BucketRow> {
        api::check_bucket_name(name).map_err(Error::InvalidRequest)?;
        let row = self
            .decide_on(Some(p), name, action, &api::bucket_nrn(name))
            .await
            .map_err(BucketError::from)?;
        Ok(row.row.clone())
    }

    async fn view(&self, row: &BucketRow) -> Result<api::Bucket> {
        let (bytes, count) = self.bucket_size(&row.name).await?;
        Ok(bucket_view(row, bytes, count, self.website_url(row)))
    }

    /// The caller's account's buckets, with their sizes (from the engine).
    pub async fn bucket_list(&self, p: &Principal) -> Result<api::BucketList> {
        self.identity_allows(p, "s3:ListAllMyBuckets", &api::bucket_nrn("*"))
            .await?;
        let rows = self.store.bucket_list_for_account(&p.account.id).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(self.view(row).await?);
        }
        Ok(api::BucketList { items })
    }

    pub async fn bucket_create(
        &self,
        p: &Principal,
        req: api::CreateBucketRequest,
    ) -> Result<api::Bucket> {
        api::check_bucket_name(&req.name).map_err(Error::InvalidRequest)?;
        self.identity_allows(p, "s3:CreateBucket", &api::bucket_nrn(&req.name))
            .await?;
        let row = self.bucket_claim(p, &req.name).await?;
        Ok(bucket_view(&row, 0, 0, None))
    }

    pub async fn bucket_get(&self, p: &Principal, name: &str) -> Result<api::Bucket> {
        let row = self.authorized_bucket(p, name, "s3:ListBucket").await?;
        self.view(&row).await
    }

    /// Deletes an empty bucket (`DependencyViolation` while it holds objects).
    pub async fn bucket_delete(&self, p: &Principal, name: &str) -> Result<()> {
        let row = self.authorized_bucket(p, name, "s3:DeleteBucket").await?;
        Ok(self.bucket_remove(&row).await?)
    }

    pub async fn bucket_policy_get(
        &self,
        p: &Principal,
        name: &str,
    ) -> Result<api::BucketPolicyBody> {
        let row = self
            .authorized_bucket(p, name, "s3:GetBucketPolicy")
            .await?;
        let Some(text) = row.policy else {
            return Err(BucketError::NoSuchPolicy(row.name).into());
        };
        Ok(api::BucketPolicyBody {
            policy: serde_json::from_str(&text).map_err(Error::internal)?,
        })
    }

    pub async fn bucket_policy_put(
        &self,
        p: &Principal,
        name: &str,
        body: api::BucketPolicyBody,
    ) -> Result<api::BucketPolicyBody> {
        let row = self
            .authorized_bucket(p, name, "s3:PutBucketPolicy")
            .await?;
        self.bucket_policy_store(&row, &body.policy.to_string())
            .await?;
        Ok(body)
    }

    pub async fn bucket_policy_delete(&self, p: &Principal, name: &str) -> Result<()> {
        let row = self
            .authorized_bucket(p, name, "s3:DeleteBucketPolicy")
            .await?;
        self.store.bucket_set_policy(&row.name, None).await
    }

    /// Requests and bytes out since the server started, and the size now, of each bucket of
    /// the caller's account.
    pub async fn usage(&self, p: &Principal) -> Result<api::StorageUsage> {
        self.identity_allows(p, "s3:ListAllMyBuckets", &api::bucket_nrn("*"))
            .await?;
        let rows = self.store.bucket_list_for_account(&p.account.id).await?;
        let totals = self.meter.totals();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let (bytes, count) = self.bucket_size(&row.name).await?;
            let counted = totals
                .iter()
                .find(|(b, _)| b == &row.name)
                .map(|(_, c)| *c)
                .unwrap_or_default();
            items.push(api::BucketUsage {
                bucket: row.name.clone(),
                size_bytes: bytes,
                object_count: count,
                requests_tier1: counted.tier1,
                requests_tier2: counted.tier2,
                bytes_out: counted.bytes_out,
            });
        }
        Ok(api::StorageUsage { items })
    }
}
