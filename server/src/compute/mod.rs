//! EC2-like compute: images, instance types, key pairs, instances on libvirt/QEMU, and the
//! scheduler (capacity with a vCPU overcommit ratio, dedicated cores).
//!
//! A launch is a saga: the instance row is written first (it reserves capacity), then each step —
//! network interface, disk, seed, domain — records its progress in the row. If a step fails, every
//! step done is undone in reverse and the instance ends `terminated` with the reason. If the server
//! dies in the middle, the reconciler at the next start finds the half-made instance and unwinds
//! it the same way: an instance ends running or cleanly failed, never half-made.

pub mod cloud_init;
mod reconciler;
pub mod scheduler;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::Utc;
use nuvem_api::ec2 as api;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use rand::Rng;

use crate::drivers::hypervisor::{Accelerator, DomainSpec, DomainState, Hypervisor};
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::store::Store;
use crate::store::compute::{HostRow, ImageRow, InstanceRow, InstanceTypeRow, KeyPairRow};
use crate::usage::{Change, Dimensions, Usage, UsageEvent};
use crate::vpc::Vpc;

/// The steps of a launch, in order; the instance row records the last one done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Reserved = 0,
    Interface = 1,
    Disk = 2,
    Seed = 3,
    Domain = 4,
    Running = 5,
}

impl Step {
    pub const SAGA: [Step; 4] = [Step::Interface, Step::Disk, Step::Seed, Step::Domain];
}

/// Compute settings from the server configuration.
#[derive(Debug, Clone)]
pub struct ComputeConfig {
    pub images_dir: PathBuf,
    pub cpu_ratio: f64,
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

const LOCAL_HOST_ID: &str = "host-1";
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
    /// A launch step to fail on purpose (tests of the unwinding).
    fail_at: Arc<Mutex<Option<Step>>>,
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
        usage: Usage,
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
            fail_at: Arc::default(),
            stopped: Arc::default(),
            usage,
        }
    }

    /// Reports an instance's lifecycle change to the usage hook (metering listens there).
    fn report(&self, row: &InstanceRow, change: Change) {
        self.usage.emit(UsageEvent {
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
            },
        });
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

    /// Makes the next launches fail at `step` (tests of the unwinding); `None` stops it.
    pub fn inject_failure(&self, step: Option<Step>) {
        *self.fail_at.lock().expect("fail_at") = step;
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

    // ----------------------------------------------------------------------------------------
    // Start-up

    /// Registers this host, the default instance types and the built images, reconciles with
    /// the hypervisor, and starts the periodic reconciler.
    pub async fn start(&self) -> anyhow::Result<()> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as i32)
            .unwrap_or(1);
        let memory_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<i64>().ok())
            })
            .map(|kib| kib / 1024)
            .unwrap_or(2048);
        let name = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".into());
        let existing = self
            .store
            .host_list()
            .await?
            .into_iter()
            .find(|h| h.id == LOCAL_HOST_ID);
        self.store
            .host_put(HostRow {
                id: LOCAL_HOST_ID.into(),
                name,
                uri: self.cfg.libvirt_uri.clone(),
                cores,
                memory_mib,
                cpu_ratio: self.cfg.cpu_ratio,
                accelerator: existing
                    .map(|h| h.accelerator)
                    .unwrap_or_else(|| "unknown".into()),
                created_at: Utc::now(),
            })
            .await?;
        if self.store.instance_type_list().await?.is_empty() {
            for t in default_instance_types() {
                self.store.instance_type_put(t).await?;
            }
        }
        for dir in [
            self.data_dir.join("compute"),
            self.data_dir.join("compute").join("instances"),
            self.data_dir.join("images"),
        ] {
            self.guest_dir(&dir)?;
        }
        if !self.cfg.image_import_dir.exists() {
            crate::drivers::private_dir(&self.cfg.image_import_dir, 0o700, None)?;
        }
        self.register_built_images().await?;
        // The first reconciliation, and the timer, are the reconcile driver's (server.rs).
        Ok(())
    }

    /// Stops touching the hypervisor from the reconciler (the server is stopping, or the tests
    /// tear the host down).
    pub fn shutdown(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Images built by `infra/images/*.sh` into the images directory become public images.
    async fn register_built_images(&self) -> anyhow::Result<()> {
        let Ok(entries) = std::fs::read_dir(&self.cfg.images_dir) else {
            return Ok(());
        };
        let known = self.store.image_list().await?;
        for entry in entries.flatten() {
            let dir = entry.path();
            let Ok(text) = std::fs::read_to_string(dir.join("image.json")) else {
                continue;
            };
            let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
                tracing::warn!(dir = %dir.display(), "image.json is not JSON; skipped");
                continue;
            };
            let name = meta["name"].as_str().unwrap_or_default().to_owned();
            if name.is_empty() || known.iter().any(|i| i.public && i.name == name) {
                continue;
            }
            let format = meta["format"]
                .as_str()
                .unwrap_or("kernel-initrd")
                .to_owned();
            // A file named in image.json, else the conventional name.
            let file = |key: &str, default: &str| dir.join(meta[key].as_str().unwrap_or(default));
            let (kernel, initrd, disk) = match format.as_str() {
                "kernel-initrd" => (
                    Some(file("kernel", "vmlinuz")),
                    Some(file("initrd", "initrd.img")),
                    None,
                ),
                // A root disk booted directly with the image's own kernel (debian-12), or a disk
                // with its own boot loader.
                _ if meta["kernel"].is_string() => (
                    Some(file("kernel", "vmlinuz")),
                    Some(file("initrd", "initrd.img")),
                    Some(file("disk", "disk.qcow2")),
                ),
                _ => (None, None, Some(file("disk", "disk.qcow2"))),
            };
            if [&kernel, &initrd, &disk]
                .iter()
                .any(|p| p.as_ref().is_some_and(|p| !p.exists()))
            {
                tracing::warn!(dir = %dir.display(), "image files missing; skipped");
                continue;
            }
            self.store
                .image_create(ImageRow {
                    id: new_id("ami"),
                    name: name.clone(),
                    owner_account_id: None,
                    public: true,
                    format,
                    architecture: meta["architecture"].as_str().unwrap_or("x86_64").into(),
                    kernel_path: kernel.map(|p| p.display().to_string()),
                    initrd_path: initrd.map(|p| p.display().to_string()),
                    cmdline: meta["cmdline"].as_str().unwrap_or("").into(),
                    disk_path: disk.map(|p| p.display().to_string()),
                    min_disk_mib: meta["min_disk_mib"].as_i64().unwrap_or(64),
                    description: meta["description"]
                        .as_str()
                        .unwrap_or("built by infra/images")
                        .into(),
                    created_at: Utc::now(),
                })
                .await?;
            tracing::info!(image = %name, "registered a built image");
        }
        Ok(())
    }

    /// The accelerator guests get here: configured, or found once by booting a kernel.
    async fn accelerator(&self) -> Result<Accelerator> {
        if let Some(a) = self.cfg.accelerator {
            return Ok(a);
        }
        if let Some(a) = self.accelerator.get() {
            return Ok(*a);
        }
        // One probe per host boot, shared by every Nuvem server on the host.
        let cache = Path::new("/run/nuvem/accelerator");
        let found = match std::fs::read_to_string(cache)
            .ok()
            .and_then(|s| Accelerator::parse(s.trim()))
        {
            Some(a) => a,
            None => {
                let kernel = self
                    .store
                    .image_list()
                    .await?
                    .into_iter()
                    .find_map(|i| i.kernel_path.map(PathBuf::from));
                let a = self
                    .blocking(move |hv| Ok(hv.probe_accelerator(kernel.as_deref())))
                    .await?;
                let _ = std::fs::create_dir_all("/run/nuvem");
                let _ = std::fs::write(cache, a.as_str());
                tracing::info!(accelerator = a.as_str(), "probed the accelerator");
                a
            }
        };
        let _ = self.accelerator.set(found);
        if let Some(mut h) = self
            .store
            .host_list()
            .await?
            .into_iter()
            .find(|h| h.id == LOCAL_HOST_ID)
        {
            h.accelerator = found.as_str().into();
            self.store.host_put(h).await?;
        }
        Ok(found)
    }

    // ----------------------------------------------------------------------------------------
    // Images, instance types, key pairs

    fn image_view(i: &ImageRow) -> api::Image {
        api::Image {
            id: i.id.clone(),
            name: i.name.clone(),
            nrn: nrn(
                "ec2",
                i.owner_account_id.as_deref().unwrap_or(""),
                "image",
                &i.id,
            ),
            format: if i.format == "qcow2" {
                api::ImageFormat::Qcow2
            } else {
                api::ImageFormat::KernelInitrd
            },
            architecture: i.architecture.clone(),
            min_disk_mib: i.min_disk_mib as u64,
            description: i.description.clone(),
            public: i.public,
            owner_account_id: i.owner_account_id.clone(),
            created_at: i.created_at,
        }
    }

    fn visible(p: &Principal, i: &ImageRow) -> bool {
        i.public || i.owner_account_id.as_deref() == Some(p.account.id.as_str())
    }

    pub async fn image_list(&self, p: &Principal) -> Result<api::ImageList> {
        self.iam
            .authorize(p, "ec2:DescribeImages", &Self::res(p, "image", "*"))
            .await?;
        let items = self
            .store
            .image_list()
            .await?
            .iter()
            .filter(|i| Self::visible(p, i))
            .map(Self::image_view)
            .collect();
        Ok(api::ImageList { items })
    }

    async fn image_lookup(&self, p: &Principal, id: &str) -> Result<ImageRow> {
        self.store
            .image_get(id)
            .await?
            .filter(|i| Self::visible(p, i))
            .ok_or_else(|| Error::not_found("image", id))
    }

    pub async fn image_get(&self, p: &Principal, id: &str) -> Result<api::Image> {
        self.iam
            .authorize(p, "ec2:DescribeImages", &Self::res(p, "image", id))
            .await?;
        Ok(Self::image_view(&self.image_lookup(p, id).await?))
    }

    /// `src` (absolute, or relative to the import directory) if it is a file inside the import
    /// directory once symlinks and `..` are resolved; the resolved path.
    fn import_source(&self, what: &str, src: &str) -> Result<PathBuf> {
        let root = &self.cfg.image_import_dir;
        let outside = || {
            Error::invalid(format!(
                "{what} must be a file in the image import directory {} (copy it there first; \
                 paths leaving it, also through symlinks or '..', are refused)",
                root.display()
            ))
        };
        let canonical_root = std::fs::canonicalize(root).map_err(|_| outside())?;
        let path = canonical_root.join(src);
        let canonical = std::fs::canonicalize(&path).map_err(|_| {
            if Path::new(src).is_absolute() && !Path::new(src).starts_with(root) {
                outside()
            } else {
                Error::invalid(format!(
                    "{what} {src} does not exist in the image import directory {}",
                    root.display()
                ))
            }
        })?;
        if !canonical.starts_with(&canonical_root) {
            return Err(outside());
        }
        if !canonical.is_file() {
            return Err(Error::invalid(format!("{what} {src} is not a file")));
        }
        Ok(canonical)
    }

    /// Registers an image from files in the import directory (operator only); the files are
    /// copied.
    pub async fn image_import(
        &self,
        p: &Principal,
        req: api::ImportImageRequest,
    ) -> Result<api::Image> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied(
                "importing images from host files is an operator action".into(),
            ));
        }
        self.iam
            .authorize(p, "ec2:ImportImage", &Self::res(p, "image", "*"))
            .await?;
        validate::label("image name", &req.name).map_err(Error::InvalidRequest)?;
        let public = req.public.unwrap_or(req.account.is_none());
        let owner = match (&req.account, public) {
            (Some(name), false) => Some(
                self.store
                    .account_get_by_name(name)
                    .await?
                    .ok_or_else(|| Error::invalid(format!("account '{name}' does not exist")))?
                    .id,
            ),
            (None, false) => return Err(Error::invalid("a private image needs an account")),
            (Some(_), true) => {
                return Err(Error::invalid(
                    "an image is public or belongs to an account, not both",
                ));
            }
            (None, true) => None,
        };
        let id = new_id("ami");
        let dir = self.data_dir.join("images").join(&id);
        let group = self.hv.guest_group();
        let copy = |src: &Option<String>, what: &str, dest: &str| -> Result<Option<String>> {
            let src = src
                .as_ref()
                .ok_or_else(|| Error::invalid(format!("{what} is required for this format")))?;
            let from = self.import_source(what, src)?;
            self.guest_dir(&dir)?;
            let to = dir.join(dest);
            std::fs::copy(&from, &to).map_err(Error::internal)?;
            // Readable by the guests' QEMU group (the image is read-only to guests), no one else.
            crate::drivers::file_mode(&to, if group.is_some() { 0o640 } else { 0o600 }, group)
                .map_err(Error::internal)?;
            Ok(Some(to.display().to_string()))
        };
        let (kernel, initrd, disk) = match req.format {
            api::ImageFormat::KernelInitrd => (
                copy(&req.kernel_path, "kernel_path", "vmlinuz")?,
                copy(&req.initrd_path, "initrd_path", "initrd.img")?,
                None,
            ),
            api::ImageFormat::Qcow2 => {
                (None, None, copy(&req.disk_path, "disk_path", "disk.qcow2")?)
            }
        };
        let row = self
            .store
            .image_create(ImageRow {
                id,
                name: req.name,
                owner_account_id: owner,
                public,
                format: if req.format == api::ImageFormat::Qcow2 {
                    "qcow2".into()
                } else {
                    "kernel-initrd".into()
                },
                architecture: "x86_64".into(),
                kernel_path: kernel,
                initrd_path: initrd,
                cmdline: req.cmdline.unwrap_or_default(),
                disk_path: disk,
                min_disk_mib: 64,
                description: req.description.unwrap_or_default(),
                created_at: Utc::now(),
            })
            .await?;
        Ok(Self::image_view(&row))
    }

    pub async fn image_delete(&self, p: &Principal, id: &str) -> Result<()> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied(
                "deregistering images is an operator action".into(),
            ));
        }
        self.iam
            .authorize(p, "ec2:DeregisterImage", &Self::res(p, "image", id))
            .await?;
        let img = self
            .store
            .image_get(id)
            .await?
            .ok_or_else(|| Error::not_found("image", id))?;
        let n = self.store.instance_count_using_image(&img.id).await?;
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "image {id} is used by {n} instance(s)"
            )));
        }
        self.store.image_delete(&img.id).await
    }

    fn type_view(t: &InstanceTypeRow) -> api::InstanceType {
        api::InstanceType {
            name: t.name.clone(),
            vcpus: t.vcpus as u32,
            memory_mib: t.memory_mib as u64,
            disk_gib: t.disk_gib as u64,
            price_per_hour: t.price_per_hour,
        }
    }

    pub async fn instance_type_list(&self, p: &Principal) -> Result<api::InstanceTypeList> {
        self.iam
            .authorize(
                p,
                "ec2:DescribeInstanceTypes",
                &Self::res(p, "instance-type", "*"),
            )
            .await?;
        Ok(api::InstanceTypeList {
            items: self
                .store
                .instance_type_list()
                .await?
                .iter()
                .map(Self::type_view)
                .collect(),
        })
    }

    /// Adds or changes an instance type (operator only).
    pub async fn instance_type_put(
        &self,
        p: &Principal,
        name: &str,
        req: api::PutInstanceTypeRequest,
    ) -> Result<api::InstanceType> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied(
                "the instance type catalog is the operator's".into(),
            ));
        }
        self.iam
            .authorize(
                p,
                "ec2:ModifyInstanceTypes",
                &Self::res(p, "instance-type", name),
            )
            .await?;
        let ok_name = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !ok_name {
            return Err(Error::invalid(
                "instance type names use a-z, 0-9, '.' and '-' (e.g. t3.large)",
            ));
        }
        if !(1..=64).contains(&req.vcpus)
            || !(64..=262_144).contains(&req.memory_mib)
            || !(1..=2048).contains(&req.disk_gib)
        {
            return Err(Error::invalid(
                "vcpus must be 1–64, memory_mib 64–262144, disk_gib 1–2048",
            ));
        }
        if !(req.price_per_hour.is_finite() && req.price_per_hour >= 0.0) {
            return Err(Error::invalid("price_per_hour must be a number ≥ 0"));
        }
        let row = self
            .store
            .instance_type_put(InstanceTypeRow {
                name: name.into(),
                vcpus: req.vcpus as i32,
                memory_mib: req.memory_mib as i64,
                disk_gib: req.disk_gib as i64,
                price_per_hour: req.price_per_hour,
            })
            .await?;
        Ok(Self::type_view(&row))
    }

    fn key_view(k: &KeyPairRow) -> api::KeyPair {
        api::KeyPair {
            id: k.id.clone(),
            name: k.name.clone(),
            nrn: nrn("ec2", &k.account_id, "key-pair", &k.name),
            key_type: k.key_type.clone(),
            fingerprint: k.fingerprint.clone(),
            public_key: k.public_key.clone(),
            created_at: k.created_at,
        }
    }

    pub async fn key_pair_create(
        &self,
        p: &Principal,
        req: api::CreateKeyPairRequest,
    ) -> Result<api::KeyPairCreated> {
        let action = if req.public_key.is_some() {
            "ec2:ImportKeyPair"
        } else {
            "ec2:CreateKeyPair"
        };
        self.iam
            .authorize(p, action, &Self::res(p, "key-pair", &req.name))
            .await?;
        validate::iam_name("key pair", &req.name, 255).map_err(Error::InvalidRequest)?;
        if self
            .store
            .key_pair_get_by_name(&p.account.id, &req.name)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "a key pair named '{}' already exists",
                req.name
            )));
        }
        let scratch = self.data_dir.join("tmp");
        let (public, private) = match req.public_key {
            Some(k) => {
                if k.len() > 16_384 {
                    return Err(Error::invalid(
                        "public_key must be one line of an OpenSSH public key",
                    ));
                }
                (
                    cloud_init::parse_public_key(&k)
                        .map_err(Error::InvalidRequest)?
                        .1,
                    None,
                )
            }
            None => {
                let comment = format!("{}@nuvem", req.name);
                let s = scratch.clone();
                let (private, public) = tokio::task::spawn_blocking(move || {
                    crate::drivers::keys::generate_ed25519(&s, &comment)
                })
                .await
                .map_err(Error::internal)?
                .map_err(Error::internal)?;
                (public, Some(private))
            }
        };
        let pk = public.clone();
        let (key_type, fingerprint) = tokio::task::spawn_blocking(move || {
            crate::drivers::keys::fingerprint(&scratch, &pk)
        })
        .await
        .map_err(Error::internal)?
        .map_err(|_| {
            Error::invalid(
                "public_key is not an OpenSSH public key (like 'ssh-ed25519 AAAA... comment')",
            )
        })?;
        let row = self
            .store
            .key_pair_create(KeyPairRow {
                id: new_id("key"),
                account_id: p.account.id.clone(),
                name: req.name,
                key_type,
                fingerprint,
                public_key: public,
                created_at: Utc::now(),
            })
            .await?;
        Ok(api::KeyPairCreated {
            key_pair: Self::key_view(&row),
            private_key: private,
        })
    }

    pub async fn key_pair_list(&self, p: &Principal) -> Result<api::KeyPairList> {
        self.iam
            .authorize(p, "ec2:DescribeKeyPairs", &Self::res(p, "key-pair", "*"))
            .await?;
        Ok(api::KeyPairList {
            items: self
                .store
                .key_pair_list(&p.account.id)
                .await?
                .iter()
                .map(Self::key_view)
                .collect(),
        })
    }

    async fn key_lookup(&self, p: &Principal, name: &str) -> Result<KeyPairRow> {
        self.store
            .key_pair_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("key pair", name))
    }

    pub async fn key_pair_get(&self, p: &Principal, name: &str) -> Result<api::KeyPair> {
        self.iam
            .authorize(p, "ec2:DescribeKeyPairs", &Self::res(p, "key-pair", name))
            .await?;
        Ok(Self::key_view(&self.key_lookup(p, name).await?))
    }

    pub async fn key_pair_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.iam
            .authorize(p, "ec2:DeleteKeyPair", &Self::res(p, "key-pair", name))
            .await?;
        let k = self.key_lookup(p, name).await?;
        self.store.key_pair_delete(&k.id).await
    }

    // ----------------------------------------------------------------------------------------
    // Capacity

    /// A host with the capacity its instances hold. A corrupt `pinned_cpus` is an error, never
    /// an empty list: that would silently hand dedicated cores to someone else.
    async fn host_load(&self, host: &HostRow) -> Result<scheduler::HostLoad> {
        let mut reservations = Vec::new();
        for i in self.store.instance_list_active_on_host(&host.id).await? {
            let pinned_cores = serde_json::from_str::<Vec<u32>>(&i.pinned_cpus).map_err(|e| {
                Error::internal(format!(
                    "instance {} has unreadable pinned_cpus {:?}: {e}",
                    i.id, i.pinned_cpus
                ))
            })?;
            reservations.push(scheduler::Reservation {
                vcpus: i.vcpus.max(0) as u32,
                memory_mib: i.memory_mib,
                pinned_cores,
            });
        }
        Ok(scheduler::HostLoad {
            host: scheduler::HostCapacity {
                id: host.id.clone(),
                name: host.name.clone(),
                cores: host.cores.max(0) as u32,
                cpu_ratio: host.cpu_ratio,
                memory_mib: host.memory_mib,
            },
            reservations,
        })
    }

    /// Picks a host for `count` instances of `vcpus`/`memory`, and the cores of each when
    /// dedicated (see [`scheduler::place`]). Called under the placement lock.
    async fn place(
        &self,
        count: u32,
        vcpus: u32,
        memory: i64,
        dedicated: bool,
    ) -> Result<(HostRow, Vec<Vec<u32>>)> {
        let hosts = self.store.host_list().await?;
        let mut loads = Vec::with_capacity(hosts.len());
        for h in &hosts {
            loads.push(self.host_load(h).await?);
        }
        let request = scheduler::Request {
            count,
            vcpus,
            memory_mib: memory,
            dedicated,
        };
        let placement = scheduler::place(&loads, &request)
            .map_err(|no| Error::InsufficientCapacity(no.to_string()))?;
        let host = hosts
            .into_iter()
            .find(|h| h.id == placement.host_id)
            .ok_or_else(|| Error::internal("the scheduler chose an unknown host"))?;
        Ok((host, placement.cores))
    }

    pub async fn host_list(&self, p: &Principal) -> Result<api::HostList> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied("hosts are the operator's".into()));
        }
        self.iam
            .authorize(p, "ec2:DescribeHosts", &Self::res(p, "host", "*"))
            .await?;
        let mut items = Vec::new();
        for h in self.store.host_list().await? {
            let load = self.host_load(&h).await?;
            let (used, mem, pinned) = (
                load.vcpus_used(),
                load.memory_used_mib(),
                load.pinned_cores(),
            );
            items.push(api::Host {
                id: h.id.clone(),
                name: h.name.clone(),
                uri: h.uri.clone(),
                cores: h.cores as u32,
                memory_mib: h.memory_mib as u64,
                cpu_ratio: h.cpu_ratio,
                vcpus_used: used,
                vcpus_capacity: load.host.vcpus(),
                memory_used_mib: mem as u64,
                pinned_cores: pinned.into_iter().collect(),
                accelerator: h.accelerator.clone(),
            });
        }
        Ok(api::HostList { items })
    }

    // ----------------------------------------------------------------------------------------
    // Instances

    fn instance_view(&self, i: &InstanceRow, ip: Option<String>) -> api::Instance {
        api::Instance {
            id: i.id.clone(),
            name: i.name.clone(),
            nrn: nrn("ec2", &i.account_id, "instance", &i.id),
            state: api::InstanceState::parse(&i.state).unwrap_or(api::InstanceState::Pending),
            state_reason: i.state_reason.clone(),
            image_id: i.image_id.clone(),
            instance_type: i.instance_type.clone(),
            vcpus: i.vcpus as u32,
            memory_mib: i.memory_mib as u64,
            key_name: i.key_name.clone(),
            subnet_id: i.subnet_id.clone(),
            vpc_id: i.vpc_id.clone(),
            interface_id: i.eni_id.clone(),
            private_ip: ip,
            security_group_ids: serde_json::from_str(&i.security_group_ids).unwrap_or_default(),
            host: i.host_id.clone(),
            accelerator: i.accelerator.clone(),
            pinned_cpus: serde_json::from_str(&i.pinned_cpus).unwrap_or_default(),
            tags: serde_json::from_str(&i.tags).unwrap_or_default(),
            created_at: i.created_at,
            launched_at: i.launched_at,
        }
    }

    async fn view(&self, i: &InstanceRow) -> Result<api::Instance> {
        let ip = match &i.eni_id {
            Some(e) if i.state != "terminated" => self
                .vpc
                .interface_wiring(&i.account_id, e)
                .await
                .ok()
                .map(|(e, _)| e.private_ip),
            _ => None,
        };
        Ok(self.instance_view(i, ip))
    }

    async fn instance_lookup(&self, p: &Principal, id: &str) -> Result<InstanceRow> {
        self.store
            .instance_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("instance", id))
    }

    pub async fn instance_list(&self, p: &Principal) -> Result<api::InstanceList> {
        self.iam
            .authorize(p, "ec2:DescribeInstances", &Self::res(p, "instance", "*"))
            .await?;
        let mut items = Vec::new();
        for i in self.store.instance_list(&p.account.id).await? {
            items.push(self.view(&i).await?);
        }
        Ok(api::InstanceList { items })
    }

    pub async fn instance_get(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:DescribeInstances", &Self::res(p, "instance", id))
            .await?;
        let i = self.instance_lookup(p, id).await?;
        self.view(&i).await
    }

    /// RunInstances: checks everything that can be checked at once, reserves capacity by
    /// writing the instances (pending), and launches each in the background.
    pub async fn run_instances(
        &self,
        p: &Principal,
        req: api::RunInstancesRequest,
    ) -> Result<api::InstanceList> {
        self.iam
            .authorize(p, "ec2:RunInstances", &Self::res(p, "instance", "*"))
            .await?;
        let count = req.count.unwrap_or(1);
        if !(1..=api::MAX_COUNT).contains(&count) {
            return Err(Error::invalid(format!(
                "count must be between 1 and {}, not {count}",
                api::MAX_COUNT
            )));
        }
        let user_data = req.user_data.unwrap_or_default();
        if user_data.len() > api::MAX_USER_DATA {
            return Err(Error::invalid(format!(
                "user_data has {} bytes; the limit is {} (16 KiB)",
                user_data.len(),
                api::MAX_USER_DATA
            )));
        }
        if let Some(n) = &req.name {
            validate::label("instance name", n).map_err(Error::InvalidRequest)?;
        }
        let tags = req.tags.unwrap_or_default();
        if tags.len() > 50
            || tags
                .iter()
                .any(|(k, v)| k.is_empty() || k.len() > 128 || v.len() > 256)
        {
            return Err(Error::invalid(
                "tags: at most 50, keys of 1–128 and values of at most 256 characters",
            ));
        }
        let image = self
            .store
            .image_get(&req.image_id)
            .await?
            .filter(|i| Self::visible(p, i))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "image_id {} is not an image you can use (see `cloudctl image list`)",
                    req.image_id
                ))
            })?;
        let itype = self
            .store
            .instance_type_get(&req.instance_type)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "instance_type {} does not exist (see `cloudctl instance-type list`)",
                    req.instance_type
                ))
            })?;
        let key = match &req.key_name {
            Some(k) => Some(
                self.store
                    .key_pair_get_by_name(&p.account.id, k)
                    .await?
                    .ok_or_else(|| {
                        Error::invalid(format!("key_name {k} is not a key pair of your account"))
                    })?,
            ),
            None => None,
        };
        let (subnet, groups) = self
            .vpc
            .placement(
                p,
                req.subnet_id.as_deref(),
                req.security_group_ids.as_deref(),
            )
            .await?;
        let dedicated = req.dedicated.unwrap_or(false);

        let _guard = self.lock.lock().await;
        let n = u64::from(count);
        self.iam
            .quota_check(
                p,
                &[
                    ("instances", n),
                    ("vcpus", n * itype.vcpus.max(0) as u64),
                    ("memory_mib", n * itype.memory_mib.max(0) as u64),
                    ("network_interfaces", n),
                ],
            )
            .await?;
        let (host, pins) = self
            .place(count, itype.vcpus as u32, itype.memory_mib, dedicated)
            .await?;
        let now = Utc::now();
        let rows: Vec<InstanceRow> = pins
            .into_iter()
            .enumerate()
            .map(|(n, cores)| {
                let id = new_id("i");
                let name = match (&req.name, count) {
                    (Some(base), 1) => base.clone(),
                    (Some(base), _) => format!("{base}-{}", n + 1),
                    (None, _) => id.clone(),
                };
                InstanceRow {
                    id,
                    account_id: p.account.id.clone(),
                    name,
                    state: "pending".into(),
                    state_reason: "launching".into(),
                    image_id: image.id.clone(),
                    instance_type: itype.name.clone(),
                    vcpus: itype.vcpus,
                    memory_mib: itype.memory_mib,
                    disk_gib: itype.disk_gib,
                    key_name: key.as_ref().map(|k| k.name.clone()),
                    public_key: key.as_ref().map(|k| k.public_key.clone()),
                    subnet_id: subnet.id.clone(),
                    vpc_id: subnet.vpc_id.clone(),
                    eni_id: None,
                    security_group_ids: serde_json::to_string(&groups).unwrap_or_default(),
                    host_id: host.id.clone(),
                    accelerator: "unknown".into(),
                    dedicated,
                    pinned_cpus: serde_json::to_string(&cores).unwrap_or_default(),
                    user_data: user_data.clone(),
                    tags: serde_json::to_string(&tags).unwrap_or_default(),
                    step: Step::Reserved as i32,
                    created_at: now,
                    launched_at: None,
                    terminated_at: None,
                }
            })
            .collect();
        self.store.instance_create_many(rows.clone()).await?;
        drop(_guard);
        let mut items = Vec::new();
        for row in rows {
            items.push(self.instance_view(&row, None));
            self.busy.lock().expect("busy").insert(row.id.clone());
            let me = self.clone();
            let (p, subnet, groups, image) =
                (p.clone(), subnet.clone(), groups.clone(), image.clone());
            tokio::spawn(async move {
                let id = row.id.clone();
                me.launch(&p, row, &subnet, &groups, &image).await;
                me.busy.lock().expect("busy").remove(&id);
            });
        }
        Ok(api::InstanceList { items })
    }

    fn meta_data(row: &InstanceRow) -> String {
        cloud_init::meta_data(&row.id, &row.name, row.public_key.as_deref())
    }

    async fn domain_spec(
        &self,
        row: &InstanceRow,
        image: &ImageRow,
        accelerator: Accelerator,
    ) -> Result<DomainSpec> {
        let eni = row
            .eni_id
            .as_deref()
            .ok_or_else(|| Error::internal("an instance without its interface"))?;
        let (eni, bridge) = self.vpc.interface_wiring(&row.account_id, eni).await?;
        let dir = self.instance_dir(&row.id);
        let kernel = match (&image.kernel_path, &image.initrd_path) {
            (Some(k), Some(i)) => Some((
                PathBuf::from(k),
                PathBuf::from(i),
                format!("console=ttyS0 panic=-1 {}", image.cmdline)
                    .trim()
                    .to_owned(),
            )),
            _ => None,
        };
        Ok(DomainSpec {
            name: self.domain_name(&row.id),
            vcpus: row.vcpus as u32,
            memory_mib: row.memory_mib as u64,
            accelerator,
            kernel,
            disk: dir.join("disk.qcow2"),
            seed: dir.join("seed.iso"),
            bridge,
            tap: eni.device,
            mac: eni.mac,
            console_log: dir.join("console.log"),
            pinned: serde_json::from_str(&row.pinned_cpus).unwrap_or_default(),
        })
    }

    async fn save_step(&self, row: &mut InstanceRow, step: Step) -> Result<()> {
        row.step = step as i32;
        self.store.instance_save(row).await
    }

    /// The launch saga of one instance; on failure, unwinds and records why.
    async fn launch(
        &self,
        p: &Principal,
        mut row: InstanceRow,
        subnet: &crate::store::vpc::SubnetRow,
        groups: &[String],
        image: &ImageRow,
    ) {
        let result = async {
            for step in Step::SAGA {
                if *self.fail_at.lock().expect("fail_at") == Some(step) {
                    return Err(Error::Internal(format!(
                        "injected failure at step {step:?}"
                    )));
                }
                match step {
                    Step::Interface => {
                        let eni = self
                            .vpc
                            .interface_create_in(
                                p,
                                subnet,
                                groups,
                                &format!("instance/{}", row.id),
                                &row.name,
                            )
                            .await?;
                        row.eni_id = Some(eni.id);
                    }
                    Step::Disk => {
                        let dir = self.instance_dir(&row.id);
                        self.guest_dir(&dir)?;
                        // Never smaller than the image's root file system.
                        let image_gib = (image.min_disk_mib.max(0) as u64).div_ceil(1024);
                        let (disk, size) =
                            (dir.join("disk.qcow2"), (row.disk_gib as u64).max(image_gib));
                        let backing = image.disk_path.clone().map(PathBuf::from);
                        self.blocking(move |hv| hv.disk_create(&disk, size, backing.as_deref()))
                            .await?;
                    }
                    Step::Seed => {
                        let seed = self.instance_dir(&row.id).join("seed.iso");
                        let (meta, user) = (Self::meta_data(&row), row.user_data.clone());
                        self.blocking(move |hv| hv.seed_create(&seed, &meta, &user))
                            .await?;
                    }
                    Step::Domain => {
                        let accel = self.accelerator().await?;
                        row.accelerator = accel.as_str().into();
                        let spec = self.domain_spec(&row, image, accel).await?;
                        self.blocking(move |hv| hv.define_and_start(&spec)).await?;
                    }
                    Step::Reserved | Step::Running => {}
                }
                self.save_step(&mut row, step).await?;
            }
            if *self.fail_at.lock().expect("fail_at") == Some(Step::Running) {
                return Err(Error::Internal("injected failure at step Running".into()));
            }
            row.state = "running".into();
            row.state_reason = String::new();
            row.launched_at = Some(Utc::now());
            self.save_step(&mut row, Step::Running).await?;
            self.report(&row, Change::Started);
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(instance = %row.id, error = %e, "launch failed; unwinding");
            let reason = format!(
                "launch failed: {}",
                match &e {
                    Error::Internal(d) => d.clone(),
                    other => other.to_string(),
                }
            );
            if let Err(again) = self.unwind(&mut row, &reason).await {
                tracing::error!(instance = %row.id, error = %again, "unwinding a failed launch failed");
            }
        }
    }

    /// Undoes everything an instance holds on the host, idempotently, and marks it terminated.
    async fn unwind(&self, row: &mut InstanceRow, reason: &str) -> Result<()> {
        let name = self.domain_name(&row.id);
        self.blocking(move |hv| {
            hv.destroy(&name)?;
            hv.undefine(&name)
        })
        .await?;
        let dir = self.instance_dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(Error::internal)?;
        }
        if let Some(eni) = &row.eni_id {
            self.vpc.interface_release(&row.account_id, eni).await?;
        }
        row.state = "terminated".into();
        row.state_reason = reason.to_owned();
        row.pinned_cpus = "[]".into();
        row.terminated_at = Some(Utc::now());
        self.store.instance_save(row).await?;
        // Only what ever ran was reported; a launch that failed early leaves no usage.
        if row.launched_at.is_some() {
            self.report(row, Change::Deleted);
        }
        Ok(())
    }

    fn mark_busy(&self, id: &str) -> Result<()> {
        if !self.busy.lock().expect("busy").insert(id.to_owned()) {
            return Err(Error::Conflict(format!(
                "instance {id} is busy with another operation; try again shortly"
            )));
        }
        Ok(())
    }

    fn spawn_op<F>(&self, id: String, f: F)
    where
        F: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        let busy = self.busy.clone();
        tokio::spawn(async move {
            if let Err(e) = f.await {
                tracing::error!(instance = %id, error = %e, "instance operation failed");
            }
            busy.lock().expect("busy").remove(&id);
        });
    }

    pub async fn instance_stop(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:StopInstances", &Self::res(p, "instance", id))
            .await?;
        let mut row = self.instance_lookup(p, id).await?;
        match row.state.as_str() {
            "running" => {}
            "stopped" | "stopping" => return self.view(&row).await,
            other => {
                return Err(Error::Conflict(format!(
                    "instance {id} is {other}; only a running instance can be stopped"
                )));
            }
        }
        self.mark_busy(id)?;
        row.state = "stopping".into();
        row.state_reason = "stop requested".into();
        self.store.instance_save(&row).await?;
        let me = self.clone();
        let view = self.view(&row).await?;
        self.spawn_op(id.to_owned(), async move {
            let name = me.domain_name(&row.id);
            let n = name.clone();
            me.blocking(move |hv| hv.shutdown(&n)).await?;
            let deadline = tokio::time::Instant::now() + STOP_GRACE;
            loop {
                let n = name.clone();
                let st = me.blocking(move |hv| hv.state(&n)).await?;
                if matches!(st, DomainState::ShutOff | DomainState::Missing) {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    let n = name.clone();
                    me.blocking(move |hv| hv.destroy(&n)).await?;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            row.state = "stopped".into();
            row.state_reason = "User initiated".into();
            row.pinned_cpus = "[]".into();
            me.store.instance_save(&row).await?;
            me.report(&row, Change::Stopped);
            Ok(())
        });
        Ok(view)
    }

    pub async fn instance_start(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:StartInstances", &Self::res(p, "instance", id))
            .await?;
        let mut row = self.instance_lookup(p, id).await?;
        match row.state.as_str() {
            "stopped" => {}
            "running" | "pending" => return self.view(&row).await,
            other => {
                return Err(Error::Conflict(format!(
                    "instance {id} is {other}; only a stopped instance can be started"
                )));
            }
        }
        let image = self
            .store
            .image_get(&row.image_id)
            .await?
            .ok_or_else(|| Error::internal("the instance's image is gone"))?;
        self.mark_busy(id)?;
        let placed = async {
            let _guard = self.lock.lock().await;
            // A stopped instance released its capacity: starting it takes quota again.
            self.iam
                .quota_check(
                    p,
                    &[
                        ("vcpus", row.vcpus.max(0) as u64),
                        ("memory_mib", row.memory_mib.max(0) as u64),
                    ],
                )
                .await?;
            let (host, pins) = self
                .place(1, row.vcpus as u32, row.memory_mib, row.dedicated)
                .await?;
            row.host_id = host.id;
            row.pinned_cpus = serde_json::to_string(&pins[0]).unwrap_or_default();
            row.state = "pending".into();
            row.state_reason = "starting".into();
            self.store.instance_save(&row).await
        }
        .await;
        if let Err(e) = placed {
            self.busy.lock().expect("busy").remove(id);
            return Err(e);
        }
        let view = self.view(&row).await?;
        let me = self.clone();
        self.spawn_op(id.to_owned(), async move {
            let started = async {
                let accel = me.accelerator().await?;
                let spec = me.domain_spec(&row, &image, accel).await?;
                me.blocking(move |hv| hv.define_and_start(&spec)).await?;
                row.accelerator = accel.as_str().into();
                Ok::<_, Error>(())
            }
            .await;
            let ok = started.is_ok();
            match started {
                Ok(()) => {
                    row.state = "running".into();
                    row.state_reason = String::new();
                    row.launched_at = Some(Utc::now());
                }
                Err(e) => {
                    row.state = "stopped".into();
                    row.state_reason = format!("start failed: {e}");
                    row.pinned_cpus = "[]".into();
                }
            }
            me.store.instance_save(&row).await?;
            if ok {
                me.report(&row, Change::Started);
            }
            Ok(())
        });
        Ok(view)
    }

    pub async fn instance_reboot(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:RebootInstances", &Self::res(p, "instance", id))
            .await?;
        let row = self.instance_lookup(p, id).await?;
        if row.state != "running" {
            return Err(Error::Conflict(format!(
                "instance {id} is {}; only a running instance can be rebooted",
                row.state
            )));
        }
        let name = self.domain_name(id);
        self.blocking(move |hv| hv.reboot(&name)).await?;
        self.view(&row).await
    }

    pub async fn instance_terminate(&self, p: &Principal, id: &str) -> Result<api::Instance> {
        self.iam
            .authorize(p, "ec2:TerminateInstances", &Self::res(p, "instance", id))
            .await?;
        let mut row = self.instance_lookup(p, id).await?;
        if matches!(row.state.as_str(), "terminated" | "shutting-down") {
            return self.view(&row).await;
        }
        self.mark_busy(id)?;
        row.state = "shutting-down".into();
        row.state_reason = "User initiated".into();
        self.store.instance_save(&row).await?;
        let view = self.view(&row).await?;
        let me = self.clone();
        self.spawn_op(id.to_owned(), async move {
            me.unwind(&mut row, "User initiated").await
        });
        Ok(view)
    }

    pub async fn console_output(&self, p: &Principal, id: &str) -> Result<api::ConsoleOutput> {
        self.iam
            .authorize(p, "ec2:GetConsoleOutput", &Self::res(p, "instance", id))
            .await?;
        let row = self.instance_lookup(p, id).await?;
        let bytes =
            std::fs::read(self.instance_dir(&row.id).join("console.log")).unwrap_or_default();
        const MAX: usize = 64 * 1024;
        let truncated = bytes.len() > MAX;
        let tail = &bytes[bytes.len().saturating_sub(MAX)..];
        Ok(api::ConsoleOutput {
            instance_id: row.id,
            output: String::from_utf8_lossy(tail).into_owned(),
            truncated,
        })
    }

    /// Terminates every instance of an account at once (the account is being deleted).
    pub async fn account_purge(&self, account_id: &str) -> Result<()> {
        for mut row in self.store.instance_list(account_id).await? {
            if row.state != "terminated" {
                self.unwind(&mut row, "the account was deleted").await?;
            }
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Reconciliation: the database against the hypervisor

    /// Unwinds launches a crash interrupted, follows what guests did by themselves (a guest that
    /// powers off becomes stopped), and removes domains of this server the database does not know.
    /// Returns what it fixed, one line each.
    pub async fn reconcile(&self) -> Result<Vec<String>> {
        let live = self.store.instance_list_live().await?;
        let busy: HashSet<String> = self.busy.lock().expect("busy").clone();
        let mut known = HashSet::new();
        let mut fixed = Vec::new();
        for mut row in live {
            let name = self.domain_name(&row.id);
            known.insert(name.clone());
            if busy.contains(&row.id) {
                continue;
            }
            let n = name.clone();
            let st = self.blocking(move |hv| hv.state(&n)).await?;
            match row.state.as_str() {
                "pending" if row.step < Step::Running as i32 => {
                    let reason = "launch interrupted: the server stopped during the launch";
                    self.unwind(&mut row, reason).await?;
                    tracing::warn!(instance = %row.id, reason, "unwound an interrupted launch");
                    fixed.push(format!("{}: unwound ({reason})", row.id));
                }
                "pending" if st == DomainState::Running => {
                    row.state = "running".into();
                    self.store.instance_save(&row).await?;
                    self.report(&row, Change::Started);
                    fixed.push(format!("{}: running (its guest was up)", row.id));
                }
                "shutting-down" => {
                    self.unwind(&mut row, "User initiated").await?;
                    fixed.push(format!("{}: finished terminating", row.id));
                }
                "running" | "stopping" => {
                    let reason = match st {
                        DomainState::ShutOff => {
                            Some("Client.InstanceInitiatedShutdown: the guest powered itself off")
                        }
                        DomainState::Crashed => Some("Server.InternalError: the guest crashed"),
                        DomainState::Missing => {
                            Some("Server.InternalError: the domain disappeared from the hypervisor")
                        }
                        _ => None,
                    };
                    if let Some(reason) =
                        reason.filter(|_| row.state == "running" || st != DomainState::Running)
                    {
                        let n = name.clone();
                        self.blocking(move |hv| hv.destroy(&n)).await?;
                        let was_running = row.state == "running";
                        row.state = "stopped".into();
                        row.state_reason = reason.into();
                        row.pinned_cpus = "[]".into();
                        self.store.instance_save(&row).await?;
                        if was_running {
                            self.report(&row, Change::Stopped);
                        }
                        fixed.push(format!("{}: stopped ({reason})", row.id));
                    }
                }
                "stopped" if st == DomainState::Running => {
                    row.state = "running".into();
                    row.state_reason = "started outside Nuvem".into();
                    self.store.instance_save(&row).await?;
                    self.report(&row, Change::Started);
                    fixed.push(format!("{}: running (started outside Nuvem)", row.id));
                }
                _ => {}
            }
        }
        let prefix = self.domain_prefix.clone();
        let domains = self.blocking(move |hv| hv.list(&prefix)).await?;
        for d in domains.into_iter().filter(|d| !known.contains(d)) {
            tracing::warn!(domain = %d, "removing a domain this server does not know");
            fixed.push(format!("removed domain {d}, which no instance explains"));
            self.blocking(move |hv| {
                hv.destroy(&d)?;
                hv.undefine(&d)
            })
            .await?;
        }
        Ok(fixed)
    }

    /// Removes every domain of this server from the hypervisor (its database stays): for tests.
    pub fn teardown_host_blocking(&self) -> crate::drivers::DriverResult<()> {
        self.shutdown();
        for d in self.hv.list(&self.domain_prefix)? {
            self.hv.destroy(&d)?;
            self.hv.undefine(&d)?;
        }
        Ok(())
    }

    /// The cores libvirt pinned an instance's vCPUs to.
    pub async fn pins_reported(&self, id: &str) -> Result<Vec<u32>> {
        let name = self.domain_name(id);
        self.blocking(move |hv| hv.vcpu_pins(&name)).await
    }
}

/// Tags as JSON, for tests and views.
pub fn tags_json(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_default()
}
