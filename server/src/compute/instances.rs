//! Instances: views, lookups, and `RunInstances` (validation, quotas, placement, one launch
//! saga per instance).

use chrono::Utc;
use nuvem_api::ec2::{self as api, InstanceState};
use nuvem_api::nrn::nrn;
use nuvem_api::validate;

use super::launch::{Launch, LaunchSaga};
use super::{Compute, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::column::{CoreList, IdList, Tags};
use crate::store::compute::InstanceRow;

impl Compute {
    // ----------------------------------------------------------------------------------------
    // Instances

    pub(super) fn instance_view(&self, i: &InstanceRow, ip: Option<String>) -> api::Instance {
        api::Instance {
            id: i.id.clone(),
            name: i.name.clone(),
            nrn: nrn("ec2", &i.account_id, "instance", &i.id),
            state: i.state.get(),
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
            security_group_ids: i.security_group_ids.0.clone(),
            host: i.host_id.clone(),
            accelerator: i.accelerator.clone(),
            pinned_cpus: i.pinned_cpus.0.clone(),
            tags: i.tags.0.clone(),
            created_at: i.created_at,
            launched_at: i.launched_at,
        }
    }

    pub(super) async fn view(&self, i: &InstanceRow) -> Result<api::Instance> {
        let ip = match &i.eni_id {
            Some(e) if i.state != InstanceState::Terminated => self
                .vpc
                .interface_wiring(&i.account_id, e)
                .await
                .ok()
                .map(|(e, _)| e.private_ip),
            _ => None,
        };
        Ok(self.instance_view(i, ip))
    }

    pub(super) async fn instance_lookup(&self, p: &Principal, id: &str) -> Result<InstanceRow> {
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
                    state: api::InstanceState::Pending.into(),
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
                    security_group_ids: IdList(groups.clone()),
                    host_id: host.id.clone(),
                    accelerator: "unknown".into(),
                    dedicated,
                    pinned_cpus: CoreList(cores),
                    user_data: user_data.clone(),
                    tags: Tags(tags.clone()),
                    generation: 0,
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
            let launch = Launch {
                instance_id: row.id.clone(),
                account_id: row.account_id.clone(),
                image_id: image.id.clone(),
            };
            tokio::spawn(async move {
                let id = launch.instance_id.clone();
                if let Err(e) = me.sagas.run::<LaunchSaga>(&me, launch).await {
                    tracing::warn!(instance = %id, error = %e, "launch failed and was unwound");
                }
                me.busy.lock().expect("busy").remove(&id);
            });
        }
        Ok(api::InstanceList { items })
    }
}
