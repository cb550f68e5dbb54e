//! Users, their passwords (login profiles), groups and attached policies.

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

/// Create an IAM user, optionally with a password.
#[utoipa::path(tag = "iam", request_body = CreateUserRequest,
    responses((status = 201, body = User), Errors), security(("bearer" = [])))]
#[post("/v1/iam/users")]
pub async fn user_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.iam.user_create(&caller, body.into_inner()).await?))
}

/// List the account's users, by name.
#[utoipa::path(tag = "iam", params(ListParams),
    responses((status = 200, body = UserList), Errors), security(("bearer" = [])))]
#[get("/v1/iam/users")]
pub async fn user_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    params: Query<ListParams>,
) -> Result<Json<UserList>> {
    Ok(Json(
        nuvem.iam.user_list(&caller, params.into_inner()).await?,
    ))
}

/// Describe a user.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 200, body = User), Errors), security(("bearer" = [])))]
#[get("/v1/iam/users/{user}")]
pub async fn user_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<User>> {
    Ok(Json(nuvem.iam.user_get(&caller, &path).await?))
}

/// Delete a user with its access keys, group memberships and policy attachments.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/users/{user}")]
pub async fn user_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.iam.user_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Set or replace a user's password (AWS UpdateLoginProfile).
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    request_body = LoginProfileRequest, responses((status = 204), Errors), security(("bearer" = [])))]
#[put("/v1/iam/users/{user}/login-profile")]
pub async fn login_profile_update(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<LoginProfileRequest>,
) -> Result<HttpResponse> {
    nuvem
        .iam
        .login_profile_update(&caller, &path, body.into_inner())
        .await?;
    Ok(no_content())
}

/// Remove a user's password: it can then only use access keys.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/users/{user}/login-profile")]
pub async fn login_profile_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.iam.login_profile_delete(&caller, &path).await?;
    Ok(no_content())
}

/// The groups a user belongs to.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 200, body = GroupNames), Errors), security(("bearer" = [])))]
#[get("/v1/iam/users/{user}/groups")]
pub async fn user_group_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<GroupNames>> {
    Ok(Json(nuvem.iam.user_group_list(&caller, &path).await?))
}

/// Policies attached directly to a user.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    responses((status = 200, body = AttachedPolicies), Errors), security(("bearer" = [])))]
#[get("/v1/iam/users/{user}/policies")]
pub async fn user_policy_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<AttachedPolicies>> {
    Ok(Json(
        nuvem
            .iam
            .policy_list_attached(&caller, PrincipalKind::User, &path)
            .await?,
    ))
}

/// Attach a policy to a user.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name")),
    request_body = AttachPolicyRequest, responses((status = 204), Errors), security(("bearer" = [])))]
#[post("/v1/iam/users/{user}/policies")]
pub async fn user_policy_attach(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<AttachPolicyRequest>,
) -> Result<HttpResponse> {
    nuvem
        .iam
        .policy_attach(&caller, PrincipalKind::User, &path, &body.policy)
        .await?;
    Ok(no_content())
}

/// Detach a policy from a user.
#[utoipa::path(tag = "iam", params(("user" = String, Path, description = "User name"),
    ("policy" = String, Path, description = "Policy name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/iam/users/{user}/policies/{policy}")]
pub async fn user_policy_detach(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (user, policy) = path.into_inner();
    nuvem
        .iam
        .policy_detach(&caller, PrincipalKind::User, &user, &policy)
        .await?;
    Ok(no_content())
}
