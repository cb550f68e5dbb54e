//! IAM behaviour through the SDK: policy evaluation, groups, access keys, accounts, restarts.

use nuvem_api::ErrorCode;
use nuvem_api::iam::{AccessKeyStatus, AuthMethod};
use nuvem_sdk::{Client, Credentials};
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

fn code<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> ErrorCode {
    r.expect_err("the call should fail")
        .code()
        .expect("an API error")
}

async fn policy_evaluation(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("turma-a").await;
    let account_id = root.whoami().await.unwrap().account_id;
    let alice = cloud.user(&root, "turma-a", "alice").await;
    root.create_user("bob", None).await.unwrap();

    // No policy: default deny, with a message naming action and resource.
    let err = alice.list_users(&Default::default()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));
    assert!(err.to_string().contains("iam:ListUsers"), "{err}");
    assert!(err.to_string().contains("no policy"), "{err}");
    // Self-service calls need no policy.
    assert_eq!(alice.whoami().await.unwrap().user, "alice");

    // A group's Allow applies to its members.
    root.create_policy(
        "readers",
        Some("read IAM"),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}]}),
    )
    .await
    .unwrap();
    root.create_group("students").await.unwrap();
    root.attach_group_policy("students", "readers")
        .await
        .unwrap();
    assert_eq!(
        code(alice.list_users(&Default::default()).await),
        ErrorCode::AccessDenied
    );
    root.add_user_to_group("students", "alice").await.unwrap();
    let names: Vec<String> = alice
        .list_users_all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob", "root"]);
    assert_eq!(alice.get_user("bob").await.unwrap().name, "bob");
    // The Allow covers reads only.
    assert_eq!(
        code(alice.create_user("mallory", None).await),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(alice.delete_user("bob").await),
        ErrorCode::AccessDenied
    );

    // An explicit Deny beats the group's Allow, and names the policy and statement.
    root.create_policy(
        "no-bob",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "HideBob", "Effect": "Deny",
            "Action": "iam:GetUser", "Resource": format!("nrn:nuvem:iam:{account_id}:user/bob")}]}),
    )
    .await
    .unwrap();
    root.attach_user_policy("alice", "no-bob").await.unwrap();
    let err = alice.get_user("bob").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));
    assert!(
        err.to_string()
            .contains("explicitly denied by policy 'no-bob'"),
        "{err}"
    );
    assert!(err.to_string().contains("HideBob"), "{err}");
    assert_eq!(alice.get_user("alice").await.unwrap().name, "alice");

    // Resource wildcards: allowed on user/a*, not on others.
    root.create_policy(
        "manage-a-users",
        None,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:CreateUser", "Resource": format!("nrn:nuvem:iam:{account_id}:user/a*")}]}),
    )
    .await
    .unwrap();
    root.attach_user_policy("alice", "manage-a-users")
        .await
        .unwrap();
    alice.create_user("ana", None).await.unwrap();
    assert_eq!(
        code(alice.create_user("carol", None).await),
        ErrorCode::AccessDenied
    );

    // Detaching and leaving the group take effect on the next call.
    root.detach_user_policy("alice", "no-bob").await.unwrap();
    assert_eq!(alice.get_user("bob").await.unwrap().name, "bob");
    root.remove_user_from_group("students", "alice")
        .await
        .unwrap();
    assert_eq!(code(alice.get_user("bob").await), ErrorCode::AccessDenied);

    // A policy in use cannot be deleted; once detached it can.
    assert_eq!(
        code(root.delete_policy("readers").await),
        ErrorCode::DependencyViolation
    );
    root.detach_group_policy("students", "readers")
        .await
        .unwrap();
    root.delete_policy("readers").await.unwrap();
    cloud.stop().await;
}

async fn access_keys(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("keys").await;
    root.create_user("ci-bot", None).await.unwrap();
    let key = root.create_access_key("ci-bot").await.unwrap();
    assert!(key.access_key_id.starts_with("NKIA") && key.secret_access_key.len() == 40);
    let listed = root.list_access_keys("ci-bot").await.unwrap().items;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_none());
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&key.secret_access_key)
    );

    // The secret is stored encrypted, never in clear, in the database.
    if backend == Backend::Sqlite {
        let db = std::fs::read(cloud.data_dir().join("nuvem.db")).unwrap();
        let wal = std::fs::read(cloud.data_dir().join("nuvem.db-wal")).unwrap_or_default();
        let needle = key.secret_access_key.as_bytes();
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "secret stored in clear"
            );
        }
    }

    let bot = Client::builder()
        .endpoint(cloud.url())
        .credentials(Credentials::access_key(
            &key.access_key_id,
            &key.secret_access_key,
        ))
        .build()
        .unwrap();
    let me = bot.whoami().await.unwrap();
    assert_eq!(
        (me.user.as_str(), me.auth_method),
        ("ci-bot", AuthMethod::AccessKey)
    );
    assert_eq!(
        me.access_key_id.as_deref(),
        Some(key.access_key_id.as_str())
    );
    assert!(
        root.list_access_keys("ci-bot").await.unwrap().items[0]
            .last_used_at
            .is_some()
    );

    // Two keys at most.
    let second = root.create_access_key("ci-bot").await.unwrap();
    assert_eq!(
        code(root.create_access_key("ci-bot").await),
        ErrorCode::LimitExceeded
    );

    // Disabling ends the key's sessions at once; enabling restores them.
    root.update_access_key("ci-bot", &key.access_key_id, AccessKeyStatus::Inactive)
        .await
        .unwrap();
    let err = bot.whoami().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));
    assert!(err.to_string().contains("disabled"), "{err}");
    root.update_access_key("ci-bot", &key.access_key_id, AccessKeyStatus::Active)
        .await
        .unwrap();
    assert_eq!(bot.whoami().await.unwrap().user, "ci-bot");

    // A wrong secret is refused.
    let wrong = Client::builder()
        .endpoint(cloud.url())
        .credentials(Credentials::access_key(
            &second.access_key_id,
            "x".repeat(40),
        ))
        .build()
        .unwrap();
    assert_eq!(code(wrong.whoami().await), ErrorCode::Unauthenticated);

    // Deleting the key, or the user, ends everything.
    root.delete_access_key("ci-bot", &key.access_key_id)
        .await
        .unwrap();
    assert_eq!(code(bot.whoami().await), ErrorCode::Unauthenticated);
    assert_eq!(
        code(root.delete_access_key("ci-bot", &key.access_key_id).await),
        ErrorCode::NotFound
    );
    root.delete_user("ci-bot").await.unwrap();
    assert_eq!(
        code(root.list_access_keys("ci-bot").await),
        ErrorCode::NotFound
    );
    cloud.stop().await;
}

async fn accounts_are_the_operators(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let created = cloud
        .admin
        .create_account("turma-2026", None)
        .await
        .unwrap();
    let pw = created
        .generated_root_password
        .clone()
        .expect("generated password");
    assert_eq!(created.account.id.len(), 12);
    let student = cloud.login("turma-2026", "root", &pw).await;
    let me = student.whoami().await.unwrap();
    assert!(me.is_root && !me.is_operator);

    // Only the operator manages accounts; the account's own root is refused.
    let err = student.create_account("sneaky", None).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));
    assert!(err.to_string().contains("operator"), "{err}");
    assert_eq!(
        code(student.list_accounts(&Default::default()).await),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(cloud.admin.create_account("turma-2026", None).await),
        ErrorCode::AlreadyExists
    );

    // The operator may act as an account's root (to help a student); nobody else may.
    let as_root = cloud.admin.assume_account("turma-2026").await.unwrap();
    assert_eq!(
        (
            as_root.identity.account_name.as_str(),
            as_root.identity.user.as_str()
        ),
        ("turma-2026", "root")
    );
    let acting = Client::builder()
        .endpoint(cloud.url())
        .credentials(Credentials::session(as_root.token))
        .build()
        .unwrap();
    assert!(
        acting
            .list_users_all()
            .await
            .unwrap()
            .iter()
            .any(|u| u.name == "root")
    );
    assert_eq!(
        code(student.assume_account("admin").await),
        ErrorCode::AccessDenied
    );

    // An IAM user of the operator account needs a policy too.
    let helper = cloud.user(&cloud.admin, "admin", "ta").await;
    assert_eq!(
        code(helper.list_accounts(&Default::default()).await),
        ErrorCode::AccessDenied
    );
    cloud
        .admin
        .create_policy(
            "accounts",
            None,
            json!({"Version": "2012-10-17", "Statement":
            [{"Effect": "Allow", "Action": "iam:*Account*", "Resource": "*"}]}),
        )
        .await
        .unwrap();
    cloud
        .admin
        .attach_user_policy("ta", "accounts")
        .await
        .unwrap();
    let names: Vec<_> = helper
        .list_accounts_all()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["admin", "turma-2026"]);

    // Root users and the operator account cannot be deleted.
    assert_eq!(code(student.delete_user("root").await), ErrorCode::Conflict);
    assert_eq!(
        code(cloud.admin.delete_account("admin").await),
        ErrorCode::Conflict
    );

    // Deleting an account removes everything in it, and its sign-in.
    student
        .create_user("someone", Some("password-1"))
        .await
        .unwrap();
    student.create_group("g").await.unwrap();
    student.add_user_to_group("g", "someone").await.unwrap();
    student.create_access_key("someone").await.unwrap();
    cloud.admin.delete_account("turma-2026").await.unwrap();
    assert_eq!(code(student.whoami().await), ErrorCode::Unauthenticated);
    assert_eq!(
        code(
            cloud
                .anonymous()
                .login("turma-2026", "someone", "password-1")
                .await
        ),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        code(cloud.admin.get_account("turma-2026").await),
        ErrorCode::NotFound
    );
    cloud.stop().await;
}

async fn passwords_and_sessions(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("pwds").await;
    let dora = cloud.user(&root, "pwds", "dora").await;
    // Changing one's own password needs the current one.
    assert_eq!(
        code(
            dora.change_password("wrong-password", "new-password-1")
                .await
        ),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(dora.change_password("dora-password", "short").await),
        ErrorCode::InvalidRequest
    );
    dora.change_password("dora-password", "new-password-1")
        .await
        .unwrap();
    let anon = cloud.anonymous();
    assert_eq!(
        code(anon.login("pwds", "dora", "dora-password").await),
        ErrorCode::Unauthenticated
    );
    let session = anon.login("pwds", "dora", "new-password-1").await.unwrap();
    assert_eq!(session.identity.auth_method, AuthMethod::Password);
    assert!(session.expires_at > chrono::Utc::now());
    assert!(root.get_user("dora").await.unwrap().last_login_at.is_some());

    // The same message for an unknown account, an unknown user and a wrong password.
    let mut messages = Vec::new();
    for (a, u, p) in [
        ("nope", "dora", "new-password-1"),
        ("pwds", "nobody", "x"),
        ("pwds", "dora", "bad"),
    ] {
        messages.push(anon.login(a, u, p).await.unwrap_err().to_string());
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");

    // Without a password (login profile) a user cannot sign in at all.
    root.delete_user_password("dora").await.unwrap();
    assert_eq!(
        code(anon.login("pwds", "dora", "new-password-1").await),
        ErrorCode::Unauthenticated
    );
    assert!(!root.get_user("dora").await.unwrap().has_password);
    root.set_user_password("dora", "third-password")
        .await
        .unwrap();
    anon.login("pwds", "dora", "third-password").await.unwrap();
    cloud.stop().await;
}

async fn pagination(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("pages").await;
    for i in 0..25 {
        root.create_user(&format!("user-{i:02}"), None)
            .await
            .unwrap();
    }
    let first = root
        .list_users(&nuvem_api::ListParams {
            limit: Some(10),
            marker: None,
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.next_marker.as_deref(), Some("user-08"));
    let all = root.list_users_all().await.unwrap();
    assert_eq!(all.len(), 26);
    let bad = nuvem_api::ListParams {
        limit: Some(0),
        marker: None,
    };
    assert_eq!(code(root.list_users(&bad).await), ErrorCode::InvalidRequest);
    cloud.stop().await;
}

async fn state_survives_a_restart(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("durable").await;
    root.create_user("kept", None).await.unwrap();
    let key = root.create_access_key("kept").await.unwrap();
    let token = match cloud.admin.credentials() {
        Credentials::Session { token } => token.clone(),
        _ => unreachable!(),
    };
    // Same data directory (keys) and database: the second start finds everything, creates no
    // new operator, and honours sessions and keys issued before.
    let (again, _dir) = cloud.restart().await;
    assert!(
        again.generated_admin_password().is_none(),
        "the operator is created once"
    );
    let admin = Client::builder()
        .endpoint(again.url())
        .credentials(Credentials::session(token))
        .build()
        .unwrap();
    assert_eq!(admin.whoami().await.unwrap().account_name, "admin");
    let bot = Client::builder()
        .endpoint(again.url())
        .credentials(Credentials::access_key(
            &key.access_key_id,
            &key.secret_access_key,
        ))
        .build()
        .unwrap();
    assert_eq!(bot.whoami().await.unwrap().user, "kept");
    again.stop().await;
}

async fn metrics_count_requests(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    cloud.admin.list_users_all().await.unwrap();
    let _ = cloud.anonymous().get_user("x").await;
    let text = reqwest::get(format!("{}/metrics", cloud.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("nuvem_http_requests_total{")
                && l.contains("route=\"/v1/iam/users\"")
                && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/iam/users/{user}\""),
        "routes are patterns, not raw paths"
    );
    assert!(text.contains("nuvem_http_request_duration_seconds_bucket"));
    assert!(text.contains("process_resident_memory_bytes"));
    let health = cloud.anonymous().health().await.unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.database.starts_with(match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }));
    cloud.stop().await;
}

on_both_backends!(
    policy_evaluation,
    access_keys,
    accounts_are_the_operators,
    passwords_and_sessions,
    pagination,
    state_survives_a_restart,
    metrics_count_requests,
);
