//! `cloudctl`: Nuvem from the command line, built on `nuvem-sdk`.

mod ec2;
mod ops;
mod output;
mod vpc;

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand};
use nuvem_api::iam::AccessKeyStatus;
use nuvem_sdk::config::{ConfigFile, DEFAULT_PROFILE};
use nuvem_sdk::{Client, Credentials};
use output::{Format, Out};

/// Nuvem's command-line interface.
#[derive(Parser)]
#[command(name = "cloudctl", version, about, propagate_version = true)]
struct Cli {
    /// API endpoint, e.g. http://127.0.0.1:8080 (else NUVEM_ENDPOINT, else the profile's).
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Profile of ~/.nuvem/config.toml to use (else NUVEM_PROFILE, else "default").
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Output format.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Save an endpoint and access key in a profile of ~/.nuvem/config.toml.
    Configure {
        #[arg(long)]
        access_key_id: Option<String>,
        /// Read the secret access key from standard input instead of a prompt.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Sign in with a password; the session is saved in the profile.
    Login {
        /// Account name (e.g. admin, or your class account).
        #[arg(long, short)]
        account: String,
        /// User name (an account's root user is "root").
        #[arg(long, short, default_value = "root")]
        user: String,
        /// Read the password from standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the session saved by `login`.
    Logout,
    /// Show who you are signed in as.
    Whoami,
    /// Change your own password.
    ChangePassword {
        /// Read the current and the new password, one per line, from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Accounts (tenants); operator only.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Users, groups, policies and access keys.
    #[command(subcommand)]
    Iam(IamCmd),
    /// Instances: launch, list, stop, start, reboot, terminate, console, ssh.
    #[command(subcommand)]
    Instance(ec2::InstanceCmd),
    /// Images (AMIs).
    #[command(subcommand)]
    Image(ec2::ImageCmd),
    /// SSH key pairs for instances.
    #[command(subcommand, name = "key-pair")]
    KeyPair(ec2::KeyPairCmd),
    /// The instance type catalog.
    #[command(subcommand, name = "instance-type")]
    InstanceType(ec2::InstanceTypeCmd),
    /// Hosts and their capacity (operator).
    #[command(subcommand)]
    Host(ec2::HostCmd),
    /// The background reconcilers: database against host (operator).
    #[command(subcommand)]
    Reconciler(ops::ReconcilerCmd),
    /// VPCs, the internet gateway, trace, reconcile.
    #[command(subcommand)]
    Vpc(vpc::VpcCmd),
    /// Subnets: Linux bridges with DHCP.
    #[command(subcommand)]
    Subnet(vpc::SubnetCmd),
    /// Security groups and their rules.
    #[command(subcommand)]
    Sg(vpc::SgCmd),
    /// Network interfaces.
    #[command(subcommand)]
    Eni(vpc::EniCmd),
    /// Host ports forwarded to private addresses.
    #[command(subcommand, name = "port-forward")]
    PortForward(vpc::PortForwardCmd),
    /// Check that the server answers.
    Health,
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum AccountCmd {
    /// Create an account with its root user; prints the generated root password once.
    Create {
        name: String,
        /// Read the root password from standard input instead of generating one.
        #[arg(long)]
        root_password_stdin: bool,
    },
    List,
    Get {
        name: String,
    },
    /// Act as the root user of an account: the session is saved in the profile (--profile).
    Assume {
        name: String,
    },
    /// Delete an account and everything in it.
    Delete {
        name: String,
    },
    /// Show an account's quotas and usage (your own without ACCOUNT); the operator changes them
    /// with --set.
    Quotas {
        /// The account (operator only); omit it for your own.
        account: Option<String>,
        /// NAME=VALUE to set a limit, NAME=default to go back to the operator's default
        /// (repeatable), e.g. --set vpcs=10 --set instances=default.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
}

#[derive(Subcommand)]
enum IamCmd {
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Group(GroupCmd),
    #[command(subcommand)]
    Policy(PolicyCmd),
    #[command(subcommand, name = "access-key")]
    AccessKey(AccessKeyCmd),
}

#[derive(Subcommand)]
enum UserCmd {
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
enum GroupCmd {
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
enum PolicyCmd {
    /// Create a policy from a JSON document (a file, or - for standard input).
    Create {
        name: String,
        #[arg(long)]
        document: String,
        #[arg(long)]
        description: Option<String>,
    },
    List,
    Get {
        name: String,
    },
    /// Replace a policy's document.
    Update {
        name: String,
        #[arg(long)]
        document: String,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        name: String,
    },
    /// Check a policy document locally, without sending it.
    Validate {
        #[arg(long)]
        document: String,
    },
}

#[derive(Subcommand)]
enum AccessKeyCmd {
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

fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what}"))?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(line)
}

/// A secret from standard input (`--*-stdin`) or a hidden prompt.
fn read_secret(from_stdin: bool, prompt: &str, what: &str) -> anyhow::Result<String> {
    if from_stdin {
        return read_stdin_line(what);
    }
    if !std::io::stdin().is_terminal() {
        bail!("standard input is not a terminal: pass the {what} with --*-stdin (see --help)");
    }
    Ok(rpassword::prompt_password(prompt)?)
}

fn read_document(arg: &str) -> anyhow::Result<serde_json::Value> {
    let text = if arg == "-" {
        std::io::read_to_string(std::io::stdin())
            .context("reading the document from standard input")?
    } else {
        std::fs::read_to_string(arg).with_context(|| format!("reading {arg}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{arg} is not valid JSON"))
}

fn profile_name(cli: &Cli) -> String {
    cli.profile
        .clone()
        .or_else(|| {
            std::env::var("NUVEM_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
}

fn client(cli: &Cli) -> anyhow::Result<Client> {
    let mut b = Client::builder();
    if let Some(e) = &cli.endpoint {
        b = b.endpoint(e);
    }
    if let Some(p) = &cli.profile {
        b = b.profile(p);
    }
    Ok(b.build()?)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let out = Out::new(cli.output);
    if let Err(err) = run(&cli, &out).await {
        match err.downcast_ref::<nuvem_sdk::Error>() {
            Some(nuvem_sdk::Error::Api {
                code,
                message,
                request_id,
                ..
            }) => {
                eprintln!("error: {message}");
                eprintln!("       ({code}, request {request_id})");
            }
            _ => eprintln!("error: {err:#}"),
        }
        std::process::exit(1);
    }
}

async fn run(cli: &Cli, out: &Out) -> anyhow::Result<()> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "cloudctl",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Configure {
            access_key_id,
            secret_stdin,
        } => configure(cli, out, access_key_id, *secret_stdin),
        Command::Login {
            account,
            user,
            password_stdin,
        } => {
            let password = read_secret(*password_stdin, "Password: ", "password")?;
            let anonymous = {
                let mut b = Client::builder().credentials(Credentials::Anonymous);
                if let Some(e) = &cli.endpoint {
                    b = b.endpoint(e);
                } else if let Some(e) = ConfigFile::load()?
                    .profile(&profile_name(cli))
                    .and_then(|p| p.endpoint.clone())
                {
                    b = b.endpoint(e);
                }
                b.build()?
            };
            let session = anonymous.login(account, user, &password).await?;
            let mut file = ConfigFile::load()?;
            let name = profile_name(cli);
            let profile = file.profile_mut(&name);
            profile.endpoint = Some(anonymous.endpoint().to_owned());
            profile.session_token = Some(session.token.clone());
            profile.session_expires_at = Some(session.expires_at);
            // A password sign-in replaces the profile's key, so that the session is what is used.
            profile.access_key_id = None;
            profile.secret_access_key = None;
            let path = file.save()?;
            out.message(&format!(
                "Signed in as {} in account {} until {} (profile '{name}' in {}).",
                session.identity.user,
                session.identity.account_name,
                session.expires_at.format("%Y-%m-%d %H:%M UTC"),
                path.display()
            ));
            out.identity(&session.identity)
        }
        Command::Logout => {
            let mut file = ConfigFile::load()?;
            let name = profile_name(cli);
            let had_session = file
                .profile(&name)
                .is_some_and(|p| p.session_token.is_some());
            // End the session on the server first, so that a copy of the token is worthless too;
            // an already expired or revoked one is forgotten all the same.
            let ended = if had_session {
                match client(cli)?.logout().await {
                    Ok(()) => "ended on the server",
                    Err(e) if e.status() == Some(401) => "had already ended",
                    Err(e) => return Err(e.into()),
                }
            } else {
                "none was saved"
            };
            let profile = file.profile_mut(&name);
            profile.session_token = None;
            profile.session_expires_at = None;
            file.save()?;
            out.message(&format!(
                "Signed out (profile '{name}'; the session {ended})."
            ));
            Ok(())
        }
        Command::Whoami => out.identity(&client(cli)?.whoami().await?),
        Command::ChangePassword { password_stdin } => {
            let (old, new) = if *password_stdin {
                (
                    read_stdin_line("current password")?,
                    read_stdin_line("new password")?,
                )
            } else {
                let old = read_secret(false, "Current password: ", "current password")?;
                let new = read_secret(false, "New password: ", "new password")?;
                if read_secret(false, "New password again: ", "new password")? != new {
                    bail!("the two new passwords differ");
                }
                (old, new)
            };
            let session = client(cli)?.change_password(&old, &new).await?;
            // Sessions made with the old password have ended; a profile signed in with one
            // goes on with the new session.
            let mut file = ConfigFile::load()?;
            let name = profile_name(cli);
            let signed_in_with_password = file
                .profile(&name)
                .is_some_and(|p| p.session_token.is_some() && p.access_key_id.is_none());
            if signed_in_with_password {
                let profile = file.profile_mut(&name);
                profile.session_token = Some(session.token.clone());
                profile.session_expires_at = Some(session.expires_at);
                file.save()?;
            }
            out.message(
                "Password changed; every other session made with the old password has ended.",
            );
            Ok(())
        }
        Command::Health => {
            let h = client(cli)?.health().await?;
            out.value(
                &h,
                |h| {
                    vec![
                        vec!["status".into(), h.status.clone()],
                        vec!["version".into(), h.version.clone()],
                        vec!["database".into(), h.database.clone()],
                    ]
                },
                &["", ""],
            )
        }
        Command::Account(cmd) => account(cli, out, cmd).await,
        Command::Iam(IamCmd::User(cmd)) => user(cli, out, cmd).await,
        Command::Iam(IamCmd::Group(cmd)) => group(cli, out, cmd).await,
        Command::Iam(IamCmd::Policy(cmd)) => policy(cli, out, cmd).await,
        Command::Iam(IamCmd::AccessKey(cmd)) => access_key(cli, out, cmd).await,
        Command::Instance(cmd) => ec2::instance(&client(cli)?, out, cmd).await,
        Command::Image(cmd) => ec2::image(&client(cli)?, out, cmd).await,
        Command::KeyPair(cmd) => ec2::key_pair(&client(cli)?, out, cmd).await,
        Command::InstanceType(cmd) => ec2::instance_type(&client(cli)?, out, cmd).await,
        Command::Host(cmd) => ec2::host(&client(cli)?, out, cmd).await,
        Command::Reconciler(cmd) => ops::reconciler(&client(cli)?, out, cmd).await,
        Command::Vpc(cmd) => vpc::vpc(&client(cli)?, out, cmd).await,
        Command::Subnet(cmd) => vpc::subnet(&client(cli)?, out, cmd).await,
        Command::Sg(cmd) => vpc::sg(&client(cli)?, out, cmd).await,
        Command::Eni(cmd) => vpc::eni(&client(cli)?, out, cmd).await,
        Command::PortForward(cmd) => vpc::port_forward(&client(cli)?, out, cmd).await,
    }
}

fn configure(
    cli: &Cli,
    out: &Out,
    access_key_id: &Option<String>,
    secret_stdin: bool,
) -> anyhow::Result<()> {
    let mut file = ConfigFile::load()?;
    let name = profile_name(cli);
    let profile = file.profile_mut(&name);
    if let Some(e) = &cli.endpoint {
        profile.endpoint = Some(e.clone());
    }
    if profile.endpoint.is_none() {
        profile.endpoint = Some(nuvem_sdk::DEFAULT_ENDPOINT.to_owned());
    }
    let key_id = match access_key_id {
        Some(id) => id.clone(),
        None if std::io::stdin().is_terminal() => {
            eprint!("Access key id: ");
            read_stdin_line("access key id")?
        }
        None => bail!("pass --access-key-id (and the secret with --secret-stdin)"),
    };
    let secret = read_secret(secret_stdin, "Secret access key: ", "secret access key")?;
    profile.access_key_id = Some(key_id);
    profile.secret_access_key = Some(secret);
    profile.session_token = None;
    profile.session_expires_at = None;
    let path = file.save()?;
    out.message(&format!("Saved profile '{name}' in {}.", path.display()));
    Ok(())
}

async fn account(cli: &Cli, out: &Out, cmd: &AccountCmd) -> anyhow::Result<()> {
    let c = client(cli)?;
    match cmd {
        AccountCmd::Create {
            name,
            root_password_stdin,
        } => {
            let pw = if *root_password_stdin {
                Some(read_stdin_line("root password")?)
            } else {
                None
            };
            let created = c.create_account(name, pw.as_deref()).await?;
            out.account_created(&created)
        }
        AccountCmd::List => out.accounts(&c.list_accounts_all().await?),
        AccountCmd::Get { name } => out.accounts(&[c.get_account(name).await?]),
        AccountCmd::Assume { name } => {
            let session = c.assume_account(name).await?;
            let mut file = ConfigFile::load()?;
            let profile_name = profile_name(cli);
            let profile = file.profile_mut(&profile_name);
            profile.endpoint = Some(c.endpoint().to_owned());
            profile.session_token = Some(session.token.clone());
            profile.session_expires_at = Some(session.expires_at);
            profile.access_key_id = None;
            profile.secret_access_key = None;
            file.save()?;
            out.message(&format!(
                "Acting as root of account {} in profile '{profile_name}' until {}.",
                session.identity.account_name,
                session.expires_at.format("%H:%M UTC")
            ));
            out.identity(&session.identity)
        }
        AccountCmd::Delete { name } => {
            c.delete_account(name).await?;
            out.message(&format!("Deleted account {name}."));
            Ok(())
        }
        AccountCmd::Quotas { account, set } => {
            let quotas = match (account, set.is_empty()) {
                (None, true) => c.quotas().await?,
                (None, false) => bail!("--set needs the ACCOUNT whose quotas change"),
                (Some(a), true) => c.account_quotas(a).await?,
                (Some(a), false) => {
                    let mut limits = std::collections::BTreeMap::new();
                    for item in set {
                        let Some((name, value)) = item.split_once('=') else {
                            bail!("--set {item}: write NAME=VALUE, e.g. --set vpcs=10");
                        };
                        let value = match value {
                            "default" => None,
                            v => Some(v.parse::<u64>().map_err(|_| {
                                anyhow::anyhow!(
                                    "--set {item}: the value must be a whole number or 'default'"
                                )
                            })?),
                        };
                        limits.insert(name.to_owned(), value);
                    }
                    c.set_account_quotas(a, limits).await?
                }
            };
            out.quotas(&quotas)
        }
    }
}

async fn user(cli: &Cli, out: &Out, cmd: &UserCmd) -> anyhow::Result<()> {
    let c = client(cli)?;
    match cmd {
        UserCmd::Create {
            name,
            password_stdin,
        } => {
            let pw = if *password_stdin {
                Some(read_stdin_line("password")?)
            } else {
                None
            };
            out.users(&[c.create_user(name, pw.as_deref()).await?])
        }
        UserCmd::List => out.users(&c.list_users_all().await?),
        UserCmd::Get { name } => out.users(&[c.get_user(name).await?]),
        UserCmd::Delete { name } => {
            c.delete_user(name).await?;
            out.message(&format!("Deleted user {name}."));
            Ok(())
        }
        UserCmd::SetPassword {
            name,
            password_stdin,
        } => {
            let pw = read_secret(*password_stdin, "New password: ", "password")?;
            c.set_user_password(name, &pw).await?;
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

async fn group(cli: &Cli, out: &Out, cmd: &GroupCmd) -> anyhow::Result<()> {
    let c = client(cli)?;
    match cmd {
        GroupCmd::Create { name } => out.groups(&[c.create_group(name).await?]),
        GroupCmd::List => out.groups(&c.list_groups_all().await?),
        GroupCmd::Get { name } => out.group_detail(&c.get_group(name).await?),
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

async fn policy(cli: &Cli, out: &Out, cmd: &PolicyCmd) -> anyhow::Result<()> {
    if let PolicyCmd::Validate { document } = cmd {
        let doc = read_document(document)?;
        return match nuvem_api::policy::parse(&doc) {
            Ok(p) => {
                out.message(&format!(
                    "The policy is valid: {} statement(s).",
                    p.statements.len()
                ));
                Ok(())
            }
            Err(e) => bail!("invalid policy document: {e}"),
        };
    }
    let c = client(cli)?;
    match cmd {
        PolicyCmd::Create {
            name,
            document,
            description,
        } => {
            let doc = read_document(document)?;
            out.policies(&[c.create_policy(name, description.as_deref(), doc).await?])
        }
        PolicyCmd::List => out.policies(&c.list_policies_all().await?),
        PolicyCmd::Get { name } => out.policy_detail(&c.get_policy(name).await?),
        PolicyCmd::Update {
            name,
            document,
            description,
        } => {
            let doc = read_document(document)?;
            out.policies(&[c.update_policy(name, description.as_deref(), doc).await?])
        }
        PolicyCmd::Delete { name } => {
            c.delete_policy(name).await?;
            out.message(&format!("Deleted policy {name}."));
            Ok(())
        }
        PolicyCmd::Validate { .. } => Ok(()),
    }
}

async fn access_key(cli: &Cli, out: &Out, cmd: &AccessKeyCmd) -> anyhow::Result<()> {
    let c = client(cli)?;
    match cmd {
        AccessKeyCmd::Create { user } => out.access_key_created(&c.create_access_key(user).await?),
        AccessKeyCmd::List { user } => out.access_keys(&c.list_access_keys(user).await?.items),
        AccessKeyCmd::Enable { user, key } => out.access_keys(&[c
            .update_access_key(user, key, AccessKeyStatus::Active)
            .await?]),
        AccessKeyCmd::Disable { user, key } => out.access_keys(&[c
            .update_access_key(user, key, AccessKeyStatus::Inactive)
            .await?]),
        AccessKeyCmd::Delete { user, key } => {
            c.delete_access_key(user, key).await?;
            out.message(&format!("Deleted access key {key} of {user}."));
            Ok(())
        }
    }
}
