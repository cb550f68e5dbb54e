//! `cloudctl iam user|group|policy|access-key`: identity and access management.

mod policy;

use clap::Subcommand;
use nuvem_api::iam::{AccessKey, AccessKeyCreated, AccessKeyStatus, Group, GroupDetail, User};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp, timestamp_or_dash};
use crate::session::{ConnectionArgs, read_secret, read_stdin_line};

#[derive(Subcommand)]
pub enum IamCmd {
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Group(GroupCmd),
    #[command(subcommand)]
    Policy(policy::PolicyCmd),
    #[command(subcommand, name = "access-key")]
    AccessKey(AccessKeyCmd),
}

#[derive(Subcommand)]
pub enum UserCmd {
    Create {
        name: String,
        /// Give the user a password, read from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    Get {
        name: String,
    },
    /// Delete a user with its access keys, memberships and attachments.
    Delete {
        name: String,
    },
    /// Set or replace a user's password (read from standard input or a prompt).
    SetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user's password.
    RemovePassword {
        name: String,
    },
    /// Groups the user belongs to.
    Groups {
        name: String,
    },
    /// Policies attached directly to the user.
    Policies {
        name: String,
    },
    AttachPolicy {
        user: String,
        policy: String,
    },
    DetachPolicy {
        user: String,
        policy: String,
    },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    Create {
        name: String,
    },
    List,
    /// A group with its members and policies.
    Get {
        name: String,
    },
    Delete {
        name: String,
    },
    AddUser {
        group: String,
        user: String,
    },
    RemoveUser {
        group: String,
        user: String,
    },
    Policies {
        name: String,
    },
    AttachPolicy {
        group: String,
        policy: String,
    },
    DetachPolicy {
        group: String,
        policy: String,
    },
}

#[derive(Subcommand)]
pub enum AccessKeyCmd {
    /// Create an access key; the secret is shown once.
    Create {
        user: String,
    },
    List {
        user: String,
    },
    Enable {
        user: String,
        key: String,
    },
    Disable {
        user: String,
        key: String,
    },
    Delete {
        user: String,
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
