//! Who may do what on the S3 endpoint: the signing secret of a Nuvem access key (SigV4 is
//! verified by `s3s` with it), the IAM action each S3 operation needs, and the decision that
//! combines the caller's identity policies with the bucket's policy as AWS documents it: an
//! explicit Deny anywhere wins; inside the owner's account an Allow from either side suffices;
//! across accounts both sides must allow; anonymous callers only through the bucket policy.

use std::sync::Arc;

use nuvem_api::policy::Decision;
use nuvem_api::s3::{self as api, Caller};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::{CopySource, DeleteObjectsInput, UploadPartCopyInput};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result, s3_error};

use super::Storage;
use crate::error::Error;
use crate::iam::{Principal, SigningKey};
use crate::store::storage::BucketRow;

/// The caller of an S3 request, found by `check` and read by the operations.
#[derive(Clone)]
pub(super) struct S3Caller(pub Option<Principal>);

/// The keys of a batch delete the caller may not delete, with why: answered in its `Errors`.
#[derive(Clone, Default)]
pub(super) struct RefusedKeys(pub Vec<s3s::dto::Error>);

/// Why a request is refused.
#[derive(Debug)]
pub(super) enum Denied {
    NoSuchBucket(String),
    Refused(String),
    Failed(Error),
}

impl From<Error> for Denied {
    fn from(e: Error) -> Self {
        Denied::Failed(e)
    }
}

impl From<Denied> for S3Error {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NoSuchBucket(b) => {
                s3_error!(NoSuchBucket, "the bucket '{b}' does not exist")
            }
            Denied::Refused(m) => S3Error::with_message(S3ErrorCode::AccessDenied, m),
            Denied::Failed(e) => s3_error_of(e),
        }
    }
}

/// A service error as the S3 error an SDK expects; internal details go to the log only.
pub(super) fn s3_error_of(e: Error) -> S3Error {
    let (code, msg) = match e {
        Error::AccessDenied(m) => (S3ErrorCode::AccessDenied, m),
        Error::Unauthenticated(m) => (S3ErrorCode::InvalidAccessKeyId, m),
        Error::InvalidRequest(m) => (S3ErrorCode::InvalidArgument, m),
        Error::LimitExceeded(m) => (S3ErrorCode::TooManyBuckets, m),
        Error::ServiceUnavailable { message, .. } => (S3ErrorCode::ServiceUnavailable, message),
        other => {
            tracing::error!(error = %other, "S3 request failed inside Nuvem");
            (
                S3ErrorCode::InternalError,
                "internal error; the server log has the details".to_owned(),
            )
        }
    };
    S3Error::with_message(code, msg)
}

/// What an S3 operation acts on, for authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The caller's own list of buckets.
    Service,
    /// A bucket that does not exist yet.
    NewBucket,
    Bucket,
    Object,
    /// Checked by the operation's own hook once its input is parsed (the keys of a batch
    /// delete, the source of a copy), after the bucket check here.
    BucketThenInput,
}

/// The IAM action of each S3 operation Nuvem serves (AWS's action names). An operation not in
/// this table is refused: nothing reaches the engine unauthorized.
fn rule(op: &str) -> Option<(&'static str, Target)> {
    use Target::*;
    Some(match op {
        "ListBuckets" => ("s3:ListAllMyBuckets", Service),
        "CreateBucket" => ("s3:CreateBucket", NewBucket),
        "DeleteBucket" => ("s3:DeleteBucket", Bucket),
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => ("s3:ListBucket", Bucket),
        "GetBucketLocation" => ("s3:GetBucketLocation", Bucket),
        "ListMultipartUploads" => ("s3:ListBucketMultipartUploads", Bucket),
        "GetBucketPolicy" => ("s3:GetBucketPolicy", Bucket),
        "PutBucketPolicy" => ("s3:PutBucketPolicy", Bucket),
        "DeleteBucketPolicy" => ("s3:DeleteBucketPolicy", Bucket),
        "GetBucketWebsite" => ("s3:GetBucketWebsite", Bucket),
        "PutBucketWebsite" => ("s3:PutBucketWebsite", Bucket),
        "DeleteBucketWebsite" => ("s3:DeleteBucketWebsite", Bucket),
        "GetObject" | "HeadObject" => ("s3:GetObject", Object),
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            ("s3:PutObject", Object)
        }
        "CopyObject" | "UploadPartCopy" => ("s3:PutObject", Object),
        "AbortMultipartUpload" => ("s3:AbortMultipartUpload", Object),
        "ListParts" => ("s3:ListMultipartUploadParts", Object),
        "DeleteObject" => ("s3:DeleteObject", Object),
        "DeleteObjects" => ("s3:DeleteObject", BucketThenInput),
        "GetObjectTagging" => ("s3:GetObjectTagging", Object),
        "PutObjectTagging" => ("s3:PutObjectTagging", Object),
        "DeleteObjectTagging" => ("s3:DeleteObjectTagging", Object),
        _ => return None,
    })
}

/// A bucket as the access checks read it: its row and its parsed policy. Cached under the
/// store's bucket generation (`crate::cache`), so a policy put or removed counts at once.
#[derive(Debug)]
pub(super) struct KnownBucket {
    pub row: BucketRow,
    pub policy: Option<api::BucketPolicy>,
}

impl Storage {
    /// The bucket named `name`, from the cache or the database; `None`: no such bucket (not
    /// cached, so a bucket made later is found).
    pub(super) async fn known_bucket(&self, name: &str) -> Result<Option<Arc<KnownBucket>>, Error> {
        let generation = self.store.bucket_generation();
        if let Some(known) = self.buckets.get(name, generation) {
            return Ok(Some(known));
        }
        let Some(row) = self.store.bucket_get(name).await? else {
            return Ok(None);
        };
        let policy = Self::bucket_policy_of(&row)?;
        let known = Arc::new(KnownBucket { row, policy });
        self.buckets.put(name, generation, known.clone());
        Ok(Some(known))
    }

    /// May `caller` do `action` on `resource` of `bucket`?
    pub(super) async fn decide(
        &self,
        caller: Option<&Principal>,
        bucket: &KnownBucket,
        action: &str,
        resource: &str,
    ) -> Result<(), Denied> {
        let row = &bucket.row;
        let user_nrn = caller.map(|p| p.user_nrn());
        let who = match (caller, &user_nrn) {
            (Some(p), Some(nrn)) => Caller::User {
                account_id: &p.account.id,
                user_nrn: nrn,
            },
            _ => Caller::Anonymous,
        };
        let name = user_nrn.as_deref().unwrap_or("an anonymous caller");
        let from_bucket = match &bucket.policy {
            Some(policy) => policy.evaluate(who, action, resource),
            None => Decision::ImplicitDeny,
        };
        let owner = caller.is_some_and(|p| p.account.id == row.account_id);
        // The owner's root may always mend the bucket policy: a Deny for everyone must not lock
        // the bucket for good (AWS keeps the same way out).
        let mending =
            owner && caller.is_some_and(|p| p.user.is_root) && action.ends_with("BucketPolicy");
        if let Decision::ExplicitDeny { sid, .. } = &from_bucket
            && !mending
        {
            return Err(Denied::Refused(format!(
                "{name} may not {action} on {resource}: explicitly denied by the bucket policy{}",
                sid.as_ref()
                    .map(|s| format!(" (statement {s})"))
                    .unwrap_or_default()
            )));
        }
        let bucket_allows = matches!(from_bucket, Decision::Allow { .. });
        let Some(p) = caller else {
            return if bucket_allows {
                Ok(())
            } else {
                Err(Denied::Refused(format!(
                    "anonymous requests may not {action} on {resource}: the bucket policy does not allow it"
                )))
            };
        };
        let own_side = self.iam.identity_decision(p, action, resource).await?;
        if let Decision::ExplicitDeny { policy, .. } = &own_side {
            return Err(Denied::Refused(format!(
                "{name} may not {action} on {resource}: explicitly denied by policy '{policy}'"
            )));
        }
        let identity_allows = matches!(own_side, Decision::Allow { .. });
        let allowed = if owner {
            identity_allows || bucket_allows
        } else {
            identity_allows && bucket_allows
        };
        if allowed {
            return Ok(());
        }
        Err(Denied::Refused(if owner {
            format!(
                "{name} may not {action} on {resource}: no policy of the user, its groups or the bucket allows it"
            )
        } else if identity_allows {
            format!(
                "{name} may not {action} on {resource}: the bucket belongs to another account and its policy does not grant this"
            )
        } else {
            format!(
                "{name} may not {action} on {resource}: the bucket belongs to another account; access needs both its bucket policy and your own policies to allow it"
            )
        }))
    }

    /// Looks the bucket up and decides; a bucket that does not exist is `NoSuchBucket` for
    /// everyone, as S3 answers (its existence is all anyone learns).
    pub(super) async fn decide_on(
        &self,
        caller: Option<&Principal>,
        bucket: &str,
        action: &str,
        resource: &str,
    ) -> Result<Arc<KnownBucket>, Denied> {
        let known = self
            .known_bucket(bucket)
            .await?
            .ok_or_else(|| Denied::NoSuchBucket(bucket.to_owned()))?;
        self.decide(caller, &known, action, resource).await?;
        Ok(known)
    }
}

/// The `s3s` hooks: signing secrets and the access check of every request.
pub(super) struct Gatekeeper(pub Storage);

#[async_trait::async_trait]
impl S3Auth for Gatekeeper {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.iam.access_key_signing_secret(access_key).await {
            Ok(SigningKey::Active(secret)) => Ok(SecretKey::from(secret)),
            Ok(SigningKey::Unknown) => Err(s3_error!(
                InvalidAccessKeyId,
                "the access key id you provided does not exist in Nuvem"
            )),
            // AWS answers a disabled key with the same code as an unknown one.
            Ok(SigningKey::Inactive) => Err(s3_error!(
                InvalidAccessKeyId,
                "the access key {access_key} is disabled (Inactive)"
            )),
            Err(e) => Err(s3_error_of(e)),
        }
    }
}

fn caller_of<T>(req: &S3Request<T>) -> Option<&Principal> {
    req.extensions.get::<S3Caller>().and_then(|c| c.0.as_ref())
}

#[async_trait::async_trait]
impl S3Access for Gatekeeper {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let storage = &self.0;
        let op = cx.s3_op().name();
        let Some((action, target)) = rule(op) else {
            return Err(s3_error!(
                NotImplemented,
                "Nuvem's S3 endpoint does not offer {op}"
            ));
        };
        let caller = match cx.credentials() {
            Some(c) => Some(
                storage
                    .iam
                    .principal_for_access_key(&c.access_key)
                    .await
                    .map_err(s3_error_of)?,
            ),
            None => None,
        };
        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        match (target, bucket.as_deref()) {
            (Target::Service, _) | (Target::NewBucket, _) => {
                let Some(p) = &caller else {
                    return Err(s3_error!(
                        AccessDenied,
                        "{op} needs a signed request (an access key)"
                    ));
                };
                let resource = match bucket.as_deref() {
                    Some(b) if target == Target::NewBucket => api::bucket_nrn(b),
                    _ => api::bucket_nrn("*"),
                };
                match storage.iam.identity_decision(p, action, &resource).await {
                    Ok(Decision::Allow { .. }) => {}
                    Ok(_) => {
                        return Err(s3_error!(
                            AccessDenied,
                            "{} may not {action} on {resource}: no policy of the user or its groups allows it",
                            p.user_nrn()
                        ));
                    }
                    Err(e) => return Err(s3_error_of(e)),
                }
            }
            (Target::Bucket, Some(b)) => {
                storage
                    .decide_on(caller.as_ref(), b, action, &api::bucket_nrn(b))
                    .await?;
            }
            // A batch delete is authorized key by key once its body is read (`delete_objects`).
            (Target::BucketThenInput, Some(b)) => {
                if storage
                    .known_bucket(b)
                    .await
                    .map_err(s3_error_of)?
                    .is_none()
                {
                    return Err(Denied::NoSuchBucket(b.to_owned()).into());
                }
            }
            (Target::Object, Some(b)) => {
                let k = key.as_deref().unwrap_or_default();
                storage
                    .decide_on(caller.as_ref(), b, action, &api::object_nrn(b, k))
                    .await?;
            }
            (_, None) => return Err(s3_error!(InvalidRequest, "{op} needs a bucket")),
        }
        cx.extensions_mut().insert(S3Caller(caller));
        Ok(())
    }

    /// Each key of a batch delete is decided on its own, as AWS does: the keys the caller may
    /// not delete are taken out of the request and reported in the answer's `Errors` list
    /// (`gateway::delete_objects`); the others are deleted.
    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let bucket = req.input.bucket.clone();
        let known = self
            .0
            .known_bucket(&bucket)
            .await
            .map_err(s3_error_of)?
            .ok_or_else(|| S3Error::from(Denied::NoSuchBucket(bucket.clone())))?;
        let caller = caller_of(req).cloned();
        let mut refused = Vec::new();
        let mut allowed = Vec::new();
        for object in std::mem::take(&mut req.input.delete.objects) {
            let resource = api::object_nrn(&bucket, &object.key);
            match self
                .0
                .decide(caller.as_ref(), &known, "s3:DeleteObject", &resource)
                .await
            {
                Ok(()) => allowed.push(object),
                Err(Denied::Refused(message)) => refused.push(s3s::dto::Error {
                    code: Some(S3ErrorCode::AccessDenied.as_str().to_owned()),
                    key: Some(object.key),
                    message: Some(message),
                    version_id: object.version_id,
                }),
                Err(other) => return Err(other.into()),
            }
        }
        req.input.delete.objects = allowed;
        req.extensions.insert(RefusedKeys(refused));
        Ok(())
    }

    async fn copy_object(&self, req: &mut S3Request<s3s::dto::CopyObjectInput>) -> S3Result<()> {
        let source = req.input.copy_source.clone();
        self.source_readable(caller_of(req), &source).await
    }

    async fn upload_part_copy(&self, req: &mut S3Request<UploadPartCopyInput>) -> S3Result<()> {
        let source = req.input.copy_source.clone();
        self.source_readable(caller_of(req), &source).await
    }
}

impl Gatekeeper {
    /// A copy reads its source: `s3:GetObject` on it, by the same rules as a GET.
    async fn source_readable(
        &self,
        caller: Option<&Principal>,
        source: &CopySource,
    ) -> S3Result<()> {
        let CopySource::Bucket { bucket, key, .. } = source else {
            return Err(s3_error!(
                NotImplemented,
                "copy sources must be bucket/key (access points are not offered)"
            ));
        };
        self.0
            .decide_on(
                caller,
                bucket,
                "s3:GetObject",
                &api::object_nrn(bucket, key),
            )
            .await?;
        Ok(())
    }
}
