//! Odd input never answers 500, on either database. A sweep driven by the OpenAPI document sends
//! every string field, path parameter and query parameter of every operation a NUL, other control
//! characters, a 10,000-character value and characters outside the BMP, and every request body as
//! an array and as a scalar: the answer is a 4xx with the error body, and a control character is
//! refused (400 `InvalidRequest`, naming the field) wherever it is not allowed. And every stored
//! field takes its longest valid value (the columns are as wide as the validation).

use std::collections::BTreeMap;

use nuvem_api::{ErrorBody, ErrorCode, validate};
use serde_json::{Value, json};

use crate::common::{Backend, Cloud};
use crate::on_both_backends;
use crate::sweeps::{
    OPERATOR_ONLY, Operation, PATH_PARAMS, Populated, allow_all, body_for, fill_path, operations,
    populate, raw, session_token,
};

/// What an odd value must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 400 `InvalidRequest` naming the field, wherever it is sent.
    Refused,
    /// Refused, except in a multi-line field (`validate::MULTI_LINE_FIELDS`).
    OneLineOnly,
    /// Valid or not by the field's rules; never a 5xx.
    NoServerError,
}

/// The odd values, each with what it must get.
fn odd_values() -> Vec<(&'static str, String, Expect)> {
    use Expect::*;
    vec![
        ("a NUL", "a\u{0}b".into(), Refused),
        ("only a NUL", "\u{0}".into(), Refused),
        ("SOH", "a\u{1}b".into(), Refused),
        ("an escape sequence", "\u{1b}[31mred".into(), Refused),
        ("DEL", "ab\u{7f}".into(), Refused),
        ("a C1 control (NEL)", "a\u{85}b".into(), Refused),
        ("a newline", "a\nb".into(), OneLineOnly),
        ("a tab", "a\tb".into(), OneLineOnly),
        ("CR LF", "a\r\nb".into(), OneLineOnly),
        ("10,000 characters", "a".repeat(10_000), NoServerError),
        ("a non-BMP character", "🦀".into(), NoServerError),
        (
            "non-BMP characters in text",
            "crab 🦀 and G clef 𝄞".into(),
            NoServerError,
        ),
    ]
}

/// Percent-encodes everything but the unreserved characters, for a path segment or a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks one answer: never a 5xx, the error body on a 4xx, and the refusal `expect` demands.
/// `field` is what the message must name (a body's top-level field, or a parameter). A failure is
/// described, so that the sweep reports every one.
fn check(
    what: &str,
    status: u16,
    answer: &Value,
    expect: Expect,
    field: &str,
    multi_line: bool,
) -> Result<(), String> {
    let fail = |why: &str| Err(format!("{what}: {why}: {status} {answer}"));
    if status >= 500 {
        return fail("a server error");
    }
    if status == 401 && !(what.contains("/v1/auth/login") || what.contains("/v1/auth/session")) {
        return fail("the sweep's own session was refused");
    }
    let body = match serde_json::from_value::<ErrorBody>(answer.clone()) {
        Ok(body) => Some(body),
        Err(_) if status < 400 => None,
        Err(e) => return fail(&format!("no error body ({e})")),
    };
    if let Some(body) = &body
        && (body.message.is_empty() || body.request_id.is_empty())
    {
        return fail("an empty message or request id");
    }
    let refused = match expect {
        Expect::Refused => true,
        Expect::OneLineOnly => !multi_line,
        Expect::NoServerError => false,
    };
    if refused {
        match &body {
            Some(b) if status == 400 && b.code == ErrorCode::InvalidRequest => {
                if !b.message.contains(&format!("`{field}")) {
                    return fail(&format!("the message does not name `{field}`"));
                }
            }
            _ => return fail("not refused with 400 InvalidRequest"),
        }
    }
    Ok(())
}

/// The schema `schema` stands for (`$ref`s followed, and the one non-null member of `oneOf`).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(members) = schema["oneOf"].as_array()
        && let Some(member) = members.iter().find(|m| m["type"] != "null")
    {
        return resolve(doc, member);
    }
    schema
}

fn has_type(schema: &Value, ty: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == ty,
        Value::Array(ts) => ts.iter().any(|t| t == ty),
        _ => false,
    }
}

/// Every string leaf of `value` replaced by `odd` in turn (the value for each).
fn each_leaf_replaced(value: &Value, odd: &str) -> Vec<Value> {
    match value {
        Value::String(_) => vec![Value::String(odd.to_owned())],
        Value::Array(items) => (0..items.len())
            .flat_map(|i| {
                each_leaf_replaced(&items[i], odd)
                    .into_iter()
                    .map(move |v| {
                        let mut items = items.clone();
                        items[i] = v;
                        Value::Array(items)
                    })
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, item)| {
                each_leaf_replaced(item, odd).into_iter().map(|v| {
                    let mut map = map.clone();
                    map.insert(k.clone(), v);
                    Value::Object(map)
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A body schema's properties, those of its `allOf` parts too (a struct with a flattened field,
/// such as an app's spec inside `CreateAppRequest`).
fn properties_of<'a>(doc: &'a Value, schema: &'a Value) -> serde_json::Map<String, Value> {
    let mut all = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        all.extend(properties_of(doc, resolve(doc, part)));
    }
    all
}

/// The bodies that put `odd` in each string of `op`'s request body, by its schema, each with the
/// top-level field it is in: a string field, an item of an array of strings, a key or a string
/// value of a map, and every string (and a key) of a free-form object such as a policy document.
/// The other fields keep their values from `base`.
fn bodies_with(doc: &Value, op: &Operation, base: &Value, odd: &str) -> Vec<(String, Value)> {
    let schema = resolve(
        doc,
        &op.spec["requestBody"]["content"]["application/json"]["schema"],
    );
    let properties = properties_of(doc, schema);
    assert!(
        !properties.is_empty(),
        "{}: the request body has no properties",
        op.id
    );
    let mut out = Vec::new();
    for (name, prop) in &properties {
        let prop = resolve(doc, prop);
        let with = |value: Value| {
            let mut body = base.clone();
            body[name.as_str()] = value;
            (name.clone(), body)
        };
        if has_type(prop, "string") {
            out.push(with(json!(odd)));
        } else if has_type(prop, "array") && has_type(resolve(doc, &prop["items"]), "string") {
            out.push(with(json!([odd])));
        } else if has_type(prop, "object") {
            if let Some(values) = prop.get("additionalProperties") {
                let values = resolve(doc, values);
                let sample = if has_type(values, "string") {
                    json!("v")
                } else {
                    json!(1)
                };
                out.push(with(json!({ odd: sample })));
                if has_type(values, "string") {
                    out.push(with(json!({ "k": odd })));
                }
            } else {
                // Free-form (a policy document): each of its strings, and a key.
                let current = base.get(name.as_str()).cloned().unwrap_or_else(allow_all);
                for v in each_leaf_replaced(&current, odd) {
                    out.push(with(v));
                }
                let mut keyed = current.clone();
                if let Some(map) = keyed.as_object_mut() {
                    map.insert(odd.to_owned(), json!("x"));
                    out.push(with(keyed));
                }
            }
        }
    }
    out
}

/// The string query parameters of an operation.
fn query_strings(doc: &Value, op: &Operation) -> Vec<String> {
    op.spec["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && has_type(resolve(doc, &p["schema"]), "string"))
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

/// A valid body for every operation that takes one (the public sign-in calls too), naming the
/// sweeping account's own resources.
fn base_body(op: &Operation, fixture: &Populated, account: &str) -> Option<Value> {
    match op.id.as_str() {
        "login" => {
            Some(json!({"account": account, "user": "a-user", "password": "a-user-password"}))
        }
        "session" => Some(json!({"access_key_id": fixture.key.access_key_id,
            "secret_access_key": fixture.key.secret_access_key})),
        _ => body_for(op, &fixture.of),
    }
}

/// Where `value` holds a control character other than a newline, carriage return or tab (the
/// multi-line fields' whitespace), by path.
fn stored_controls(path: &str, value: &Value) -> Vec<String> {
    match value {
        Value::String(s) if s.chars().any(|c| c.is_control() && !"\n\r\t".contains(c)) => {
            vec![format!("{path}: {s:?}")]
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| stored_controls(&format!("{path}[{i}]"), v))
            .collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let mut found = stored_controls(&format!("{path}.{k}"), v);
                if k.chars().any(char::is_control) {
                    found.push(format!("{path}: the key {k:?}"));
                }
                found
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn odd_input_never_answers_500(backend: Backend) {
    // Object storage's operations are swept when an S3 engine is there (infra/test.sh); without
    // one they answer 503 (storage off) whatever the input, and are left out.
    let engine = std::env::var("NUVEM_TEST_S3_ENGINE")
        .ok()
        .filter(|f| !f.is_empty());
    let storage_on = engine.is_some();
    let Some(cloud) = Cloud::start_configured(backend, move |c| {
        c.s3_engine_file = engine.map(Into::into);
    })
    .await
    else {
        return;
    };
    let account = "odd";
    let root = cloud.account(account).await;
    let fixture = populate(&cloud, &root, account).await;
    let root_token = session_token(&cloud, &root, "the account's root").await;
    let operator_token = session_token(&cloud, &cloud.admin, "the operator").await;
    let doc: Value = serde_json::from_str(&nuvem_server::http::openapi_json()).unwrap();
    let url = cloud.url();
    let encoded: BTreeMap<&str, String> = fixture
        .params
        .iter()
        .map(|(k, v)| (*k, encode(v)))
        .collect();
    let (mut paths, mut fields, mut queries, mut shapes) = (0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();

    // Signing out would end the sweeping session; the rest runs as the account's root, and the
    // operator's calls as the operator.
    for op in operations()
        .iter()
        .filter(|o| o.id != "logout" && (storage_on || !o.path.starts_with("/v1/s3")))
    {
        let token = match (op.authenticated, OPERATOR_ONLY.contains(&op.id.as_str())) {
            (false, _) => None,
            (true, true) => Some(operator_token.as_str()),
            (true, false) => Some(root_token.as_str()),
        };
        let base = base_body(op, &fixture, account);
        let path = fill_path(&op.path, &encoded);

        // Each path parameter, the others valid.
        for name in PATH_PARAMS
            .iter()
            .filter(|p| op.path.contains(&format!("{{{p}}}")))
        {
            for (label, odd, expect) in odd_values() {
                let mut params = encoded.clone();
                params.insert(name, encode(&odd));
                let path = fill_path(&op.path, &params);
                let (status, answer) = raw(&url, op, &path, token, base.as_ref()).await;
                let what = format!(
                    "{} {} with {label} in the path parameter `{name}`",
                    op.method, op.path
                );
                failures.extend(check(&what, status, &answer, expect, name, false).err());
                paths += 1;
            }
        }

        // Each string query parameter.
        for name in query_strings(&doc, op) {
            for (label, odd, expect) in odd_values() {
                let with_query = format!("{path}?{name}={}", encode(&odd));
                let (status, answer) = raw(&url, op, &with_query, token, base.as_ref()).await;
                let what = format!(
                    "{} {} with {label} in the query parameter `{name}`",
                    op.method, op.path
                );
                failures.extend(check(&what, status, &answer, expect, &name, false).err());
                queries += 1;
            }
        }

        // A body of bytes (an object's upload, a build context) has no fields and no shape.
        let takes_json = op.spec["requestBody"]["content"]["application/json"].is_object();
        let Some(base) = base.filter(|_| takes_json) else {
            continue;
        };
        // Each string of the body.
        for (label, odd, expect) in odd_values() {
            for (field, body) in bodies_with(&doc, op, &base, &odd) {
                let (status, answer) = raw(&url, op, &path, token, Some(&body)).await;
                let what = format!(
                    "{} {} with {label} in the field `{field}`",
                    op.method, op.path
                );
                let multi_line = validate::MULTI_LINE_FIELDS.contains(&field.as_str());
                failures.extend(check(&what, status, &answer, expect, &field, multi_line).err());
                fields += 1;
            }
        }

        // The body as anything but an object.
        for body in [
            json!([]),
            json!(["name", "password"]),
            json!("name"),
            json!(42),
            json!(true),
            json!(null),
        ] {
            let (status, answer) = raw(&url, op, &path, token, Some(&body)).await;
            let what = format!("{} {} with the body {body}", op.method, op.path);
            let refused =
                check(&what, status, &answer, Expect::NoServerError, "", false).and_then(|()| {
                    match answer["message"].as_str() {
                        Some(m) if status == 400 && m.contains("must be a JSON object") => Ok(()),
                        _ => Err(format!(
                            "{what}: not refused as a body that is not an object: {status} {answer}"
                        )),
                    }
                });
            failures.extend(refused.err());
            shapes += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} odd inputs were mishandled:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.chars().take(600).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let per_value = odd_values().len();
    assert!(paths >= 60 * per_value, "only {paths} path parameter cases");
    assert!(fields >= 50 * per_value, "only {fields} body field cases");
    assert!(
        queries >= 5 * per_value,
        "only {queries} query parameter cases"
    );
    assert!(shapes >= 25 * 6, "only {shapes} body shape cases");

    // No control character was stored (but newlines and tabs in multi-line fields), and the
    // sweeping session still works.
    let stored = json!({
        "users": root.list_users_all().await.unwrap(),
        "groups": root.list_groups(&Default::default()).await.unwrap(),
        "policies": root.list_policies_all().await.unwrap(),
        "vpcs": root.list_vpcs().await.unwrap(),
        "subnets": root.list_subnets(None).await.unwrap(),
        "security_groups": root.list_security_groups(None).await.unwrap(),
        "interfaces": root.list_network_interfaces(None).await.unwrap(),
        "key_pairs": root.list_key_pairs().await.unwrap(),
        "instances": root.list_instances().await.unwrap(),
        "images": cloud.admin.list_images().await.unwrap(),
        "accounts": cloud.admin.list_accounts_all().await.unwrap(),
    });
    let controls = stored_controls("", &stored);
    assert!(
        controls.is_empty(),
        "stored control characters: {controls:?}"
    );
    root.whoami().await.unwrap();
    cloud.stop().await;
}

/// `n` characters of `unit` (a label or name character).
fn long(unit: char, n: usize) -> String {
    std::iter::repeat_n(unit, n).collect()
}

async fn longest_valid_values_are_stored(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    use validate::*;

    // An account with the longest name and root password, signed in with both.
    let account = format!("a{}", long('b', MAX_ACCOUNT_NAME - 1));
    let root_password = long('p', MAX_PASSWORD);
    cloud
        .admin
        .create_account(&account, Some(&root_password))
        .await
        .unwrap();
    let root = cloud.login(&account, "root", &root_password).await;
    assert_eq!(root.whoami().await.unwrap().account_name, account);

    // IAM: user, password, group, policy (name, a description of non-BMP characters, the
    // largest document), access key.
    let user = long('u', MAX_USER_NAME);
    let password = long('w', MAX_PASSWORD);
    root.create_user(&user, Some(&password)).await.unwrap();
    let as_user = cloud.login(&account, &user, &password).await;
    assert_eq!(as_user.whoami().await.unwrap().user, user);
    let group = long('g', MAX_GROUP_NAME);
    root.create_group(&group).await.unwrap();
    root.add_user_to_group(&group, &user).await.unwrap();
    assert_eq!(
        root.get_group(&group).await.unwrap().members,
        vec![user.clone()]
    );
    let policy = long('q', MAX_POLICY_NAME);
    let description = long('🦀', MAX_DESCRIPTION);
    let account_id = root.whoami().await.unwrap().account_id;
    let mut resources = Vec::new();
    let document = loop {
        let next = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:Get*", "Resource": resources}]});
        if next.to_string().len() > MAX_POLICY_DOCUMENT - 40 {
            break next;
        }
        resources.push(format!(
            "nrn:nuvem:iam:{account_id}:user/u{:04}",
            resources.len()
        ));
    };
    assert!(document.to_string().len() <= MAX_POLICY_DOCUMENT);
    root.create_policy(&policy, Some(&description), document.clone())
        .await
        .unwrap();
    root.attach_group_policy(&group, &policy).await.unwrap();
    let stored = root.get_policy(&policy).await.unwrap();
    assert_eq!(
        (stored.description, stored.document),
        (description, document)
    );
    let key = root.create_access_key(&user).await.unwrap();
    assert_eq!(
        root.list_access_keys(&user).await.unwrap().items[0].access_key_id,
        key.access_key_id
    );

    // VPC: the longest label for each name and description.
    let label = |c: char| long(c, 255);
    // The top of this server's pool (default VPCs are made from its bottom).
    let net = cloud.pool.split('.').take(2).collect::<Vec<_>>().join(".");
    let vpc = root
        .create_vpc(&format!("{net}.240.0/20"), Some(&label('v')))
        .await
        .unwrap();
    assert_eq!(root.get_vpc(&vpc.id).await.unwrap().name, label('v'));
    let subnet = root
        .create_subnet(&vpc.id, &format!("{net}.241.0/24"), Some(&label('s')))
        .await
        .unwrap();
    assert_eq!(root.get_subnet(&subnet.id).await.unwrap().name, label('s'));
    let sg = root
        .create_security_group(&vpc.id, &label('n'), Some(&label('d')))
        .await
        .unwrap();
    let sg = root
        .authorize_rule(
            &sg.id,
            &serde_json::from_value(json!({"direction": "ingress",
            "protocol": "tcp", "from_port": 22, "cidr": "0.0.0.0/0", "description": label('r')}))
            .unwrap(),
        )
        .await
        .unwrap();
    let stored = root.get_security_group(&sg.id).await.unwrap();
    assert_eq!((stored.name, stored.description), (label('n'), label('d')));
    assert!(stored.rules.iter().any(|r| r.description == label('r')));
    let eni = root
        .create_network_interface(
            &serde_json::from_value(json!({"subnet_id": subnet.id,
            "security_group_ids": [sg.id], "description": label('e')}))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        root.get_network_interface(&eni.id)
            .await
            .unwrap()
            .description,
        label('e')
    );

    // Compute: a key pair (generated) and one imported with a long comment, an instance type, a
    // private image, and an instance with the longest name, tags and user-data.
    let key_pair = long('k', 255);
    let made = root.create_key_pair(&key_pair, None).await.unwrap();
    let imported = format!("{}j", long('k', 254));
    let public_key = made
        .key_pair
        .public_key
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let comment = long('c', 16_384 - public_key.len() - 1);
    let line = format!("{public_key} {comment}");
    assert_eq!(line.len(), 16_384);
    root.create_key_pair(&imported, Some(&line)).await.unwrap();
    assert_eq!(root.get_key_pair(&imported).await.unwrap().name, imported);
    let itype = long('t', 32);
    cloud
        .admin
        .put_instance_type(
            &itype,
            &serde_json::from_value(json!({"vcpus": 1, "memory_mib": 64,
            "disk_gib": 1, "price_per_hour": 0.0}))
            .unwrap(),
        )
        .await
        .unwrap();
    let image_name = label('i');
    let image = cloud.fake_image(&image_name, Some(&account)).await;
    assert_eq!(root.get_image(&image).await.unwrap().name, image_name);
    let tags: BTreeMap<String, String> = (0..50)
        .map(|i| (format!("{i:02}{}", long('k', 126)), long('v', 256)))
        .collect();
    let user_data = format!(
        "#!/bin/sh\n{}",
        long('x', nuvem_api::ec2::MAX_USER_DATA - 10)
    );
    assert_eq!(user_data.len(), nuvem_api::ec2::MAX_USER_DATA);
    let instance = root
        .run_instances(
            &serde_json::from_value(json!({"image_id": image, "instance_type": itype,
            "key_name": key_pair, "subnet_id": subnet.id, "security_group_ids": [sg.id],
            "name": label('m'), "tags": tags, "user_data": user_data}))
            .unwrap(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let stored = root.get_instance(&instance.id).await.unwrap();
    assert_eq!((stored.name, stored.tags), (label('m'), tags));
    assert_eq!(stored.key_name.as_deref(), Some(key_pair.as_str()));
    assert_eq!(stored.instance_type, itype);
    cloud.stop().await;
}

/// Past the API boundary (which refuses these first), a value the database cannot take is still
/// the client's 400, never a 500: PostgreSQL refuses a NUL and a string too long for its column;
/// SQLite takes both.
async fn a_value_the_database_refuses_is_a_400(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let store = &cloud.server().nuvem.store;
    let account_id = cloud.admin.whoami().await.unwrap().account_id;
    let nul = store.account_get_by_name("a\u{0}b").await;
    let too_long = store.quota_set(&account_id, &long('q', 100), Some(1)).await;
    match backend {
        Backend::Sqlite => {
            assert!(matches!(nul, Ok(None)), "{nul:?}");
            assert!(too_long.is_ok(), "{too_long:?}");
        }
        Backend::Postgres => {
            for err in [nul.map(|_| ()).unwrap_err(), too_long.unwrap_err()] {
                assert_eq!(err.code(), ErrorCode::InvalidRequest, "{err}");
            }
        }
    }
    cloud.stop().await;
}

on_both_backends!(
    odd_input_never_answers_500,
    longest_valid_values_are_stored,
    a_value_the_database_refuses_is_a_400
);
