//! The executor on a real SQLite saga log, with a toy saga whose steps make and remove names.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::testing::{assert_settled, every_failure};
use super::*;

/// What the toy steps made, and undos set to fail a number of times.
#[derive(Default)]
struct World {
    made: BTreeSet<String>,
    undo_failures_left: u32,
}

type Ctx = Arc<Mutex<World>>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Toy {
    name: String,
    /// What the steps recorded having made (the log of a real saga: interface ids, paths).
    recorded: Vec<String>,
}

fn make(ctx: &Ctx, s: &mut Toy, part: &str) {
    let thing = format!("{}/{part}", s.name);
    ctx.lock().expect("world").made.insert(thing.clone());
    s.recorded.push(thing);
}

fn unmake(ctx: &Ctx, s: &Toy, part: &str) -> Result<()> {
    let mut w = ctx.lock().expect("world");
    if w.undo_failures_left > 0 {
        w.undo_failures_left -= 1;
        return Err(Error::Internal(format!("cannot remove {part} yet")));
    }
    // By name, not by what was recorded: a step that made its part and failed before its
    // state was saved is cleaned up too.
    w.made.remove(&format!("{}/{part}", s.name));
    Ok(())
}

macro_rules! toy_step {
    ($name:literal, $run:ident, $undo:ident) => {
        fn $run<'a>(c: &'a Ctx, s: &'a mut Toy) -> StepFuture<'a> {
            Box::pin(async move {
                make(c, s, $name);
                Ok(())
            })
        }
        fn $undo<'a>(c: &'a Ctx, s: &'a Toy, _reason: &'a str) -> StepFuture<'a> {
            Box::pin(async move { unmake(c, s, $name) })
        }
    };
}

toy_step!("a", run_a, undo_a);
toy_step!("b", run_b, undo_b);
toy_step!("c", run_c, undo_c);

const STEPS: &[Step<Ctx, Toy>] = &[
    Step {
        name: "a",
        run: run_a,
        undo: undo_a,
    },
    Step {
        name: "b",
        run: run_b,
        undo: undo_b,
    },
    Step {
        name: "c",
        run: run_c,
        undo: undo_c,
    },
];

struct Create;

impl SagaKind for Create {
    type Context = Ctx;
    type State = Toy;
    const KIND: &'static str = "test.create";
    const RECOVERY: Recovery = Recovery::Unwind;
    fn steps() -> &'static [Step<Ctx, Toy>] {
        STEPS
    }
    fn resource(state: &Toy) -> String {
        format!("toy/{}", state.name)
    }
}

struct Delete;

impl SagaKind for Delete {
    type Context = Ctx;
    type State = Toy;
    const KIND: &'static str = "test.delete";
    const RECOVERY: Recovery = Recovery::Resume;
    fn steps() -> &'static [Step<Ctx, Toy>] {
        STEPS
    }
    fn resource(state: &Toy) -> String {
        format!("toy/{}", state.name)
    }
}

async fn sagas() -> (Sagas, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("saga.db").display());
    let store = Store::connect(&url).await.expect("store");
    (Sagas::new(store), dir)
}

fn toy(name: &str) -> Toy {
    Toy {
        name: name.into(),
        recorded: Vec::new(),
    }
}

fn made(ctx: &Ctx) -> Vec<String> {
    ctx.lock().expect("world").made.iter().cloned().collect()
}

#[tokio::test]
async fn a_saga_runs_every_step_and_is_done() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    let out = sagas.run::<Create>(&ctx, toy("x")).await.expect("runs");
    assert_eq!(out.recorded, ["x/a", "x/b", "x/c"]);
    assert_eq!(made(&ctx), ["x/a", "x/b", "x/c"]);
    let rows = sagas
        .store()
        .saga_list_kind(Create::KIND)
        .await
        .expect("log");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].state.get(), rows[0].progress),
        (SagaState::Done, 3)
    );
    assert_eq!(rows[0].resource, "toy/x");
    assert!(!sagas.unfinished_for("toy/x").await.expect("query"));
}

#[tokio::test]
async fn a_failure_at_any_step_leaves_nothing() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    let failures = every_failure::<Create>();
    assert_eq!(failures.len(), 6, "before and after each of 3 steps");
    for (n, failure) in failures.into_iter().enumerate() {
        sagas.inject_failure(Some(failure.clone()));
        let err = sagas
            .run::<Create>(&ctx, toy(&format!("t{n}")))
            .await
            .expect_err("the injected failure");
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert!(made(&ctx).is_empty(), "{failure:?} left {:?}", made(&ctx));
    }
    sagas.inject_failure(None);
    assert_settled(&sagas, Create::KIND).await.expect("settled");
    let rows = sagas
        .store()
        .saga_list_kind(Create::KIND)
        .await
        .expect("log");
    assert!(
        rows.iter()
            .all(|r| r.state == SagaState::Unwound && r.progress == 0)
    );
    assert!(rows.iter().all(|r| {
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("injected failure"))
    }));
}

#[tokio::test]
async fn a_failed_undo_is_stuck_until_the_reconciler_finishes_it() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    sagas.register::<Create>(ctx.clone());
    ctx.lock().expect("world").undo_failures_left = 1;
    sagas.inject_failure(Some(InjectedFailure {
        kind: Create::KIND,
        step: "c",
        after_run: false,
    }));
    sagas
        .run::<Create>(&ctx, toy("s"))
        .await
        .expect_err("fails at c");
    sagas.inject_failure(None);
    let row = &sagas
        .store()
        .saga_list_kind(Create::KIND)
        .await
        .expect("log")[0];
    assert_eq!(row.state, SagaState::Stuck);
    assert!(!made(&ctx).is_empty(), "the failed undo left something");
    assert!(assert_settled(&sagas, Create::KIND).await.is_err());
    let fixed = sagas.recover_all().await.expect("recovers");
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert!(fixed[0].contains("): unwound ("), "{fixed:?}");
    assert!(made(&ctx).is_empty());
    assert_settled(&sagas, Create::KIND).await.expect("settled");
    assert!(
        sagas.recover_all().await.expect("again").is_empty(),
        "idempotent"
    );
}

/// A crash between a step's work and its record: the log says one step done, the world has two.
async fn crashed(sagas: &Sagas, ctx: &Ctx, kind: &str) {
    let now = Utc::now();
    let mut state = toy("k");
    make(ctx, &mut state, "a");
    let data = serde_json::to_value(&state).expect("json");
    make(ctx, &mut state, "b");
    sagas
        .store()
        .saga_create(SagaRow {
            id: format!("saga-crashed-{kind}"),
            kind: kind.into(),
            resource: "toy/k".into(),
            state: SagaState::Running.into(),
            progress: 1,
            data,
            error: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .expect("log");
}

#[tokio::test]
async fn after_a_crash_a_create_is_unwound_including_the_step_in_flight() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    sagas.register::<Create>(ctx.clone());
    crashed(&sagas, &ctx, Create::KIND).await;
    assert!(sagas.unfinished_for("toy/k").await.expect("query"));
    let fixed = sagas.recover_all().await.expect("recovers");
    assert_eq!(
        fixed,
        [
            "test.create toy/k (saga-crashed-test.create): unwound (interrupted: the server stopped during the operation)"
        ]
    );
    assert!(made(&ctx).is_empty(), "left {:?}", made(&ctx));
    assert!(!sagas.unfinished_for("toy/k").await.expect("query"));
}

#[tokio::test]
async fn after_a_crash_a_delete_resumes_from_the_step_in_flight() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    sagas.register::<Delete>(ctx.clone());
    crashed(&sagas, &ctx, Delete::KIND).await;
    let fixed = sagas.recover_all().await.expect("recovers");
    assert_eq!(fixed.len(), 1);
    assert!(fixed[0].ends_with("resumed and finished"), "{fixed:?}");
    assert_eq!(made(&ctx), ["k/a", "k/b", "k/c"]);
    assert_settled(&sagas, Delete::KIND).await.expect("settled");
}

#[tokio::test]
async fn a_failing_delete_is_retried_not_unwound() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    sagas.register::<Delete>(ctx.clone());
    sagas.inject_failure(Some(InjectedFailure {
        kind: Delete::KIND,
        step: "b",
        after_run: false,
    }));
    sagas
        .run::<Delete>(&ctx, toy("d"))
        .await
        .expect_err("fails at b");
    assert_eq!(
        made(&ctx),
        ["d/a"],
        "a delete does not take back what it did"
    );
    // Still failing: recorded, not lost.
    let again = sagas.recover_all().await.expect("reconciles");
    assert!(again[0].contains("still failing"), "{again:?}");
    sagas.inject_failure(None);
    let fixed = sagas.recover_all().await.expect("recovers");
    assert!(fixed[0].ends_with("resumed and finished"), "{fixed:?}");
    assert_eq!(made(&ctx), ["d/a", "d/b", "d/c"]);
}

#[tokio::test]
async fn a_saga_running_here_is_left_to_its_executor() {
    let (sagas, _dir) = sagas().await;
    let ctx = Ctx::default();
    sagas.register::<Create>(ctx.clone());
    crashed(&sagas, &ctx, Create::KIND).await;
    let _live = Live::enter(&sagas.live, "saga-crashed-test.create");
    assert!(sagas.recover_all().await.expect("reconciles").is_empty());
    assert_eq!(made(&ctx).len(), 2);
}

#[test]
fn an_unknown_state_in_the_log_is_an_error() {
    assert!(SagaState::parse("running").is_ok());
    let err = SagaState::parse("paused").expect_err("unknown");
    assert!(err.to_string().contains("paused"), "{err}");
}
