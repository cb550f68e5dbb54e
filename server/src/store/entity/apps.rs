//! Entities of container apps and load balancers, one module per table. JSON columns are text
//! here and typed in `store::apps`, where they are read and written.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// An account's container image.
pub mod app_image {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_images")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub tag: String,
        /// The image's name in the engine.
        pub engine_ref: String,
        pub size_bytes: i64,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

/// An app: what should run.
pub mod app {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "apps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        /// `api::apps::AppSpec` as JSON.
        pub spec: String,
        pub version: i32,
        pub replicas_desired: i32,
        pub state: String,
        pub status_reason: String,
        pub subnet_id: String,
        /// A JSON list of ids.
        pub security_group_ids: String,
        pub own_security_group: Option<String>,
        pub load_balancer_id: Option<String>,
        /// `api::apps::Autoscaling` as JSON.
        pub autoscaling: Option<String>,
        pub last_scaled_at: Option<DateTimeUtc>,
        /// A JSON map.
        pub tags: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

/// A replica: one container made for an app, with its interface.
pub mod app_replica {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_replicas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub account_id: String,
        pub version: i32,
        pub container: String,
        pub interface_id: String,
        pub private_ip: String,
        pub restarts: i32,
        /// `unknown`, `healthy` or `unhealthy`.
        pub health: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

/// A load balancer: a listener on a host port and its targets.
pub mod load_balancer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "load_balancers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub port: i32,
        pub app_id: Option<String>,
        /// A JSON list of instance ids.
        pub instance_ids: String,
        pub target_port: Option<i32>,
        /// `api::apps::HealthCheck` as JSON.
        pub health: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

/// Something that happened to an app.
pub mod app_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub app_id: String,
        pub account_id: String,
        pub at: DateTimeUtc,
        pub kind: String,
        pub message: String,
    }

    no_relations!();
}
