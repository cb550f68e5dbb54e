//! Accounts (tenants): the operator account made on first start, and the operator-only operations
//! on accounts, assuming one included.

use chrono::Utc;
use nuvem_api::iam as api;
use nuvem_api::{ListParams, nrn::nrn, validate};

use super::{Iam, Principal, check, crypto, page_limit};
use crate::error::{Error, Result};
use crate::store::{AccountRow, UserRow};

/// What the first start did about the operator account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    AlreadyDone,
    CreatedWithGivenPassword,
    /// The password to show once.
    CreatedWithGeneratedPassword(String),
}

impl Iam {
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
    pub(super) async fn account_for(
        &self,
        p: &Principal,
        action: &str,
        name: &str,
    ) -> Result<AccountRow> {
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

    /// Removes an account and everything IAM holds in it; an account already gone is no error
    /// (the deletion saga may run this step again after a restart).
    pub async fn account_delete_rows(&self, account_id: &str) -> Result<()> {
        if self.store.account_get(account_id).await?.is_none() {
            return Ok(());
        }
        self.store.account_delete(account_id).await
    }
}

/// An account as a resource of the operator's policies, keyed by its id: a permission on a
/// deleted account never carries over to a new account that reuses its name.
pub(super) fn account_nrn(operator: &Principal, account: &AccountRow) -> String {
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
