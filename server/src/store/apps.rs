//! Queries of container apps: images, apps, replicas, load balancers, events.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::Store;
use super::entity::apps::{app, app_event, app_image, app_replica, load_balancer};
use crate::error::{Error, Result};

pub use app::Model as AppRow;
pub use app_event::Model as AppEventRow;
pub use app_image::Model as AppImageRow;
pub use app_replica::Model as ReplicaRow;
pub use load_balancer::Model as LoadBalancerRow;

impl Store {
    pub async fn app_image_create(&self, row: AppImageRow) -> Result<AppImageRow> {
        let what = format!("image {}:{}", row.name, row.tag);
        row.into_active_model()
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("{what} already exists")))
    }

    pub async fn app_image_get(
        &self,
        account_id: &str,
        name: &str,
        tag: &str,
    ) -> Result<Option<AppImageRow>> {
        Ok(app_image::Entity::find()
            .filter(app_image::Column::AccountId.eq(account_id))
            .filter(app_image::Column::Name.eq(name))
            .filter(app_image::Column::Tag.eq(tag))
            .one(&self.db)
            .await?)
    }

    pub async fn app_image_list(&self, account_id: &str) -> Result<Vec<AppImageRow>> {
        Ok(app_image::Entity::find()
            .filter(app_image::Column::AccountId.eq(account_id))
            .order_by_asc(app_image::Column::Name)
            .order_by_asc(app_image::Column::Tag)
            .all(&self.db)
            .await?)
    }

    pub async fn app_image_list_all(&self) -> Result<Vec<AppImageRow>> {
        Ok(app_image::Entity::find().all(&self.db).await?)
    }

    pub async fn app_image_delete(&self, id: &str) -> Result<()> {
        app_image::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn app_create(&self, row: AppRow) -> Result<AppRow> {
        let name = row.name.clone();
        row.into_active_model()
            .insert(&self.db)
            .await
            .map_err(|e| Error::from_db(e, || format!("app '{name}' already exists")))
    }

    pub async fn app_get(&self, account_id: &str, name: &str) -> Result<Option<AppRow>> {
        Ok(app::Entity::find()
            .filter(app::Column::AccountId.eq(account_id))
            .filter(app::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn app_get_by_id(&self, id: &str) -> Result<Option<AppRow>> {
        Ok(app::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn app_list(&self, account_id: &str) -> Result<Vec<AppRow>> {
        Ok(app::Entity::find()
            .filter(app::Column::AccountId.eq(account_id))
            .order_by_asc(app::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn app_list_all(&self) -> Result<Vec<AppRow>> {
        Ok(app::Entity::find()
            .order_by_asc(app::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Writes every column of the app (the caller read it, changed it, and saves it whole).
    pub async fn app_save(&self, row: &AppRow) -> Result<()> {
        let active = row.clone().into_active_model().reset_all();
        app::Entity::update(active).exec(&self.db).await?;
        Ok(())
    }

    pub async fn app_delete(&self, id: &str) -> Result<()> {
        app::Entity::delete_by_id(id).exec(&self.db).await?;
        app_event::Entity::delete_many()
            .filter(app_event::Column::AppId.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn replica_create(&self, row: ReplicaRow) -> Result<ReplicaRow> {
        Ok(row.into_active_model().insert(&self.db).await?)
    }

    pub async fn replica_list(&self, app_id: &str) -> Result<Vec<ReplicaRow>> {
        Ok(app_replica::Entity::find()
            .filter(app_replica::Column::AppId.eq(app_id))
            .order_by_asc(app_replica::Column::CreatedAt)
            .order_by_asc(app_replica::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn replica_list_all(&self) -> Result<Vec<ReplicaRow>> {
        Ok(app_replica::Entity::find().all(&self.db).await?)
    }

    pub async fn replica_set_health(&self, id: &str, health: &str) -> Result<()> {
        let row = app_replica::ActiveModel {
            id: Set(id.to_owned()),
            health: Set(health.to_owned()),
            ..Default::default()
        };
        app_replica::Entity::update(row).exec(&self.db).await?;
        Ok(())
    }

    pub async fn replica_count_restart(&self, id: &str, restarts: i32) -> Result<()> {
        let row = app_replica::ActiveModel {
            id: Set(id.to_owned()),
            restarts: Set(restarts),
            ..Default::default()
        };
        app_replica::Entity::update(row).exec(&self.db).await?;
        Ok(())
    }

    pub async fn replica_delete(&self, id: &str) -> Result<()> {
        app_replica::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn lb_create(&self, row: LoadBalancerRow) -> Result<LoadBalancerRow> {
        let port = row.port;
        row.into_active_model().insert(&self.db).await.map_err(|e| {
            Error::from_db(e, || {
                format!("a load balancer already listens on port {port}, or has that name")
            })
        })
    }

    pub async fn lb_get(
        &self,
        account_id: &str,
        id_or_name: &str,
    ) -> Result<Option<LoadBalancerRow>> {
        Ok(load_balancer::Entity::find()
            .filter(load_balancer::Column::AccountId.eq(account_id))
            .filter(
                load_balancer::Column::Id
                    .eq(id_or_name)
                    .or(load_balancer::Column::Name.eq(id_or_name)),
            )
            .one(&self.db)
            .await?)
    }

    pub async fn lb_get_by_id(&self, id: &str) -> Result<Option<LoadBalancerRow>> {
        Ok(load_balancer::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn lb_by_port(&self, port: u16) -> Result<Option<LoadBalancerRow>> {
        Ok(load_balancer::Entity::find()
            .filter(load_balancer::Column::Port.eq(i32::from(port)))
            .one(&self.db)
            .await?)
    }

    pub async fn lb_list(&self, account_id: &str) -> Result<Vec<LoadBalancerRow>> {
        Ok(load_balancer::Entity::find()
            .filter(load_balancer::Column::AccountId.eq(account_id))
            .order_by_asc(load_balancer::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn lb_list_all(&self) -> Result<Vec<LoadBalancerRow>> {
        Ok(load_balancer::Entity::find()
            .order_by_asc(load_balancer::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn lb_delete(&self, id: &str) -> Result<()> {
        load_balancer::Entity::delete_by_id(id)
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn app_event_add(
        &self,
        app_id: &str,
        account_id: &str,
        kind: &str,
        message: &str,
    ) -> Result<()> {
        app_event::ActiveModel {
            app_id: Set(app_id.to_owned()),
            account_id: Set(account_id.to_owned()),
            at: Set(Utc::now()),
            kind: Set(kind.to_owned()),
            message: Set(message.to_owned()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The newest `limit` events, oldest first.
    pub async fn app_event_list(&self, app_id: &str, limit: u64) -> Result<Vec<AppEventRow>> {
        let mut rows = app_event::Entity::find()
            .filter(app_event::Column::AppId.eq(app_id))
            .order_by_desc(app_event::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.reverse();
        Ok(rows)
    }

    pub async fn app_events_since(
        &self,
        app_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AppEventRow>> {
        Ok(app_event::Entity::find()
            .filter(app_event::Column::AppId.eq(app_id))
            .filter(app_event::Column::At.gte(since))
            .order_by_asc(app_event::Column::Id)
            .all(&self.db)
            .await?)
    }
}
