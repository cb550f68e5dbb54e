//! Quotas: the caller's own, and (operator only) any account's.

use actix_web::web::Data;
use actix_web::{get, put};
use nuvem_api::iam::*;

use super::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::{Json, Path};

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
