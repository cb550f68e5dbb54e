//! The compute API's rules on the simulated hypervisor (fast, both databases): bad input gets a
//! clear 4xx, private images and key pairs stay in their account, the lifecycle follows the
//! guest, and capacity is accounted. Real guests boot in `instances_kernel`.

use std::time::Duration;

use nuvem_api::ErrorCode;
use nuvem_api::ec2::{InstanceState, RunInstancesRequest};
use nuvem_sdk::Client;
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn req(v: serde_json::Value) -> RunInstancesRequest {
    serde_json::from_value(v).expect("a launch request")
}

fn code<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> (ErrorCode, String) {
    let e = r.expect_err("the call should fail");
    (e.code().expect("an API error"), e.to_string())
}

async fn wait(c: &Client, id: &str, state: InstanceState) {
    let i = c
        .wait_for_state(id, state, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(i.state, state, "{id}: {}", i.state_reason);
}

async fn compute_bad_input_and_isolation(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let public = cloud.fake_image("public-img", None).await;
    let root = cloud.account("ec2rules").await;
    let other = cloud.account("ec2rules-other").await;
    let private_other = cloud.fake_image("their-img", Some("ec2rules-other")).await;
    other.create_key_pair("theirs", None).await.unwrap();
    let their_sg = other
        .list_security_groups(None)
        .await
        .unwrap()
        .items
        .remove(0);
    let big = "x".repeat(16 * 1024 + 1);

    for (body, status_code, hint) in [
        (
            json!({"image_id": "ami-00000000", "instance_type": "t3.nano"}),
            ErrorCode::InvalidRequest,
            "not an image you can use",
        ),
        (
            json!({"image_id": private_other, "instance_type": "t3.nano"}),
            ErrorCode::InvalidRequest,
            "not an image you can use",
        ),
        (
            json!({"image_id": public, "instance_type": "m9.huge"}),
            ErrorCode::InvalidRequest,
            "does not exist",
        ),
        (
            json!({"image_id": public, "instance_type": "t3.nano", "key_name": "theirs"}),
            ErrorCode::InvalidRequest,
            "not a key pair of your account",
        ),
        (
            json!({"image_id": public, "instance_type": "t3.nano", "security_group_ids": [their_sg.id]}),
            ErrorCode::InvalidRequest,
            "not a security group of your account",
        ),
        (
            json!({"image_id": public, "instance_type": "t3.nano", "user_data": big}),
            ErrorCode::InvalidRequest,
            "16 KiB",
        ),
        (
            json!({"image_id": public, "instance_type": "t3.nano", "count": 0}),
            ErrorCode::InvalidRequest,
            "count must be between 1 and 20",
        ),
        (
            json!({"image_id": public, "instance_type": "t3.nano", "count": 21}),
            ErrorCode::InvalidRequest,
            "count must be between 1 and 20",
        ),
    ] {
        let (c, msg) = code(root.run_instances(&req(body.clone())).await);
        assert_eq!(c, status_code, "{body}: {msg}");
        assert!(msg.contains(hint), "{body}: {msg}");
    }
    assert!(
        root.list_instances().await.unwrap().items.is_empty(),
        "nothing half-created"
    );

    // Images: the other account's private image is invisible; importing is the operator's.
    let names: Vec<_> = root
        .list_images()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["public-img"]);
    assert_eq!(
        code(root.get_image(&private_other).await).0,
        ErrorCode::NotFound
    );
    assert!(
        other
            .list_images()
            .await
            .unwrap()
            .items
            .iter()
            .any(|i| i.id == private_other)
    );
    let (c, _) = code(
        root.import_image(
            &serde_json::from_value(
                json!({"name": "x", "format": "qcow2", "disk_path": "/etc/hostname"}),
            )
            .unwrap(),
        )
        .await,
    );
    assert_eq!(c, ErrorCode::AccessDenied);
    let (c, msg) = code(
        cloud
            .admin
            .import_image(
                &serde_json::from_value(
                    json!({"name": "x", "format": "qcow2", "disk_path": "/nonexistent.qcow2"}),
                )
                .unwrap(),
            )
            .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest, "{msg}");

    // Key pairs: generated (private key once) or imported; names unique per account.
    let created = root.create_key_pair("mine", None).await.unwrap();
    assert!(created.private_key.unwrap().contains("OPENSSH PRIVATE KEY"));
    assert!(created.key_pair.fingerprint.starts_with("SHA256:"));
    assert_eq!(
        code(root.create_key_pair("mine", None).await).0,
        ErrorCode::AlreadyExists
    );
    let imported = root
        .create_key_pair("imported", Some(&created.key_pair.public_key))
        .await
        .unwrap();
    assert!(imported.private_key.is_none());
    assert_eq!(imported.key_pair.fingerprint, created.key_pair.fingerprint);
    let (c, msg) = code(root.create_key_pair("junk", Some("not a key")).await);
    assert_eq!(c, ErrorCode::InvalidRequest, "{msg}");
    assert!(root.get_key_pair("theirs").await.is_err());

    // Instance types: the catalog has the course's c1.course; changing it is the operator's.
    let types: Vec<_> = root
        .list_instance_types()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(
        types.contains(&"c1.course".to_owned()) && types.contains(&"t3.nano".to_owned()),
        "{types:?}"
    );
    let t = serde_json::from_value(
        json!({"vcpus": 1, "memory_mib": 256, "disk_gib": 1, "price_per_hour": 0.001}),
    )
    .unwrap();
    assert_eq!(
        code(root.put_instance_type("t1.tiny", &t).await).0,
        ErrorCode::AccessDenied
    );
    cloud.admin.put_instance_type("t1.tiny", &t).await.unwrap();
    assert!(
        root.list_instance_types()
            .await
            .unwrap()
            .items
            .iter()
            .any(|t| t.name == "t1.tiny")
    );
    cloud.stop().await;
}

async fn lifecycle_follows_the_guest(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let img = cloud.fake_image("img", None).await;
    let root = cloud.account("ec2life").await;
    root.create_key_pair("k", None).await.unwrap();
    let launched = root
        .run_instances(&req(json!({"image_id": img, "instance_type": "t3.nano", "key_name": "k", "count": 2, "name": "web", "tags": {"course": "cloud"}})))
        .await
        .unwrap()
        .items;
    assert_eq!(
        launched.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["web-1", "web-2"]
    );
    assert!(launched.iter().all(|i| i.state == InstanceState::Pending));
    for i in &launched {
        wait(&root, &i.id, InstanceState::Running).await;
    }
    let a = root.get_instance(&launched[0].id).await.unwrap();
    assert!(a.private_ip.is_some() && a.interface_id.is_some());
    assert_eq!(a.tags.get("course").map(String::as_str), Some("cloud"));
    assert_eq!(a.accelerator, "tcg", "the simulated hypervisor reports TCG");
    // The interface is the instance's: it cannot be deleted through the VPC API.
    let (c, _) = code(
        root.delete_network_interface(a.interface_id.as_ref().unwrap())
            .await,
    );
    assert_eq!(c, ErrorCode::Conflict);

    // Capacity: the host has `cores` vCPUs at ratio 1.0; two are taken.
    let host = cloud.admin.list_hosts().await.unwrap().items.remove(0);
    assert_eq!(host.vcpus_used, 2);

    // A guest that powers itself off becomes stopped; start brings it back.
    let compute = &cloud.server().nuvem.compute;
    let sim = &cloud.sims().hypervisor;
    sim.power_off_from_inside(&compute.domain_name(&a.id));
    compute.reconcile().await.unwrap();
    let stopped = root.get_instance(&a.id).await.unwrap();
    assert_eq!(stopped.state, InstanceState::Stopped);
    assert!(
        stopped.state_reason.contains("powered itself off"),
        "{}",
        stopped.state_reason
    );
    assert_eq!(
        cloud.admin.list_hosts().await.unwrap().items[0].vcpus_used,
        1,
        "a stopped instance holds no vCPU"
    );
    root.start_instance(&a.id).await.unwrap();
    wait(&root, &a.id, InstanceState::Running).await;
    let (c, _) = code(root.start_instance("i-00000000").await);
    assert_eq!(c, ErrorCode::NotFound);

    // Stop, reboot rules, terminate; a domain nobody knows is removed by the reconciler.
    root.stop_instance(&a.id).await.unwrap();
    wait(&root, &a.id, InstanceState::Stopped).await;
    assert_eq!(
        code(root.reboot_instance(&a.id).await).0,
        ErrorCode::Conflict
    );
    for i in &launched {
        root.terminate_instance(&i.id).await.unwrap();
        wait(&root, &i.id, InstanceState::Terminated).await;
    }
    assert_eq!(code(root.stop_instance(&a.id).await).0, ErrorCode::Conflict);
    assert!(
        root.list_network_interfaces(None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let orphan = compute.domain_name("i-deadbeef");
    compute
        .hypervisor()
        .define_and_start(&nuvem_server::drivers::hypervisor::DomainSpec {
            name: orphan.clone(),
            vcpus: 1,
            memory_mib: 64,
            accelerator: nuvem_server::drivers::hypervisor::Accelerator::Tcg,
            kernel: None,
            disk: "/nonexistent".into(),
            seed: "/nonexistent".into(),
            bridge: "none".into(),
            tap: "none".into(),
            mac: "52:54:00:00:00:00".into(),
            console_log: "/nonexistent".into(),
            pinned: vec![],
        })
        .unwrap();
    compute.reconcile().await.unwrap();
    assert!(
        compute.hypervisor().list(&orphan).unwrap().is_empty(),
        "the orphan domain was removed"
    );

    // Deleting the account terminates what it still runs.
    let again = root
        .run_instances(&req(json!({"image_id": img, "instance_type": "t3.nano"})))
        .await
        .unwrap()
        .items
        .remove(0);
    wait(&root, &again.id, InstanceState::Running).await;
    cloud.admin.delete_account("ec2life").await.unwrap();
    assert!(
        compute
            .hypervisor()
            .list(&compute.domain_name(""))
            .unwrap()
            .is_empty()
    );
    cloud.stop().await;
}

on_both_backends!(
    compute_bad_input_and_isolation,
    lifecycle_follows_the_guest,
    the_operator_changes_capacity_live
);

/// The operator changes a host's capacity live; the scheduler uses it at once, running
/// instances are never evicted, and a full host says what is used, what is free and what to do.
async fn the_operator_changes_capacity_live(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let img = cloud.fake_image("img", None).await;
    let root = cloud.account("ec2cap").await;
    let host = cloud.admin.list_hosts().await.unwrap().items.remove(0);
    assert_eq!((host.cpu_ratio, host.reserved_memory_mib), (1.0, 1024));
    let fill = host.cores;
    let launch = |n: u32| req(json!({"image_id": img, "instance_type": "t3.nano", "count": n}));
    for i in root.run_instances(&launch(fill)).await.unwrap().items {
        wait(&root, &i.id, InstanceState::Running).await;
    }
    let (c, msg) = code(root.run_instances(&launch(1)).await);
    assert_eq!(c, ErrorCode::InsufficientCapacity);
    assert!(
        msg.contains(&format!("{fill} of {fill} vCPUs in use")),
        "{msg}"
    );
    assert!(msg.contains("0 free"), "{msg}");
    assert!(
        msg.contains("cloudctl host update host-1 --cpu-ratio"),
        "{msg}"
    );

    // Students may not change it; bad values are refused with the range.
    let (c, _) = code(root.update_host("host-1", Some(4.0), None).await);
    assert_eq!(c, ErrorCode::AccessDenied);
    let (c, msg) = code(cloud.admin.update_host("host-1", Some(40.0), None).await);
    assert_eq!(c, ErrorCode::InvalidRequest);
    assert!(msg.contains("0.1 to 16"), "{msg}");
    let (c, _) = code(cloud.admin.update_host("host-1", None, Some(1 << 40)).await);
    assert_eq!(c, ErrorCode::InvalidRequest);
    let (c, _) = code(cloud.admin.update_host("nope", Some(2.0), None).await);
    assert_eq!(c, ErrorCode::NotFound);

    // Raised live: the next launch fits.
    let raised = cloud
        .admin
        .update_host("host-1", Some(2.0), None)
        .await
        .unwrap();
    assert_eq!(raised.vcpus_capacity, 2 * fill);
    assert_eq!(raised.vcpus_free, fill);
    let more = root
        .run_instances(&launch(1))
        .await
        .unwrap()
        .items
        .remove(0);
    wait(&root, &more.id, InstanceState::Running).await;

    // Lowered below use: nobody is evicted, nothing new fits.
    let lowered = cloud
        .admin
        .update_host(&host.name, Some(0.5), Some(2048))
        .await
        .unwrap();
    assert_eq!(lowered.vcpus_used, fill + 1);
    assert_eq!(lowered.vcpus_free, 0);
    assert_eq!(lowered.reserved_memory_mib, 2048);
    let running = root.list_instances().await.unwrap().items;
    assert!(running.iter().all(|i| i.state == InstanceState::Running));
    let (c, _) = code(root.run_instances(&launch(1)).await);
    assert_eq!(c, ErrorCode::InsufficientCapacity);

    // The live setting survives a restart that names no ratio.
    let password = cloud.admin_password.clone();
    let (server, _dir) = cloud.restart_configured(|c| c.cpu_ratio = None).await;
    let admin = crate::common::login(&server.url(), "admin", "root", &password).await;
    let host = admin.list_hosts().await.unwrap().items.remove(0);
    assert_eq!((host.cpu_ratio, host.reserved_memory_mib), (0.5, 2048));
    server.stop().await;
}
