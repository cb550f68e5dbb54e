//! The hint after an operator-only command was refused: which profile of the config file to run
//! it with, found by asking the server who each profile at the same endpoint is.

use nuvem_sdk::config::{ConfigFile, DEFAULT_PROFILE};
use nuvem_sdk::{Client, Credentials};

use crate::session::ConnectionArgs;

/// What to do after an operator-only command was refused: which profile of the config file
/// to run `command` with, found by asking the server who each profile at the same endpoint is.
/// `None` when the profile used is the operator's already (the refusal has another cause).
pub async fn operator_hint(conn: &ConnectionArgs, command: &str) -> Option<String> {
    let endpoint = conn.client().ok()?.endpoint().to_owned();
    let current = conn.profile_name();
    let operators = operator_profiles(&endpoint).await;
    if operators.contains(&current) {
        return None;
    }
    let env_keys = ["NUVEM_ACCESS_KEY_ID", "NUVEM_SESSION_TOKEN"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    let unset = if env_keys {
        " (and unset NUVEM_ACCESS_KEY_ID, NUVEM_SECRET_ACCESS_KEY and NUVEM_SESSION_TOKEN, which come before any profile)"
    } else {
        ""
    };
    let operator = nuvem_api::iam::OPERATOR_ACCOUNT;
    let preferred = ["admin", DEFAULT_PROFILE]
        .into_iter()
        .find(|p| operators.iter().any(|o| o == p))
        .map(str::to_owned)
        .or_else(|| operators.first().cloned());
    Some(match preferred {
        Some(profile) => format!(
            "`{command}` is for the operator: run it with --profile {profile} (signed in to the operator account '{operator}'){unset}"
        ),
        None => format!(
            "`{command}` is for the operator, and no profile of {} is signed in to the operator account '{operator}' at {endpoint}: \
             sign in with `cloudctl --profile admin --endpoint {endpoint} login --account {operator}`, then run it with --profile admin{unset}",
            nuvem_sdk::config::config_path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the config file".into())
        ),
    })
}

/// The profiles with working credentials for the operator account at `endpoint`.
async fn operator_profiles(endpoint: &str) -> Vec<String> {
    let Ok(file) = ConfigFile::load() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (name, profile) in &file.profiles {
        let at = profile
            .endpoint
            .as_deref()
            .unwrap_or(nuvem_sdk::DEFAULT_ENDPOINT)
            .trim_end_matches('/');
        if at != endpoint {
            continue;
        }
        // The SDK's order: a profile's access key before its session.
        let credentials = match (
            &profile.access_key_id,
            &profile.secret_access_key,
            &profile.session_token,
        ) {
            (Some(id), Some(secret), _) => Credentials::access_key(id, secret),
            (_, _, Some(token)) => Credentials::session(token),
            _ => continue,
        };
        let Ok(client) = Client::builder()
            .endpoint(endpoint)
            .credentials(credentials)
            .build()
        else {
            continue;
        };
        let asked = tokio::time::timeout(std::time::Duration::from_secs(3), client.whoami()).await;
        if let Ok(Ok(me)) = asked
            && me.is_operator
        {
            found.push(name.clone());
        }
    }
    found
}
