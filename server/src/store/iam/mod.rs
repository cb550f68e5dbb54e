//! Queries of the IAM service, one file per resource: accounts, users, groups, policies (with
//! their attachments) and access keys. Sign-out and quotas are in [`super::security`].

mod access_keys;
mod accounts;
mod groups;
mod policies;
mod users;

pub use super::entity::{
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
