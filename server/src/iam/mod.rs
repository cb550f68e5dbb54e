//! IAM: accounts, users, groups, policies, access keys, sessions, and [`Iam::authorize`], the one
//! function every service calls before it acts.
//!
//! Every operation takes the calling [`Principal`] and works only inside the caller's account:
//! names are looked up with the caller's account id, so another account's resources are simply not
//! found. Operator-only operations (accounts) are refused to every other account.
//!
//! One file per job, each with its own `impl Iam` block: `accounts` (the operator's bootstrap and
//! the accounts), `users`, `groups`, `policies` (documents and their attachments), `access_keys`,
//! `sessions` (sign-in, tokens, sign-out, password change), `authorize` (who the caller is, and
//! the check every action goes through) and `quotas`.

pub mod crypto;
pub mod hashing;
pub mod quotas;
pub mod throttle;

mod access_keys;
mod accounts;
mod authorize;
mod groups;
mod policies;
mod sessions;
mod users;

use std::sync::Arc;

use nuvem_api::{ListParams, validate};

use crate::error::{Error, Result};
use crate::store::Store;
use crypto::Keys;
use hashing::PasswordHasher;
use throttle::SignInThrottle;

pub use access_keys::SigningKey;
pub use accounts::Bootstrap;
pub use authorize::Principal;
pub use sessions::{SessionPolicy, SessionRef};

#[derive(Clone)]
pub struct Iam {
    store: Store,
    keys: Arc<Keys>,
    sessions: SessionPolicy,
    hasher: Arc<PasswordHasher>,
    throttle: Arc<SignInThrottle>,
    quotas: quotas::QuotaDefaults,
    caches: Arc<Caches>,
}

/// What the S3 path reads on every request, cached under the store's IAM generation.
#[derive(Default)]
struct Caches {
    keys: crate::cache::Cached<Arc<access_keys::KeyEntry>>,
    /// A user's effective policies (its own and its groups'), parsed.
    policies: crate::cache::Cached<Arc<Vec<(String, nuvem_api::policy::PolicyDocument)>>>,
}

fn page_limit(params: &ListParams) -> Result<u64> {
    match params.limit {
        None => Ok(nuvem_api::DEFAULT_PAGE_SIZE as u64),
        Some(n) if (1..=nuvem_api::MAX_PAGE_SIZE).contains(&n) => Ok(n as u64),
        Some(n) => Err(Error::invalid(format!(
            "limit must be between 1 and {}, not {n}",
            nuvem_api::MAX_PAGE_SIZE
        ))),
    }
}

fn check(rule: std::result::Result<(), String>) -> Result<()> {
    rule.map_err(Error::InvalidRequest)
}

/// Validates a path name before it is used in a lookup: a bad name is a 400, not a 404.
fn check_name(kind: &str, name: &str, max: usize) -> Result<()> {
    check(validate::iam_name(kind, name, max))
}

impl Iam {
    pub fn new(
        store: Store,
        keys: Arc<Keys>,
        sessions: SessionPolicy,
        quotas: quotas::QuotaDefaults,
    ) -> Self {
        Iam {
            store,
            keys,
            hasher: Arc::new(PasswordHasher::new(
                sessions.hashing_threads,
                sessions.hashing_queue,
            )),
            throttle: Arc::new(SignInThrottle::new(sessions.throttle)),
            sessions,
            quotas,
            caches: Default::default(),
        }
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        self.hasher.hash(password).await
    }

    async fn verify_password(&self, hash: &str, password: &str) -> Result<bool> {
        self.hasher.verify(hash, password).await
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }
}
