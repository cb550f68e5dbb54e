//! Object storage's management handlers (`/v1/s3/...`): parse, call the service, shape the
//! response. The objects themselves go through the S3 endpoint, not here.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use nuvem_api::s3::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::extract::{Json, Path};

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
}
