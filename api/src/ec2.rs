//! EC2-like compute: images, instance types, key pairs, instances, hosts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every compute action Nuvem authorizes, as written in policies (`ec2:<Action>`).
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeImages",
    "ec2:ImportImage",
    "ec2:DeregisterImage",
    "ec2:DescribeInstanceTypes",
    "ec2:ModifyInstanceTypes",
    "ec2:CreateKeyPair",
    "ec2:ImportKeyPair",
    "ec2:DescribeKeyPairs",
    "ec2:DeleteKeyPair",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "ec2:StopInstances",
    "ec2:StartInstances",
    "ec2:RebootInstances",
    "ec2:TerminateInstances",
    "ec2:GetConsoleOutput",
    "ec2:DescribeHosts",
    "ec2:ModifyHosts",
];

/// Largest user-data accepted (as AWS).
pub const MAX_USER_DATA: usize = 16 * 1024;
/// Most instances one launch may start.
pub const MAX_COUNT: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// A kernel and an initramfs booted directly (the tiny image); the instance gets a blank
    /// data disk.
    KernelInitrd,
    /// A bootable qcow2 disk; the instance gets a copy-on-write overlay of it.
    Qcow2,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::KernelInitrd => "kernel-initrd",
            ImageFormat::Qcow2 => "qcow2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kernel-initrd" => Some(ImageFormat::KernelInitrd),
            "qcow2" => Some(ImageFormat::Qcow2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub format: ImageFormat,
    pub architecture: String,
    pub min_disk_mib: u64,
    pub description: String,
    /// Public images are the operator's and visible to every account.
    pub public: bool,
    /// The account that may use a private image.
    pub owner_account_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImageList {
    pub items: Vec<Image>,
}

/// Register an image from files on the host (operator only). The files are copied into Nuvem's
/// data directory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportImageRequest {
    pub name: String,
    pub format: ImageFormat,
    /// kernel-initrd: the kernel and initramfs.
    #[serde(default)]
    pub kernel_path: Option<String>,
    #[serde(default)]
    pub initrd_path: Option<String>,
    /// Extra kernel command line (kernel-initrd).
    #[serde(default)]
    pub cmdline: Option<String>,
    /// qcow2: the base disk.
    #[serde(default)]
    pub disk_path: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Visible to every account (default), or only to `account`.
    #[serde(default)]
    pub public: Option<bool>,
    /// The account name a private image belongs to.
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceType {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    /// Price per hour of running, in the catalog's currency (for billing).
    pub price_per_hour: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceTypeList {
    pub items: Vec<InstanceType>,
}

/// Add or change an instance type (operator only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutInstanceTypeRequest {
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    pub price_per_hour: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyPair {
    pub id: String,
    pub name: String,
    pub nrn: String,
    /// `ssh-ed25519`, `ssh-rsa`, ...
    pub key_type: String,
    /// SHA256 fingerprint, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
}

/// Create a key pair (Nuvem generates an ed25519 key) or import one (`public_key`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyPairRequest {
    pub name: String,
    /// An OpenSSH public key to import instead of generating one.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// A key pair; `private_key` only when Nuvem generated it, in this answer only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyPairCreated {
    pub key_pair: KeyPair,
    pub private_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyPairList {
    pub items: Vec<KeyPair>,
}

/// The EC2 lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl std::fmt::Display for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => InstanceState::Pending,
            "running" => InstanceState::Running,
            "stopping" => InstanceState::Stopping,
            "stopped" => InstanceState::Stopped,
            "shutting-down" => InstanceState::ShuttingDown,
            "terminated" => InstanceState::Terminated,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub nrn: String,
    pub state: InstanceState,
    /// Why it is in this state (e.g. why a launch failed).
    pub state_reason: String,
    pub image_id: String,
    pub instance_type: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub key_name: Option<String>,
    pub subnet_id: String,
    pub vpc_id: String,
    pub interface_id: Option<String>,
    pub private_ip: Option<String>,
    pub security_group_ids: Vec<String>,
    pub host: String,
    /// `kvm` (hardware virtualization) or `tcg` (QEMU's software emulation).
    pub accelerator: String,
    /// Dedicated CPUs: the host core each vCPU is pinned to.
    pub pinned_cpus: Vec<u32>,
    pub tags: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInstancesRequest {
    pub image_id: String,
    pub instance_type: String,
    #[serde(default)]
    pub key_name: Option<String>,
    /// Default: the default subnet of your default VPC.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Default: the VPC's default security group.
    #[serde(default)]
    pub security_group_ids: Option<Vec<String>>,
    /// A script (`#!/bin/sh ...`) or cloud-config, as plain text, at most 16 KiB.
    #[serde(default)]
    pub user_data: Option<String>,
    /// How many instances (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Pin each vCPU to a host core of its own.
    #[serde(default)]
    pub dedicated: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceList {
    pub items: Vec<Instance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsoleOutput {
    pub instance_id: String,
    /// The end of the serial console (at most 64 KiB).
    pub output: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Host {
    pub id: String,
    pub name: String,
    pub uri: String,
    pub cores: u32,
    pub memory_mib: u64,
    /// vCPUs allowed per core (1.0: one VM per core; 4.0: the commercial figure).
    pub cpu_ratio: f64,
    pub vcpus_used: u32,
    pub vcpus_capacity: u32,
    pub memory_used_mib: u64,
    pub pinned_cores: Vec<u32>,
    pub accelerator: String,
    /// Memory kept for the host itself (the hypervisor, Nuvem, the daemons); guests get the rest.
    pub reserved_memory_mib: u64,
    /// What guests may still take: vCPUs (capacity less use, never below 0) and memory.
    pub vcpus_free: u32,
    pub memory_free_mib: u64,
}

/// A live change to a host's capacity (operator only). Running instances are never evicted: a
/// host whose new capacity is below its use takes no new launch until enough capacity frees.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHostRequest {
    /// vCPUs per core, 0.1 to 16 (1.0: one vCPU per core; 4.0: the commercial figure).
    #[serde(default)]
    pub cpu_ratio: Option<f64>,
    /// Memory kept for the host itself, in MiB (default 1024).
    #[serde(default)]
    pub reserved_memory_mib: Option<u64>,
}

/// The lowest and highest overcommit ratios a host accepts.
pub const CPU_RATIO_RANGE: (f64, f64) = (0.1, 16.0);

/// A valid overcommit ratio, or why not.
pub fn check_cpu_ratio(ratio: f64) -> Result<(), String> {
    let (low, high) = CPU_RATIO_RANGE;
    if ratio.is_finite() && (low..=high).contains(&ratio) {
        Ok(())
    } else {
        Err(format!(
            "{ratio} is not a valid vCPU ratio: use {low} to {high} vCPUs per core (1.0: one vCPU per core; 4.0: the commercial figure)"
        ))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HostList {
    pub items: Vec<Host>,
}
