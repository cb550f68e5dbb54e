//! The apps API's rules on the simulated container engine and proxy (fast, both databases): bad
//! input gets a clear 4xx and makes nothing, another account can neither see nor touch an app,
//! its images or its balancer, a container killed or removed behind Nuvem's back comes back,
//! and a delete leaves nothing. The real dockerd and HAProxy run in `e2e/tests/apps*.rs`.

use std::time::Duration;

use nuvem_api::ErrorCode;
use nuvem_api::apps::{CreateAppRequest, CreateLoadBalancerRequest, UpdateAppRequest};
use nuvem_sdk::Client;
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn app(v: serde_json::Value) -> CreateAppRequest {
    serde_json::from_value(v).expect("an app request")
}

fn code<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> (ErrorCode, String) {
    let e = r.expect_err("the call should fail");
    (e.code().expect("an API error"), e.to_string())
}

/// A tarball holding one file.
pub(crate) fn tar_of(name: &str, text: &str) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", text.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(text.as_bytes());
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

async fn wait_until(c: &Client, name: &str, done: impl Fn(&nuvem_api::apps::App) -> bool) {
    for _ in 0..100 {
        let a = c.get_app(name).await.unwrap();
        if done(&a) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{name} never got there: {:?}", c.get_app(name).await);
}

async fn apps_bad_input_and_isolation(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let owner = cloud.account("apps-owner").await;
    let other = cloud.account("apps-other").await;

    // Builds: the log and the image, or the failure with nothing left.
    let mut lines = Vec::new();
    let image = owner
        .build_container_image(
            "web",
            Some("v1"),
            tar_of("Dockerfile", "FROM nuvem/busybox:latest\nCMD [\"httpd\"]\n"),
            |e| lines.push(format!("{e:?}")),
        )
        .await
        .unwrap();
    assert_eq!(image.reference, "web:v1");
    assert!(!lines.is_empty());
    for (context, hint) in [
        (b"not a tarball at all".to_vec(), "tar"),
        (tar_of("README", "hello"), "no Dockerfile"),
        (
            tar_of("Dockerfile", "FROM debian:12\n"),
            "images build on a base",
        ),
    ] {
        let (c, msg) = code(
            owner
                .build_container_image("bad", None, context, |_| {})
                .await,
        );
        assert_eq!(c, ErrorCode::InvalidRequest, "{msg}");
        assert!(msg.contains(hint), "{msg}");
    }
    let failed = owner
        .build_container_image(
            "bad",
            None,
            tar_of("Dockerfile", "FROM nuvem/busybox:latest\nRUN FAIL\n"),
            |_| {},
        )
        .await;
    assert!(failed.is_err());
    let images = owner.list_container_images().await.unwrap().items;
    assert!(images.iter().all(|i| i.name != "bad"), "{images:?}");

    let good = json!({"name": "web", "image": "web:v1", "port": 8080});
    // A host offering next to nothing (0.1 vCPU per core), so that the capacity case below is
    // refused by the host on any machine, within the account's quota; restored after.
    cloud
        .admin
        .update_host("host-1", Some(0.1), None)
        .await
        .unwrap();
    for (patch, want, hint) in [
        (json!({"port": 0}), ErrorCode::InvalidRequest, "port"),
        (
            json!({"image": "nope:1"}),
            ErrorCode::InvalidRequest,
            "unknown image",
        ),
        (
            json!({"env": {"1BAD": "x"}}),
            ErrorCode::InvalidRequest,
            "not a name",
        ),
        (
            json!({"health_check": {"path": "healthz"}}),
            ErrorCode::InvalidRequest,
            "must start with '/'",
        ),
        (
            json!({"cpu": 512.0}),
            ErrorCode::InvalidRequest,
            "more than this host has",
        ),
        (
            json!({"replicas": 11}),
            ErrorCode::LimitExceeded,
            "app_replicas",
        ),
        (
            // Within the quota (5 vCPUs of 16), beyond what the host offers: the same words as
            // an instance launch.
            json!({"replicas": 5, "cpu": 1.0}),
            ErrorCode::InsufficientCapacity,
            "no host has room",
        ),
        (
            json!({"public_port": 80}),
            ErrorCode::InvalidRequest,
            "outside the load balancers' range",
        ),
        (
            json!({"name": "Web"}),
            ErrorCode::InvalidRequest,
            "lowercase",
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (c, msg) = code(owner.create_app(&app(body.clone())).await);
        assert_eq!(c, want, "{body}: {msg}");
        assert!(msg.contains(hint), "{body}: {msg}");
    }
    cloud
        .admin
        .update_host("host-1", Some(1.0), None)
        .await
        .unwrap();
    assert!(owner.list_apps().await.unwrap().items.is_empty());
    // A port above 65535 does not even parse.
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/apps", cloud.url()))
        .json(&json!({"name": "web", "image": "web:v1", "port": 70000}))
        .send()
        .await
        .unwrap();
    assert!(raw.status().is_client_error());

    // An app with a balancer; its port is then taken.
    let made = owner
        .create_app(&app(json!({"name": "web", "image": "web:v1", "port": 8080,
            "replicas": 2, "public_port": 30001})))
        .await
        .unwrap();
    assert_eq!(made.replicas.len(), 2);
    let lb = made.load_balancer_id.clone().expect("a balancer");
    let (c, msg) = code(
        owner
            .create_load_balancer(&CreateLoadBalancerRequest {
                name: "again".into(),
                port: 30001,
                app: Some("web".into()),
                instance_ids: vec![],
                target_port: None,
                health_check: Default::default(),
            })
            .await,
    );
    assert_eq!(c, ErrorCode::AlreadyExists, "{msg}");
    let (c, _) = code(owner.delete_container_image("web:v1").await);
    assert_eq!(c, ErrorCode::DependencyViolation);

    // Raising the limits of running replicas takes quota and host room for the difference: two
    // replicas of 128 MiB under a quota of 300 may grow to 140 MiB each, not to 256.
    let quota = |v: Option<u64>| std::iter::once(("memory_mib".to_owned(), v)).collect();
    cloud
        .admin
        .set_account_quotas("apps-owner", quota(Some(300)))
        .await
        .unwrap();
    let grow = |cpu: Option<f64>, memory_mib: Option<u32>| UpdateAppRequest {
        cpu,
        memory_mib,
        ..Default::default()
    };
    let (c, msg) = code(owner.update_app("web", &grow(None, Some(256))).await);
    assert_eq!(c, ErrorCode::LimitExceeded, "{msg}");
    assert!(
        msg.contains("memory_mib") && msg.contains("256 more"),
        "{msg}"
    );
    let grown = owner
        .update_app("web", &grow(None, Some(140)))
        .await
        .unwrap();
    assert_eq!(grown.spec.memory_mib, 140);
    // Shrinking needs no room; growing the CPU on a host offering next to nothing is refused.
    owner
        .update_app("web", &grow(None, Some(128)))
        .await
        .unwrap();
    cloud
        .admin
        .update_host("host-1", Some(0.1), None)
        .await
        .unwrap();
    let (c, msg) = code(owner.update_app("web", &grow(Some(0.6), None)).await);
    assert_eq!(c, ErrorCode::InsufficientCapacity, "{msg}");
    cloud
        .admin
        .update_host("host-1", Some(1.0), None)
        .await
        .unwrap();
    cloud
        .admin
        .set_account_quotas("apps-owner", quota(None))
        .await
        .unwrap();

    // Another account sees nothing and touches nothing.
    assert!(other.list_apps().await.unwrap().items.is_empty());
    assert!(other.list_load_balancers().await.unwrap().items.is_empty());
    assert!(
        other
            .list_container_images()
            .await
            .unwrap()
            .items
            .iter()
            .all(|i| i.base)
    );
    assert_eq!(code(other.get_app("web").await).0, ErrorCode::NotFound);
    assert_eq!(code(other.scale_app("web", 5).await).0, ErrorCode::NotFound);
    assert_eq!(code(other.delete_app("web").await).0, ErrorCode::NotFound);
    assert_eq!(
        code(other.get_container_image("web:v1").await).0,
        ErrorCode::NotFound
    );
    assert_eq!(
        code(other.get_load_balancer(&lb).await).0,
        ErrorCode::NotFound
    );
    let (c, msg) = code(
        other
            .create_app(&app(
                json!({"name": "mine", "image": "web:v1", "port": 8080}),
            ))
            .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest, "{msg}");
    assert!(owner.get_app("web").await.unwrap().replicas.len() == 2);

    // Healing: killed → restarted; removed → made again.
    let sims = cloud.sims();
    let first = made.replicas[0].container.clone();
    sims.containers.kill(&first);
    wait_until(&owner, "web", |a| {
        a.replicas.iter().any(|r| r.restarts >= 1)
    })
    .await;
    sims.containers.remove_behind_the_back(&first);
    wait_until(&owner, "web", |a| {
        a.replicas.iter().all(|r| r.state == "running")
    })
    .await;
    assert!(sims.containers.container_names().contains(&first));
    let kinds: Vec<String> = owner
        .app_events("web")
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"restart".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"recreate".to_owned()), "{kinds:?}");

    // The simulated engine starts no process: internals say so (a 409 the console shows),
    // rather than read whatever host process has the counter's PID.
    let replica = owner.get_app("web").await.unwrap().replicas[0].id.clone();
    let (c, msg) = code(owner.replica_internals("web", &replica).await);
    assert_eq!(c, ErrorCode::Conflict, "{msg}");
    assert!(msg.contains("simulated container engine"), "{msg}");

    // Scale, then delete: nothing is left in the engine, the VPC or the proxy.
    let scaled = owner.scale_app("web", 3).await.unwrap();
    assert_eq!(scaled.replicas_desired, 3);
    owner.delete_app("web").await.unwrap();
    assert!(owner.list_apps().await.unwrap().items.is_empty());
    assert!(owner.list_load_balancers().await.unwrap().items.is_empty());
    assert!(sims.containers.container_names().is_empty());
    assert!(
        owner
            .list_network_interfaces(None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    owner.delete_container_image("web:v1").await.unwrap();
}

on_both_backends!(apps_bad_input_and_isolation);
