//! VPC networking: VPCs, subnets (Linux bridges with a dnsmasq each), security groups enforced by
//! iptables, network interfaces (the layer compute backends plug NICs through), port forwards,
//! and the trace tool.
//!
//! The database is the desired state. Every change writes it, then [`Vpc::reconcile`] makes the
//! host match: bridges, DHCP servers and the firewall are derived from the database as a whole, so
//! a restart, a crash or a half-done change is repaired the same way. Changes are serialised by one
//! lock; a change whose host step fails is unwound in the database and the host reconciled again.

pub mod cidr;
pub mod firewall;
mod reconciler;

use crate::usage::{Change, Dimensions, Usage, UsageEvent};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;
use nuvem_api::vpc as api;
use rand::Rng;

use crate::drivers::net::{BridgeSpec, DhcpSpec, HostNetwork, NetnsPlug};
use crate::error::{Error, Result};
use crate::iam::{Iam, Principal};
use crate::store::Store;
use crate::store::vpc::{EniRow, PortForwardRow, SgRow, SgRuleRow, SubnetRow, VpcRow};
use cidr::Cidr;
use firewall::Naming;

/// The block every VPC must lie in, unless configured otherwise.
pub const DEFAULT_POOL: &str = "10.64.0.0/10";
/// Size of the default VPC of an account and of its default subnet.
const DEFAULT_VPC_PREFIX: u8 = 20;
const DEFAULT_SUBNET_PREFIX: u8 = 24;

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
        usage: Usage,
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
            usage,
        })
    }

    /// Reports a port forward's creation or deletion to the usage hook (forwards accrue hours).
    fn report_forward(&self, f: &PortForwardRow, change: Change) {
        self.usage.emit(UsageEvent {
            at: Utc::now(),
            account_id: f.account_id.clone(),
            service: "vpc",
            resource_type: "port-forward",
            resource_id: f.id.clone(),
            change,
            dimensions: Dimensions::default(),
        });
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
            self.report_forward(f, Change::Deleted);
        }
        Ok(())
    }

    /// The desired state of the host network, with the address port forwards are published on.
    async fn snapshot(&self) -> Result<crate::store::vpc::NetworkSnapshot> {
        let mut snap = self.store.network_snapshot().await?;
        snap.forward_address = Some(self.forwards.address);
        Ok(snap)
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
    // The host: desired state (database) → actual state

    /// Makes the host match the database: bridges, DHCP servers, interface devices, firewall.
    /// Removes what this server owns on the host that the database does not explain.
    pub async fn reconcile(&self) -> Result<api::ReconcileReport> {
        let started = Instant::now();
        let snap = self.snapshot().await?;
        let naming = self.naming.clone();
        let mut report = self
            .blocking(move |net| {
                let mut report = api::ReconcileReport::default();
                net.prepare()?;
                let mut desired = BTreeSet::new();
                for s in &snap.subnets {
                    let Ok(c) = Cidr::parse(&s.cidr) else {
                        continue;
                    };
                    let spec = BridgeSpec {
                        name: naming.bridge(&s.id),
                        gateway: cidr::gateway(c),
                        prefix: c.prefix(),
                    };
                    if net.bridge_ensure(&spec)? {
                        // A dnsmasq bound to a bridge that vanished (a crash, a reboot) serves
                        // nothing on the new one: start the subnet's DHCP afresh.
                        net.dhcp_stop(&s.id)?;
                        report.bridges_created.push(spec.name.clone());
                    }
                    desired.insert(spec.name.clone());
                    let hosts = snap
                        .interfaces
                        .iter()
                        .filter(|e| e.subnet_id == s.id)
                        .map(|e| (e.mac.clone(), e.private_ip.clone(), e.id.clone()))
                        .collect();
                    let dhcp = DhcpSpec {
                        subnet_id: s.id.clone(),
                        bridge: spec.name,
                        subnet: c,
                        gateway: cidr::gateway(c),
                        hosts,
                    };
                    if net.dhcp_ensure(&dhcp)? {
                        report.dhcp_started.push(s.id.clone());
                    }
                }
                let subnet_ids: BTreeSet<&str> =
                    snap.subnets.iter().map(|s| s.id.as_str()).collect();
                for id in net.dhcp_list()? {
                    if !subnet_ids.contains(id.as_str()) {
                        net.dhcp_stop(&id)?;
                        report.dhcp_stopped.push(id);
                    }
                }
                for b in net.links(&naming.bridge_prefix())? {
                    if !desired.contains(&b) {
                        net.link_delete(&b)?;
                        report.bridges_removed.push(b);
                    }
                }
                let devices: BTreeSet<&str> =
                    snap.interfaces.iter().map(|e| e.device.as_str()).collect();
                for d in net.links(&naming.device_of_interface_prefix())? {
                    if !devices.contains(d.as_str()) {
                        net.link_delete(&d)?;
                    }
                }
                let rules = firewall::render(&snap, &naming);
                net.firewall_apply(&rules, &naming, snap.subnets.is_empty())?;
                report.firewall_rules = if snap.subnets.is_empty() {
                    0
                } else {
                    rules.rule_count() as u64
                };
                Ok(report)
            })
            .await?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Rebuilds only the firewall: enough after a security-group or gateway change.
    pub async fn apply_firewall(&self) -> Result<usize> {
        let snap = self.snapshot().await?;
        let naming = self.naming.clone();
        self.blocking(move |net| {
            let rules = firewall::render(&snap, &naming);
            net.firewall_apply(&rules, &naming, snap.subnets.is_empty())?;
            Ok(rules.rule_count())
        })
        .await
    }

    /// Removes everything this server made on the host (its database stays): for tests and
    /// uninstalling.
    pub fn teardown_host_blocking(&self) -> crate::drivers::DriverResult<()> {
        let net = self.net.as_ref();
        for id in net.dhcp_list()? {
            net.dhcp_stop(&id)?;
        }
        for l in net.links(&self.naming.device_prefix())? {
            net.link_delete(&l)?;
        }
        net.firewall_apply(&Default::default(), &self.naming, true)
    }

    /// Runs a host step after a database change; on failure, undoes the change and reconciles.
    async fn commit_or_unwind<F, Fut>(&self, full: bool, undo: F) -> Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let applied = if full {
            self.reconcile().await.map(drop)
        } else {
            self.apply_firewall().await.map(drop)
        };
        if let Err(e) = applied {
            tracing::error!(error = %e, "host network step failed; unwinding the change");
            undo().await?;
            if let Err(again) = self.reconcile().await {
                tracing::error!(error = %again, "reconciling after the unwind failed too");
            }
            return Err(e);
        }
        Ok(())
    }

    async fn used_blocks(&self) -> Result<Vec<(String, Cidr)>> {
        let mut used: Vec<(String, Cidr)> = Vec::new();
        for v in self.store.vpc_list_all().await? {
            if let Ok(c) = Cidr::parse(&v.cidr) {
                used.push(("a VPC on this host".into(), c));
            }
        }
        let prefix = self.naming.bridge_prefix();
        for (dev, c) in self.blocking(|net| net.host_networks()).await? {
            if !dev.starts_with(&prefix) {
                used.push((format!("host interface {dev}"), c));
            }
        }
        Ok(used)
    }

    fn check_block(&self, kind: &str, text: &str) -> Result<Cidr> {
        let c = Cidr::parse(text).map_err(Error::InvalidRequest)?;
        if !(16..=28).contains(&c.prefix()) {
            return Err(Error::invalid(format!(
                "a {kind} must be between /16 and /28 (got /{}): /16 has 65,536 addresses, /28 has 16",
                c.prefix()
            )));
        }
        Ok(c)
    }

    // ----------------------------------------------------------------------------------------
    // VPCs

    fn default_sg(vpc_id: &str, account_id: &str) -> (SgRow, Vec<SgRuleRow>) {
        let now = Utc::now();
        let sg = SgRow {
            id: new_id("sg"),
            account_id: account_id.to_owned(),
            vpc_id: vpc_id.to_owned(),
            name: "default".into(),
            description: "default group: members reach each other; all egress".into(),
            is_default: true,
            created_at: now,
        };
        let rules = vec![
            SgRuleRow {
                id: new_id("sgr"),
                sg_id: sg.id.clone(),
                direction: "ingress".into(),
                protocol: "all".into(),
                from_port: None,
                to_port: None,
                cidr: None,
                source_group_id: Some(sg.id.clone()),
                description: "members of this group".into(),
                created_at: now,
            },
            Self::egress_all(&sg.id),
        ];
        (sg, rules)
    }

    fn egress_all(sg_id: &str) -> SgRuleRow {
        SgRuleRow {
            id: new_id("sgr"),
            sg_id: sg_id.to_owned(),
            direction: "egress".into(),
            protocol: "all".into(),
            from_port: None,
            to_port: None,
            cidr: Some("0.0.0.0/0".into()),
            source_group_id: None,
            description: "all traffic out".into(),
            created_at: Utc::now(),
        }
    }

    /// The account's default VPC, created with a subnet and the default group on first use.
    pub async fn default_vpc_ensure(&self, p: &Principal) -> Result<VpcRow> {
        if let Some(v) = self.store.vpc_get_default(&p.account.id).await? {
            return Ok(v);
        }
        let _guard = self.lock.lock().await;
        if let Some(v) = self.store.vpc_get_default(&p.account.id).await? {
            return Ok(v);
        }
        let used = self.used_blocks().await?;
        let block = self
            .pool
            .blocks(DEFAULT_VPC_PREFIX)
            .find(|b| !used.iter().any(|(_, u)| u.overlaps(*b)))
            .ok_or_else(|| {
                Error::LimitExceeded(format!(
                    "no free /{DEFAULT_VPC_PREFIX} left in the pool {} for a default VPC",
                    self.pool
                ))
            })?;
        let now = Utc::now();
        let vpc = VpcRow {
            id: new_id("vpc"),
            account_id: p.account.id.clone(),
            name: "default".into(),
            cidr: block.to_string(),
            is_default: true,
            internet_gateway: false,
            created_at: now,
        };
        let (sg, rules) = Self::default_sg(&vpc.id, &p.account.id);
        let vpc = self.store.vpc_create(vpc, sg, rules).await?;
        let subnet = block
            .blocks(DEFAULT_SUBNET_PREFIX)
            .next()
            .expect("a /20 holds a /24");
        let row = SubnetRow {
            id: new_id("subnet"),
            account_id: p.account.id.clone(),
            vpc_id: vpc.id.clone(),
            name: "default".into(),
            cidr: subnet.to_string(),
            is_default: true,
            created_at: now,
        };
        self.store.subnet_create(row).await?;
        let vpc_id = vpc.id.clone();
        self.commit_or_unwind(true, || async { self.store.vpc_delete(&vpc_id).await })
            .await?;
        Ok(vpc)
    }

    fn vpc_view(&self, v: &VpcRow) -> api::Vpc {
        api::Vpc {
            id: v.id.clone(),
            name: v.name.clone(),
            nrn: nrn("vpc", &v.account_id, "vpc", &v.id),
            cidr: v.cidr.clone(),
            is_default: v.is_default,
            internet_gateway: v.internet_gateway,
            created_at: v.created_at,
        }
    }

    async fn vpc_lookup(&self, p: &Principal, id: &str) -> Result<VpcRow> {
        self.store
            .vpc_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("VPC", id))
    }

    pub async fn vpc_create(&self, p: &Principal, req: api::CreateVpcRequest) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:CreateVpc", &Self::res(p, "vpc", "*"))
            .await?;
        let block = self.check_block("VPC", &req.cidr)?;
        if let Some(n) = &req.name {
            validate::label("VPC name", n).map_err(Error::InvalidRequest)?;
        }
        if !self.pool.covers(block) {
            return Err(Error::invalid(format!(
                "{block} is outside the address pool of this Nuvem ({}); choose a block inside it",
                self.pool
            )));
        }
        let _guard = self.lock.lock().await;
        self.iam
            .quota_check(p, &[("vpcs", 1), ("vpc_addresses", block.size())])
            .await?;
        if let Some((what, c)) = self
            .used_blocks()
            .await?
            .into_iter()
            .find(|(_, c)| c.overlaps(block))
        {
            return Err(Error::Conflict(format!(
                "{block} overlaps {c}, used by {what}; choose another block"
            )));
        }
        let id = new_id("vpc");
        let row = VpcRow {
            name: req.name.unwrap_or_else(|| id.clone()),
            id,
            account_id: p.account.id.clone(),
            cidr: block.to_string(),
            is_default: false,
            internet_gateway: false,
            created_at: Utc::now(),
        };
        let (sg, rules) = Self::default_sg(&row.id, &p.account.id);
        let row = self.store.vpc_create(row, sg, rules).await?;
        Ok(self.vpc_view(&row))
    }

    pub async fn vpc_list(&self, p: &Principal) -> Result<api::VpcList> {
        self.iam
            .authorize(p, "vpc:DescribeVpcs", &Self::res(p, "vpc", "*"))
            .await?;
        self.default_vpc_ensure(p).await?;
        let rows = self.store.vpc_list(&p.account.id).await?;
        Ok(api::VpcList {
            items: rows.iter().map(|v| self.vpc_view(v)).collect(),
        })
    }

    pub async fn vpc_get(&self, p: &Principal, id: &str) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:DescribeVpcs", &Self::res(p, "vpc", id))
            .await?;
        Ok(self.vpc_view(&self.vpc_lookup(p, id).await?))
    }

    pub async fn vpc_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(p, "vpc:DeleteVpc", &Self::res(p, "vpc", id))
            .await?;
        let _guard = self.lock.lock().await;
        let vpc = self.vpc_lookup(p, id).await?;
        let n = self.store.eni_count_in_vpc(&vpc.id).await?;
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "VPC {id} still has {n} network interface(s); delete them (or their instances) first"
            )));
        }
        self.store.vpc_delete(&vpc.id).await?;
        self.reconcile().await?;
        Ok(())
    }

    pub async fn internet_gateway_set(
        &self,
        p: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<api::Vpc> {
        self.iam
            .authorize(p, "vpc:SetInternetGateway", &Self::res(p, "vpc", id))
            .await?;
        let _guard = self.lock.lock().await;
        let vpc = self.vpc_lookup(p, id).await?;
        let row = self
            .store
            .vpc_set_internet_gateway(&vpc.id, enabled)
            .await?;
        let vid = vpc.id.clone();
        let before = vpc.internet_gateway;
        self.commit_or_unwind(false, || async move {
            self.store
                .vpc_set_internet_gateway(&vid, before)
                .await
                .map(drop)
        })
        .await?;
        Ok(self.vpc_view(&row))
    }

    // ----------------------------------------------------------------------------------------
    // Subnets

    async fn subnet_view(&self, s: &SubnetRow) -> Result<api::Subnet> {
        let c = Cidr::parse(&s.cidr).map_err(Error::internal)?;
        let used = self.store.eni_list_in_subnet(&s.id).await?.len() as u64;
        Ok(api::Subnet {
            id: s.id.clone(),
            vpc_id: s.vpc_id.clone(),
            name: s.name.clone(),
            nrn: nrn("vpc", &s.account_id, "subnet", &s.id),
            cidr: s.cidr.clone(),
            gateway: cidr::gateway(c).to_string(),
            bridge: self.naming.bridge(&s.id),
            available_addresses: cidr::usable(c).count() as u64 - used,
            is_default: s.is_default,
            created_at: s.created_at,
        })
    }

    async fn subnet_lookup(&self, p: &Principal, id: &str) -> Result<SubnetRow> {
        self.store
            .subnet_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("subnet", id))
    }

    pub async fn subnet_create(
        &self,
        p: &Principal,
        req: api::CreateSubnetRequest,
    ) -> Result<api::Subnet> {
        self.iam
            .authorize(p, "vpc:CreateSubnet", &Self::res(p, "subnet", "*"))
            .await?;
        let block = self.check_block("subnet", &req.cidr)?;
        if let Some(n) = &req.name {
            validate::label("subnet name", n).map_err(Error::InvalidRequest)?;
        }
        let _guard = self.lock.lock().await;
        self.iam.quota_check(p, &[("subnets", 1)]).await?;
        let vpc = self
            .store
            .vpc_get(&p.account.id, &req.vpc_id)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "vpc_id {} is not a VPC of your account",
                    req.vpc_id
                ))
            })?;
        let vpc_block = Cidr::parse(&vpc.cidr).map_err(Error::internal)?;
        if !vpc_block.covers(block) {
            return Err(Error::invalid(format!(
                "{block} is not inside the VPC's block {vpc_block}"
            )));
        }
        for s in self.store.subnet_list_in_vpc(&vpc.id).await? {
            if Cidr::parse(&s.cidr).is_ok_and(|c| c.overlaps(block)) {
                return Err(Error::Conflict(format!(
                    "{block} overlaps subnet {} ({})",
                    s.id, s.cidr
                )));
            }
        }
        let prefix = self.naming.bridge_prefix();
        for (dev, c) in self.blocking(|net| net.host_networks()).await? {
            if !dev.starts_with(&prefix) && c.overlaps(block) {
                return Err(Error::Conflict(format!(
                    "{block} overlaps {c} of host interface {dev}"
                )));
            }
        }
        let id = new_id("subnet");
        let row = SubnetRow {
            name: req.name.unwrap_or_else(|| id.clone()),
            id,
            account_id: p.account.id.clone(),
            vpc_id: vpc.id,
            cidr: block.to_string(),
            is_default: false,
            created_at: Utc::now(),
        };
        let row = self.store.subnet_create(row).await?;
        let sid = row.id.clone();
        self.commit_or_unwind(true, || async move { self.store.subnet_delete(&sid).await })
            .await?;
        self.subnet_view(&row).await
    }

    pub async fn subnet_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::SubnetList> {
        self.iam
            .authorize(p, "vpc:DescribeSubnets", &Self::res(p, "subnet", "*"))
            .await?;
        self.default_vpc_ensure(p).await?;
        let mut items = Vec::new();
        for s in self
            .store
            .subnet_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.subnet_view(&s).await?);
        }
        Ok(api::SubnetList { items })
    }

    pub async fn subnet_get(&self, p: &Principal, id: &str) -> Result<api::Subnet> {
        self.iam
            .authorize(p, "vpc:DescribeSubnets", &Self::res(p, "subnet", id))
            .await?;
        let s = self.subnet_lookup(p, id).await?;
        self.subnet_view(&s).await
    }

    pub async fn subnet_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(p, "vpc:DeleteSubnet", &Self::res(p, "subnet", id))
            .await?;
        let _guard = self.lock.lock().await;
        let s = self.subnet_lookup(p, id).await?;
        let n = self.store.eni_list_in_subnet(&s.id).await?.len();
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "subnet {id} still has {n} network interface(s); delete them (or their instances) first"
            )));
        }
        self.store.subnet_delete(&s.id).await?;
        self.reconcile().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Security groups

    fn rule_view(r: &SgRuleRow) -> api::SecurityGroupRule {
        api::SecurityGroupRule {
            id: r.id.clone(),
            direction: if r.direction == "ingress" {
                api::Direction::Ingress
            } else {
                api::Direction::Egress
            },
            protocol: match r.protocol.as_str() {
                "tcp" => api::Protocol::Tcp,
                "udp" => api::Protocol::Udp,
                "icmp" => api::Protocol::Icmp,
                _ => api::Protocol::All,
            },
            from_port: r.from_port.map(|p| p as u16),
            to_port: r.to_port.map(|p| p as u16),
            cidr: r.cidr.clone(),
            source_group_id: r.source_group_id.clone(),
            description: r.description.clone(),
        }
    }

    async fn sg_view(&self, g: &SgRow) -> Result<api::SecurityGroup> {
        let rules = self.store.sg_rule_list(vec![g.id.clone()]).await?;
        Ok(api::SecurityGroup {
            id: g.id.clone(),
            vpc_id: g.vpc_id.clone(),
            name: g.name.clone(),
            nrn: nrn("vpc", &g.account_id, "security-group", &g.id),
            description: g.description.clone(),
            is_default: g.is_default,
            rules: rules.iter().map(Self::rule_view).collect(),
            created_at: g.created_at,
        })
    }

    async fn sg_lookup(&self, p: &Principal, id: &str) -> Result<SgRow> {
        self.store
            .sg_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("security group", id))
    }

    pub async fn sg_create(
        &self,
        p: &Principal,
        req: api::CreateSecurityGroupRequest,
    ) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:CreateSecurityGroup",
                &Self::res(p, "security-group", "*"),
            )
            .await?;
        validate::label("security group name", &req.name).map_err(Error::InvalidRequest)?;
        self.iam.quota_check(p, &[("security_groups", 1)]).await?;
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
        let vpc = self
            .store
            .vpc_get(&p.account.id, &req.vpc_id)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "vpc_id {} is not a VPC of your account",
                    req.vpc_id
                ))
            })?;
        let row = SgRow {
            id: new_id("sg"),
            account_id: p.account.id.clone(),
            vpc_id: vpc.id,
            name: req.name,
            description,
            is_default: false,
            created_at: Utc::now(),
        };
        // As in AWS: a new group allows no ingress and all egress.
        let egress = Self::egress_all(&row.id);
        let row = self.store.sg_create(row, vec![egress]).await?;
        self.sg_view(&row).await
    }

    pub async fn sg_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::SecurityGroupList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", "*"),
            )
            .await?;
        self.default_vpc_ensure(p).await?;
        let mut items = Vec::new();
        for g in self
            .store
            .sg_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.sg_view(&g).await?);
        }
        Ok(api::SecurityGroupList { items })
    }

    pub async fn sg_get(&self, p: &Principal, id: &str) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", id),
            )
            .await?;
        let g = self.sg_lookup(p, id).await?;
        self.sg_view(&g).await
    }

    pub async fn sg_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeleteSecurityGroup",
                &Self::res(p, "security-group", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, id).await?;
        if g.is_default {
            return Err(Error::Conflict(
                "a VPC's default security group cannot be deleted".into(),
            ));
        }
        let members = self.store.sg_member_count(&g.id).await?;
        if members > 0 {
            return Err(Error::DependencyViolation(format!(
                "security group {id} is used by {members} network interface(s); change their groups first"
            )));
        }
        if let Some(r) = self.store.sg_rule_list_referencing(&g.id).await?.first() {
            return Err(Error::DependencyViolation(format!(
                "security group {id} is named by rule {} of {}; revoke that rule first",
                r.id, r.sg_id
            )));
        }
        self.store.sg_delete(&g.id).await?;
        self.apply_firewall().await?;
        Ok(())
    }

    pub async fn sg_rule_authorize(
        &self,
        p: &Principal,
        sg_id: &str,
        req: api::AuthorizeRuleRequest,
    ) -> Result<api::SecurityGroup> {
        self.iam
            .authorize(
                p,
                "vpc:AuthorizeSecurityGroupRule",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, sg_id).await?;
        let (from_port, to_port) = match (req.protocol.has_ports(), req.from_port, req.to_port) {
            (true, None, _) => {
                return Err(Error::invalid(format!(
                    "{} rules need from_port (and to_port for a range)",
                    req.protocol.as_str()
                )));
            }
            (true, Some(a), b) => {
                let b = b.unwrap_or(a);
                for port in [a, b] {
                    if port > 65535 {
                        return Err(Error::invalid(format!("port {port} is outside 0–65535")));
                    }
                }
                if a > b {
                    return Err(Error::invalid(format!(
                        "from_port {a} is greater than to_port {b}"
                    )));
                }
                (Some(a as i32), Some(b as i32))
            }
            (false, None, None) => (None, None),
            (false, _, _) => {
                return Err(Error::invalid(format!(
                    "{} rules take no ports; use tcp or udp to name ports",
                    req.protocol.as_str()
                )));
            }
        };
        let (cidr, source) = match (&req.cidr, &req.source_group_id) {
            (Some(c), None) => (
                Some(Cidr::parse(c).map_err(Error::InvalidRequest)?.to_string()),
                None,
            ),
            (None, Some(s)) => {
                let src = self.store.sg_get(&p.account.id, s).await?.ok_or_else(|| {
                    Error::invalid(format!(
                        "source_group_id {s} is not a security group of your account"
                    ))
                })?;
                if src.vpc_id != g.vpc_id {
                    return Err(Error::invalid(format!(
                        "source group {s} is in {}, not in {} with {sg_id}",
                        src.vpc_id, g.vpc_id
                    )));
                }
                (None, Some(src.id))
            }
            _ => {
                return Err(Error::invalid(
                    "give exactly one of cidr (e.g. 0.0.0.0/0) and source_group_id",
                ));
            }
        };
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
        let direction = firewall::direction_str(req.direction);
        let existing = self.store.sg_rule_list(vec![g.id.clone()]).await?;
        if let Some(dup) = existing.iter().find(|r| {
            r.direction == direction
                && r.protocol == req.protocol.as_str()
                && r.from_port == from_port
                && r.to_port == to_port
                && r.cidr == cidr
                && r.source_group_id == source
        }) {
            return Err(Error::AlreadyExists(format!(
                "{sg_id} already has this rule ({})",
                dup.id
            )));
        }
        let row = SgRuleRow {
            id: new_id("sgr"),
            sg_id: g.id.clone(),
            direction: direction.into(),
            protocol: req.protocol.as_str().into(),
            from_port,
            to_port,
            cidr,
            source_group_id: source,
            description,
            created_at: Utc::now(),
        };
        let row = self.store.sg_rule_create(row).await?;
        let (gid, rid) = (g.id.clone(), row.id.clone());
        self.commit_or_unwind(false, || async move {
            self.store.sg_rule_delete(&gid, &rid).await.map(drop)
        })
        .await?;
        self.sg_view(&g).await
    }

    pub async fn sg_rule_revoke(&self, p: &Principal, sg_id: &str, rule_id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:RevokeSecurityGroupRule",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let g = self.sg_lookup(p, sg_id).await?;
        if !self.store.sg_rule_delete(&g.id, rule_id).await? {
            return Err(Error::NotFound(format!(
                "security group {sg_id} has no rule '{rule_id}'"
            )));
        }
        self.apply_firewall().await?;
        Ok(())
    }

    pub async fn sg_generated_rules(
        &self,
        p: &Principal,
        sg_id: &str,
    ) -> Result<api::GeneratedRules> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeSecurityGroups",
                &Self::res(p, "security-group", sg_id),
            )
            .await?;
        let g = self.sg_lookup(p, sg_id).await?;
        let snap = self.snapshot().await?;
        Ok(api::GeneratedRules {
            security_group_id: g.id.clone(),
            rules: firewall::rules_for_group(&snap, &self.naming, &g.id),
        })
    }

    // ----------------------------------------------------------------------------------------
    // Network interfaces: the layer compute backends attach NICs through

    async fn eni_view(&self, e: &EniRow) -> Result<api::NetworkInterface> {
        Ok(api::NetworkInterface {
            id: e.id.clone(),
            subnet_id: e.subnet_id.clone(),
            vpc_id: e.vpc_id.clone(),
            nrn: nrn("vpc", &e.account_id, "network-interface", &e.id),
            private_ip: e.private_ip.clone(),
            mac: e.mac.clone(),
            device: e.device.clone(),
            security_group_ids: self.store.eni_sg_list(&e.id).await?,
            attached_to: e.attached_to.clone(),
            description: e.description.clone(),
            created_at: e.created_at,
        })
    }

    async fn eni_lookup(&self, p: &Principal, id: &str) -> Result<EniRow> {
        self.store
            .eni_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("network interface", id))
    }

    /// Security groups by id, all of the caller's account and of one VPC.
    pub async fn groups_in_vpc(
        &self,
        p: &Principal,
        ids: &[String],
        vpc_id: &str,
    ) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Err(Error::invalid(
                "an interface needs at least one security group",
            ));
        }
        let mut out = BTreeSet::new();
        for id in ids {
            let g = self.store.sg_get(&p.account.id, id).await?.ok_or_else(|| {
                Error::invalid(format!("{id} is not a security group of your account"))
            })?;
            if g.vpc_id != vpc_id {
                return Err(Error::invalid(format!(
                    "security group {id} is in {}, not in {vpc_id}",
                    g.vpc_id
                )));
            }
            out.insert(g.id);
        }
        Ok(out.into_iter().collect())
    }

    /// Creates an interface in a subnet: allocates an address and a MAC, records the security
    /// groups, adds the DHCP lease and the firewall chains. `attached_to` names the user (an
    /// instance, an app) or is empty for a free-standing interface.
    pub async fn interface_create(
        &self,
        p: &Principal,
        req: api::CreateNetworkInterfaceRequest,
    ) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:CreateNetworkInterface",
                &Self::res(p, "network-interface", "*"),
            )
            .await?;
        let description = req.description.unwrap_or_default();
        if !description.is_empty() {
            validate::label("description", &description).map_err(Error::InvalidRequest)?;
        }
        self.iam
            .quota_check(p, &[("network_interfaces", 1)])
            .await?;
        let (subnet, groups) = self
            .placement(
                p,
                req.subnet_id.as_deref(),
                req.security_group_ids.as_deref(),
            )
            .await?;
        let row = self
            .interface_create_in(&p.account.id, &subnet.id, &groups, "", &description)
            .await?;
        self.eni_view(&row).await
    }

    /// Resolves where an interface goes: the subnet (default: the default subnet of the default
    /// VPC) and its security groups (default: the VPC's default group), all of the caller's account
    /// and one VPC. Other services call it to check a request before they start work.
    pub async fn placement(
        &self,
        p: &Principal,
        subnet_id: Option<&str>,
        security_group_ids: Option<&[String]>,
    ) -> Result<(SubnetRow, Vec<String>)> {
        let subnet = match subnet_id {
            Some(id) => self
                .store
                .subnet_get(&p.account.id, id)
                .await?
                .ok_or_else(|| {
                    Error::invalid(format!("subnet_id {id} is not a subnet of your account"))
                })?,
            None => {
                let vpc = self.default_vpc_ensure(p).await?;
                self.store
                    .subnet_list(&p.account.id, Some(&vpc.id))
                    .await?
                    .into_iter()
                    .find(|s| s.is_default)
                    .ok_or_else(|| {
                        Error::invalid("the default VPC has no default subnet: name a subnet_id")
                    })?
            }
        };
        let groups = match security_group_ids {
            Some(ids) => self.groups_in_vpc(p, ids, &subnet.vpc_id).await?,
            None => vec![
                self.store
                    .sg_get_default(&subnet.vpc_id)
                    .await?
                    .ok_or_else(|| Error::internal("a VPC without its default security group"))?
                    .id,
            ],
        };
        Ok((subnet, groups))
    }

    /// Creates an interface in a resolved placement: allocates an address and a MAC, records the
    /// groups, adds the DHCP lease and the firewall chains. For services that already authorized
    /// the caller (an instance launch); `attached_to` names the user, e.g. `instance/i-0a1b2c3d`.
    pub async fn interface_create_in(
        &self,
        account_id: &str,
        subnet_id: &str,
        groups: &[String],
        attached_to: &str,
        description: &str,
    ) -> Result<EniRow> {
        let _guard = self.lock.lock().await;
        let subnet = self
            .store
            .subnet_get(account_id, subnet_id)
            .await?
            .ok_or_else(|| Error::invalid(format!("subnet {subnet_id} no longer exists")))?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        let taken: BTreeSet<String> = self
            .store
            .eni_list_in_subnet(&subnet.id)
            .await?
            .into_iter()
            .map(|e| e.private_ip)
            .collect();
        let ip: Ipv4Addr = cidr::usable(block)
            .find(|a| !taken.contains(&a.to_string()))
            .ok_or_else(|| {
                Error::LimitExceeded(format!(
                    "subnet {} ({}) has no free address left",
                    subnet.id, subnet.cidr
                ))
            })?;
        let id = new_id("eni");
        let row = EniRow {
            device: self.naming.device(&id),
            id,
            account_id: account_id.to_owned(),
            vpc_id: subnet.vpc_id.clone(),
            subnet_id: subnet.id.clone(),
            private_ip: ip.to_string(),
            mac: new_mac(),
            attached_to: attached_to.to_owned(),
            description: description.to_owned(),
            created_at: Utc::now(),
        };
        let row = self.store.eni_create(row, groups).await?;
        let eid = row.id.clone();
        self.commit_or_unwind(true, || async move { self.store.eni_delete(&eid).await })
            .await?;
        Ok(row)
    }

    /// Removes an interface on behalf of the service that owns it; a missing one is not an error.
    pub async fn interface_release(&self, account_id: &str, id: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        let Some(e) = self.store.eni_get(account_id, id).await? else {
            return Ok(());
        };
        self.eni_delete_reporting(&e).await?;
        let device = e.device.clone();
        self.blocking(move |net| net.link_delete(&device)).await?;
        self.reconcile().await.map(drop)
    }

    /// Removes every interface a resource of another service holds (`attached_to`, such as
    /// `instance/i-0a1b2c3d`), found by that name, so that nothing leaks when its creator crashed
    /// before recording the interface's id.
    pub async fn interface_release_attached(
        &self,
        account_id: &str,
        attached_to: &str,
    ) -> Result<()> {
        let held: Vec<String> = self
            .store
            .eni_list(account_id, None)
            .await?
            .into_iter()
            .filter(|e| e.attached_to == attached_to)
            .map(|e| e.id)
            .collect();
        for id in held {
            self.interface_release(account_id, &id).await?;
        }
        Ok(())
    }

    /// The bridge and host-side device names of an interface, for the hypervisor.
    pub async fn interface_wiring(&self, account_id: &str, id: &str) -> Result<(EniRow, String)> {
        let e = self
            .store
            .eni_get(account_id, id)
            .await?
            .ok_or_else(|| Error::internal(format!("interface {id} vanished")))?;
        let bridge = self.naming.bridge(&e.subnet_id);
        Ok((e, bridge))
    }

    pub async fn interface_list(
        &self,
        p: &Principal,
        filter: api::VpcFilter,
    ) -> Result<api::NetworkInterfaceList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeNetworkInterfaces",
                &Self::res(p, "network-interface", "*"),
            )
            .await?;
        let mut items = Vec::new();
        for e in self
            .store
            .eni_list(&p.account.id, filter.vpc_id.as_deref())
            .await?
        {
            items.push(self.eni_view(&e).await?);
        }
        Ok(api::NetworkInterfaceList { items })
    }

    pub async fn interface_get(&self, p: &Principal, id: &str) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:DescribeNetworkInterfaces",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let e = self.eni_lookup(p, id).await?;
        self.eni_view(&e).await
    }

    /// Deletes an interface: its device, lease, chains and port forwards. An interface in use by
    /// an instance or app is detached by that service (`force`), not by the API.
    pub async fn interface_delete(&self, p: &Principal, id: &str, force: bool) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeleteNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let e = self.eni_lookup(p, id).await?;
        if !e.attached_to.is_empty() && !force {
            return Err(Error::Conflict(format!(
                "network interface {id} belongs to {}; remove it through that resource",
                e.attached_to
            )));
        }
        self.eni_delete_reporting(&e).await?;
        let device = e.device.clone();
        self.blocking(move |net| net.link_delete(&device)).await?;
        self.reconcile().await?;
        Ok(())
    }

    pub async fn interface_set_groups(
        &self,
        p: &Principal,
        id: &str,
        req: api::SetSecurityGroupsRequest,
    ) -> Result<api::NetworkInterface> {
        self.iam
            .authorize(
                p,
                "vpc:ModifyNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let e = self.eni_lookup(p, id).await?;
        let groups = self
            .groups_in_vpc(p, &req.security_group_ids, &e.vpc_id)
            .await?;
        let before = self.store.eni_sg_list(&e.id).await?;
        self.store.eni_set_security_groups(&e.id, &groups).await?;
        let eid = e.id.clone();
        self.commit_or_unwind(false, || async move {
            self.store.eni_set_security_groups(&eid, &before).await
        })
        .await?;
        self.eni_view(&e).await
    }

    /// Plugs an interface into a network namespace through a veth pair: a stand-in host, used by
    /// the tests (and by container backends). `static_address` configures the address directly;
    /// otherwise the namespace must ask DHCP.
    pub async fn interface_plug_netns(
        &self,
        p: &Principal,
        id: &str,
        netns: &str,
        static_address: bool,
    ) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:ModifyNetworkInterface",
                &Self::res(p, "network-interface", id),
            )
            .await?;
        let e = self.eni_lookup(p, id).await?;
        let subnet = self.subnet_lookup(p, &e.subnet_id).await?;
        let block = Cidr::parse(&subnet.cidr).map_err(Error::internal)?;
        let ip: Ipv4Addr = e.private_ip.parse().map_err(Error::internal)?;
        let plug = NetnsPlug {
            device: e.device.clone(),
            bridge: self.naming.bridge(&subnet.id),
            netns: netns.to_owned(),
            mac: e.mac.clone(),
            address: static_address.then_some((ip, block.prefix(), cidr::gateway(block))),
        };
        self.blocking(move |net| net.plug_netns(&plug)).await
    }

    // ----------------------------------------------------------------------------------------
    // Port forwards

    fn pf_view(&self, f: &PortForwardRow, ip: &str) -> api::PortForward {
        api::PortForward {
            id: f.id.clone(),
            protocol: if f.protocol == "udp" {
                api::Protocol::Udp
            } else {
                api::Protocol::Tcp
            },
            host_address: self.forwards.address.to_string(),
            host_port: f.host_port as u16,
            interface_id: f.eni_id.clone(),
            private_ip: ip.to_owned(),
            private_port: f.private_port as u16,
            created_at: f.created_at,
        }
    }

    pub async fn port_forward_create(
        &self,
        p: &Principal,
        req: api::CreatePortForwardRequest,
    ) -> Result<api::PortForward> {
        self.iam
            .authorize(
                p,
                "vpc:CreatePortForward",
                &Self::res(p, "port-forward", "*"),
            )
            .await?;
        if !req.protocol.has_ports() {
            return Err(Error::invalid("port forwards are tcp or udp"));
        }
        if !(1..=65535).contains(&req.private_port) {
            return Err(Error::invalid(format!(
                "private_port {} is outside 1–65535",
                req.private_port
            )));
        }
        let (first, last) = self.forwards.ports;
        if !(u32::from(first)..=u32::from(last)).contains(&req.host_port) {
            return Err(Error::invalid(format!(
                "host_port {} is outside the range this host keeps for port forwards ({first}–{last}); the host's other ports are its own services",
                req.host_port
            )));
        }
        let host_port = req.host_port as u16;
        let protocol = req.protocol.as_str();
        let _guard = self.lock.lock().await;
        self.iam.quota_check(p, &[("port_forwards", 1)]).await?;
        if crate::drivers::host_ports::listening(protocol, host_port) {
            return Err(Error::Conflict(format!(
                "host port {host_port}/{protocol} is in use by a service of the host; choose another port in {first}–{last}"
            )));
        }
        let e = self
            .store
            .eni_get(&p.account.id, &req.interface_id)
            .await?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "interface_id {} is not a network interface of your account",
                    req.interface_id
                ))
            })?;
        let row = PortForwardRow {
            id: new_id("pf"),
            account_id: p.account.id.clone(),
            eni_id: e.id.clone(),
            protocol: req.protocol.as_str().into(),
            host_port: req.host_port as i32,
            private_port: req.private_port as i32,
            created_at: Utc::now(),
        };
        let row = self.store.port_forward_create(row).await?;
        let fid = row.id.clone();
        self.commit_or_unwind(false, || async move {
            self.store.port_forward_delete(&fid).await
        })
        .await?;
        self.report_forward(&row, Change::Created);
        Ok(self.pf_view(&row, &e.private_ip))
    }

    pub async fn port_forward_list(&self, p: &Principal) -> Result<api::PortForwardList> {
        self.iam
            .authorize(
                p,
                "vpc:DescribePortForwards",
                &Self::res(p, "port-forward", "*"),
            )
            .await?;
        let enis = self.store.eni_list(&p.account.id, None).await?;
        let items = self
            .store
            .port_forward_list(&p.account.id)
            .await?
            .iter()
            .map(|f| {
                let ip = enis
                    .iter()
                    .find(|e| e.id == f.eni_id)
                    .map(|e| e.private_ip.as_str())
                    .unwrap_or("");
                self.pf_view(f, ip)
            })
            .collect();
        Ok(api::PortForwardList { items })
    }

    pub async fn port_forward_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam
            .authorize(
                p,
                "vpc:DeletePortForward",
                &Self::res(p, "port-forward", id),
            )
            .await?;
        let _guard = self.lock.lock().await;
        let f = self
            .store
            .port_forward_get(&p.account.id, id)
            .await?
            .ok_or_else(|| Error::not_found("port forward", id))?;
        self.store.port_forward_delete(&f.id).await?;
        self.report_forward(&f, Change::Deleted);
        self.apply_firewall().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // Trace and reconcile

    pub async fn trace(&self, p: &Principal, req: api::TraceRequest) -> Result<api::TraceResult> {
        self.iam
            .authorize(p, "vpc:Trace", &Self::res(p, "network-interface", "*"))
            .await?;
        let ip = |what: &str, s: &str| -> Result<Ipv4Addr> {
            s.parse()
                .map_err(|_| Error::invalid(format!("{what} '{s}' is not an IPv4 address")))
        };
        let (from, to) = (ip("from", &req.from)?, ip("to", &req.to)?);
        let port = match (req.protocol.has_ports(), req.port) {
            (true, Some(p)) if p <= 65535 => Some(p as u16),
            (true, Some(p)) => return Err(Error::invalid(format!("port {p} is outside 0–65535"))),
            (true, None) => {
                return Err(Error::invalid(format!(
                    "{} needs a port",
                    req.protocol.as_str()
                )));
            }
            (false, None) => None,
            (false, Some(_)) => {
                return Err(Error::invalid(format!(
                    "{} has no ports",
                    req.protocol.as_str()
                )));
            }
        };
        let snap = self.snapshot().await?;
        firewall::trace(&snap, &p.account.id, from, to, req.protocol, port)
            .map_err(Error::InvalidRequest)
    }

    /// On-demand reconciliation (operator only).
    pub async fn reconcile_on_demand(&self, p: &Principal) -> Result<api::ReconcileReport> {
        if !p.account.is_operator {
            return Err(Error::AccessDenied(
                "reconciling the host network is an operator action".into(),
            ));
        }
        self.iam
            .authorize(p, "vpc:Reconcile", &Self::res(p, "vpc", "*"))
            .await?;
        let _guard = self.lock.lock().await;
        self.reconcile().await
    }

    /// Removes every VPC resource of an account (when the account is deleted).
    pub async fn account_purge(&self, account_id: &str) -> Result<()> {
        let _guard = self.lock.lock().await;
        for e in self.store.eni_list(account_id, None).await? {
            self.eni_delete_reporting(&e).await?;
        }
        for v in self.store.vpc_list(account_id).await? {
            self.store.vpc_delete(&v.id).await?;
        }
        self.reconcile().await.map(drop)
    }
}
