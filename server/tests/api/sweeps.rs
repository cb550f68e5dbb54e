//! Sweeps driven by the OpenAPI document, so that every new endpoint is covered automatically:
//! every authenticated operation refuses an unauthenticated call, and no account can read, list,
//! change or delete another account's resources through any operation.

use std::collections::{BTreeMap, BTreeSet};

use nuvem_api::ErrorCode;
use nuvem_sdk::Client;
use serde_json::{Value, json};

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authenticated: bool,
    pub(crate) has_body: bool,
    /// The operation's object in the document (parameters, request body).
    pub(crate) spec: Value,
}

pub(crate) fn operations() -> Vec<Operation> {
    let doc: Value = serde_json::from_str(&nuvem_server::http::openapi_json()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let authenticated = op["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
            ops.push(Operation {
                id: op["operationId"].as_str().unwrap().to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                authenticated,
                has_body: op.get("requestBody").is_some(),
                spec: op.clone(),
            });
        }
    }
    ops
}

pub(crate) fn fill_path(path: &str, params: &BTreeMap<&str, String>) -> String {
    let mut out = path.to_owned();
    for (k, v) in params {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    assert!(!out.contains('{'), "no value for a parameter of {path}");
    out
}

pub(crate) async fn raw(
    url: &str,
    op: &Operation,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
    let mut req = http.request(method, format!("{url}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Every path parameter the API uses; the sweeps fill each with a value.
pub(crate) const PATH_PARAMS: &[&str] = &[
    "account",
    "user",
    "group",
    "policy",
    "key",
    "vpc",
    "subnet",
    "sg",
    "rule",
    "eni",
    "pf",
    "image",
    "type",
    "key_pair",
    "instance",
    "reconciler",
    "host",
    "bucket",
    "app",
    "replica",
    "lb",
];

/// Collection operations only the operator may call.
/// Operations only the operator may call, by operation id (refused before any lookup).
pub(crate) const OPERATOR_ONLY: &[&str] = &[
    "account_create",
    "account_list",
    "account_get",
    "account_delete",
    "account_assume",
    "account_quota_list",
    "account_quota_set",
    "reconcile",
    "reconciler_list",
    "reconciler_run",
    "image_import",
    "image_delete",
    "instance_type_put",
    "host_list",
    "host_update",
    "price_set",
    "bill_summary",
    "clock_set",
];

/// The operations anyone may call: the rest must demand credentials.
const PUBLIC: &[&str] = &[
    "GET /healthz",
    "POST /v1/auth/login",
    "POST /v1/auth/session",
];

#[test]
fn only_the_known_operations_are_public() {
    let public: BTreeSet<String> = operations()
        .into_iter()
        .filter(|o| !o.authenticated)
        .map(|o| format!("{} {}", o.method, o.path))
        .collect();
    let expected: BTreeSet<String> = PUBLIC.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        public, expected,
        "an operation without `security((\"bearer\" = []))` is public"
    );
}

async fn unauthenticated_calls_are_refused(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let forged = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiYWNjIjoieCIsImlhdCI6MCwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJudXZlbSJ9.c2lnbmF0dXJl";
    let params: BTreeMap<&str, String> = PATH_PARAMS.iter().map(|k| (*k, "x".to_owned())).collect();
    let mut checked = 0;
    for op in operations().iter().filter(|o| o.authenticated) {
        let path = fill_path(&op.path, &params);
        let body = op.has_body.then(|| json!({}));
        for token in [None, Some(forged), Some("not-a-token")] {
            let (status, body) = raw(&cloud.url(), op, &path, token, body.as_ref()).await;
            assert_eq!(
                status, 401,
                "{} {} with token {token:?} answered {status}: {body}",
                op.method, op.path
            );
            assert_eq!(body["code"], "Unauthenticated", "{} {}", op.method, op.path);
            assert!(!body["request_id"].as_str().unwrap_or("").is_empty());
        }
        checked += 1;
    }
    assert!(checked >= 30, "the sweep covered only {checked} operations");
    cloud.stop().await;
}

/// Ids of account A's VPC resources, for request bodies that name them.
pub(crate) struct OfA {
    image: String,
    vpc: String,
    subnet: String,
    sg: String,
    eni: String,
    eni_ip: String,
}

/// A request body per operation that needs one: valid in shape, naming account A's resources
/// where a name is asked for. Every operation with a body must be listed (new ones too).
pub(crate) fn body_for(op: &Operation, a: &OfA) -> Option<Value> {
    if !op.has_body {
        return None;
    }
    Some(match op.id.as_str() {
        "change_password" => {
            json!({"old_password": "wrong-password", "new_password": "new-password-1"})
        }
        "account_create" => json!({"name": "sweep-made"}),
        "account_quota_set" => json!({"limits": {"vpcs": 100}}),
        "user_create" => json!({"name": "made-by-b"}),
        "group_create" => json!({"name": "made-by-b"}),
        "policy_create" => json!({"name": "made-by-b", "document": allow_all()}),
        "policy_update" => json!({"document": allow_all()}),
        "login_profile_update" => json!({"password": "taken-over-1"}),
        "user_policy_attach" | "group_policy_attach" => json!({"policy": "a-policy"}),
        "access_key_update" => json!({"status": "Inactive"}),
        "vpc_create" => json!({"cidr": "10.127.240.0/20"}),
        "internet_gateway_set" => json!({"enabled": true}),
        "subnet_create" => json!({"vpc_id": a.vpc, "cidr": "10.127.240.0/24"}),
        "sg_create" => json!({"vpc_id": a.vpc, "name": "made-by-b"}),
        "sg_rule_authorize" => {
            json!({"direction": "ingress", "protocol": "tcp", "from_port": 22, "cidr": "0.0.0.0/0"})
        }
        "interface_create" => json!({"subnet_id": a.subnet, "security_group_ids": [a.sg]}),
        "interface_set_groups" => json!({"security_group_ids": [a.sg]}),
        "port_forward_create" => {
            json!({"protocol": "tcp", "host_port": 21000, "interface_id": a.eni, "private_port": 22})
        }
        "trace" => json!({"from": a.eni_ip, "to": a.eni_ip, "protocol": "tcp", "port": 22}),
        "image_import" => {
            json!({"name": "made-by-b", "format": "kernel-initrd", "kernel_path": "/etc/hostname", "initrd_path": "/etc/hostname"})
        }
        "instance_type_put" => {
            json!({"vcpus": 64, "memory_mib": 65536, "disk_gib": 100, "price_per_hour": 0.0})
        }
        "key_pair_create" => json!({"name": "made-by-b"}),
        "host_update" => json!({"cpu_ratio": 16.0}),
        "price_set" => json!({"sku": "ec2.disk", "currency": "USD", "unit_price": "0.09"}),
        "budget_set" => json!({"amount": "10", "currency": "USD"}),
        "clock_set" => json!({"factor": 3600}),
        "capex" => json!({"currency": "USD", "purchase_price": "6000", "lifetime_months": 60,
            "power_watts": 300, "electricity_price_per_kwh": "0.20", "server_vcpus": 32}),
        "bucket_create" => json!({"name": "made-by-b"}),
        "bucket_policy_put" => json!({"policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "nrn:nuvem:s3:::a-bucket/*"}]}}),
        "bucket_website_put" => json!({"index_document": "index.html"}),
        // An upload's body is the object's bytes: any will do.
        "object_upload" => json!({"any": "bytes"}),
        "object_presign" => json!({"key": "a-key", "expires_secs": 60}),
        "container_image_build" => json!({}),
        "app_create" => json!({"name": "made-by-b", "image": "not-built:1", "port": 8080}),
        "app_update" => json!({"memory_mib": 64}),
        "app_scale" => json!({"replicas": 2}),
        "autoscaling_set" => json!({"min": 1, "max": 2, "target_cpu_percent": 50.0}),
        "lb_create" => json!({"name": "made-by-b", "port": 30001, "app": "an-app"}),
        "run_instances" => {
            json!({"image_id": a.image, "instance_type": "t3.nano", "key_name": "a-key", "subnet_id": a.subnet})
        }
        other => {
            panic!("the cross-account sweep needs a request body for `{other}`: add it to body_for")
        }
    })
}

pub(crate) fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// Everything account A has, as its root sees it.
async fn snapshot(a: &Client) -> Value {
    let users = a.list_users_all().await.unwrap();
    let mut out = serde_json::Map::new();
    for u in &users {
        let keys = a.list_access_keys(&u.name).await.unwrap();
        let groups = a.list_groups_for_user(&u.name).await.unwrap();
        let policies = a.list_user_policies(&u.name).await.unwrap();
        out.insert(
            format!("user/{}", u.name),
            json!({"has_password": u.has_password,
                   "keys": keys.items.iter().map(|k| (k.access_key_id.clone(), k.status)).collect::<Vec<_>>(),
                   "groups": groups.items, "policies": policies.items}),
        );
    }
    for g in a.list_groups(&Default::default()).await.unwrap().items {
        let detail = a.get_group(&g.name).await.unwrap();
        out.insert(
            format!("group/{}", g.name),
            json!({"members": detail.members, "policies": detail.policies}),
        );
    }
    for p in a.list_policies(&Default::default()).await.unwrap().items {
        out.insert(
            format!("policy/{}", p.name),
            json!({"document": p.document, "attached": p.attachment_count}),
        );
    }
    for v in a.list_vpcs().await.unwrap().items {
        out.insert(
            format!("vpc/{}", v.id),
            json!({"cidr": v.cidr, "igw": v.internet_gateway}),
        );
    }
    for s in a.list_subnets(None).await.unwrap().items {
        out.insert(
            format!("subnet/{}", s.id),
            json!({"cidr": s.cidr, "free": s.available_addresses}),
        );
    }
    for g in a.list_security_groups(None).await.unwrap().items {
        out.insert(
            format!("sg/{}", g.id),
            serde_json::to_value(&g.rules).unwrap(),
        );
    }
    for e in a.list_network_interfaces(None).await.unwrap().items {
        out.insert(
            format!("eni/{}", e.id),
            json!({"groups": e.security_group_ids, "ip": e.private_ip}),
        );
    }
    for k in a.list_key_pairs().await.unwrap().items {
        out.insert(format!("key/{}", k.name), json!({"fp": k.fingerprint}));
    }
    for i in a.list_instances().await.unwrap().items {
        out.insert(
            format!("instance/{}", i.id),
            json!({"state": i.state, "ip": i.private_ip}),
        );
    }
    for f in a.list_port_forwards().await.unwrap().items {
        out.insert(format!("pf/{}", f.id), json!({"port": f.host_port}));
    }
    Value::Object(out)
}

/// Account A's resources (made by [`populate`]), which the sweeps aim at.
pub(crate) struct Populated {
    pub(crate) of: OfA,
    /// A value for every path parameter: A's resources, and A's name for `account`.
    pub(crate) params: BTreeMap<&'static str, String>,
    /// The access key of A's user `a-user`.
    pub(crate) key: nuvem_api::iam::AccessKeyCreated,
}

/// Gives `account` (signed in as its root, `a`) one of each resource, named as [`body_for`]
/// expects: user `a-user` with an access key, group `a-group`, policy `a-policy` (attached to
/// both), key pair `a-key`, a security group with a rule, an interface, a port forward, a
/// private image and a running instance.
pub(crate) async fn populate(cloud: &Cloud, a: &Client, account: &str) -> Populated {
    a.create_user("a-user", Some("a-user-password"))
        .await
        .unwrap();
    a.create_group("a-group").await.unwrap();
    a.add_user_to_group("a-group", "a-user").await.unwrap();
    a.create_policy("a-policy", None, allow_all())
        .await
        .unwrap();
    a.attach_user_policy("a-user", "a-policy").await.unwrap();
    a.attach_group_policy("a-group", "a-policy").await.unwrap();
    let a_key = a.create_access_key("a-user").await.unwrap();
    let a_vpc = a.list_vpcs().await.unwrap().items.remove(0);
    let a_subnet = a.list_subnets(None).await.unwrap().items.remove(0);
    let a_sg = a
        .create_security_group(&a_vpc.id, "a-sg", None)
        .await
        .unwrap();
    let a_sg = a
        .authorize_rule(&a_sg.id, &serde_json::from_value(json!({"direction": "ingress", "protocol": "tcp", "from_port": 80, "cidr": "0.0.0.0/0"})).unwrap())
        .await
        .unwrap();
    let a_eni = a
        .create_network_interface(
            &serde_json::from_value(
                json!({"subnet_id": a_subnet.id, "security_group_ids": [a_sg.id]}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let a_pf = a
        .create_port_forward(&serde_json::from_value(json!({"protocol": "tcp", "host_port": 21001, "interface_id": a_eni.id, "private_port": 80})).unwrap())
        .await
        .unwrap();
    // A private image of A's (the operator imports it for A) and an instance launched from it.
    // ImportImage reads only the import directory.
    let files = tempfile::tempdir_in(cloud.data_dir().join("import")).unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::write(
            files.path().join(f),
            b"not a real kernel: the tests' hypervisor is simulated",
        )
        .unwrap();
    }
    let a_image = cloud
        .admin
        .import_image(
            &serde_json::from_value(json!({"name": "a-image", "format": "kernel-initrd", "public": false, "account": account,
                "kernel_path": files.path().join("vmlinuz"), "initrd_path": files.path().join("initrd.img")}))
            .unwrap(),
        )
        .await
        .unwrap();
    a.create_key_pair("a-key", None).await.unwrap();
    let a_instance = a
        .run_instances(
            &serde_json::from_value(
                json!({"image_id": a_image.id, "instance_type": "t3.nano", "key_name": "a-key"}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    a.wait_for_state(
        &a_instance.id,
        nuvem_api::ec2::InstanceState::Running,
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap();
    let of_a = OfA {
        image: a_image.id.clone(),
        vpc: a_vpc.id.clone(),
        subnet: a_subnet.id.clone(),
        sg: a_sg.id.clone(),
        eni: a_eni.id.clone(),
        eni_ip: a_eni.private_ip.clone(),
    };
    let params: BTreeMap<&'static str, String> = [
        ("account", account.to_owned()),
        ("user", "a-user".to_owned()),
        ("group", "a-group".to_owned()),
        ("policy", "a-policy".to_owned()),
        ("key", a_key.access_key_id.clone()),
        ("vpc", a_vpc.id.clone()),
        ("subnet", a_subnet.id.clone()),
        ("sg", a_sg.id.clone()),
        ("rule", a_sg.rules[0].id.clone()),
        ("eni", a_eni.id.clone()),
        ("pf", a_pf.id.clone()),
        ("image", a_image.id.clone()),
        ("type", "t3.nano".to_owned()),
        ("key_pair", "a-key".to_owned()),
        ("instance", a_instance.id.clone()),
        ("reconciler", "vpc".to_owned()),
        ("host", "host-1".to_owned()),
        ("bucket", "a-bucket".to_owned()),
        ("app", "an-app".to_owned()),
        ("replica", "r-00000000".to_owned()),
        ("lb", "an-lb".to_owned()),
    ]
    .into_iter()
    .collect();
    Populated {
        of: of_a,
        params,
        key: a_key,
    }
}

async fn cross_account_isolation(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let a = cloud.account("tenant-a").await;
    let b_root = cloud.account("tenant-b").await;
    let a_id = a.whoami().await.unwrap().account_id;

    let Populated {
        of: of_a,
        params,
        key: a_key,
    } = populate(&cloud, &a, "tenant-a").await;
    let before = snapshot(&a).await;

    // Two callers in B: its root, and an IAM user allowed everything, including by a policy that
    // names A's account in its resources explicitly.
    let reaching = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*", "Resource": format!("nrn:nuvem:iam:{a_id}:*")}]});
    b_root
        .create_policy("b-admin", None, reaching)
        .await
        .unwrap();
    let b_admin = cloud.user(&b_root, "tenant-b", "b-admin").await;
    b_root
        .attach_user_policy("b-admin", "b-admin")
        .await
        .unwrap();

    // (A's account id is not among them: B's own policy above names it.)
    let secrets_of_a = [
        "a-user",
        "a-group",
        "a-policy",
        a_key.access_key_id.as_str(),
    ];

    for (who, client) in [("B's root", &b_root), ("B's admin user", &b_admin)] {
        let token = session_token(&cloud, client, who).await;
        // Sign-out would end the sweeping session itself; security.rs tests it.
        for op in operations()
            .iter()
            .filter(|o| o.authenticated && o.id != "logout")
        {
            let path = fill_path(&op.path, &params);
            let body = body_for(op, &of_a);
            let (status, answer) = raw(&cloud.url(), op, &path, Some(&token), body.as_ref()).await;
            let what = format!("{who}: {} {} -> {status} {answer}", op.method, path);
            assert!(status != 500, "{what}");
            if op.path.starts_with("/v1/s3") {
                // This server has no S3 engine: storage answers that it is off, for everyone.
                // Cross-account access to buckets is tested on the real engine (storage_iam.rs).
                assert_eq!(status, 503, "{what}");
                assert_eq!(answer["code"], "ServiceUnavailable", "{what}");
            } else if OPERATOR_ONLY.contains(&op.id.as_str()) {
                // Accounts and the host are the operator's: B may not even list them.
                assert_eq!(status, 403, "{what}");
            } else if op.path.contains('{') {
                assert_eq!(status, 404, "{what}");
                assert_eq!(answer["code"], "NotFound", "{what}");
            } else if status < 300 {
                // B's own lists and creates: nothing of A's in them.
                let text = answer.to_string();
                for secret in secrets_of_a {
                    assert!(!text.contains(secret), "{what} leaks {secret}");
                }
            } else if matches!(op.method.as_str(), "GET" | "DELETE") && !op.has_body {
                // B's own thing that B has not made (its budget).
                assert_eq!(answer["code"], "NotFound", "{what}");
            } else {
                // A body naming A's resources is refused as if they did not exist.
                assert!(matches!(status, 400 | 403 | 409), "{what}");
            }
        }
        // Clean up what the sweep created in B, so the second caller starts alike.
        for name in ["made-by-b"] {
            let _ = b_root.delete_user(name).await;
            let _ = b_root.delete_group(name).await;
            let _ = b_root.delete_policy(name).await;
        }
        for v in b_root
            .list_vpcs()
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|v| !v.is_default)
        {
            b_root.delete_vpc(&v.id).await.unwrap();
        }
        for g in b_root
            .list_security_groups(None)
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|g| !g.is_default)
        {
            b_root.delete_security_group(&g.id).await.unwrap();
        }
    }

    assert_eq!(
        snapshot(&a).await,
        before,
        "account A changed during B's sweep"
    );
    // A's key still works for A, and B's principals never appear in A.
    let a_user = Client::builder()
        .endpoint(cloud.url())
        .credentials(nuvem_sdk::Credentials::access_key(
            &a_key.access_key_id,
            &a_key.secret_access_key,
        ))
        .build()
        .unwrap();
    assert_eq!(a_user.whoami().await.unwrap().account_id, a_id);
    let err = b_root.get_user("a-user").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    cloud.stop().await;
}

/// The bearer token a client uses (sign in again to get one for raw requests).
pub(crate) async fn session_token(cloud: &Cloud, client: &Client, who: &str) -> String {
    match client.credentials() {
        nuvem_sdk::Credentials::Session { token } => token.clone(),
        other => panic!(
            "{who} should hold a session, not {other:?}: {}",
            cloud.url()
        ),
    }
}

on_both_backends!(unauthenticated_calls_are_refused, cross_account_isolation);
