//! dockerd through `bollard`: one client for the server's life, API version negotiated (docker.io
//! 20.10 speaks 1.41).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use bollard::models::{ContainerCreateBody, ContainerUpdateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, InspectContainerOptions,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{
    ContainerEngine, ContainerInfo, ContainerLog, ContainerSpec, ImageInfo, Layer, cpu_quota_micros,
};
use crate::drivers::{DriverError, DriverResult};

/// The image id of a build step's line (` ---> 0123456789ab`, the legacy builder's).
fn step_image(line: &str) -> Option<String> {
    let id = line.trim().strip_prefix("---> ")?;
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_owned())
}

/// The Docker engine on this host (`/var/run/docker.sock`).
#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
}

fn derr(what: &str, e: bollard::errors::Error) -> DriverError {
    DriverError(format!("docker: {what}: {e}"))
}

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Docker {
    /// Connects to the local socket and agrees on an API version.
    pub async fn connect() -> DriverResult<Docker> {
        let client = bollard::Docker::connect_with_local_defaults()
            .map_err(|e| derr("cannot reach dockerd", e))?
            .negotiate_version()
            .await
            .map_err(|e| derr("cannot agree on an API version with dockerd", e))?;
        Ok(Docker { client })
    }

    /// Removes, newest first, the images of `steps` that carry no tag (a failed build's
    /// intermediate images). One that another image builds on, or a container uses, is kept:
    /// Docker refuses to remove it, and that is the right answer.
    async fn untagged_remove(&self, steps: &[String]) {
        for id in steps.iter().rev() {
            let tagged = match self.client.inspect_image(id).await {
                Ok(image) => image
                    .repo_tags
                    .is_some_and(|t| t.iter().any(|tag| tag != "<none>:<none>")),
                Err(_) => continue,
            };
            if tagged {
                continue;
            }
            let options = RemoveImageOptionsBuilder::default().force(false).build();
            if let Err(e) = self.client.remove_image(id, Some(options), None).await {
                tracing::debug!(image = %id, error = %e, "a failed build's step image is kept");
            }
        }
    }
}

fn info_of(c: bollard::models::ContainerInspectResponse) -> ContainerInfo {
    let state = c.state.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let host = c.host_config.unwrap_or_default();
    let mut layers = Vec::new();
    if let Some(data) = c.graph_driver.map(|g| g.data) {
        // overlay2: LowerDir is upper-most first, separated by ':'.
        if let Some(lower) = data.get("LowerDir") {
            let mut l: Vec<String> = lower.split(':').map(str::to_owned).collect();
            l.reverse();
            layers.extend(l);
        }
        if let Some(upper) = data.get("UpperDir") {
            layers.push(upper.clone());
        }
    }
    ContainerInfo {
        name: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        id: c.id.unwrap_or_default(),
        state: state
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into()),
        pid: state.pid.unwrap_or(0).max(0) as u32,
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        exit_code: state.exit_code.unwrap_or(0),
        layers,
        memory_limit_bytes: host.memory.unwrap_or(0).max(0) as u64,
        cpu_quota_micros: host.cpu_quota.unwrap_or(0),
    }
}

#[async_trait]
impl ContainerEngine for Docker {
    async fn version(&self) -> DriverResult<String> {
        let v = self
            .client
            .version()
            .await
            .map_err(|e| derr("version", e))?;
        Ok(format!(
            "Docker {} (API {})",
            v.version.unwrap_or_default(),
            v.api_version.unwrap_or_default()
        ))
    }

    async fn image_build(
        &self,
        tag: &str,
        labels: &BTreeMap<String, String>,
        context: Vec<u8>,
        log: mpsc::Sender<String>,
    ) -> DriverResult<()> {
        let labels: HashMap<String, String> = labels.clone().into_iter().collect();
        // The legacy builder (BuildKit is not installed here); `forcerm` removes the
        // intermediate containers of a failed step too, so a failed build leaves nothing.
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(tag)
            .rm(true)
            .forcerm(true)
            .pull("false")
            .networkmode("none")
            .labels(&labels)
            .build();
        let mut stream =
            self.client
                .build_image(options, None, Some(bollard::body_full(context.into())));
        // The image of every step, as the builder reports it: those of a failed build are
        // removed, so that it leaves no half image, tagged or not.
        let mut steps: Vec<String> = Vec::new();
        while let Some(item) = stream.next().await {
            let failure = match item {
                Err(e) => Some(e.to_string()),
                Ok(info) => {
                    for line in info.stream.iter().flat_map(|t| t.lines()) {
                        if line.trim().is_empty() {
                            continue;
                        }
                        steps.extend(step_image(line));
                        let _ = log.send(line.to_owned()).await;
                    }
                    info.error_detail.map(|d| d.message.unwrap_or_default())
                }
            };
            if let Some(why) = failure {
                self.untagged_remove(&steps).await;
                return Err(DriverError(format!("the build failed: {why}")));
            }
        }
        Ok(())
    }

    async fn image_inspect(&self, reference: &str) -> DriverResult<Option<ImageInfo>> {
        let image = match self.client.inspect_image(reference).await {
            Ok(i) => i,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(derr("inspect image", e)),
        };
        let history = self
            .client
            .image_history(reference)
            .await
            .map_err(|e| derr("image history", e))?;
        let layers = history
            .into_iter()
            .map(|h| Layer {
                created_by: h.created_by,
                size_bytes: h.size.max(0) as u64,
            })
            .collect();
        let created_at = image
            .created
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|c| c.with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        Ok(Some(ImageInfo {
            id: image.id.unwrap_or_default(),
            tags: image.repo_tags.unwrap_or_default(),
            size_bytes: image.size.unwrap_or(0).max(0) as u64,
            labels: image
                .config
                .and_then(|c| c.labels)
                .unwrap_or_default()
                .into_iter()
                .collect(),
            created_at,
            layers,
        }))
    }

    async fn image_remove(&self, reference: &str) -> DriverResult<()> {
        let options = RemoveImageOptionsBuilder::default().force(false).build();
        match self
            .client
            .remove_image(reference, Some(options), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(derr("remove image", e)),
        }
    }

    async fn container_create(&self, spec: &ContainerSpec) -> DriverResult<()> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
            env: Some(env),
            labels: Some(spec.labels.clone().into_iter().collect()),
            hostname: Some(spec.hostname.clone()),
            host_config: Some(HostConfig {
                // Its interface is plugged by the VPC service; Docker's own networks stay out.
                network_mode: Some("none".into()),
                // A tiny init as PID 1: signals reach the app and zombies are reaped; stop takes
                // 0.3 s instead of the 10 s timeout.
                init: Some(true),
                extra_hosts: Some(spec.extra_hosts.clone()),
                dns: Some(spec.dns.clone()),
                // A lookup that cannot be answered fails within a second instead of the
                // resolver's default 5 s × 2 attempts.
                dns_options: Some(vec!["timeout:1".into(), "attempts:1".into()]),
                memory: Some(i64::from(spec.memory_mib) * 1024 * 1024),
                cpu_period: Some(100_000),
                cpu_quota: Some(cpu_quota_micros(spec.cpu)),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.client
            .create_container(Some(options), body)
            .await
            .map_err(|e| derr(&format!("create container {}", spec.name), e))?;
        Ok(())
    }

    async fn container_start(&self, name: &str) -> DriverResult<()> {
        self.client
            .start_container(name, None)
            .await
            .map_err(|e| derr(&format!("start container {name}"), e))
    }

    async fn container_remove(&self, name: &str) -> DriverResult<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.client.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(derr(&format!("remove container {name}"), e)),
        }
    }

    async fn container_list(&self, label: &str) -> DriverResult<Vec<ContainerInfo>> {
        let filters: HashMap<String, Vec<String>> =
            HashMap::from([("label".to_owned(), vec![label.to_owned()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .client
            .list_containers(Some(options))
            .await
            .map_err(|e| derr("list containers", e))?;
        let mut out = Vec::new();
        for s in summaries {
            let Some(id) = s.id else { continue };
            if let Some(info) = self.container_inspect(&id).await? {
                out.push(info);
            }
        }
        Ok(out)
    }

    async fn container_inspect(&self, name: &str) -> DriverResult<Option<ContainerInfo>> {
        match self
            .client
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => Ok(Some(info_of(c))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(derr(&format!("inspect container {name}"), e)),
        }
    }

    async fn container_update(&self, name: &str, cpu: f64, memory_mib: u32) -> DriverResult<()> {
        let memory = i64::from(memory_mib) * 1024 * 1024;
        let body = ContainerUpdateBody {
            memory: Some(memory),
            // Swap follows memory: the limit is the limit (Docker refuses a memory limit above
            // the current memory+swap limit otherwise).
            memory_swap: Some(memory * 2),
            cpu_period: Some(100_000),
            cpu_quota: Some(cpu_quota_micros(cpu)),
            ..Default::default()
        };
        self.client
            .update_container(name, body)
            .await
            .map_err(|e| derr(&format!("update container {name}"), e))
    }

    async fn container_logs(
        &self,
        name: &str,
        since: Option<DateTime<Utc>>,
        tail: u32,
    ) -> DriverResult<Vec<ContainerLog>> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .since(since.map(|s| s.timestamp() as i32).unwrap_or(0))
            .tail(&tail.to_string())
            .build();
        let mut stream = self.client.logs(name, Some(options));
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            let chunk = match item {
                Ok(c) => c,
                Err(e) if is_not_found(&e) => break,
                Err(e) => return Err(derr(&format!("logs of {name}"), e)),
            };
            let text = String::from_utf8_lossy(&chunk.into_bytes()).into_owned();
            for raw in text.lines() {
                // "2026-12-02T08:00:00.123456789Z the line"
                let (at, line) = match raw.split_once(' ') {
                    Some((t, rest)) => match DateTime::parse_from_rfc3339(t) {
                        Ok(t) => (t.with_timezone(&Utc), rest.to_owned()),
                        Err(_) => (Utc::now(), raw.to_owned()),
                    },
                    None => (Utc::now(), raw.to_owned()),
                };
                if since.is_none_or(|s| at > s) {
                    out.push(ContainerLog { at, line });
                }
            }
        }
        Ok(out)
    }

    async fn container_cpu_percent(&self, name: &str) -> DriverResult<f64> {
        let Some(info) = self.container_inspect(name).await? else {
            return Ok(0.0);
        };
        if info.pid == 0 {
            return Ok(0.0);
        }
        let pid = info.pid;
        let read = move || crate::drivers::cgroup::cpu_usage_nanos(pid);
        let t0 = std::time::Instant::now();
        let a = tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| DriverError(e.to_string()))??;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let b = tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| DriverError(e.to_string()))??;
        let wall = t0.elapsed().as_nanos() as f64;
        Ok(((b.saturating_sub(a)) as f64 / wall * 100.0).max(0.0))
    }
}
