//! The S3 service `s3s` calls once a request is verified and authorized (`access`): the
//! operations Nuvem owns itself — the account's bucket list, bucket creation and deletion (global
//! names, one owner) and bucket policies (kept in Nuvem's database, evaluated by Nuvem) — and the
//! object operations it forwards to the engine through `s3s-aws`, bodies streamed both ways.
//! Each forwarded request is counted by its price class (`meter`).

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_aws::Proxy;

use super::Storage;
use super::access::{RefusedKeys, S3Caller};
use super::buckets::BucketError;
use super::meter::RequestClass::{self, Free, Tier1, Tier2};
use crate::iam::Principal;

pub(super) struct Gateway {
    pub storage: Storage,
    pub engine: Proxy,
}

fn caller<T>(req: &S3Request<T>) -> S3Result<&Principal> {
    req.extensions
        .get::<S3Caller>()
        .and_then(|c| c.0.as_ref())
        .ok_or_else(|| s3_error!(AccessDenied, "this operation needs a signed request"))
}

impl Gateway {
    fn count(&self, bucket: &str, class: RequestClass, bytes_out: u64) {
        self.storage.meter.request(bucket, class, bytes_out);
    }
}

/// The impl block, with one forwarding method per `op(Input) -> Output: class` listed: async-trait
/// must see every method, so the forwarded ones are written out by the macro, not inside it.
macro_rules! gateway {
    (forward { $($op:ident($input:ident) -> $output:ident: $class:ident;)* } $($own:tt)*) => {
        #[async_trait::async_trait]
        impl S3 for Gateway {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    let bucket = req.input.bucket.clone();
                    let answer = self.engine.$op(req).await;
                    self.count(&bucket, $class, 0);
                    answer
                }
            )*
            $($own)*
        }
    };
}

gateway! {
    forward {
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput: Free;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput: Tier1;
        copy_object(CopyObjectInput) -> CopyObjectOutput: Tier1;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput: Tier1;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput: Free;
        delete_object_tagging(DeleteObjectTaggingInput) -> DeleteObjectTaggingOutput: Free;
        get_object_tagging(GetObjectTaggingInput) -> GetObjectTaggingOutput: Tier2;
        head_bucket(HeadBucketInput) -> HeadBucketOutput: Tier2;
        head_object(HeadObjectInput) -> HeadObjectOutput: Tier2;
        list_multipart_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput: Tier1;
        list_objects(ListObjectsInput) -> ListObjectsOutput: Tier1;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output: Tier1;
        list_parts(ListPartsInput) -> ListPartsOutput: Tier1;
        put_object(PutObjectInput) -> PutObjectOutput: Tier1;
        put_object_tagging(PutObjectTaggingInput) -> PutObjectTaggingOutput: Tier1;
        upload_part(UploadPartInput) -> UploadPartOutput: Tier1;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput: Tier1;
    }

    /// Only the keys the access check let through reach the engine; the refused ones are
    /// reported as errors beside the engine's own (a batch of refused keys alone never reaches
    /// it: S3 refuses an empty list).
    async fn delete_objects(
        &self,
        mut req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let refused = req
            .extensions
            .remove::<RefusedKeys>()
            .unwrap_or_default()
            .0;
        let mut answer = if req.input.delete.objects.is_empty() {
            S3Response::new(DeleteObjectsOutput::default())
        } else {
            self.engine.delete_objects(req).await?
        };
        self.count(&bucket, Free, 0);
        if !refused.is_empty() {
            answer
                .output
                .errors
                .get_or_insert_with(Vec::new)
                .extend(refused);
        }
        Ok(answer)
    }

    /// Bytes out are counted as the engine announces them (a range GET sends only its range).
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let bucket = req.input.bucket.clone();
        let answer = self.engine.get_object(req).await;
        let sent = answer
            .as_ref()
            .ok()
            .and_then(|r| r.output.content_length)
            .unwrap_or(0)
            .max(0) as u64;
        self.count(&bucket, Tier2, sent);
        answer
    }

    /// The caller's account's buckets, from Nuvem's database: the engine holds every account's.
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let p = caller(&req)?;
        let rows = self
            .storage
            .store
            .bucket_list_for_account(&p.account.id)
            .await
            .map_err(super::access::s3_error_of)?;
        let buckets = rows
            .into_iter()
            .map(|r| Bucket {
                name: Some(r.name),
                creation_date: Some(Timestamp::from(std::time::SystemTime::from(r.created_at))),
                bucket_region: Some(self.storage.region.clone()),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(Owner {
                id: Some(p.account.id.clone()),
                display_name: Some(p.account.name.clone()),
            }),
            ..Default::default()
        }))
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let p = caller(&req)?;
        let name = req.input.bucket.clone();
        self.storage.bucket_claim(p, &name).await?;
        self.count(&name, Tier1, 0);
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        self.storage.bucket_remove(&row).await?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.count(&req.input.bucket, Tier2, 0);
        // us-east-1 is answered as no constraint, as S3 does.
        let region = self.storage.region.clone();
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: (region != "us-east-1")
                .then(|| BucketLocationConstraint::from(region)),
        }))
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        let Some(policy) = row.policy else {
            return Err(BucketError::NoSuchPolicy(row.name).into());
        };
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(policy),
        }))
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        self.storage
            .bucket_policy_store(&row, &req.input.policy)
            .await?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        self.storage
            .store
            .bucket_set_policy(&row.name, None)
            .await
            .map_err(super::access::s3_error_of)?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    /// Index and error documents only: redirects and routing rules are not offered.
    async fn put_bucket_website(
        &self,
        req: S3Request<PutBucketWebsiteInput>,
    ) -> S3Result<S3Response<PutBucketWebsiteOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        let config = &req.input.website_configuration;
        if config.redirect_all_requests_to.is_some() || config.routing_rules.is_some() {
            return Err(s3_error!(
                NotImplemented,
                "Nuvem's websites have an index and an error document; redirects and routing rules are not offered"
            ));
        }
        let Some(index) = config.index_document.as_ref() else {
            return Err(BucketError::InvalidWebsite(
                "a website needs an index document (IndexDocument/Suffix, such as index.html)"
                    .to_owned(),
            )
            .into());
        };
        let website = nuvem_api::s3::BucketWebsite {
            index_document: index.suffix.clone(),
            error_document: config.error_document.as_ref().map(|e| e.key.clone()),
        };
        self.storage
            .bucket_website_store(&row, Some(&website))
            .await?;
        Ok(S3Response::new(PutBucketWebsiteOutput {}))
    }

    async fn get_bucket_website(
        &self,
        req: S3Request<GetBucketWebsiteInput>,
    ) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        let Some(website) = super::website::website_of(&row) else {
            return Err(BucketError::NoSuchWebsite(row.name).into());
        };
        Ok(S3Response::new(GetBucketWebsiteOutput {
            index_document: Some(IndexDocument {
                suffix: website.index_document,
            }),
            error_document: website.error_document.map(|key| ErrorDocument { key }),
            ..Default::default()
        }))
    }

    async fn delete_bucket_website(
        &self,
        req: S3Request<DeleteBucketWebsiteInput>,
    ) -> S3Result<S3Response<DeleteBucketWebsiteOutput>> {
        let row = self.bucket_row(&req.input.bucket).await?;
        self.storage.bucket_website_store(&row, None).await?;
        Ok(S3Response::new(DeleteBucketWebsiteOutput {}))
    }
}

impl Gateway {
    /// The row of a bucket the access check has already found and authorized.
    async fn bucket_row(&self, name: &str) -> S3Result<crate::store::storage::BucketRow> {
        self.storage
            .store
            .bucket_get(name)
            .await
            .map_err(super::access::s3_error_of)?
            .ok_or_else(|| BucketError::NoSuchBucket(name.to_owned()).into())
    }
}
