//! IAM users of the caller's account, their passwords (login profiles) and group memberships.

use chrono::Utc;
use nuvem_api::iam as api;
use nuvem_api::{ListParams, nrn::nrn, validate};

use super::{Iam, Principal, check, check_name, crypto, page_limit};
use crate::error::{Error, Result};
use crate::store::UserRow;

impl Iam {
    pub(super) async fn user_lookup(&self, p: &Principal, name: &str) -> Result<UserRow> {
        check_name("user", name, validate::MAX_USER_NAME)?;
        self.store
            .user_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("user", name))
    }

    pub async fn user_create(
        &self,
        p: &Principal,
        req: api::CreateUserRequest,
    ) -> Result<api::User> {
        self.authorize(p, "iam:CreateUser", &Self::named_nrn(p, "user", &req.name)?)
            .await?;
        check(validate::user_name(&req.name))?;
        let password_hash = match &req.password {
            Some(pw) => {
                check(validate::password(pw))?;
                Some(self.hash_password(pw).await?)
            }
            None => None,
        };
        let now = Utc::now();
        let row = UserRow {
            id: crypto::new_id("usr"),
            account_id: p.account.id.clone(),
            name: req.name,
            is_root: false,
            password_changed_at: password_hash.as_ref().map(|_| now),
            password_hash,
            created_at: now,
            last_login_at: None,
        };
        Ok(self.user_view(&self.store.user_create(row).await?, &p.account.id))
    }

    pub async fn user_list(&self, p: &Principal, params: ListParams) -> Result<api::UserList> {
        self.authorize(p, "iam:ListUsers", &Self::iam_nrn(p, "user", "*"))
            .await?;
        let page = self
            .store
            .user_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        Ok(api::UserList {
            items: page
                .items
                .iter()
                .map(|u| self.user_view(u, &p.account.id))
                .collect(),
            next_marker: page.next_marker,
        })
    }

    pub async fn user_get(&self, p: &Principal, name: &str) -> Result<api::User> {
        self.authorize(p, "iam:GetUser", &Self::named_nrn(p, "user", name)?)
            .await?;
        Ok(self.user_view(&self.user_lookup(p, name).await?, &p.account.id))
    }

    pub async fn user_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteUser", &Self::named_nrn(p, "user", name)?)
            .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:DeleteUser")?;
        if user.is_root {
            return Err(Error::Conflict(
                "the root user cannot be deleted".to_owned(),
            ));
        }
        self.store.user_delete(&user.id).await
    }

    pub async fn login_profile_update(
        &self,
        p: &Principal,
        name: &str,
        req: api::LoginProfileRequest,
    ) -> Result<()> {
        self.authorize(
            p,
            "iam:UpdateLoginProfile",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:UpdateLoginProfile")?;
        check(validate::password(&req.password))?;
        let hash = self.hash_password(&req.password).await?;
        self.store.user_set_password(&user.id, Some(hash)).await
    }

    pub async fn login_profile_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:DeleteLoginProfile",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:DeleteLoginProfile")?;
        if user.is_root {
            return Err(Error::Conflict(
                "the root user's password cannot be removed".to_owned(),
            ));
        }
        if user.password_hash.is_none() {
            return Err(Error::NotFound(format!(
                "user '{name}' has no password (login profile)"
            )));
        }
        self.store.user_set_password(&user.id, None).await
    }

    pub async fn user_group_list(&self, p: &Principal, name: &str) -> Result<api::GroupNames> {
        self.authorize(
            p,
            "iam:ListGroupsForUser",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        let groups = self.store.group_list_for_user(&user.id).await?;
        Ok(api::GroupNames {
            items: groups.into_iter().map(|g| g.name).collect(),
        })
    }

    fn user_view(&self, row: &UserRow, account_id: &str) -> api::User {
        api::User {
            id: row.id.clone(),
            name: row.name.clone(),
            nrn: nrn("iam", account_id, "user", &row.name),
            account_id: account_id.to_owned(),
            is_root: row.is_root,
            has_password: row.password_hash.is_some(),
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        }
    }
}
