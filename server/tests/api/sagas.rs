//! Sagas on a real server (simulated drivers, both databases): a failure injected before and after
//! every step of a launch or a network change leaves nothing behind, a launch a crash left in the
//! saga log is unwound by the saga reconciler, an account deletion that fails halfway is finished
//! by it, and an instance write against a stale generation is a conflict. Real guests go through
//! the same launch failures in `instances_kernel`.

use std::time::Duration;

use nuvem_api::ec2::{InstanceState, RunInstancesRequest};
use nuvem_api::vpc::{AuthorizeRuleRequest, Direction, Protocol};
use nuvem_sdk::Client;
use nuvem_server::account_deletion::AccountDeletion;
use nuvem_server::compute::launch::LaunchSaga;
use nuvem_server::saga::testing::{assert_settled, every_failure};
use nuvem_server::saga::{InjectedFailure, SagaKind, SagaState};
use nuvem_server::vpc::change::NetworkChange;
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
    assert_eq!((saga.state.get(), saga.progress), (SagaState::Done, 6));
    saga.state = SagaState::Running.into();
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
            "compute.instance-launch instance/{} ({}): unwound (interrupted: the server stopped during the operation)",
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

async fn every_network_change_failure_is_taken_back(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("sagavpc").await;
    // The default VPC (a /20 of this server's pool) holds its default subnet in the first /24.
    let vpc = root.list_vpcs().await.unwrap().items.remove(0);
    let octets: Vec<u32> = vpc
        .cidr
        .split(['.', '/'])
        .map(|o| o.parse().unwrap())
        .collect();
    let block = format!("{}.{}.{}.0/24", octets[0], octets[1], octets[2] + 1);
    let sg = root
        .list_security_groups(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .remove(0);
    let rules_before = sg.rules.len();
    let rule = AuthorizeRuleRequest {
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        from_port: Some(22),
        to_port: None,
        cidr: Some("0.0.0.0/0".into()),
        source_group_id: None,
        description: None,
    };
    let sagas = &cloud.server().nuvem.sagas;
    for failure in every_failure::<NetworkChange>() {
        let what = format!("{failure:?}");
        sagas.inject_failure(Some(failure.clone()));
        let err = root
            .create_subnet(&vpc.id, &block, None)
            .await
            .expect_err("the injected failure");
        assert_eq!(
            err.code(),
            Some(nuvem_api::ErrorCode::Internal),
            "{what}: {err}"
        );
        let subnets = root.list_subnets(Some(&vpc.id)).await.unwrap().items;
        assert_eq!(subnets.len(), 1, "{what}: subnet left {subnets:?}");
        root.authorize_rule(&sg.id, &rule).await.expect_err("fails");
        let rules = root.get_security_group(&sg.id).await.unwrap().rules;
        assert_eq!(rules.len(), rules_before, "{what}: rule left");
        assert_settled(sagas, NetworkChange::KIND).await.unwrap();
    }
    sagas.inject_failure(None);
    root.create_subnet(&vpc.id, &block, None).await.unwrap();
    assert_eq!(
        root.authorize_rule(&sg.id, &rule)
            .await
            .unwrap()
            .rules
            .len(),
        rules_before + 2,
        "the rule, and the default group's SSH-from-the-host rule for the new subnet"
    );
    cloud.stop().await;
}

async fn a_failed_account_deletion_is_finished_by_the_reconciler(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("img", None).await;
    let root = cloud.account("sagadel").await;
    let i = root
        .run_instances(&launch(&image))
        .await
        .unwrap()
        .items
        .remove(0);
    settle(&root, &i.id, InstanceState::Running).await;
    let nuvem = &cloud.server().nuvem;
    nuvem.sagas.inject_failure(Some(InjectedFailure {
        kind: AccountDeletion::KIND,
        step: "networks",
        after_run: false,
    }));
    cloud
        .admin
        .delete_account("sagadel")
        .await
        .expect_err("fails at the networks step");
    // Halfway: the instances are gone, the account is still there, the saga waits.
    let t = root.get_instance(&i.id).await.unwrap();
    assert_eq!(t.state, InstanceState::Terminated);
    assert!(cloud.admin.get_account("sagadel").await.is_ok());
    assert!(
        assert_settled(&nuvem.sagas, AccountDeletion::KIND)
            .await
            .is_err()
    );
    nuvem.sagas.inject_failure(None);
    let status = nuvem.reconcilers.run("sagas").await.unwrap();
    assert!(
        status
            .last_fixed
            .iter()
            .any(|l| l.contains("iam.account-delete") && l.ends_with("resumed and finished")),
        "{status:?}"
    );
    let gone = cloud
        .admin
        .get_account("sagadel")
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Some(nuvem_api::ErrorCode::NotFound));
    let domains = nuvem
        .compute
        .hypervisor()
        .list(&nuvem.compute.domain_name(""))
        .unwrap();
    assert!(domains.is_empty(), "{domains:?}");
    assert_settled(&nuvem.sagas, AccountDeletion::KIND)
        .await
        .unwrap();
    cloud.stop().await;
}

on_both_backends!(
    every_launch_failure_unwinds,
    every_network_change_failure_is_taken_back,
    a_failed_account_deletion_is_finished_by_the_reconciler,
    a_crashed_launch_is_unwound_by_the_saga_reconciler,
    a_stale_instance_write_is_a_conflict
);
