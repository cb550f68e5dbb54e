//! `cloudctl sg`: security groups, their rules, and the iptables rules that enforce them.

use anyhow::bail;
use clap::Subcommand;
use nuvem_api::vpc::{
    AuthorizeRuleRequest, Direction, GeneratedRules, SecurityGroup, SecurityGroupRule,
};
use nuvem_sdk::Client;

use super::ProtocolArg;
use crate::output::{Out, Tabular};

#[derive(Subcommand)]
pub enum SgCmd {
    /// Create a security group: no ingress and all egress until you add rules.
    Create {
        /// The VPC id (vpc-…) the group is for.
        #[arg(long)]
        vpc: String,
        /// The group's name, unique in the VPC.
        #[arg(long)]
        name: String,
        /// What the group is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// List your security groups.
    List {
        /// Only the groups of this VPC (vpc-…).
        #[arg(long)]
        vpc: Option<String>,
    },
    /// Show a group's rules; with --iptables, the kernel rules Nuvem generated for them.
    Rules {
        /// The security group id (sg-…).
        id: String,
        /// Show the generated iptables rules instead.
        #[arg(long)]
        iptables: bool,
    },
    /// Delete a security group (not one an interface uses).
    Delete {
        /// The security group id (sg-…).
        id: String,
    },
    /// Add a rule, e.g. `sg authorize sg-1 --protocol tcp --port 22 --cidr 0.0.0.0/0`.
    Authorize {
        /// The security group id (sg-…).
        id: String,
        /// Ingress (traffic to the group's members) or egress (from them).
        #[arg(long, value_enum, default_value_t = DirectionArg::Ingress)]
        direction: DirectionArg,
        /// The protocol the rule allows.
        #[arg(long, value_enum, default_value_t = ProtocolArg::Tcp)]
        protocol: ProtocolArg,
        /// A port (22) or a range (8000-8100), for tcp and udp.
        #[arg(long)]
        port: Option<String>,
        /// Source (ingress) or destination (egress) block.
        #[arg(long, conflicts_with = "source_group")]
        cidr: Option<String>,
        /// Or the members of another group of the same VPC.
        #[arg(long)]
        source_group: Option<String>,
        /// What the rule is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a rule by its id (see `sg rules`).
    Revoke {
        /// The security group id (sg-…).
        id: String,
        /// The rule's id (the RULE column of `sg rules`).
        rule: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DirectionArg {
    Ingress,
    Egress,
}

/// `22` → (22, None); `8000-8100` → (8000, Some(8100)).
fn parse_ports(text: &str) -> anyhow::Result<(u32, Option<u32>)> {
    let num = |s: &str| -> anyhow::Result<u32> {
        s.trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("'{s}' is not a port number"))
    };
    match text.split_once('-') {
        Some((a, b)) => Ok((num(a)?, Some(num(b)?))),
        None => Ok((num(text)?, None)),
    }
}

pub async fn sg(c: &Client, out: &Out, cmd: &SgCmd) -> anyhow::Result<()> {
    match cmd {
        SgCmd::Create {
            vpc,
            name,
            description,
        } => out.list(&[c
            .create_security_group(vpc, name, description.as_deref())
            .await?]),
        SgCmd::List { vpc } => out.list(&c.list_security_groups(vpc.as_deref()).await?.items),
        SgCmd::Rules {
            id,
            iptables: false,
        } => rules(out, &c.get_security_group(id).await?),
        SgCmd::Rules { id, iptables: true } => {
            out.text(&c.security_group_iptables(id).await?, iptables_text)
        }
        SgCmd::Delete { id } => {
            c.delete_security_group(id).await?;
            out.message(&format!("Deleted security group {id}."));
            Ok(())
        }
        SgCmd::Authorize {
            id,
            direction,
            protocol,
            port,
            cidr,
            source_group,
            description,
        } => {
            let (from_port, to_port) = match port {
                Some(p) => {
                    let (a, b) = parse_ports(p)?;
                    (Some(a), b)
                }
                None => (None, None),
            };
            if cidr.is_none() && source_group.is_none() {
                bail!("give --cidr (e.g. 0.0.0.0/0) or --source-group");
            }
            let rule = AuthorizeRuleRequest {
                direction: match direction {
                    DirectionArg::Ingress => Direction::Ingress,
                    DirectionArg::Egress => Direction::Egress,
                },
                protocol: (*protocol).into(),
                from_port,
                to_port,
                cidr: cidr.clone(),
                source_group_id: source_group.clone(),
                description: description.clone(),
            };
            rules(out, &c.authorize_rule(id, &rule).await?)
        }
        SgCmd::Revoke { id, rule } => {
            c.revoke_rule(id, rule).await?;
            out.message(&format!("Revoked {rule} from {id}."));
            Ok(())
        }
    }
}

/// A group's rules as a table; in JSON mode, the whole group.
fn rules(out: &Out, group: &SecurityGroup) -> anyhow::Result<()> {
    out.rows_of(group, &group.rules)
}

/// `sg rules --iptables`: the generated rules, one per line, ready to read or paste.
fn iptables_text(generated: &GeneratedRules) -> anyhow::Result<String> {
    let mut text = format!(
        "# iptables rules enforcing {} (filter table)\n",
        generated.security_group_id
    );
    for rule in &generated.rules {
        text.push_str(rule);
        text.push('\n');
    }
    Ok(text)
}

impl Tabular for SecurityGroup {
    const COLUMNS: &'static [&'static str] = &["ID", "VPC", "NAME", "RULES", "DESCRIPTION"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.vpc_id.clone(),
            self.name.clone(),
            self.rules.len().to_string(),
            self.description.clone(),
        ]
    }
}

impl Tabular for SecurityGroupRule {
    const COLUMNS: &'static [&'static str] = &[
        "RULE",
        "DIRECTION",
        "PROTOCOL",
        "PORTS",
        "PEER",
        "DESCRIPTION",
    ];

    fn row(&self) -> Vec<String> {
        let ports = match (self.from_port, self.to_port) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "all".into(),
        };
        let peer = self
            .cidr
            .clone()
            .or_else(|| self.source_group_id.as_ref().map(|s| format!("group {s}")))
            .unwrap_or_default();
        vec![
            self.id.clone(),
            format!("{:?}", self.direction).to_lowercase(),
            self.protocol.as_str().into(),
            ports,
            peer,
            self.description.clone(),
        ]
    }
}
