//! Object storage's management handlers (`/v1/s3/...`): parse, call the service, shape the
//! response. Tools and SDKs reach objects through the S3 endpoint; the object calls here
//! (`/objects`, `/object`, `/presign`) are the console's object browser, under the same IAM
//! actions as the S3 requests they stand for.

use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put};
use futures_util::StreamExt;
use nuvem_api::s3::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::{Error, Result};
use crate::http::extract::{Json, Path, Query};
use crate::storage::{ObjectUpload, upload_channel};

/// Where the S3 endpoint is, for `aws --endpoint-url`, boto3 and `aws-sdk-s3`.
#[utoipa::path(tag = "s3", responses((status = 200, body = StorageInfo), Errors),
    security(("bearer" = [])))]
#[get("/v1/s3")]
pub async fn storage_info(_caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<StorageInfo>> {
    Ok(Json(nuvem.storage()?.info()))
}

/// Create a bucket: a global name, owned by your account.
#[utoipa::path(tag = "s3", request_body = CreateBucketRequest,
    responses((status = 201, body = Bucket), Errors), security(("bearer" = [])))]
#[post("/v1/s3/buckets")]
pub async fn bucket_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateBucketRequest>,
) -> Result<HttpResponse> {
    let bucket = nuvem
        .storage()?
        .bucket_create(&caller, body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(bucket))
}

/// List your account's buckets with their size and object count.
#[utoipa::path(tag = "s3", responses((status = 200, body = BucketList), Errors),
    security(("bearer" = [])))]
#[get("/v1/s3/buckets")]
pub async fn bucket_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<BucketList>> {
    Ok(Json(nuvem.storage()?.bucket_list(&caller).await?))
}

/// Describe a bucket: owner, size, object count, whether it is public.
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 200, body = Bucket), Errors), security(("bearer" = [])))]
#[get("/v1/s3/buckets/{bucket}")]
pub async fn bucket_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Bucket>> {
    Ok(Json(nuvem.storage()?.bucket_get(&caller, &path).await?))
}

/// Delete an empty bucket (refused while it holds objects).
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/s3/buckets/{bucket}")]
pub async fn bucket_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.storage()?.bucket_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The bucket's policy (the IAM grammar plus `Principal`).
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 200, body = BucketPolicyBody), Errors), security(("bearer" = [])))]
#[get("/v1/s3/buckets/{bucket}/policy")]
pub async fn bucket_policy_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<BucketPolicyBody>> {
    Ok(Json(
        nuvem.storage()?.bucket_policy_get(&caller, &path).await?,
    ))
}

/// Set the bucket's policy; a public bucket is a policy allowing `s3:GetObject` to `"*"`.
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    request_body = BucketPolicyBody,
    responses((status = 200, body = BucketPolicyBody), Errors), security(("bearer" = [])))]
#[put("/v1/s3/buckets/{bucket}/policy")]
pub async fn bucket_policy_put(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<BucketPolicyBody>,
) -> Result<Json<BucketPolicyBody>> {
    Ok(Json(
        nuvem
            .storage()?
            .bucket_policy_put(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Remove the bucket's policy.
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/s3/buckets/{bucket}/policy")]
pub async fn bucket_policy_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem
        .storage()?
        .bucket_policy_delete(&caller, &path)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The bucket's static-website settings (`NotFound` when it has none).
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 200, body = BucketWebsite), Errors), security(("bearer" = [])))]
#[get("/v1/s3/buckets/{bucket}/website")]
pub async fn bucket_website_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<BucketWebsite>> {
    Ok(Json(
        nuvem.storage()?.bucket_website_get(&caller, &path).await?,
    ))
}

/// Host a static website from the bucket: its index and error documents. It is served
/// anonymously on the website endpoint while the bucket policy allows public reads.
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    request_body = BucketWebsite,
    responses((status = 200, body = BucketWebsite), Errors), security(("bearer" = [])))]
#[put("/v1/s3/buckets/{bucket}/website")]
pub async fn bucket_website_put(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<BucketWebsite>,
) -> Result<Json<BucketWebsite>> {
    Ok(Json(
        nuvem
            .storage()?
            .bucket_website_put(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Stop hosting the bucket's website (its objects stay).
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/s3/buckets/{bucket}/website")]
pub async fn bucket_website_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem
        .storage()?
        .bucket_website_delete(&caller, &path)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your buckets' usage: size now, requests by price class and bytes out since the server started.
#[utoipa::path(tag = "s3", responses((status = 200, body = StorageUsage), Errors),
    security(("bearer" = [])))]
#[get("/v1/s3/usage")]
pub async fn storage_usage(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<StorageUsage>> {
    Ok(Json(nuvem.storage()?.usage(&caller).await?))
}

/// One folder of the bucket: its objects (key, size, last modified) and sub-folders, as S3's
/// ListObjectsV2 with delimiter `/`; `next_continuation` pages on. Needs `s3:ListBucket`.
#[utoipa::path(tag = "s3",
    params(("bucket" = String, Path, description = "Bucket name"), ObjectListParams),
    responses((status = 200, body = ObjectList), Errors), security(("bearer" = [])))]
#[get("/v1/s3/buckets/{bucket}/objects")]
pub async fn object_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    params: Query<ObjectListParams>,
) -> Result<Json<ObjectList>> {
    Ok(Json(
        nuvem
            .storage()?
            .object_list(&caller, &path, params.into_inner())
            .await?,
    ))
}

/// The `Content-Length` of an upload: the engine is told the size before the bytes stream. A
/// request with neither it nor `Transfer-Encoding` has an empty body (HTTP/1.1), as a folder's
/// marker object has; a chunked one is refused, its size being unknown.
fn upload_length(req: &HttpRequest) -> Result<u64> {
    let headers = req.headers();
    match headers.get(header::CONTENT_LENGTH) {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Error::invalid("the Content-Length header is not a number of bytes")),
        None if headers.contains_key(header::TRANSFER_ENCODING) => Err(Error::invalid(
            "an upload needs a Content-Length header with the object's size (MissingContentLength); chunked bodies are not taken",
        )),
        None => Ok(0),
    }
}

/// Upload an object: the body is its bytes, streamed to the engine (at most 5 GiB; larger
/// objects go through the S3 endpoint as multipart uploads). Needs `s3:PutObject`.
#[utoipa::path(tag = "s3",
    params(("bucket" = String, Path, description = "Bucket name"), ObjectKeyParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ObjectSummary), Errors), security(("bearer" = [])))]
#[put("/v1/s3/buckets/{bucket}/object")]
pub async fn object_upload(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    params: Query<ObjectKeyParams>,
    req: HttpRequest,
    mut body: Payload,
) -> Result<Json<ObjectSummary>> {
    let storage = nuvem.storage()?.clone();
    let length = upload_length(&req)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (chunks, upload_body) = upload_channel(length);
    // The request's chunks are read only as fast as the engine takes them (the channel is
    // small); when the engine stops reading (refused, failed), so does this. It says whether
    // the client's body broke off, which then explains why the engine refused the upload.
    let pump = async move {
        while let Some(chunk) = body.next().await {
            let broken = chunk.is_err();
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            if chunks.send(chunk).await.is_err() || broken {
                return broken;
            }
        }
        false
    };
    let upload = ObjectUpload {
        key: params.into_inner().key,
        content_type,
        body: upload_body,
    };
    let (broken, stored) = futures_util::join!(pump, storage.object_put(&caller, &path, upload));
    if broken && stored.is_err() {
        return Err(Error::invalid(format!(
            "the request body ended before its Content-Length of {length} bytes: nothing was stored"
        )));
    }
    Ok(Json(stored?))
}

/// Download an object: its bytes streamed from the engine, as an attachment named after the
/// key's last segment. Needs `s3:GetObject`.
#[utoipa::path(tag = "s3",
    params(("bucket" = String, Path, description = "Bucket name"), ObjectKeyParams),
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream",
        description = "The object's bytes"), Errors),
    security(("bearer" = [])))]
#[get("/v1/s3/buckets/{bucket}/object")]
pub async fn object_download(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    params: Query<ObjectKeyParams>,
) -> Result<HttpResponse> {
    let object = nuvem
        .storage()?
        .object_get(&caller, &path, params.key.as_deref())
        .await?;
    let mut resp = HttpResponse::Ok();
    resp.content_type(object.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, object.content_disposition()))
        .no_chunking(object.content_length);
    if let Some(etag) = &object.etag {
        resp.insert_header((header::ETAG, etag.as_str()));
    }
    Ok(resp.streaming(object.into_stream()))
}

/// Delete an object (a key that does not exist is `NotFound`). Needs `s3:DeleteObject`.
#[utoipa::path(tag = "s3",
    params(("bucket" = String, Path, description = "Bucket name"), ObjectKeyParams),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/s3/buckets/{bucket}/object")]
pub async fn object_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    params: Query<ObjectKeyParams>,
) -> Result<HttpResponse> {
    nuvem
        .storage()?
        .object_delete(&caller, &path, params.key.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A presigned URL of the S3 endpoint for one object, valid 1 s to 7 days: anyone holding it
/// may GET (or PUT) that object until it expires. It is signed with one of your own access keys
/// (the session's, else your newest active one), so it grants only what you may do yourself.
#[utoipa::path(tag = "s3", params(("bucket" = String, Path, description = "Bucket name")),
    request_body = PresignRequest,
    responses((status = 200, body = PresignedUrl), Errors), security(("bearer" = [])))]
#[post("/v1/s3/buckets/{bucket}/presign")]
pub async fn object_presign(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<PresignRequest>,
) -> Result<Json<PresignedUrl>> {
    Ok(Json(
        nuvem
            .storage()?
            .object_presign(&caller, &path, body.into_inner())
            .await?,
    ))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(storage_info);
    cfg.service(bucket_create);
    cfg.service(bucket_list);
    cfg.service(bucket_get);
    cfg.service(bucket_delete);
    cfg.service(bucket_policy_get);
    cfg.service(bucket_policy_put);
    cfg.service(bucket_policy_delete);
    cfg.service(bucket_website_get);
    cfg.service(bucket_website_put);
    cfg.service(bucket_website_delete);
    cfg.service(storage_usage);
    cfg.service(object_list);
    cfg.service(object_upload);
    cfg.service(object_download);
    cfg.service(object_delete);
    cfg.service(object_presign);
}
