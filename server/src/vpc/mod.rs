//! VPC networking: VPCs, subnets (Linux bridges with a dnsmasq each), security groups enforced by
//! iptables, network interfaces (the layer compute backends plug NICs through), port forwards,
//! and the trace tool.
//!
//! The database is the desired state. Every change writes it, then [`Vpc::reconcile`] makes the
//! host match: bridges, DHCP servers and the firewall are derived from the database as a whole, so
//! a restart, a crash or a half-done change is repaired the same way. Changes are serialised by one
//! lock; each change is a saga (`change.rs`): a change whose host step fails, or that a crash
//! interrupted, is taken back in the database and the host reconciled again.
//!
//! The network itself (CIDR arithmetic, device names, the firewall's rules, the trace) is pure data
//! in [`crate::netspec`]; `snapshot` turns the database rows into it.
//!
//! One file per job: `host` (reconcile, firewall), `snapshot` (rows → [`crate::netspec::Network`]),
//! `change` (the saga), `vpcs`, `subnets`, `security_groups`, `interfaces`, `port_forwards`,
//! `trace`, `reconciler`.

pub mod change;
mod containers;
mod host;
mod interfaces;
mod metering;
mod port_forwards;
mod reconciler;
mod security_groups;
mod snapshot;
mod subnets;
mod trace;
mod vpcs;

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use nuvem_api::nrn::nrn;
use rand::Rng;

use crate::drivers::net::HostNetwork;
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::netspec::{Cidr, Naming};
use crate::platform::Platform;
use crate::saga::Sagas;
use crate::store::Store;
use crate::store::vpc::{EniRow, PortForwardRow};
use crate::usage::{Change, Dimensions, Usage, UsageEvent};

/// The block every VPC must lie in, unless configured otherwise.
pub const DEFAULT_POOL: &str = "10.64.0.0/10";
/// Size of the default VPC of an account and of its default subnet.
const DEFAULT_VPC_PREFIX: u8 = 20;
const DEFAULT_SUBNET_PREFIX: u8 = 24;
/// The description of a default group's rule that lets the host in on SSH.
const HOST_SSH_DESCRIPTION: &str = "SSH from the host (its address in this subnet, the gateway)";

fn driver_error(e: crate::drivers::DriverError) -> Error {
    Error::Internal(format!("host network: {e}"))
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::thread_rng().r#gen::<u32>())
}

/// A locally administered, unicast MAC in the range QEMU/KVM guests use.
fn new_mac() -> String {
    let b: [u8; 3] = rand::thread_rng().r#gen();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// Loads the cell id of this data directory, or picks one no other Nuvem on the host uses.
fn load_cell(data_dir: &Path, net: &dyn HostNetwork) -> anyhow::Result<String> {
    let dir = data_dir.join("net");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("cell");
    if let Ok(cell) = std::fs::read_to_string(&path) {
        let cell = cell.trim().to_owned();
        anyhow::ensure!(
            cell.len() == 4 && cell.chars().all(|c| c.is_ascii_hexdigit()),
            "{} must hold 4 hex digits",
            path.display()
        );
        return Ok(cell);
    }
    for _ in 0..32 {
        let cell = format!("{:04x}", rand::thread_rng().r#gen::<u16>());
        if net
            .links(&format!("nv{cell}"))
            .map(|l| l.is_empty())
            .unwrap_or(true)
        {
            std::fs::write(&path, &cell)?;
            return Ok(cell);
        }
    }
    anyhow::bail!("could not find a free network cell id")
}

#[derive(Clone)]
pub struct Vpc {
    store: Store,
    iam: Iam,
    net: Arc<dyn HostNetwork>,
    naming: Naming,
    pool: Cidr,
    forwards: PortForwardPolicy,
    /// Serialises changes to the network, so that allocation and the host stay consistent.
    lock: Arc<tokio::sync::Mutex<()>>,
    usage: Usage,
    sagas: Sagas,
}

/// Where tenants may publish port forwards: one host address, and a range of host ports that the
/// operator set aside for them. Anything else could capture the host's own services (SSH, DNS,
/// Nuvem's API) for one tenant's VM.
#[derive(Debug, Clone, Copy)]
pub struct PortForwardPolicy {
    pub address: Ipv4Addr,
    /// Inclusive.
    pub ports: (u16, u16),
}

impl Vpc {
    pub fn new(
        store: Store,
        iam: Iam,
        net: Arc<dyn HostNetwork>,
        data_dir: &Path,
        pool: &str,
        forwards: PortForwardPolicy,
        platform: Platform,
    ) -> anyhow::Result<Self> {
        let pool = Cidr::parse(pool).map_err(|e| anyhow::anyhow!("vpc_pool: {e}"))?;
        let cell = load_cell(data_dir, net.as_ref())?;
        Ok(Vpc {
            store,
            iam,
            net,
            naming: Naming::new(&cell),
            pool,
            forwards,
            lock: Arc::default(),
            usage: platform.usage,
            sagas: platform.sagas,
        })
    }

    /// Reports a port forward's creation or deletion to the usage hook (forwards accrue hours).
    async fn report_forward(&self, f: &PortForwardRow, change: Change) {
        self.usage
            .emit(UsageEvent {
                at: Utc::now(),
                account_id: f.account_id.clone(),
                service: "vpc",
                resource_type: "port-forward",
                resource_id: f.id.clone(),
                change,
                dimensions: Dimensions::default(),
            })
            .await;
    }

    /// Reports an internet gateway switched on (it accrues hours) or off.
    async fn report_gateway(&self, account_id: &str, vpc_id: &str, change: Change) {
        self.usage
            .emit(UsageEvent {
                at: Utc::now(),
                account_id: account_id.to_owned(),
                service: "vpc",
                resource_type: "internet-gateway",
                resource_id: vpc_id.to_owned(),
                change,
                dimensions: Dimensions::default(),
            })
            .await;
    }

    /// Deletes an interface row and the port forwards on it, reporting each forward's end.
    async fn eni_delete_reporting(&self, e: &EniRow) -> Result<()> {
        let forwards: Vec<PortForwardRow> = self
            .store
            .port_forward_list(&e.account_id)
            .await?
            .into_iter()
            .filter(|f| f.eni_id == e.id)
            .collect();
        self.store.eni_delete(&e.id).await?;
        for f in &forwards {
            self.report_forward(f, Change::Deleted).await;
        }
        Ok(())
    }

    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    pub fn driver(&self) -> &Arc<dyn HostNetwork> {
        &self.net
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn HostNetwork) -> crate::drivers::DriverResult<T> + Send + 'static,
    ) -> Result<T> {
        let net = self.net.clone();
        tokio::task::spawn_blocking(move || f(net.as_ref()))
            .await
            .map_err(Error::internal)?
            .map_err(driver_error)
    }

    fn res(p: &Principal, kind: &str, id: &str) -> String {
        nrn("vpc", &p.account.id, kind, id)
    }

    // ----------------------------------------------------------------------------------------
}
