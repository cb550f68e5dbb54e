//! Queries of sign-out (revoked sessions) and per-account quotas, with the usage they are checked
//! against.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Store;
use super::entity::{account_quota, revoked_session};
use super::vpc::cidr_addresses;
use crate::error::Result;

/// What an account uses now, in the units of its quotas.
pub type AccountUsage = nuvem_api::iam::QuotaValues;

impl Store {
    // Revoked sessions

    /// Records a signed-out session, and prunes those that have expired anyway.
    pub async fn session_revoke(
        &self,
        session_id: &str,
        user_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let now = Utc::now();
        revoked_session::Entity::delete_many()
            .filter(revoked_session::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        if self.session_is_revoked(session_id).await? {
            return Ok(());
        }
        revoked_session::ActiveModel {
            session_id: Set(session_id.to_owned()),
            user_id: Set(user_id.to_owned()),
            expires_at: Set(expires_at),
            revoked_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn session_is_revoked(&self, session_id: &str) -> Result<bool> {
        Ok(revoked_session::Entity::find_by_id(session_id)
            .one(&self.db)
            .await?
            .is_some())
    }

    // Quotas

    /// The operator's overrides for an account: (name, value).
    pub async fn quota_list(&self, account_id: &str) -> Result<Vec<(String, u64)>> {
        Ok(account_quota::Entity::find()
            .filter(account_quota::Column::AccountId.eq(account_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|q| (q.name, q.value.max(0) as u64))
            .collect())
    }

    /// Sets (`Some`) or removes (`None`: back to the default) one override.
    pub async fn quota_set(&self, account_id: &str, name: &str, value: Option<u64>) -> Result<()> {
        account_quota::Entity::delete_many()
            .filter(account_quota::Column::AccountId.eq(account_id))
            .filter(account_quota::Column::Name.eq(name))
            .exec(&self.db)
            .await?;
        if let Some(v) = value {
            account_quota::ActiveModel {
                account_id: Set(account_id.to_owned()),
                name: Set(name.to_owned()),
                value: Set(i64::try_from(v).unwrap_or(i64::MAX)),
            }
            .insert(&self.db)
            .await?;
        }
        Ok(())
    }

    /// Counts what an account holds. Lists are per account and bounded by the quotas themselves.
    pub async fn account_usage(&self, account_id: &str) -> Result<AccountUsage> {
        let vpcs = self.vpc_list(account_id).await?;
        let instances = self.instance_list(account_id).await?;
        let active: Vec<_> = instances
            .iter()
            .filter(|i| super::compute::ACTIVE_STATES.contains(&i.state.as_str()))
            .collect();
        // Replicas hold capacity as instances do: their CPU limits (rounded up) and memory.
        let (mut app_replicas, mut app_vcpus, mut app_memory) = (0u64, 0u64, 0u64);
        for app in self.app_list(account_id).await? {
            let n = app.replicas_desired.max(0) as u64;
            if let Ok(spec) = serde_json::from_str::<nuvem_api::apps::AppSpec>(&app.spec) {
                app_replicas += n;
                app_vcpus += n * spec.cpu.ceil() as u64;
                app_memory += n * u64::from(spec.memory_mib);
            }
        }
        Ok(AccountUsage {
            vpcs: vpcs.len() as u64,
            vpc_addresses: vpcs.iter().map(|v| cidr_addresses(&v.cidr)).sum(),
            subnets: self.subnet_list(account_id, None).await?.len() as u64,
            security_groups: self.sg_list(account_id, None).await?.len() as u64,
            network_interfaces: self.eni_list(account_id, None).await?.len() as u64,
            port_forwards: self.port_forward_list(account_id).await?.len() as u64,
            instances: instances
                .iter()
                .filter(|i| i.state != nuvem_api::ec2::InstanceState::Terminated)
                .count() as u64,
            vcpus: active.iter().map(|i| i.vcpus.max(0) as u64).sum::<u64>() + app_vcpus,
            memory_mib: active
                .iter()
                .map(|i| i.memory_mib.max(0) as u64)
                .sum::<u64>()
                + app_memory,
            app_replicas,
        })
    }
}
