//! IAM policy documents: parsing with messages a student can act on, wildcard matching, and the
//! evaluation logic AWS documents (default deny; an explicit Deny beats any Allow).
//!
//! The grammar is AWS's, restricted to what Nuvem evaluates:
//! ```json
//! {"Version": "2012-10-17",
//!  "Statement": [{"Sid": "ReadUsers", "Effect": "Allow",
//!                 "Action": ["iam:Get*", "iam:List*"],
//!                 "Resource": "nrn:nuvem:iam:123456789012:user/*"}]}
//! ```
//! `Condition`, `NotAction`, `NotResource` and `Principal` are refused with a clear message rather
//! than silently ignored, because ignoring them would grant more than the author meant.

use serde_json::Value;

use crate::validate::MAX_POLICY_DOCUMENT;

pub const POLICY_VERSION: &str = "2012-10-17";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Action patterns such as `iam:*`, `iam:Get*`, `*`.
    pub actions: Vec<String>,
    /// Resource patterns: `*` or NRNs with wildcards.
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

/// Why a policy document was refused; the text says where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn err<T>(msg: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(msg.into()))
}

/// Services whose action names Nuvem knows; for these, an action pattern that matches no action is
/// refused (a typo like `iam:CreateUsr` would otherwise allow nothing, silently).
pub fn known_actions(service: &str) -> Option<&'static [&'static str]> {
    match service {
        "iam" => Some(crate::iam::ACTIONS),
        "vpc" => Some(crate::vpc::ACTIONS),
        "ec2" => Some(crate::ec2::ACTIONS),
        "ops" => Some(crate::ops::ACTIONS),
        "billing" => Some(crate::billing::ACTIONS),
        "s3" => Some(crate::s3::ACTIONS),
        "apps" => Some(crate::apps::APP_ACTIONS),
        "elb" => Some(crate::apps::ELB_ACTIONS),
        _ => None,
    }
}

/// Parses and validates a policy document given as JSON.
pub fn parse(doc: &Value) -> Result<PolicyDocument, PolicyError> {
    let Value::Object(map) = doc else {
        return err("the policy document must be a JSON object with \"Version\" and \"Statement\"");
    };
    let size = doc.to_string().len();
    if size > MAX_POLICY_DOCUMENT {
        return err(format!(
            "the policy document is {size} bytes; the limit is {MAX_POLICY_DOCUMENT}"
        ));
    }
    for key in map.keys() {
        if !matches!(key.as_str(), "Version" | "Statement" | "Id") {
            return err(format!(
                "unknown top-level key \"{key}\"; a policy has \"Version\", \"Statement\" and optionally \"Id\""
            ));
        }
    }
    match map.get("Version") {
        Some(Value::String(v)) if v == POLICY_VERSION => {}
        Some(other) => {
            return err(format!(
                "\"Version\" must be \"{POLICY_VERSION}\", not {other}"
            ));
        }
        None => return err(format!("\"Version\" is missing; use \"{POLICY_VERSION}\"")),
    }
    let statements = match map.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
        Some(Value::Array(_)) => return err("\"Statement\" must not be empty"),
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(_) => return err("\"Statement\" must be an object or a list of objects"),
        None => return err("\"Statement\" is missing"),
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_statement(i, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument { statements })
}

/// Parses statement `index` (0-based) of an identity policy. Bucket policies call it after they
/// take `Principal` out (`crate::s3::parse_bucket_policy`).
pub fn parse_statement(index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let at = format!("Statement {}", index + 1);
    let Value::Object(map) = value else {
        return err(format!("{at} must be a JSON object"));
    };
    for key in map.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Action" | "Resource" => {}
            "Condition" | "NotAction" | "NotResource" | "Principal" | "NotPrincipal" => {
                return err(format!(
                    "{at}: \"{key}\" is not supported by Nuvem yet; remove it (it would otherwise be ignored and grant more than you meant)"
                ));
            }
            other => return err(format!("{at}: unknown key \"{other}\"")),
        }
    }
    let sid = match map.get("Sid") {
        None => None,
        Some(Value::String(s)) if s.chars().all(|c| c.is_ascii_alphanumeric()) => Some(s.clone()),
        Some(_) => {
            return err(format!(
                "{at}: \"Sid\" must be a string of letters and digits"
            ));
        }
    };
    let effect = match map.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return err(format!(
                "{at}: \"Effect\" must be \"Allow\" or \"Deny\", not {other}"
            ));
        }
        None => {
            return err(format!(
                "{at}: \"Effect\" is missing (\"Allow\" or \"Deny\")"
            ));
        }
    };
    let actions = string_list(&at, "Action", map.get("Action"))?;
    for action in &actions {
        check_action(&at, action)?;
    }
    let resources = string_list(&at, "Resource", map.get("Resource"))?;
    for resource in &resources {
        check_resource(&at, resource)?;
    }
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
    })
}

fn string_list(at: &str, key: &str, value: Option<&Value>) -> Result<Vec<String>, PolicyError> {
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => err(format!(
                    "{at}: every \"{key}\" entry must be a string, not {other}"
                )),
            })
            .collect(),
        Some(Value::Array(_)) => err(format!("{at}: \"{key}\" must not be empty")),
        Some(other) => err(format!(
            "{at}: \"{key}\" must be a string or a list of strings, not {other}"
        )),
        None => err(format!("{at}: \"{key}\" is missing")),
    }
}

fn check_length(at: &str, what: &str, pattern: &str) -> Result<(), PolicyError> {
    let n = pattern.chars().count();
    if n > MAX_PATTERN {
        return err(format!(
            "{at}: a {what} pattern is {n} characters long; the limit is {MAX_PATTERN}"
        ));
    }
    Ok(())
}

fn check_action(at: &str, action: &str) -> Result<(), PolicyError> {
    check_length(at, "action", action)?;
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return err(format!(
            "{at}: action \"{action}\" must look like \"service:Action\", e.g. \"iam:ListUsers\" or \"iam:*\""
        ));
    };
    let service_ok = !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '*' || c == '?');
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?');
    if !service_ok || !name_ok {
        return err(format!(
            "{at}: action \"{action}\" has invalid characters; use letters, digits and the wildcards * and ?"
        ));
    }
    if let Some(known) = known_actions(service)
        && !known.iter().any(|a| action_matches(action, a))
    {
        return err(format!(
            "{at}: action \"{action}\" matches no {service} action"
        ));
    }
    Ok(())
}

fn check_resource(at: &str, resource: &str) -> Result<(), PolicyError> {
    check_length(at, "resource", resource)?;
    if resource == "*" || crate::nrn::parse(resource).is_some() {
        return Ok(());
    }
    err(format!(
        "{at}: resource \"{resource}\" must be \"*\" or an NRN such as \"nrn:nuvem:iam:123456789012:user/alice\" (wildcards allowed)"
    ))
}

/// Longest action or resource pattern a statement may hold (AWS caps ARNs at 2048; a pattern
/// needs less). Bounding both sides keeps every match cheap, whatever the pattern.
pub const MAX_PATTERN: usize = 1024;
/// Longest resource name (NRN) that is ever matched against a pattern; longer requests are
/// refused before authorization.
pub const MAX_RESOURCE: usize = 2048;

/// Wildcard match: `*` matches any run of characters (also empty), `?` exactly one.
///
/// The pattern is cut at its stars into literal segments: the first must start the text, the last
/// must end it, and each one between is taken at its leftmost place after the previous one.
/// Leftmost is always right for `*`-separated segments, so nothing is ever retried: the cost is one
/// scan of the text per segment at worst, never the exponential or quadratic blow-up of naive
/// backtracking. Inputs over [`MAX_PATTERN`] or [`MAX_RESOURCE`] never match.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    if pattern.len() > MAX_PATTERN * 4 || text.len() > MAX_RESOURCE * 4 {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    if p.len() > MAX_PATTERN || t.len() > MAX_RESOURCE {
        return false;
    }
    let segment_at = |seg: &[char], at: usize| {
        seg.iter()
            .zip(&t[at..at + seg.len()])
            .all(|(a, b)| *a == '?' || a == b)
    };
    let segments: Vec<&[char]> = p.split(|c| *c == '*').collect();
    if segments.len() == 1 {
        return p.len() == t.len() && segment_at(&p, 0);
    }
    let (first, last) = (segments[0], segments[segments.len() - 1]);
    if first.len() + last.len() > t.len()
        || !segment_at(first, 0)
        || !segment_at(last, t.len() - last.len())
    {
        return false;
    }
    let (mut at, end) = (first.len(), t.len() - last.len());
    for seg in &segments[1..segments.len() - 1] {
        if seg.is_empty() {
            continue;
        }
        let Some(found) = (at..=end.saturating_sub(seg.len()))
            .take_while(|i| i + seg.len() <= end)
            .find(|&i| segment_at(seg, i))
        else {
            return false;
        };
        at = found + seg.len();
    }
    true
}

/// Actions compare case-insensitively, as in AWS.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// Resources compare case-sensitively.
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    wildcard_match(pattern, resource)
}

/// The outcome of evaluating policies for one request, naming what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An Allow statement matched (and no Deny did).
    Allow { policy: String, sid: Option<String> },
    /// A Deny statement matched: it wins over every Allow.
    ExplicitDeny { policy: String, sid: Option<String> },
    /// Nothing matched: denied by default.
    ImplicitDeny,
}

/// Evaluates named policies for `action` on `resource` the way AWS documents it.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = (&'a str, &'a PolicyDocument)>,
    action: &str,
    resource: &str,
) -> Decision {
    let mut allow = None;
    for (name, doc) in policies {
        for st in &doc.statements {
            let hit = st.actions.iter().any(|a| action_matches(a, action))
                && st.resources.iter().any(|r| resource_matches(r, resource));
            if !hit {
                continue;
            }
            match st.effect {
                Effect::Deny => {
                    return Decision::ExplicitDeny {
                        policy: name.to_string(),
                        sid: st.sid.clone(),
                    };
                }
                Effect::Allow if allow.is_none() => {
                    allow = Some(Decision::Allow {
                        policy: name.to_string(),
                        sid: st.sid.clone(),
                    });
                }
                Effect::Allow => {}
            }
        }
    }
    allow.unwrap_or(Decision::ImplicitDeny)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("iam:Get*", "iam:GetUser"));
        assert!(!wildcard_match("iam:Get*", "iam:ListUsers"));
        assert!(wildcard_match("user/a?ice", "user/alice"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(action_matches("IAM:list*", "iam:ListUsers"));
        assert!(!resource_matches(
            "nrn:nuvem:iam:1:User/*",
            "nrn:nuvem:iam:1:user/a"
        ));
        assert!(wildcard_match("a*", "a"));
        assert!(wildcard_match("*a", "a"));
        assert!(
            !wildcard_match("a*a", "a"),
            "prefix and suffix may not share a character"
        );
        assert!(wildcard_match("a*a", "aa"));
        assert!(wildcard_match("*?*", "x"));
        assert!(!wildcard_match("*??*", "x"));
        assert!(wildcard_match("**", ""));
        assert!(wildcard_match("a*b?d*e", "aXXbcdYYe"));
        assert!(!wildcard_match("a*b?d*e", "aXXbcdYY"));
        assert!(wildcard_match("*ab*ab*", "xxabyyab"));
        assert!(wildcard_match("user/ação*", "user/ação-1"));
        assert!(!wildcard_match("x", &"x".repeat(MAX_RESOURCE + 1)));
    }

    /// The same answers as a plain recursive matcher on every short pattern and text over a
    /// small alphabet: the segment algorithm is an optimisation, never a change of meaning.
    #[test]
    fn agrees_with_the_definition() {
        fn reference(p: &[char], t: &[char]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
                Some((c, rest)) => {
                    !t.is_empty() && (*c == '?' || *c == t[0]) && reference(rest, &t[1..])
                }
            }
        }
        fn all(alphabet: &[char], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut frontier = vec![String::new()];
            for _ in 0..max {
                let mut next = Vec::new();
                for s in &frontier {
                    for c in alphabet {
                        next.push(format!("{s}{c}"));
                    }
                }
                out.extend(next.iter().cloned());
                frontier = next;
            }
            out
        }
        let patterns = all(&['a', 'b', '*', '?'], 4);
        let texts = all(&['a', 'b'], 5);
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            for t in &texts {
                let tc: Vec<char> = t.chars().collect();
                assert_eq!(wildcard_match(p, t), reference(&pc, &tc), "{p:?} ~ {t:?}");
            }
        }
    }

    /// The crafted case that used to take seconds: many stars and a text that almost matches.
    #[test]
    fn worst_case_is_bounded() {
        let pattern = format!("{}b", "*a".repeat(MAX_PATTERN / 2 - 1));
        let text = "a".repeat(MAX_RESOURCE);
        let started = std::time::Instant::now();
        for _ in 0..20 {
            assert!(!wildcard_match(&pattern, &text));
        }
        let long_segment = format!("*{}b*", "a".repeat(MAX_PATTERN - 3));
        for _ in 0..20 {
            assert!(!wildcard_match(&long_segment, &text));
        }
        let elapsed = started.elapsed();
        // About 2 ms per match in a debug build; the old matcher took seconds on this input.
        assert!(
            elapsed.as_secs_f64() < 2.0,
            "40 worst-case matches took {elapsed:?}"
        );
    }

    #[test]
    fn parse_errors_are_specific() {
        let e = |v| parse(&v).unwrap_err().0;
        assert!(e(json!([])).contains("JSON object"));
        assert!(e(json!({"Statement": []})).contains("Version"));
        assert!(e(json!({"Version": "2012-10-17"})).contains("Statement"));
        assert!(
            e(json!({"Version": "2012-10-17", "Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}))
                .contains("\"Allow\" or \"Deny\"")
        );
        assert!(
            e(json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:CreateUsr", "Resource": "*"}}))
                .contains("matches no iam action")
        );
        assert!(
            e(json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "user/x"}}))
                .contains("NRN")
        );
        assert!(
            e(json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}}))
                .contains("not supported")
        );
    }

    #[test]
    fn explicit_deny_wins_and_default_denies() {
        let allow = parse(&json!({"Version": "2012-10-17", "Statement":
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}}))
        .unwrap();
        let deny = parse(&json!({"Version": "2012-10-17", "Statement":
            {"Sid": "NoDelete", "Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"}}))
        .unwrap();
        let r = "nrn:nuvem:iam:1:user/a";
        assert!(matches!(
            evaluate([("a", &allow)], "iam:DeleteUser", r),
            Decision::Allow { .. }
        ));
        assert_eq!(
            evaluate([("a", &allow), ("d", &deny)], "iam:DeleteUser", r),
            Decision::ExplicitDeny {
                policy: "d".into(),
                sid: Some("NoDelete".into())
            }
        );
        assert!(matches!(
            evaluate([("a", &allow), ("d", &deny)], "iam:GetUser", r),
            Decision::Allow { .. }
        ));
        assert_eq!(
            evaluate([("d", &deny)], "iam:GetUser", r),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(std::iter::empty(), "iam:GetUser", r),
            Decision::ImplicitDeny
        );
    }
}
