//! The datastore: every query Nuvem makes, named `resource_verb`, over sea-orm on SQLite or
//! PostgreSQL. Services never build queries themselves; database errors become [`Error`] here.

pub mod column;
pub mod compute;
pub mod entity;
pub mod saga;
pub mod security;
pub mod vpc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::error::{Error, Result};
use entity::{access_key, account, group, group_member, policy, policy_attachment, user};
pub use entity::{
    access_key::Model as AccessKeyRow, account::Model as AccountRow, group::Model as GroupRow,
    policy::Model as PolicyRow, user::Model as UserRow,
};

/// Principals a policy can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Group,
}

impl PrincipalKind {
    fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

/// One page of a list ordered by name.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

fn page<T>(mut rows: Vec<T>, limit: u64, name: impl Fn(&T) -> &str) -> Page<T> {
    let next_marker = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| name(r).to_string())
    } else {
        None
    };
    Page {
        items: rows,
        next_marker,
    }
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Connects, tunes SQLite for concurrent use, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, anyhow::Error> {
        use nuvem_migrations::{Migrator, MigratorTrait};
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .max_connections(if url.starts_with("sqlite") { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        let db = Database::connect(opts).await?;
        if db.get_database_backend() == DbBackend::Sqlite {
            // WAL (a property of the file, so once is enough) lets readers proceed while one
            // writer commits; sqlx gives every pooled connection a 5 s busy timeout, so a second
            // writer waits instead of failing with "database is locked".
            db.execute_unprepared("PRAGMA journal_mode=WAL;").await?;
        }
        Migrator::up(&db, None).await?;
        Ok(Store { db })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            DbBackend::MySql => "mysql",
        }
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await.map_err(Error::from)
    }

    // ----------------------------------------------------------------------------------------
    // Accounts

    /// Creates an account and its root user in one transaction.
    pub async fn account_create(&self, account: AccountRow, root: UserRow) -> Result<()> {
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

    // ----------------------------------------------------------------------------------------
    // Users

    pub async fn user_create(&self, row: UserRow) -> Result<UserRow> {
        let name = row.name.clone();
        user::ActiveModel::from(row)
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("a user named '{name}' already exists")))
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

    // ----------------------------------------------------------------------------------------
    // Groups

    pub async fn group_create(&self, row: GroupRow) -> Result<GroupRow> {
        let name = row.name.clone();
        group::ActiveModel::from(row)
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("a group named '{name}' already exists")))
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
        let exists = group_member::Entity::find_by_id((group_id.to_owned(), user_id.to_owned()))
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

    /// Removes a member; returns whether it was one.
    pub async fn group_member_remove(&self, group_id: &str, user_id: &str) -> Result<bool> {
        let res = group_member::Entity::delete_by_id((group_id.to_owned(), user_id.to_owned()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
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

    // ----------------------------------------------------------------------------------------
    // Policies

    pub async fn policy_create(&self, row: PolicyRow) -> Result<PolicyRow> {
        let name = row.name.clone();
        policy::ActiveModel::from(row)
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("a policy named '{name}' already exists")))
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

    pub async fn policy_delete(&self, id: &str) -> Result<()> {
        policy::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
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

    /// Detaches a policy; returns whether it was attached.
    pub async fn policy_detach(
        &self,
        policy_id: &str,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> Result<bool> {
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

    // ----------------------------------------------------------------------------------------
    // Access keys

    pub async fn access_key_create(&self, row: AccessKeyRow) -> Result<AccessKeyRow> {
        Ok(access_key::ActiveModel::from(row).insert(&self.db).await?)
    }

    pub async fn access_key_get(&self, id: &str) -> Result<Option<AccessKeyRow>> {
        Ok(access_key::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn access_key_list_for_user(&self, user_id: &str) -> Result<Vec<AccessKeyRow>> {
        Ok(access_key::Entity::find()
            .filter(access_key::Column::UserId.eq(user_id))
            .order_by_asc(access_key::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn access_key_set_status(&self, id: &str, status: &str) -> Result<AccessKeyRow> {
        Ok(access_key::ActiveModel {
            id: Set(id.to_owned()),
            status: Set(status.to_owned()),
            ..Default::default()
        }
        .update(&self.db)
        .await?)
    }

    pub async fn access_key_touch(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        access_key::ActiveModel {
            id: Set(id.to_owned()),
            last_used_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }

    pub async fn access_key_delete(&self, id: &str) -> Result<()> {
        access_key::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }
}
