//! Recovery: what a crash left in the saga log is unwound or resumed, as its kind says.

use chrono::Utc;

use super::{Live, Recovery, SagaKind, SagaState, Sagas, reason_of};
use crate::error::{Error, Result};
use crate::store::saga::SagaRow;

impl Sagas {
    /// Finishes one saga found in the log, as its kind says. Returns what was done, one line.
    pub(super) async fn recover<K: SagaKind>(
        &self,
        ctx: &K::Context,
        mut row: SagaRow,
    ) -> Result<String> {
        let Some(_live) = Live::try_enter(&self.live, &row.id) else {
            return Ok(String::new());
        };
        let mut state: K::State = serde_json::from_value(row.data.clone()).map_err(|e| {
            Error::Internal(format!(
                "saga {} holds state its kind cannot read: {e}",
                row.id
            ))
        })?;
        let what = format!("{} {} ({})", K::KIND, row.resource, row.id);
        match (row.state.get(), K::RECOVERY) {
            (SagaState::Running, Recovery::Unwind) => {
                // The step after the last one recorded may have run partly.
                row.progress = (row.progress + 1).min(K::steps().len() as i32);
                row.state = SagaState::Unwinding.into();
                let reason = "interrupted: the server stopped during the operation".to_owned();
                row.error = Some(reason.clone());
                self.store.saga_save(&row).await?;
                let ok = self.backward::<K>(ctx, &mut row, &state, &reason).await;
                Ok(format!(
                    "{what}: {} ({reason})",
                    if ok {
                        "unwound"
                    } else {
                        "stuck while unwinding"
                    }
                ))
            }
            (SagaState::Unwinding | SagaState::Stuck, Recovery::Unwind) => {
                let reason = row
                    .error
                    .clone()
                    .unwrap_or_else(|| "unwinding after a restart".into());
                let ok = self.backward::<K>(ctx, &mut row, &state, &reason).await;
                Ok(format!(
                    "{what}: {} ({reason})",
                    if ok {
                        "unwound"
                    } else {
                        "still stuck while unwinding"
                    }
                ))
            }
            (SagaState::Running | SagaState::Stuck | SagaState::Unwinding, Recovery::Resume) => {
                row.state = SagaState::Running.into();
                match self.forward::<K>(ctx, &mut row, &mut state).await {
                    Ok(()) => Ok(format!("{what}: resumed and finished")),
                    Err(e) => Ok(format!(
                        "{what}: resumed, still failing ({})",
                        reason_of(&e)
                    )),
                }
            }
            (SagaState::Done | SagaState::Unwound, _) => Ok(String::new()),
        }
    }

    /// Recovers every unfinished saga no executor of this process is running; prunes finished
    /// ones after a day. Returns what it did, one line per saga.
    pub async fn recover_all(&self) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for row in self.store.saga_list_unfinished().await? {
            if self.is_live(&row.id) {
                continue;
            }
            let recover = self
                .kinds
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(row.kind.as_str())
                .cloned();
            match recover {
                Some(recover) => {
                    let line = recover(row).await?;
                    if !line.is_empty() {
                        done.push(line);
                    }
                }
                None => {
                    tracing::warn!(saga = %row.id, kind = %row.kind, "no service recovers this saga kind")
                }
            }
        }
        self.store
            .saga_prune_finished(Utc::now() - chrono::Duration::days(1))
            .await?;
        Ok(done)
    }
}
