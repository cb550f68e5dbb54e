//! Access keys of users.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use nuvem_api::iam::*;

use super::{Errors, no_content};
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::{Json, Path};

/// Create an access key for a user. The secret is in this answer only.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 201, body = AccessKeyCreated), Errors), security(("bearer" = [])))]
#[post("/v1/iam/users/{user}/access-keys")]
pub async fn access_key_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.iam.access_key_create(&caller, &path).await?))
}

/// List a user's access keys (ids, status, last use; never the secrets).
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 200, body = AccessKeyList), Errors), security(("bearer" = [])))]
#[get("/v1/iam/users/{user}/access-keys")]
pub async fn access_key_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<AccessKeyList>> {
    Ok(Json(nuvem.iam.access_key_list(&caller, &path).await?))
}

/// Enable or disable an access key.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name"),
    ("key" = String, Path, description = "Access key id")),
    request_body = UpdateAccessKeyRequest, responses((status = 200, body = AccessKey), Errors),
    security(("bearer" = [])))]
#[patch("/v1/iam/users/{user}/access-keys/{key}")]
pub async fn access_key_update(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
    body: Json<UpdateAccessKeyRequest>,
) -> Result<Json<AccessKey>> {
    let (user, key) = path.into_inner();
    Ok(Json(
        nuvem
            .iam
            .access_key_update(&caller, &user, &key, body.into_inner())
            .await?,
    ))
}

/// Delete an access key.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name"),
    ("key" = String, Path, description = "Access key id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/users/{user}/access-keys/{key}")]
pub async fn access_key_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (user, key) = path.into_inner();
    nuvem.iam.access_key_delete(&caller, &user, &key).await?;
    Ok(no_content())
}
