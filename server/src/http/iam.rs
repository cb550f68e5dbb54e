//! IAM and authentication handlers: parse, call the service, shape the response. Nothing else.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put};
use nuvem_api::iam::*;
use nuvem_api::{ErrorBody, ListParams};

use super::auth::Caller;
use crate::Nuvem;
use crate::error::Result;
use crate::store::PrincipalKind;

/// Error answers any authenticated operation may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    #[response(
        status = 400,
        description = "Invalid request: malformed body, bad name, invalid field"
    )]
    InvalidRequest(#[to_schema] ErrorBody),
    #[response(status = 401, description = "No valid credentials")]
    Unauthenticated(ErrorBody),
    #[response(
        status = 403,
        description = "Not allowed by IAM policy, or operator-only"
    )]
    AccessDenied(ErrorBody),
    #[response(status = 404, description = "No such resource in the caller's account")]
    NotFound(ErrorBody),
    #[response(
        status = 409,
        description = "Already exists, conflict, limit or dependency"
    )]
    Conflict(ErrorBody),
}

/// Error answers of password sign-in, beyond [`Errors`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SignInErrors {
    #[response(
        status = 429,
        description = "Too many failed sign-ins: wait `Retry-After` seconds"
    )]
    TooManyRequests(#[to_schema] ErrorBody),
    #[response(
        status = 503,
        description = "Too many sign-ins at once: retry after `Retry-After` seconds"
    )]
    ServiceUnavailable(ErrorBody),
}

fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// Sign in with account, user name and password; returns a session token. Failed attempts are
/// throttled per user and per client address (429 with `Retry-After`).
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Session), Errors, SignInErrors), security(()))]
#[post("/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    nuvem: Data<Nuvem>,
    body: Json<LoginRequest>,
) -> Result<Json<Session>> {
    Ok(Json(
        nuvem
            .iam
            .login(body.into_inner(), client_address(&req))
            .await?,
    ))
}

/// The client's address for sign-in throttling: the TCP peer; for a peer on loopback (a reverse
/// proxy on this host, as docs/install.md recommends), the address that proxy appended last to
/// `X-Forwarded-For`. Anyone else's `X-Forwarded-For` is ignored: any client can write it.
fn client_address(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !peer.is_loopback() {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .last();
    Some(forwarded.unwrap_or(peer))
}

/// Sign out: ends the caller's session on the server; the token is refused from now on.
#[utoipa::path(tag = "auth", responses((status = 204), Errors), security(("bearer" = [])))]
#[post("/v1/auth/logout")]
pub async fn logout(caller: Caller, nuvem: Data<Nuvem>) -> Result<HttpResponse> {
    nuvem.iam.logout(&caller).await?;
    Ok(no_content())
}

/// Exchange an access key for a session token (as AWS STS GetSessionToken).
#[utoipa::path(tag = "auth", request_body = SessionRequest,
    responses((status = 200, body = Session), Errors), security(()))]
#[post("/v1/auth/session")]
pub async fn session(nuvem: Data<Nuvem>, body: Json<SessionRequest>) -> Result<Json<Session>> {
    Ok(Json(
        nuvem.iam.session_from_access_key(body.into_inner()).await?,
    ))
}

/// Who am I? The caller's account, user and how they signed in.
#[utoipa::path(tag = "auth", responses((status = 200, body = Identity), Errors),
    security(("bearer" = [])))]
#[get("/v1/auth/whoami")]
pub async fn whoami(caller: Caller) -> Json<Identity> {
    Json(caller.identity())
}

/// Change the caller's own password (needs the current one). Every session made with the old
/// password ends, this one included: the answer is a new session to go on with.
#[utoipa::path(tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = Session), Errors), security(("bearer" = [])))]
#[post("/v1/auth/password")]
pub async fn change_password(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<ChangePasswordRequest>,
) -> Result<Json<Session>> {
    Ok(Json(
        nuvem
            .iam
            .change_password(&caller, body.into_inner())
            .await?,
    ))
}

/// The caller's account's quotas, with what it uses now.
#[utoipa::path(tag = "auth", responses((status = 200, body = QuotaList), Errors),
    security(("bearer" = [])))]
#[get("/v1/quotas")]
pub async fn quota_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<QuotaList>> {
    Ok(Json(nuvem.iam.quota_list(&caller).await?))
}

/// An account's quotas and usage. Operator only.
#[utoipa::path(tag = "accounts", params(("account" = String, Path, description = "Account name")),
    responses((status = 200, body = QuotaList), Errors), security(("bearer" = [])))]
#[get("/v1/accounts/{account}/quotas")]
pub async fn account_quota_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<QuotaList>> {
    Ok(Json(nuvem.iam.account_quota_list(&caller, &path).await?))
}

/// Set (a number) or reset to the default (null) some of an account's quotas. Operator only.
#[utoipa::path(tag = "accounts", params(("account" = String, Path, description = "Account name")),
    request_body = SetQuotasRequest,
    responses((status = 200, body = QuotaList), Errors), security(("bearer" = [])))]
#[put("/v1/accounts/{account}/quotas")]
pub async fn account_quota_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<SetQuotasRequest>,
) -> Result<Json<QuotaList>> {
    Ok(Json(
        nuvem
            .iam
            .account_quota_set(&caller, &path, body.into_inner())
            .await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Accounts

/// Create an account (a tenant) with its root user. Operator only.
#[utoipa::path(tag = "accounts", request_body = CreateAccountRequest,
    responses((status = 201, body = AccountCreated), Errors), security(("bearer" = [])))]
#[post("/v1/accounts")]
pub async fn account_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateAccountRequest>,
) -> Result<HttpResponse> {
    let created = nuvem.iam.account_create(&caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// List accounts. Operator only.
#[utoipa::path(tag = "accounts", params(ListParams),
    responses((status = 200, body = AccountList), Errors), security(("bearer" = [])))]
#[get("/v1/accounts")]
pub async fn account_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    params: Query<ListParams>,
) -> Result<Json<AccountList>> {
    Ok(Json(
        nuvem.iam.account_list(&caller, params.into_inner()).await?,
    ))
}

/// Describe an account. Operator only.
#[utoipa::path(tag = "accounts", params(("account" = String, Path, description = "Account name")),
    responses((status = 200, body = Account), Errors), security(("bearer" = [])))]
#[get("/v1/accounts/{account}")]
pub async fn account_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Account>> {
    Ok(Json(nuvem.iam.account_get(&caller, &path).await?))
}

/// A session as the root user of an account (operator only), to act in it.
#[utoipa::path(tag = "accounts", params(("account" = String, Path, description = "Account name")),
    responses((status = 200, body = Session), Errors), security(("bearer" = [])))]
#[post("/v1/accounts/{account}/assume")]
pub async fn account_assume(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Session>> {
    Ok(Json(nuvem.iam.account_assume(&caller, &path).await?))
}

/// Delete an account and everything in it. Operator only; the operator account stays.
#[utoipa::path(tag = "accounts", params(("account" = String, Path, description = "Account name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/accounts/{account}")]
pub async fn account_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.account_delete(&caller, &path).await?;
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------
// Users

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

// ---------------------------------------------------------------------------------------------
// Access keys

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

// ---------------------------------------------------------------------------------------------
// Groups

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

// ---------------------------------------------------------------------------------------------
// Policies

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

/// Registers the IAM and authentication routes.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(login);
    cfg.service(session);
    cfg.service(whoami);
    cfg.service(logout);
    cfg.service(change_password);
    cfg.service(quota_list);
    cfg.service(account_quota_list);
    cfg.service(account_quota_set);
    cfg.service(account_create);
    cfg.service(account_list);
    cfg.service(account_get);
    cfg.service(account_delete);
    cfg.service(account_assume);
    cfg.service(user_create);
    cfg.service(user_list);
    cfg.service(user_get);
    cfg.service(user_delete);
    cfg.service(login_profile_update);
    cfg.service(login_profile_delete);
    cfg.service(user_group_list);
    cfg.service(user_policy_list);
    cfg.service(user_policy_attach);
    cfg.service(user_policy_detach);
    cfg.service(access_key_create);
    cfg.service(access_key_list);
    cfg.service(access_key_update);
    cfg.service(access_key_delete);
    cfg.service(group_create);
    cfg.service(group_list);
    cfg.service(group_get);
    cfg.service(group_delete);
    cfg.service(group_member_add);
    cfg.service(group_member_remove);
    cfg.service(group_policy_list);
    cfg.service(group_policy_attach);
    cfg.service(group_policy_detach);
    cfg.service(policy_create);
    cfg.service(policy_list);
    cfg.service(policy_get);
    cfg.service(policy_update);
    cfg.service(policy_delete);
}
