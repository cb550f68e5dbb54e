//! sea-orm entities, one module per table. Only `store` uses them; services see plain models.

pub mod access_key;
pub mod account;
pub mod account_quota;
pub mod apps;
pub mod billing;
pub mod bucket;
pub mod compute;
pub mod group;
pub mod group_member;
pub mod policy;
pub mod policy_attachment;
pub mod revoked_session;
pub mod saga;
pub mod user;
pub mod vpc;
