//! Queries of object storage: buckets (their owners and policies). The objects are the engine's.

mod buckets;

pub use super::entity::bucket::Model as BucketRow;
