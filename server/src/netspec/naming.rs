//! Names of Nuvem's host objects (devices and iptables chains) for one server, its "cell".
//!
//! Every name starts with the cell, so that several Nuvem servers (or test servers) can share a
//! host without touching each other's devices and rules.

/// Names of Nuvem's host objects for one server (its "cell").
#[derive(Debug, Clone)]
pub struct Naming {
    cell: String,
}

/// The hex part of an id such as `subnet-0a1b2c3d`.
fn suffix(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

impl Naming {
    pub fn new(cell: &str) -> Self {
        Naming {
            cell: cell.to_owned(),
        }
    }

    pub fn cell(&self) -> &str {
        &self.cell
    }

    /// Every device Nuvem creates starts with this (15 characters at most in all).
    pub fn device_prefix(&self) -> String {
        format!("nv{}", self.cell)
    }

    pub fn bridge(&self, subnet_id: &str) -> String {
        format!("nv{}b{}", self.cell, suffix(subnet_id))
    }

    pub fn bridge_prefix(&self) -> String {
        format!("nv{}b", self.cell)
    }

    /// The host-side device (tap or veth) of an interface.
    pub fn device(&self, eni_id: &str) -> String {
        format!("nv{}t{}", self.cell, suffix(eni_id))
    }

    pub fn device_of_interface_prefix(&self) -> String {
        format!("nv{}t", self.cell)
    }

    pub fn chain_prefix(&self) -> String {
        format!("NV{}-", self.cell)
    }

    pub fn forward_chain(&self) -> String {
        format!("NV{}-FWD", self.cell)
    }

    /// The host's own traffic to interfaces (filter OUTPUT): their ingress rules apply.
    pub fn host_out_chain(&self) -> String {
        format!("NV{}-HOUT", self.cell)
    }

    /// Interfaces' traffic to the host itself (filter INPUT): their egress rules apply.
    pub fn host_in_chain(&self) -> String {
        format!("NV{}-HIN", self.cell)
    }

    pub(super) fn egress_chain(&self, eni_id: &str) -> String {
        format!("NV{}-E-{}", self.cell, suffix(eni_id))
    }

    pub(super) fn ingress_chain(&self, eni_id: &str) -> String {
        format!("NV{}-I-{}", self.cell, suffix(eni_id))
    }

    pub(super) fn vpc_chain(&self, vpc_id: &str) -> String {
        format!("NV{}-V-{}", self.cell, suffix(vpc_id))
    }

    pub fn nat_chains(&self) -> [String; 3] {
        [
            format!("NV{}-PRE", self.cell),
            format!("NV{}-OUT", self.cell),
            format!("NV{}-POST", self.cell),
        ]
    }

    /// The jumps from the built-in chains, as (table, chain, rule arguments).
    pub fn jumps(&self) -> Vec<(&'static str, &'static str, Vec<String>)> {
        let any = format!("{}+", self.device_prefix());
        let [pre, out, post] = self.nat_chains();
        let fwd = self.forward_chain();
        let (hout, hin) = (self.host_out_chain(), self.host_in_chain());
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        vec![
            ("filter", "FORWARD", s(&["-i", &any, "-j", &fwd])),
            ("filter", "FORWARD", s(&["-o", &any, "-j", &fwd])),
            ("filter", "OUTPUT", s(&["-o", &any, "-j", &hout])),
            ("filter", "INPUT", s(&["-i", &any, "-j", &hin])),
            (
                "nat",
                "PREROUTING",
                s(&["-m", "addrtype", "--dst-type", "LOCAL", "-j", &pre]),
            ),
            (
                "nat",
                "OUTPUT",
                s(&["-m", "addrtype", "--dst-type", "LOCAL", "-j", &out]),
            ),
            ("nat", "POSTROUTING", s(&["-j", &post])),
        ]
    }
}
