//! Containers: what the apps service needs of a container engine (the [`ContainerEngine`]
//! trait), with dockerd behind it through `bollard` on a real host (`real`, one persistent client)
//! and a simulated twin for fast tests (`sim`). Containers are made without a network of their
//! own (`none`): the VPC service plugs each one's interface into its subnet, as ECS's `awsvpc`.

mod real;
mod sim;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::DriverResult;

pub use real::Docker;
pub use sim::SimEngine;

/// The label every container and image Nuvem makes carries, so that it recognizes its own and
/// adopts nothing else.
pub const OWNER_LABEL: &str = "nuvem.owner";

/// One layer of an image (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub created_by: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub id: String,
    pub tags: Vec<String>,
    pub size_bytes: u64,
    pub labels: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub layers: Vec<Layer>,
}

/// Everything the engine needs to make one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// Empty: the image's command.
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// vCPUs (the CFS quota per 100 ms period).
    pub cpu: f64,
    pub memory_mib: u32,
    pub hostname: String,
    /// `/etc/hosts` lines as Docker takes them (`name:address`): the replica's own name resolves
    /// to its private address without asking DNS.
    pub extra_hosts: Vec<String>,
    /// Name servers for `/etc/resolv.conf` (the subnet's gateway): with network `none` Docker
    /// would copy the host's, unreachable from a VPC, and every lookup would hang for seconds.
    pub dns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub name: String,
    pub id: String,
    /// Docker's words: `created`, `running`, `exited`, ...
    pub state: String,
    /// The main process on the host (0 when not running).
    pub pid: u32,
    pub labels: BTreeMap<String, String>,
    pub exit_code: i64,
    /// The overlay directories: lower layers (lowest first), then the writable upper one.
    pub layers: Vec<String>,
    pub memory_limit_bytes: u64,
    pub cpu_quota_micros: i64,
}

/// A log line of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLog {
    pub at: DateTime<Utc>,
    pub line: String,
}

/// What the apps service needs of a container engine. Every name is Docker's container name.
#[async_trait]
pub trait ContainerEngine: Send + Sync + 'static {
    /// The engine and its API version, for the operator (and to check it answers at start).
    async fn version(&self) -> DriverResult<String>;
    /// Builds `tag` from a tarball holding a Dockerfile, sending the builder's output line by
    /// line; a failed build leaves no image under `tag`.
    async fn image_build(
        &self,
        tag: &str,
        labels: &BTreeMap<String, String>,
        context: Vec<u8>,
        log: mpsc::Sender<String>,
    ) -> DriverResult<()>;
    /// `None` when the engine has no such image.
    async fn image_inspect(&self, reference: &str) -> DriverResult<Option<ImageInfo>>;
    async fn image_remove(&self, reference: &str) -> DriverResult<()>;
    async fn container_create(&self, spec: &ContainerSpec) -> DriverResult<()>;
    async fn container_start(&self, name: &str) -> DriverResult<()>;
    /// Stops (the init process makes it quick) and removes; a missing one is not an error.
    async fn container_remove(&self, name: &str) -> DriverResult<()>;
    /// Every container with `label` (running or not).
    async fn container_list(&self, label: &str) -> DriverResult<Vec<ContainerInfo>>;
    async fn container_inspect(&self, name: &str) -> DriverResult<Option<ContainerInfo>>;
    /// Changes the CPU and memory limits of a running container in place.
    async fn container_update(&self, name: &str, cpu: f64, memory_mib: u32) -> DriverResult<()>;
    async fn container_logs(
        &self,
        name: &str,
        since: Option<DateTime<Utc>>,
        tail: u32,
    ) -> DriverResult<Vec<ContainerLog>>;
    /// CPU use in % of one core, measured over about a second from the container's cgroup.
    async fn container_cpu_percent(&self, name: &str) -> DriverResult<f64>;
    /// Whether a container's `pid` is a process of this host's kernel, whose `/proc` and cgroup
    /// can be read (the internals view reads them). The simulated engine runs no process: its
    /// PIDs are counters, and reading `/proc/PID` would describe whatever else has that PID.
    fn runs_host_processes(&self) -> bool {
        true
    }
}

/// The CFS quota, in microseconds per 100 ms period, that gives `cpu` vCPUs.
pub fn cpu_quota_micros(cpu: f64) -> i64 {
    (cpu * 100_000.0).round() as i64
}
