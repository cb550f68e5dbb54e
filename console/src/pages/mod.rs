//! One page per service, as the AWS console and Horizon have; a new service (apps, buckets,
//! billing) adds a folder here, a `model::Page` and a tab in the header.

mod apps;
mod billing;
mod home;
mod iam;
mod instances;
mod network;
mod sign_in;
mod storage;

pub use apps::Apps;
pub use billing::Billing;
pub use home::Home;
pub use iam::Iam;
pub use instances::Instances;
pub use network::Network;
pub use sign_in::SignIn;
pub use storage::Storage;
