//! Placement as a pure function: host capacities, the overcommit ratio, dedicated cores and the
//! reservations already held go in; a placement, or the reasons why nothing fits, come out.
//!
//! A [`Reservation`] is whatever holds capacity on a host — an instance today, a container's
//! limits when apps land — so that VMs and containers share one accounting.

use std::collections::BTreeSet;

/// Memory a new host keeps for itself (the hypervisor, Nuvem, the daemons); the operator changes
/// it per host.
pub const HOST_RESERVED_MIB: i64 = 1024;

/// What a host offers.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCapacity {
    pub id: String,
    pub name: String,
    pub cores: u32,
    /// vCPUs offered per core: 1.0 pins one vCPU per core, 4.0 is the commercial figure.
    pub cpu_ratio: f64,
    pub memory_mib: i64,
    /// Memory the host keeps for itself.
    pub reserved_memory_mib: i64,
}

impl HostCapacity {
    /// vCPUs the host offers in all: cores × ratio, rounded down.
    pub fn vcpus(&self) -> u32 {
        (f64::from(self.cores) * self.cpu_ratio).floor() as u32
    }

    /// Memory for guests: memory is never overcommitted, and the host keeps its share.
    pub fn guest_memory_mib(&self) -> i64 {
        (self.memory_mib - self.reserved_memory_mib).max(0)
    }
}

/// Capacity held on a host by one instance (or container).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reservation {
    pub vcpus: u32,
    /// A fraction of a vCPU on top of `vcpus`, in thousandths: a container's CPU limit (0.5
    /// vCPU is 500). Instances hold whole vCPUs and leave it 0.
    pub millivcpus: u32,
    pub memory_mib: i64,
    /// Host cores given to it alone (dedicated vCPUs).
    pub pinned_cores: Vec<u32>,
}

/// A host with what is reserved on it now.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLoad {
    pub host: HostCapacity,
    pub reservations: Vec<Reservation>,
}

impl HostLoad {
    /// Thousandths of a vCPU held.
    pub fn millivcpus_used(&self) -> u64 {
        self.reservations
            .iter()
            .map(|r| u64::from(r.vcpus) * 1000 + u64::from(r.millivcpus))
            .sum()
    }

    /// vCPUs held, a fraction counting as a whole one.
    pub fn vcpus_used(&self) -> u32 {
        self.millivcpus_used().div_ceil(1000) as u32
    }

    pub fn memory_used_mib(&self) -> i64 {
        self.reservations.iter().map(|r| r.memory_mib).sum()
    }

    /// vCPUs still free (0 when a lowered ratio left the host over its capacity).
    pub fn vcpus_free(&self) -> u32 {
        self.host.vcpus().saturating_sub(self.vcpus_used())
    }

    pub fn memory_free_mib(&self) -> i64 {
        (self.host.guest_memory_mib() - self.memory_used_mib()).max(0)
    }

    pub fn pinned_cores(&self) -> BTreeSet<u32> {
        self.reservations
            .iter()
            .flat_map(|r| r.pinned_cores.iter().copied())
            .collect()
    }
}

/// `count` alike instances to place together, on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub count: u32,
    pub vcpus: u32,
    /// A fraction of a vCPU on top of `vcpus` for each, in thousandths (containers).
    pub millivcpus: u32,
    pub memory_mib: i64,
    /// Each vCPU gets a core of its own (CPU pinning).
    pub dedicated: bool,
}

/// Where a request goes: the host, and for each instance its cores (empty unless dedicated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub host_id: String,
    pub cores: Vec<Vec<u32>>,
}

/// Nothing fits; one reason per host, in words a student can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoom {
    pub reasons: Vec<String>,
}

impl std::fmt::Display for NoRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.reasons.is_empty() {
            return f.write_str("no host has room: this Nuvem has no hosts");
        }
        write!(f, "no host has room: {}", self.reasons.join("; "))
    }
}

/// Why `load` cannot take `req`, or the cores it would give each instance.
fn fit(load: &HostLoad, req: &Request) -> Result<Vec<Vec<u32>>, String> {
    let host = &load.host;
    let used_m = load.millivcpus_used();
    let asked_m = u64::from(req.count) * (u64::from(req.vcpus) * 1000 + u64::from(req.millivcpus));
    let cap = host.vcpus();
    if used_m + asked_m > u64::from(cap) * 1000 {
        let (used, asked) = (vcpus_text(used_m), vcpus_text(asked_m));
        let total = (used_m + asked_m).div_ceil(1000) as u32;
        return Err(format!(
            "{} has {used} of {cap} vCPUs in use ({} cores × overcommit ratio {}), {} free, and {asked} were asked for; the operator can raise the ratio live (`cloudctl host update {} --cpu-ratio {}`)",
            host.name,
            host.cores,
            host.cpu_ratio,
            load.vcpus_free(),
            host.id,
            suggested_ratio(host, total),
        ));
    }
    let (mem_used, mem_cap) = (load.memory_used_mib(), host.guest_memory_mib());
    let mem_asked = i64::from(req.count) * req.memory_mib;
    if mem_used + mem_asked > mem_cap {
        return Err(format!(
            "{} has {mem_used} of {mem_cap} MiB of guest memory in use, {} free, and {mem_asked} were asked for (memory is not overcommitted; {} MiB are kept for the host: `cloudctl host update {} --reserved-memory-mib N` changes that)",
            host.name,
            load.memory_free_mib(),
            host.reserved_memory_mib,
            host.id,
        ));
    }
    if !req.dedicated {
        return Ok(vec![Vec::new(); req.count as usize]);
    }
    let pinned = load.pinned_cores();
    let mut free = (0..host.cores).filter(|c| !pinned.contains(c));
    let mut cores = Vec::with_capacity(req.count as usize);
    for _ in 0..req.count {
        let mine: Vec<u32> = free.by_ref().take(req.vcpus as usize).collect();
        if mine.len() < req.vcpus as usize {
            return Err(format!(
                "{} has no free core left for dedicated vCPUs ({} of {} cores are dedicated already)",
                host.name,
                pinned.len(),
                host.cores
            ));
        }
        cores.push(mine);
    }
    Ok(cores)
}

/// Thousandths of a vCPU as people write them: `2`, `2.5`, `0.25`.
fn vcpus_text(millis: u64) -> String {
    let text = format!("{:.3}", millis as f64 / 1000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The smallest ratio, in steps of 0.5, under which `host` offers `vcpus` (capped at the highest).
fn suggested_ratio(host: &HostCapacity, vcpus: u32) -> f64 {
    let cores = f64::from(host.cores.max(1));
    let ratio = (f64::from(vcpus) / cores * 2.0).ceil() / 2.0;
    ratio.clamp(host.cpu_ratio, nuvem_api::ec2::CPU_RATIO_RANGE.1)
}

/// The first host, in the order given, that can take the whole request.
pub fn place(hosts: &[HostLoad], req: &Request) -> Result<Placement, NoRoom> {
    let mut reasons = Vec::new();
    for load in hosts {
        match fit(load, req) {
            Ok(cores) => {
                return Ok(Placement {
                    host_id: load.host.id.clone(),
                    cores,
                });
            }
            Err(why) => reasons.push(why),
        }
    }
    Err(NoRoom { reasons })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(id: &str, cores: u32, ratio: f64, memory_gib: i64) -> HostLoad {
        HostLoad {
            host: HostCapacity {
                id: id.into(),
                name: id.into(),
                cores,
                cpu_ratio: ratio,
                memory_mib: memory_gib * 1024,
                reserved_memory_mib: HOST_RESERVED_MIB,
            },
            reservations: Vec::new(),
        }
    }

    fn small(count: u32) -> Request {
        Request {
            count,
            millivcpus: 0,
            vcpus: 1,
            memory_mib: 512,
            dedicated: false,
        }
    }

    /// Places one at a time, recording each, until the host is full; returns how many fit.
    fn fill(load: &mut HostLoad, req: Request) -> u32 {
        let mut n = 0;
        while let Ok(p) = place(std::slice::from_ref(load), &req) {
            for cores in p.cores {
                load.reservations.push(Reservation {
                    vcpus: req.vcpus,
                    millivcpus: req.millivcpus,
                    memory_mib: req.memory_mib,
                    pinned_cores: cores,
                });
            }
            n += 1;
        }
        n
    }

    #[test]
    fn ratio_one_pins_a_vcpu_per_core_and_four_is_the_commercial_figure() {
        let mut course = host("h", 2, 1.0, 24);
        assert_eq!(fill(&mut course, small(1)), 2);
        let err = place(std::slice::from_ref(&course), &small(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no host has room: h has 2 of 2 vCPUs in use (2 cores × overcommit ratio 1), 0 free, and 1 were asked for; the operator can raise the ratio live (`cloudctl host update h --cpu-ratio 1.5`)"
        );
        let mut commercial = host("h", 2, 4.0, 24);
        assert_eq!(fill(&mut commercial, small(1)), 8);
        // A fractional ratio rounds down: 2 × 1.5 = 3.
        assert_eq!(fill(&mut host("h", 2, 1.5, 24), small(1)), 3);
    }

    #[test]
    fn a_request_for_several_goes_on_one_host_or_not_at_all() {
        let loads = [host("a", 2, 1.0, 24), host("b", 4, 1.0, 24)];
        assert_eq!(place(&loads, &small(2)).unwrap().host_id, "a");
        let p = place(&loads, &small(3)).unwrap();
        assert_eq!((p.host_id.as_str(), p.cores.len()), ("b", 3));
        let err = place(&loads, &small(5)).unwrap_err();
        assert_eq!(err.reasons.len(), 2, "one reason per host: {err}");
    }

    #[test]
    fn dedicated_cores_run_out_before_overcommitted_vcpus() {
        let mut load = host("h", 2, 4.0, 24);
        let pinned = Request {
            dedicated: true,
            ..small(1)
        };
        let first = place(std::slice::from_ref(&load), &pinned).unwrap();
        assert_eq!(first.cores, vec![vec![0]]);
        assert_eq!(fill(&mut load, pinned), 2, "one dedicated vCPU per core");
        assert_eq!(load.pinned_cores().into_iter().collect::<Vec<_>>(), [0, 1]);
        let err = place(std::slice::from_ref(&load), &pinned).unwrap_err();
        assert!(err.to_string().contains("no free core left"), "{err}");
        // Shared vCPUs still fit beside them, within the ratio.
        assert!(place(std::slice::from_ref(&load), &small(6)).is_ok());
        // Two instances of two dedicated vCPUs each need four distinct cores.
        let four = host("q", 4, 1.0, 24);
        let p = place(
            &[four],
            &Request {
                count: 2,
                vcpus: 2,
                dedicated: true,
                ..small(1)
            },
        )
        .unwrap();
        assert_eq!(p.cores, vec![vec![0, 1], vec![2, 3]]);
    }

    #[test]
    fn memory_is_never_overcommitted_and_the_host_keeps_its_share() {
        let mut load = host("h", 64, 16.0, 4);
        let big = Request {
            memory_mib: 1024,
            ..small(1)
        };
        // 4 GiB less the host's 1 GiB: three guests of 1 GiB, whatever the CPU ratio.
        assert_eq!(fill(&mut load, big), 3);
        let err = place(std::slice::from_ref(&load), &big).unwrap_err();
        assert!(err.to_string().contains("3072 of 3072 MiB"), "{err}");
        assert!(err.to_string().contains("0 free"), "{err}");
        // Less kept for the host: room for one more.
        load.host.reserved_memory_mib = 0;
        assert_eq!(fill(&mut load, big), 1);
    }

    #[test]
    fn a_lowered_ratio_evicts_nobody_and_admits_nothing_until_capacity_frees() {
        let mut load = host("h", 2, 4.0, 24);
        assert_eq!(fill(&mut load, small(1)), 8);
        load.host.cpu_ratio = 1.0;
        assert_eq!(load.vcpus_used(), 8, "running instances keep their vCPUs");
        assert_eq!(load.vcpus_free(), 0);
        let err = place(std::slice::from_ref(&load), &small(1)).unwrap_err();
        assert!(err.to_string().contains("8 of 2 vCPUs in use"), "{err}");
        assert!(err.to_string().contains("--cpu-ratio 4.5"), "{err}");
    }

    #[test]
    fn containers_and_instances_share_the_accounting() {
        // A container's limits are a reservation like any other.
        let mut load = host("h", 2, 1.0, 24);
        load.reservations.push(Reservation {
            vcpus: 1,
            millivcpus: 0,
            memory_mib: 256,
            pinned_cores: Vec::new(),
        });
        assert_eq!(fill(&mut load, small(1)), 1);
    }

    #[test]
    fn no_hosts_is_said_plainly() {
        assert!(
            place(&[], &small(1))
                .unwrap_err()
                .to_string()
                .contains("no hosts")
        );
    }

    #[test]
    fn containers_hold_fractions_of_a_vcpu_beside_instances() {
        let mut load = host("h", 2, 1.0, 8);
        load.reservations.push(Reservation {
            vcpus: 1,
            millivcpus: 0,
            memory_mib: 512,
            pinned_cores: Vec::new(),
        });
        let half = Request {
            vcpus: 0,
            millivcpus: 500,
            memory_mib: 128,
            ..small(1)
        };
        // One instance and two half-vCPU containers fill the two vCPUs.
        assert_eq!(fill(&mut load, half), 2);
        assert_eq!(load.vcpus_used(), 2);
        let err = place(std::slice::from_ref(&load), &half).unwrap_err();
        assert!(
            err.to_string().contains("2 of 2 vCPUs in use")
                && err.to_string().contains("0.5 were asked"),
            "{err}"
        );
    }
}
