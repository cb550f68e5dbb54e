//! IAM and authentication: accounts, users, groups, policies, access keys, sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every IAM action Nuvem authorizes, as written in policies (`iam:<Action>`).
pub const ACTIONS: &[&str] = &[
    "iam:CreateAccount",
    "iam:ListAccounts",
    "iam:GetAccount",
    "iam:DeleteAccount",
    "iam:AssumeAccount",
    "iam:GetAccountQuotas",
    "iam:SetAccountQuotas",
    "iam:CreateUser",
    "iam:ListUsers",
    "iam:GetUser",
    "iam:DeleteUser",
    "iam:UpdateLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:ListGroupsForUser",
    "iam:CreateGroup",
    "iam:ListGroups",
    "iam:GetGroup",
    "iam:DeleteGroup",
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:CreatePolicy",
    "iam:ListPolicies",
    "iam:GetPolicy",
    "iam:UpdatePolicy",
    "iam:DeletePolicy",
    "iam:AttachUserPolicy",
    "iam:DetachUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:AttachGroupPolicy",
    "iam:DetachGroupPolicy",
    "iam:ListAttachedGroupPolicies",
    "iam:CreateAccessKey",
    "iam:ListAccessKeys",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
];

/// The name of every account's root user.
pub const ROOT_USER: &str = "root";
/// The operator's account, created on first start.
pub const OPERATOR_ACCOUNT: &str = "admin";

// ---------------------------------------------------------------------------------------------
// Authentication

/// Sign in with a password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Account name, e.g. `admin` or `turma-a`.
    pub account: String,
    /// User name; the account's root user is `root`.
    pub user: String,
    pub password: String,
}

/// Exchange an access key for a session token (as AWS STS `GetSessionToken`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Lifetime of the token in seconds (60 to 43200, default 3600).
    #[serde(default)]
    pub duration_seconds: Option<u32>,
}

/// A short-lived bearer token: send it as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub identity: Identity,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    Password,
    AccessKey,
}

/// Who the caller is (`cloudctl whoami`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub account_id: String,
    pub account_name: String,
    pub user: String,
    pub user_nrn: String,
    pub is_root: bool,
    /// True for principals of the operator account, which may manage accounts.
    pub is_operator: bool,
    pub auth_method: AuthMethod,
    /// Set when the session came from an access key.
    pub access_key_id: Option<String>,
    /// For a session from `POST /v1/accounts/{account}/assume`: the operator user who assumed
    /// this account (its NRN). Such a session ends when that user loses the permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_by: Option<String>,
}

/// Change the caller's own password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

// ---------------------------------------------------------------------------------------------
// Accounts

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// Twelve digits, as AWS account ids.
    pub id: String,
    pub name: String,
    /// The account as a resource of the operator's policies: `nrn:nuvem:iam:<operator
    /// account>:account/<account id>`. Keyed by id, so that a permission on a deleted account
    /// never carries over to a new account of the same name.
    #[serde(default)]
    pub nrn: String,
    pub is_operator: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub name: String,
    /// Password of the new account's root user; generated (and returned once) when omitted.
    #[serde(default)]
    pub root_password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountCreated {
    pub account: Account,
    /// Always `root`.
    pub root_user: String,
    /// The generated root password, shown only in this response; absent when you chose one.
    pub generated_root_password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<Account>,
    pub next_marker: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Users

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub account_id: String,
    pub is_root: bool,
    /// Whether the user can sign in with a password (has a login profile).
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub name: String,
    /// Optional console password (creates the login profile).
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    pub next_marker: Option<String>,
}

/// Set or replace a user's password (AWS `UpdateLoginProfile`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginProfileRequest {
    pub password: String,
}

// ---------------------------------------------------------------------------------------------
// Groups

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupDetail {
    #[serde(flatten)]
    pub group: Group,
    /// Names of the member users.
    pub members: Vec<String>,
    /// Names of the attached policies.
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupList {
    pub items: Vec<Group>,
    pub next_marker: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Policies

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub description: String,
    /// The policy document (`Version`, `Statement`).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// How many users and groups it is attached to.
    pub attachment_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyRequest {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePolicyRequest {
    #[serde(default)]
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyList {
    pub items: Vec<Policy>,
    pub next_marker: Option<String>,
}

/// Attach a policy (by name) to a user or group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicyRequest {
    pub policy: String,
}

/// Names of policies attached to a principal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachedPolicies {
    pub items: Vec<String>,
}

/// Names of groups a user belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupNames {
    pub items: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Access keys

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(AccessKeyStatus::Active),
            "Inactive" => Some(AccessKeyStatus::Inactive),
            _ => None,
        }
    }
}

/// Most access keys one user may have (as AWS).
pub const MAX_ACCESS_KEYS_PER_USER: usize = 2;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessKey {
    pub access_key_id: String,
    pub user: String,
    pub status: AccessKeyStatus,
    pub created_at: DateTime<Utc>,
    /// Last time the key was exchanged for a session or used to sign a request.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new access key. The secret is shown only here, once: store it now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessKeyCreated {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub user: String,
    pub status: AccessKeyStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessKeyList {
    pub items: Vec<AccessKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccessKeyRequest {
    pub status: AccessKeyStatus,
}

// ---------------------------------------------------------------------------------------------
// Quotas

/// A per-account quota: its name (as used in `cloudctl account quotas --set NAME=VALUE`) and what
/// it counts.
pub const QUOTAS: &[(&str, &str)] = &[
    ("vpcs", "VPCs, the default VPC included"),
    (
        "vpc_addresses",
        "IPv4 addresses in all VPC blocks together (a /20 is 4096)",
    ),
    ("subnets", "subnets in all VPCs"),
    (
        "security_groups",
        "security groups, default groups included",
    ),
    (
        "network_interfaces",
        "network interfaces, those of instances included",
    ),
    (
        "port_forwards",
        "port forwards (host ports published to private addresses)",
    ),
    ("instances", "instances that are not terminated"),
    (
        "vcpus",
        "vCPUs of instances that hold capacity (pending, running, stopping), and of app replicas (rounded up)",
    ),
    (
        "memory_mib",
        "memory (MiB) of instances that hold capacity, and of app replicas",
    ),
    (
        "app_replicas",
        "replicas of container apps, all apps together",
    ),
];

/// One number per quota of [`QUOTAS`]: an account's limits, or what it uses. The operator's
/// default limits are [`Default`] (and fill in what a `[quotas]` table leaves out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaValues {
    pub vpcs: u64,
    pub vpc_addresses: u64,
    pub subnets: u64,
    pub security_groups: u64,
    pub network_interfaces: u64,
    pub port_forwards: u64,
    pub instances: u64,
    pub vcpus: u64,
    pub memory_mib: u64,
    pub app_replicas: u64,
}

impl Default for QuotaValues {
    /// AWS's default of 5 VPCs; room for four default-sized VPCs (a /20 each), so that 256
    /// accounts fit in the default /10 pool; enough instances for a lab, not for the whole host.
    fn default() -> Self {
        QuotaValues {
            vpcs: 5,
            vpc_addresses: 16_384,
            subnets: 20,
            security_groups: 25,
            network_interfaces: 25,
            port_forwards: 5,
            instances: 20,
            vcpus: 16,
            memory_mib: 16_384,
            app_replicas: 10,
        }
    }
}

impl QuotaValues {
    /// The value under a quota's name; `None` for a name that is no quota.
    pub fn get(&self, quota: &str) -> Option<u64> {
        Some(match quota {
            "vpcs" => self.vpcs,
            "vpc_addresses" => self.vpc_addresses,
            "subnets" => self.subnets,
            "security_groups" => self.security_groups,
            "network_interfaces" => self.network_interfaces,
            "port_forwards" => self.port_forwards,
            "instances" => self.instances,
            "vcpus" => self.vcpus,
            "memory_mib" => self.memory_mib,
            "app_replicas" => self.app_replicas,
            _ => return None,
        })
    }
}

/// One quota of an account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Quota {
    /// One of [`QUOTAS`]: `vpcs`, `instances`, `vcpus`, ...
    pub name: String,
    pub description: String,
    /// The limit in force.
    pub limit: u64,
    /// What the account uses now.
    pub used: u64,
    /// True when the limit is the operator's default (no override for this account).
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaList {
    pub account_id: String,
    pub account_name: String,
    pub items: Vec<Quota>,
}

/// Sets (a number) or resets to the default (`null`) some quotas of an account. Operator only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuotasRequest {
    pub limits: std::collections::BTreeMap<String, Option<u64>>,
}
