//! `cloudctl`: Nuvem from the command line, built on `nuvem-sdk`.
//!
//! This file is the top of the argument tree and the dispatch; each service's commands, and how
//! its resources print, are in the service's own file.

mod account;
mod ec2;
mod iam;
mod ops;
mod output;
mod session;
mod vpc;

use clap::{CommandFactory, Parser, Subcommand};
use output::{Format, Out};
use session::ConnectionArgs;

/// Nuvem's command-line interface.
#[derive(Parser)]
#[command(name = "cloudctl", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Output format.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // configure, login, logout, whoami and change-password, at the top level.
    #[command(flatten)]
    Session(session::SessionCmd),
    /// Accounts (tenants); operator only.
    #[command(subcommand)]
    Account(account::AccountCmd),
    /// Users, groups, policies and access keys.
    #[command(subcommand)]
    Iam(iam::IamCmd),
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
    let conn = &cli.connection;
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
        Command::Session(cmd) => session::session(conn, out, cmd).await,
        Command::Health => session::health(conn, out).await,
        // These read the profile too, or (policy validate) need no client: they make their own.
        Command::Account(cmd) => account::account(conn, out, cmd).await,
        Command::Iam(cmd) => iam::iam(conn, out, cmd).await,
        Command::Instance(cmd) => ec2::instance(&conn.client()?, out, cmd).await,
        Command::Image(cmd) => ec2::image(&conn.client()?, out, cmd).await,
        Command::KeyPair(cmd) => ec2::key_pair(&conn.client()?, out, cmd).await,
        Command::InstanceType(cmd) => ec2::instance_type(&conn.client()?, out, cmd).await,
        Command::Host(cmd) => ec2::host(&conn.client()?, out, cmd).await,
        Command::Reconciler(cmd) => ops::reconciler(&conn.client()?, out, cmd).await,
        Command::Vpc(cmd) => vpc::vpc(&conn.client()?, out, cmd).await,
        Command::Subnet(cmd) => vpc::subnet(&conn.client()?, out, cmd).await,
        Command::Sg(cmd) => vpc::sg(&conn.client()?, out, cmd).await,
        Command::Eni(cmd) => vpc::eni(&conn.client()?, out, cmd).await,
        Command::PortForward(cmd) => vpc::port_forward(&conn.client()?, out, cmd).await,
    }
}
