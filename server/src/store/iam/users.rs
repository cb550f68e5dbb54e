//! Queries of IAM users.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::PrincipalKind;
use crate::error::{Error, Result};
use crate::store::entity::{access_key, group_member, policy_attachment, user};
use crate::store::{Page, Store, UserRow, page};

impl Store {
    pub async fn user_create(&self, row: UserRow) -> Result<UserRow> {
        let result: Result<UserRow> = async {
            let name = row.name.clone();
            user::ActiveModel::from(row)
                .insert(&self.db)
                .await
                .map_err(|e| Error::from_db(e, || format!("a user named '{name}' already exists")))
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn user_get(&self, id: &str) -> Result<Option<UserRow>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn user_get_by_name(&self, account_id: &str, name: &str) -> Result<Option<UserRow>> {
        Ok(user::Entity::find()
            .filter(user::Column::AccountId.eq(account_id))
            .filter(user::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn user_list(
        &self,
        account_id: &str,
        limit: u64,
        marker: Option<&str>,
    ) -> Result<Page<UserRow>> {
        let mut q = user::Entity::find()
            .filter(user::Column::AccountId.eq(account_id))
            .order_by_asc(user::Column::Name);
        if let Some(m) = marker {
            q = q.filter(user::Column::Name.gt(m));
        }
        let rows = q.limit(limit + 1).all(&self.db).await?;
        Ok(page(rows, limit, |u| &u.name))
    }

    /// Deletes a user with its access keys, group memberships and policy attachments.
    pub async fn user_delete(&self, id: &str) -> Result<()> {
        let result: Result<()> = async {
            let txn = self.db.begin().await?;
            access_key::Entity::delete_many()
                .filter(access_key::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            group_member::Entity::delete_many()
                .filter(group_member::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
            policy_attachment::Entity::delete_many()
                .filter(policy_attachment::Column::PrincipalKind.eq(PrincipalKind::User.as_str()))
                .filter(policy_attachment::Column::PrincipalId.eq(id))
                .exec(&txn)
                .await?;
            user::Entity::delete_by_id(id).exec(&txn).await?;
            txn.commit().await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn user_set_password(&self, id: &str, hash: Option<String>) -> Result<()> {
        let changed = hash.as_ref().map(|_| Utc::now());
        user::ActiveModel {
            id: Set(id.to_owned()),
            password_hash: Set(hash),
            password_changed_at: Set(changed),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }

    pub async fn user_touch_login(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        user::ActiveModel {
            id: Set(id.to_owned()),
            last_login_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }
}
