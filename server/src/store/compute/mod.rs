//! Queries of the compute service, one file per resource.

mod hosts;
mod images;
mod instance_types;
mod instances;
mod key_pairs;

pub use super::entity::compute::{
    host::Model as HostRow, image::Model as ImageRow, instance::Model as InstanceRow,
    instance_type::Model as InstanceTypeRow, key_pair::Model as KeyPairRow,
};

/// States in which an instance holds capacity on its host.
pub const ACTIVE_STATES: &[&str] = &["pending", "running", "stopping"];
