//! Rows (and what the engine says) into API types, and the JSON columns read back.

use std::collections::BTreeMap;

use nuvem_api::apps as api;
use nuvem_api::nrn::nrn;

use crate::drivers::containers::{ContainerInfo, ImageInfo};
use crate::error::{Error, Result};
use crate::store::apps::{AppImageRow, AppRow, ReplicaRow};

pub fn spec_of(row: &AppRow) -> Result<api::AppSpec> {
    serde_json::from_str(&row.spec)
        .map_err(|e| Error::internal(format!("app {} has an unreadable spec: {e}", row.id)))
}

pub fn groups_of(row: &AppRow) -> Result<Vec<String>> {
    serde_json::from_str(&row.security_group_ids)
        .map_err(|e| Error::internal(format!("app {} has unreadable groups: {e}", row.id)))
}

pub fn autoscaling_of(row: &AppRow) -> Option<api::Autoscaling> {
    row.autoscaling
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
}

pub fn state_of(row: &AppRow) -> api::AppState {
    match row.state.as_str() {
        "deploying" => api::AppState::Deploying,
        "failed" => api::AppState::Failed,
        "deleting" => api::AppState::Deleting,
        _ => api::AppState::Running,
    }
}

pub fn state_str(s: api::AppState) -> &'static str {
    match s {
        api::AppState::Deploying => "deploying",
        api::AppState::Running => "running",
        api::AppState::Failed => "failed",
        api::AppState::Deleting => "deleting",
    }
}

pub fn health_of(s: &str) -> api::ReplicaHealth {
    match s {
        "healthy" => api::ReplicaHealth::Healthy,
        "unhealthy" => api::ReplicaHealth::Unhealthy,
        _ => api::ReplicaHealth::Unknown,
    }
}

fn layers(info: &ImageInfo) -> Vec<api::ImageLayer> {
    info.layers
        .iter()
        .map(|l| api::ImageLayer {
            created_by: l.created_by.clone(),
            size_bytes: l.size_bytes,
        })
        .collect()
}

pub fn image(row: &AppImageRow, info: &ImageInfo) -> api::ContainerImage {
    api::ContainerImage {
        reference: format!("{}:{}", row.name, row.tag),
        name: row.name.clone(),
        tag: row.tag.clone(),
        account_id: row.account_id.clone(),
        size_bytes: info.size_bytes,
        layers: layers(info),
        base: false,
        created_at: row.created_at,
    }
}

pub fn base_image(reference: &str, info: &ImageInfo) -> api::ContainerImage {
    let (name, tag) = super::images::split_reference(reference);
    api::ContainerImage {
        reference: reference.to_owned(),
        name: name.to_owned(),
        tag: tag.to_owned(),
        account_id: String::new(),
        size_bytes: info.size_bytes,
        layers: layers(info),
        base: true,
        created_at: info.created_at,
    }
}

pub fn replica(
    r: &ReplicaRow,
    container: Option<&ContainerInfo>,
    cpu_percent: Option<f64>,
) -> api::Replica {
    api::Replica {
        id: r.id.clone(),
        version: r.version.max(0) as u32,
        container: r.container.clone(),
        state: container
            .map(|c| c.state.clone())
            .unwrap_or_else(|| "missing".into()),
        health: health_of(&r.health),
        private_ip: r.private_ip.clone(),
        interface_id: r.interface_id.clone(),
        restarts: r.restarts.max(0) as u32,
        cpu_percent,
        created_at: r.created_at,
    }
}

pub fn app(row: &AppRow, replicas: Vec<api::Replica>, url: Option<String>) -> Result<api::App> {
    Ok(api::App {
        id: row.id.clone(),
        name: row.name.clone(),
        nrn: nrn("apps", &row.account_id, "app", &row.name),
        spec: spec_of(row)?,
        version: row.version.max(0) as u32,
        replicas_desired: row.replicas_desired.max(0) as u32,
        replicas,
        state: state_of(row),
        status_reason: row.status_reason.clone(),
        subnet_id: row.subnet_id.clone(),
        security_group_ids: groups_of(row)?,
        load_balancer_id: row.load_balancer_id.clone(),
        url,
        autoscaling: autoscaling_of(row),
        tags: serde_json::from_str::<BTreeMap<String, String>>(&row.tags).unwrap_or_default(),
        created_at: row.created_at,
    })
}
