//! Failure injection for tests of a saga kind, as omicron's `test_action_failure_can_unwind`:
//! run the operation once per injected failure, and check that nothing is left each time.
//!
//! ```text
//! for failure in every_failure::<LaunchSaga>() {
//!     sagas.inject_failure(Some(failure.clone()));
//!     // launch, wait until it settles, then assert that no disk, domain, interface or
//!     // reservation is left, and that the saga is unwound:
//!     assert_settled(&sagas, LaunchSaga::KIND).await?;
//! }
//! ```

use super::{InjectedFailure, SagaKind, SagaState, Sagas};
use crate::error::{Error, Result};

/// Every failure a saga kind can meet: before and after each of its steps, in order.
pub fn every_failure<K: SagaKind>() -> Vec<InjectedFailure> {
    K::steps()
        .iter()
        .flat_map(|s| {
            [false, true].map(|after_run| InjectedFailure {
                kind: K::KIND,
                step: s.name,
                after_run,
            })
        })
        .collect()
}

/// Fails unless every saga of `kind` has finished (done or unwound): none running, unwinding or
/// stuck, and no step left undone on an unwound one.
pub async fn assert_settled(sagas: &Sagas, kind: &str) -> Result<()> {
    for row in sagas.store().saga_list_kind(kind).await? {
        let state = row.state.get();
        let settled = match state {
            SagaState::Done => true,
            SagaState::Unwound => row.progress == 0,
            _ => false,
        };
        if !settled {
            return Err(Error::Internal(format!(
                "saga {} ({kind} on {}) is {} at step {} ({})",
                row.id,
                row.resource,
                row.state,
                row.progress,
                row.error.unwrap_or_default()
            )));
        }
    }
    Ok(())
}
