//! `cloudctl`: Nuvem from the command line, built on `nuvem-sdk`.
//!
//! This file is the top of the argument tree and the dispatch; each service's commands, and how
//! its resources print, are in the service's own file.

mod account;
mod apps;
mod billing;
mod ec2;
mod hint;
mod iam;
mod ops;
mod output;
mod s3;
mod session;
mod vpc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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
    /// Object storage: buckets, objects, presigned URLs, bucket policies, usage.
    #[command(subcommand)]
    S3(s3::S3Cmd),
    /// Container apps (PaaS): images, deploys, rollouts, scaling, logs, events, internals.
    #[command(subcommand)]
    App(apps::AppCmd),
    /// Load balancers (HAProxy) in front of app replicas or instances.
    #[command(subcommand)]
    Lb(apps::LbCmd),
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
    /// Metering and pay-as-you-go: prices, usage, bills, estimate, budgets, the demo clock.
    #[command(subcommand)]
    Billing(billing::BillingCmd),
    /// Check that the server answers.
    Health,
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to print completions for.
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
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
                let command = subcommand_path(&matches);
                if *code == nuvem_api::ErrorCode::AccessDenied
                    && (OPERATOR_COMMANDS.contains(&command.as_str())
                        || message.contains("operator action"))
                    && let Some(hint) = hint::operator_hint(&cli.connection, &command).await
                {
                    eprintln!("hint:  {hint}");
                }
            }
            _ => eprintln!("error: {err:#}"),
        }
        std::process::exit(1);
    }
}

/// The commands only principals of the operator account may run (the server refuses them to
/// everyone else with AccessDenied, whatever their policies say); `account quotas ACCOUNT` is one
/// too, recognised by the server's message.
const OPERATOR_COMMANDS: &[&str] = &[
    "account create",
    "account list",
    "account get",
    "account assume",
    "account delete",
    "host list",
    "image import",
    "image delete",
    "instance-type set",
    "reconciler list",
    "reconciler run",
    "vpc reconcile",
    "billing set-price",
    "billing clock set",
];

/// The words naming the command that ran, e.g. `host list`.
fn subcommand_path(matches: &clap::ArgMatches) -> String {
    let mut words = Vec::new();
    let mut at = matches;
    while let Some((name, sub)) = at.subcommand() {
        words.push(name);
        at = sub;
    }
    words.join(" ")
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
        Command::S3(cmd) => s3::s3(&conn.client()?, out, cmd).await,
        Command::App(cmd) => apps::app(&conn.client()?, out, cmd).await,
        Command::Lb(cmd) => apps::lb(&conn.client()?, out, cmd).await,
        Command::Vpc(cmd) => vpc::vpc(&conn.client()?, out, cmd).await,
        Command::Subnet(cmd) => vpc::subnet(&conn.client()?, out, cmd).await,
        Command::Sg(cmd) => vpc::sg(&conn.client()?, out, cmd).await,
        Command::Eni(cmd) => vpc::eni(&conn.client()?, out, cmd).await,
        Command::PortForward(cmd) => vpc::port_forward(&conn.client()?, out, cmd).await,
        Command::Billing(cmd) => billing::billing(&conn.client()?, out, cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and every argument of `cmd` and below without a help text, by path.
    fn without_help(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path}: argument {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                missing.push(sub_path.clone());
            }
            without_help(sub, &sub_path, missing);
        }
    }

    #[test]
    fn every_command_and_flag_has_help() {
        let mut cli = Cli::command();
        // Built: the global flags and the generated --help/--version are on every command.
        cli.build();
        let mut missing = Vec::new();
        without_help(&cli, "cloudctl", &mut missing);
        assert!(
            missing.is_empty(),
            "without help text:\n  {}",
            missing.join("\n  ")
        );
    }

    #[test]
    fn the_argument_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn instance_lifecycle_commands_take_several_ids() {
        for verb in ["stop", "start", "reboot", "terminate"] {
            let cli = Cli::try_parse_from(["cloudctl", "instance", verb, "i-1", "i-2", "i-3"])
                .unwrap_or_else(|e| panic!("instance {verb}: {e}"));
            let ids = match cli.command {
                Command::Instance(
                    ec2::InstanceCmd::Stop { ids }
                    | ec2::InstanceCmd::Start { ids }
                    | ec2::InstanceCmd::Reboot { ids }
                    | ec2::InstanceCmd::Terminate { ids },
                ) => ids,
                _ => panic!("instance {verb} parsed as another command"),
            };
            assert_eq!(ids, ["i-1", "i-2", "i-3"]);
            assert!(
                Cli::try_parse_from(["cloudctl", "instance", verb]).is_err(),
                "instance {verb} needs an id"
            );
        }
    }

    #[test]
    fn the_command_path_names_the_subcommands() {
        let matches = Cli::command()
            .try_get_matches_from([
                "cloudctl",
                "--profile",
                "turma",
                "host",
                "list",
                "-o",
                "json",
            ])
            .expect("parses");
        assert_eq!(subcommand_path(&matches), "host list");
        let known = |args: &[&str]| {
            let m = Cli::command().try_get_matches_from(args).expect("parses");
            subcommand_path(&m)
        };
        for command in OPERATOR_COMMANDS {
            let mut args = vec!["cloudctl"];
            args.extend(command.split(' '));
            // The positional arguments some of them need.
            match *command {
                "account create" | "account get" | "account assume" | "account delete" => {
                    args.push("x")
                }
                "image import" => args.extend(["--name", "x", "--kernel", "k"]),
                "image delete" => args.push("ami-1"),
                "instance-type set" => args.extend([
                    "x",
                    "--vcpus",
                    "1",
                    "--memory-mib",
                    "1",
                    "--disk-gib",
                    "1",
                    "--price-per-hour",
                    "0",
                ]),
                "reconciler run" => args.push("vpc"),
                "billing set-price" => args.extend(["ec2.disk", "0.1"]),
                "billing clock set" => args.extend(["turma", "--factor", "60"]),
                _ => {}
            }
            assert_eq!(known(&args), *command, "{args:?}");
        }
    }
}
