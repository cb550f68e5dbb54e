//! `nuvem-server`: one API server for the AWS-like services of Nuvem.
//!
//! A request flows `http` (parse, authenticate) → a service such as [`iam`] (authorize, business
//! rules) → [`store`] (state). See `docs/architecture.md`.

pub mod account_deletion;
pub mod apps;
pub mod billing;
pub mod cache;
pub mod compute;
pub mod config;
pub mod drivers;
pub mod error;
pub mod http;
pub mod iam;
pub mod netspec;
pub mod platform;
pub mod reconcile;
pub mod saga;
pub mod server;
pub mod storage;
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
    /// Metering and bills; subscribed to `usage`.
    pub billing: billing::Billing,
    /// Object storage; `None` when no S3 engine is configured.
    pub storage: Option<storage::Storage>,
    /// Container apps and load balancers; `None` when no container engine answers.
    pub apps: Option<apps::Apps>,
    /// Lifecycle changes of what costs, as the services report them (metering subscribes).
    pub usage: usage::Usage,
    /// Multi-step operations, persisted so that a restart finishes or unwinds them.
    pub sagas: saga::Sagas,
    /// The background reconcilers of every service that owns host state.
    pub reconcilers: reconcile::Reconcilers,
}

impl Nuvem {
    /// Object storage, or why it is off (no S3 engine configured).
    pub fn storage(&self) -> error::Result<&storage::Storage> {
        self.storage
            .as_ref()
            .ok_or_else(|| error::Error::ServiceUnavailable {
                message: "object storage is off on this server: it has no S3 engine (the operator starts one with infra/seaweedfs.sh start, or sets --s3-engine-file)".to_owned(),
                retry_after_seconds: 60,
            })
    }

    /// Container apps, or why they are off (no container engine).
    pub fn apps(&self) -> error::Result<&apps::Apps> {
        self.apps
            .as_ref()
            .ok_or_else(|| error::Error::ServiceUnavailable {
                message: "container apps are off on this server: dockerd did not answer when it started (the operator starts it with infra/daemons.sh start, then restarts Nuvem)".to_owned(),
                retry_after_seconds: 60,
            })
    }

    /// Every reconciler's last outcome (operator only).
    pub async fn reconciler_list(
        &self,
        p: &iam::Principal,
    ) -> error::Result<nuvem_api::ops::ReconcilerList> {
        self.iam.require_operator(p, "ops:ListReconcilers")?;
        self.iam
            .authorize(
                p,
                "ops:ListReconcilers",
                &nuvem_api::nrn::nrn("ops", &p.account.id, "reconciler", "*"),
            )
            .await?;
        Ok(nuvem_api::ops::ReconcilerList {
            items: self.reconcilers.status(),
        })
    }

    /// Runs one reconciler now and answers how it went (operator only).
    pub async fn reconciler_run(
        &self,
        p: &iam::Principal,
        name: &str,
    ) -> error::Result<nuvem_api::ops::ReconcilerStatus> {
        self.iam.require_operator(p, "ops:RunReconciler")?;
        self.iam
            .authorize(
                p,
                "ops:RunReconciler",
                &nuvem_api::nrn::nrn("ops", &p.account.id, "reconciler", name),
            )
            .await?;
        self.reconcilers.run(name).await
    }

    /// Deletes an account, as a saga across the services (`account_deletion`).
    pub async fn account_delete(&self, p: &iam::Principal, name: &str) -> error::Result<()> {
        let account = self.iam.account_delete_check(p, name).await?;
        account_deletion::run(self, &account).await
    }
}
