//! Sessions: password sign-in (throttled), access-key sessions, the checks on every bearer token,
//! sign-out and password change.

use chrono::{Duration, Utc};
use nuvem_api::iam as api;
use nuvem_api::validate;

use super::accounts::account_nrn;
use super::crypto::{self, Claims};
use super::throttle::{Held, ThrottleLimits};
use super::{Iam, Principal, check};
use crate::error::{Error, Result};
use crate::store::{AccountRow, UserRow};

/// The session of a request, for sign-out.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Session lifetimes and the protection of password sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Lifetime of a token from a password sign-in, and the default for access-key sessions.
    pub default_ttl_seconds: u32,
    /// Back-off after failed sign-ins.
    pub throttle: ThrottleLimits,
    /// Threads that hash passwords (0: one per core).
    pub hashing_threads: usize,
    /// Password checks that may wait for a hashing thread before sign-ins are refused with 503.
    pub hashing_queue: usize,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            default_ttl_seconds: 3600,
            throttle: ThrottleLimits::default(),
            hashing_threads: 0,
            hashing_queue: 128,
        }
    }
}

const MIN_SESSION_SECONDS: u32 = 60;
const MAX_SESSION_SECONDS: u32 = 43_200;
/// An access key's last-used time is written at most this often (seconds), to spare the database.
pub(super) const LAST_USED_GRANULARITY: i64 = 60;

impl Iam {
    pub(super) fn issue_session(
        &self,
        principal: Principal,
        ttl: u32,
        assumer: Option<&Principal>,
    ) -> Result<api::Session> {
        let now = Utc::now();
        let expires_at = now + Duration::seconds(ttl as i64);
        let claims = Claims {
            sub: principal.user.id.clone(),
            acc: principal.account.id.clone(),
            akid: principal.access_key_id.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: crypto::ISSUER.to_owned(),
            jti: crypto::new_id("ses"),
            iat_ms: now.timestamp_millis(),
            asu: assumer.map(|a| a.user.id.clone()),
            asa: assumer.map(|a| a.account.id.clone()),
        };
        let principal = Principal {
            assumed_by: assumer.map(Principal::user_nrn),
            ..principal
        };
        let token = self.keys.issue_token(&claims).map_err(Error::internal)?;
        Ok(api::Session {
            token,
            expires_at,
            identity: principal.identity(),
        })
    }

    /// Password sign-in. Every failure says the same thing, so that nobody learns which of
    /// account, user or password was wrong.
    ///
    /// Failed attempts are throttled per (account, user) and per client `address`: past a few,
    /// the next attempt waits (429 with `Retry-After`) before its password is even looked at.
    pub async fn login(
        &self,
        req: api::LoginRequest,
        address: Option<std::net::IpAddr>,
    ) -> Result<api::Session> {
        if let Err(held) = self.throttle.check(&req.account, &req.user, address) {
            let seconds = held.retry_after().as_secs_f64().ceil().max(1.0) as u64;
            let who = match held {
                Held::User(_) => "for this user",
                Held::Address(_) => "from your address",
            };
            return Err(Error::TooManyRequests {
                message: format!(
                    "too many failed sign-ins {who}; wait {seconds} s and try again (each further failure doubles the wait, up to a few minutes)"
                ),
                retry_after_seconds: seconds,
            });
        }
        let refused = || {
            Error::Unauthenticated(
                "sign-in failed: the account, user name or password is wrong".to_owned(),
            )
        };
        let names_ok =
            validate::account_name(&req.account).is_ok() && validate::user_name(&req.user).is_ok();
        let account = match names_ok {
            true => self.store.account_get_by_name(&req.account).await?,
            false => None,
        };
        let user = match &account {
            Some(a) => self.store.user_get_by_name(&a.id, &req.user).await?,
            None => None,
        };
        let found = match (account, user) {
            (Some(account), Some(user)) => {
                user.password_hash.clone().map(|hash| (account, user, hash))
            }
            _ => None,
        };
        let ok = match &found {
            Some((_, _, hash)) => self.verify_password(hash, &req.password).await?,
            None => {
                let _ = self
                    .verify_password(self.keys.dummy_hash(), &req.password)
                    .await?;
                false
            }
        };
        let Some((account, user, _)) = found.filter(|_| ok) else {
            self.throttle.failed(&req.account, &req.user, address);
            return Err(refused());
        };
        self.throttle.succeeded(&req.account, &req.user);
        let now = Utc::now();
        self.store.user_touch_login(&user.id, now).await?;
        let user = UserRow {
            last_login_at: Some(now),
            ..user
        };
        let ttl = self.sessions.default_ttl_seconds;
        self.issue_session(
            Principal {
                account,
                user,
                access_key_id: None,
                assumed_by: None,
                session: None,
            },
            ttl,
            None,
        )
    }

    /// Exchanges an access key for a session token (as AWS STS `GetSessionToken`).
    pub async fn session_from_access_key(&self, req: api::SessionRequest) -> Result<api::Session> {
        let ttl = req
            .duration_seconds
            .unwrap_or(self.sessions.default_ttl_seconds);
        if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&ttl) {
            return Err(Error::invalid(format!(
                "duration_seconds must be between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}, not {ttl}"
            )));
        }
        let refused =
            || Error::Unauthenticated("the access key id or secret access key is wrong".to_owned());
        let Some(key) = self.store.access_key_get(&req.access_key_id).await? else {
            return Err(refused());
        };
        let secret = self
            .keys
            .decrypt_secret(&key.secret_ciphertext)
            .map_err(Error::internal)?;
        if !crypto::secrets_equal(&secret, &req.secret_access_key) {
            return Err(refused());
        }
        if key.status != api::AccessKeyStatus::Active {
            return Err(Error::Unauthenticated(format!(
                "access key {} is disabled (Inactive); enable it or use another key",
                key.id
            )));
        }
        let principal = self
            .principal(&key.user_id, &key.account_id, Some(&key))
            .await?;
        self.store.access_key_touch(&key.id, Utc::now()).await?;
        self.issue_session(principal, ttl, None)
    }

    /// Checks a bearer token and loads its principal. A session from an access key ends as soon
    /// as the key is disabled or deleted; one of a deleted user ends at once too.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = self.keys.verify_token(token).map_err(|e| {
            Error::Unauthenticated(match e.kind() {
                ErrorKind::ExpiredSignature => {
                    "your session has expired; sign in again (cloudctl login)".to_owned()
                }
                _ => "the session token is not valid (malformed, or not signed by this Nuvem)"
                    .to_owned(),
            })
        })?;
        let key = match &claims.akid {
            Some(id) => {
                let key = self
                    .store
                    .access_key_get(id)
                    .await?
                    .filter(|k| k.user_id == claims.sub);
                let Some(key) = key else {
                    return Err(Error::Unauthenticated(format!(
                        "access key {id} of this session was deleted"
                    )));
                };
                if key.status != api::AccessKeyStatus::Active {
                    return Err(Error::Unauthenticated(format!(
                        "access key {id} of this session is disabled (Inactive)"
                    )));
                }
                let now = Utc::now();
                let stale = key
                    .last_used_at
                    .is_none_or(|t| (now - t).num_seconds() >= LAST_USED_GRANULARITY);
                if stale {
                    self.store.access_key_touch(&key.id, now).await?;
                }
                Some(key)
            }
            None => None,
        };
        if self.store.session_is_revoked(&claims.jti).await? {
            return Err(Error::Unauthenticated(
                "this session was signed out; sign in again (cloudctl login)".to_owned(),
            ));
        }
        let mut principal = self
            .principal(&claims.sub, &claims.acc, key.as_ref())
            .await?;
        principal.session = Some(SessionRef {
            id: claims.jti.clone(),
            expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now),
        });
        match (&claims.asu, &claims.asa, &key) {
            (Some(user_id), Some(account_id), _) => {
                principal.assumed_by = Some(
                    self.assumer_still_allowed(user_id, account_id, &principal.account)
                        .await?,
                );
            }
            (None, None, None) => self.password_session_still_valid(&claims, &principal.user)?,
            (None, None, Some(_)) => {}
            _ => {
                return Err(Error::Unauthenticated(
                    "the session token is not valid (malformed, or not signed by this Nuvem)"
                        .to_owned(),
                ));
            }
        }
        Ok(principal)
    }

    /// A password session ends when the password changes or is removed: whoever knew the old
    /// one (or held a session made with it) is out.
    fn password_session_still_valid(&self, claims: &Claims, user: &UserRow) -> Result<()> {
        if user.password_hash.is_none() {
            return Err(Error::Unauthenticated(
                "this session was made with a password the user no longer has; sign in again"
                    .to_owned(),
            ));
        }
        if user
            .password_changed_at
            .is_some_and(|changed| changed.timestamp_millis() > claims.iat_ms)
        {
            return Err(Error::Unauthenticated(
                "the password changed after this session began; sign in again with the new password"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// An assumed-account session lives only while the operator user behind it exists and may
    /// still assume that account. Returns that user's NRN.
    async fn assumer_still_allowed(
        &self,
        user_id: &str,
        account_id: &str,
        target: &AccountRow,
    ) -> Result<String> {
        let ended = |why: &str| {
            Error::Unauthenticated(format!(
                "this assumed-account session has ended: {why}; sign in again"
            ))
        };
        let assumer = self
            .principal(user_id, account_id, None)
            .await
            .map_err(|_| ended("the operator user who assumed the account no longer exists"))?;
        if !assumer.account.is_operator || target.is_operator {
            return Err(ended("only the operator may assume an account"));
        }
        self.authorize(
            &assumer,
            "iam:AssumeAccount",
            &account_nrn(&assumer, target),
        )
        .await
        .map_err(|_| ended("the operator user who assumed it may no longer assume this account"))?;
        Ok(assumer.user_nrn())
    }

    /// Ends the caller's session on the server (`POST /v1/auth/logout`): the token is refused
    /// from now on, whatever its expiry.
    pub async fn logout(&self, p: &Principal) -> Result<()> {
        let Some(session) = &p.session else {
            return Err(Error::invalid("this request carries no session to end"));
        };
        self.store
            .session_revoke(&session.id, &p.user.id, session.expires_at)
            .await
    }

    /// Changes the caller's own password. Every session made with the old password ends,
    /// including the caller's: the answer is a fresh session to go on with.
    pub async fn change_password(
        &self,
        p: &Principal,
        req: api::ChangePasswordRequest,
    ) -> Result<api::Session> {
        if p.assumed_by.is_some() {
            return Err(Error::AccessDenied(
                "an assumed-account session cannot change the root user's password; the account's root signs in and changes it"
                    .to_owned(),
            ));
        }
        check(validate::password(&req.new_password))?;
        let current = self
            .store
            .user_get(&p.user.id)
            .await?
            .ok_or_else(|| Error::not_found("user", &p.user.name))?;
        let ok = match current.password_hash {
            Some(h) => self.verify_password(&h, &req.old_password).await?,
            None => false,
        };
        if !ok {
            return Err(Error::AccessDenied(
                "the current password is wrong".to_owned(),
            ));
        }
        let hash = self.hash_password(&req.new_password).await?;
        self.store.user_set_password(&p.user.id, Some(hash)).await?;
        let user = self
            .store
            .user_get(&p.user.id)
            .await?
            .ok_or_else(|| Error::not_found("user", &p.user.name))?;
        let ttl = self.sessions.default_ttl_seconds;
        self.issue_session(
            Principal {
                account: p.account.clone(),
                user,
                access_key_id: p.access_key_id.clone(),
                assumed_by: None,
                session: None,
            },
            ttl,
            None,
        )
    }
}
