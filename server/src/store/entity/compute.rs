//! Entities of the compute service, one module per table.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod image {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "images")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub owner_account_id: Option<String>,
        pub public: bool,
        pub format: String,
        pub architecture: String,
        pub kernel_path: Option<String>,
        pub initrd_path: Option<String>,
        pub cmdline: String,
        pub disk_path: Option<String>,
        pub min_disk_mib: i64,
        pub description: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod instance_type {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "instance_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub vcpus: i32,
        pub memory_mib: i64,
        pub disk_gib: i64,
        pub price_per_hour: f64,
    }

    no_relations!();
}

pub mod key_pair {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_pairs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub key_type: String,
        pub fingerprint: String,
        pub public_key: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod host {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "hosts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub uri: String,
        pub cores: i32,
        pub memory_mib: i64,
        pub cpu_ratio: f64,
        pub accelerator: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod instance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub state: String,
        pub state_reason: String,
        pub image_id: String,
        pub instance_type: String,
        pub vcpus: i32,
        pub memory_mib: i64,
        pub disk_gib: i64,
        pub key_name: Option<String>,
        pub public_key: Option<String>,
        pub subnet_id: String,
        pub vpc_id: String,
        pub eni_id: Option<String>,
        /// JSON list of security group ids.
        pub security_group_ids: String,
        pub host_id: String,
        pub accelerator: String,
        pub dedicated: bool,
        /// JSON list of host cores.
        pub pinned_cpus: String,
        pub user_data: String,
        /// JSON object.
        pub tags: String,
        /// How far the launch saga got (see `compute::Step`).
        pub step: i32,
        pub created_at: DateTimeUtc,
        pub launched_at: Option<DateTimeUtc>,
        pub terminated_at: Option<DateTimeUtc>,
    }

    no_relations!();
}
