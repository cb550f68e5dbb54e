//! What the Storage pages work out: a folder's breadcrumbs and its entries' short names, sizes
//! as people read them, the key an upload gets, the presigned links' expiries, and the public
//! switch, which only adds or removes the bucket-policy statements that let anyone read.

use nuvem_api::s3::{self as api, BucketPolicy, FOLDER_DELIMITER};
use serde_json::{Value, json};

/// The `Sid` of the statement the public switch adds.
pub const PUBLIC_READ_SID: &str = "NuvemConsolePublicRead";

/// How long a presigned link lasts: the choices of its `<select>`, in seconds (15 minutes, an
/// hour, a day, 7 days: S3's longest).
pub const LINK_EXPIRIES: [u64; 4] = [15 * 60, 3600, 24 * 3600, 7 * 24 * 3600];

/// One step of a folder's path: its label and the prefix it opens (`""`: the bucket's top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crumb {
    pub label: String,
    pub prefix: String,
}

/// `docs/2026/` → the bucket, `docs`, `2026`: each a link to its folder.
pub fn breadcrumbs(bucket: &str, prefix: &str) -> Vec<Crumb> {
    let mut crumbs = vec![Crumb {
        label: bucket.to_owned(),
        prefix: String::new(),
    }];
    let mut so_far = String::new();
    for part in prefix.split(FOLDER_DELIMITER).filter(|p| !p.is_empty()) {
        so_far.push_str(part);
        so_far.push_str(FOLDER_DELIMITER);
        crumbs.push(Crumb {
            label: part.to_owned(),
            prefix: so_far.clone(),
        });
    }
    crumbs
}

/// The name shown for an entry of folder `prefix`: its key (or sub-folder) without the prefix.
pub fn short_name<'a>(prefix: &str, key: &'a str) -> &'a str {
    key.strip_prefix(prefix).unwrap_or(key)
}

/// The key a file uploaded into folder `prefix` gets.
pub fn upload_key(prefix: &str, file_name: &str) -> String {
    format!("{prefix}{file_name}")
}

/// The prefix of a new folder named `name` inside `prefix` (slashes around the name dropped);
/// `None` when the name is empty.
pub fn folder_prefix(prefix: &str, name: &str) -> Option<String> {
    let name = name.trim().trim_matches('/');
    (!name.is_empty()).then(|| format!("{prefix}{name}{FOLDER_DELIMITER}"))
}

/// `1536` → `1.5 KiB`: bytes in powers of 1,024, one decimal from KiB on.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// An upload's progress in whole percent (100 only once every byte is sent).
pub fn percent(sent: f64, total: f64) -> u32 {
    if total <= 0.0 {
        return 100;
    }
    ((sent / total) * 100.0).floor().clamp(0.0, 100.0) as u32
}

/// The policy editor's text checked as the server checks it (`nuvem_api::s3`): not JSON, or
/// not a valid policy of this bucket, says why.
pub fn check_policy(bucket: &str, text: &str) -> Result<BucketPolicy, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("JSON: {e}"))?;
    api::parse_bucket_policy(bucket, &value).map_err(|e| e.to_string())
}

/// The statement that lets anyone read the bucket's objects.
fn public_read_statement(bucket: &str) -> Value {
    json!({
        "Sid": PUBLIC_READ_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": api::object_nrn(bucket, "*"),
    })
}

/// The statements of a stored policy, whether `Statement` is one object or a list.
fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The bucket's policy with public read added: its own statements stay as they are.
pub fn with_public_read(bucket: &str, policy: Option<&Value>) -> Value {
    let mut kept: Vec<Value> = policy.map(statements).unwrap_or_default();
    kept.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(PUBLIC_READ_SID));
    kept.push(public_read_statement(bucket));
    let mut out = json!({"Version": nuvem_api::policy::POLICY_VERSION, "Statement": kept});
    if let Some(id) = policy.and_then(|p| p.get("Id")) {
        out["Id"] = id.clone();
    }
    out
}

/// The bucket's policy without the statements that let anyone read (each judged by the
/// server's own rule); `None`: no statement is left, so the policy goes.
pub fn without_public_read(bucket: &str, policy: &Value) -> Option<Value> {
    let opens = |statement: &Value| {
        let alone = json!({"Version": nuvem_api::policy::POLICY_VERSION, "Statement": [statement]});
        api::parse_bucket_policy(bucket, &alone).is_ok_and(|p| p.allows_public_read())
    };
    let kept: Vec<Value> = statements(policy)
        .into_iter()
        .filter(|s| !opens(s))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut out = policy.clone();
    out["Statement"] = Value::Array(kept);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breadcrumbs_lead_back_up_the_folders() {
        let crumbs = breadcrumbs("photos", "2026/june/");
        let shown: Vec<(&str, &str)> = crumbs
            .iter()
            .map(|c| (c.label.as_str(), c.prefix.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![("photos", ""), ("2026", "2026/"), ("june", "2026/june/")]
        );
        assert_eq!(breadcrumbs("b", "").len(), 1);
    }

    #[test]
    fn entries_folders_and_uploads_are_named_inside_their_folder() {
        assert_eq!(short_name("docs/", "docs/a.txt"), "a.txt");
        assert_eq!(short_name("docs/", "docs/deeper/"), "deeper/");
        assert_eq!(short_name("", "top.txt"), "top.txt");
        assert_eq!(upload_key("docs/", "a b.txt"), "docs/a b.txt");
        assert_eq!(
            folder_prefix("docs/", " /new/ ").as_deref(),
            Some("docs/new/")
        );
        assert_eq!(folder_prefix("", "  "), None);
    }

    #[test]
    fn sizes_and_progress_as_people_read_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(percent(0.0, 10.0), 0);
        assert_eq!(percent(9.99, 10.0), 99);
        assert_eq!(percent(10.0, 10.0), 100);
        assert_eq!(percent(0.0, 0.0), 100);
        assert!(LINK_EXPIRIES.iter().all(|s| *s <= api::MAX_PRESIGN_SECS));
    }

    #[test]
    fn the_public_switch_adds_and_removes_only_public_reads() {
        let public = with_public_read("site", None);
        let parsed = check_policy("site", &public.to_string()).unwrap();
        assert!(parsed.allows_public_read());
        // A policy of the bucket's own keeps its statements either way.
        let own = json!({"Version": "2012-10-17", "Id": "mine", "Statement": {"Sid": "B",
            "Effect": "Allow", "Principal": {"Nuvem": "222222222222"}, "Action": "s3:ListBucket",
            "Resource": "nrn:nuvem:s3:::site"}});
        let opened = with_public_read("site", Some(&own));
        assert_eq!(opened["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(opened["Id"], "mine");
        assert_eq!(
            with_public_read("site", Some(&opened))["Statement"],
            opened["Statement"]
        );
        let closed = without_public_read("site", &opened).unwrap();
        assert_eq!(closed["Statement"].as_array().unwrap().len(), 1);
        assert!(
            !check_policy("site", &closed.to_string())
                .unwrap()
                .allows_public_read()
        );
        // A statement written by hand that lets anyone read is removed too; nothing left: none.
        let by_hand = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": "*", "Action": ["s3:GetObject"], "Resource": "nrn:nuvem:s3:::site/*"}]});
        assert_eq!(without_public_read("site", &by_hand), None);
    }

    #[test]
    fn the_editor_says_why_a_policy_is_refused() {
        assert!(
            check_policy("b", "{not json")
                .unwrap_err()
                .starts_with("JSON")
        );
        let no_principal = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "nrn:nuvem:s3:::b/*"}]}"#;
        assert!(
            check_policy("b", no_principal)
                .unwrap_err()
                .contains("Principal")
        );
    }
}
