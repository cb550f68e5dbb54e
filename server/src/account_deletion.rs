//! Deleting an account: a saga across the services. Each service releases what the account owns
//! on the host, then IAM removes the account and everything in it.
//!
//! | step        | does                                               |
//! |-------------|----------------------------------------------------|
//! | `instances` | compute terminates every instance of the account   |
//! | `networks`  | the VPC service removes its interfaces and VPCs    |
//! | `buckets`   | storage empties and removes the account's buckets  |
//! | `iam`       | IAM removes the account, its users, groups, keys   |
//!
//! Nothing of a deletion can be taken back (a terminated instance stays terminated), so a step
//! that fails, or that a crash interrupted, is run again by the saga reconciler until the
//! deletion is complete ([`Recovery::Resume`]); every step is idempotent.

use serde::{Deserialize, Serialize};

use crate::compute::Compute;
use crate::error::Result;
use crate::iam::Iam;
use crate::saga::{Recovery, SagaKind, Step, StepFuture, nothing_to_undo};
use crate::store::AccountRow;
use crate::vpc::Vpc;

/// The services an account deletion goes through.
#[derive(Clone)]
pub struct Services {
    pub iam: Iam,
    pub vpc: Vpc,
    pub compute: Compute,
    /// `None` when object storage is off: the account's bucket rows (if any) are left.
    pub storage: Option<crate::storage::Storage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deletion {
    pub account_id: String,
    /// For the log: accounts are named by people.
    pub account_name: String,
}

pub struct AccountDeletion;

impl SagaKind for AccountDeletion {
    type Context = Services;
    type State = Deletion;
    const KIND: &'static str = "iam.account-delete";
    const RECOVERY: Recovery = Recovery::Resume;

    fn steps() -> &'static [Step<Services, Deletion>] {
        STEPS
    }

    fn resource(state: &Deletion) -> String {
        format!("account/{}", state.account_id)
    }
}

const STEPS: &[Step<Services, Deletion>] = &[
    Step {
        name: "instances",
        run: instances,
        undo: nothing_to_undo,
    },
    Step {
        name: "networks",
        run: networks,
        undo: nothing_to_undo,
    },
    Step {
        name: "buckets",
        run: buckets,
        undo: nothing_to_undo,
    },
    Step {
        name: "iam",
        run: iam,
        undo: nothing_to_undo,
    },
];

/// Runs the deletion of `account` to the end (or leaves it to the reconciler, failing).
pub async fn run(nuvem: &crate::Nuvem, account: &AccountRow) -> Result<()> {
    let deletion = Deletion {
        account_id: account.id.clone(),
        account_name: account.name.clone(),
    };
    nuvem
        .sagas
        .run::<AccountDeletion>(
            &Services {
                iam: nuvem.iam.clone(),
                vpc: nuvem.vpc.clone(),
                compute: nuvem.compute.clone(),
                storage: nuvem.storage.clone(),
            },
            deletion,
        )
        .await
        .map(drop)
}

fn instances<'a>(n: &'a Services, d: &'a mut Deletion) -> StepFuture<'a> {
    Box::pin(n.compute.account_purge(&d.account_id))
}

fn networks<'a>(n: &'a Services, d: &'a mut Deletion) -> StepFuture<'a> {
    Box::pin(n.vpc.account_purge(&d.account_id))
}

fn iam<'a>(n: &'a Services, d: &'a mut Deletion) -> StepFuture<'a> {
    Box::pin(n.iam.account_delete_rows(&d.account_id))
}

/// The account's buckets with every object in them: closing an account deletes its data, as in
/// AWS.
fn buckets<'a>(n: &'a Services, d: &'a mut Deletion) -> StepFuture<'a> {
    Box::pin(async move {
        match &n.storage {
            Some(storage) => storage.account_purge(&d.account_id).await,
            None => Ok(()),
        }
    })
}
