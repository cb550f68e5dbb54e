//! Bad input gets the right 4xx code with a clear message, never a 500.

use chrono::Utc;
use nuvem_sdk::Credentials;
use nuvem_server::iam::crypto::{Claims, ISSUER, Keys};
use serde_json::{Value, json};

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

struct Raw {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Raw {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: &str,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", content_type).body(b.to_owned());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Sends, then checks status, code and that the message mentions `hint`.
    async fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        status: u16,
        code: &str,
        hint: &str,
    ) {
        let (got, answer) = self.send(method, path, body, "application/json").await;
        let what = format!("{method} {path} {body:?} -> {got} {answer}");
        assert_eq!(got, status, "{what}");
        assert_eq!(answer["code"], code, "{what}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(hint),
            "message should mention {hint:?}: {what}"
        );
        assert!(
            !answer["request_id"].as_str().unwrap_or_default().is_empty(),
            "{what}"
        );
    }
}

async fn bad_requests_get_clear_errors(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let token = match cloud.admin.credentials() {
        Credentials::Session { token } => token.clone(),
        _ => unreachable!(),
    };
    let raw = Raw {
        url: cloud.url(),
        token,
        http: reqwest::Client::new(),
    };

    // Malformed bodies.
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\": "),
        400,
        "InvalidRequest",
        "not valid JSON",
    )
    .await;
    // A body is an object: an array's items are not fields by position.
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("[\"made-from-an-array\",\"a-password-1\"]"),
        400,
        "InvalidRequest",
        "must be a JSON object",
    )
    .await;
    let err = cloud
        .admin
        .get_user("made-from-an-array")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(nuvem_api::ErrorCode::NotFound));
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"a\",\"name\":\"b\"}"),
        400,
        "InvalidRequest",
        "duplicate field `name`",
    )
    .await;
    // Control characters, NUL above all, are refused at the boundary, naming the field.
    raw.expect(
        "POST",
        "/v1/iam/policies",
        Some(&json!({"name": "p", "description": "a\u{0}b", "document": {}}).to_string()),
        400,
        "InvalidRequest",
        "the field `description` contains NUL (U+0000) at character 2",
    )
    .await;
    raw.expect(
        "GET",
        "/v1/vpc/vpcs/vpc-1%00",
        None,
        400,
        "InvalidRequest",
        "the path parameter `vpc` contains NUL",
    )
    .await;
    raw.expect(
        "GET",
        "/v1/iam/users?marker=a%0Ab",
        None,
        400,
        "InvalidRequest",
        "the query parameter `marker` contains a newline (U+000A) at character 2; it must be a single line",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"a\",\"admin\":true}"),
        400,
        "InvalidRequest",
        "unknown field `admin`",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{}"),
        400,
        "InvalidRequest",
        "missing field `name`",
    )
    .await;
    let (status, answer) = raw
        .send("POST", "/v1/iam/users", Some("name=a"), "text/plain")
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("InvalidRequest")),
        "{answer}"
    );
    let huge = json!({"name": "x".repeat(70_000)}).to_string();
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some(&huge),
        413,
        "PayloadTooLarge",
        "limit",
    )
    .await;

    // Names: too long, bad characters, in bodies and in paths.
    let long = json!({"name": "a".repeat(65)}).to_string();
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some(&long),
        400,
        "InvalidRequest",
        "the limit is 64",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"ana maria\"}"),
        400,
        "InvalidRequest",
        "' '",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"\"}"),
        400,
        "InvalidRequest",
        "empty",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/groups",
        Some("{\"name\":\"g/h\"}"),
        400,
        "InvalidRequest",
        "'/'",
    )
    .await;
    raw.expect(
        "GET",
        "/v1/iam/users/jo%C3%A3o",
        None,
        400,
        "InvalidRequest",
        "'ã'",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/accounts",
        Some("{\"name\":\"Turma A\"}"),
        400,
        "InvalidRequest",
        "account name",
    )
    .await;
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"ok\",\"password\":\"short\"}"),
        400,
        "InvalidRequest",
        "at least 8",
    )
    .await;

    // Invalid policy documents, each with what is wrong.
    for (doc, hint) in [
        (json!("not an object"), "JSON object"),
        (json!({"Statement": []}), "Version"),
        (
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*"}]}),
            "\"Resource\" is missing",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}),
            "\"Allow\" or \"Deny\"",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:DeleteEverything", "Resource": "*"}}),
            "matches no iam action",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ListUsers", "Resource": "*"}}),
            "service:Action",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}}),
            "NRN",
        ),
        (
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}}),
            "not supported",
        ),
    ] {
        let body = json!({"name": "p", "document": doc}).to_string();
        raw.expect(
            "POST",
            "/v1/iam/policies",
            Some(&body),
            400,
            "InvalidRequest",
            hint,
        )
        .await;
    }

    // Unknown things.
    raw.expect(
        "GET",
        "/v1/iam/users/ghost",
        None,
        404,
        "NotFound",
        "'ghost'",
    )
    .await;
    raw.expect("GET", "/v1/nothing-here", None, 404, "NotFound", "/docs")
        .await;
    raw.expect(
        "GET",
        "/v1/iam/users?limit=5000",
        None,
        400,
        "InvalidRequest",
        "limit",
    )
    .await;
    raw.expect(
        "GET",
        "/v1/iam/users?limit=abc",
        None,
        400,
        "InvalidRequest",
        "query",
    )
    .await;
    raw.expect(
        "PATCH",
        "/v1/iam/users/root/access-keys/NKIAXXXX",
        Some("{\"status\":\"Paused\"}"),
        400,
        "InvalidRequest",
        "unknown variant",
    )
    .await;
    cloud.admin.create_user("twice", None).await.unwrap();
    raw.expect(
        "POST",
        "/v1/iam/users",
        Some("{\"name\":\"twice\"}"),
        409,
        "AlreadyExists",
        "'twice' already exists",
    )
    .await;

    // Sign-in failures.
    let anon = Raw {
        url: cloud.url(),
        token: String::new(),
        http: reqwest::Client::new(),
    };
    let body =
        json!({"account": "admin", "user": "root", "password": "wrong-password"}).to_string();
    anon.expect(
        "POST",
        "/v1/auth/login",
        Some(&body),
        401,
        "Unauthenticated",
        "sign-in failed",
    )
    .await;
    let body = json!({"access_key_id": "NKIA\u{0}", "secret_access_key": "x"}).to_string();
    anon.expect(
        "POST",
        "/v1/auth/session",
        Some(&body),
        400,
        "InvalidRequest",
        "`access_key_id` contains NUL",
    )
    .await;
    let body = json!({"access_key_id": "NKIANOPE", "secret_access_key": "x"}).to_string();
    anon.expect(
        "POST",
        "/v1/auth/session",
        Some(&body),
        401,
        "Unauthenticated",
        "wrong",
    )
    .await;
    let body =
        json!({"access_key_id": "NKIANOPE", "secret_access_key": "x", "duration_seconds": 5})
            .to_string();
    anon.expect(
        "POST",
        "/v1/auth/session",
        Some(&body),
        400,
        "InvalidRequest",
        "duration_seconds",
    )
    .await;

    // Tokens: expired (signed with the real key), forged (another key), garbage.
    let keys = Keys::load(cloud.data_dir()).unwrap();
    let me = cloud.admin.whoami().await.unwrap();
    let admin_user = cloud.admin.get_user("root").await.unwrap();
    let now = Utc::now().timestamp();
    let expired = keys
        .issue_token(&Claims {
            sub: admin_user.id.clone(),
            acc: me.account_id.clone(),
            akid: None,
            iat: now - 7200,
            exp: now - 3600,
            iss: ISSUER.into(),
            jti: "ses-expired".into(),
            iat_ms: (now - 7200) * 1000,
            asu: None,
            asa: None,
        })
        .unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let forged = Keys::load(other_dir.path())
        .unwrap()
        .issue_token(&Claims {
            sub: admin_user.id,
            acc: me.account_id,
            akid: None,
            iat: now,
            exp: now + 3600,
            iss: ISSUER.into(),
            jti: "ses-forged".into(),
            iat_ms: now * 1000,
            asu: None,
            asa: None,
        })
        .unwrap();
    for (token, hint) in [
        (expired, "expired"),
        (forged, "not valid"),
        ("abc.def.ghi".to_owned(), "not valid"),
    ] {
        let r = Raw {
            url: cloud.url(),
            token,
            http: reqwest::Client::new(),
        };
        r.expect("GET", "/v1/iam/users", None, 401, "Unauthenticated", hint)
            .await;
    }

    // A disabled access key cannot open a session.
    cloud.admin.create_user("bot", None).await.unwrap();
    let key = cloud.admin.create_access_key("bot").await.unwrap();
    cloud
        .admin
        .update_access_key(
            "bot",
            &key.access_key_id,
            nuvem_api::iam::AccessKeyStatus::Inactive,
        )
        .await
        .unwrap();
    let body =
        json!({"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key})
            .to_string();
    anon.expect(
        "POST",
        "/v1/auth/session",
        Some(&body),
        401,
        "Unauthenticated",
        "disabled",
    )
    .await;

    cloud.stop().await;
}

on_both_backends!(bad_requests_get_clear_errors);
