//! Managed policies of the caller's account: their documents, and their attachment to users and
//! groups.

use chrono::Utc;
use nuvem_api::iam as api;
use nuvem_api::policy;
use nuvem_api::{ListParams, nrn::nrn, validate};

use super::{Iam, Principal, check, check_name, crypto, page_limit};
use crate::error::{Error, Result};
use crate::store::{PolicyRow, PrincipalKind};

impl Iam {
    async fn policy_lookup(&self, p: &Principal, name: &str) -> Result<PolicyRow> {
        check_name("policy", name, validate::MAX_POLICY_NAME)?;
        self.store
            .policy_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("policy", name))
    }

    async fn policy_view(&self, row: &PolicyRow) -> Result<api::Policy> {
        let count = self.store.policy_attachment_count(&row.id).await?;
        Ok(api::Policy {
            id: row.id.clone(),
            name: row.name.clone(),
            nrn: nrn("iam", &row.account_id, "policy", &row.name),
            description: row.description.clone(),
            document: serde_json::from_str(&row.document).map_err(Error::internal)?,
            attachment_count: count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub async fn policy_create(
        &self,
        p: &Principal,
        req: api::CreatePolicyRequest,
    ) -> Result<api::Policy> {
        self.authorize(
            p,
            "iam:CreatePolicy",
            &Self::named_nrn(p, "policy", &req.name)?,
        )
        .await?;
        check(validate::policy_name(&req.name))?;
        let description = req.description.unwrap_or_default();
        check(validate::description(&description))?;
        policy::parse(&req.document)
            .map_err(|e| Error::invalid(format!("invalid policy document: {e}")))?;
        let now = Utc::now();
        let row = PolicyRow {
            id: crypto::new_id("pol"),
            account_id: p.account.id.clone(),
            name: req.name,
            description,
            document: req.document.to_string(),
            created_at: now,
            updated_at: now,
        };
        let row = self.store.policy_create(row).await?;
        self.policy_view(&row).await
    }

    pub async fn policy_list(&self, p: &Principal, params: ListParams) -> Result<api::PolicyList> {
        self.authorize(p, "iam:ListPolicies", &Self::iam_nrn(p, "policy", "*"))
            .await?;
        let page = self
            .store
            .policy_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for row in &page.items {
            items.push(self.policy_view(row).await?);
        }
        Ok(api::PolicyList {
            items,
            next_marker: page.next_marker,
        })
    }

    pub async fn policy_get(&self, p: &Principal, name: &str) -> Result<api::Policy> {
        self.authorize(p, "iam:GetPolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        self.policy_view(&row).await
    }

    pub async fn policy_update(
        &self,
        p: &Principal,
        name: &str,
        req: api::UpdatePolicyRequest,
    ) -> Result<api::Policy> {
        self.authorize(p, "iam:UpdatePolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        if let Some(d) = &req.description {
            check(validate::description(d))?;
        }
        policy::parse(&req.document)
            .map_err(|e| Error::invalid(format!("invalid policy document: {e}")))?;
        let row = self
            .store
            .policy_update(&row.id, req.description, req.document.to_string())
            .await?;
        self.policy_view(&row).await
    }

    pub async fn policy_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeletePolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        let count = self.store.policy_attachment_count(&row.id).await?;
        if count > 0 {
            return Err(Error::DependencyViolation(format!(
                "policy '{name}' is attached to {count} user(s) or group(s); detach it first"
            )));
        }
        self.store.policy_delete(&row.id).await
    }

    /// The id of the user or group a policy is attached to; `write` names the action when it
    /// changes something (then root may only be the target of root itself).
    async fn attach_target(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        name: &str,
        write: Option<&str>,
    ) -> Result<String> {
        Ok(match kind {
            PrincipalKind::User => {
                let user = self.user_lookup(p, name).await?;
                if let Some(action) = write {
                    Self::refuse_root_target(p, &user, action)?;
                }
                user.id
            }
            PrincipalKind::Group => self.group_lookup(p, name).await?.id,
        })
    }

    fn attach_action(kind: PrincipalKind, verb: &str) -> (String, &'static str) {
        match kind {
            PrincipalKind::User => (format!("iam:{verb}UserPolicy"), "user"),
            PrincipalKind::Group => (format!("iam:{verb}GroupPolicy"), "group"),
        }
    }

    pub async fn policy_attach(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
        policy_name: &str,
    ) -> Result<()> {
        let (action, type_) = Self::attach_action(kind, "Attach");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self
            .attach_target(p, kind, principal, Some(&action))
            .await?;
        let policy = self.policy_lookup(p, policy_name).await?;
        self.store.policy_attach(&policy.id, kind, &target).await
    }

    pub async fn policy_detach(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
        policy_name: &str,
    ) -> Result<()> {
        let (action, type_) = Self::attach_action(kind, "Detach");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self
            .attach_target(p, kind, principal, Some(&action))
            .await?;
        let policy = self.policy_lookup(p, policy_name).await?;
        if !self.store.policy_detach(&policy.id, kind, &target).await? {
            return Err(Error::NotFound(format!(
                "policy '{policy_name}' is not attached to {type_} '{principal}'"
            )));
        }
        Ok(())
    }

    pub async fn policy_list_attached(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<api::AttachedPolicies> {
        let (action, type_) = Self::attach_action(kind, "ListAttached");
        let action = action.replace("Policy", "Policies");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self.attach_target(p, kind, principal, None).await?;
        let rows = self.store.policy_list_attached(kind, &target).await?;
        Ok(api::AttachedPolicies {
            items: rows.into_iter().map(|r| r.name).collect(),
        })
    }
}
