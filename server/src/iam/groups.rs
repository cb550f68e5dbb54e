//! Groups of users of the caller's account, and their members.

use chrono::Utc;
use nuvem_api::iam as api;
use nuvem_api::{ListParams, nrn::nrn, validate};

use super::{Iam, Principal, check, check_name, crypto, page_limit};
use crate::error::{Error, Result};
use crate::store::{GroupRow, PrincipalKind};

impl Iam {
    pub(super) async fn group_lookup(&self, p: &Principal, name: &str) -> Result<GroupRow> {
        check_name("group", name, validate::MAX_GROUP_NAME)?;
        self.store
            .group_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("group", name))
    }

    pub async fn group_create(
        &self,
        p: &Principal,
        req: api::CreateGroupRequest,
    ) -> Result<api::Group> {
        self.authorize(
            p,
            "iam:CreateGroup",
            &Self::named_nrn(p, "group", &req.name)?,
        )
        .await?;
        check(validate::group_name(&req.name))?;
        let row = GroupRow {
            id: crypto::new_id("grp"),
            account_id: p.account.id.clone(),
            name: req.name,
            created_at: Utc::now(),
        };
        Ok(group_view(&self.store.group_create(row).await?))
    }

    pub async fn group_list(&self, p: &Principal, params: ListParams) -> Result<api::GroupList> {
        self.authorize(p, "iam:ListGroups", &Self::iam_nrn(p, "group", "*"))
            .await?;
        let page = self
            .store
            .group_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        Ok(api::GroupList {
            items: page.items.iter().map(group_view).collect(),
            next_marker: page.next_marker,
        })
    }

    pub async fn group_get(&self, p: &Principal, name: &str) -> Result<api::GroupDetail> {
        self.authorize(p, "iam:GetGroup", &Self::named_nrn(p, "group", name)?)
            .await?;
        let group = self.group_lookup(p, name).await?;
        let members = self.store.group_member_list(&group.id).await?;
        let policies = self
            .store
            .policy_list_attached(PrincipalKind::Group, &group.id)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        Ok(api::GroupDetail {
            group: group_view(&group),
            members,
            policies,
        })
    }

    pub async fn group_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteGroup", &Self::named_nrn(p, "group", name)?)
            .await?;
        let group = self.group_lookup(p, name).await?;
        self.store.group_delete(&group.id).await
    }

    pub async fn group_member_add(&self, p: &Principal, group: &str, user: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:AddUserToGroup",
            &Self::named_nrn(p, "group", group)?,
        )
        .await?;
        let g = self.group_lookup(p, group).await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:AddUserToGroup")?;
        self.store.group_member_add(&g.id, &u.id).await
    }

    pub async fn group_member_remove(&self, p: &Principal, group: &str, user: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:RemoveUserFromGroup",
            &Self::named_nrn(p, "group", group)?,
        )
        .await?;
        let g = self.group_lookup(p, group).await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:RemoveUserFromGroup")?;
        if !self.store.group_member_remove(&g.id, &u.id).await? {
            return Err(Error::NotFound(format!(
                "user '{user}' is not a member of group '{group}'"
            )));
        }
        Ok(())
    }
}

fn group_view(row: &GroupRow) -> api::Group {
    api::Group {
        id: row.id.clone(),
        name: row.name.clone(),
        nrn: nrn("iam", &row.account_id, "group", &row.name),
        created_at: row.created_at,
    }
}
