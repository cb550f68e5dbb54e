//! VPC networking: VPCs, subnets, security groups and their rules, network interfaces, port
//! forwards, and the trace tool.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every VPC action Nuvem authorizes, as written in policies (`vpc:<Action>`).
pub const ACTIONS: &[&str] = &[
    "vpc:CreateVpc",
    "vpc:DescribeVpcs",
    "vpc:DeleteVpc",
    "vpc:SetInternetGateway",
    "vpc:CreateSubnet",
    "vpc:DescribeSubnets",
    "vpc:DeleteSubnet",
    "vpc:CreateSecurityGroup",
    "vpc:DescribeSecurityGroups",
    "vpc:DeleteSecurityGroup",
    "vpc:AuthorizeSecurityGroupRule",
    "vpc:RevokeSecurityGroupRule",
    "vpc:CreateNetworkInterface",
    "vpc:DescribeNetworkInterfaces",
    "vpc:DeleteNetworkInterface",
    "vpc:ModifyNetworkInterface",
    "vpc:CreatePortForward",
    "vpc:DescribePortForwards",
    "vpc:DeletePortForward",
    "vpc:Trace",
    "vpc:Reconcile",
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub cidr: String,
    pub is_default: bool,
    /// Whether instances may reach the outside world through NAT.
    pub internet_gateway: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVpcRequest {
    /// IPv4 block, /16 to /28, inside the host's pool (e.g. 10.64.0.0/10).
    pub cidr: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VpcList {
    pub items: Vec<Vpc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InternetGatewayRequest {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub nrn: String,
    pub cidr: String,
    /// The host's address in the subnet: the guests' default gateway and DHCP server.
    pub gateway: String,
    /// The Linux bridge that implements the subnet.
    pub bridge: String,
    /// Addresses still free for interfaces (AWS reserves five per subnet).
    pub available_addresses: u64,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubnetRequest {
    pub vpc_id: String,
    /// IPv4 block inside the VPC's, /16 to /28.
    pub cidr: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubnetList {
    pub items: Vec<Subnet>,
}

/// Query of list calls that can be narrowed to one VPC.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VpcFilter {
    /// Only resources of this VPC.
    pub vpc_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    All,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ingress" => Some(Direction::Ingress),
            "egress" => Some(Direction::Egress),
            _ => None,
        }
    }
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "icmp" => Some(Protocol::Icmp),
            "all" => Some(Protocol::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::All => "all",
        }
    }

    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

/// One rule of a security group. Exactly one of `cidr` and `source_group_id` is set; for egress
/// rules they name the destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecurityGroupRule {
    pub id: String,
    pub direction: Direction,
    pub protocol: Protocol,
    /// First port (tcp/udp only).
    pub from_port: Option<u16>,
    /// Last port (tcp/udp only).
    pub to_port: Option<u16>,
    pub cidr: Option<String>,
    /// Another security group of the same VPC: its members' addresses.
    pub source_group_id: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub nrn: String,
    pub description: String,
    pub is_default: bool,
    pub rules: Vec<SecurityGroupRule>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSecurityGroupRequest {
    pub vpc_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecurityGroupList {
    pub items: Vec<SecurityGroup>,
}

/// Add a rule (AWS `AuthorizeSecurityGroupIngress` / `Egress`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRuleRequest {
    pub direction: Direction,
    pub protocol: Protocol,
    /// A single port, or the first of a range (tcp/udp).
    #[serde(default)]
    pub from_port: Option<u32>,
    /// The last port of a range (default: `from_port`).
    #[serde(default)]
    pub to_port: Option<u32>,
    /// A source (ingress) or destination (egress) block, e.g. `0.0.0.0/0`.
    #[serde(default)]
    pub cidr: Option<String>,
    /// Or the members of another security group of the same VPC.
    #[serde(default)]
    pub source_group_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The iptables rules Nuvem generated for a security group's members.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GeneratedRules {
    pub security_group_id: String,
    /// `iptables-save` lines, with comments naming the rules they come from.
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NetworkInterface {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub nrn: String,
    pub private_ip: String,
    pub mac: String,
    /// The host-side device (tap or veth) plugged into the subnet's bridge.
    pub device: String,
    pub security_group_ids: Vec<String>,
    /// What uses it, e.g. `instance/i-0123`; empty for a free-standing interface.
    pub attached_to: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNetworkInterfaceRequest {
    /// Default: the default subnet of the default VPC.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Default: the VPC's default security group.
    #[serde(default)]
    pub security_group_ids: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSecurityGroupsRequest {
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NetworkInterfaceList {
    pub items: Vec<NetworkInterface>,
}

/// A host port forwarded to a private address: the "elastic IP" of a one-host cloud.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PortForward {
    pub id: String,
    pub protocol: Protocol,
    /// The host address the forward is published on: connections to `host_address:host_port`
    /// reach `private_ip:private_port`; the same port on the host's other addresses does not.
    #[serde(default)]
    pub host_address: String,
    /// From the operator's port-forward range (default 20000–29999).
    pub host_port: u16,
    pub interface_id: String,
    pub private_ip: String,
    pub private_port: u16,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortForwardRequest {
    /// tcp or udp.
    pub protocol: Protocol,
    pub host_port: u32,
    pub interface_id: String,
    pub private_port: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PortForwardList {
    pub items: Vec<PortForward>,
}

/// Would this packet be allowed? (`cloudctl vpc trace`)
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    /// Source address: an interface of yours, or `host` (the machine Nuvem runs on).
    pub from: String,
    /// Destination: an interface of yours, an outside address, or `host`.
    pub to: String,
    pub protocol: Protocol,
    #[serde(default)]
    pub port: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraceStep {
    /// What was checked: `egress of eni-…`, `ingress of eni-…`, `route`.
    pub stage: String,
    pub verdict: Verdict,
    /// The rule or default that decided this stage.
    pub reason: String,
    /// The deciding security-group rule, when one did.
    pub rule_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraceResult {
    pub verdict: Verdict,
    /// The decisive reason, in one sentence.
    pub reason: String,
    pub steps: Vec<TraceStep>,
}

/// What a reconciliation found and fixed on the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReconcileReport {
    pub bridges_created: Vec<String>,
    pub bridges_removed: Vec<String>,
    pub dhcp_started: Vec<String>,
    pub dhcp_stopped: Vec<String>,
    /// How many iptables rules Nuvem's chains hold now.
    pub firewall_rules: u64,
    pub duration_ms: u64,
}
