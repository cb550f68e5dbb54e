//! A bucket's objects as the management API offers them to the console: one folder's listing,
//! upload, download, delete, and presigned URLs. Each call is authorized with the IAM action of
//! the S3 request it stands for, on the same resource, by the same decision as the S3 endpoint
//! (`access::decide_on`: identity policies together with the bucket policy, so another account
//! gets exactly what the bucket policy grants it), and counted in the same price class
//! (`meter`). Bodies stream both ways; neither is ever held whole in memory.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use nuvem_api::s3 as api;

use super::Storage;
use super::buckets::{BucketError, engine_error};
use super::meter::RequestClass;
use crate::error::{Error, Result};
use crate::iam::Principal;

/// Chunks of an upload held between the HTTP request and the engine at most: the request is
/// read no faster than the engine takes it.
const UPLOAD_CHUNKS_IN_FLIGHT: usize = 4;

/// Entries of a listing page when the caller names no limit (S3's own default and maximum).
const MAX_LIST_PAGE: u32 = 1000;

/// The sending half of an upload's body: the HTTP handler feeds the request's chunks into it.
pub type UploadSender = tokio::sync::mpsc::Sender<std::io::Result<Bytes>>;

/// The body of an upload as the engine's client reads it. The request's own stream belongs to
/// its HTTP worker's thread, and the engine's client needs a body it may move between threads:
/// the chunks pass through a small channel instead.
pub struct UploadBody {
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    length: u64,
}

/// A channel for an upload of `length` bytes.
pub fn upload_channel(length: u64) -> (UploadSender, UploadBody) {
    let (tx, rx) = tokio::sync::mpsc::channel(UPLOAD_CHUNKS_IN_FLIGHT);
    (tx, UploadBody { chunks: rx, length })
}

impl http_body::Body for UploadBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.chunks
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| c.map(http_body::Frame::data)))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.length)
    }
}

/// An upload: where it goes and what it is.
pub struct ObjectUpload {
    pub key: Option<String>,
    /// The request's `Content-Type`; guessed from the key's extension when absent.
    pub content_type: Option<String>,
    pub body: UploadBody,
}

/// An object on its way from the engine.
pub struct ObjectDownload {
    pub key: String,
    pub content_type: String,
    pub content_length: u64,
    pub etag: Option<String>,
    body: ByteStream,
}

impl ObjectDownload {
    /// The object's bytes, chunk by chunk as the engine sends them.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
        futures_util::stream::unfold(self.body, |mut body| async move {
            let chunk = body.next().await?;
            Some((chunk.map_err(std::io::Error::other), body))
        })
    }

    /// `attachment; filename="…"`: the last segment of the key, with an RFC 5987 UTF-8 form for
    /// names that are not plain ASCII (browsers save the file under that name).
    pub fn content_disposition(&self) -> String {
        let name = self.key.rsplit('/').next().unwrap_or(&self.key);
        let plain: String = name
            .chars()
            .map(|c| {
                if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let encoded = percent_encoding::utf8_percent_encode(name, FILENAME);
        format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
    }
}

/// What RFC 5987 lets stand unencoded in `filename*` besides letters and digits.
const FILENAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// The key of a request, which the query names (`?key=`), checked as S3 checks it.
fn required_key(key: Option<&str>) -> Result<&str> {
    let key = key.ok_or_else(|| {
        Error::invalid("name the object with the query parameter `key` (such as ?key=docs/a.txt)")
    })?;
    api::check_object_key(key).map_err(Error::InvalidRequest)?;
    Ok(key)
}

/// What the engine says of a request on one object: a missing object is a 404 with its name.
fn object_error<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    bucket: &str,
    key: &str,
) -> Error {
    let missing = e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
        || matches!(e.code(), Some("NoSuchKey" | "NotFound"));
    if missing {
        return Error::NotFound(format!(
            "the object '{key}' does not exist in bucket '{bucket}'"
        ));
    }
    engine_error(e).into()
}

fn timestamp(t: Option<&aws_sdk_s3::primitives::DateTime>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or_default()
}

impl Storage {
    /// Decides `action` on `resource` of bucket `name` for `p`, as the S3 endpoint does.
    async fn object_authorized(
        &self,
        p: &Principal,
        name: &str,
        action: &str,
        resource: &str,
    ) -> Result<()> {
        api::check_bucket_name(name).map_err(Error::InvalidRequest)?;
        self.decide_on(Some(p), name, action, resource)
            .await
            .map_err(BucketError::from)?;
        Ok(())
    }

    /// One folder of a bucket: the objects directly in `prefix` and its sub-folders (the common
    /// prefixes up to the next `/`), as ListObjectsV2 with delimiter `/` (`s3:ListBucket`).
    pub async fn object_list(
        &self,
        p: &Principal,
        bucket: &str,
        params: api::ObjectListParams,
    ) -> Result<api::ObjectList> {
        let prefix = params.prefix.unwrap_or_default();
        api::check_prefix(&prefix).map_err(Error::InvalidRequest)?;
        let limit = params.limit.unwrap_or(MAX_LIST_PAGE);
        if !(1..=MAX_LIST_PAGE).contains(&limit) {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_LIST_PAGE}, not {limit}"
            )));
        }
        self.object_authorized(p, bucket, "s3:ListBucket", &api::bucket_nrn(bucket))
            .await?;
        let answer = self
            .engine
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .delimiter(api::FOLDER_DELIMITER)
            .max_keys(limit as i32)
            .set_continuation_token(params.continuation.clone())
            .send()
            .await;
        self.meter.request(bucket, RequestClass::Tier1, 0);
        let page = match answer {
            Ok(page) => page,
            Err(e) if params.continuation.is_some() && e.code() == Some("InvalidArgument") => {
                return Err(Error::invalid(
                    "the continuation token is not one this listing gave: start again without it",
                ));
            }
            Err(e) => return Err(engine_error(&e).into()),
        };
        Ok(api::ObjectList {
            bucket: bucket.to_owned(),
            objects: page
                .contents()
                .iter()
                .map(|o| api::ObjectSummary {
                    key: o.key().unwrap_or_default().to_owned(),
                    size_bytes: o.size().unwrap_or(0).max(0) as u64,
                    last_modified: timestamp(o.last_modified()),
                    etag: o.e_tag().unwrap_or_default().to_owned(),
                })
                .collect(),
            common_prefixes: page
                .common_prefixes()
                .iter()
                .filter_map(|c| c.prefix().map(str::to_owned))
                .collect(),
            next_continuation: page.next_continuation_token().map(str::to_owned),
            prefix,
        })
    }

    /// Stores an object from a streamed body, as PutObject (`s3:PutObject`): the object appears
    /// whole once the body has arrived, or not at all.
    pub async fn object_put(
        &self,
        p: &Principal,
        bucket: &str,
        upload: ObjectUpload,
    ) -> Result<api::ObjectSummary> {
        let key = required_key(upload.key.as_deref())?;
        if upload.body.length > api::MAX_UPLOAD_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "the object has {} bytes; one upload takes at most {} (5 GiB): larger objects go through the S3 endpoint as multipart uploads (aws s3 cp, cloudctl s3 cp)",
                upload.body.length,
                api::MAX_UPLOAD_BYTES
            )));
        }
        self.object_authorized(p, bucket, "s3:PutObject", &api::object_nrn(bucket, key))
            .await?;
        let content_type = upload
            .content_type
            .filter(|t| !t.is_empty())
            .or_else(|| mime_guess::from_path(key).first_raw().map(str::to_owned))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let length = upload.body.length;
        let answer = self
            .engine
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length as i64)
            .body(ByteStream::from_body_1_x(upload.body))
            .send()
            .await;
        self.meter.request(bucket, RequestClass::Tier1, 0);
        let out = answer.map_err(|e| object_error(&e, bucket, key))?;
        Ok(api::ObjectSummary {
            key: key.to_owned(),
            size_bytes: length,
            last_modified: Utc::now(),
            etag: out.e_tag().unwrap_or_default().to_owned(),
        })
    }

    /// An object's bytes, as GetObject (`s3:GetObject`), counted as bytes out.
    pub async fn object_get(
        &self,
        p: &Principal,
        bucket: &str,
        key: Option<&str>,
    ) -> Result<ObjectDownload> {
        let key = required_key(key)?;
        self.object_authorized(p, bucket, "s3:GetObject", &api::object_nrn(bucket, key))
            .await?;
        let answer = self
            .engine
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await;
        let sent = answer
            .as_ref()
            .ok()
            .and_then(|o| o.content_length())
            .unwrap_or(0)
            .max(0) as u64;
        self.meter.request(bucket, RequestClass::Tier2, sent);
        let out = answer.map_err(|e| object_error(&e, bucket, key))?;
        Ok(ObjectDownload {
            key: key.to_owned(),
            content_type: out
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned(),
            content_length: sent,
            etag: out.e_tag().map(str::to_owned),
            body: out.body,
        })
    }

    /// Whether `key` exists (a HEAD of the engine's own: checks before a delete or a presign,
    /// which S3 itself would not make, so they are not counted as requests).
    async fn object_exists(&self, bucket: &str, key: &str) -> Result<()> {
        self.engine
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map(drop)
            .map_err(|e| object_error(&e, bucket, key))
    }

    /// Deletes an object, as DeleteObject (`s3:DeleteObject`, free); unlike S3, a key that does
    /// not exist is a 404, so that a mistyped key is not taken for a deletion.
    pub async fn object_delete(
        &self,
        p: &Principal,
        bucket: &str,
        key: Option<&str>,
    ) -> Result<()> {
        let key = required_key(key)?;
        self.object_authorized(p, bucket, "s3:DeleteObject", &api::object_nrn(bucket, key))
            .await?;
        self.object_exists(bucket, key).await?;
        let answer = self
            .engine
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await;
        self.meter.request(bucket, RequestClass::Free, 0);
        answer.map(drop).map_err(|e| object_error(&e, bucket, key))
    }

    /// A URL of the S3 endpoint that GETs (or PUTs) one object without credentials until it
    /// expires: SigV4 in the query string, signed with one of the caller's own access keys
    /// (`Iam::presigning_key`), so it allows exactly what the caller may do. The caller must
    /// hold the right now (`s3:GetObject` or `s3:PutObject`), and a GET's object must exist.
    pub async fn object_presign(
        &self,
        p: &Principal,
        bucket: &str,
        req: api::PresignRequest,
    ) -> Result<api::PresignedUrl> {
        let key = required_key(Some(&req.key))?;
        let method = req.method.to_ascii_uppercase();
        let action = match method.as_str() {
            "GET" => "s3:GetObject",
            "PUT" => "s3:PutObject",
            other => {
                return Err(Error::invalid(format!(
                    "method must be GET (download) or PUT (upload), not {other:?}"
                )));
            }
        };
        if !(1..=api::MAX_PRESIGN_SECS).contains(&req.expires_secs) {
            return Err(Error::invalid(format!(
                "expires_secs must be 1 to {} (7 days, as S3 allows), not {}",
                api::MAX_PRESIGN_SECS,
                req.expires_secs
            )));
        }
        self.object_authorized(p, bucket, action, &api::object_nrn(bucket, key))
            .await?;
        if method == "GET" {
            self.object_exists(bucket, key).await?;
        }
        let Some(endpoint) = self.endpoint_url.get().cloned() else {
            return Err(Error::ServiceUnavailable {
                message: "the S3 endpoint is not listening yet".into(),
                retry_after_seconds: 1,
            });
        };
        let Some((key_id, secret)) = self.iam.presigning_key(p).await? else {
            return Err(Error::DependencyViolation(format!(
                "a presigned URL is signed with one of your own access keys, and {} has no active one{}: create one (IAM, Users, {}, Create access key; or cloudctl iam access-key create {}) and ask again",
                p.user_nrn(),
                if p.assumed_by.is_some() {
                    " in this assumed-account session (sign in to the account itself)"
                } else {
                    ""
                },
                p.user.name,
                p.user.name
            )));
        };
        let signer = super::EngineConfig {
            endpoint,
            region: self.region.clone(),
            access_key: key_id.clone(),
            secret_key: secret,
        }
        .client();
        let expires_in = Duration::from_secs(req.expires_secs);
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(Error::internal)?;
        let signed = if method == "GET" {
            signer
                .get_object()
                .bucket(bucket)
                .key(key)
                .presigned(config)
                .await
                .map_err(Error::internal)?
        } else {
            signer
                .put_object()
                .bucket(bucket)
                .key(key)
                .presigned(config)
                .await
                .map_err(Error::internal)?
        };
        Ok(api::PresignedUrl {
            url: signed.uri().to_owned(),
            expires_at: Utc::now()
                + chrono::Duration::seconds(i64::try_from(req.expires_secs).unwrap_or(i64::MAX)),
            access_key_id: key_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn download(key: &str) -> ObjectDownload {
        ObjectDownload {
            key: key.to_owned(),
            content_type: "text/plain".into(),
            content_length: 0,
            etag: None,
            body: ByteStream::from_static(b""),
        }
    }

    #[test]
    fn downloads_are_named_after_the_last_segment_of_the_key() {
        assert_eq!(
            download("docs/2026/report.txt").content_disposition(),
            "attachment; filename=\"report.txt\"; filename*=UTF-8''report.txt"
        );
        let odd = download("a/relatório \"final\".pdf").content_disposition();
        assert!(
            odd.starts_with("attachment; filename=\"relat_rio _final_.pdf\""),
            "{odd}"
        );
        assert!(
            odd.contains("filename*=UTF-8''relat%C3%B3rio%20%22final%22.pdf"),
            "{odd}"
        );
    }

    #[test]
    fn a_request_names_its_key() {
        assert!(
            required_key(None)
                .unwrap_err()
                .to_string()
                .contains("?key=")
        );
        assert!(required_key(Some("")).is_err());
        assert_eq!(required_key(Some("a/b")).unwrap(), "a/b");
    }
}
