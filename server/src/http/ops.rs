//! Operating the platform (operator only): the background reconcilers.

use actix_web::web::Data;
use actix_web::{get, post};
use nuvem_api::ops::{ReconcilerList, ReconcilerStatus};

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::extract::{Json, Path};

/// Every service's reconciler (database against host) and how its last run went. Operator only.
#[utoipa::path(tag = "ops", responses((status = 200, body = ReconcilerList), Errors),
    security(("bearer" = [])))]
#[get("/v1/reconcilers")]
pub async fn reconciler_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<ReconcilerList>> {
    Ok(Json(nuvem.reconciler_list(&caller).await?))
}

/// Run one reconciler now (`vpc`, `compute`) and answer how it went. Operator only.
#[utoipa::path(tag = "ops", params(("reconciler" = String, Path, description = "vpc or compute")),
    responses((status = 200, body = ReconcilerStatus), Errors), security(("bearer" = [])))]
#[post("/v1/reconcilers/{reconciler}/run")]
pub async fn reconciler_run(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<ReconcilerStatus>> {
    Ok(Json(nuvem.reconciler_run(&caller, &path).await?))
}

/// Registers the operations (reconciler) routes, once: for routing and for the OpenAPI document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(reconciler_list);
    cfg.service(reconciler_run);
}
