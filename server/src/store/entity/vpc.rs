//! Entities of the VPC service, one module per table.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod vpc_row {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "vpcs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub cidr: String,
        pub is_default: bool,
        pub internet_gateway: bool,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod subnet {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "subnets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub vpc_id: String,
        pub name: String,
        pub cidr: String,
        pub is_default: bool,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod security_group {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "security_groups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub vpc_id: String,
        pub name: String,
        pub description: String,
        pub is_default: bool,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod sg_rule {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "sg_rules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub sg_id: String,
        /// `ingress` or `egress`.
        pub direction: crate::store::column::Text<nuvem_api::vpc::Direction>,
        /// `tcp`, `udp`, `icmp` or `all`.
        pub protocol: crate::store::column::Text<nuvem_api::vpc::Protocol>,
        pub from_port: Option<i32>,
        pub to_port: Option<i32>,
        pub cidr: Option<String>,
        pub source_group_id: Option<String>,
        pub description: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod network_interface {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "network_interfaces")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub vpc_id: String,
        pub subnet_id: String,
        pub private_ip: String,
        pub mac: String,
        pub device: String,
        pub attached_to: String,
        pub description: String,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}

pub mod eni_security_group {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "eni_security_groups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub eni_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sg_id: String,
    }

    no_relations!();
}

pub mod port_forward {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "port_forwards")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub eni_id: String,
        pub protocol: crate::store::column::Text<nuvem_api::vpc::Protocol>,
        pub host_port: i32,
        pub private_port: i32,
        pub created_at: DateTimeUtc,
    }

    no_relations!();
}
