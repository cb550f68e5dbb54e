//! IAM: accounts (operator), users, access keys, groups and policies.

use reqwest::Method;

use crate::{Client, Result};
use nuvem_api::ListParams;
use nuvem_api::iam::*;

impl Client {
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
