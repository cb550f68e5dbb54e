//! The usage-event hook: what each service reports as things start, stop and go away (metering
//! will subscribe to the same hook).

use std::sync::Arc;
use std::time::Duration;

use nuvem_api::ec2::InstanceState;
use nuvem_api::vpc::{CreateNetworkInterfaceRequest, CreatePortForwardRequest, Protocol};
use nuvem_server::usage::{Change, Recorder};
use serde_json::json;

use crate::common::{Backend, Cloud};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_report_each_lifecycle_change_once() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let recorder = Arc::new(Recorder::default());
    cloud.server().nuvem.usage.subscribe(recorder.clone());
    let root = cloud.account("metered").await;

    // An instance: started, stopped, started again, terminated.
    let image = cloud.fake_image("u", None).await;
    let id = root
        .run_instances(
            &serde_json::from_value(json!({"image_id": image, "instance_type": "t3.micro"}))
                .unwrap(),
        )
        .await
        .unwrap()
        .items
        .remove(0)
        .id;
    let wait = |state| root.wait_for_state(&id, state, Duration::from_secs(30));
    wait(InstanceState::Running).await.unwrap();
    root.stop_instance(&id).await.unwrap();
    wait(InstanceState::Stopped).await.unwrap();
    root.start_instance(&id).await.unwrap();
    wait(InstanceState::Running).await.unwrap();
    root.terminate_instance(&id).await.unwrap();
    wait(InstanceState::Terminated).await.unwrap();

    // A port forward: created, deleted.
    let eni = root
        .create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: None,
            security_group_ids: None,
            description: None,
        })
        .await
        .unwrap();
    let pf = root
        .create_port_forward(&CreatePortForwardRequest {
            protocol: Protocol::Tcp,
            host_port: 20_500,
            interface_id: eni.id.clone(),
            private_port: 80,
        })
        .await
        .unwrap();
    root.delete_port_forward(&pf.id).await.unwrap();

    let events = recorder.events();
    let of = |rid: &str| -> Vec<Change> {
        events
            .iter()
            .filter(|e| e.resource_id == rid)
            .map(|e| e.change)
            .collect()
    };
    assert_eq!(
        of(&id),
        [
            Change::Started,
            Change::Stopped,
            Change::Started,
            Change::Deleted
        ],
        "{events:#?}"
    );
    let started = events.iter().find(|e| e.resource_id == id).unwrap();
    assert_eq!(
        (started.service, started.resource_type),
        ("ec2", "instance")
    );
    assert_eq!(started.dimensions.sku.as_deref(), Some("t3.micro"));
    assert_eq!(
        (started.dimensions.vcpus, started.dimensions.memory_mib),
        (1, 1024)
    );
    assert_eq!(of(&pf.id), [Change::Created, Change::Deleted]);
    assert!(events.iter().all(|e| !e.account_id.is_empty()));
    cloud.stop().await;
}
