//! Who is calling ([`Principal`]) and [`Iam::authorize`], the one check every action goes through;
//! the NRNs that check is made against.

use nuvem_api::iam as api;
use nuvem_api::policy::{self, Decision};
use nuvem_api::{nrn::nrn, validate};

use std::sync::Arc;

use super::{Iam, SessionRef, check_name};
use crate::error::{Error, Result};
use crate::store::{AccessKeyRow, AccountRow, PolicyRow, UserRow};

/// Who is calling: established once per request by authentication.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountRow,
    pub user: UserRow,
    pub access_key_id: Option<String>,
    /// The operator user behind an assumed-account session (its NRN).
    pub assumed_by: Option<String>,
    /// The session this request came with (`None` while a session is being issued).
    pub session: Option<SessionRef>,
}

impl Principal {
    pub fn user_nrn(&self) -> String {
        nrn("iam", &self.account.id, "user", &self.user.name)
    }

    pub fn identity(&self) -> api::Identity {
        api::Identity {
            account_id: self.account.id.clone(),
            account_name: self.account.name.clone(),
            user: self.user.name.clone(),
            user_nrn: self.user_nrn(),
            is_root: self.user.is_root,
            is_operator: self.account.is_operator,
            auth_method: if self.access_key_id.is_some() {
                api::AuthMethod::AccessKey
            } else {
                api::AuthMethod::Password
            },
            access_key_id: self.access_key_id.clone(),
            assumed_by: self.assumed_by.clone(),
        }
    }
}

impl Iam {
    pub(super) async fn principal(
        &self,
        user_id: &str,
        account_id: &str,
        key: Option<&AccessKeyRow>,
    ) -> Result<Principal> {
        let gone =
            || Error::Unauthenticated("the user of this session no longer exists".to_owned());
        let user = self.store.user_get(user_id).await?.ok_or_else(gone)?;
        let account = self.store.account_get(account_id).await?.ok_or_else(gone)?;
        if user.account_id != account.id {
            return Err(gone());
        }
        Ok(Principal {
            account,
            user,
            access_key_id: key.map(|k| k.id.clone()),
            assumed_by: None,
            session: None,
        })
    }

    /// The one authorization check. Root users may do everything in their own account; everyone
    /// else needs an Allow from a policy attached to them or to one of their groups, and no Deny.
    pub async fn authorize(&self, p: &Principal, action: &str, resource: &str) -> Result<()> {
        if resource.len() > policy::MAX_RESOURCE {
            return Err(Error::invalid(format!(
                "the resource name is {} characters long; names this long are never valid (at most {})",
                resource.len(),
                policy::MAX_RESOURCE
            )));
        }
        let in_own_account = nuvem_api::nrn::parse(resource)
            .is_some_and(|r| r.account == p.account.id || r.account.is_empty());
        if !in_own_account {
            return Err(Error::AccessDenied(format!(
                "{} may not act on {resource}: it belongs to another account",
                p.user_nrn()
            )));
        }
        if p.user.is_root {
            return Ok(());
        }
        let docs = self.effective_policies(&p.user.id).await?;
        match policy::evaluate(docs.iter().map(|(n, d)| (n.as_str(), d)), action, resource) {
            Decision::Allow { .. } => Ok(()),
            Decision::ExplicitDeny { policy, sid } => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: explicitly denied by policy '{policy}'{}",
                p.user_nrn(),
                sid.map(|s| format!(" (statement {s})")).unwrap_or_default()
            ))),
            Decision::ImplicitDeny => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: no policy attached to the user or its groups allows it",
                p.user_nrn()
            ))),
        }
    }

    /// What the caller's identity policies say about `action` on `resource`, whoever owns it: the
    /// S3 endpoint combines it with the bucket's policy (cross-account access needs both). Root
    /// may do everything its own side can grant.
    pub async fn identity_decision(
        &self,
        p: &Principal,
        action: &str,
        resource: &str,
    ) -> Result<Decision> {
        if p.user.is_root {
            return Ok(Decision::Allow {
                policy: "root".to_owned(),
                sid: None,
            });
        }
        let docs = self.effective_policies(&p.user.id).await?;
        Ok(policy::evaluate(
            docs.iter().map(|(n, d)| (n.as_str(), d)),
            action,
            resource,
        ))
    }

    /// The user's effective policies, parsed; cached until the next IAM write.
    async fn effective_policies(
        &self,
        user_id: &str,
    ) -> Result<Arc<Vec<(String, policy::PolicyDocument)>>> {
        let generation = self.store.iam_generation();
        if let Some(docs) = self.caches.policies.get(user_id, generation) {
            return Ok(docs);
        }
        let rows = self.store.policy_list_effective_for_user(user_id).await?;
        let mut docs = Vec::with_capacity(rows.len());
        for row in &rows {
            docs.push((row.name.clone(), parse_stored_policy(row)?));
        }
        let docs = Arc::new(docs);
        self.caches.policies.put(user_id, generation, docs.clone());
        Ok(docs)
    }

    /// Refuses every principal outside the operator account, whatever its policies say.
    pub fn require_operator(&self, p: &Principal, action: &str) -> Result<()> {
        if p.account.is_operator {
            Ok(())
        } else {
            Err(Error::AccessDenied(format!(
                "{action} is an operator action: only principals of the '{}' account may call it",
                api::OPERATOR_ACCOUNT
            )))
        }
    }

    pub(super) fn iam_nrn(p: &Principal, kind: &str, name: &str) -> String {
        nrn("iam", &p.account.id, kind, name)
    }

    /// The NRN of a named IAM resource, after the name is validated: a malformed name is a 400
    /// before any policy is evaluated against it.
    pub(super) fn named_nrn(p: &Principal, kind: &str, name: &str) -> Result<String> {
        let max = match kind {
            "user" => validate::MAX_USER_NAME,
            "group" => validate::MAX_GROUP_NAME,
            _ => validate::MAX_POLICY_NAME,
        };
        check_name(kind, name, max)?;
        Ok(Self::iam_nrn(p, kind, name))
    }

    /// No IAM action may target an account's root user but root's own (as in AWS): otherwise a
    /// user allowed `iam:UpdateLoginProfile` or `iam:CreateAccessKey` on `user/*` could take
    /// over root, which no policy binds.
    pub(super) fn refuse_root_target(p: &Principal, target: &UserRow, action: &str) -> Result<()> {
        if target.is_root && p.user.id != target.id {
            return Err(Error::AccessDenied(format!(
                "{} may not {action} on the root user: root's password, keys, groups and policies are changed only by root itself (sign in as root)",
                p.user_nrn()
            )));
        }
        Ok(())
    }
}

/// Stored documents were validated on write; one that no longer parses is a server bug.
fn parse_stored_policy(row: &PolicyRow) -> Result<policy::PolicyDocument> {
    let value: serde_json::Value = serde_json::from_str(&row.document).map_err(Error::internal)?;
    policy::parse(&value)
        .map_err(|e| Error::internal(format!("stored policy {} no longer parses: {e}", row.id)))
}
