//! Groups, their members and attached policies.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use nuvem_api::ListParams;
use nuvem_api::iam::*;

use super::{Errors, no_content};
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::{Json, Path, Query};
use crate::store::PrincipalKind;

/// Create a group.
#[utoipa::path(tag = "iam", request_body = CreateGroupRequest,
    responses((status = 201, body = Group), Errors), security(("bearer" = [])))]
#[post("/v1/iam/groups")]
pub async fn group_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateGroupRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.iam.group_create(&caller, body.into_inner()).await?))
}

/// List the account's groups.
#[utoipa::path(tag = "iam", params(ListParams),
    responses((status = 200, body = GroupList), Errors), security(("bearer" = [])))]
#[get("/v1/iam/groups")]
pub async fn group_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    params: Query<ListParams>,
) -> Result<Json<GroupList>> {
    Ok(Json(
        nuvem.iam.group_list(&caller, params.into_inner()).await?,
    ))
}

/// Describe a group with its members and policies.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name")),
    responses((status = 200, body = GroupDetail), Errors), security(("bearer" = [])))]
#[get("/v1/iam/groups/{group}")]
pub async fn group_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<GroupDetail>> {
    Ok(Json(nuvem.iam.group_get(&caller, &path).await?))
}

/// Delete a group (its users remain).
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/groups/{group}")]
pub async fn group_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.iam.group_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Add a user to a group.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name"),
    ("user" = String, Path, description = "User name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[put("/v1/iam/groups/{group}/members/{user}")]
pub async fn group_member_add(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (group, user) = path.into_inner();
    nuvem.iam.group_member_add(&caller, &group, &user).await?;
    Ok(no_content())
}

/// Remove a user from a group.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name"),
    ("user" = String, Path, description = "User name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/groups/{group}/members/{user}")]
pub async fn group_member_remove(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (group, user) = path.into_inner();
    nuvem
        .iam
        .group_member_remove(&caller, &group, &user)
        .await?;
    Ok(no_content())
}

/// Policies attached to a group.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name")),
    responses((status = 200, body = AttachedPolicies), Errors), security(("bearer" = [])))]
#[get("/v1/iam/groups/{group}/policies")]
pub async fn group_policy_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<AttachedPolicies>> {
    Ok(Json(
        nuvem
            .iam
            .policy_list_attached(&caller, PrincipalKind::Group, &path)
            .await?,
    ))
}

/// Attach a policy to a group: every member gets it.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name")),
    request_body = AttachPolicyRequest, responses((status = 204), Errors), security(("bearer" = [])))]
#[post("/v1/iam/groups/{group}/policies")]
pub async fn group_policy_attach(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<AttachPolicyRequest>,
) -> Result<HttpResponse> {
    nuvem
        .iam
        .policy_attach(&caller, PrincipalKind::Group, &path, &body.policy)
        .await?;
    Ok(no_content())
}

/// Detach a policy from a group.
#[utoipa::path(tag = "iam", params(("group" = String, Path, description = "Group name"),
    ("policy" = String, Path, description = "Policy name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/groups/{group}/policies/{policy}")]
pub async fn group_policy_detach(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (group, policy) = path.into_inner();
    nuvem
        .iam
        .policy_detach(&caller, PrincipalKind::Group, &group, &policy)
        .await?;
    Ok(no_content())
}
