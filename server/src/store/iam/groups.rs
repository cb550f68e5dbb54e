//! Queries of groups and their members.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::PrincipalKind;
use crate::error::{Error, Result};
use crate::store::entity::{group, group_member, policy_attachment, user};
use crate::store::{GroupRow, Page, Store, page};

impl Store {
    pub async fn group_create(&self, row: GroupRow) -> Result<GroupRow> {
        let result: Result<GroupRow> = async {
            let name = row.name.clone();
            group::ActiveModel::from(row)
                .insert(&self.db)
                .await
                .map_err(|e| Error::from_db(e, || format!("a group named '{name}' already exists")))
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn group_get_by_name(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<GroupRow>> {
        Ok(group::Entity::find()
            .filter(group::Column::AccountId.eq(account_id))
            .filter(group::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn group_list(
        &self,
        account_id: &str,
        limit: u64,
        marker: Option<&str>,
    ) -> Result<Page<GroupRow>> {
        let mut q = group::Entity::find()
            .filter(group::Column::AccountId.eq(account_id))
            .order_by_asc(group::Column::Name);
        if let Some(m) = marker {
            q = q.filter(group::Column::Name.gt(m));
        }
        let rows = q.limit(limit + 1).all(&self.db).await?;
        Ok(page(rows, limit, |g| &g.name))
    }

    /// Deletes a group with its memberships and policy attachments (the users remain).
    pub async fn group_delete(&self, id: &str) -> Result<()> {
        let result: Result<()> = async {
            let txn = self.db.begin().await?;
            group_member::Entity::delete_many()
                .filter(group_member::Column::GroupId.eq(id))
                .exec(&txn)
                .await?;
            policy_attachment::Entity::delete_many()
                .filter(policy_attachment::Column::PrincipalKind.eq(PrincipalKind::Group.as_str()))
                .filter(policy_attachment::Column::PrincipalId.eq(id))
                .exec(&txn)
                .await?;
            group::Entity::delete_by_id(id).exec(&txn).await?;
            txn.commit().await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }

    /// Member user names of a group, sorted.
    pub async fn group_member_list(&self, group_id: &str) -> Result<Vec<String>> {
        let ids: Vec<String> = group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(group_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let mut names: Vec<String> = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| u.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Adds a member; adding one that is already there is not an error (idempotent, as AWS).
    pub async fn group_member_add(&self, group_id: &str, user_id: &str) -> Result<()> {
        let result: Result<()> = async {
            let exists =
                group_member::Entity::find_by_id((group_id.to_owned(), user_id.to_owned()))
                    .one(&self.db)
                    .await?
                    .is_some();
            if !exists {
                let row = group_member::Model {
                    group_id: group_id.to_owned(),
                    user_id: user_id.to_owned(),
                };
                match group_member::ActiveModel::from(row).insert(&self.db).await {
                    Ok(_) => {}
                    // A concurrent add of the same member: the result is what was asked for.
                    Err(e)
                        if matches!(
                            e.sql_err(),
                            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                        ) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }

    /// Removes a member; returns whether it was one.
    pub async fn group_member_remove(&self, group_id: &str, user_id: &str) -> Result<bool> {
        let result: Result<bool> = async {
            let res = group_member::Entity::delete_by_id((group_id.to_owned(), user_id.to_owned()))
                .exec(&self.db)
                .await?;
            Ok(res.rows_affected > 0)
        }
        .await;
        self.iam_changed(result)
    }

    /// Names of the groups a user belongs to, sorted.
    pub async fn group_list_for_user(&self, user_id: &str) -> Result<Vec<GroupRow>> {
        let ids: Vec<String> = group_member::Entity::find()
            .filter(group_member::Column::UserId.eq(user_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.group_id)
            .collect();
        Ok(group::Entity::find()
            .filter(group::Column::Id.is_in(ids))
            .order_by_asc(group::Column::Name)
            .all(&self.db)
            .await?)
    }
}
