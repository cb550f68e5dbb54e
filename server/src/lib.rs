//! `nuvem-server`: one API server for the AWS-like services of Nuvem.
//!
//! A request flows `http` (parse, authenticate) → a service such as [`iam`] (authorize, business
//! rules) → [`store`] (state). See `docs/architecture.md`.

pub mod compute;
pub mod config;
pub mod drivers;
pub mod error;
pub mod http;
pub mod iam;
pub mod server;
pub mod store;
pub mod usage;
pub mod vpc;

/// The services, shared by every HTTP worker.
#[derive(Clone)]
pub struct Nuvem {
    pub store: store::Store,
    pub iam: iam::Iam,
    pub vpc: vpc::Vpc,
    pub compute: compute::Compute,
    /// Lifecycle changes of what costs, as the services report them (metering subscribes).
    pub usage: usage::Usage,
}

impl Nuvem {
    /// Deletes an account: the services release what it owns on the host (instances, networks), then
    /// IAM removes it and everything in it.
    pub async fn account_delete(&self, p: &iam::Principal, name: &str) -> error::Result<()> {
        let account = self.iam.account_delete_check(p, name).await?;
        self.compute.account_purge(&account.id).await?;
        self.vpc.account_purge(&account.id).await?;
        self.iam.account_delete_rows(&account).await
    }
}
