//! Object storage (S3): its IAM actions, bucket names, bucket policies (the IAM grammar plus
//! `Principal`) and the management API's types. The S3 protocol itself is not here: students use
//! the `aws` CLI, boto3 or `aws-sdk-s3` against Nuvem's S3 endpoint.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::policy::{self, Decision, Effect, PolicyDocument, PolicyError, Statement};

/// The S3 actions Nuvem authorizes, as AWS names them.
pub const ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucketWebsite",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketWebsite",
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:PutBucketPolicy",
    "s3:PutBucketWebsite",
    "s3:PutObject",
    "s3:PutObjectTagging",
];

/// `nrn:nuvem:s3:::<bucket>`: buckets are global, so the NRN names no account (as AWS's ARN).
pub fn bucket_nrn(bucket: &str) -> String {
    format!("nrn:nuvem:s3:::{bucket}")
}

/// `nrn:nuvem:s3:::<bucket>/<key>`.
pub fn object_nrn(bucket: &str, key: &str) -> String {
    format!("nrn:nuvem:s3:::{bucket}/{key}")
}

/// AWS's rules for bucket names (the ones every region enforces today): 3 to 63 characters of
/// lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no
/// two dots in a row, not shaped like an IP address.
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    let n = name.len();
    if !(3..=63).contains(&n) {
        return Err(format!(
            "bucket name '{name}' is {n} characters long; it must be 3 to 63"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(format!(
            "bucket name '{name}' may hold only lowercase letters, digits, dots and hyphens"
        ));
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[n - 1]) {
        return Err(format!(
            "bucket name '{name}' must begin and end with a letter or a digit"
        ));
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!(
            "bucket name '{name}' must not hold two dots in a row or look like an IP address"
        ));
    }
    Ok(())
}

/// Who a bucket-policy statement applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyPrincipal {
    /// `"*"`: everyone, anonymous callers included.
    Anyone,
    /// An account id: every principal of that account (its own policies decide among them).
    Account(String),
    /// One user: `nrn:nuvem:iam:<account>:user/<name>`.
    User(String),
}

/// The caller a bucket policy is evaluated for.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Anonymous,
    User {
        account_id: &'a str,
        user_nrn: &'a str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPolicy {
    /// Each statement with the principals it names.
    pub statements: Vec<(Vec<PolicyPrincipal>, Statement)>,
}

impl BucketPolicy {
    /// AWS's evaluation restricted to the statements whose `Principal` names the caller.
    pub fn evaluate(&self, caller: Caller<'_>, action: &str, resource: &str) -> Decision {
        let statements = self
            .statements
            .iter()
            .filter(|(who, _)| who.iter().any(|p| p.matches(caller)))
            .map(|(_, st)| st.clone())
            .collect();
        let doc = PolicyDocument { statements };
        policy::evaluate([("bucket policy", &doc)], action, resource)
    }

    /// Whether any statement allows anonymous callers to `s3:GetObject` (a public bucket).
    pub fn allows_public_read(&self) -> bool {
        self.statements.iter().any(|(who, st)| {
            st.effect == Effect::Allow
                && who.contains(&PolicyPrincipal::Anyone)
                && st
                    .actions
                    .iter()
                    .any(|a| policy::action_matches(a, "s3:GetObject"))
        })
    }
}

impl PolicyPrincipal {
    fn matches(&self, caller: Caller<'_>) -> bool {
        match (self, caller) {
            (PolicyPrincipal::Anyone, _) => true,
            (PolicyPrincipal::Account(a), Caller::User { account_id, .. }) => a == account_id,
            (PolicyPrincipal::User(u), Caller::User { user_nrn, .. }) => u == user_nrn,
            (_, Caller::Anonymous) => false,
        }
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(msg.into()))
}

fn parse_principal(at: &str, value: &str) -> Result<PolicyPrincipal, PolicyError> {
    if value == "*" {
        return Ok(PolicyPrincipal::Anyone);
    }
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(PolicyPrincipal::Account(value.to_owned()));
    }
    if let Some(n) = crate::nrn::parse(value)
        && n.service == "iam"
    {
        if n.resource == "root" {
            return Ok(PolicyPrincipal::Account(n.account.to_owned()));
        }
        if n.resource.starts_with("user/") && !value.contains('*') {
            return Ok(PolicyPrincipal::User(value.to_owned()));
        }
    }
    err(format!(
        "{at}: principal \"{value}\" must be \"*\", a 12-digit account id, nrn:nuvem:iam:<account>:root or nrn:nuvem:iam:<account>:user/<name>"
    ))
}

fn principals(at: &str, value: Option<&Value>) -> Result<Vec<PolicyPrincipal>, PolicyError> {
    let strings = |v: &Value| -> Result<Vec<String>, PolicyError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => err(format!("{at}: a principal must be a string, not {other}")),
                })
                .collect(),
            other => err(format!(
                "{at}: principals must be a string or a list of strings, not {other}"
            )),
        }
    };
    let names = match value {
        None => {
            return err(format!(
                "{at}: \"Principal\" is missing (a bucket policy names who it applies to)"
            ));
        }
        Some(Value::String(s)) if s == "*" => vec![s.clone()],
        Some(Value::Object(map)) if !map.is_empty() => {
            let mut names = Vec::new();
            for (kind, v) in map {
                // "AWS" is accepted too, so that policies copied from AWS's documentation read.
                if kind != "Nuvem" && kind != "AWS" {
                    return err(format!(
                        "{at}: principal type \"{kind}\" is not known; use {{\"Nuvem\": ...}} or \"*\""
                    ));
                }
                names.extend(strings(v)?);
            }
            names
        }
        Some(other) => {
            return err(format!(
                "{at}: \"Principal\" must be \"*\" or {{\"Nuvem\": \"<account id or user NRN>\"}}, not {other}"
            ));
        }
    };
    names.iter().map(|n| parse_principal(at, n)).collect()
}

/// Parses a bucket policy of `bucket`: the IAM grammar, plus `Principal` in every statement, and
/// every resource inside the bucket (`nrn:nuvem:s3:::<bucket>` or `.../<key pattern>`).
pub fn parse_bucket_policy(bucket: &str, doc: &Value) -> Result<BucketPolicy, PolicyError> {
    let Value::Object(map) = doc else {
        return err("the policy must be a JSON object with \"Version\" and \"Statement\"");
    };
    let size = doc.to_string().len();
    if size > MAX_BUCKET_POLICY {
        return err(format!(
            "the policy is {size} bytes; a bucket policy may hold at most {MAX_BUCKET_POLICY}"
        ));
    }
    for key in map.keys() {
        if !matches!(key.as_str(), "Version" | "Statement" | "Id") {
            return err(format!("unknown top-level key \"{key}\""));
        }
    }
    if map.get("Version") != Some(&Value::String(policy::POLICY_VERSION.to_owned())) {
        return err(format!(
            "\"Version\" must be \"{}\"",
            policy::POLICY_VERSION
        ));
    }
    let items: Vec<&Value> = match map.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => return err("\"Statement\" must be an object or a non-empty list of objects"),
    };
    let own = bucket_nrn(bucket);
    let mut statements = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("Statement {}", i + 1);
        let Value::Object(st) = item else {
            return err(format!("{at} must be a JSON object"));
        };
        let who = principals(&at, st.get("Principal"))?;
        let mut rest = st.clone();
        rest.remove("Principal");
        let statement = policy::parse_statement(i, &Value::Object(rest))?;
        for r in &statement.resources {
            let inside = r == &own || r.starts_with(&format!("{own}/"));
            if !inside {
                return err(format!(
                    "{at}: resource \"{r}\" is outside this bucket; use \"{own}\" or \"{own}/<key pattern>\""
                ));
            }
        }
        if let Some(a) = statement.actions.iter().find(|a| {
            let service = a.split(':').next().unwrap_or_default();
            *a != "*" && !policy::action_matches(service, "s3")
        }) {
            return err(format!("{at}: action \"{a}\" is not an s3 action"));
        }
        statements.push((who, statement));
    }
    Ok(BucketPolicy { statements })
}

/// AWS's default limit of buckets per account.
pub const MAX_BUCKETS_PER_ACCOUNT: usize = 100;

/// AWS's limit on a bucket policy's size.
pub const MAX_BUCKET_POLICY: usize = 20 * 1024;

/// A bucket, as the management API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bucket {
    pub name: String,
    /// The account that owns it.
    pub account_id: String,
    pub created_at: DateTime<Utc>,
    /// Bytes stored (the sum of the objects' sizes).
    pub size_bytes: u64,
    pub object_count: u64,
    /// Whether its policy lets anonymous callers read objects.
    pub public_read: bool,
    /// Where its static website is served, when it has website settings (it answers only
    /// while the bucket policy lets anonymous callers read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BucketList {
    pub items: Vec<Bucket>,
}

/// `POST /v1/s3/buckets`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBucketRequest {
    pub name: String,
}

/// A bucket's policy document, as JSON (the IAM grammar plus `Principal`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BucketPolicyBody {
    #[schema(value_type = Object)]
    pub policy: Value,
}

/// Where the S3 endpoint is, for clients configuring `aws` or an SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageInfo {
    /// `http://host:port` of Nuvem's S3 endpoint (path-style).
    pub endpoint: String,
    pub region: String,
}

/// One bucket's usage: its size now, and what was counted since the server started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BucketUsage {
    pub bucket: String,
    pub size_bytes: u64,
    pub object_count: u64,
    /// PUT, COPY, POST and LIST requests.
    pub requests_tier1: u64,
    /// GET, HEAD and other requests (DELETE is free and not counted).
    pub requests_tier2: u64,
    pub bytes_out: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageUsage {
    pub items: Vec<BucketUsage>,
}

/// A bucket's static website: `PUT|GET|DELETE /v1/s3/buckets/{bucket}/website`. Served
/// anonymously on the website listener while the bucket's policy allows public reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketWebsite {
    /// The object answered for a path that ends in `/` (AWS's `IndexDocument.Suffix`).
    pub index_document: String,
    /// The object answered, with status 404, when a key does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_document: Option<String>,
}

/// The longest object key S3 accepts, in bytes.
pub const MAX_OBJECT_KEY: usize = 1024;

impl BucketWebsite {
    /// AWS's rules: the index document is a non-empty suffix without `/` (appended to every
    /// path that ends in `/`); the error document is an object key.
    pub fn check(&self) -> Result<(), String> {
        let index = &self.index_document;
        if index.is_empty() {
            return Err(
                "the index document must not be empty: name the object served for a folder, such as index.html".to_owned(),
            );
        }
        if index.contains('/') {
            return Err(format!(
                "the index document '{index}' must not contain '/': it is a suffix appended to every path ending in '/' (use index.html, not site/index.html)"
            ));
        }
        if index.len() > MAX_OBJECT_KEY {
            return Err(format!(
                "the index document is {} bytes long; at most {MAX_OBJECT_KEY}",
                index.len()
            ));
        }
        if let Some(error) = &self.error_document {
            if error.is_empty() {
                return Err(
                    "the error document must not be empty: name an object key, such as error.html, or leave it out".to_owned(),
                );
            }
            if error.len() > MAX_OBJECT_KEY {
                return Err(format!(
                    "the error document is {} bytes long; an object key holds at most {MAX_OBJECT_KEY}",
                    error.len()
                ));
            }
        }
        Ok(())
    }
}

/// One object in a listing (`GET /v1/s3/buckets/{bucket}/objects`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectSummary {
    pub key: String,
    pub size_bytes: u64,
    pub last_modified: DateTime<Utc>,
    pub etag: String,
}

/// A page of a bucket's objects, grouped into folders by the delimiter as S3's ListObjectsV2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectList {
    pub bucket: String,
    pub prefix: String,
    pub objects: Vec<ObjectSummary>,
    /// The "folders": prefixes ending in the delimiter, one level below `prefix`.
    pub common_prefixes: Vec<String>,
    /// Pass as `continuation` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_continuation: Option<String>,
}

/// `POST /v1/s3/buckets/{bucket}/presign`: a URL anyone can use until it expires, signed with one
/// of the caller's own access keys (so it carries exactly the caller's rights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresignRequest {
    pub key: String,
    /// `GET` (download) or `PUT` (upload).
    #[serde(default = "presign_get")]
    pub method: String,
    /// 1 s to 7 days (604,800 s), as S3 allows.
    #[serde(default = "presign_default_expiry")]
    pub expires_secs: u64,
}

fn presign_get() -> String {
    "GET".into()
}

fn presign_default_expiry() -> u64 {
    3600
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresignedUrl {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// The access key the URL is signed with: one of the caller's own, so the URL carries
    /// exactly the caller's rights, and disabling or deleting that key revokes it at once.
    pub access_key_id: String,
}

/// The longest a presigned URL may live: 7 days, as S3 allows.
pub const MAX_PRESIGN_SECS: u64 = 7 * 24 * 3600;

/// The separator of "folders" in object keys, as the AWS console shows them.
pub const FOLDER_DELIMITER: &str = "/";

/// S3's largest single PUT (5 GiB): larger objects are multipart uploads through the S3 endpoint.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// `GET /v1/s3/buckets/{bucket}/objects`: one level of a bucket, as folders and objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObjectListParams {
    /// The folder to list, ending in `/` (empty or absent: the bucket's top level).
    pub prefix: Option<String>,
    /// The `next_continuation` of the previous page.
    pub continuation: Option<String>,
    /// Entries (objects and folders) per page, 1 to 1000 (default 1000).
    pub limit: Option<u32>,
}

/// The object of `GET|PUT|DELETE /v1/s3/buckets/{bucket}/object`: its key in the query, as
/// keys hold `/` and any other character.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObjectKeyParams {
    /// The object's key, such as `photos/2026/cat.jpg` (required).
    pub key: Option<String>,
}

/// An object key as S3 takes it: 1 to 1,024 bytes.
pub fn check_object_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the object key is empty: name the object, such as photos/cat.jpg".into());
    }
    if key.len() > MAX_OBJECT_KEY {
        return Err(format!(
            "the object key is {} bytes long; S3 keys hold at most {MAX_OBJECT_KEY}",
            key.len()
        ));
    }
    Ok(())
}

/// A listing's prefix: empty (the top level) or a key prefix of at most 1,024 bytes.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.len() > MAX_OBJECT_KEY {
        return Err(format!(
            "the prefix is {} bytes long; no key is longer than {MAX_OBJECT_KEY}, so none could match",
            prefix.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bucket_names_follow_aws() {
        for ok in ["abc", "my-bucket.2026", "a1b"] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Abc",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn object_keys_and_prefixes_follow_s3() {
        assert!(check_object_key("a/b c.txt").is_ok());
        assert!(check_object_key("").unwrap_err().contains("empty"));
        assert!(check_object_key(&"k".repeat(1025)).is_err());
        assert!(check_object_key(&"k".repeat(1024)).is_ok());
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("docs/").is_ok());
        assert!(
            check_prefix(&"p".repeat(1025))
                .unwrap_err()
                .contains("prefix")
        );
    }

    #[test]
    fn website_documents_follow_aws() {
        let site = |index: &str, error: Option<&str>| BucketWebsite {
            index_document: index.to_owned(),
            error_document: error.map(str::to_owned),
        };
        assert!(site("index.html", None).check().is_ok());
        assert!(site("index.html", Some("errors/404.html")).check().is_ok());
        assert!(site("", None).check().unwrap_err().contains("empty"));
        assert!(
            site("a/index.html", None)
                .check()
                .unwrap_err()
                .contains("'/'")
        );
        assert!(
            site("index.html", Some(""))
                .check()
                .unwrap_err()
                .contains("error document")
        );
        assert!(site(&"x".repeat(1025), None).check().is_err());
    }

    #[test]
    fn bucket_policy_principals_and_evaluation() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Nuvem": "222222222222"},
             "Action": "s3:GetObject", "Resource": "nrn:nuvem:s3:::b1/shared/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
             "Resource": "nrn:nuvem:s3:::b1/*"}]});
        let p = parse_bucket_policy("b1", &doc).unwrap();
        let b = Caller::User {
            account_id: "222222222222",
            user_nrn: "nrn:nuvem:iam:222222222222:user/bob",
        };
        assert!(matches!(
            p.evaluate(b, "s3:GetObject", "nrn:nuvem:s3:::b1/shared/x"),
            Decision::Allow { .. }
        ));
        assert_eq!(
            p.evaluate(b, "s3:GetObject", "nrn:nuvem:s3:::b1/private/x"),
            Decision::ImplicitDeny
        );
        assert!(matches!(
            p.evaluate(Caller::Anonymous, "s3:DeleteObject", "nrn:nuvem:s3:::b1/k"),
            Decision::ExplicitDeny { .. }
        ));
        assert!(!p.allows_public_read());
    }

    #[test]
    fn malformed_bucket_policies_are_refused_with_a_reason() {
        let cases = [
            (
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "s3:GetObject", "Resource": "nrn:nuvem:s3:::b1/*"}]}),
                "Principal",
            ),
            (
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "nrn:nuvem:s3:::other/*"}]}),
                "outside",
            ),
            (
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "iam:ListUsers", "Resource": "nrn:nuvem:s3:::b1"}]}),
                "not an s3",
            ),
            (
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Nuvem": "alice"}, "Action": "s3:GetObject",
                "Resource": "nrn:nuvem:s3:::b1/*"}]}),
                "principal",
            ),
        ];
        for (doc, needle) in cases {
            let e = parse_bucket_policy("b1", &doc).unwrap_err();
            assert!(e.0.contains(needle), "{needle}: {e}");
        }
    }
}
