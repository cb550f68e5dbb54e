//! IAM on the apps and load-balancer endpoints (simulated engine and proxy, both databases): an
//! IAM user gets exactly what its policies name — `apps:*` and `elb:*` actions on `nrn:`
//! resources, one app by name — and an explicit Deny beats an Allow.

use nuvem_api::ErrorCode;
use nuvem_api::apps::{CreateAppRequest, CreateLoadBalancerRequest, LogParams, UpdateAppRequest};
use serde_json::json;

use crate::apps_api::tar_of;
use crate::common::{Backend, Cloud};
use crate::on_both_backends;

/// The error of a call that must be refused by IAM, checked to name the action.
fn denied<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>, action: &str) {
    let err = r.expect_err("the call should be denied");
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied), "{err}");
    assert!(err.to_string().contains(action), "{action}: {err}");
}

fn app(name: &str, public_port: Option<u16>) -> CreateAppRequest {
    let mut body = json!({"name": name, "image": "web:v1", "port": 8080});
    if let Some(port) = public_port {
        body["public_port"] = json!(port);
    }
    serde_json::from_value(body).unwrap()
}

async fn apps_iam_policies(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("apps-iam").await;
    let account_id = root.whoami().await.unwrap().account_id;
    root.build_container_image(
        "web",
        Some("v1"),
        tar_of("Dockerfile", "FROM nuvem/busybox:latest\nCMD [\"httpd\"]\n"),
        |_| {},
    )
    .await
    .unwrap();
    root.create_app(&app("web", Some(30011))).await.unwrap();
    root.create_app(&app("api", None)).await.unwrap();
    let lb = root.get_app("web").await.unwrap().load_balancer_id.unwrap();
    let alice = cloud.user(&root, "apps-iam", "alice").await;

    // No policy: every apps and elb call is refused, naming its action.
    denied(alice.list_apps().await, "apps:DescribeApps");
    denied(alice.list_container_images().await, "apps:DescribeImages");
    denied(
        alice.list_load_balancers().await,
        "elb:DescribeLoadBalancers",
    );

    // An operator's policy: read everything, scale one app by its nrn.
    root.create_policy(
        "app-operator",
        None,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Resource": "*", "Action":
                ["apps:Describe*", "apps:GetLogs", "elb:DescribeLoadBalancers"]},
            {"Effect": "Allow", "Action": "apps:ScaleApp",
                "Resource": format!("nrn:nuvem:apps:{account_id}:app/web")}]}),
    )
    .await
    .unwrap();
    root.attach_user_policy("alice", "app-operator")
        .await
        .unwrap();
    let names: Vec<String> = alice
        .list_apps()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(alice.get_app("api").await.unwrap().name, "api");
    assert!(alice.app_events("web").await.is_ok());
    assert!(alice.app_logs("web", &LogParams::default()).await.is_ok());
    assert!(alice.get_container_image("web:v1").await.is_ok());
    assert_eq!(alice.get_load_balancer(&lb).await.unwrap().id, lb);
    assert_eq!(alice.scale_app("web", 2).await.unwrap().replicas_desired, 2);
    // Only that app, and only what the policy names.
    denied(alice.scale_app("api", 2).await, "apps:ScaleApp");
    denied(alice.create_app(&app("mine", None)).await, "apps:CreateApp");
    let update: UpdateAppRequest = serde_json::from_value(json!({"image": "web:v1"})).unwrap();
    denied(alice.update_app("web", &update).await, "apps:UpdateApp");
    denied(alice.delete_app("web").await, "apps:DeleteApp");
    denied(
        alice
            .build_container_image(
                "mine",
                None,
                tar_of("Dockerfile", "FROM nuvem/busybox:latest\n"),
                |_| {},
            )
            .await,
        "apps:BuildImage",
    );
    denied(
        alice.delete_container_image("web:v1").await,
        "apps:DeleteImage",
    );
    let request = CreateLoadBalancerRequest {
        name: "mine".into(),
        port: 30012,
        app: Some("api".into()),
        instance_ids: vec![],
        target_port: None,
        health_check: Default::default(),
    };
    denied(
        alice.create_load_balancer(&request).await,
        "elb:CreateLoadBalancer",
    );
    denied(
        alice.delete_load_balancer(&lb).await,
        "elb:DeleteLoadBalancer",
    );

    // An explicit Deny on one app's logs beats the Allow on all of them.
    root.create_policy(
        "no-web-logs",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
            "Action": "apps:GetLogs", "Resource": format!("nrn:nuvem:apps:{account_id}:app/web")}]}),
    )
    .await
    .unwrap();
    root.attach_user_policy("alice", "no-web-logs")
        .await
        .unwrap();
    denied(
        alice.app_logs("web", &LogParams::default()).await,
        "explicitly denied by policy 'no-web-logs'",
    );
    assert!(alice.app_logs("api", &LogParams::default()).await.is_ok());

    // Nothing alice was refused happened.
    let web = root.get_app("web").await.unwrap();
    assert_eq!(web.replicas_desired, 2);
    assert_eq!(root.get_app("api").await.unwrap().replicas_desired, 1);
    assert_eq!(root.list_apps().await.unwrap().items.len(), 2);
    assert_eq!(root.list_load_balancers().await.unwrap().items.len(), 1);
    for name in ["web", "api"] {
        root.delete_app(name).await.unwrap();
    }
    root.delete_container_image("web:v1").await.unwrap();
}

on_both_backends!(apps_iam_policies);
