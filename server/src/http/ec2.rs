//! Compute handlers: parse, call the service, shape the response.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post, put};
use nuvem_api::ec2::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::extract::{Json, Path};

/// Images you can launch: the operator's public images and your account's own.
#[utoipa::path(tag = "ec2", responses((status = 200, body = ImageList), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/images")]
pub async fn image_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<ImageList>> {
    Ok(Json(nuvem.compute.image_list(&caller).await?))
}

/// Register an image from files on the host (operator only).
#[utoipa::path(tag = "ec2", request_body = ImportImageRequest,
    responses((status = 201, body = Image), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/images")]
pub async fn image_import(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<ImportImageRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .compute
            .image_import(&caller, body.into_inner())
            .await?,
    ))
}

/// Describe an image.
#[utoipa::path(tag = "ec2", params(("image" = String, Path, description = "Image id")),
    responses((status = 200, body = Image), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/images/{image}")]
pub async fn image_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Image>> {
    Ok(Json(nuvem.compute.image_get(&caller, &path).await?))
}

/// Deregister an image no instance uses (operator only).
#[utoipa::path(tag = "ec2", params(("image" = String, Path, description = "Image id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/ec2/images/{image}")]
pub async fn image_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.compute.image_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The instance type catalog: vCPUs, memory, disk and price per hour.
#[utoipa::path(tag = "ec2", responses((status = 200, body = InstanceTypeList), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/instance-types")]
pub async fn instance_type_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
) -> Result<Json<InstanceTypeList>> {
    Ok(Json(nuvem.compute.instance_type_list(&caller).await?))
}

/// Add or change an instance type (operator only).
#[utoipa::path(tag = "ec2", params(("type" = String, Path, description = "Instance type name")),
    request_body = PutInstanceTypeRequest, responses((status = 200, body = InstanceType), Errors),
    security(("bearer" = [])))]
#[put("/v1/ec2/instance-types/{type}")]
pub async fn instance_type_put(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<PutInstanceTypeRequest>,
) -> Result<Json<InstanceType>> {
    Ok(Json(
        nuvem
            .compute
            .instance_type_put(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Create a key pair (the private key is in this answer only) or import a public key.
#[utoipa::path(tag = "ec2", request_body = CreateKeyPairRequest,
    responses((status = 201, body = KeyPairCreated), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/key-pairs")]
pub async fn key_pair_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateKeyPairRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .compute
            .key_pair_create(&caller, body.into_inner())
            .await?,
    ))
}

/// Your key pairs.
#[utoipa::path(tag = "ec2", responses((status = 200, body = KeyPairList), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/key-pairs")]
pub async fn key_pair_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<KeyPairList>> {
    Ok(Json(nuvem.compute.key_pair_list(&caller).await?))
}

/// Describe a key pair.
#[utoipa::path(tag = "ec2", params(("key_pair" = String, Path, description = "Key pair name")),
    responses((status = 200, body = KeyPair), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/key-pairs/{key_pair}")]
pub async fn key_pair_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<KeyPair>> {
    Ok(Json(nuvem.compute.key_pair_get(&caller, &path).await?))
}

/// Delete a key pair (running instances keep the key they were given).
#[utoipa::path(tag = "ec2", params(("key_pair" = String, Path, description = "Key pair name")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/ec2/key-pairs/{key_pair}")]
pub async fn key_pair_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.compute.key_pair_delete(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Launch instances (RunInstances): they start pending and become running.
#[utoipa::path(tag = "ec2", request_body = RunInstancesRequest,
    responses((status = 201, body = InstanceList), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/instances")]
pub async fn run_instances(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<RunInstancesRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .compute
            .run_instances(&caller, body.into_inner())
            .await?,
    ))
}

/// Your instances, terminated ones included.
#[utoipa::path(tag = "ec2", responses((status = 200, body = InstanceList), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/instances")]
pub async fn instance_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<InstanceList>> {
    Ok(Json(nuvem.compute.instance_list(&caller).await?))
}

/// Describe an instance.
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = Instance), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/instances/{instance}")]
pub async fn instance_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Instance>> {
    Ok(Json(nuvem.compute.instance_get(&caller, &path).await?))
}

/// Terminate an instance: its domain, disk, seed and interface are removed.
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = Instance), Errors), security(("bearer" = [])))]
#[delete("/v1/ec2/instances/{instance}")]
pub async fn instance_terminate(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Instance>> {
    Ok(Json(
        nuvem.compute.instance_terminate(&caller, &path).await?,
    ))
}

/// Stop an instance (ACPI power-off; the disk is kept).
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = Instance), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/instances/{instance}/stop")]
pub async fn instance_stop(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Instance>> {
    Ok(Json(nuvem.compute.instance_stop(&caller, &path).await?))
}

/// Start a stopped instance.
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = Instance), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/instances/{instance}/start")]
pub async fn instance_start(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Instance>> {
    Ok(Json(nuvem.compute.instance_start(&caller, &path).await?))
}

/// Reboot a running instance.
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = Instance), Errors), security(("bearer" = [])))]
#[post("/v1/ec2/instances/{instance}/reboot")]
pub async fn instance_reboot(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Instance>> {
    Ok(Json(nuvem.compute.instance_reboot(&caller, &path).await?))
}

/// The end of the instance's serial console.
#[utoipa::path(tag = "ec2", params(("instance" = String, Path, description = "Instance id")),
    responses((status = 200, body = ConsoleOutput), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/instances/{instance}/console")]
pub async fn console_output(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<ConsoleOutput>> {
    Ok(Json(nuvem.compute.console_output(&caller, &path).await?))
}

/// Hosts with their capacity and use (operator only).
#[utoipa::path(tag = "ec2", responses((status = 200, body = HostList), Errors), security(("bearer" = [])))]
#[get("/v1/ec2/hosts")]
pub async fn host_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<HostList>> {
    Ok(Json(nuvem.compute.host_list(&caller).await?))
}

/// Changes a host's vCPU ratio or reserved memory, live (operator only). Running instances are
/// never evicted.
#[utoipa::path(tag = "ec2", params(("host" = String, Path, description = "Host id or name")),
    request_body = UpdateHostRequest,
    responses((status = 200, body = Host), Errors), security(("bearer" = [])))]
#[patch("/v1/ec2/hosts/{host}")]
pub async fn host_update(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<UpdateHostRequest>,
) -> Result<Json<Host>> {
    Ok(Json(
        nuvem
            .compute
            .host_update(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Registers the compute operations, once: for routing and for the OpenAPI document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(image_list);
    cfg.service(image_import);
    cfg.service(image_get);
    cfg.service(image_delete);
    cfg.service(instance_type_list);
    cfg.service(instance_type_put);
    cfg.service(key_pair_create);
    cfg.service(key_pair_list);
    cfg.service(key_pair_get);
    cfg.service(key_pair_delete);
    cfg.service(run_instances);
    cfg.service(instance_list);
    cfg.service(instance_get);
    cfg.service(instance_terminate);
    cfg.service(instance_stop);
    cfg.service(instance_start);
    cfg.service(instance_reboot);
    cfg.service(console_output);
    cfg.service(host_list);
    cfg.service(host_update);
}
