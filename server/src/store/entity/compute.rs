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
        pub format: crate::store::column::Text<nuvem_api::ec2::ImageFormat>,
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
        /// Memory kept for the host itself; guests get the rest.
        pub reserved_memory_mib: i64,
        pub accelerator: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod instance {
    use nuvem_api::ec2::InstanceState;
    use sea_orm::entity::prelude::*;

    use crate::store::column::{CoreList, IdList, Tags, Text};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub state: Text<InstanceState>,
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
        #[sea_orm(column_type = "JsonBinary")]
        pub security_group_ids: IdList,
        pub host_id: String,
        pub accelerator: String,
        pub dedicated: bool,
        /// The host cores of a dedicated instance while it holds them.
        #[sea_orm(column_type = "JsonBinary")]
        pub pinned_cpus: CoreList,
        pub user_data: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub tags: Tags,
        /// Bumped by every write: a write names the generation it read, and fails with a conflict
        /// when another operation wrote in between (`Store::instance_save`).
        pub generation: i64,
        pub created_at: DateTimeUtc,
        pub launched_at: Option<DateTimeUtc>,
        pub terminated_at: Option<DateTimeUtc>,
    }

    no_relations!();
}
