//! The launch saga of one instance: its steps, each with its undo, over the instance row that
//! `RunInstances` wrote with the placement (the reservation).
//!
//! | step        | does                                   | undo                                       |
//! |-------------|----------------------------------------|--------------------------------------------|
//! | `reserve`   | (the row holds the capacity already)   | instance `terminated`, files and cores freed |
//! | `interface` | a network interface in its subnet      | release what is attached to the instance   |
//! | `disk`      | a qcow2 disk over the image            | remove the disk                            |
//! | `seed`      | the cloud-init seed ISO                | remove the seed                            |
//! | `domain`    | define and start the libvirt domain    | destroy and undefine it                    |
//! | `running`   | the instance is `running`; usage starts | (the `reserve` undo reports the end)      |

use std::path::PathBuf;

use chrono::Utc;
use nuvem_api::ec2::InstanceState;
use serde::{Deserialize, Serialize};

use super::{Compute, cloud_init};
use crate::drivers::hypervisor::{Accelerator, DomainSpec};
use crate::error::{Error, Result};
use crate::saga::{Recovery, SagaKind, Step, StepFuture, nothing_to_undo};
use crate::store::column::CoreList;
use crate::store::compute::{ImageRow, InstanceRow};
use crate::usage::Change;

/// What the launch steps share (saved in the saga log after each step).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launch {
    pub instance_id: String,
    pub account_id: String,
    pub image_id: String,
}

/// The saga kind of a launch.
pub struct LaunchSaga;

impl SagaKind for LaunchSaga {
    type Context = Compute;
    type State = Launch;
    const KIND: &'static str = "compute.instance-launch";
    /// A launch a crash interrupted is taken back: the instance ends terminated, with the reason.
    const RECOVERY: Recovery = Recovery::Unwind;

    fn steps() -> &'static [Step<Compute, Launch>] {
        STEPS
    }

    fn resource(state: &Launch) -> String {
        LaunchSaga::resource_of(&state.instance_id)
    }
}

impl LaunchSaga {
    pub fn resource_of(instance_id: &str) -> String {
        format!("instance/{instance_id}")
    }
}

const STEPS: &[Step<Compute, Launch>] = &[
    Step {
        name: "reserve",
        run: reserve,
        undo: release,
    },
    Step {
        name: "interface",
        run: interface_create,
        undo: interface_release,
    },
    Step {
        name: "disk",
        run: disk_create,
        undo: disk_remove,
    },
    Step {
        name: "seed",
        run: seed_create,
        undo: seed_remove,
    },
    Step {
        name: "domain",
        run: domain_start,
        undo: domain_remove,
    },
    Step {
        name: "running",
        run: mark_running,
        undo: nothing_to_undo,
    },
];

impl Compute {
    pub(super) async fn launching(&self, s: &Launch) -> Result<InstanceRow> {
        self.store
            .instance_get(&s.account_id, &s.instance_id)
            .await?
            .ok_or_else(|| Error::internal(format!("instance {} vanished", s.instance_id)))
    }

    pub(super) async fn launch_image(&self, s: &Launch) -> Result<ImageRow> {
        self.store
            .image_get(&s.image_id)
            .await?
            .ok_or_else(|| Error::internal(format!("image {} vanished", s.image_id)))
    }

    pub(super) fn disk_path(&self, instance_id: &str) -> PathBuf {
        self.instance_dir(instance_id).join("disk.qcow2")
    }

    pub(super) fn seed_path(&self, instance_id: &str) -> PathBuf {
        self.instance_dir(instance_id).join("seed.iso")
    }

    pub(super) async fn domain_spec(
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
            pinned: row.pinned_cpus.0.clone(),
        })
    }

    /// Everything an instance holds on the host, undone idempotently, and the instance marked
    /// terminated: for terminate, account deletion and the reconciler (a launch undoes its own
    /// steps instead).
    pub(super) async fn teardown(&self, row: &mut InstanceRow, reason: &str) -> Result<()> {
        let name = self.domain_name(&row.id);
        self.blocking(move |hv| {
            hv.destroy(&name)?;
            hv.undefine(&name)
        })
        .await?;
        self.vpc
            .interface_release_attached(&row.account_id, &LaunchSaga::resource_of(&row.id))
            .await?;
        if let Some(eni) = &row.eni_id {
            self.vpc.interface_release(&row.account_id, eni).await?;
        }
        self.terminated(row, reason).await
    }

    /// Removes an instance's files and marks it terminated, its capacity and cores freed.
    pub(super) async fn terminated(&self, row: &mut InstanceRow, reason: &str) -> Result<()> {
        let dir = self.instance_dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(Error::internal)?;
        }
        if row.state == InstanceState::Terminated {
            return Ok(());
        }
        row.state = InstanceState::Terminated.into();
        row.state_reason = reason.to_owned();
        row.pinned_cpus = CoreList::default();
        row.terminated_at = Some(Utc::now());
        self.store.instance_save(row).await?;
        // Only what ever ran was reported; a launch that failed early leaves no usage.
        if row.launched_at.is_some() {
            self.report(row, Change::Deleted).await;
        }
        Ok(())
    }
}

fn remove_file(path: PathBuf) -> Result<()> {
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::internal(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

fn reserve<'a>(_: &'a Compute, _: &'a mut Launch) -> StepFuture<'a> {
    // `RunInstances` wrote the row (the reservation) under the placement lock, for every
    // instance of the request at once; this step is where the saga takes it back.
    Box::pin(async { Ok(()) })
}

fn release<'a>(c: &'a Compute, s: &'a Launch, reason: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        let mut row = c.launching(s).await?;
        c.terminated(&mut row, &format!("launch failed: {reason}"))
            .await
    })
}

fn interface_create<'a>(c: &'a Compute, s: &'a mut Launch) -> StepFuture<'a> {
    Box::pin(async move {
        let mut row = c.launching(s).await?;
        let eni = c
            .vpc
            .interface_create_in(
                &row.account_id,
                &row.subnet_id,
                &row.security_group_ids.0,
                &LaunchSaga::resource_of(&row.id),
                &row.name,
            )
            .await?;
        row.eni_id = Some(eni.id);
        c.store.instance_save(&mut row).await
    })
}

fn interface_release<'a>(c: &'a Compute, s: &'a Launch, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        c.vpc
            .interface_release_attached(&s.account_id, &LaunchSaga::resource_of(&s.instance_id))
            .await
    })
}

fn disk_create<'a>(c: &'a Compute, s: &'a mut Launch) -> StepFuture<'a> {
    Box::pin(async move {
        let (row, image) = (c.launching(s).await?, c.launch_image(s).await?);
        c.guest_dir(&c.instance_dir(&row.id))?;
        // Never smaller than the image's root file system.
        let image_gib = (image.min_disk_mib.max(0) as u64).div_ceil(1024);
        let size = (row.disk_gib.max(0) as u64).max(image_gib);
        let (disk, backing) = (c.disk_path(&row.id), image.disk_path.map(PathBuf::from));
        c.blocking(move |hv| hv.disk_create(&disk, size, backing.as_deref()))
            .await
    })
}

fn disk_remove<'a>(c: &'a Compute, s: &'a Launch, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move { remove_file(c.disk_path(&s.instance_id)) })
}

fn seed_create<'a>(c: &'a Compute, s: &'a mut Launch) -> StepFuture<'a> {
    Box::pin(async move {
        let row = c.launching(s).await?;
        let seed = c.seed_path(&row.id);
        let meta = cloud_init::meta_data(&row.id, &row.name, row.public_key.as_deref());
        let user = row.user_data.clone();
        c.blocking(move |hv| hv.seed_create(&seed, &meta, &user))
            .await
    })
}

fn seed_remove<'a>(c: &'a Compute, s: &'a Launch, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move { remove_file(c.seed_path(&s.instance_id)) })
}

fn domain_start<'a>(c: &'a Compute, s: &'a mut Launch) -> StepFuture<'a> {
    Box::pin(async move {
        let (mut row, image) = (c.launching(s).await?, c.launch_image(s).await?);
        let accel = c.accelerator().await?;
        row.accelerator = accel.as_str().into();
        c.store.instance_save(&mut row).await?;
        let spec = c.domain_spec(&row, &image, accel).await?;
        c.blocking(move |hv| hv.define_and_start(&spec)).await
    })
}

fn domain_remove<'a>(c: &'a Compute, s: &'a Launch, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        let name = c.domain_name(&s.instance_id);
        c.blocking(move |hv| {
            hv.destroy(&name)?;
            hv.undefine(&name)
        })
        .await
    })
}

fn mark_running<'a>(c: &'a Compute, s: &'a mut Launch) -> StepFuture<'a> {
    Box::pin(async move {
        let mut row = c.launching(s).await?;
        row.state = InstanceState::Running.into();
        row.state_reason = String::new();
        row.launched_at = Some(Utc::now());
        c.store.instance_save(&mut row).await?;
        c.report(&row, Change::Started).await;
        Ok(())
    })
}
