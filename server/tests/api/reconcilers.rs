//! The reconcile driver through the API: every service's reconciler runs at start, on its timer
//! and on demand, and the operator sees how the last run went.

use nuvem_api::ErrorCode;

use crate::common::{Backend, Cloud};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_sees_and_runs_every_reconciler() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let list = cloud.admin.list_reconcilers().await.unwrap().items;
    let names: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
    // Storage only with an S3 engine; apps with a container engine (the simulated one here).
    assert_eq!(names, ["vpc", "sagas", "compute", "billing", "apps"]);
    for r in &list {
        assert!(r.runs >= 1, "{} ran at start: {r:?}", r.name);
        assert!(r.last_error.is_none(), "{r:?}");
        assert!(r.last_started_at.is_some());
    }
    let compute = list.iter().find(|r| r.name == "compute").unwrap();
    assert_eq!(compute.period_seconds, 5);

    // On demand: it runs now, and a second run right after has nothing to fix.
    let before = cloud.admin.run_reconciler("vpc").await.unwrap().runs;
    let again = cloud.admin.run_reconciler("vpc").await.unwrap();
    assert_eq!(again.runs, before + 1);
    assert!(again.last_fixed.is_empty(), "idempotent: {again:?}");

    let e = cloud.admin.run_reconciler("nope").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotFound));
    assert!(
        e.to_string().contains("vpc, sagas, compute, billing"),
        "{e}"
    );

    // Tenants may not even look.
    let tenant = cloud.account("tenant").await;
    for e in [
        tenant.list_reconcilers().await.map(drop).unwrap_err(),
        tenant.run_reconciler("vpc").await.map(drop).unwrap_err(),
    ] {
        assert_eq!(e.code(), Some(ErrorCode::AccessDenied), "{e}");
    }
    cloud.stop().await;
}
