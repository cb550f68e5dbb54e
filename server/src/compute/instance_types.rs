//! Instance types: sizes and prices, edited by the operator.

use nuvem_api::ec2 as api;

use super::Compute;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::compute::InstanceTypeRow;

impl Compute {
    pub(super) fn type_view(t: &InstanceTypeRow) -> api::InstanceType {
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
        self.iam.require_operator(p, "ec2:ModifyInstanceTypes")?;
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
}
