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
//!
//! # Features
//!
//! - `native` (default): what only an operating system offers: the profiles of
//!   `~/.nuvem/config.toml` ([`config`]), the environment chain of [`ClientBuilder::build`] and
//!   [`Client::from_env`], and timers ([`Client::wait_for_state`]). Without it the SDK builds for
//!   `wasm32-unknown-unknown`, where reqwest calls the browser's `fetch`: the web console uses it
//!   so, with `default-features = false`, through [`Client::new`] (its page's origin and the
//!   session token of its sign-in).

mod apps;
mod billing;
mod builder;
mod compute;
#[cfg(feature = "native")]
pub mod config;
mod iam;
mod meta;
mod network;
mod storage;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::lock::Mutex;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use builder::ClientBuilder;
pub use nuvem_api as api;
pub use nuvem_api::ErrorCode;
use nuvem_api::iam::*;
use nuvem_api::{ErrorBody, ListParams};
pub use storage::ObjectDownload;

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
        let mut req = self
            .inner
            .http
            .request(method, self.url(segments))
            .timeout(builder::TIMEOUT);
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
        let bytes = res.bytes().await.map_err(|e| self.transport(&e))?;
        if status.is_success() {
            let text = if bytes.is_empty() {
                &b"null"[..]
            } else {
                &bytes[..]
            };
            return serde_json::from_slice(text).map_err(|e| Error::Decode(e.to_string()));
        }
        Err(api_error(status, &bytes))
    }

    fn transport(&self, e: &reqwest::Error) -> Error {
        Error::Transport {
            endpoint: self.inner.endpoint.clone(),
            reason: error_chain(e),
        }
    }

    /// An authenticated call whose body and answer are bytes, not JSON (an object's upload and
    /// download): the answer is returned unread when it succeeds, so that it streams. No timeout:
    /// a large object may take longer than a JSON call ever should.
    pub(crate) async fn call_raw<Q: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        query: Option<&Q>,
        body: Option<(reqwest::Body, &str)>,
    ) -> Result<reqwest::Response> {
        let token = self.bearer(false).await?;
        let mut req = self.inner.http.request(method, self.url(segments));
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some((b, content_type)) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| self.transport(&e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let bytes = res.bytes().await.map_err(|e| self.transport(&e))?;
        Err(api_error(status, &bytes))
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

/// The error an unsuccessful answer carries: the API's JSON error body, or what came instead.
fn api_error(status: StatusCode, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::Api {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
            request_id: body.request_id,
        },
        Err(_) => Error::Decode(format!(
            "HTTP {status} with a body that is not a Nuvem error: {}",
            String::from_utf8_lossy(bytes)
                .chars()
                .take(200)
                .collect::<String>()
        )),
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
