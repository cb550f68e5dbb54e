//! Accounts (tenants): create, list, describe, assume, delete. Operator only.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post};
use nuvem_api::ListParams;
use nuvem_api::iam::*;

use super::{Errors, no_content};
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::{Json, Path, Query};

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
