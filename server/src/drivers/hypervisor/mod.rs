//! Virtual machines: what the compute service needs of a hypervisor (the [`Hypervisor`] trait and
//! the description of a guest), with libvirt behind it on a real host (`real`) and a simulated
//! twin for fast tests (`sim`). The trait is the whole contract, so compute never knows which.

mod real;
mod sim;

use std::path::{Path, PathBuf};

use super::DriverResult;

pub use real::{Libvirt, QemuUser, domain_xml, qemu_user};
pub use sim::SimHypervisor;

/// How QEMU runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accelerator {
    /// Hardware virtualization.
    Kvm,
    /// QEMU's software emulation (where KVM is missing or nested KVM does not work).
    Tcg,
}

impl Accelerator {
    pub fn as_str(self) -> &'static str {
        match self {
            Accelerator::Kvm => "kvm",
            Accelerator::Tcg => "tcg",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kvm" => Some(Accelerator::Kvm),
            "tcg" => Some(Accelerator::Tcg),
            _ => None,
        }
    }
}

/// Everything the hypervisor needs to run one instance.
#[derive(Debug, Clone)]
pub struct DomainSpec {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub accelerator: Accelerator,
    /// Direct kernel boot (kernel, initrd, command line), or boot from the disk.
    pub kernel: Option<(PathBuf, PathBuf, String)>,
    pub disk: PathBuf,
    pub seed: PathBuf,
    pub bridge: String,
    pub tap: String,
    pub mac: String,
    pub console_log: PathBuf,
    /// Host core of each vCPU, when dedicated.
    pub pinned: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainState {
    Running,
    ShutOff,
    Paused,
    ShuttingDown,
    Crashed,
    Missing,
}

/// A running domain's use of the host, as the hypervisor counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuestUsage {
    pub cpu_seconds: f64,
    pub memory_mib: u64,
}

pub trait Hypervisor: Send + Sync + 'static {
    /// Defines (or redefines) the domain and starts it.
    fn define_and_start(&self, spec: &DomainSpec) -> DriverResult<()>;
    /// Asks the guest to power off (ACPI), as a stop does.
    fn shutdown(&self, name: &str) -> DriverResult<()>;
    /// Powers off at once; a domain already off or missing is fine.
    fn destroy(&self, name: &str) -> DriverResult<()>;
    /// Forgets the domain; a missing one is fine.
    fn undefine(&self, name: &str) -> DriverResult<()>;
    fn reboot(&self, name: &str) -> DriverResult<()>;
    fn state(&self, name: &str) -> DriverResult<DomainState>;
    /// Names of all domains starting with `prefix`.
    fn list(&self, prefix: &str) -> DriverResult<Vec<String>>;
    /// What a running domain has used: CPU time since it started and resident memory (`None`
    /// when it is not running). Metering samples it to show used beside reserved.
    fn usage(&self, name: &str) -> DriverResult<Option<GuestUsage>>;
    /// The host core each vCPU is pinned to, as libvirt reports it.
    fn vcpu_pins(&self, name: &str) -> DriverResult<Vec<u32>>;
    /// A qcow2 disk: an overlay of `backing`, or blank.
    fn disk_create(&self, path: &Path, size_gib: u64, backing: Option<&Path>) -> DriverResult<()>;
    /// A NoCloud seed ISO (volume `cidata`) with meta-data and user-data.
    fn seed_create(&self, path: &Path, meta_data: &str, user_data: &str) -> DriverResult<()>;
    /// Whether KVM really works here, found by booting `kernel` (not by the presence of
    /// /dev/kvm: nested KVM can open and then hang).
    fn probe_accelerator(&self, kernel: Option<&Path>) -> Accelerator;
    /// The group guests' QEMU processes run with: the directories they must traverse (the data
    /// directory, instance and image folders) belong to it. `None`: no real guests.
    fn guest_group(&self) -> Option<u32> {
        None
    }
}
