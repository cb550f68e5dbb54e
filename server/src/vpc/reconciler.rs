//! The VPC service's reconciler: bridges, DHCP servers, interface devices and the firewall, made
//! to match the database (registered with the driver in `reconcile/`).

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Vpc;
use crate::error::Result;
use crate::reconcile::Reconciler;

/// Changes reconcile the host at once; the timer only catches what changed behind Nuvem's back
/// (an operator's `ip link del`, a reboot), so it need not run often.
const PERIOD: Duration = Duration::from_secs(300);

impl Reconciler for Vpc {
    fn name(&self) -> &'static str {
        "vpc"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let _changes_wait = self.lock.lock().await;
            let r = Vpc::reconcile(self).await?;
            let mut fixed = Vec::new();
            fixed.extend(
                r.bridges_created
                    .iter()
                    .map(|b| format!("created bridge {b}")),
            );
            fixed.extend(
                r.bridges_removed
                    .iter()
                    .map(|b| format!("removed bridge {b}")),
            );
            fixed.extend(
                r.dhcp_started
                    .iter()
                    .map(|s| format!("started DHCP of {s}")),
            );
            fixed.extend(
                r.dhcp_stopped
                    .iter()
                    .map(|s| format!("stopped DHCP of {s}")),
            );
            Ok(fixed)
        })
    }
}
