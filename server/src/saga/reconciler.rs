//! The saga log's reconciler: finishes or unwinds what a crash left running, and retries
//! unwinding that got stuck (registered with the driver in `reconcile/`).

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Sagas;
use crate::error::Result;
use crate::reconcile::Reconciler;

/// Stuck sagas wait on something outside Nuvem (a daemon, a full disk): retry every half minute.
const PERIOD: Duration = Duration::from_secs(30);

/// Runs [`Sagas::recover_all`] for the reconcile driver.
pub struct SagaReconciler(pub Sagas);

impl Reconciler for SagaReconciler {
    fn name(&self) -> &'static str {
        "sagas"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(self.0.recover_all())
    }
}
