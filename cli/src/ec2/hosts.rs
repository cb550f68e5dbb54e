//! `cloudctl instance-type` and `cloudctl host`: sizes and prices, and the hosts' capacity (operator).

use clap::Subcommand;
use nuvem_api::ec2::{Host, InstanceType, PutInstanceTypeRequest};
use nuvem_sdk::Client;

use crate::output::{Out, Tabular};

#[derive(Subcommand)]
pub enum InstanceTypeCmd {
    /// List the instance types with their size and price.
    List,
    /// Add or change a type (operator).
    Set {
        /// The type's name, e.g. c1.course.
        name: String,
        /// Virtual CPUs.
        #[arg(long)]
        vcpus: u32,
        /// Memory in MiB.
        #[arg(long)]
        memory_mib: u64,
        /// Disk size in GiB.
        #[arg(long)]
        disk_gib: u64,
        /// Price per hour, for metering.
        #[arg(long)]
        price_per_hour: f64,
    },
}

#[derive(Subcommand)]
pub enum HostCmd {
    /// Hosts with capacity, overcommit ratio and accelerator (operator).
    List,
    /// Change a host's capacity live (operator): the next launch uses it; running instances
    /// are never evicted.
    Update {
        /// The host's id (`host-1`) or name.
        host: String,
        /// vCPUs per core, 0.1 to 16 (1.0: one vCPU per core; 4.0: the commercial figure).
        #[arg(long)]
        cpu_ratio: Option<f64>,
        /// Memory kept for the host itself, in MiB (guests get the rest).
        #[arg(long)]
        reserved_memory_mib: Option<u64>,
    },
}

pub async fn instance_type(c: &Client, out: &Out, cmd: &InstanceTypeCmd) -> anyhow::Result<()> {
    match cmd {
        InstanceTypeCmd::List => out.list(&c.list_instance_types().await?.items),
        InstanceTypeCmd::Set {
            name,
            vcpus,
            memory_mib,
            disk_gib,
            price_per_hour,
        } => {
            let req = PutInstanceTypeRequest {
                vcpus: *vcpus,
                memory_mib: *memory_mib,
                disk_gib: *disk_gib,
                price_per_hour: *price_per_hour,
            };
            out.list(&[c.put_instance_type(name, &req).await?])
        }
    }
}

pub async fn host(c: &Client, out: &Out, cmd: &HostCmd) -> anyhow::Result<()> {
    match cmd {
        HostCmd::List => out.list(&c.list_hosts().await?.items),
        HostCmd::Update {
            host,
            cpu_ratio,
            reserved_memory_mib,
        } => {
            if cpu_ratio.is_none() && reserved_memory_mib.is_none() {
                anyhow::bail!("nothing to change: give --cpu-ratio and/or --reserved-memory-mib");
            }
            let updated = c
                .update_host(host, *cpu_ratio, *reserved_memory_mib)
                .await?;
            out.list(std::slice::from_ref(&updated))
        }
    }
}

impl Tabular for InstanceType {
    const COLUMNS: &'static [&'static str] =
        &["TYPE", "VCPUS", "MEMORY MIB", "DISK GIB", "PRICE/HOUR"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.vcpus.to_string(),
            self.memory_mib.to_string(),
            self.disk_gib.to_string(),
            format!("{:.4}", self.price_per_hour),
        ]
    }
}

impl Tabular for Host {
    const COLUMNS: &'static [&'static str] = &[
        "HOST",
        "URI",
        "VCPUS USED",
        "MEMORY",
        "DEDICATED CORES",
        "ACCEL",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.uri.clone(),
            format!(
                "{}/{} (cores {} × ratio {})",
                self.vcpus_used, self.vcpus_capacity, self.cores, self.cpu_ratio
            ),
            format!("{}/{} MiB", self.memory_used_mib, self.memory_mib),
            format!("{:?}", self.pinned_cores),
            self.accelerator.clone(),
        ]
    }
}
