//! A simulated container engine for fast tests: images and containers in memory. A Dockerfile
//! whose text holds `FAIL` fails to build (the tests of bad builds); tests kill a container
//! behind Nuvem's back with [`SimEngine::kill`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{
    ContainerEngine, ContainerInfo, ContainerLog, ContainerSpec, ImageInfo, Layer, cpu_quota_micros,
};
use crate::drivers::{DriverError, DriverResult};

#[derive(Debug, Default)]
struct State {
    images: BTreeMap<String, ImageInfo>,
    containers: BTreeMap<String, (ContainerSpec, ContainerInfo)>,
    next_pid: u32,
}

#[derive(Debug)]
pub struct SimEngine {
    state: Mutex<State>,
}

impl Default for SimEngine {
    fn default() -> Self {
        let mut images = BTreeMap::new();
        for base in nuvem_api::apps::BASE_IMAGES {
            images.insert(
                (*base).to_owned(),
                ImageInfo {
                    id: format!("sha256:{base}"),
                    tags: vec![(*base).to_owned()],
                    size_bytes: 2_000_000,
                    labels: BTreeMap::new(),
                    created_at: Utc::now(),
                    layers: vec![Layer {
                        created_by: "import".into(),
                        size_bytes: 2_000_000,
                    }],
                },
            );
        }
        SimEngine {
            state: Mutex::new(State {
                images,
                containers: BTreeMap::new(),
                next_pid: 1000,
            }),
        }
    }
}

impl SimEngine {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The container's process dies (as `docker kill` would).
    pub fn kill(&self, name: &str) {
        if let Some((_, info)) = self.lock().containers.get_mut(name) {
            info.state = "exited".into();
            info.pid = 0;
            info.exit_code = 137;
        }
    }

    /// Removes a container behind Nuvem's back (`docker rm -f`).
    pub fn remove_behind_the_back(&self, name: &str) {
        self.lock().containers.remove(name);
    }

    pub fn container_names(&self) -> Vec<String> {
        self.lock().containers.keys().cloned().collect()
    }
}

#[async_trait]
impl ContainerEngine for SimEngine {
    async fn version(&self) -> DriverResult<String> {
        Ok("simulated engine".into())
    }

    async fn image_build(
        &self,
        tag: &str,
        labels: &BTreeMap<String, String>,
        context: Vec<u8>,
        log: mpsc::Sender<String>,
    ) -> DriverResult<()> {
        let text = String::from_utf8_lossy(&context).into_owned();
        let _ = log.send("Step 1/1 : simulated build".into()).await;
        if text.contains("FAIL") {
            return Err(DriverError(
                "the build failed: The command '/bin/sh -c false' returned a non-zero code: 1"
                    .into(),
            ));
        }
        let from = text
            .lines()
            .find_map(|l| l.strip_prefix("FROM "))
            .map(str::trim)
            .unwrap_or("nuvem/busybox:latest")
            .to_owned();
        let mut s = self.lock();
        let Some(base) = s.images.get(&from).cloned() else {
            return Err(DriverError(format!(
                "the build failed: pull access denied for {from}, repository does not exist"
            )));
        };
        let mut layers = vec![Layer {
            created_by: "simulated step".into(),
            size_bytes: context.len() as u64,
        }];
        layers.extend(base.layers);
        s.images.insert(
            tag.to_owned(),
            ImageInfo {
                id: format!("sha256:{tag}"),
                tags: vec![tag.to_owned()],
                size_bytes: base.size_bytes + context.len() as u64,
                labels: labels.clone(),
                created_at: Utc::now(),
                layers,
            },
        );
        Ok(())
    }

    async fn image_inspect(&self, reference: &str) -> DriverResult<Option<ImageInfo>> {
        Ok(self.lock().images.get(reference).cloned())
    }

    async fn image_remove(&self, reference: &str) -> DriverResult<()> {
        self.lock().images.remove(reference);
        Ok(())
    }

    async fn container_create(&self, spec: &ContainerSpec) -> DriverResult<()> {
        let mut s = self.lock();
        if !s.images.contains_key(&spec.image) {
            return Err(DriverError(format!("No such image: {}", spec.image)));
        }
        if s.containers.contains_key(&spec.name) {
            return Err(DriverError(format!(
                "Conflict. The container name \"/{}\" is already in use",
                spec.name
            )));
        }
        let info = ContainerInfo {
            name: spec.name.clone(),
            id: format!("sim-{}", spec.name),
            state: "created".into(),
            pid: 0,
            labels: spec.labels.clone(),
            exit_code: 0,
            layers: vec!["/sim/lower".into(), "/sim/upper".into()],
            memory_limit_bytes: u64::from(spec.memory_mib) * 1024 * 1024,
            cpu_quota_micros: cpu_quota_micros(spec.cpu),
        };
        s.containers.insert(spec.name.clone(), (spec.clone(), info));
        Ok(())
    }

    async fn container_start(&self, name: &str) -> DriverResult<()> {
        let mut s = self.lock();
        s.next_pid += 1;
        let pid = s.next_pid;
        let (_, info) = s
            .containers
            .get_mut(name)
            .ok_or_else(|| DriverError(format!("No such container: {name}")))?;
        info.state = "running".into();
        info.pid = pid;
        Ok(())
    }

    async fn container_remove(&self, name: &str) -> DriverResult<()> {
        self.lock().containers.remove(name);
        Ok(())
    }

    async fn container_list(&self, label: &str) -> DriverResult<Vec<ContainerInfo>> {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        Ok(self
            .lock()
            .containers
            .values()
            .filter(|(_, i)| {
                i.labels
                    .get(key)
                    .is_some_and(|v| value.is_empty() || v == value)
            })
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn container_inspect(&self, name: &str) -> DriverResult<Option<ContainerInfo>> {
        Ok(self.lock().containers.get(name).map(|(_, i)| i.clone()))
    }

    async fn container_update(&self, name: &str, cpu: f64, memory_mib: u32) -> DriverResult<()> {
        let mut s = self.lock();
        let (spec, info) = s
            .containers
            .get_mut(name)
            .ok_or_else(|| DriverError(format!("No such container: {name}")))?;
        spec.cpu = cpu;
        spec.memory_mib = memory_mib;
        info.memory_limit_bytes = u64::from(memory_mib) * 1024 * 1024;
        info.cpu_quota_micros = cpu_quota_micros(cpu);
        Ok(())
    }

    async fn container_logs(
        &self,
        name: &str,
        since: Option<DateTime<Utc>>,
        _tail: u32,
    ) -> DriverResult<Vec<ContainerLog>> {
        let s = self.lock();
        let Some((spec, _)) = s.containers.get(name) else {
            return Ok(Vec::new());
        };
        let line = ContainerLog {
            at: Utc::now(),
            line: format!("simulated {} started", spec.image),
        };
        Ok(since.map_or(vec![line.clone()], |t| {
            if line.at > t { vec![line] } else { vec![] }
        }))
    }

    async fn container_cpu_percent(&self, _name: &str) -> DriverResult<f64> {
        Ok(0.0)
    }

    fn runs_host_processes(&self) -> bool {
        false
    }
}
