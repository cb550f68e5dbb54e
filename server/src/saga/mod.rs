//! Sagas: multi-step operations whose every step has an undo, with progress persisted in the
//! database so that a restarted server finishes or unwinds what a crash interrupted.
//!
//! A saga kind ([`SagaKind`]) is a list of [`Step`]s over a shared, serialisable state. The
//! executor ([`Sagas::run`]) records the saga, runs the steps in order and saves the state after
//! each one. When a step fails, the steps are undone in reverse, the failed one included (a step
//! may fail halfway, so every undo is idempotent and tolerates a step that never ran). After a
//! crash, the `sagas` reconciler finds what was left running and, as the kind says, either
//! unwinds it ([`Recovery::Unwind`], for creates: a half-made instance is removed) or resumes it
//! ([`Recovery::Resume`], for what cannot be taken back, such as deleting an account). An undo
//! that fails leaves the saga `stuck`; the reconciler retries it on its timer.
//!
//! Tests inject a failure at any step ([`Sagas::inject_failure`]); [`testing`] runs a scenario
//! once per step and checks that nothing is left behind.

mod reconciler;
mod recover;
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::future::BoxFuture;
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::saga::SagaRow;

pub use reconciler::SagaReconciler;

/// What a step's action or undo returns.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// One step of a saga: an action and the undo that takes it back.
pub struct Step<C, S> {
    /// Its name in logs, in the saga log and in failure injection (`interface`, `disk`, ...).
    pub name: &'static str,
    /// Does the step's work; may record what it made in the state (saved after it returns).
    pub run: for<'a> fn(&'a C, &'a mut S) -> StepFuture<'a>,
    /// Takes the step back. Idempotent; must succeed when the step never ran or ran partly.
    /// `reason` says why the saga is unwinding.
    pub undo: for<'a> fn(&'a C, &'a S, &'a str) -> StepFuture<'a>,
}

/// An undo for steps that have nothing to take back.
pub fn nothing_to_undo<'a, C, S>(_: &'a C, _: &'a S, _: &'a str) -> StepFuture<'a> {
    Box::pin(async { Ok(()) })
}

/// What the reconciler does with a saga a crash left running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Undo what was done: the operation never happened (creates).
    Unwind,
    /// Run the remaining steps, from the interrupted one (each `run` is idempotent): the
    /// operation cannot be taken back once started (deletes).
    Resume,
}

/// A kind of multi-step operation.
pub trait SagaKind: Send + Sync + 'static {
    /// The service it runs on (`Compute`, `Vpc`, `Nuvem`).
    type Context: Clone + Send + Sync + 'static;
    /// What the steps share: their inputs and what they made. Saved after every step.
    type State: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Unique among kinds: `compute.instance-launch`.
    const KIND: &'static str;
    const RECOVERY: Recovery;
    fn steps() -> &'static [Step<Self::Context, Self::State>];
    /// What the saga works on, for the log and for [`Sagas::unfinished_for`]: `instance/i-…`.
    fn resource(state: &Self::State) -> String;
}

/// Where a saga's state is: the text of the `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SagaState {
    Running,
    Unwinding,
    Done,
    Unwound,
    /// An undo failed; the reconciler retries the unwinding.
    Stuck,
}

impl SagaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SagaState::Running => "running",
            SagaState::Unwinding => "unwinding",
            SagaState::Done => "done",
            SagaState::Unwound => "unwound",
            SagaState::Stuck => "stuck",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "running" => SagaState::Running,
            "unwinding" => SagaState::Unwinding,
            "done" => SagaState::Done,
            "unwound" => SagaState::Unwound,
            "stuck" => SagaState::Stuck,
            other => {
                return Err(Error::Internal(format!(
                    "the saga log holds an unknown state {other:?}"
                )));
            }
        })
    }
}

/// Where to inject a failure (tests of the unwinding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFailure {
    pub kind: &'static str,
    pub step: &'static str,
    /// `false`: the step fails before doing anything. `true`: it does its work, then fails, so
    /// that its own undo must clean up.
    pub after_run: bool,
}

type Recover = Arc<dyn Fn(SagaRow) -> BoxFuture<'static, Result<String>> + Send + Sync>;

/// The saga executor; cheap to clone.
#[derive(Clone)]
pub struct Sagas {
    store: Store,
    /// Sagas an executor of this process is running: recovery leaves them alone.
    live: Arc<Mutex<HashSet<String>>>,
    /// How to recover each kind, registered by the services at start.
    kinds: Arc<Mutex<HashMap<&'static str, Recover>>>,
    failure: Arc<Mutex<Option<InjectedFailure>>>,
}

impl Sagas {
    pub fn new(store: Store) -> Self {
        Sagas {
            store,
            live: Arc::default(),
            kinds: Arc::default(),
            failure: Arc::default(),
        }
    }

    /// Lets the reconciler recover sagas of kind `K` after a restart, on `ctx`.
    pub fn register<K: SagaKind>(&self, ctx: K::Context) {
        let me = self.clone();
        let recover: Recover = Arc::new(move |row: SagaRow| {
            let (me, ctx) = (me.clone(), ctx.clone());
            Box::pin(async move { me.recover::<K>(&ctx, row).await })
        });
        self.kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(K::KIND, recover);
    }

    /// Forgets how to recover every kind (at shutdown: the registered contexts hold the
    /// services, which hold this executor).
    pub fn forget_kinds(&self) {
        self.kinds.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Makes the next sagas of `failure.kind` fail at `failure.step`; `None` stops it.
    pub fn inject_failure(&self, failure: Option<InjectedFailure>) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = failure;
    }

    fn injected(&self, kind: &str, step: &str, after_run: bool) -> Result<()> {
        let failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        match &*failure {
            Some(f) if f.kind == kind && f.step == step && f.after_run == after_run => {
                Err(Error::Internal(format!(
                    "injected failure {} step {step}",
                    if after_run { "after" } else { "before" }
                )))
            }
            _ => Ok(()),
        }
    }

    /// Runs a saga to the end. On failure, unwinds it and returns the step's error; the state
    /// the steps left is returned on success.
    pub async fn run<K: SagaKind>(&self, ctx: &K::Context, state: K::State) -> Result<K::State> {
        let now = Utc::now();
        let mut row = SagaRow {
            id: format!("saga-{:016x}", rand::thread_rng().r#gen::<u64>()),
            kind: K::KIND.to_owned(),
            resource: K::resource(&state),
            state: SagaState::Running.into(),
            progress: 0,
            data: to_json(&state)?,
            error: None,
            created_at: now,
            updated_at: now,
        };
        self.store.saga_create(row.clone()).await?;
        let _live = Live::enter(&self.live, &row.id);
        let mut state = state;
        self.forward::<K>(ctx, &mut row, &mut state).await?;
        Ok(state)
    }

    /// Runs the steps from `row.progress` on; unwinds on the first failure (for kinds that
    /// unwind) or leaves the saga for the reconciler to resume (for kinds that resume).
    async fn forward<K: SagaKind>(
        &self,
        ctx: &K::Context,
        row: &mut SagaRow,
        state: &mut K::State,
    ) -> Result<()> {
        let steps = K::steps();
        for (i, step) in steps.iter().enumerate().skip(row.progress.max(0) as usize) {
            let started = std::time::Instant::now();
            let outcome = async {
                self.injected(K::KIND, step.name, false)?;
                (step.run)(ctx, state).await?;
                self.injected(K::KIND, step.name, true)
            }
            .await;
            match outcome {
                Ok(()) => {
                    // Where a slow create spends its time (`--log info,nuvem_server::saga=debug`).
                    tracing::debug!(saga = %row.id, kind = K::KIND, step = step.name, ms = started.elapsed().as_secs_f64() * 1e3, "saga step done");
                    row.progress = i as i32 + 1;
                    row.data = to_json(state)?;
                    self.store.saga_save(row).await?;
                }
                Err(e) => {
                    let reason = reason_of(&e);
                    tracing::warn!(saga = %row.id, kind = K::KIND, resource = %row.resource, step = step.name, error = %reason, "saga step failed");
                    row.data = to_json(state)?;
                    row.error = Some(format!("step {} failed: {reason}", step.name));
                    if K::RECOVERY == Recovery::Resume {
                        // Nothing to take back: the reconciler tries the step again later.
                        row.state = SagaState::Stuck.into();
                        self.store.saga_save(row).await?;
                        return Err(e);
                    }
                    // The failed step may have done part of its work: undo it too.
                    row.state = SagaState::Unwinding.into();
                    row.progress = i as i32 + 1;
                    self.store.saga_save(row).await?;
                    self.backward::<K>(ctx, row, state, &reason).await;
                    return Err(e);
                }
            }
        }
        row.state = SagaState::Done.into();
        row.error = None;
        self.store.saga_save(row).await
    }

    /// Undoes steps `row.progress - 1` down to 0. Leaves the saga `stuck` when an undo fails.
    async fn backward<K: SagaKind>(
        &self,
        ctx: &K::Context,
        row: &mut SagaRow,
        state: &K::State,
        reason: &str,
    ) -> bool {
        let steps = K::steps();
        while row.progress > 0 {
            let step = &steps[(row.progress - 1) as usize];
            if let Err(e) = (step.undo)(ctx, state, reason).await {
                tracing::error!(saga = %row.id, kind = K::KIND, resource = %row.resource, step = step.name, error = %e, "undoing a saga step failed; the reconciler will retry");
                row.state = SagaState::Stuck.into();
                row.error = Some(format!(
                    "{reason}; then undoing step {} failed: {}",
                    step.name,
                    reason_of(&e)
                ));
                if let Err(e) = self.store.saga_save(row).await {
                    tracing::error!(saga = %row.id, error = %e, "cannot record the stuck saga");
                }
                return false;
            }
            row.progress -= 1;
            if let Err(e) = self.store.saga_save(row).await {
                tracing::error!(saga = %row.id, error = %e, "cannot record the unwinding");
            }
        }
        row.state = SagaState::Unwound.into();
        row.error = Some(reason.to_owned());
        if let Err(e) = self.store.saga_save(row).await {
            tracing::error!(saga = %row.id, error = %e, "cannot record the unwound saga");
        }
        true
    }

    fn is_live(&self, id: &str) -> bool {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    /// Whether some saga still works on `resource` (one running here, or one left by a crash).
    pub async fn unfinished_for(&self, resource: &str) -> Result<bool> {
        Ok(!self
            .store
            .saga_list_unfinished_for(resource)
            .await?
            .is_empty())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Marks a saga as run by this process for as long as it lives.
struct Live {
    set: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Live {
    fn enter(set: &Arc<Mutex<HashSet<String>>>, id: &str) -> Live {
        set.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned());
        Live {
            set: set.clone(),
            id: id.to_owned(),
        }
    }

    fn try_enter(set: &Arc<Mutex<HashSet<String>>>, id: &str) -> Option<Live> {
        if !set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned())
        {
            return None;
        }
        Some(Live {
            set: set.clone(),
            id: id.to_owned(),
        })
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

fn to_json<S: Serialize>(state: &S) -> Result<serde_json::Value> {
    serde_json::to_value(state).map_err(Error::internal)
}

/// An error as a person reads it: internal details included (they go to the saga log and the
/// resource's state reason, which only its owner and the operator see).
pub fn reason_of(e: &Error) -> String {
    match e {
        Error::Internal(d) => d.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
