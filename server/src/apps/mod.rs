//! Container apps (PaaS) and load balancers. The user hands over an image and a port; the
//! platform runs the replicas as Docker containers — each with its own VPC network interface, so
//! security groups, `vpc trace` and the iptables view apply to containers as to instances — puts
//! HAProxy in front, heals, rolls out and scales.
//!
//! One file per job: `images` (builds on the offline bases, layers, delete), `lifecycle`
//! (create, update, scale, delete: the business rules), `deploy` (the create saga), `replicas`
//! (making and removing one container with its interface), `rollout` (replica by replica behind
//! the balancer), `balancers` (load balancers and the proxy's configuration), `health` (the
//! checks), `reconciler` (healing, orphans, autoscaling), `internals` (namespaces and cgroups of
//! one replica), `observe` (logs and events), `view` (rows into API types). Nothing here knows
//! actix-web, and nothing here writes iptables: the VPC service does.

mod balancers;
pub mod capacity;
pub mod deploy;
mod health;
mod images;
mod internals;
mod lifecycle;
mod observe;
mod reconciler;
mod replicas;
mod rollout;
mod view;

pub use rollout::RolloutSaga;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use nuvem_api::nrn::nrn;

use crate::drivers::containers::ContainerEngine;
use crate::drivers::proxy::LoadBalancerProxy;
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::platform::Platform;
use crate::store::Store;
use crate::vpc::Vpc;

/// Where load balancers listen: an address of the host and a range of ports set aside for them.
#[derive(Debug, Clone, Copy)]
pub struct ListenerPolicy {
    pub address: Ipv4Addr,
    /// Inclusive.
    pub ports: (u16, u16),
}

/// What the health checks last saw of a replica (kept in memory: a restart starts over).
#[derive(Debug, Clone, Copy, Default)]
struct Streak {
    successes: u32,
    failures: u32,
}

/// The apps service; cheap to clone.
#[derive(Clone)]
pub struct Apps {
    store: Store,
    iam: Iam,
    vpc: Vpc,
    engine: Arc<dyn ContainerEngine>,
    proxy: Arc<dyn LoadBalancerProxy>,
    listeners: ListenerPolicy,
    platform: Platform,
    /// One change at a time per app (deploy, scale, rollout, healing), by app id.
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// One proxy configuration write at a time.
    proxy_lock: Arc<tokio::sync::Mutex<()>>,
    streaks: Arc<Mutex<HashMap<String, Streak>>>,
    /// The last CPU sample of each replica (% of one core).
    cpu: Arc<Mutex<HashMap<String, f64>>>,
}

/// The label value that marks Nuvem's containers (`nuvem.owner=apps`).
pub const OWNER: &str = "apps";

impl Apps {
    pub fn new(
        store: Store,
        iam: Iam,
        vpc: Vpc,
        engine: Arc<dyn ContainerEngine>,
        proxy: Arc<dyn LoadBalancerProxy>,
        listeners: ListenerPolicy,
        platform: Platform,
    ) -> Apps {
        Apps {
            store,
            iam,
            vpc,
            engine,
            proxy,
            listeners,
            platform,
            locks: Arc::default(),
            proxy_lock: Arc::default(),
            streaks: Arc::default(),
            cpu: Arc::default(),
        }
    }

    fn res(p: &Principal, kind: &str, name: &str) -> String {
        nrn("apps", &p.account.id, kind, name)
    }

    fn elb_res(p: &Principal, name: &str) -> String {
        nrn("elb", &p.account.id, "load-balancer", name)
    }

    /// The lock of one app: held by whatever changes its replicas.
    fn app_lock(&self, app_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(app_id.to_owned())
            .or_default()
            .clone()
    }

    async fn event(&self, app_id: &str, account_id: &str, kind: &str, message: &str) {
        tracing::info!(app = app_id, kind, message, "app event");
        if let Err(e) = self
            .store
            .app_event_add(app_id, account_id, kind, message)
            .await
        {
            tracing::warn!(app = app_id, error = %e, "cannot record an app event");
        }
    }

    /// The engine's version, for the operator and the start-up log.
    pub async fn engine_version(&self) -> Result<String> {
        self.engine.version().await.map_err(host)
    }
}

/// A container engine or proxy failure, for the caller.
fn host(e: crate::drivers::DriverError) -> Error {
    Error::Internal(format!("host: {e}"))
}
