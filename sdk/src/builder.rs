//! Making a [`Client`]: from explicit values ([`Client::new`], everywhere, the browser included)
//! or through [`ClientBuilder`], which with the `native` feature also reads the environment and the
//! profiles of `~/.nuvem/config.toml`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::lock::Mutex;

#[cfg(feature = "native")]
use crate::config;
use crate::{Client, Credentials, DEFAULT_ENDPOINT, Error, Inner, Result};

/// How long one call may take, connection to the last byte of the answer.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// Builds a [`Client`]; with the `native` feature, unset parts come from the environment and the
/// profile; without it (WebAssembly), from the defaults only.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    #[cfg(feature = "native")]
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
    #[cfg(feature = "native")]
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Resolves endpoint and credentials: explicit values, then `NUVEM_ENDPOINT`,
    /// `NUVEM_ACCESS_KEY_ID` + `NUVEM_SECRET_ACCESS_KEY`, `NUVEM_SESSION_TOKEN`, then the profile.
    #[cfg(feature = "native")]
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
        Client::new(&endpoint, credentials)
    }

    /// Without `native` there is no environment or profile to read (a browser has neither): the
    /// explicit values, else the default endpoint and no credentials.
    #[cfg(not(feature = "native"))]
    pub fn build(self) -> Result<Client> {
        let endpoint = self.endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        Client::new(
            &endpoint,
            self.credentials.unwrap_or(Credentials::Anonymous),
        )
    }
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured only from the environment and the default profile.
    #[cfg(feature = "native")]
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    /// A client of exactly this endpoint and these credentials: no environment, no profile. The
    /// web console makes one from its page's origin and the session token of its sign-in:
    ///
    /// ```
    /// use nuvem_sdk::{Client, Credentials};
    ///
    /// let client = Client::new("https://nuvem.example", Credentials::session("eyJ...")).unwrap();
    /// assert_eq!(client.endpoint(), "https://nuvem.example");
    /// ```
    ///
    /// The endpoint must be an absolute `http://` or `https://` URL (in a browser too, where
    /// requests go through `fetch`).
    pub fn new(endpoint: &str, credentials: Credentials) -> Result<Client> {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let base = reqwest::Url::parse(&endpoint)
            .map_err(|e| Error::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "endpoint {endpoint:?} must be http:// or https://"
            )));
        }
        let http = reqwest::Client::builder();
        // A browser sends its own User-Agent and does not let a page replace it.
        #[cfg(not(target_arch = "wasm32"))]
        let http = http.user_agent(concat!("nuvem-sdk/", env!("CARGO_PKG_VERSION")));
        // Drop idle connections well before the server does (Nuvem keeps them 120 s, proxies
        // often 60 s), so that a request never goes out on a connection being closed.
        #[cfg(not(target_arch = "wasm32"))]
        let http = http.pool_idle_timeout(std::time::Duration::from_secs(30));
        let http = http.build().map_err(|e| Error::Config(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_client_keeps_its_endpoint_and_credentials() {
        let c = Client::new("http://127.0.0.1:8080/", Credentials::session("tok-123")).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:8080");
        assert_eq!(c.credentials(), &Credentials::session("tok-123"));
        assert_eq!(
            c.url(&["v1", "iam", "users", "a b"]).as_str(),
            "http://127.0.0.1:8080/v1/iam/users/a%20b"
        );
        // Secrets never reach a log line.
        assert!(!format!("{c:?}").contains("tok-123"));
    }

    #[test]
    fn an_endpoint_must_be_an_absolute_http_url() {
        for bad in ["/v1", "nuvem.example", "ftp://nuvem.example"] {
            assert!(
                matches!(
                    Client::new(bad, Credentials::Anonymous),
                    Err(Error::Config(_))
                ),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn a_path_under_the_endpoint_is_kept() {
        let c = Client::new("https://host.example/nuvem", Credentials::Anonymous).unwrap();
        assert_eq!(
            c.url(&["healthz"]).as_str(),
            "https://host.example/nuvem/healthz"
        );
    }
}
