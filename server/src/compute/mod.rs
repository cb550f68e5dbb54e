//! EC2-like compute: images, instance types, key pairs, instances on libvirt/QEMU, and the
//! scheduler (capacity with a vCPU overcommit ratio, dedicated cores).
//!
//! A launch is a saga (`launch.rs`): the instance row is written first (it reserves capacity),
//! then the steps — network interface, disk, seed, domain — run with their progress in the saga
//! log. If a step fails, every step is undone in reverse and the instance ends `terminated` with
//! the reason. If the server dies in the middle, the saga reconciler at the next start unwinds it
//! the same way: an instance ends running or cleanly failed, never half-made.
//!
//! One file per job: `startup`, `images`, `instance_types`, `key_pairs`, `hosts` (capacity and
//! placement, over the pure `scheduler`), `instances` (views and `RunInstances`), `launch` (the
//! saga), `lifecycle` (stop, start, reboot, terminate), `reconciler` (database against libvirt).

pub mod cloud_init;
mod hosts;
pub use hosts::host_load;
mod images;
mod instance_types;
mod instances;
mod key_pairs;
pub mod launch;
mod lifecycle;
mod metering;
mod reconciler;
pub mod scheduler;
mod startup;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::Utc;
use nuvem_api::nrn::nrn;
use rand::Rng;

use crate::drivers::hypervisor::{Accelerator, Hypervisor};
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::platform::Platform;
use crate::saga::Sagas;
use crate::store::Store;
use crate::store::compute::{InstanceRow, InstanceTypeRow};
use crate::usage::{Change, Dimensions, Usage, UsageEvent};
use crate::vpc::Vpc;

/// Compute settings from the server configuration.
#[derive(Debug, Clone)]
pub struct ComputeConfig {
    pub images_dir: PathBuf,
    /// `None`: the host keeps the ratio it has (1.0 for a new host).
    pub cpu_ratio: Option<f64>,
    /// `None`: detect (boot a kernel under KVM; fall back to TCG).
    pub accelerator: Option<Accelerator>,
    pub libvirt_uri: String,
    /// The only directory ImportImage reads host files from.
    pub image_import_dir: PathBuf,
}

/// The instance types of a new installation: a t-series like AWS's, and the course's c1.course.
pub fn default_instance_types() -> Vec<InstanceTypeRow> {
    let t = |name: &str, vcpus: i32, memory_mib: i64, disk_gib: i64, price: f64| InstanceTypeRow {
        name: name.into(),
        vcpus,
        memory_mib,
        disk_gib,
        price_per_hour: price,
    };
    vec![
        t("t3.nano", 1, 512, 1, 0.0052),
        t("t3.micro", 1, 1024, 2, 0.0104),
        t("t3.small", 2, 2048, 4, 0.0208),
        t("t3.medium", 2, 4096, 8, 0.0416),
        t("c1.course", 2, 2048, 4, 0.0340),
    ]
}

/// The machine Nuvem runs on, as a host (app containers run there too).
pub const LOCAL_HOST_ID: &str = "host-1";
/// How long a stop waits for the guest to power off before pulling the plug.
const STOP_GRACE: Duration = Duration::from_secs(30);

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::thread_rng().r#gen::<u32>())
}

fn driver_error(e: crate::drivers::DriverError) -> Error {
    Error::Internal(format!("hypervisor: {e}"))
}

#[derive(Clone)]
pub struct Compute {
    store: Store,
    iam: Iam,
    vpc: Vpc,
    hv: Arc<dyn Hypervisor>,
    data_dir: PathBuf,
    cfg: Arc<ComputeConfig>,
    domain_prefix: String,
    /// Serialises placement, so two launches never take the same capacity.
    lock: Arc<tokio::sync::Mutex<()>>,
    accelerator: Arc<OnceLock<Accelerator>>,
    /// Instances with an operation running in this process (the reconciler leaves them alone).
    busy: Arc<Mutex<HashSet<String>>>,
    /// Runs the launches, and unwinds them after a crash.
    sagas: Sagas,
    stopped: Arc<AtomicBool>,
    usage: Usage,
}

impl Compute {
    pub fn new(
        store: Store,
        iam: Iam,
        vpc: Vpc,
        hv: Arc<dyn Hypervisor>,
        data_dir: &Path,
        cfg: ComputeConfig,
        platform: Platform,
    ) -> Self {
        let domain_prefix = format!("nv{}-", vpc.naming().cell());
        Compute {
            store,
            iam,
            vpc,
            hv,
            data_dir: data_dir.to_owned(),
            cfg: Arc::new(cfg),
            domain_prefix,
            lock: Arc::default(),
            accelerator: Arc::default(),
            busy: Arc::default(),
            sagas: platform.sagas,
            stopped: Arc::default(),
            usage: platform.usage,
        }
    }

    /// Reports an instance's lifecycle change to the usage hook (metering listens there).
    async fn report(&self, row: &InstanceRow, change: Change) {
        self.usage
            .emit(UsageEvent {
                at: Utc::now(),
                account_id: row.account_id.clone(),
                service: "ec2",
                resource_type: "instance",
                resource_id: row.id.clone(),
                change,
                dimensions: Dimensions {
                    vcpus: row.vcpus.max(0) as u32,
                    memory_mib: row.memory_mib.max(0) as u64,
                    disk_gib: row.disk_gib.max(0) as u64,
                    sku: Some(row.instance_type.clone()),
                    ..Default::default()
                },
            })
            .await;
    }

    pub fn hypervisor(&self) -> &Arc<dyn Hypervisor> {
        &self.hv
    }

    pub fn domain_name(&self, instance_id: &str) -> String {
        format!("{}{instance_id}", self.domain_prefix)
    }

    fn instance_dir(&self, id: &str) -> PathBuf {
        self.data_dir.join("compute").join("instances").join(id)
    }

    /// A directory of guest files below the data directory: root's, traversable by the guests'
    /// QEMU group only (0710); root's alone (0700) when no real guests run.
    fn guest_dir(&self, dir: &Path) -> Result<()> {
        let group = self.hv.guest_group();
        let mode = if group.is_some() { 0o710 } else { 0o700 };
        crate::drivers::private_dir(dir, mode, group).map_err(Error::internal)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Hypervisor) -> crate::drivers::DriverResult<T> + Send + 'static,
    ) -> Result<T> {
        let hv = self.hv.clone();
        tokio::task::spawn_blocking(move || f(hv.as_ref()))
            .await
            .map_err(Error::internal)?
            .map_err(driver_error)
    }

    fn res(p: &Principal, kind: &str, id: &str) -> String {
        nrn("ec2", &p.account.id, kind, id)
    }
}
