//! VPC handlers: parse, call the service, shape the response.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, post, put};
use nuvem_api::vpc::*;

use super::auth::Caller;
use super::iam::Errors;
use crate::Nuvem;
use crate::error::Result;
use crate::http::extract::{Json, Path, Query};

fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Create a VPC: an address block for your subnets, with a default security group.
#[utoipa::path(tag = "vpc", request_body = CreateVpcRequest,
    responses((status = 201, body = Vpc), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/vpcs")]
pub async fn vpc_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateVpcRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.vpc.vpc_create(&caller, body.into_inner()).await?))
}

/// List your VPCs (the default VPC is created on first use).
#[utoipa::path(tag = "vpc", responses((status = 200, body = VpcList), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/vpcs")]
pub async fn vpc_list(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<VpcList>> {
    Ok(Json(nuvem.vpc.vpc_list(&caller).await?))
}

/// Describe a VPC.
#[utoipa::path(tag = "vpc", params(("vpc" = String, Path, description = "VPC id")),
    responses((status = 200, body = Vpc), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/vpcs/{vpc}")]
pub async fn vpc_get(caller: Caller, nuvem: Data<Nuvem>, path: Path<String>) -> Result<Json<Vpc>> {
    Ok(Json(nuvem.vpc.vpc_get(&caller, &path).await?))
}

/// Delete a VPC with its subnets and security groups; refused while interfaces remain.
#[utoipa::path(tag = "vpc", params(("vpc" = String, Path, description = "VPC id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/vpcs/{vpc}")]
pub async fn vpc_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.vpc.vpc_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Switch the VPC's internet gateway (NAT to the outside) on or off.
#[utoipa::path(tag = "vpc", params(("vpc" = String, Path, description = "VPC id")),
    request_body = InternetGatewayRequest, responses((status = 200, body = Vpc), Errors),
    security(("bearer" = [])))]
#[put("/v1/vpc/vpcs/{vpc}/internet-gateway")]
pub async fn internet_gateway_set(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<InternetGatewayRequest>,
) -> Result<Json<Vpc>> {
    Ok(Json(
        nuvem
            .vpc
            .internet_gateway_set(&caller, &path, body.enabled)
            .await?,
    ))
}

/// Create a subnet: a Linux bridge with the host as gateway and a DHCP server.
#[utoipa::path(tag = "vpc", request_body = CreateSubnetRequest,
    responses((status = 201, body = Subnet), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/subnets")]
pub async fn subnet_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateSubnetRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.vpc.subnet_create(&caller, body.into_inner()).await?))
}

/// List your subnets, optionally of one VPC.
#[utoipa::path(tag = "vpc", params(VpcFilter), responses((status = 200, body = SubnetList), Errors),
    security(("bearer" = [])))]
#[get("/v1/vpc/subnets")]
pub async fn subnet_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<VpcFilter>,
) -> Result<Json<SubnetList>> {
    Ok(Json(nuvem.vpc.subnet_list(&caller, q.into_inner()).await?))
}

/// Describe a subnet.
#[utoipa::path(tag = "vpc", params(("subnet" = String, Path, description = "Subnet id")),
    responses((status = 200, body = Subnet), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/subnets/{subnet}")]
pub async fn subnet_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<Subnet>> {
    Ok(Json(nuvem.vpc.subnet_get(&caller, &path).await?))
}

/// Delete a subnet; refused while interfaces remain.
#[utoipa::path(tag = "vpc", params(("subnet" = String, Path, description = "Subnet id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/subnets/{subnet}")]
pub async fn subnet_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.vpc.subnet_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Create a security group: no ingress, all egress, until you add rules.
#[utoipa::path(tag = "vpc", request_body = CreateSecurityGroupRequest,
    responses((status = 201, body = SecurityGroup), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/security-groups")]
pub async fn sg_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateSecurityGroupRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(nuvem.vpc.sg_create(&caller, body.into_inner()).await?))
}

/// List your security groups with their rules.
#[utoipa::path(tag = "vpc", params(VpcFilter), responses((status = 200, body = SecurityGroupList), Errors),
    security(("bearer" = [])))]
#[get("/v1/vpc/security-groups")]
pub async fn sg_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<VpcFilter>,
) -> Result<Json<SecurityGroupList>> {
    Ok(Json(nuvem.vpc.sg_list(&caller, q.into_inner()).await?))
}

/// Describe a security group with its rules.
#[utoipa::path(tag = "vpc", params(("sg" = String, Path, description = "Security group id")),
    responses((status = 200, body = SecurityGroup), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/security-groups/{sg}")]
pub async fn sg_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<SecurityGroup>> {
    Ok(Json(nuvem.vpc.sg_get(&caller, &path).await?))
}

/// Delete a security group; refused for the default group, or while it is used or referenced.
#[utoipa::path(tag = "vpc", params(("sg" = String, Path, description = "Security group id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/security-groups/{sg}")]
pub async fn sg_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.vpc.sg_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Add an ingress or egress rule; it applies to running interfaces at once.
#[utoipa::path(tag = "vpc", params(("sg" = String, Path, description = "Security group id")),
    request_body = AuthorizeRuleRequest, responses((status = 201, body = SecurityGroup), Errors),
    security(("bearer" = [])))]
#[post("/v1/vpc/security-groups/{sg}/rules")]
pub async fn sg_rule_authorize(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<AuthorizeRuleRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .vpc
            .sg_rule_authorize(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Remove a rule; new connections are judged without it at once.
#[utoipa::path(tag = "vpc", params(("sg" = String, Path, description = "Security group id"),
    ("rule" = String, Path, description = "Rule id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/security-groups/{sg}/rules/{rule}")]
pub async fn sg_rule_revoke(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    let (sg, rule) = path.into_inner();
    nuvem.vpc.sg_rule_revoke(&caller, &sg, &rule).await?;
    Ok(no_content())
}

/// The iptables rules Nuvem generated for the group's members.
#[utoipa::path(tag = "vpc", params(("sg" = String, Path, description = "Security group id")),
    responses((status = 200, body = GeneratedRules), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/security-groups/{sg}/iptables")]
pub async fn sg_generated_rules(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<GeneratedRules>> {
    Ok(Json(nuvem.vpc.sg_generated_rules(&caller, &path).await?))
}

/// Create a network interface in a subnet (default: the default subnet and group).
#[utoipa::path(tag = "vpc", request_body = CreateNetworkInterfaceRequest,
    responses((status = 201, body = NetworkInterface), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/network-interfaces")]
pub async fn interface_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreateNetworkInterfaceRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .vpc
            .interface_create(&caller, body.into_inner())
            .await?,
    ))
}

/// List your network interfaces.
#[utoipa::path(tag = "vpc", params(VpcFilter), responses((status = 200, body = NetworkInterfaceList), Errors),
    security(("bearer" = [])))]
#[get("/v1/vpc/network-interfaces")]
pub async fn interface_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
    q: Query<VpcFilter>,
) -> Result<Json<NetworkInterfaceList>> {
    Ok(Json(
        nuvem.vpc.interface_list(&caller, q.into_inner()).await?,
    ))
}

/// Describe a network interface.
#[utoipa::path(tag = "vpc", params(("eni" = String, Path, description = "Network interface id")),
    responses((status = 200, body = NetworkInterface), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/network-interfaces/{eni}")]
pub async fn interface_get(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<Json<NetworkInterface>> {
    Ok(Json(nuvem.vpc.interface_get(&caller, &path).await?))
}

/// Delete a free-standing network interface.
#[utoipa::path(tag = "vpc", params(("eni" = String, Path, description = "Network interface id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/network-interfaces/{eni}")]
pub async fn interface_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.vpc.interface_delete(&caller, &path, false).await?;
    Ok(no_content())
}

/// Replace the security groups of an interface; applies at once.
#[utoipa::path(tag = "vpc", params(("eni" = String, Path, description = "Network interface id")),
    request_body = SetSecurityGroupsRequest, responses((status = 200, body = NetworkInterface), Errors),
    security(("bearer" = [])))]
#[put("/v1/vpc/network-interfaces/{eni}/security-groups")]
pub async fn interface_set_groups(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
    body: Json<SetSecurityGroupsRequest>,
) -> Result<Json<NetworkInterface>> {
    Ok(Json(
        nuvem
            .vpc
            .interface_set_groups(&caller, &path, body.into_inner())
            .await?,
    ))
}

/// Forward a host port to an interface's private address and port.
#[utoipa::path(tag = "vpc", request_body = CreatePortForwardRequest,
    responses((status = 201, body = PortForward), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/port-forwards")]
pub async fn port_forward_create(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<CreatePortForwardRequest>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(
        nuvem
            .vpc
            .port_forward_create(&caller, body.into_inner())
            .await?,
    ))
}

/// List your port forwards.
#[utoipa::path(tag = "vpc", responses((status = 200, body = PortForwardList), Errors), security(("bearer" = [])))]
#[get("/v1/vpc/port-forwards")]
pub async fn port_forward_list(
    caller: Caller,
    nuvem: Data<Nuvem>,
) -> Result<Json<PortForwardList>> {
    Ok(Json(nuvem.vpc.port_forward_list(&caller).await?))
}

/// Remove a port forward.
#[utoipa::path(tag = "vpc", params(("pf" = String, Path, description = "Port forward id")),
    responses((status = 204), Errors), security(("bearer" = [])))]
#[delete("/v1/vpc/port-forwards/{pf}")]
pub async fn port_forward_delete(
    caller: Caller,
    nuvem: Data<Nuvem>,
    path: Path<String>,
) -> Result<HttpResponse> {
    nuvem.vpc.port_forward_delete(&caller, &path).await?;
    Ok(no_content())
}

/// Would a new connection pass? ALLOW or DENY, naming the rule (or default) that decided.
#[utoipa::path(tag = "vpc", request_body = TraceRequest,
    responses((status = 200, body = TraceResult), Errors), security(("bearer" = [])))]
#[post("/v1/vpc/trace")]
pub async fn trace(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<TraceRequest>,
) -> Result<Json<TraceResult>> {
    Ok(Json(nuvem.vpc.trace(&caller, body.into_inner()).await?))
}

/// Rebuild bridges, DHCP and firewall from the database now (operator only).
#[utoipa::path(tag = "vpc", responses((status = 200, body = ReconcileReport), Errors),
    security(("bearer" = [])))]
#[post("/v1/vpc/reconcile")]
pub async fn reconcile(caller: Caller, nuvem: Data<Nuvem>) -> Result<Json<ReconcileReport>> {
    Ok(Json(nuvem.vpc.reconcile_on_demand(&caller).await?))
}

/// Registers the VPC operations, once: for routing and for the OpenAPI document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(vpc_create);
    cfg.service(vpc_list);
    cfg.service(vpc_get);
    cfg.service(vpc_delete);
    cfg.service(internet_gateway_set);
    cfg.service(subnet_create);
    cfg.service(subnet_list);
    cfg.service(subnet_get);
    cfg.service(subnet_delete);
    cfg.service(sg_create);
    cfg.service(sg_list);
    cfg.service(sg_get);
    cfg.service(sg_delete);
    cfg.service(sg_rule_authorize);
    cfg.service(sg_rule_revoke);
    cfg.service(sg_generated_rules);
    cfg.service(interface_create);
    cfg.service(interface_list);
    cfg.service(interface_get);
    cfg.service(interface_delete);
    cfg.service(interface_set_groups);
    cfg.service(port_forward_create);
    cfg.service(port_forward_list);
    cfg.service(port_forward_delete);
    cfg.service(trace);
    cfg.service(reconcile);
}
