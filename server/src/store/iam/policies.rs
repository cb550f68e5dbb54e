//! Queries of managed policies and their attachments to users and groups.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::PrincipalKind;
use crate::error::{Error, Result};
use crate::store::entity::{policy, policy_attachment};
use crate::store::{Page, PolicyRow, Store, page};

impl Store {
    pub async fn policy_create(&self, row: PolicyRow) -> Result<PolicyRow> {
        let result: Result<PolicyRow> = async {
            let name = row.name.clone();
            policy::ActiveModel::from(row)
                .insert(&self.db)
                .await
                .map_err(|e| {
                    Error::from_db(e, || format!("a policy named '{name}' already exists"))
                })
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn policy_get_by_name(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<PolicyRow>> {
        Ok(policy::Entity::find()
            .filter(policy::Column::AccountId.eq(account_id))
            .filter(policy::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn policy_list(
        &self,
        account_id: &str,
        limit: u64,
        marker: Option<&str>,
    ) -> Result<Page<PolicyRow>> {
        let mut q = policy::Entity::find()
            .filter(policy::Column::AccountId.eq(account_id))
            .order_by_asc(policy::Column::Name);
        if let Some(m) = marker {
            q = q.filter(policy::Column::Name.gt(m));
        }
        let rows = q.limit(limit + 1).all(&self.db).await?;
        Ok(page(rows, limit, |p| &p.name))
    }

    pub async fn policy_update(
        &self,
        id: &str,
        description: Option<String>,
        document: String,
    ) -> Result<PolicyRow> {
        let result: Result<PolicyRow> = async {
            let mut row = policy::ActiveModel {
                id: Set(id.to_owned()),
                document: Set(document),
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            if let Some(d) = description {
                row.description = Set(d);
            }
            Ok(row.update(&self.db).await?)
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn policy_delete(&self, id: &str) -> Result<()> {
        let result: Result<()> = async {
            policy::Entity::delete_by_id(id).exec(&self.db).await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn policy_attachment_count(&self, policy_id: &str) -> Result<u64> {
        Ok(policy_attachment::Entity::find()
            .filter(policy_attachment::Column::PolicyId.eq(policy_id))
            .count(&self.db)
            .await?)
    }

    /// Attaches a policy; attaching it twice is not an error (idempotent, as AWS).
    pub async fn policy_attach(
        &self,
        policy_id: &str,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> Result<()> {
        let result: Result<()> = async {
            let key = (
                policy_id.to_owned(),
                kind.as_str().to_owned(),
                principal_id.to_owned(),
            );
            if policy_attachment::Entity::find_by_id(key.clone())
                .one(&self.db)
                .await?
                .is_some()
            {
                return Ok(());
            }
            let row = policy_attachment::Model {
                policy_id: key.0,
                principal_kind: key.1,
                principal_id: key.2,
            };
            match policy_attachment::ActiveModel::from(row)
                .insert(&self.db)
                .await
            {
                Ok(_) => Ok(()),
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        .await;
        self.iam_changed(result)
    }

    /// Detaches a policy; returns whether it was attached.
    pub async fn policy_detach(
        &self,
        policy_id: &str,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> Result<bool> {
        let result: Result<bool> = async {
            let key = (
                policy_id.to_owned(),
                kind.as_str().to_owned(),
                principal_id.to_owned(),
            );
            let res = policy_attachment::Entity::delete_by_id(key)
                .exec(&self.db)
                .await?;
            Ok(res.rows_affected > 0)
        }
        .await;
        self.iam_changed(result)
    }

    /// Policies attached directly to one principal, sorted by name.
    pub async fn policy_list_attached(
        &self,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> Result<Vec<PolicyRow>> {
        self.policy_list_attached_to(kind, vec![principal_id.to_owned()])
            .await
    }

    async fn policy_list_attached_to(
        &self,
        kind: PrincipalKind,
        principal_ids: Vec<String>,
    ) -> Result<Vec<PolicyRow>> {
        let ids: Vec<String> = policy_attachment::Entity::find()
            .filter(policy_attachment::Column::PrincipalKind.eq(kind.as_str()))
            .filter(policy_attachment::Column::PrincipalId.is_in(principal_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| a.policy_id)
            .collect();
        Ok(policy::Entity::find()
            .filter(policy::Column::Id.is_in(ids))
            .order_by_asc(policy::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Every policy that applies to a user: attached to it, or to a group it belongs to.
    pub async fn policy_list_effective_for_user(&self, user_id: &str) -> Result<Vec<PolicyRow>> {
        let mut policies = self
            .policy_list_attached(PrincipalKind::User, user_id)
            .await?;
        let group_ids = self
            .group_list_for_user(user_id)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        for p in self
            .policy_list_attached_to(PrincipalKind::Group, group_ids)
            .await?
        {
            if !policies.iter().any(|q| q.id == p.id) {
                policies.push(p);
            }
        }
        Ok(policies)
    }
}
