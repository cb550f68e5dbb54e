//! Container apps (PaaS) and load balancers: the user hands over an image and a port; the
//! platform runs the replicas (Docker containers, each with its own VPC network interface, as
//! ECS's `awsvpc` mode), balances them (HAProxy), heals and scales them. Container images belong
//! to an account and are built from a Dockerfile on Nuvem's offline bases.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every app action Nuvem authorizes (`apps:<Action>`).
pub const APP_ACTIONS: &[&str] = &[
    "apps:BuildImage",
    "apps:DescribeImages",
    "apps:DeleteImage",
    "apps:CreateApp",
    "apps:DescribeApps",
    "apps:UpdateApp",
    "apps:ScaleApp",
    "apps:DeleteApp",
    "apps:GetLogs",
    "apps:DescribeInternals",
];

/// Every load-balancer action (`elb:<Action>`).
pub const ELB_ACTIONS: &[&str] = &[
    "elb:CreateLoadBalancer",
    "elb:DescribeLoadBalancers",
    "elb:ModifyTargets",
    "elb:DeleteLoadBalancer",
];

/// The bases every account can build on (`FROM nuvem/debian:12`), made offline by
/// `infra/images/build-containers.sh`.
pub const BASE_IMAGES: &[&str] = &["nuvem/busybox:latest", "nuvem/debian:12"];

/// The largest build context accepted (a tarball of the Dockerfile's directory).
pub const MAX_BUILD_CONTEXT_BYTES: usize = 64 * 1024 * 1024;

/// One layer of an image, as `docker history` shows it (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImageLayer {
    /// The Dockerfile instruction that made it (or `import` for a base).
    pub created_by: String,
    pub size_bytes: u64,
}

/// A container image of an account (`name:tag`), or one of the shared bases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContainerImage {
    /// `name:tag`, as apps refer to it.
    pub reference: String,
    pub name: String,
    pub tag: String,
    /// The owner; empty for the shared bases.
    pub account_id: String,
    pub size_bytes: u64,
    pub layers: Vec<ImageLayer>,
    /// A shared base (read-only, every account may build on it).
    pub base: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContainerImageList {
    pub items: Vec<ContainerImage>,
}

/// `POST /v1/apps/images/build?name=&tag=`, the body a tarball (`application/x-tar`) holding a
/// `Dockerfile`. The answer streams one JSON object per line while the build runs.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BuildImageParams {
    pub name: String,
    /// Default `latest`.
    pub tag: Option<String>,
}

/// One line of a build's streamed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum BuildEvent {
    /// A line of the builder's output.
    Log { line: String },
    /// The build succeeded.
    Done { image: ContainerImage },
    /// The build failed; no image was left behind.
    Failed { code: String, message: String },
}

/// How a replica's health is checked (from the host, as a load balancer would).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// An HTTP path (`/healthz`) answered with 2xx or 3xx; `None`: a TCP connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Seconds between checks (1 to 300, default 2).
    #[serde(default = "default_interval")]
    pub interval_seconds: u32,
    /// Successes in a row to become healthy (default 2).
    #[serde(default = "default_healthy")]
    pub healthy_threshold: u32,
    /// Failures in a row to become unhealthy (default 2).
    #[serde(default = "default_unhealthy")]
    pub unhealthy_threshold: u32,
}

fn default_interval() -> u32 {
    2
}
fn default_healthy() -> u32 {
    2
}
fn default_unhealthy() -> u32 {
    2
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: None,
            interval_seconds: default_interval(),
            healthy_threshold: default_healthy(),
            unhealthy_threshold: default_unhealthy(),
        }
    }
}

/// What an app runs: every replica of one version is made from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// `name:tag` of one of the account's images, or a base (`nuvem/busybox:latest`).
    pub image: String,
    /// Overrides the image's command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The port the container listens on.
    pub port: u16,
    /// vCPUs per replica (0.1 to the host's CPUs; default 0.5): the cgroup's CPU quota.
    #[serde(default = "default_cpu")]
    pub cpu: f64,
    /// Memory per replica in MiB (16 to the host's; default 128): the cgroup's memory limit.
    #[serde(default = "default_memory")]
    pub memory_mib: u32,
    #[serde(default)]
    pub health_check: HealthCheck,
}

fn default_cpu() -> f64 {
    0.5
}
fn default_memory() -> u32 {
    128
}

/// `POST /v1/apps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    pub name: String,
    #[serde(flatten)]
    pub spec: AppSpec,
    /// Default 1.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// A host port: a load balancer is made for the app, listening there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// Default: the default subnet of the default VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Default: a group made for the app that lets the balancer (the subnet's gateway address)
    /// reach the app's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

fn default_replicas() -> u32 {
    1
}

/// `PATCH /v1/apps/{app}`: a new version, rolled out replica by replica. Absent fields keep
/// their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAppRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
}

/// `POST /v1/apps/{app}/scale`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleAppRequest {
    pub replicas: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Replicas are being made or replaced.
    Deploying,
    /// As many replicas run as asked.
    Running,
    /// A deploy or rollout failed; `status_reason` says why.
    Failed,
    Deleting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaHealth {
    Unknown,
    Healthy,
    Unhealthy,
}

/// One running copy of the app: a container with its own network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Replica {
    /// `r-…`.
    pub id: String,
    /// The app version it runs.
    pub version: u32,
    /// The container's name in Docker (`nv-app-…`).
    pub container: String,
    /// `running`, `exited`, `missing`, `created`.
    pub state: String,
    pub health: ReplicaHealth,
    pub private_ip: String,
    pub interface_id: String,
    /// Times Nuvem restarted it after it died.
    pub restarts: u32,
    /// CPU use in % of one core, at the last sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_percent: Option<f64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub spec: AppSpec,
    /// Incremented by every update; replicas carry the version they run.
    pub version: u32,
    pub replicas_desired: u32,
    pub replicas: Vec<Replica>,
    pub state: AppState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_reason: String,
    pub subnet_id: String,
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// `http://address:port` of its load balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    pub tags: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppList {
    pub items: Vec<App>,
}

/// Target tracking on average CPU, like AWS's target tracking or Kubernetes' HPA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    /// The average CPU % of one core per replica to keep (1 to 100).
    pub target_cpu_percent: f64,
    /// Seconds after a scaling decision before the next (default 30).
    #[serde(default = "default_cooldown")]
    pub cooldown_seconds: u32,
}

fn default_cooldown() -> u32 {
    30
}

/// `PUT /v1/apps/{app}/autoscaling` (`DELETE` turns it off).
pub type AutoscalingRequest = Autoscaling;

/// Something that happened to an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppEvent {
    pub at: DateTime<Utc>,
    /// `deploy`, `scale`, `restart`, `recreate`, `health`, `rollout`, `rollback`, `autoscale`.
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppEventList {
    pub items: Vec<AppEvent>,
}

/// `GET /v1/apps/{app}/logs?replica=&since=&tail=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// One replica's id; default all, merged by time.
    pub replica: Option<String>,
    /// Only lines after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// The last N lines per replica (default 200).
    pub tail: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub replica: String,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogList {
    pub items: Vec<LogLine>,
}

/// A kernel namespace of the replica's main process beside the host's (PID 1's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NamespaceView {
    /// `pid`, `mnt`, `net`, `uts`, `ipc`, `user`, `cgroup`, `time`.
    pub kind: String,
    pub container_inode: u64,
    pub host_inode: u64,
    /// Whether the container has its own (the inodes differ).
    pub isolated: bool,
}

/// A cgroup file and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CgroupFile {
    pub path: String,
    pub value: String,
    /// What it does, in a sentence.
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CgroupView {
    /// 1 or 2.
    pub version: u8,
    /// The replica's cgroup directory.
    pub path: String,
    /// The limits (CPU quota, memory limit) and the current usage.
    pub files: Vec<CgroupFile>,
}

/// `GET /v1/apps/{app}/replicas/{replica}/internals`: one replica as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplicaInternals {
    pub replica: String,
    pub container: String,
    /// The main process's PID on the host.
    pub host_pid: u32,
    /// Its PID inside the container (1 when it has its own PID namespace).
    pub container_pid: u32,
    pub namespaces: Vec<NamespaceView>,
    pub cgroup: CgroupView,
    /// The overlay filesystem's layer directories (lowest first), then the writable one.
    pub rootfs_layers: Vec<String>,
    pub interface_device: String,
    pub private_ip: String,
    pub mac: String,
    pub security_group_ids: Vec<String>,
}

/// `POST /v1/elb/load-balancers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLoadBalancerRequest {
    pub name: String,
    /// The host port it listens on.
    pub port: u16,
    /// An app whose replicas are the targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Instances (`i-…`) as targets, on `target_port`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    #[serde(default)]
    pub health_check: HealthCheck,
}

/// One target with its live state from the proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Target {
    /// `replica/r-…` or `instance/i-…`.
    pub id: String,
    pub address: String,
    pub port: u16,
    /// HAProxy's view: `UP`, `DOWN`, `MAINT`, `no check`, ...; or `initial` (a new replica kept
    /// out of the proxy until its health checks pass), `draining` (on its way out), `starting`.
    pub state: String,
    pub sessions_current: u64,
    pub sessions_total: u64,
    pub requests_total: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoadBalancer {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub port: u16,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    pub targets: Vec<Target>,
    pub health_check: HealthCheck,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoadBalancerList {
    pub items: Vec<LoadBalancer>,
}

/// An app or image name: 1 to 40 lowercase letters, digits and hyphens, starting with a letter.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{kind} name '{name}' must be 1 to 40 lowercase letters, digits and hyphens, starting with a letter"
        ))
    }
}

/// An image tag: 1 to 64 letters, digits, `.`, `_` and `-`.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 64
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "image tag '{tag}' must be 1 to 64 letters, digits, dots, underscores and hyphens"
        ))
    }
}

/// An environment variable name, as POSIX shells accept: a letter or `_`, then letters, digits
/// and `_`.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') && name.len() <= 128 {
        Ok(())
    } else {
        Err(format!(
            "environment variable name '{name}' is not a name: use letters, digits and _, not starting with a digit"
        ))
    }
}

/// Checks what can be checked without the server: names, port, limits' lower bounds, health.
pub fn check_spec(spec: &AppSpec) -> Result<(), String> {
    if spec.port == 0 {
        return Err("port must be 1 to 65535".into());
    }
    for name in spec.env.keys() {
        check_env_name(name)?;
    }
    if !(spec.cpu >= 0.1 && spec.cpu.is_finite()) {
        return Err(format!("cpu {} is below the minimum of 0.1 vCPU", spec.cpu));
    }
    if spec.memory_mib < 16 {
        return Err(format!(
            "memory_mib {} is below the minimum of 16 MiB",
            spec.memory_mib
        ));
    }
    let h = &spec.health_check;
    if let Some(path) = &h.path
        && !path.starts_with('/')
    {
        return Err(format!(
            "health check path '{path}' must start with '/' (for example /healthz)"
        ));
    }
    if !(1..=300).contains(&h.interval_seconds) {
        return Err("health_check.interval_seconds must be 1 to 300".into());
    }
    if !(1..=10).contains(&h.healthy_threshold) || !(1..=10).contains(&h.unhealthy_threshold) {
        return Err("health check thresholds must be 1 to 10".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AppSpec {
        serde_json::from_value(serde_json::json!({"image": "web:1", "port": 8080}))
            .expect("minimal spec")
    }

    #[test]
    fn a_minimal_spec_gets_the_defaults() {
        let s = spec();
        assert_eq!((s.cpu, s.memory_mib), (0.5, 128));
        assert_eq!(s.health_check, HealthCheck::default());
        assert_eq!(check_spec(&s), Ok(()));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let mut s = spec();
        s.port = 0;
        assert!(check_spec(&s).unwrap_err().contains("port"));
        let mut s = spec();
        s.env.insert("1BAD".into(), "x".into());
        assert!(check_spec(&s).unwrap_err().contains("not a name"));
        let mut s = spec();
        s.health_check.path = Some("healthz".into());
        assert!(check_spec(&s).unwrap_err().contains("must start with '/'"));
        let mut s = spec();
        s.memory_mib = 4;
        assert!(check_spec(&s).unwrap_err().contains("16 MiB"));
    }

    #[test]
    fn names_and_tags() {
        assert!(check_name("app", "web-1").is_ok());
        assert!(check_name("app", "Web").is_err());
        assert!(check_name("app", "1web").is_err());
        assert!(check_tag("v1.2_rc-3").is_ok());
        assert!(check_tag("a/b").is_err());
        assert!(check_env_name("_PATH2").is_ok());
        assert!(check_env_name("A-B").is_err());
    }
}
