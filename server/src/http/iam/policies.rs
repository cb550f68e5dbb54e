//! Managed policies.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use nuvem_api::ListParams;
use nuvem_api::iam::*;

use super::{Errors, no_content};
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::{Json, Path, Query};

/// Create a managed policy from a JSON document.
#[utoipa::path(tag = "iam", request_body = CreatePolicyRequest,
    responses((status = 201, body = Policy), Errors), security(("bearer" = [])))]
#[post("/v1/iam/policies")]
pub async fn policy_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreatePolicyRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.iam.policy_create(&caller, body.into_inner()).await?))
}

/// List the account's policies.
#[utoipa::path(tag = "iam", params(ListParams),
    responses((status = 200, body = PolicyList), Errors), security(("bearer" = [])))]
#[get("/v1/iam/policies")]
pub async fn policy_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    params: Query<ListParams>,
) -> Result<Json<PolicyList>> {
    Ok(Json(
        nuvem.iam.policy_list(&caller, params.into_inner()).await?,
    ))
}

/// Describe a policy with its document.
#[utoipa::path(tag = "iam", params(("policy" = String, Path, description = "Policy name")),
    responses((status = 200, body = Policy), Errors), security(("bearer" = [])))]
#[get("/v1/iam/policies/{policy}")]
pub async fn policy_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Policy>> {
    Ok(Json(nuvem.iam.policy_get(&caller, &path).await?))
}

/// Replace a policy's document (and optionally its description).
#[utoipa::path(tag = "iam", params(("policy" = String, Path, description = "Policy name")),
    request_body = UpdatePolicyRequest, responses((status = 200, body = Policy), Errors),
    security(("bearer" = [])))]
#[put("/v1/iam/policies/{policy}")]
pub async fn policy_update(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<UpdatePolicyRequest>,
) -> Result<Json<Policy>> {
    Ok(Json(
        nuvem
            .iam
            .policy_update(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Delete a policy; refused while it is attached to anyone.
#[utoipa::path(tag = "iam", params(("policy" = String, Path, description = "Policy name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/policies/{policy}")]
pub async fn policy_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.iam.policy_delete(&caller, &path).await?;
    Ok(no_content())
}
