//! The compute service's reconciler: instances in the database against domains in libvirt
//! (registered with the driver in `reconcile/`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Compute;
use crate::error::Result;
use crate::reconcile::Reconciler;

/// Guests power off, crash or vanish by themselves: follow them within seconds.
const PERIOD: Duration = Duration::from_secs(5);

impl Reconciler for Compute {
    fn name(&self) -> &'static str {
        "compute"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            // Tearing down (tests, uninstall): leave the hypervisor alone.
            if self.stopped.load(Ordering::Relaxed) {
                return Ok(Vec::new());
            }
            Compute::reconcile(self).await
        })
    }
}
