//! Attacks of one tenant (or a narrowly allowed operator user) past its role, each written as the
//! attacker would make it, asserting the refusal and that nothing changed.

use std::collections::BTreeMap;
use std::time::Duration;

use nuvem_api::ErrorCode;
use nuvem_api::vpc::{CreateNetworkInterfaceRequest, CreatePortForwardRequest, Protocol};
use nuvem_sdk::{Client, Credentials};
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn refused<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> (ErrorCode, String) {
    let e = r.expect_err("the call should be refused");
    (e.code().expect("an API error"), e.to_string())
}

fn session(cloud: &Cloud, token: String) -> Client {
    Client::builder()
        .endpoint(cloud.url())
        .credentials(Credentials::session(token))
        .build()
        .unwrap()
}

fn policy(actions: &[&str], resource: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}]})
}

/// An operator user allowed only `iam:AssumeAccount` on `account/*` must not become the operator's
/// root; the sessions it gets name it and end when it loses the right.
async fn assuming_the_operator_account_is_refused(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let _student = cloud.account("turma-x").await;
    let admin_id = cloud.admin.whoami().await.unwrap().account_id;
    let ta = cloud.user(&cloud.admin, "admin", "ta").await;
    cloud
        .admin
        .create_policy(
            "assume-only",
            None,
            policy(
                &["iam:AssumeAccount"],
                &format!("nrn:nuvem:iam:{admin_id}:account/*"),
            ),
        )
        .await
        .unwrap();
    cloud
        .admin
        .attach_user_policy("ta", "assume-only")
        .await
        .unwrap();

    // The attack: assume the operator account itself.
    let (code, message) = refused(ta.assume_account("admin").await);
    assert_eq!(code, ErrorCode::AccessDenied, "{message}");
    assert!(message.contains("operator account"), "{message}");
    let (code, _) = refused(cloud.admin.assume_account("admin").await);
    assert_eq!(
        code,
        ErrorCode::AccessDenied,
        "not even the operator's root"
    );
    let me = ta.whoami().await.unwrap();
    assert!(
        !me.is_root && me.assumed_by.is_none(),
        "nothing changed: {me:?}"
    );
    assert_eq!(
        refused(ta.list_accounts(&Default::default()).await).0,
        ErrorCode::AccessDenied
    );

    // A student account may be assumed; the session says by whom, and is checked on every call.
    let assumed = ta.assume_account("turma-x").await.unwrap();
    let ta_nrn = format!("nrn:nuvem:iam:{admin_id}:user/ta");
    assert_eq!(
        assumed.identity.assumed_by.as_deref(),
        Some(ta_nrn.as_str())
    );
    let acting = session(&cloud, assumed.token);
    let me = acting.whoami().await.unwrap();
    assert_eq!(
        (me.account_name.as_str(), me.user.as_str()),
        ("turma-x", "root")
    );
    assert_eq!(me.assumed_by.as_deref(), Some(ta_nrn.as_str()));
    acting.list_users_all().await.unwrap();
    assert_eq!(
        refused(acting.assume_account("turma-x").await).0,
        ErrorCode::AccessDenied,
        "an assumed session does not chain"
    );

    // Losing the permission ends the assumed session at once.
    cloud
        .admin
        .detach_user_policy("ta", "assume-only")
        .await
        .unwrap();
    let (code, message) = refused(acting.whoami().await);
    assert_eq!(code, ErrorCode::Unauthenticated, "{message}");
    assert!(message.contains("may no longer assume"), "{message}");

    // So does the deletion of the user who assumed.
    cloud
        .admin
        .attach_user_policy("ta", "assume-only")
        .await
        .unwrap();
    let acting = session(&cloud, ta.assume_account("turma-x").await.unwrap().token);
    acting.whoami().await.unwrap();
    cloud.admin.delete_user("ta").await.unwrap();
    let (code, message) = refused(acting.whoami().await);
    assert_eq!(code, ErrorCode::Unauthenticated, "{message}");
    assert!(message.contains("no longer exists"), "{message}");
    cloud.stop().await;
}

/// A permission on one account, by its NRN, must not carry over to a new account that reuses
/// the name after the first was deleted.
async fn account_permissions_do_not_carry_over_to_a_new_account_of_the_same_name(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let first = cloud
        .admin
        .create_account("turma-y", Some("turma-y-root-password"))
        .await
        .unwrap()
        .account;
    assert!(
        first.nrn.ends_with(&format!(":account/{}", first.id)),
        "{}",
        first.nrn
    );
    let ta = cloud.user(&cloud.admin, "admin", "ta2").await;
    cloud
        .admin
        .create_policy(
            "one-class",
            None,
            policy(&["iam:AssumeAccount"], &first.nrn),
        )
        .await
        .unwrap();
    cloud
        .admin
        .attach_user_policy("ta2", "one-class")
        .await
        .unwrap();
    let acting = session(&cloud, ta.assume_account("turma-y").await.unwrap().token);
    acting.whoami().await.unwrap();

    cloud.admin.delete_account("turma-y").await.unwrap();
    assert_eq!(
        refused(acting.whoami().await).0,
        ErrorCode::Unauthenticated,
        "the assumed session ends with its account"
    );
    let second = cloud
        .admin
        .create_account("turma-y", None)
        .await
        .unwrap()
        .account;
    assert_ne!(second.id, first.id);
    let (code, message) = refused(ta.assume_account("turma-y").await);
    assert_eq!(code, ErrorCode::AccessDenied, "{message}");
    cloud.stop().await;
}

/// A user allowed every IAM write on `user/*` still cannot touch root: root skips every policy,
/// so owning its password or keys would own the account.
async fn no_iam_action_targets_the_root_user(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("turma-r").await;
    let account_id = root.whoami().await.unwrap().account_id;
    let mallory = cloud.user(&root, "turma-r", "mallory").await;
    root.create_user("bob", None).await.unwrap();
    root.create_group("g").await.unwrap();
    root.create_policy(
        "helpdesk",
        None,
        policy(&["iam:*"], &format!("nrn:nuvem:iam:{account_id}:*")),
    )
    .await
    .unwrap();
    root.attach_user_policy("mallory", "helpdesk")
        .await
        .unwrap();

    for (what, result) in [
        (
            "reset root's password",
            mallory.set_user_password("root", "taken-over-1").await,
        ),
        (
            "remove root's password",
            mallory.delete_user_password("root").await,
        ),
        (
            "mint root's access key",
            mallory.create_access_key("root").await.map(drop),
        ),
        (
            "attach a policy to root",
            mallory.attach_user_policy("root", "helpdesk").await,
        ),
        (
            "put root in a group",
            mallory.add_user_to_group("g", "root").await,
        ),
        ("delete root", mallory.delete_user("root").await),
    ] {
        let (code, message) = refused(result);
        assert_eq!(code, ErrorCode::AccessDenied, "{what}: {message}");
        assert!(message.contains("root"), "{what}: {message}");
    }
    // Nothing changed: root signs in with its password and has no key.
    cloud
        .anonymous()
        .login("turma-r", "root", "turma-r-root-password")
        .await
        .unwrap();
    assert!(
        root.list_access_keys("root")
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(root.get_group("g").await.unwrap().members.is_empty());
    // Reading root stays a matter of policy, and other users remain manageable.
    assert!(mallory.get_user("root").await.unwrap().is_root);
    mallory
        .set_user_password("bob", "bob-password-1")
        .await
        .unwrap();
    mallory.create_access_key("bob").await.unwrap();
    // Root manages its own keys.
    root.create_access_key("root").await.unwrap();
    cloud.stop().await;
}

/// Sessions end when the password changes (by the user or an administrator), when the password
/// is removed, and on sign-out.
async fn sessions_end_when_they_should(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("sess").await;
    let eve = cloud.user(&root, "sess", "eve").await;
    let stolen = cloud.login("sess", "eve", "eve-password").await;
    eve.whoami().await.unwrap();
    stolen.whoami().await.unwrap();

    // An administrator's reset ends every session made with the old password.
    root.set_user_password("eve", "reset-password-1")
        .await
        .unwrap();
    for c in [&eve, &stolen] {
        let (code, message) = refused(c.whoami().await);
        assert_eq!(code, ErrorCode::Unauthenticated, "{message}");
        assert!(message.contains("password changed"), "{message}");
    }

    // The user's own change ends the other sessions and hands back a fresh one.
    let eve = cloud.login("sess", "eve", "reset-password-1").await;
    let other = cloud.login("sess", "eve", "reset-password-1").await;
    let fresh = eve
        .change_password("reset-password-1", "own-password-22")
        .await
        .unwrap();
    assert_eq!(refused(other.whoami().await).0, ErrorCode::Unauthenticated);
    assert_eq!(refused(eve.whoami().await).0, ErrorCode::Unauthenticated);
    let eve = session(&cloud, fresh.token);
    assert_eq!(eve.whoami().await.unwrap().user, "eve");

    // Removing the login profile ends password sessions.
    root.delete_user_password("eve").await.unwrap();
    let (code, message) = refused(eve.whoami().await);
    assert_eq!(code, ErrorCode::Unauthenticated, "{message}");

    // Sign-out ends the session on the server: a copy of the token is worthless too.
    root.set_user_password("eve", "again-password-1")
        .await
        .unwrap();
    let token = cloud
        .anonymous()
        .login("sess", "eve", "again-password-1")
        .await
        .unwrap()
        .token;
    let (a, b) = (session(&cloud, token.clone()), session(&cloud, token));
    a.logout().await.unwrap();
    for c in [&a, &b] {
        let (code, message) = refused(c.whoami().await);
        assert_eq!(code, ErrorCode::Unauthenticated, "{message}");
        assert!(message.contains("signed out"), "{message}");
    }
    // Other sessions of the same user go on.
    let again = cloud.login("sess", "eve", "again-password-1").await;
    again.whoami().await.unwrap();
    cloud.stop().await;
}

/// Wrong passwords are throttled per user and per address: 429 with `Retry-After`, the right
/// password waits too, and after the wait the user gets in (never locked out for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_throttled_without_locking_the_user_out() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let _root = cloud.account("guess").await;
    let anon = cloud.anonymous();
    for n in 0..6 {
        let (code, message) = refused(anon.login("guess", "root", &format!("wrong-{n}")).await);
        assert_eq!(code, ErrorCode::Unauthenticated, "guess {n}: {message}");
    }
    // Now held: even the right password is not looked at.
    let (code, message) = refused(anon.login("guess", "root", "guess-root-password").await);
    assert_eq!(code, ErrorCode::TooManyRequests, "{message}");
    assert!(message.contains("wait"), "{message}");
    let response = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", cloud.url()))
        .json(&json!({"account": "guess", "user": "root", "password": "wrong-again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "TooManyRequests");
    // Another user is not held.
    cloud.admin.whoami().await.unwrap();
    // After the wait the right password works, and the count starts again.
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(200)).await;
    anon.login("guess", "root", "guess-root-password")
        .await
        .expect("the user is never locked out for good");
    assert_eq!(
        refused(anon.login("guess", "root", "wrong-7").await).0,
        ErrorCode::Unauthenticated
    );

    // Spraying many user names from one address holds that address (7 of its failures are
    // above).
    let mut held = false;
    for n in 0..40 {
        let (code, _) = refused(anon.login("guess", &format!("u{n}"), "x").await);
        if code == ErrorCode::TooManyRequests {
            held = true;
            assert!(
                n + 7 > 30,
                "30 failures of an address are free, held after {}",
                n + 7
            );
            break;
        }
    }
    assert!(
        held,
        "40 wrong sign-ins for different users from one address were never held"
    );
    // Behind a proxy on this host, clients are told apart by the address it forwards.
    let proxied = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", cloud.url()))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"account": "guess", "user": "root", "password": "guess-root-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        proxied.status().as_u16(),
        200,
        "another client of the proxy is not held"
    );
    cloud.stop().await;
}

/// Port forwards use only the operator's range, never a port the host listens on, and count
/// against the account's quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forwards_cannot_take_the_hosts_ports() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let root = cloud.account("pfwd").await;
    let eni = root
        .create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: None,
            security_group_ids: None,
            description: None,
        })
        .await
        .unwrap();
    let forward = |host_port: u32| CreatePortForwardRequest {
        protocol: Protocol::Tcp,
        host_port,
        interface_id: eni.id.clone(),
        private_port: 22,
    };
    let api_port = u32::from(cloud.server().addr.port());
    for port in [22, 53, 443, 8080, api_port, 19999, 30000] {
        let (code, message) = refused(root.create_port_forward(&forward(port)).await);
        assert_eq!(code, ErrorCode::InvalidRequest, "{port}: {message}");
        assert!(message.contains("20000–29999"), "{message}");
    }
    // A port in the range that a host service listens on is refused too.
    let listener = (29_000..29_999)
        .find_map(|p| std::net::TcpListener::bind(("0.0.0.0", p)).ok())
        .expect("a free port to listen on");
    let busy = u32::from(listener.local_addr().unwrap().port());
    let (code, message) = refused(root.create_port_forward(&forward(busy)).await);
    assert_eq!(code, ErrorCode::Conflict, "{message}");
    assert!(
        message.contains("in use by a service of the host"),
        "{message}"
    );
    drop(listener);
    assert!(root.list_port_forwards().await.unwrap().items.is_empty());

    // Within the quota (5 by default) forwards work, published on one address.
    for n in 0..5 {
        let f = root
            .create_port_forward(&forward(20_100 + n))
            .await
            .unwrap();
        assert_eq!(f.host_address, "127.0.0.1");
    }
    let (code, message) = refused(root.create_port_forward(&forward(20_105)).await);
    assert_eq!(code, ErrorCode::LimitExceeded, "{message}");
    assert!(message.contains("port_forwards"), "{message}");
    assert!(
        message.contains("cloudctl account quotas pfwd --set"),
        "{message}"
    );
    // The operator raises it for this account only.
    let mut limits = BTreeMap::new();
    limits.insert("port_forwards".to_owned(), Some(6));
    let quotas = cloud
        .admin
        .set_account_quotas("pfwd", limits)
        .await
        .unwrap();
    let q = quotas
        .items
        .iter()
        .find(|q| q.name == "port_forwards")
        .unwrap();
    assert_eq!((q.limit, q.used, q.is_default), (6, 5, false));
    root.create_port_forward(&forward(20_105)).await.unwrap();
    cloud.stop().await;
}

/// One account cannot take the whole VPC pool (or the host): quotas with the operator's defaults,
/// visible to the tenant, changed only by the operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_keep_one_account_from_taking_the_pool() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let greedy = cloud.account("greedy").await;
    let second: u32 = cloud.pool.split('.').nth(1).unwrap().parse().unwrap();
    // A whole /16 is more address space than an account may hold.
    let (code, message) = refused(
        greedy
            .create_vpc(&format!("10.{second}.0.0/16"), None)
            .await,
    );
    assert_eq!(code, ErrorCode::LimitExceeded, "{message}");
    assert!(message.contains("vpc_addresses"), "{message}");
    // Five VPCs (the default one counts), then no more.
    greedy.list_vpcs().await.unwrap();
    let mut made = 1;
    for n in 1..10u32 {
        match greedy
            .create_vpc(&format!("10.{second}.{}.0/24", 16 * n), None)
            .await
        {
            Ok(_) => made += 1,
            Err(e) => {
                assert_eq!(e.code(), Some(ErrorCode::LimitExceeded), "{e}");
                assert!(e.to_string().contains("'vpcs'"), "{e}");
                break;
            }
        }
    }
    assert_eq!(made, 5);
    // The next account still gets its default VPC.
    let next = cloud.account("next").await;
    assert_eq!(next.list_vpcs().await.unwrap().items.len(), 1);

    // A tenant sees its own quotas and usage, and cannot change them.
    let mine = greedy.quotas().await.unwrap();
    let vpcs = mine.items.iter().find(|q| q.name == "vpcs").unwrap();
    assert_eq!((vpcs.used, vpcs.limit, vpcs.is_default), (5, 5, true));
    let mut limits = BTreeMap::new();
    limits.insert("vpcs".to_owned(), Some(100));
    assert_eq!(
        refused(greedy.set_account_quotas("greedy", limits.clone()).await).0,
        ErrorCode::AccessDenied
    );
    limits.insert("no_such_quota".to_owned(), Some(1));
    let (code, message) = refused(cloud.admin.set_account_quotas("greedy", limits).await);
    assert_eq!(code, ErrorCode::InvalidRequest, "{message}");
    assert!(message.contains("no_such_quota"), "{message}");

    // Instances: vCPUs and counts are quotas too.
    let mut limits = BTreeMap::new();
    limits.insert("instances".to_owned(), Some(1));
    cloud
        .admin
        .set_account_quotas("greedy", limits)
        .await
        .unwrap();
    let image = cloud.fake_image("q", None).await;
    let run = |count: u32| {
        serde_json::from_value(
            json!({"image_id": image, "instance_type": "t3.nano", "count": count}),
        )
        .unwrap()
    };
    let (code, message) = refused(greedy.run_instances(&run(2)).await);
    assert_eq!(code, ErrorCode::LimitExceeded, "{message}");
    assert!(message.contains("'instances'"), "{message}");
    assert!(greedy.list_instances().await.unwrap().items.is_empty());
    greedy.run_instances(&run(1)).await.unwrap();
    cloud.stop().await;
}

/// The crafted pattern that made the matcher take seconds: many stars in a policy, a long
/// resource name in the request. It must answer fast, and /healthz must not stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_policy_pattern_cannot_stall_the_server() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let root = cloud.account("regex").await;
    let account_id = root.whoami().await.unwrap().account_id;
    let slow = cloud.user(&root, "regex", "slow").await;
    let stars = format!(
        "nrn:nuvem:iam:{account_id}:user/{}b",
        "*a".repeat(nuvem_api::policy::MAX_PATTERN / 2 - 40)
    );
    root.create_policy("stars", None, policy(&["iam:GetUser"], &stars))
        .await
        .unwrap();
    root.attach_user_policy("slow", "stars").await.unwrap();
    // A pattern over the limit is refused when the policy is written.
    let too_long = format!("nrn:nuvem:iam:{account_id}:user/{}", "*".repeat(2000));
    let (code, message) = refused(
        root.create_policy("too-long", None, policy(&["iam:GetUser"], &too_long))
            .await,
    );
    assert_eq!(code, ErrorCode::InvalidRequest, "{message}");

    let name = "a".repeat(60);
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let (code, _) = refused(slow.get_user(&name).await);
        assert!(matches!(
            code,
            ErrorCode::AccessDenied | ErrorCode::NotFound
        ));
    }
    // A name far past any limit is a 400 before any policy is evaluated.
    let huge = "a".repeat(3_000);
    let (code, _) = refused(slow.get_user(&huge).await);
    assert_eq!(code, ErrorCode::InvalidRequest);
    let elapsed = started.elapsed();
    cloud.anonymous().health().await.unwrap();
    // Generous for a debug build under load; the old matcher took 4 s for one such request.
    assert!(
        elapsed < Duration::from_secs(3),
        "21 crafted requests took {elapsed:?}"
    );
    cloud.stop().await;
}

on_both_backends!(
    assuming_the_operator_account_is_refused,
    account_permissions_do_not_carry_over_to_a_new_account_of_the_same_name,
    no_iam_action_targets_the_root_user,
    sessions_end_when_they_should,
);
