//! Health, sign-in, sessions and identity; quotas and the operator's reconcilers.

use reqwest::Method;

use crate::{Client, Result, api};
use nuvem_api::iam::*;

impl Client {
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
}
