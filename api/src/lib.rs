//! Nuvem's API types.
//!
//! Every request body, response body and error of the public HTTP API is defined here once and
//! shared by `nuvem-server`, `nuvem-sdk`, `cloudctl` and the web console, so a field can never mean
//! two things. Pure validation rules (names, passwords, policy documents) live here too, so that the
//! console can check a form before it is sent and the server enforces exactly the same rule.

pub mod apps;
pub mod billing;
pub mod ec2;
pub mod error;
pub mod iam;
pub mod nrn;
pub mod ops;
pub mod policy;
pub mod s3;
pub mod validate;
pub mod vpc;

pub use error::{ErrorBody, ErrorCode};

/// Query parameters of every paginated list.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Maximum number of items to return (1 to 1000, default 100).
    pub limit: Option<u32>,
    /// Return items whose name sorts after this one: the `next_marker` of the previous page.
    pub marker: Option<String>,
}

/// Default and maximum page sizes of list operations.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// `GET /healthz` answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub database: String,
}
