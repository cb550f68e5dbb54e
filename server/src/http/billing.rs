//! Billing handlers: prices, bills, estimates, usage, budgets, the demo clock, CapEx/OpEx.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use nuvem_api::billing::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::extract::{Json, Path, Query};

/// The price catalog: what is in force now, and changes announced for later.
#[utoipa::path(tag = "billing", responses((status = 200, body = PriceList), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/prices")]
pub async fn price_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<PriceList>> {
    Ok(Json(nuvem.billing.price_list(&caller).await?))
}

/// Set a price from now or a later time on (operator only); never retroactive.
#[utoipa::path(tag = "billing", request_body = SetPriceRequest,
    responses((status = 201, body = Price), Errors), security(("bearer" = [])))]
#[post("/v1/billing/prices")]
pub async fn price_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<SetPriceRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.billing.price_set(&caller, body.into_inner()).await?))
}

/// A month's bill: line items (service, resource, usage type, quantity, unit price, amount)
/// and totals. The running month is an estimate until it ends.
#[utoipa::path(tag = "billing", params(BillParams), responses((status = 200, body = Bill), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/bill")]
pub async fn bill_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<BillParams>,
) -> Result<Json<Bill>> {
    Ok(Json(nuvem.billing.bill(&caller, &q).await?))
}

/// The same bill as CSV, one row per line item and a total row.
#[utoipa::path(tag = "billing", params(BillParams),
    responses((status = 200, content_type = "text/csv", body = String), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/bill.csv")]
pub async fn bill_csv(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<BillParams>,
) -> Result<HttpResponse> {
    let bill = nuvem.billing.bill(&caller, &q).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"nuvem-bill-{}-{}.csv\"",
                bill.account, bill.month
            ),
        ))
        .body(nuvem_api::billing::bill_csv(&bill)))
}

/// Every account's total for a month, and the sum (operator only).
#[utoipa::path(tag = "billing", params(BillParams), responses((status = 200, body = BillSummary), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/bills")]
pub async fn bill_summary(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<BillParams>,
) -> Result<Json<BillSummary>> {
    Ok(Json(nuvem.billing.bill_summary(&caller, &q).await?))
}

/// The running month so far, what runs now per hour, and the forecast to month end.
#[utoipa::path(tag = "billing", params(BillParams), responses((status = 200, body = Estimate), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/estimate")]
pub async fn estimate_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<BillParams>,
) -> Result<Json<Estimate>> {
    Ok(Json(nuvem.billing.estimate(&caller, &q).await?))
}

/// What each resource reserved against what it used (sampled CPU and memory), for a month.
#[utoipa::path(tag = "billing", params(BillParams), responses((status = 200, body = Usage), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/usage")]
pub async fn usage_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<BillParams>,
) -> Result<Json<Usage>> {
    Ok(Json(nuvem.billing.usage(&caller, &q).await?))
}

/// The account's budget, this month's spending against it, and the alerts it raised.
#[utoipa::path(tag = "billing", params(AccountParam), responses((status = 200, body = Budget), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/budget")]
pub async fn budget_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<AccountParam>,
) -> Result<Json<Budget>> {
    Ok(Json(
        nuvem
            .billing
            .budget_get(&caller, q.account.as_deref())
            .await?,
    ))
}

/// Set the account's monthly budget: amount, alert thresholds, and an optional hard limit that
/// stops its running instances.
#[utoipa::path(tag = "billing", params(AccountParam), request_body = SetBudgetRequest,
    responses((status = 200, body = Budget), Errors), security(("bearer" = [])))]
#[put("/v1/billing/budget")]
pub async fn budget_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<AccountParam>,
    body: Json<SetBudgetRequest>,
) -> Result<Json<Budget>> {
    Ok(Json(
        nuvem
            .billing
            .budget_set(&caller, q.account.as_deref(), body.into_inner())
            .await?,
    ))
}

/// Remove the account's budget and its alerts.
#[utoipa::path(tag = "billing", params(AccountParam), responses((status = 204), Errors),
    security(("bearer" = [])))]
#[delete("/v1/billing/budget")]
pub async fn budget_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<AccountParam>,
) -> Result<HttpResponse> {
    nuvem
        .billing
        .budget_delete(&caller, q.account.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account's metering clock (real time unless a demo clock runs).
#[utoipa::path(tag = "billing", params(AccountParam), responses((status = 200, body = Clock), Errors),
    security(("bearer" = [])))]
#[get("/v1/billing/clock")]
pub async fn clock_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<AccountParam>,
) -> Result<Json<Clock>> {
    Ok(Json(
        nuvem
            .billing
            .clock_get(&caller, q.account.as_deref())
            .await?,
    ))
}

/// Run an account's metering at N× real time, pause it, or move it forward (operator only).
/// Only the named account's bills change, and they say so.
#[utoipa::path(tag = "billing", params(("account" = String, Path, description = "Account name")),
    request_body = SetClockRequest, responses((status = 200, body = Clock), Errors),
    security(("bearer" = [])))]
#[put("/v1/billing/clocks/{account}")]
pub async fn clock_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<SetClockRequest>,
) -> Result<Json<Clock>> {
    Ok(Json(
        nuvem
            .billing
            .clock_set(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// What owning a server would cost next to what renting cost this account, from its usage.
#[utoipa::path(tag = "billing", request_body = CapexRequest,
    responses((status = 200, body = CapexComparison), Errors), security(("bearer" = [])))]
#[post("/v1/billing/capex")]
pub async fn capex(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CapexRequest>,
) -> Result<Json<CapexComparison>> {
    Ok(Json(nuvem.billing.capex(&caller, body.into_inner()).await?))
}

/// Registers the billing routes, once: for routing and for the OpenAPI document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(price_list);
    cfg.service(price_set);
    cfg.service(bill_get);
    cfg.service(bill_csv);
    cfg.service(bill_summary);
    cfg.service(estimate_get);
    cfg.service(usage_get);
    cfg.service(budget_get);
    cfg.service(budget_set);
    cfg.service(budget_delete);
    cfg.service(clock_get);
    cfg.service(clock_set);
    cfg.service(capex);
}
