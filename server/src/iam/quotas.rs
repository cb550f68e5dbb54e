//! Per-account quotas: the operator's defaults (configuration), per-account overrides (database),
//! and the check every service makes before it creates something that takes shared capacity.
//!
//! Students share one host: without quotas one account could take the whole VPC address pool,
//! every host port or all the memory, and the next student could not even get a default VPC.

use nuvem_api::iam::{self as api, QUOTAS};
use nuvem_api::nrn::nrn;

use super::{Iam, Principal};
use crate::error::{Error, Result};
use crate::store::AccountRow;

/// The limits of an account that has no override (`[quotas]` in the configuration file).
pub type QuotaDefaults = nuvem_api::iam::QuotaValues;

fn describe(quota: &str) -> &'static str {
    QUOTAS
        .iter()
        .find(|(n, _)| *n == quota)
        .map(|(_, d)| *d)
        .unwrap_or("")
}

impl Iam {
    /// Refuses (`LimitExceeded`, naming the quota and how to raise it) when adding the given
    /// amounts would take the caller's account past a limit. Services call it after authorization
    /// and before they create anything, e.g. `quota_check(p, &[("instances", 2), ("vcpus", 4)])`.
    pub async fn quota_check(&self, p: &Principal, adding: &[(&str, u64)]) -> Result<()> {
        let usage = self.store.account_usage(&p.account.id).await?;
        let overrides = self.store.quota_list(&p.account.id).await?;
        for (quota, more) in adding {
            let limit = match overrides.iter().find(|(n, _)| n == quota) {
                Some((_, v)) => *v,
                None => self
                    .quotas
                    .get(quota)
                    .ok_or_else(|| Error::internal(format!("no such quota {quota}")))?,
            };
            let used = usage
                .get(quota)
                .ok_or_else(|| Error::internal(format!("no usage for quota {quota}")))?;
            if used.saturating_add(*more) > limit {
                return Err(Error::LimitExceeded(format!(
                    "quota '{quota}' ({}) of account '{}' is {limit} and {used} in use, so {more} more do not fit; free some, or ask the operator to raise it: cloudctl account quotas {} --set {quota}={}",
                    describe(quota),
                    p.account.name,
                    p.account.name,
                    used.saturating_add(*more).max(limit.saturating_mul(2)),
                )));
            }
        }
        Ok(())
    }

    async fn quota_view(&self, account: &AccountRow) -> Result<api::QuotaList> {
        let overrides = self.store.quota_list(&account.id).await?;
        let usage = self.store.account_usage(&account.id).await?;
        let items = QUOTAS
            .iter()
            .map(|(name, description)| {
                let own = overrides.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
                api::Quota {
                    name: (*name).to_owned(),
                    description: (*description).to_owned(),
                    limit: own.or(self.quotas.get(name)).unwrap_or(0),
                    used: usage.get(name).unwrap_or(0),
                    is_default: own.is_none(),
                }
            })
            .collect();
        Ok(api::QuotaList {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            items,
        })
    }

    /// The caller's own account's quotas and usage (`GET /v1/quotas`).
    pub async fn quota_list(&self, p: &Principal) -> Result<api::QuotaList> {
        self.authorize(
            p,
            "iam:GetAccountQuotas",
            &nrn("iam", &p.account.id, "quota", "*"),
        )
        .await?;
        self.quota_view(&p.account).await
    }

    /// Another account's quotas (operator only).
    pub async fn account_quota_list(&self, p: &Principal, name: &str) -> Result<api::QuotaList> {
        let account = self.account_for(p, "iam:GetAccountQuotas", name).await?;
        self.quota_view(&account).await
    }

    /// Sets or resets an account's quotas (operator only). Lowering a limit below what is in use
    /// is allowed: nothing is taken away, only new creations are refused.
    pub async fn account_quota_set(
        &self,
        p: &Principal,
        name: &str,
        req: api::SetQuotasRequest,
    ) -> Result<api::QuotaList> {
        let account = self.account_for(p, "iam:SetAccountQuotas", name).await?;
        if req.limits.is_empty() {
            return Err(Error::invalid(
                "limits is empty: name at least one quota, e.g. {\"limits\": {\"vpcs\": 10}}",
            ));
        }
        for (quota, value) in &req.limits {
            if self.quotas.get(quota).is_none() {
                let names: Vec<&str> = QUOTAS.iter().map(|(n, _)| *n).collect();
                return Err(Error::invalid(format!(
                    "there is no quota '{quota}'; the quotas are {}",
                    names.join(", ")
                )));
            }
            if value.is_some_and(|v| v > i64::MAX as u64) {
                return Err(Error::invalid(format!("{quota}: the value is too large")));
            }
        }
        for (quota, value) in &req.limits {
            self.store.quota_set(&account.id, quota, *value).await?;
        }
        tracing::info!(operator = %p.user_nrn(), account = %account.name, limits = ?req.limits, "quotas changed");
        self.quota_view(&account).await
    }
}
