//! Sagas on a real server (simulated hypervisor, both databases): a failure injected before and
//! after every launch step leaves nothing behind, a launch a crash left in the saga log is unwound
//! by the saga reconciler, and an instance write against a stale generation is a conflict.
//! Real guests go through the same failures in `instances_kernel`.

use std::time::Duration;

use nuvem_api::ec2::{InstanceState, RunInstancesRequest};
use nuvem_sdk::Client;
use nuvem_server::compute::launch::LaunchSaga;
use nuvem_server::saga::SagaKind;
use nuvem_server::saga::testing::{assert_settled, every_failure};
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn launch(image: &str) -> RunInstancesRequest {
    serde_json::from_value(json!({"image_id": image, "instance_type": "t3.nano"}))
        .expect("a launch request")
}

async fn settle(c: &Client, id: &str, state: InstanceState) -> nuvem_api::ec2::Instance {
    let i = c
        .wait_for_state(id, state, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(i.state, state, "{id}: {}", i.state_reason);
    i
}

/// Nothing of a launch is left: no domain, no files, no interface, no capacity held.
async fn assert_nothing_left(cloud: &Cloud, root: &Client, id: &str, what: &str) {
    let compute = &cloud.server().nuvem.compute;
    let domains = compute.hypervisor().list(&compute.domain_name("")).unwrap();
    assert!(domains.is_empty(), "{what}: domains left {domains:?}");
    let dir = cloud.data_dir().join("compute/instances").join(id);
    assert!(!dir.exists(), "{what}: files left in {}", dir.display());
    let enis = root.list_network_interfaces(None).await.unwrap().items;
    assert!(enis.is_empty(), "{what}: interfaces left {enis:?}");
    let host = cloud.admin.list_hosts().await.unwrap().items.remove(0);
    assert_eq!(host.vcpus_used, 0, "{what}: capacity not released");
}

async fn every_launch_failure_unwinds(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("img", None).await;
    let root = cloud.account("sagafail").await;
    let sagas = &cloud.server().nuvem.sagas;
    let failures = every_failure::<LaunchSaga>();
    assert_eq!(failures.len(), 2 * LaunchSaga::steps().len());
    for failure in failures {
        let what = format!(
            "{} step {}",
            if failure.after_run { "after" } else { "before" },
            failure.step
        );
        sagas.inject_failure(Some(failure.clone()));
        let i = root
            .run_instances(&launch(&image))
            .await
            .unwrap()
            .items
            .remove(0);
        let t = settle(&root, &i.id, InstanceState::Terminated).await;
        assert!(
            t.state_reason
                .starts_with(&format!("launch failed: injected failure {what}")),
            "{what}: {}",
            t.state_reason
        );
        assert_nothing_left(&cloud, &root, &i.id, &what).await;
        assert_settled(sagas, LaunchSaga::KIND).await.unwrap();
    }
    sagas.inject_failure(None);
    // And without a failure, the same launch runs.
    let i = root
        .run_instances(&launch(&image))
        .await
        .unwrap()
        .items
        .remove(0);
    settle(&root, &i.id, InstanceState::Running).await;
    cloud.stop().await;
}

async fn a_crashed_launch_is_unwound_by_the_saga_reconciler(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("img", None).await;
    let root = cloud.account("sagacrash").await;
    let nuvem = &cloud.server().nuvem;
    let i = root
        .run_instances(&launch(&image))
        .await
        .unwrap()
        .items
        .remove(0);
    settle(&root, &i.id, InstanceState::Running).await;
    // What a kill -9 between the domain step and the last one leaves: the instance still
    // pending, its saga running with four steps recorded.
    let store = nuvem.sagas.store();
    let mut saga = store
        .saga_list_kind(LaunchSaga::KIND)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.resource == format!("instance/{}", i.id))
        .expect("the launch's saga");
    assert_eq!((saga.state.as_str(), saga.progress), ("done", 6));
    saga.state = "running".into();
    saga.progress = 4;
    store.saga_save(&saga).await.unwrap();
    let mut row = nuvem.store.instance_get_any(&i.id).await.unwrap().unwrap();
    row.state = InstanceState::Pending.into();
    row.launched_at = None;
    nuvem.store.instance_save(&mut row).await.unwrap();

    // The compute reconciler leaves it to the saga's.
    let compute = nuvem.reconcilers.run("compute").await.unwrap();
    assert!(compute.last_error.is_none(), "{compute:?}");
    assert_eq!(
        root.get_instance(&i.id).await.unwrap().state,
        InstanceState::Pending
    );
    let status = nuvem.reconcilers.run("sagas").await.unwrap();
    assert!(status.last_error.is_none(), "{status:?}");
    assert_eq!(
        status.last_fixed,
        [format!(
            "compute.instance-launch instance/{} ({}): unwound",
            i.id, saga.id
        )]
    );
    let t = root.get_instance(&i.id).await.unwrap();
    assert_eq!(t.state, InstanceState::Terminated);
    assert!(t.state_reason.contains("interrupted"), "{}", t.state_reason);
    assert_nothing_left(&cloud, &root, &i.id, "after the crash").await;
    assert_settled(&nuvem.sagas, LaunchSaga::KIND)
        .await
        .unwrap();
    // Idempotent: a second run finds nothing.
    let again = nuvem.reconcilers.run("sagas").await.unwrap();
    assert!(again.last_fixed.is_empty(), "{again:?}");
    cloud.stop().await;
}

async fn a_stale_instance_write_is_a_conflict(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("img", None).await;
    let root = cloud.account("sagagen").await;
    let store = &cloud.server().nuvem.store;
    let i = root
        .run_instances(&launch(&image))
        .await
        .unwrap()
        .items
        .remove(0);
    settle(&root, &i.id, InstanceState::Running).await;
    let mut first = store.instance_get_any(&i.id).await.unwrap().unwrap();
    let mut second = first.clone();
    first.state_reason = "first writer".into();
    store.instance_save(&mut first).await.unwrap();
    second.state_reason = "second writer, from a stale read".into();
    let err = store.instance_save(&mut second).await.expect_err("stale");
    assert!(
        err.to_string().contains("changed by another operation"),
        "{err}"
    );
    let now = store.instance_get_any(&i.id).await.unwrap().unwrap();
    assert_eq!(now.state_reason, "first writer");
    assert_eq!(now.generation, first.generation);
    cloud.stop().await;
}

on_both_backends!(
    every_launch_failure_unwinds,
    a_crashed_launch_is_unwound_by_the_saga_reconciler,
    a_stale_instance_write_is_a_conflict
);
