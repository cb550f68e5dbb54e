//! IAM: accounts, users, groups, policies, access keys, sessions, and [`Iam::authorize`], the one
//! function every service calls before it acts.
//!
//! Every operation takes the calling [`Principal`] and works only inside the caller's account:
//! names are looked up with the caller's account id, so another account's resources are simply not
//! found. Operator-only operations (accounts) are refused to every other account.

pub mod crypto;
pub mod hashing;
pub mod quotas;
pub mod throttle;

use std::sync::Arc;

use chrono::{Duration, Utc};
use nuvem_api::iam as api;
use nuvem_api::policy::{self, Decision};
use nuvem_api::{ListParams, nrn::nrn, validate};

use crate::error::{Error, Result};
use crate::store::{AccessKeyRow, AccountRow, GroupRow, PolicyRow, PrincipalKind, Store, UserRow};
use crypto::{Claims, Keys};
use hashing::PasswordHasher;
use throttle::{Held, SignInThrottle, ThrottleLimits};

/// Who is calling: established once per request by authentication.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountRow,
    pub user: UserRow,
    pub access_key_id: Option<String>,
    /// The operator user behind an assumed-account session (its NRN).
    pub assumed_by: Option<String>,
    /// The session this request came with (`None` while a session is being issued).
    pub session: Option<SessionRef>,
}

/// The session of a request, for sign-out.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

impl Principal {
    pub fn user_nrn(&self) -> String {
        nrn("iam", &self.account.id, "user", &self.user.name)
    }

    pub fn identity(&self) -> api::Identity {
        api::Identity {
            account_id: self.account.id.clone(),
            account_name: self.account.name.clone(),
            user: self.user.name.clone(),
            user_nrn: self.user_nrn(),
            is_root: self.user.is_root,
            is_operator: self.account.is_operator,
            auth_method: if self.access_key_id.is_some() {
                api::AuthMethod::AccessKey
            } else {
                api::AuthMethod::Password
            },
            access_key_id: self.access_key_id.clone(),
            assumed_by: self.assumed_by.clone(),
        }
    }
}

/// What the first start did about the operator account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    AlreadyDone,
    CreatedWithGivenPassword,
    /// The password to show once.
    CreatedWithGeneratedPassword(String),
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
const LAST_USED_GRANULARITY: i64 = 60;

#[derive(Clone)]
pub struct Iam {
    store: Store,
    keys: Arc<Keys>,
    sessions: SessionPolicy,
    hasher: Arc<PasswordHasher>,
    throttle: Arc<SignInThrottle>,
    quotas: quotas::QuotaDefaults,
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

    // ----------------------------------------------------------------------------------------
    // Bootstrap

    /// Creates the operator account `admin` on first start, with the given root password or a
    /// generated one.
    pub async fn bootstrap_operator(&self, password: Option<String>) -> Result<Bootstrap> {
        if self
            .store
            .account_get_by_name(api::OPERATOR_ACCOUNT)
            .await?
            .is_some()
        {
            return Ok(Bootstrap::AlreadyDone);
        }
        let (password, outcome) = match password {
            Some(p) => {
                check(validate::password(&p)).map_err(|e| {
                    Error::invalid(format!("NUVEM_ADMIN_PASSWORD is not acceptable: {e}"))
                })?;
                (p, Bootstrap::CreatedWithGivenPassword)
            }
            None => {
                let p = crypto::random_password();
                (p.clone(), Bootstrap::CreatedWithGeneratedPassword(p))
            }
        };
        self.create_account_rows(api::OPERATOR_ACCOUNT, true, &password)
            .await?;
        Ok(outcome)
    }

    async fn create_account_rows(
        &self,
        name: &str,
        is_operator: bool,
        password: &str,
    ) -> Result<AccountRow> {
        let now = Utc::now();
        let hash = self.hash_password(password).await?;
        // Account ids are random; retry the (unlikely) collision rather than fail the request.
        for _ in 0..5 {
            let id = crypto::new_account_id();
            if self.store.account_get(&id).await?.is_some() {
                continue;
            }
            let account = AccountRow {
                id: id.clone(),
                name: name.to_owned(),
                is_operator,
                created_at: now,
            };
            let root = UserRow {
                id: crypto::new_id("usr"),
                account_id: id,
                name: api::ROOT_USER.to_owned(),
                is_root: true,
                password_hash: Some(hash.clone()),
                created_at: now,
                password_changed_at: Some(now),
                last_login_at: None,
            };
            self.store.account_create(account.clone(), root).await?;
            return Ok(account);
        }
        Err(Error::internal("could not find a free account id"))
    }

    // ----------------------------------------------------------------------------------------
    // Authentication

    fn issue_session(
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
        if key.status != api::AccessKeyStatus::Active.as_str() {
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

    async fn principal(
        &self,
        user_id: &str,
        account_id: &str,
        key: Option<&AccessKeyRow>,
    ) -> Result<Principal> {
        let gone =
            || Error::Unauthenticated("the user of this session no longer exists".to_owned());
        let user = self.store.user_get(user_id).await?.ok_or_else(gone)?;
        let account = self.store.account_get(account_id).await?.ok_or_else(gone)?;
        if user.account_id != account.id {
            return Err(gone());
        }
        Ok(Principal {
            account,
            user,
            access_key_id: key.map(|k| k.id.clone()),
            assumed_by: None,
            session: None,
        })
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
                if key.status != api::AccessKeyStatus::Active.as_str() {
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

    // ----------------------------------------------------------------------------------------
    // Authorization

    /// The one authorization check. Root users may do everything in their own account; everyone
    /// else needs an Allow from a policy attached to them or to one of their groups, and no Deny.
    pub async fn authorize(&self, p: &Principal, action: &str, resource: &str) -> Result<()> {
        if resource.len() > policy::MAX_RESOURCE {
            return Err(Error::invalid(format!(
                "the resource name is {} characters long; names this long are never valid (at most {})",
                resource.len(),
                policy::MAX_RESOURCE
            )));
        }
        let in_own_account = nuvem_api::nrn::parse(resource)
            .is_some_and(|r| r.account == p.account.id || r.account.is_empty());
        if !in_own_account {
            return Err(Error::AccessDenied(format!(
                "{} may not act on {resource}: it belongs to another account",
                p.user_nrn()
            )));
        }
        if p.user.is_root {
            return Ok(());
        }
        let rows = self
            .store
            .policy_list_effective_for_user(&p.user.id)
            .await?;
        let mut docs = Vec::with_capacity(rows.len());
        for row in &rows {
            docs.push((row.name.as_str(), parse_stored_policy(row)?));
        }
        match policy::evaluate(docs.iter().map(|(n, d)| (*n, d)), action, resource) {
            Decision::Allow { .. } => Ok(()),
            Decision::ExplicitDeny { policy, sid } => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: explicitly denied by policy '{policy}'{}",
                p.user_nrn(),
                sid.map(|s| format!(" (statement {s})")).unwrap_or_default()
            ))),
            Decision::ImplicitDeny => Err(Error::AccessDenied(format!(
                "{} is not allowed to {action} on {resource}: no policy attached to the user or its groups allows it",
                p.user_nrn()
            ))),
        }
    }

    /// Refuses every principal outside the operator account, whatever its policies say.
    pub fn require_operator(&self, p: &Principal, action: &str) -> Result<()> {
        if p.account.is_operator {
            Ok(())
        } else {
            Err(Error::AccessDenied(format!(
                "{action} is an operator action: only principals of the '{}' account may call it (sign in there, e.g. with the operator's profile: cloudctl --profile default ...)",
                api::OPERATOR_ACCOUNT
            )))
        }
    }

    fn iam_nrn(p: &Principal, kind: &str, name: &str) -> String {
        nrn("iam", &p.account.id, kind, name)
    }

    /// The NRN of a named IAM resource, after the name is validated: a malformed name is a 400
    /// before any policy is evaluated against it.
    fn named_nrn(p: &Principal, kind: &str, name: &str) -> Result<String> {
        let max = match kind {
            "user" => validate::MAX_USER_NAME,
            "group" => validate::MAX_GROUP_NAME,
            _ => validate::MAX_POLICY_NAME,
        };
        check_name(kind, name, max)?;
        Ok(Self::iam_nrn(p, kind, name))
    }

    /// No IAM action may target an account's root user but root's own (as in AWS): otherwise a
    /// user allowed `iam:UpdateLoginProfile` or `iam:CreateAccessKey` on `user/*` could take
    /// over root, which no policy binds.
    fn refuse_root_target(p: &Principal, target: &UserRow, action: &str) -> Result<()> {
        if target.is_root && p.user.id != target.id {
            return Err(Error::AccessDenied(format!(
                "{} may not {action} on the root user: root's password, keys, groups and policies are changed only by root itself (sign in as root)",
                p.user_nrn()
            )));
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Accounts (operator only)

    pub async fn account_create(
        &self,
        p: &Principal,
        req: api::CreateAccountRequest,
    ) -> Result<api::AccountCreated> {
        self.require_operator(p, "iam:CreateAccount")?;
        self.authorize(p, "iam:CreateAccount", &Self::iam_nrn(p, "account", "*"))
            .await?;
        check(validate::account_name(&req.name))?;
        if let Some(pw) = &req.root_password {
            check(validate::password(pw))?;
        }
        if self.store.account_get_by_name(&req.name).await?.is_some() {
            return Err(Error::AlreadyExists(format!(
                "an account named '{}' already exists",
                req.name
            )));
        }
        let (password, generated) = match req.root_password {
            Some(pw) => (pw, None),
            None => {
                let pw = crypto::random_password();
                (pw.clone(), Some(pw))
            }
        };
        let account = self
            .create_account_rows(&req.name, false, &password)
            .await?;
        Ok(api::AccountCreated {
            account: account_view(p, &account),
            root_user: api::ROOT_USER.to_owned(),
            generated_root_password: generated,
        })
    }

    pub async fn account_list(
        &self,
        p: &Principal,
        params: ListParams,
    ) -> Result<api::AccountList> {
        self.require_operator(p, "iam:ListAccounts")?;
        self.authorize(p, "iam:ListAccounts", &Self::iam_nrn(p, "account", "*"))
            .await?;
        let page = self
            .store
            .account_list(page_limit(&params)?, params.marker.as_deref())
            .await?;
        Ok(api::AccountList {
            items: page.items.iter().map(|a| account_view(p, a)).collect(),
            next_marker: page.next_marker,
        })
    }

    async fn account_lookup(&self, name: &str) -> Result<AccountRow> {
        check(validate::account_name(name))?;
        self.store
            .account_get_by_name(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("account '{name}' does not exist")))
    }

    /// An account for an operator action on it: found by name, authorized by id (see
    /// [`account_nrn`]).
    async fn account_for(&self, p: &Principal, action: &str, name: &str) -> Result<AccountRow> {
        self.require_operator(p, action)?;
        let account = self.account_lookup(name).await?;
        self.authorize(p, action, &account_nrn(p, &account)).await?;
        Ok(account)
    }

    pub async fn account_get(&self, p: &Principal, name: &str) -> Result<api::Account> {
        let account = self.account_for(p, "iam:GetAccount", name).await?;
        Ok(account_view(p, &account))
    }

    /// A session as the root user of another account, for the operator (as AWS's
    /// OrganizationAccountAccessRole): to look at, or fix, a student's account.
    ///
    /// An operator account is never assumed (that would turn a narrow operator user into the
    /// operator's root). The session names who assumed it, and ends as soon as that user is
    /// deleted or loses `iam:AssumeAccount` on the account.
    pub async fn account_assume(&self, p: &Principal, name: &str) -> Result<api::Session> {
        if p.assumed_by.is_some() {
            return Err(Error::AccessDenied(
                "an assumed-account session cannot assume another account; return to the operator first".to_owned(),
            ));
        }
        let account = self.account_for(p, "iam:AssumeAccount", name).await?;
        if account.is_operator {
            return Err(Error::AccessDenied(format!(
                "account '{name}' is the operator account and cannot be assumed; operator users act in it with their own permissions"
            )));
        }
        let root = self
            .store
            .user_get_by_name(&account.id, api::ROOT_USER)
            .await?
            .ok_or_else(|| Error::internal(format!("account {name} has no root user")))?;
        tracing::info!(operator = %p.user_nrn(), account = %name, account_id = %account.id, "the operator assumed an account");
        let ttl = self.sessions.default_ttl_seconds;
        self.issue_session(
            Principal {
                account,
                user: root,
                access_key_id: None,
                assumed_by: None,
                session: None,
            },
            ttl,
            Some(p),
        )
    }

    /// Checks that the caller may delete the account and that it may be deleted; returns it. The
    /// deletion itself is [`Iam::account_delete_rows`], after the other services let go of it.
    pub async fn account_delete_check(&self, p: &Principal, name: &str) -> Result<AccountRow> {
        let account = self.account_for(p, "iam:DeleteAccount", name).await?;
        if account.is_operator {
            return Err(Error::Conflict(
                "the operator account cannot be deleted".to_owned(),
            ));
        }
        Ok(account)
    }

    pub async fn account_delete_rows(&self, account: &AccountRow) -> Result<()> {
        self.store.account_delete(&account.id).await
    }

    // ----------------------------------------------------------------------------------------
    // Users

    async fn user_lookup(&self, p: &Principal, name: &str) -> Result<UserRow> {
        check_name("user", name, validate::MAX_USER_NAME)?;
        self.store
            .user_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("user", name))
    }

    pub async fn user_create(
        &self,
        p: &Principal,
        req: api::CreateUserRequest,
    ) -> Result<api::User> {
        self.authorize(p, "iam:CreateUser", &Self::named_nrn(p, "user", &req.name)?)
            .await?;
        check(validate::user_name(&req.name))?;
        let password_hash = match &req.password {
            Some(pw) => {
                check(validate::password(pw))?;
                Some(self.hash_password(pw).await?)
            }
            None => None,
        };
        let now = Utc::now();
        let row = UserRow {
            id: crypto::new_id("usr"),
            account_id: p.account.id.clone(),
            name: req.name,
            is_root: false,
            password_changed_at: password_hash.as_ref().map(|_| now),
            password_hash,
            created_at: now,
            last_login_at: None,
        };
        Ok(self.user_view(&self.store.user_create(row).await?, &p.account.id))
    }

    pub async fn user_list(&self, p: &Principal, params: ListParams) -> Result<api::UserList> {
        self.authorize(p, "iam:ListUsers", &Self::iam_nrn(p, "user", "*"))
            .await?;
        let page = self
            .store
            .user_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        Ok(api::UserList {
            items: page
                .items
                .iter()
                .map(|u| self.user_view(u, &p.account.id))
                .collect(),
            next_marker: page.next_marker,
        })
    }

    pub async fn user_get(&self, p: &Principal, name: &str) -> Result<api::User> {
        self.authorize(p, "iam:GetUser", &Self::named_nrn(p, "user", name)?)
            .await?;
        Ok(self.user_view(&self.user_lookup(p, name).await?, &p.account.id))
    }

    pub async fn user_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteUser", &Self::named_nrn(p, "user", name)?)
            .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:DeleteUser")?;
        if user.is_root {
            return Err(Error::Conflict(
                "the root user cannot be deleted".to_owned(),
            ));
        }
        self.store.user_delete(&user.id).await
    }

    pub async fn login_profile_update(
        &self,
        p: &Principal,
        name: &str,
        req: api::LoginProfileRequest,
    ) -> Result<()> {
        self.authorize(
            p,
            "iam:UpdateLoginProfile",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:UpdateLoginProfile")?;
        check(validate::password(&req.password))?;
        let hash = self.hash_password(&req.password).await?;
        self.store.user_set_password(&user.id, Some(hash)).await
    }

    pub async fn login_profile_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:DeleteLoginProfile",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        Self::refuse_root_target(p, &user, "iam:DeleteLoginProfile")?;
        if user.is_root {
            return Err(Error::Conflict(
                "the root user's password cannot be removed".to_owned(),
            ));
        }
        if user.password_hash.is_none() {
            return Err(Error::NotFound(format!(
                "user '{name}' has no password (login profile)"
            )));
        }
        self.store.user_set_password(&user.id, None).await
    }

    pub async fn user_group_list(&self, p: &Principal, name: &str) -> Result<api::GroupNames> {
        self.authorize(
            p,
            "iam:ListGroupsForUser",
            &Self::named_nrn(p, "user", name)?,
        )
        .await?;
        let user = self.user_lookup(p, name).await?;
        let groups = self.store.group_list_for_user(&user.id).await?;
        Ok(api::GroupNames {
            items: groups.into_iter().map(|g| g.name).collect(),
        })
    }

    // ----------------------------------------------------------------------------------------
    // Groups

    async fn group_lookup(&self, p: &Principal, name: &str) -> Result<GroupRow> {
        check_name("group", name, validate::MAX_GROUP_NAME)?;
        self.store
            .group_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("group", name))
    }

    pub async fn group_create(
        &self,
        p: &Principal,
        req: api::CreateGroupRequest,
    ) -> Result<api::Group> {
        self.authorize(
            p,
            "iam:CreateGroup",
            &Self::named_nrn(p, "group", &req.name)?,
        )
        .await?;
        check(validate::group_name(&req.name))?;
        let row = GroupRow {
            id: crypto::new_id("grp"),
            account_id: p.account.id.clone(),
            name: req.name,
            created_at: Utc::now(),
        };
        Ok(group_view(&self.store.group_create(row).await?))
    }

    pub async fn group_list(&self, p: &Principal, params: ListParams) -> Result<api::GroupList> {
        self.authorize(p, "iam:ListGroups", &Self::iam_nrn(p, "group", "*"))
            .await?;
        let page = self
            .store
            .group_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        Ok(api::GroupList {
            items: page.items.iter().map(group_view).collect(),
            next_marker: page.next_marker,
        })
    }

    pub async fn group_get(&self, p: &Principal, name: &str) -> Result<api::GroupDetail> {
        self.authorize(p, "iam:GetGroup", &Self::named_nrn(p, "group", name)?)
            .await?;
        let group = self.group_lookup(p, name).await?;
        let members = self.store.group_member_list(&group.id).await?;
        let policies = self
            .store
            .policy_list_attached(PrincipalKind::Group, &group.id)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        Ok(api::GroupDetail {
            group: group_view(&group),
            members,
            policies,
        })
    }

    pub async fn group_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteGroup", &Self::named_nrn(p, "group", name)?)
            .await?;
        let group = self.group_lookup(p, name).await?;
        self.store.group_delete(&group.id).await
    }

    pub async fn group_member_add(&self, p: &Principal, group: &str, user: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:AddUserToGroup",
            &Self::named_nrn(p, "group", group)?,
        )
        .await?;
        let g = self.group_lookup(p, group).await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:AddUserToGroup")?;
        self.store.group_member_add(&g.id, &u.id).await
    }

    pub async fn group_member_remove(&self, p: &Principal, group: &str, user: &str) -> Result<()> {
        self.authorize(
            p,
            "iam:RemoveUserFromGroup",
            &Self::named_nrn(p, "group", group)?,
        )
        .await?;
        let g = self.group_lookup(p, group).await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:RemoveUserFromGroup")?;
        if !self.store.group_member_remove(&g.id, &u.id).await? {
            return Err(Error::NotFound(format!(
                "user '{user}' is not a member of group '{group}'"
            )));
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Policies

    async fn policy_lookup(&self, p: &Principal, name: &str) -> Result<PolicyRow> {
        check_name("policy", name, validate::MAX_POLICY_NAME)?;
        self.store
            .policy_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("policy", name))
    }

    async fn policy_view(&self, row: &PolicyRow) -> Result<api::Policy> {
        let count = self.store.policy_attachment_count(&row.id).await?;
        Ok(api::Policy {
            id: row.id.clone(),
            name: row.name.clone(),
            nrn: nrn("iam", &row.account_id, "policy", &row.name),
            description: row.description.clone(),
            document: serde_json::from_str(&row.document).map_err(Error::internal)?,
            attachment_count: count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub async fn policy_create(
        &self,
        p: &Principal,
        req: api::CreatePolicyRequest,
    ) -> Result<api::Policy> {
        self.authorize(
            p,
            "iam:CreatePolicy",
            &Self::named_nrn(p, "policy", &req.name)?,
        )
        .await?;
        check(validate::policy_name(&req.name))?;
        let description = req.description.unwrap_or_default();
        check(validate::description(&description))?;
        policy::parse(&req.document)
            .map_err(|e| Error::invalid(format!("invalid policy document: {e}")))?;
        let now = Utc::now();
        let row = PolicyRow {
            id: crypto::new_id("pol"),
            account_id: p.account.id.clone(),
            name: req.name,
            description,
            document: req.document.to_string(),
            created_at: now,
            updated_at: now,
        };
        let row = self.store.policy_create(row).await?;
        self.policy_view(&row).await
    }

    pub async fn policy_list(&self, p: &Principal, params: ListParams) -> Result<api::PolicyList> {
        self.authorize(p, "iam:ListPolicies", &Self::iam_nrn(p, "policy", "*"))
            .await?;
        let page = self
            .store
            .policy_list(
                &p.account.id,
                page_limit(&params)?,
                params.marker.as_deref(),
            )
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for row in &page.items {
            items.push(self.policy_view(row).await?);
        }
        Ok(api::PolicyList {
            items,
            next_marker: page.next_marker,
        })
    }

    pub async fn policy_get(&self, p: &Principal, name: &str) -> Result<api::Policy> {
        self.authorize(p, "iam:GetPolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        self.policy_view(&row).await
    }

    pub async fn policy_update(
        &self,
        p: &Principal,
        name: &str,
        req: api::UpdatePolicyRequest,
    ) -> Result<api::Policy> {
        self.authorize(p, "iam:UpdatePolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        if let Some(d) = &req.description {
            check(validate::description(d))?;
        }
        policy::parse(&req.document)
            .map_err(|e| Error::invalid(format!("invalid policy document: {e}")))?;
        let row = self
            .store
            .policy_update(&row.id, req.description, req.document.to_string())
            .await?;
        self.policy_view(&row).await
    }

    pub async fn policy_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.authorize(p, "iam:DeletePolicy", &Self::named_nrn(p, "policy", name)?)
            .await?;
        let row = self.policy_lookup(p, name).await?;
        let count = self.store.policy_attachment_count(&row.id).await?;
        if count > 0 {
            return Err(Error::DependencyViolation(format!(
                "policy '{name}' is attached to {count} user(s) or group(s); detach it first"
            )));
        }
        self.store.policy_delete(&row.id).await
    }

    /// The id of the user or group a policy is attached to; `write` names the action when it
    /// changes something (then root may only be the target of root itself).
    async fn attach_target(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        name: &str,
        write: Option<&str>,
    ) -> Result<String> {
        Ok(match kind {
            PrincipalKind::User => {
                let user = self.user_lookup(p, name).await?;
                if let Some(action) = write {
                    Self::refuse_root_target(p, &user, action)?;
                }
                user.id
            }
            PrincipalKind::Group => self.group_lookup(p, name).await?.id,
        })
    }

    fn attach_action(kind: PrincipalKind, verb: &str) -> (String, &'static str) {
        match kind {
            PrincipalKind::User => (format!("iam:{verb}UserPolicy"), "user"),
            PrincipalKind::Group => (format!("iam:{verb}GroupPolicy"), "group"),
        }
    }

    pub async fn policy_attach(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
        policy_name: &str,
    ) -> Result<()> {
        let (action, type_) = Self::attach_action(kind, "Attach");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self
            .attach_target(p, kind, principal, Some(&action))
            .await?;
        let policy = self.policy_lookup(p, policy_name).await?;
        self.store.policy_attach(&policy.id, kind, &target).await
    }

    pub async fn policy_detach(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
        policy_name: &str,
    ) -> Result<()> {
        let (action, type_) = Self::attach_action(kind, "Detach");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self
            .attach_target(p, kind, principal, Some(&action))
            .await?;
        let policy = self.policy_lookup(p, policy_name).await?;
        if !self.store.policy_detach(&policy.id, kind, &target).await? {
            return Err(Error::NotFound(format!(
                "policy '{policy_name}' is not attached to {type_} '{principal}'"
            )));
        }
        Ok(())
    }

    pub async fn policy_list_attached(
        &self,
        p: &Principal,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<api::AttachedPolicies> {
        let (action, type_) = Self::attach_action(kind, "ListAttached");
        let action = action.replace("Policy", "Policies");
        self.authorize(p, &action, &Self::named_nrn(p, type_, principal)?)
            .await?;
        let target = self.attach_target(p, kind, principal, None).await?;
        let rows = self.store.policy_list_attached(kind, &target).await?;
        Ok(api::AttachedPolicies {
            items: rows.into_iter().map(|r| r.name).collect(),
        })
    }

    // ----------------------------------------------------------------------------------------
    // Access keys

    pub async fn access_key_create(
        &self,
        p: &Principal,
        user: &str,
    ) -> Result<api::AccessKeyCreated> {
        self.authorize(p, "iam:CreateAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:CreateAccessKey")?;
        let existing = self.store.access_key_list_for_user(&u.id).await?;
        if existing.len() >= api::MAX_ACCESS_KEYS_PER_USER {
            return Err(Error::LimitExceeded(format!(
                "user '{user}' already has {} access keys, the most a user may have; delete one first",
                existing.len()
            )));
        }
        let secret = crypto::new_secret_access_key();
        let row = AccessKeyRow {
            id: crypto::new_access_key_id(),
            account_id: p.account.id.clone(),
            user_id: u.id.clone(),
            secret_ciphertext: self.keys.encrypt_secret(&secret).map_err(Error::internal)?,
            status: api::AccessKeyStatus::Active.as_str().to_owned(),
            created_at: Utc::now(),
            last_used_at: None,
        };
        let row = self.store.access_key_create(row).await?;
        Ok(api::AccessKeyCreated {
            access_key_id: row.id,
            secret_access_key: secret,
            user: u.name,
            status: api::AccessKeyStatus::Active,
            created_at: row.created_at,
        })
    }

    pub async fn access_key_list(&self, p: &Principal, user: &str) -> Result<api::AccessKeyList> {
        self.authorize(p, "iam:ListAccessKeys", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        let rows = self.store.access_key_list_for_user(&u.id).await?;
        Ok(api::AccessKeyList {
            items: rows.iter().map(|r| access_key_view(r, &u.name)).collect(),
        })
    }

    async fn access_key_lookup(&self, user: &UserRow, id: &str) -> Result<AccessKeyRow> {
        self.store
            .access_key_get(id)
            .await?
            .filter(|k| k.user_id == user.id)
            .ok_or_else(|| {
                Error::NotFound(format!("user '{}' has no access key '{id}'", user.name))
            })
    }

    pub async fn access_key_update(
        &self,
        p: &Principal,
        user: &str,
        id: &str,
        req: api::UpdateAccessKeyRequest,
    ) -> Result<api::AccessKey> {
        self.authorize(p, "iam:UpdateAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:UpdateAccessKey")?;
        let key = self.access_key_lookup(&u, id).await?;
        let row = self
            .store
            .access_key_set_status(&key.id, req.status.as_str())
            .await?;
        Ok(access_key_view(&row, &u.name))
    }

    pub async fn access_key_delete(&self, p: &Principal, user: &str, id: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:DeleteAccessKey")?;
        let key = self.access_key_lookup(&u, id).await?;
        self.store.access_key_delete(&key.id).await
    }

    fn user_view(&self, row: &UserRow, account_id: &str) -> api::User {
        api::User {
            id: row.id.clone(),
            name: row.name.clone(),
            nrn: nrn("iam", account_id, "user", &row.name),
            account_id: account_id.to_owned(),
            is_root: row.is_root,
            has_password: row.password_hash.is_some(),
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        }
    }
}

/// Stored documents were validated on write; one that no longer parses is a server bug.
fn parse_stored_policy(row: &PolicyRow) -> Result<policy::PolicyDocument> {
    let value: serde_json::Value = serde_json::from_str(&row.document).map_err(Error::internal)?;
    policy::parse(&value)
        .map_err(|e| Error::internal(format!("stored policy {} no longer parses: {e}", row.id)))
}

/// An account as a resource of the operator's policies, keyed by its id: a permission on a
/// deleted account never carries over to a new account that reuses its name.
fn account_nrn(operator: &Principal, account: &AccountRow) -> String {
    nrn("iam", &operator.account.id, "account", &account.id)
}

fn account_view(p: &Principal, row: &AccountRow) -> api::Account {
    api::Account {
        id: row.id.clone(),
        name: row.name.clone(),
        nrn: account_nrn(p, row),
        is_operator: row.is_operator,
        created_at: row.created_at,
    }
}

fn group_view(row: &GroupRow) -> api::Group {
    api::Group {
        id: row.id.clone(),
        name: row.name.clone(),
        nrn: nrn("iam", &row.account_id, "group", &row.name),
        created_at: row.created_at,
    }
}

fn access_key_view(row: &AccessKeyRow, user: &str) -> api::AccessKey {
    api::AccessKey {
        access_key_id: row.id.clone(),
        user: user.to_owned(),
        status: if row.status == api::AccessKeyStatus::Active.as_str() {
            api::AccessKeyStatus::Active
        } else {
            api::AccessKeyStatus::Inactive
        },
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}
