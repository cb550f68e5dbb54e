//! The VPC API's rules, on the simulated host network (fast, both databases): validation with
//! clear 4xx answers, dependencies, IAM, isolation of security groups between accounts, and
//! changes that fail halfway being unwound. The kernel's side is tested in `vpc_kernel`.

use nuvem_api::ErrorCode;
use nuvem_api::vpc::{
    AuthorizeRuleRequest, CreateNetworkInterfaceRequest, Direction, Protocol, TraceRequest,
};
use nuvem_sdk::Client;
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn code<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> (ErrorCode, String) {
    let e = r.expect_err("the call should fail");
    (e.code().expect("an API error"), e.to_string())
}

fn rule(v: serde_json::Value) -> AuthorizeRuleRequest {
    serde_json::from_value(v).expect("a rule")
}

async fn raw_rule(
    cloud: &Cloud,
    c: &Client,
    sg: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let token = match c.credentials() {
        nuvem_sdk::Credentials::Session { token } => token.clone(),
        _ => unreachable!(),
    };
    let res = reqwest::Client::new()
        .post(format!("{}/v1/vpc/security-groups/{sg}/rules", cloud.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A block of this test server's pool: `10.N.<third>.0/<prefix>`.
fn block(cloud: &Cloud, third: u8, prefix: u8) -> String {
    let second = cloud.pool.split('.').nth(1).unwrap();
    format!("10.{second}.{third}.0/{prefix}")
}

async fn vpc_bad_input_and_dependencies(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("netrules").await;
    let default = root.list_vpcs().await.unwrap().items.remove(0);
    assert!(default.is_default && default.cidr.ends_with("/20"));
    let subnets = root.list_subnets(None).await.unwrap().items;
    assert_eq!(subnets.len(), 1);
    assert_eq!(
        subnets[0].available_addresses,
        256 - 5,
        "AWS reserves five addresses"
    );
    let groups = root.list_security_groups(None).await.unwrap().items;
    // Members in, SSH from the host (the subnet's gateway), all egress.
    assert_eq!(
        (groups.len(), groups[0].name.as_str(), groups[0].rules.len()),
        (1, "default", 3)
    );
    let ssh = groups[0]
        .rules
        .iter()
        .find(|r| r.from_port == Some(22))
        .expect("SSH from the host");
    assert_eq!(
        ssh.cidr.as_deref(),
        Some(format!("{}/32", subnets[0].gateway).as_str())
    );

    // CIDRs: malformed, out of range, outside the pool, overlapping.
    for (cidr, hint) in [
        ("10.64.0.0", "address/prefix"),
        ("10.64.0.300/24", "not an IPv4"),
        ("10.64.0.5/24", "host bits"),
        ("10.64.0.0/12", "between /16 and /28"),
        ("10.64.0.0/29", "between /16 and /28"),
        ("192.168.0.0/16", "outside the address pool"),
    ] {
        let (c, msg) = code(root.create_vpc(cidr, None).await);
        assert_eq!(c, ErrorCode::InvalidRequest, "{cidr}: {msg}");
        assert!(msg.contains(hint), "{cidr}: {msg}");
    }
    let (c, msg) = code(root.create_vpc(&default.cidr, None).await);
    assert_eq!(c, ErrorCode::Conflict, "{msg}");
    assert!(msg.contains("overlaps"), "{msg}");
    let vpc = root
        .create_vpc(&block(&cloud, 64, 20), Some("lab"))
        .await
        .unwrap();
    let (c, msg) = code(
        root.create_subnet(&vpc.id, &block(&cloud, 128, 24), None)
            .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);
    assert!(msg.contains("not inside"), "{msg}");
    let s = root
        .create_subnet(&vpc.id, &block(&cloud, 64, 24), None)
        .await
        .unwrap();
    assert_eq!(s.gateway, format!("{}1", &s.cidr[..s.cidr.len() - 4]));
    let (c, msg) = code(
        root.create_subnet(&vpc.id, &block(&cloud, 64, 25), None)
            .await,
    );
    assert_eq!(c, ErrorCode::Conflict);
    assert!(msg.contains("overlaps subnet"), "{msg}");
    let (c, _) = code(
        root.create_subnet("vpc-nothere", &block(&cloud, 65, 24), None)
            .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);

    // Rules: ports, protocols, peers.
    let sg = root
        .create_security_group(&vpc.id, "web", None)
        .await
        .unwrap();
    assert_eq!(
        sg.rules.len(),
        1,
        "a new group allows all egress and no ingress"
    );
    for (body, hint) in [
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 70000, "cidr": "0.0.0.0/0"}),
            "outside 0–65535",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 90, "to_port": 80, "cidr": "0.0.0.0/0"}),
            "greater than",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "cidr": "0.0.0.0/0"}),
            "need from_port",
        ),
        (
            json!({"direction": "ingress", "protocol": "icmp", "from_port": 8, "cidr": "0.0.0.0/0"}),
            "take no ports",
        ),
        (
            json!({"direction": "ingress", "protocol": "gre", "cidr": "0.0.0.0/0"}),
            "unknown variant `gre`",
        ),
        (
            json!({"direction": "sideways", "protocol": "all", "cidr": "0.0.0.0/0"}),
            "unknown variant `sideways`",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 80}),
            "exactly one of cidr",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 80, "cidr": "0.0.0.0/0", "source_group_id": sg.id}),
            "exactly one of cidr",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 80, "cidr": "10.0.0.1/8"}),
            "host bits",
        ),
        (
            json!({"direction": "ingress", "protocol": "tcp", "from_port": -1, "cidr": "0.0.0.0/0"}),
            "invalid value",
        ),
    ] {
        let (status, answer) = raw_rule(&cloud, &root, &sg.id, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(hint),
            "{body} -> {answer}"
        );
    }
    root.authorize_rule(&sg.id, &rule(json!({"direction": "ingress", "protocol": "tcp", "from_port": 80, "cidr": "0.0.0.0/0"})))
        .await
        .unwrap();
    let (c, _) = code(root.authorize_rule(&sg.id, &rule(json!({"direction": "ingress", "protocol": "tcp", "from_port": 80, "cidr": "0.0.0.0/0"}))).await);
    assert_eq!(c, ErrorCode::AlreadyExists);

    // A rule naming another account's group is refused, and nothing is half-created.
    let other = cloud.account("netrules-other").await;
    let foreign = other
        .list_security_groups(None)
        .await
        .unwrap()
        .items
        .remove(0);
    let before = root.get_security_group(&sg.id).await.unwrap().rules.len();
    let (c, msg) = code(
        root.authorize_rule(
            &sg.id,
            &AuthorizeRuleRequest {
                direction: Direction::Ingress,
                protocol: Protocol::All,
                from_port: None,
                to_port: None,
                cidr: None,
                source_group_id: Some(foreign.id.clone()),
                description: None,
            },
        )
        .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);
    assert!(
        msg.contains("not a security group of your account"),
        "{msg}"
    );
    assert_eq!(
        root.get_security_group(&sg.id).await.unwrap().rules.len(),
        before
    );
    let (c, _) = code(
        root.create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: Some(s.id.clone()),
            security_group_ids: Some(vec![foreign.id.clone()]),
            description: None,
        })
        .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);
    assert!(
        root.list_network_interfaces(None)
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing half-created"
    );

    // Dependencies.
    let eni = root
        .create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: Some(s.id.clone()),
            security_group_ids: Some(vec![sg.id.clone()]),
            description: None,
        })
        .await
        .unwrap();
    assert_eq!(
        eni.private_ip,
        format!("{}4", &s.cidr[..s.cidr.len() - 4]),
        "the first four addresses are reserved"
    );
    assert_eq!(
        code(root.delete_security_group(&sg.id).await).0,
        ErrorCode::DependencyViolation
    );
    assert_eq!(
        code(root.delete_subnet(&s.id).await).0,
        ErrorCode::DependencyViolation
    );
    assert_eq!(
        code(root.delete_vpc(&vpc.id).await).0,
        ErrorCode::DependencyViolation
    );
    let lab_default = root
        .list_security_groups(Some(&vpc.id))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|g| g.is_default)
        .unwrap();
    assert_eq!(
        code(root.delete_security_group(&lab_default.id).await).0,
        ErrorCode::Conflict
    );
    let db = root
        .create_security_group(&vpc.id, "db", None)
        .await
        .unwrap();
    root.authorize_rule(&db.id, &rule(json!({"direction": "ingress", "protocol": "tcp", "from_port": 5432, "source_group_id": sg.id}))).await.unwrap();
    root.set_interface_security_groups(&eni.id, vec![lab_default.id.clone()])
        .await
        .unwrap();
    let (c, msg) = code(root.delete_security_group(&sg.id).await);
    assert_eq!(c, ErrorCode::DependencyViolation);
    assert!(msg.contains(&db.id), "{msg}");
    root.delete_security_group(&db.id).await.unwrap();
    root.delete_security_group(&sg.id).await.unwrap();

    // Trace: the source must be yours; ports must make sense.
    let (c, _) = code(
        root.trace(&TraceRequest {
            from: "10.0.0.1".into(),
            to: eni.private_ip.clone(),
            protocol: Protocol::Tcp,
            port: Some(22),
        })
        .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);
    let (c, _) = code(
        root.trace(&TraceRequest {
            from: eni.private_ip.clone(),
            to: "10.0.0.1".into(),
            protocol: Protocol::Tcp,
            port: None,
        })
        .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest);

    // Port forwards: ports and uniqueness.
    let pf = |port: u32| nuvem_api::vpc::CreatePortForwardRequest {
        protocol: Protocol::Tcp,
        host_port: port,
        interface_id: eni.id.clone(),
        private_port: 22,
    };
    assert_eq!(
        code(root.create_port_forward(&pf(0)).await).0,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        code(root.create_port_forward(&pf(70000)).await).0,
        ErrorCode::InvalidRequest
    );
    root.create_port_forward(&pf(22022)).await.unwrap();
    let (c, msg) = code(
        other
            .create_port_forward(&nuvem_api::vpc::CreatePortForwardRequest {
                protocol: Protocol::Tcp,
                host_port: 22022,
                interface_id: eni.id.clone(),
                private_port: 22,
            })
            .await,
    );
    assert_eq!(
        c,
        ErrorCode::InvalidRequest,
        "another account's interface: {msg}"
    );

    // IAM: a user needs vpc permissions; a typo in an action is caught.
    let student = cloud.user(&root, "netrules", "student").await;
    assert_eq!(code(student.list_vpcs().await).0, ErrorCode::AccessDenied);
    let (c, msg) = code(root.create_policy("bad", None, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "vpc:CreateVPCs", "Resource": "*"}]})).await);
    assert_eq!(c, ErrorCode::InvalidRequest);
    assert!(msg.contains("matches no vpc action"), "{msg}");
    root.create_policy("net-read", None, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["vpc:Describe*", "vpc:Trace"], "Resource": "*"}]})).await.unwrap();
    root.attach_user_policy("student", "net-read")
        .await
        .unwrap();
    assert_eq!(student.list_vpcs().await.unwrap().items.len(), 2);
    assert_eq!(
        code(student.create_security_group(&vpc.id, "nope", None).await).0,
        ErrorCode::AccessDenied
    );
    cloud.stop().await;
}

async fn a_change_failing_on_the_host_is_unwound(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("unwind").await;
    let sg = root
        .list_security_groups(None)
        .await
        .unwrap()
        .items
        .remove(0);
    let subnet = root.list_subnets(None).await.unwrap().items.remove(0);
    let sim = &cloud.sims().net;

    sim.fail("firewall_apply", true);
    let (c, msg) = code(root.authorize_rule(&sg.id, &rule(json!({"direction": "ingress", "protocol": "tcp", "from_port": 22, "cidr": "0.0.0.0/0"}))).await);
    assert_eq!(c, ErrorCode::Internal, "{msg}");
    let (c, _) = code(
        root.create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: Some(subnet.id.clone()),
            security_group_ids: None,
            description: None,
        })
        .await,
    );
    assert_eq!(c, ErrorCode::Internal);
    sim.fail("firewall_apply", false);
    assert_eq!(
        root.get_security_group(&sg.id).await.unwrap().rules.len(),
        3,
        "the rule was unwound"
    );
    assert!(
        root.list_network_interfaces(None)
            .await
            .unwrap()
            .items
            .is_empty(),
        "the interface was unwound"
    );

    sim.fail("bridge_ensure", true);
    let vpc = root.list_vpcs().await.unwrap().items.remove(0);
    let second: u8 = subnet.cidr.split('.').nth(2).unwrap().parse().unwrap();
    let cidr = format!(
        "{}.{}.0/24",
        subnet.cidr.split('.').take(2).collect::<Vec<_>>().join("."),
        second + 1
    );
    assert_eq!(
        code(root.create_subnet(&vpc.id, &cidr, None).await).0,
        ErrorCode::Internal
    );
    sim.fail("bridge_ensure", false);
    assert_eq!(
        root.list_subnets(None).await.unwrap().items.len(),
        1,
        "the subnet was unwound"
    );
    // The host matches the database again: one bridge, one DHCP server.
    let state = sim.snapshot();
    assert_eq!((state.bridges.len(), state.dhcp.len()), (1, 1));
    root.create_subnet(&vpc.id, &cidr, None).await.unwrap();
    cloud.stop().await;
}

on_both_backends!(
    vpc_bad_input_and_dependencies,
    a_change_failing_on_the_host_is_unwound
);
