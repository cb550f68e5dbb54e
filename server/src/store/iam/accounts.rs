//! Queries of accounts: created with their root user, deleted with everything in them.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::error::{Error, Result};
use crate::store::entity::{
    self, access_key, account, group, group_member, policy, policy_attachment, user,
};
use crate::store::{AccountRow, Page, Store, UserRow, page};

impl Store {
    /// Creates an account and its root user in one transaction.
    pub async fn account_create(&self, account: AccountRow, root: UserRow) -> Result<()> {
        let result: Result<()> = async {
            let name = account.name.clone();
            let exists = || format!("an account named '{name}' already exists");
            let txn = self.db.begin().await?;
            account::ActiveModel::from(account)
                .insert(&txn)
                .await
                .map_err(|e| Error::from_db(e, exists))?;
            user::ActiveModel::from(root).insert(&txn).await?;
            txn.commit().await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }

    pub async fn account_get_by_name(&self, name: &str) -> Result<Option<AccountRow>> {
        Ok(account::Entity::find()
            .filter(account::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn account_get(&self, id: &str) -> Result<Option<AccountRow>> {
        Ok(account::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn account_list(&self, limit: u64, marker: Option<&str>) -> Result<Page<AccountRow>> {
        let mut q = account::Entity::find().order_by_asc(account::Column::Name);
        if let Some(m) = marker {
            q = q.filter(account::Column::Name.gt(m));
        }
        let rows = q.limit(limit + 1).all(&self.db).await?;
        Ok(page(rows, limit, |a| &a.name))
    }

    /// Deletes an account and everything in it.
    pub async fn account_delete(&self, id: &str) -> Result<()> {
        let result: Result<()> = async {
            let txn = self.db.begin().await?;
            let policy_ids: Vec<String> = policy::Entity::find()
                .filter(policy::Column::AccountId.eq(id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            policy_attachment::Entity::delete_many()
                .filter(policy_attachment::Column::PolicyId.is_in(policy_ids))
                .exec(&txn)
                .await?;
            access_key::Entity::delete_many()
                .filter(access_key::Column::AccountId.eq(id))
                .exec(&txn)
                .await?;
            let user_ids = user::Entity::find()
                .filter(user::Column::AccountId.eq(id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|u| u.id);
            group_member::Entity::delete_many()
                .filter(group_member::Column::UserId.is_in(user_ids))
                .exec(&txn)
                .await?;
            policy::Entity::delete_many()
                .filter(policy::Column::AccountId.eq(id))
                .exec(&txn)
                .await?;
            group::Entity::delete_many()
                .filter(group::Column::AccountId.eq(id))
                .exec(&txn)
                .await?;
            user::Entity::delete_many()
                .filter(user::Column::AccountId.eq(id))
                .exec(&txn)
                .await?;
            entity::account_quota::Entity::delete_many()
                .filter(entity::account_quota::Column::AccountId.eq(id))
                .exec(&txn)
                .await?;
            account::Entity::delete_by_id(id).exec(&txn).await?;
            txn.commit().await?;
            Ok(())
        }
        .await;
        self.iam_changed(result)
    }
}
