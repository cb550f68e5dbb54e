//! Container apps and load balancers (`/v1/apps/...`, `/v1/elb/...`): parse, call the service,
//! shape the response. An image build answers as it runs: one JSON object per line.

use actix_web::web::{Bytes, Data, Payload};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use futures_util::StreamExt;
use nuvem_api::apps::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::{Error, Result};
use crate::http::extract::{Json, Path, Query};

/// Build a container image from a tarball holding a Dockerfile (`FROM nuvem/debian:12` or
/// `nuvem/busybox:latest`). The answer streams `BuildEvent`s, one JSON object per line: the
/// builder's log, then `done` with the image or `failed` with why.
#[utoipa::path(tag = "apps", params(BuildImageParams),
    request_body(content = Vec<u8>, content_type = "application/x-tar"),
    responses((status = 200, body = BuildEvent, content_type = "application/x-ndjson"), Errors),
    security(("bearer" = [])))]
#[post("/v1/apps/images/build")]
pub async fn container_image_build(
    caller: Caller,
    nuvem: Data<Nuvem>,
    params: Query<BuildImageParams>,
    mut body: Payload,
) -> Result<HttpResponse> {
    let apps = nuvem.apps()?.clone();
    let mut context = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::invalid(format!("reading the build context: {e}")))?;
        if context.len() + chunk.len() > MAX_BUILD_CONTEXT_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "the build context is larger than {MAX_BUILD_CONTEXT_BYTES} bytes"
            )));
        }
        context.extend_from_slice(&chunk);
    }
    let params = params.into_inner();
    apps.image_build_check(&caller, &params, &context).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<BuildEvent>(64);
    let principal = caller.0.clone();
    tokio::spawn(async move {
        let _ = apps.image_build(&principal, params, context, tx).await;
    });
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        Some((Ok::<_, actix_web::Error>(Bytes::from(line)), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(lines))
}

/// Your account's images and the shared bases, with their layers.
#[utoipa::path(tag = "apps", responses((status = 200, body = ContainerImageList), Errors),
    security(("bearer" = [])))]
#[get("/v1/apps/images")]
pub async fn container_image_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
) -> Result<Json<ContainerImageList>> {
    Ok(Json(nuvem.apps()?.image_list(&caller).await?))
}

/// One image (`name:tag`) with its layers.
#[utoipa::path(tag = "apps", params(("image" = String, Path, description = "name:tag")),
    responses((status = 200, body = ContainerImage), Errors), security(("bearer" = [])))]
#[get("/v1/apps/images/{image}")]
pub async fn container_image_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<ContainerImage>> {
    Ok(Json(nuvem.apps()?.image_get(&caller, &path).await?))
}

/// Delete an image (refused while an app uses it).
#[utoipa::path(tag = "apps", params(("image" = String, Path, description = "name:tag")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/apps/images/{image}")]
pub async fn container_image_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.apps()?.image_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create and deploy an app: its replicas, and a load balancer when `public_port` is given.
#[utoipa::path(tag = "apps", request_body = CreateAppRequest,
    responses((status = 201, body = App), Errors), security(("bearer" = [])))]
#[post("/v1/apps")]
pub async fn app_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateAppRequest>,
) -> Result<HttpResponse> {
    let app = nuvem.apps()?.app_create(&caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(app))
}

/// Your account's apps with their replicas.
#[utoipa::path(tag = "apps", responses((status = 200, body = AppList), Errors),
    security(("bearer" = [])))]
#[get("/v1/apps")]
pub async fn app_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<AppList>> {
    Ok(Json(nuvem.apps()?.app_list(&caller).await?))
}

/// An app with its replicas (state, health, restarts, CPU).
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = App), Errors), security(("bearer" = [])))]
#[get("/v1/apps/{app}")]
pub async fn app_get(caller: Caller, nuvem: Data<Nuvem>, path: Path<String>) -> Result<Json<App>> {
    Ok(Json(nuvem.apps()?.app_get(&caller, &path).await?))
}

/// Deploy a new version (image, command, env: rolled out replica by replica, rolled back when a
/// new replica never gets healthy) or new limits (applied in place).
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    request_body = UpdateAppRequest, responses((status = 200, body = App), Errors),
    security(("bearer" = [])))]
#[patch("/v1/apps/{app}")]
pub async fn app_update(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<UpdateAppRequest>,
) -> Result<Json<App>> {
    Ok(Json(
        nuvem
            .apps()?
            .app_update(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Delete an app: its balancer, replicas, interfaces and its own security group.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/apps/{app}")]
pub async fn app_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.apps()?.app_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Scale by hand to a number of replicas.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    request_body = ScaleAppRequest, responses((status = 200, body = App), Errors),
    security(("bearer" = [])))]
#[post("/v1/apps/{app}/scale")]
pub async fn app_scale(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<ScaleAppRequest>,
) -> Result<Json<App>> {
    Ok(Json(
        nuvem
            .apps()?
            .app_scale(&caller, &path, body.replicas)
            .await?,
    ))
}

/// Turn on (or change) target tracking on average CPU.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    request_body = Autoscaling, responses((status = 200, body = App), Errors),
    security(("bearer" = [])))]
#[put("/v1/apps/{app}/autoscaling")]
pub async fn autoscaling_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<Autoscaling>,
) -> Result<Json<App>> {
    Ok(Json(
        nuvem
            .apps()?
            .autoscaling_set(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Turn target tracking off (the replicas stay as they are).
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/apps/{app}/autoscaling")]
pub async fn autoscaling_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.apps()?.autoscaling_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log lines of the replicas, merged by time.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name"), LogParams),
    responses((status = 200, body = LogList), Errors), security(("bearer" = [])))]
#[get("/v1/apps/{app}/logs")]
pub async fn app_logs(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    params: Query<LogParams>,
) -> Result<Json<LogList>> {
    Ok(Json(
        nuvem
            .apps()?
            .app_logs(&caller, &path, params.into_inner())
            .await?,
    ))
}

/// Deploys, scales, restarts, health changes, rollouts and rollbacks.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name")),
    responses((status = 200, body = AppEventList), Errors), security(("bearer" = [])))]
#[get("/v1/apps/{app}/events")]
pub async fn app_events(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<AppEventList>> {
    Ok(Json(nuvem.apps()?.app_events(&caller, &path).await?))
}

/// One replica as the kernel sees it: PIDs, namespaces beside the host's, cgroup limits and
/// usage, filesystem layers, network interface.
#[utoipa::path(tag = "apps", params(("app" = String, Path, description = "App name"),
    ("replica" = String, Path, description = "Replica id (r-…)")),
    responses((status = 200, body = ReplicaInternals), Errors), security(("bearer" = [])))]
#[get("/v1/apps/{app}/replicas/{replica}/internals")]
pub async fn replica_internals(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<Json<ReplicaInternals>> {
    let (app, replica) = path.into_inner();
    Ok(Json(
        nuvem
            .apps()?
            .replica_internals(&caller, &app, &replica)
            .await?,
    ))
}

/// Create a load balancer for an app's replicas or for instances.
#[utoipa::path(tag = "elb", request_body = CreateLoadBalancerRequest,
    responses((status = 201, body = LoadBalancer), Errors), security(("bearer" = [])))]
#[post("/v1/elb/load-balancers")]
pub async fn lb_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateLoadBalancerRequest>,
) -> Result<HttpResponse> {
    let lb = nuvem.apps()?.lb_create(&caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(lb))
}

/// Your account's load balancers with their targets.
#[utoipa::path(tag = "elb", responses((status = 200, body = LoadBalancerList), Errors),
    security(("bearer" = [])))]
#[get("/v1/elb/load-balancers")]
pub async fn lb_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<LoadBalancerList>> {
    Ok(Json(nuvem.apps()?.lb_list(&caller).await?))
}

/// A load balancer with each target's live state and numbers from the proxy.
#[utoipa::path(tag = "elb", params(("lb" = String, Path, description = "Name or id")),
    responses((status = 200, body = LoadBalancer), Errors), security(("bearer" = [])))]
#[get("/v1/elb/load-balancers/{lb}")]
pub async fn lb_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<LoadBalancer>> {
    Ok(Json(nuvem.apps()?.lb_get(&caller, &path).await?))
}

/// Delete a load balancer (its listener stops at once).
#[utoipa::path(tag = "elb", params(("lb" = String, Path, description = "Name or id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/elb/load-balancers/{lb}")]
pub async fn lb_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.apps()?.lb_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(container_image_build);
    cfg.service(container_image_list);
    cfg.service(container_image_get);
    cfg.service(container_image_delete);
    cfg.service(app_create);
    cfg.service(app_list);
    cfg.service(app_get);
    cfg.service(app_update);
    cfg.service(app_delete);
    cfg.service(app_scale);
    cfg.service(autoscaling_set);
    cfg.service(autoscaling_delete);
    cfg.service(app_logs);
    cfg.service(app_events);
    cfg.service(replica_internals);
    cfg.service(lb_create);
    cfg.service(lb_list);
    cfg.service(lb_get);
    cfg.service(lb_delete);
}
