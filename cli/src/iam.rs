//! `cloudctl iam user|group|policy|access-key`: identity and access management.

mod policy;

use clap::Subcommand;
use nuvem_api::iam::{AccessKey, AccessKeyCreated, AccessKeyStatus, Group, GroupDetail, User};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp, timestamp_or_dash};
use crate::session::{ConnectionArgs, read_secret, read_stdin_line};

#[derive(Subcommand)]
pub enum IamCmd {
    /// Users of your account: create, list, passwords, policies.
    #[command(subcommand)]
    User(UserCmd),
    /// Groups of users, and the policies attached to them.
    #[command(subcommand)]
    Group(GroupCmd),
    /// JSON policies (Allow/Deny statements): create, validate, update.
    #[command(subcommand)]
    Policy(policy::PolicyCmd),
    /// Access keys of users, for the SDK and `cloudctl configure`.
    #[command(subcommand, name = "access-key")]
    AccessKey(AccessKeyCmd),
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user (without a password unless --password-stdin).
    Create {
        /// The user's name.
        name: String,
        /// Give the user a password, read from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users of your account.
    List,
    /// Show one user.
    Get {
        /// The user's name.
        name: String,
    },
    /// Delete a user with its access keys, memberships and attachments.
    Delete {
        /// The user's name.
        name: String,
    },
    /// Set or replace a user's password (read from standard input or a prompt).
    SetPassword {
        /// The user's name.
        name: String,
        /// Read the password from standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user's password.
    RemovePassword {
        /// The user's name.
        name: String,
    },
    /// Groups the user belongs to.
    Groups {
        /// The user's name.
        name: String,
    },
    /// Policies attached directly to the user.
    Policies {
        /// The user's name.
        name: String,
    },
    /// Attach a policy to a user.
    AttachPolicy {
        /// The user's name.
        user: String,
        /// The policy's name.
        policy: String,
    },
    /// Detach a policy from a user.
    DetachPolicy {
        /// The user's name.
        user: String,
        /// The policy's name.
        policy: String,
    },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Create a group.
    Create {
        /// The group's name.
        name: String,
    },
    /// List the groups of your account.
    List,
    /// A group with its members and policies.
    Get {
        /// The group's name.
        name: String,
    },
    /// Delete a group (the users in it are not deleted).
    Delete {
        /// The group's name.
        name: String,
    },
    /// Add a user to a group.
    AddUser {
        /// The group's name.
        group: String,
        /// The user's name.
        user: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        /// The group's name.
        group: String,
        /// The user's name.
        user: String,
    },
    /// Policies attached to the group.
    Policies {
        /// The group's name.
        name: String,
    },
    /// Attach a policy to a group: it applies to every member.
    AttachPolicy {
        /// The group's name.
        group: String,
        /// The policy's name.
        policy: String,
    },
    /// Detach a policy from a group.
    DetachPolicy {
        /// The group's name.
        group: String,
        /// The policy's name.
        policy: String,
    },
}

#[derive(Subcommand)]
pub enum AccessKeyCmd {
    /// Create an access key; the secret is shown once.
    Create {
        /// The user the key is for.
        user: String,
    },
    /// List a user's access keys.
    List {
        /// The user's name.
        user: String,
    },
    /// Enable a disabled access key.
    Enable {
        /// The user's name.
        user: String,
        /// The access key id (NKIA…).
        key: String,
    },
    /// Disable an access key: it and the sessions made with it stop working.
    Disable {
        /// The user's name.
        user: String,
        /// The access key id (NKIA…).
        key: String,
    },
    /// Delete an access key.
    Delete {
        /// The user's name.
        user: String,
        /// The access key id (NKIA…).
        key: String,
    },
}

pub async fn iam(conn: &ConnectionArgs, out: &Out, cmd: &IamCmd) -> anyhow::Result<()> {
    match cmd {
        IamCmd::User(cmd) => user(&conn.client()?, out, cmd).await,
        IamCmd::Group(cmd) => group(&conn.client()?, out, cmd).await,
        // `policy validate` works offline, so the policy commands make their client themselves.
        IamCmd::Policy(cmd) => policy::policy(conn, out, cmd).await,
        IamCmd::AccessKey(cmd) => access_key(&conn.client()?, out, cmd).await,
    }
}

async fn user(c: &Client, out: &Out, cmd: &UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Create {
            name,
            password_stdin,
        } => {
            let password = if *password_stdin {
                Some(read_stdin_line("password")?)
            } else {
                None
            };
            out.list(&[c.create_user(name, password.as_deref()).await?])
        }
        UserCmd::List => out.list(&c.list_users_all().await?),
        UserCmd::Get { name } => out.list(&[c.get_user(name).await?]),
        UserCmd::Delete { name } => {
            c.delete_user(name).await?;
            out.message(&format!("Deleted user {name}."));
            Ok(())
        }
        UserCmd::SetPassword {
            name,
            password_stdin,
        } => {
            let password = read_secret(*password_stdin, "New password: ", "password")?;
            c.set_user_password(name, &password).await?;
            out.message(&format!("Set the password of {name}."));
            Ok(())
        }
        UserCmd::RemovePassword { name } => {
            c.delete_user_password(name).await?;
            out.message(&format!("Removed the password of {name}."));
            Ok(())
        }
        UserCmd::Groups { name } => out.names("GROUP", &c.list_groups_for_user(name).await?.items),
        UserCmd::Policies { name } => out.names("POLICY", &c.list_user_policies(name).await?.items),
        UserCmd::AttachPolicy { user, policy } => {
            c.attach_user_policy(user, policy).await?;
            out.message(&format!("Attached {policy} to user {user}."));
            Ok(())
        }
        UserCmd::DetachPolicy { user, policy } => {
            c.detach_user_policy(user, policy).await?;
            out.message(&format!("Detached {policy} from user {user}."));
            Ok(())
        }
    }
}

async fn group(c: &Client, out: &Out, cmd: &GroupCmd) -> anyhow::Result<()> {
    match cmd {
        GroupCmd::Create { name } => out.list(&[c.create_group(name).await?]),
        GroupCmd::List => out.list(&c.list_groups_all().await?),
        GroupCmd::Get { name } => out.detail(&c.get_group(name).await?),
        GroupCmd::Delete { name } => {
            c.delete_group(name).await?;
            out.message(&format!("Deleted group {name}."));
            Ok(())
        }
        GroupCmd::AddUser { group, user } => {
            c.add_user_to_group(group, user).await?;
            out.message(&format!("Added {user} to {group}."));
            Ok(())
        }
        GroupCmd::RemoveUser { group, user } => {
            c.remove_user_from_group(group, user).await?;
            out.message(&format!("Removed {user} from {group}."));
            Ok(())
        }
        GroupCmd::Policies { name } => {
            out.names("POLICY", &c.list_group_policies(name).await?.items)
        }
        GroupCmd::AttachPolicy { group, policy } => {
            c.attach_group_policy(group, policy).await?;
            out.message(&format!("Attached {policy} to group {group}."));
            Ok(())
        }
        GroupCmd::DetachPolicy { group, policy } => {
            c.detach_group_policy(group, policy).await?;
            out.message(&format!("Detached {policy} from group {group}."));
            Ok(())
        }
    }
}

async fn access_key(c: &Client, out: &Out, cmd: &AccessKeyCmd) -> anyhow::Result<()> {
    match cmd {
        AccessKeyCmd::Create { user } => out.detail(&c.create_access_key(user).await?),
        AccessKeyCmd::List { user } => out.list(&c.list_access_keys(user).await?.items),
        AccessKeyCmd::Enable { user, key } => out.list(&[c
            .update_access_key(user, key, AccessKeyStatus::Active)
            .await?]),
        AccessKeyCmd::Disable { user, key } => out.list(&[c
            .update_access_key(user, key, AccessKeyStatus::Inactive)
            .await?]),
        AccessKeyCmd::Delete { user, key } => {
            c.delete_access_key(user, key).await?;
            out.message(&format!("Deleted access key {key} of {user}."));
            Ok(())
        }
    }
}

impl Tabular for User {
    const COLUMNS: &'static [&'static str] =
        &["NAME", "KIND", "PASSWORD", "CREATED", "LAST SIGN-IN", "NRN"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            if self.is_root { "root" } else { "user" }.into(),
            if self.has_password { "yes" } else { "no" }.into(),
            timestamp(&self.created_at),
            timestamp_or_dash(&self.last_login_at),
            self.nrn.clone(),
        ]
    }
}

impl Tabular for Group {
    const COLUMNS: &'static [&'static str] = &["NAME", "CREATED", "NRN"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            timestamp(&self.created_at),
            self.nrn.clone(),
        ]
    }
}

impl Detail for GroupDetail {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.group.name.clone()),
            ("nrn", self.group.nrn.clone()),
            ("members", self.members.join(", ")),
            ("policies", self.policies.join(", ")),
        ]
    }
}

impl Tabular for AccessKey {
    const COLUMNS: &'static [&'static str] =
        &["ACCESS KEY ID", "USER", "STATUS", "CREATED", "LAST USED"];

    fn row(&self) -> Vec<String> {
        vec![
            self.access_key_id.clone(),
            self.user.clone(),
            self.status.as_str().into(),
            timestamp(&self.created_at),
            timestamp_or_dash(&self.last_used_at),
        ]
    }
}

impl Detail for AccessKeyCreated {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("user", self.user.clone()),
            ("access key id", self.access_key_id.clone()),
            ("secret access key", self.secret_access_key.clone()),
            (
                "",
                "the secret is shown only now: store it (cloudctl configure)".into(),
            ),
        ]
    }
}
