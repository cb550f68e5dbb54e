//! Start-up of the compute service: this host, the built images, the accelerator (KVM or TCG).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::Utc;
use nuvem_api::ec2::ImageFormat;

use super::scheduler::HOST_RESERVED_MIB;
use super::{Compute, LOCAL_HOST_ID, default_instance_types, new_id};
use crate::drivers::hypervisor::Accelerator;
use crate::error::Result;
use crate::store::compute::{HostRow, ImageRow};

impl Compute {
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
        let existing = self
            .store
            .host_list()
            .await?
            .into_iter()
            .find(|h| h.id == LOCAL_HOST_ID);
        self.store
            .host_put(HostRow {
                id: LOCAL_HOST_ID.into(),
                // One name everywhere (host list, instances, console): `host-1`, not the
                // machine's hostname, which can change under it.
                name: LOCAL_HOST_ID.into(),
                uri: self.cfg.libvirt_uri.clone(),
                cores,
                memory_mib,
                // A ratio given at start wins; else the host keeps the one set live.
                cpu_ratio: self
                    .cfg
                    .cpu_ratio
                    .or(existing.as_ref().map(|h| h.cpu_ratio))
                    .unwrap_or(1.0),
                reserved_memory_mib: existing
                    .as_ref()
                    .map(|h| h.reserved_memory_mib)
                    .unwrap_or(HOST_RESERVED_MIB),
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
    pub(super) async fn register_built_images(&self) -> anyhow::Result<()> {
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
            let format_name = meta["format"].as_str().unwrap_or("kernel-initrd");
            let Some(format) = ImageFormat::parse(format_name) else {
                tracing::warn!(dir = %dir.display(), format = format_name, "unknown image format (kernel-initrd or qcow2); skipped");
                continue;
            };
            // A file named in image.json, else the conventional name.
            let file = |key: &str, default: &str| dir.join(meta[key].as_str().unwrap_or(default));
            let (kernel, initrd, disk) = match format {
                ImageFormat::KernelInitrd => (
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
                    format: format.into(),
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
    pub(super) async fn accelerator(&self) -> Result<Accelerator> {
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
}
