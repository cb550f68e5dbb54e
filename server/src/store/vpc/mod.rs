//! Queries of the VPC service, one file per resource; the snapshot of the whole network here.

mod interfaces;
mod port_forwards;
mod security_groups;
mod subnets;
mod vpcs;

use sea_orm::{EntityTrait, QueryOrder};

use super::Store;
use super::entity::vpc::{
    eni_security_group, network_interface, port_forward, security_group, sg_rule, subnet,
    vpc_row as vpc,
};
use crate::error::Result;

pub use super::entity::vpc::{
    network_interface::Model as EniRow, port_forward::Model as PortForwardRow,
    security_group::Model as SgRow, sg_rule::Model as SgRuleRow, subnet::Model as SubnetRow,
    vpc_row::Model as VpcRow,
};

/// Everything the host's network is built from, for all accounts: the desired state.
#[derive(Debug, Clone, Default)]
pub struct NetworkSnapshot {
    pub vpcs: Vec<VpcRow>,
    pub subnets: Vec<SubnetRow>,
    pub groups: Vec<SgRow>,
    pub rules: Vec<SgRuleRow>,
    pub interfaces: Vec<EniRow>,
    /// (interface id, security group id)
    pub memberships: Vec<(String, String)>,
    pub port_forwards: Vec<PortForwardRow>,
    /// The host address port forwards are published on (the VPC service's configuration): their
    /// DNAT matches only it.
    pub forward_address: Option<std::net::Ipv4Addr>,
}

impl Store {
    pub async fn network_snapshot(&self) -> Result<NetworkSnapshot> {
        Ok(NetworkSnapshot {
            vpcs: vpc::Entity::find()
                .order_by_asc(vpc::Column::Id)
                .all(&self.db)
                .await?,
            subnets: subnet::Entity::find()
                .order_by_asc(subnet::Column::Id)
                .all(&self.db)
                .await?,
            groups: security_group::Entity::find()
                .order_by_asc(security_group::Column::Id)
                .all(&self.db)
                .await?,
            rules: sg_rule::Entity::find()
                .order_by_asc(sg_rule::Column::CreatedAt)
                .order_by_asc(sg_rule::Column::Id)
                .all(&self.db)
                .await?,
            interfaces: network_interface::Entity::find()
                .order_by_asc(network_interface::Column::Id)
                .all(&self.db)
                .await?,
            memberships: eni_security_group::Entity::find()
                .all(&self.db)
                .await?
                .into_iter()
                .map(|m| (m.eni_id, m.sg_id))
                .collect(),
            port_forwards: port_forward::Entity::find()
                .order_by_asc(port_forward::Column::Id)
                .all(&self.db)
                .await?,
            forward_address: None,
        })
    }
}

/// The number of addresses of a stored block (`10.64.0.0/20` → 4096); 0 for a malformed one.
pub fn cidr_addresses(cidr: &str) -> u64 {
    cidr.split_once('/')
        .and_then(|(_, p)| p.parse::<u32>().ok())
        .filter(|p| *p <= 32)
        .map(|p| 1u64 << (32 - p))
        .unwrap_or(0)
}
