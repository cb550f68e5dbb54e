//! The Nuvem SDK: a typed async client for the Nuvem API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nuvem_sdk::Error> {
//! use nuvem_sdk::{Client, Credentials};
//!
//! // Explicit endpoint and access key ...
//! let client = Client::builder()
//!     .endpoint("http://127.0.0.1:8080")
//!     .credentials(Credentials::access_key("NKIA...", "secret"))
//!     .build()?;
//! // ... or the default chain: NUVEM_ENDPOINT / NUVEM_ACCESS_KEY_ID / NUVEM_SECRET_ACCESS_KEY,
//! // then the profile (NUVEM_PROFILE or "default") in ~/.nuvem/config.toml.
//! let client = Client::from_env()?;
//! for user in client.list_users_all().await? {
//!     println!("{}", user.name);
//! }
//! # Ok(()) }
//! ```
//!
//! Access keys are exchanged for a short-lived session token (`POST /v1/auth/session`, as AWS STS)
//! on first use; the token is renewed before it expires. Every error carries the API's stable
//! [`ErrorCode`].

pub mod config;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

pub use nuvem_api as api;
pub use nuvem_api::ErrorCode;
use nuvem_api::iam::*;
use nuvem_api::{ErrorBody, ListParams};
use nuvem_api::{ec2, vpc};

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8080";

/// Everything that can go wrong in a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused the request; `code` is stable, `message` is for people.
    #[error("{message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        request_id: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach Nuvem at {endpoint}: {reason}")]
    Transport { endpoint: String, reason: String },
    /// Bad client configuration (endpoint, profile, credentials).
    #[error("{0}")]
    Config(String),
    /// The server answered something this client cannot read.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl Error {
    /// The API error code, if the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How the client proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials: only sign-in and health calls work.
    Anonymous,
    /// An access key, exchanged for session tokens as needed.
    AccessKey {
        access_key_id: String,
        secret_access_key: String,
    },
    /// A session token from a sign-in (`cloudctl login`).
    Session { token: String },
}

impl std::fmt::Debug for Credentials {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::AccessKey { access_key_id, .. } => {
                write!(f, "AccessKey({access_key_id}, secret: ***)")
            }
            Credentials::Session { .. } => f.write_str("Session(***)"),
        }
    }
}

impl Credentials {
    pub fn access_key(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials::AccessKey {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
        }
    }

    pub fn session(token: impl Into<String>) -> Self {
        Credentials::Session {
            token: token.into(),
        }
    }
}

/// Builds a [`Client`]; unset parts come from the environment and the profile.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    profile: Option<String>,
}

impl ClientBuilder {
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The profile of `~/.nuvem/config.toml` to read (default: `$NUVEM_PROFILE` or `default`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Resolves endpoint and credentials: explicit values, then `NUVEM_ENDPOINT`,
    /// `NUVEM_ACCESS_KEY_ID` + `NUVEM_SECRET_ACCESS_KEY`, `NUVEM_SESSION_TOKEN`, then the profile.
    pub fn build(self) -> Result<Client> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let profile_name = self
            .profile
            .clone()
            .or_else(|| env("NUVEM_PROFILE"))
            .unwrap_or_else(|| config::DEFAULT_PROFILE.to_owned());
        let explicit_profile = self.profile.is_some() || env("NUVEM_PROFILE").is_some();
        let file = config::ConfigFile::load()?;
        let profile = file.profile(&profile_name).cloned();
        if explicit_profile && profile.is_none() && self.credentials.is_none() {
            return Err(Error::Config(format!(
                "profile '{profile_name}' is not in {}; create it with `cloudctl configure --profile {profile_name}`",
                config::config_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )));
        }
        let profile = profile.unwrap_or_default();
        let endpoint = self
            .endpoint
            .or_else(|| env("NUVEM_ENDPOINT"))
            .or(profile.endpoint.clone())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let base = reqwest::Url::parse(&endpoint)
            .map_err(|e| Error::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "endpoint {endpoint:?} must be http:// or https://"
            )));
        }
        let credentials = self
            .credentials
            .or_else(
                || match (env("NUVEM_ACCESS_KEY_ID"), env("NUVEM_SECRET_ACCESS_KEY")) {
                    (Some(id), Some(secret)) => Some(Credentials::access_key(id, secret)),
                    _ => None,
                },
            )
            .or_else(|| env("NUVEM_SESSION_TOKEN").map(Credentials::session))
            .or_else(
                || match (&profile.access_key_id, &profile.secret_access_key) {
                    (Some(id), Some(secret)) => Some(Credentials::access_key(id, secret)),
                    _ => None,
                },
            )
            .or_else(|| profile.session_token.clone().map(Credentials::session))
            .unwrap_or(Credentials::Anonymous);
        let http = reqwest::Client::builder()
            .user_agent(concat!("nuvem-sdk/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                endpoint,
                credentials,
                session: Mutex::new(None),
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: reqwest::Url,
    endpoint: String,
    credentials: Credentials,
    /// The session obtained from an access key, reused until shortly before it expires.
    session: Mutex<Option<(String, DateTime<Utc>)>>,
}

/// A Nuvem API client. Cheap to clone; clones share one connection pool and session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("credentials", &self.inner.credentials)
            .finish()
    }
}

/// Renew an access-key session this long before it expires.
const RENEW_BEFORE: i64 = 60;

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured only from the environment and the default profile.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn bearer(&self, force_renew: bool) -> Result<Option<String>> {
        match &self.inner.credentials {
            Credentials::Anonymous => Ok(None),
            Credentials::Session { token } => Ok(Some(token.clone())),
            Credentials::AccessKey {
                access_key_id,
                secret_access_key,
            } => {
                let mut cached = self.inner.session.lock().await;
                if let Some((token, expires)) = cached.as_ref()
                    && !force_renew
                    && *expires - Duration::seconds(RENEW_BEFORE) > Utc::now()
                {
                    return Ok(Some(token.clone()));
                }
                let session: Session = self
                    .send(
                        Method::POST,
                        &["v1", "auth", "session"],
                        None::<&()>,
                        Some(&SessionRequest {
                            access_key_id: access_key_id.clone(),
                            secret_access_key: secret_access_key.clone(),
                            duration_seconds: None,
                        }),
                        None,
                    )
                    .await?;
                *cached = Some((session.token.clone(), session.expires_at));
                Ok(Some(session.token))
            }
        }
    }

    async fn send<Q: Serialize + ?Sized, B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&Q>,
        body: Option<&B>,
        token: Option<&str>,
    ) -> Result<T> {
        let mut req = self.inner.http.request(method, self.url(segments));
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| Error::Transport {
            endpoint: self.inner.endpoint.clone(),
            reason: error_chain(&e),
        })?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| Error::Transport {
            endpoint: self.inner.endpoint.clone(),
            reason: error_chain(&e),
        })?;
        if status.is_success() {
            let text = if bytes.is_empty() {
                &b"null"[..]
            } else {
                &bytes[..]
            };
            return serde_json::from_slice(text).map_err(|e| Error::Decode(e.to_string()));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Error::Api {
                status: status.as_u16(),
                code: body.code,
                message: body.message,
                request_id: body.request_id,
            },
            Err(_) => Error::Decode(format!(
                "HTTP {status} with a body that is not a Nuvem error: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
        })
    }

    /// An authenticated call; an access-key session rejected as expired is renewed once.
    async fn call<Q: Serialize + ?Sized, B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<T> {
        let token = self.bearer(false).await?;
        let result = self
            .send(method.clone(), segments, query, body, token.as_deref())
            .await;
        match (&result, &self.inner.credentials) {
            (Err(Error::Api { status, .. }), Credentials::AccessKey { .. })
                if *status == StatusCode::UNAUTHORIZED.as_u16() =>
            {
                let token = self.bearer(true).await?;
                self.send(method, segments, query, body, token.as_deref())
                    .await
            }
            _ => result,
        }
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        self.call(Method::GET, segments, None::<&()>, None::<&()>)
            .await
    }

    async fn list<T: DeserializeOwned>(&self, segments: &[&str], params: &ListParams) -> Result<T> {
        self.call(Method::GET, segments, Some(params), None::<&()>)
            .await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<T> {
        self.call(Method::POST, segments, None::<&()>, Some(body))
            .await
    }

    async fn put<B: Serialize + ?Sized>(&self, segments: &[&str], body: Option<&B>) -> Result<()> {
        self.call::<(), B, serde_json::Value>(Method::PUT, segments, None, body)
            .await
            .map(drop)
    }

    async fn delete(&self, segments: &[&str]) -> Result<()> {
        self.call::<(), (), serde_json::Value>(Method::DELETE, segments, None, None)
            .await
            .map(drop)
    }

    // ----------------------------------------------------------------------------------------
    // Meta and authentication

    /// `GET /healthz` (no credentials needed).
    pub async fn health(&self) -> Result<api::Health> {
        self.send(Method::GET, &["healthz"], None::<&()>, None::<&()>, None)
            .await
    }

    /// Signs in with a password and returns the session; use [`Credentials::session`] with its
    /// token to act as that user.
    pub async fn login(&self, account: &str, user: &str, password: &str) -> Result<Session> {
        let body = LoginRequest {
            account: account.into(),
            user: user.into(),
            password: password.into(),
        };
        self.send(
            Method::POST,
            &["v1", "auth", "login"],
            None::<&()>,
            Some(&body),
            None,
        )
        .await
    }

    /// Exchanges an access key for a session (usually done for you).
    pub async fn create_session(&self, request: &SessionRequest) -> Result<Session> {
        self.send(
            Method::POST,
            &["v1", "auth", "session"],
            None::<&()>,
            Some(request),
            None,
        )
        .await
    }

    pub async fn whoami(&self) -> Result<Identity> {
        self.get(&["v1", "auth", "whoami"]).await
    }

    /// Changes your own password. Every session made with the old password ends, this client's
    /// too: the answer is a new session (use its token from now on).
    pub async fn change_password(&self, old_password: &str, new_password: &str) -> Result<Session> {
        let body = ChangePasswordRequest {
            old_password: old_password.into(),
            new_password: new_password.into(),
        };
        self.post(&["v1", "auth", "password"], &body).await
    }

    /// Signs out: the server refuses this session's token from now on.
    pub async fn logout(&self) -> Result<()> {
        self.call::<(), (), serde_json::Value>(Method::POST, &["v1", "auth", "logout"], None, None)
            .await
            .map(drop)
    }

    /// Every reconciler's last outcome (operator only).
    pub async fn list_reconcilers(&self) -> Result<api::ops::ReconcilerList> {
        self.get(&["v1", "reconcilers"]).await
    }

    /// Runs a reconciler (`vpc`, `compute`) now (operator only).
    pub async fn run_reconciler(&self, name: &str) -> Result<api::ops::ReconcilerStatus> {
        self.call(
            Method::POST,
            &["v1", "reconcilers", name, "run"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    /// Your account's quotas and what it uses.
    pub async fn quotas(&self) -> Result<QuotaList> {
        self.get(&["v1", "quotas"]).await
    }

    /// An account's quotas (operator only).
    pub async fn account_quotas(&self, account: &str) -> Result<QuotaList> {
        self.get(&["v1", "accounts", account, "quotas"]).await
    }

    /// Sets (`Some`) or resets to the default (`None`) quotas of an account (operator only).
    pub async fn set_account_quotas(
        &self,
        account: &str,
        limits: std::collections::BTreeMap<String, Option<u64>>,
    ) -> Result<QuotaList> {
        self.call(
            Method::PUT,
            &["v1", "accounts", account, "quotas"],
            None::<&()>,
            Some(&SetQuotasRequest { limits }),
        )
        .await
    }

    // ----------------------------------------------------------------------------------------
    // Accounts (operator)

    pub async fn create_account(
        &self,
        name: &str,
        root_password: Option<&str>,
    ) -> Result<AccountCreated> {
        let body = CreateAccountRequest {
            name: name.into(),
            root_password: root_password.map(Into::into),
        };
        self.post(&["v1", "accounts"], &body).await
    }

    pub async fn list_accounts(&self, params: &ListParams) -> Result<AccountList> {
        self.list(&["v1", "accounts"], params).await
    }

    pub async fn get_account(&self, name: &str) -> Result<Account> {
        self.get(&["v1", "accounts", name]).await
    }

    /// A session as the root user of an account (operator only). Use its token with
    /// [`Credentials::session`] to act in that account.
    pub async fn assume_account(&self, name: &str) -> Result<Session> {
        self.call(
            Method::POST,
            &["v1", "accounts", name, "assume"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn delete_account(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "accounts", name]).await
    }

    // ----------------------------------------------------------------------------------------
    // Users

    pub async fn create_user(&self, name: &str, password: Option<&str>) -> Result<User> {
        let body = CreateUserRequest {
            name: name.into(),
            password: password.map(Into::into),
        };
        self.post(&["v1", "iam", "users"], &body).await
    }

    pub async fn list_users(&self, params: &ListParams) -> Result<UserList> {
        self.list(&["v1", "iam", "users"], params).await
    }

    pub async fn get_user(&self, name: &str) -> Result<User> {
        self.get(&["v1", "iam", "users", name]).await
    }

    pub async fn delete_user(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "iam", "users", name]).await
    }

    pub async fn set_user_password(&self, name: &str, password: &str) -> Result<()> {
        let body = LoginProfileRequest {
            password: password.into(),
        };
        self.put(&["v1", "iam", "users", name, "login-profile"], Some(&body))
            .await
    }

    pub async fn delete_user_password(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "iam", "users", name, "login-profile"])
            .await
    }

    pub async fn list_groups_for_user(&self, name: &str) -> Result<GroupNames> {
        self.get(&["v1", "iam", "users", name, "groups"]).await
    }

    pub async fn list_user_policies(&self, user: &str) -> Result<AttachedPolicies> {
        self.get(&["v1", "iam", "users", user, "policies"]).await
    }

    pub async fn attach_user_policy(&self, user: &str, policy: &str) -> Result<()> {
        let body = AttachPolicyRequest {
            policy: policy.into(),
        };
        self.call::<(), _, serde_json::Value>(
            Method::POST,
            &["v1", "iam", "users", user, "policies"],
            None,
            Some(&body),
        )
        .await
        .map(drop)
    }

    pub async fn detach_user_policy(&self, user: &str, policy: &str) -> Result<()> {
        self.delete(&["v1", "iam", "users", user, "policies", policy])
            .await
    }

    // ----------------------------------------------------------------------------------------
    // Access keys

    pub async fn create_access_key(&self, user: &str) -> Result<AccessKeyCreated> {
        self.call(
            Method::POST,
            &["v1", "iam", "users", user, "access-keys"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn list_access_keys(&self, user: &str) -> Result<AccessKeyList> {
        self.get(&["v1", "iam", "users", user, "access-keys"]).await
    }

    pub async fn update_access_key(
        &self,
        user: &str,
        key: &str,
        status: AccessKeyStatus,
    ) -> Result<AccessKey> {
        let body = UpdateAccessKeyRequest { status };
        self.call(
            Method::PATCH,
            &["v1", "iam", "users", user, "access-keys", key],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn delete_access_key(&self, user: &str, key: &str) -> Result<()> {
        self.delete(&["v1", "iam", "users", user, "access-keys", key])
            .await
    }

    // ----------------------------------------------------------------------------------------
    // Groups

    pub async fn create_group(&self, name: &str) -> Result<Group> {
        self.post(
            &["v1", "iam", "groups"],
            &CreateGroupRequest { name: name.into() },
        )
        .await
    }

    pub async fn list_groups(&self, params: &ListParams) -> Result<GroupList> {
        self.list(&["v1", "iam", "groups"], params).await
    }

    pub async fn get_group(&self, name: &str) -> Result<GroupDetail> {
        self.get(&["v1", "iam", "groups", name]).await
    }

    pub async fn delete_group(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "iam", "groups", name]).await
    }

    pub async fn add_user_to_group(&self, group: &str, user: &str) -> Result<()> {
        self.put::<()>(&["v1", "iam", "groups", group, "members", user], None)
            .await
    }

    pub async fn remove_user_from_group(&self, group: &str, user: &str) -> Result<()> {
        self.delete(&["v1", "iam", "groups", group, "members", user])
            .await
    }

    pub async fn list_group_policies(&self, group: &str) -> Result<AttachedPolicies> {
        self.get(&["v1", "iam", "groups", group, "policies"]).await
    }

    pub async fn attach_group_policy(&self, group: &str, policy: &str) -> Result<()> {
        let body = AttachPolicyRequest {
            policy: policy.into(),
        };
        self.call::<(), _, serde_json::Value>(
            Method::POST,
            &["v1", "iam", "groups", group, "policies"],
            None,
            Some(&body),
        )
        .await
        .map(drop)
    }

    pub async fn detach_group_policy(&self, group: &str, policy: &str) -> Result<()> {
        self.delete(&["v1", "iam", "groups", group, "policies", policy])
            .await
    }

    // ----------------------------------------------------------------------------------------
    // Policies

    pub async fn create_policy(
        &self,
        name: &str,
        description: Option<&str>,
        document: serde_json::Value,
    ) -> Result<Policy> {
        let body = CreatePolicyRequest {
            name: name.into(),
            description: description.map(Into::into),
            document,
        };
        self.post(&["v1", "iam", "policies"], &body).await
    }

    pub async fn list_policies(&self, params: &ListParams) -> Result<PolicyList> {
        self.list(&["v1", "iam", "policies"], params).await
    }

    pub async fn get_policy(&self, name: &str) -> Result<Policy> {
        self.get(&["v1", "iam", "policies", name]).await
    }

    pub async fn update_policy(
        &self,
        name: &str,
        description: Option<&str>,
        document: serde_json::Value,
    ) -> Result<Policy> {
        let body = UpdatePolicyRequest {
            description: description.map(Into::into),
            document,
        };
        self.call(
            Method::PUT,
            &["v1", "iam", "policies", name],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn delete_policy(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "iam", "policies", name]).await
    }
}

// ---------------------------------------------------------------------------------------------
// VPC networking

impl Client {
    pub async fn create_vpc(&self, cidr: &str, name: Option<&str>) -> Result<vpc::Vpc> {
        let body = vpc::CreateVpcRequest {
            cidr: cidr.into(),
            name: name.map(Into::into),
        };
        self.post(&["v1", "vpc", "vpcs"], &body).await
    }

    /// Your VPCs; the default VPC is created on first use.
    pub async fn list_vpcs(&self) -> Result<vpc::VpcList> {
        self.get(&["v1", "vpc", "vpcs"]).await
    }

    pub async fn get_vpc(&self, id: &str) -> Result<vpc::Vpc> {
        self.get(&["v1", "vpc", "vpcs", id]).await
    }

    pub async fn delete_vpc(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "vpcs", id]).await
    }

    pub async fn set_internet_gateway(&self, vpc_id: &str, enabled: bool) -> Result<vpc::Vpc> {
        let body = vpc::InternetGatewayRequest { enabled };
        self.call(
            Method::PUT,
            &["v1", "vpc", "vpcs", vpc_id, "internet-gateway"],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: &str,
        name: Option<&str>,
    ) -> Result<vpc::Subnet> {
        let body = vpc::CreateSubnetRequest {
            vpc_id: vpc_id.into(),
            cidr: cidr.into(),
            name: name.map(Into::into),
        };
        self.post(&["v1", "vpc", "subnets"], &body).await
    }

    pub async fn list_subnets(&self, vpc_id: Option<&str>) -> Result<vpc::SubnetList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "subnets"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_subnet(&self, id: &str) -> Result<vpc::Subnet> {
        self.get(&["v1", "vpc", "subnets", id]).await
    }

    pub async fn delete_subnet(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "subnets", id]).await
    }

    pub async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<vpc::SecurityGroup> {
        let body = vpc::CreateSecurityGroupRequest {
            vpc_id: vpc_id.into(),
            name: name.into(),
            description: description.map(Into::into),
        };
        self.post(&["v1", "vpc", "security-groups"], &body).await
    }

    pub async fn list_security_groups(
        &self,
        vpc_id: Option<&str>,
    ) -> Result<vpc::SecurityGroupList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "security-groups"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_security_group(&self, id: &str) -> Result<vpc::SecurityGroup> {
        self.get(&["v1", "vpc", "security-groups", id]).await
    }

    pub async fn delete_security_group(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "security-groups", id]).await
    }

    /// Adds a rule; returns the group with all its rules.
    pub async fn authorize_rule(
        &self,
        sg_id: &str,
        rule: &vpc::AuthorizeRuleRequest,
    ) -> Result<vpc::SecurityGroup> {
        self.post(&["v1", "vpc", "security-groups", sg_id, "rules"], rule)
            .await
    }

    pub async fn revoke_rule(&self, sg_id: &str, rule_id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "security-groups", sg_id, "rules", rule_id])
            .await
    }

    pub async fn security_group_iptables(&self, sg_id: &str) -> Result<vpc::GeneratedRules> {
        self.get(&["v1", "vpc", "security-groups", sg_id, "iptables"])
            .await
    }

    pub async fn create_network_interface(
        &self,
        request: &vpc::CreateNetworkInterfaceRequest,
    ) -> Result<vpc::NetworkInterface> {
        self.post(&["v1", "vpc", "network-interfaces"], request)
            .await
    }

    pub async fn list_network_interfaces(
        &self,
        vpc_id: Option<&str>,
    ) -> Result<vpc::NetworkInterfaceList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "network-interfaces"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_network_interface(&self, id: &str) -> Result<vpc::NetworkInterface> {
        self.get(&["v1", "vpc", "network-interfaces", id]).await
    }

    pub async fn delete_network_interface(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "network-interfaces", id]).await
    }

    pub async fn set_interface_security_groups(
        &self,
        id: &str,
        security_group_ids: Vec<String>,
    ) -> Result<vpc::NetworkInterface> {
        let body = vpc::SetSecurityGroupsRequest { security_group_ids };
        self.call(
            Method::PUT,
            &["v1", "vpc", "network-interfaces", id, "security-groups"],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn create_port_forward(
        &self,
        request: &vpc::CreatePortForwardRequest,
    ) -> Result<vpc::PortForward> {
        self.post(&["v1", "vpc", "port-forwards"], request).await
    }

    pub async fn list_port_forwards(&self) -> Result<vpc::PortForwardList> {
        self.get(&["v1", "vpc", "port-forwards"]).await
    }

    pub async fn delete_port_forward(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "port-forwards", id]).await
    }

    /// Would a new connection pass? Names the rule or default that decides.
    pub async fn trace(&self, request: &vpc::TraceRequest) -> Result<vpc::TraceResult> {
        self.post(&["v1", "vpc", "trace"], request).await
    }

    /// Rebuilds the host network from the database (operator only).
    pub async fn reconcile_network(&self) -> Result<vpc::ReconcileReport> {
        self.call(
            Method::POST,
            &["v1", "vpc", "reconcile"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Compute (EC2-like)

impl Client {
    pub async fn list_images(&self) -> Result<ec2::ImageList> {
        self.get(&["v1", "ec2", "images"]).await
    }

    pub async fn get_image(&self, id: &str) -> Result<ec2::Image> {
        self.get(&["v1", "ec2", "images", id]).await
    }

    /// Registers an image from files on the host (operator only).
    pub async fn import_image(&self, request: &ec2::ImportImageRequest) -> Result<ec2::Image> {
        self.post(&["v1", "ec2", "images"], request).await
    }

    pub async fn delete_image(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "ec2", "images", id]).await
    }

    pub async fn list_instance_types(&self) -> Result<ec2::InstanceTypeList> {
        self.get(&["v1", "ec2", "instance-types"]).await
    }

    /// Adds or changes an instance type (operator only).
    pub async fn put_instance_type(
        &self,
        name: &str,
        request: &ec2::PutInstanceTypeRequest,
    ) -> Result<ec2::InstanceType> {
        self.call(
            Method::PUT,
            &["v1", "ec2", "instance-types", name],
            None::<&()>,
            Some(request),
        )
        .await
    }

    /// Creates a key pair (`public_key: None`: Nuvem generates one and returns the private key
    /// once) or imports a public key.
    pub async fn create_key_pair(
        &self,
        name: &str,
        public_key: Option<&str>,
    ) -> Result<ec2::KeyPairCreated> {
        let body = ec2::CreateKeyPairRequest {
            name: name.into(),
            public_key: public_key.map(Into::into),
        };
        self.post(&["v1", "ec2", "key-pairs"], &body).await
    }

    pub async fn list_key_pairs(&self) -> Result<ec2::KeyPairList> {
        self.get(&["v1", "ec2", "key-pairs"]).await
    }

    pub async fn get_key_pair(&self, name: &str) -> Result<ec2::KeyPair> {
        self.get(&["v1", "ec2", "key-pairs", name]).await
    }

    pub async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "ec2", "key-pairs", name]).await
    }

    /// Launches instances; they start `pending`.
    pub async fn run_instances(
        &self,
        request: &ec2::RunInstancesRequest,
    ) -> Result<ec2::InstanceList> {
        self.post(&["v1", "ec2", "instances"], request).await
    }

    pub async fn list_instances(&self) -> Result<ec2::InstanceList> {
        self.get(&["v1", "ec2", "instances"]).await
    }

    pub async fn get_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.get(&["v1", "ec2", "instances", id]).await
    }

    pub async fn terminate_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::DELETE,
            &["v1", "ec2", "instances", id],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn stop_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "stop"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn start_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "start"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn reboot_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "reboot"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn console_output(&self, id: &str) -> Result<ec2::ConsoleOutput> {
        self.get(&["v1", "ec2", "instances", id, "console"]).await
    }

    /// Polls until the instance reaches `state` (or a final state), at most `timeout`.
    pub async fn wait_for_state(
        &self,
        id: &str,
        state: ec2::InstanceState,
        timeout: std::time::Duration,
    ) -> Result<ec2::Instance> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let i = self.get_instance(id).await?;
            if i.state == state || i.state == ec2::InstanceState::Terminated {
                return Ok(i);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Config(format!(
                    "instance {id} is still {:?} after {} s (waiting for {:?})",
                    i.state,
                    timeout.as_secs(),
                    state
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// Hosts and their capacity (operator only).
    pub async fn list_hosts(&self) -> Result<ec2::HostList> {
        self.get(&["v1", "ec2", "hosts"]).await
    }
}

/// A page of a list call: its items and the marker of the next page.
trait Paged {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! paged {
    ($($list:ty => $item:ty),* $(,)?) => {$(
        impl Paged for $list {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.items, self.next_marker)
            }
        }
    )*};
}

paged!(AccountList => Account, UserList => User, GroupList => Group, PolicyList => Policy);

impl Client {
    /// Follows `next_marker` until the last page, with the largest page size.
    async fn all_pages<P: Paged + DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Vec<P::Item>> {
        let mut all = Vec::new();
        let mut params = ListParams {
            limit: Some(nuvem_api::MAX_PAGE_SIZE),
            marker: None,
        };
        loop {
            let (items, next) = self.list::<P>(segments, &params).await?.into_parts();
            all.extend(items);
            match next {
                Some(marker) => params.marker = Some(marker),
                None => return Ok(all),
            }
        }
    }

    /// Every account (operator only), following pagination.
    pub async fn list_accounts_all(&self) -> Result<Vec<Account>> {
        self.all_pages::<AccountList>(&["v1", "accounts"]).await
    }

    /// Every user of the account, following pagination.
    pub async fn list_users_all(&self) -> Result<Vec<User>> {
        self.all_pages::<UserList>(&["v1", "iam", "users"]).await
    }

    /// Every group of the account, following pagination.
    pub async fn list_groups_all(&self) -> Result<Vec<Group>> {
        self.all_pages::<GroupList>(&["v1", "iam", "groups"]).await
    }

    /// Every policy of the account, following pagination.
    pub async fn list_policies_all(&self) -> Result<Vec<Policy>> {
        self.all_pages::<PolicyList>(&["v1", "iam", "policies"])
            .await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
