//! A replica's internals as the page draws them: its namespaces paired with the host's in a
//! fixed order, its cgroup files read as limit beside usage (either cgroup version), its root
//! filesystem's layers as a stack.

use nuvem_api::apps::{CgroupView, NamespaceView};

/// The namespace kinds in the order the diagram shows them (the ones containers make first).
pub const NAMESPACE_KINDS: [&str; 8] =
    ["pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time"];

/// One row of the namespace diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRow {
    pub kind: String,
    /// `None`: the kernel has no such namespace (an old kernel has no `time`).
    pub container_inode: Option<u64>,
    /// `None` also when the server could not read the host's (it sends 0).
    pub host_inode: Option<u64>,
    /// The container has one of its own (both inodes read, and they differ).
    pub isolated: bool,
}

/// The replica's namespaces beside the host's, every kind in [`NAMESPACE_KINDS`] order (kinds
/// the kernel lacks shown as absent), then any kind a newer kernel adds.
pub fn namespace_rows(namespaces: &[NamespaceView]) -> Vec<NamespaceRow> {
    let row = |n: &NamespaceView| {
        let host_inode = Some(n.host_inode).filter(|i| *i != 0);
        NamespaceRow {
            kind: n.kind.clone(),
            container_inode: Some(n.container_inode).filter(|i| *i != 0),
            host_inode,
            // The inodes decide, as the server's `isolated` does; one not read decides nothing.
            isolated: host_inode.is_some() && n.container_inode != n.host_inode,
        }
    };
    let mut rows: Vec<NamespaceRow> = NAMESPACE_KINDS
        .iter()
        .map(|kind| match namespaces.iter().find(|n| n.kind == *kind) {
            Some(n) => row(n),
            None => NamespaceRow {
                kind: (*kind).to_owned(),
                container_inode: None,
                host_inode: None,
                isolated: false,
            },
        })
        .collect();
    rows.extend(
        namespaces
            .iter()
            .filter(|n| !NAMESPACE_KINDS.contains(&n.kind.as_str()))
            .map(row),
    );
    rows
}

/// How many of the replica's namespaces are its own.
pub fn isolated_count(rows: &[NamespaceRow]) -> usize {
    rows.iter().filter(|r| r.isolated).count()
}

/// Memory as the cgroup limits and reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    pub used_bytes: u64,
    /// `None`: no limit (`max` on v2, the page-rounded `i64::MAX` on v1).
    pub limit_bytes: Option<u64>,
}

/// The CFS quota: the group may run `quota_us` every `period_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuQuota {
    /// `None`: no quota (`max` on v2, `-1` on v1).
    pub quota_us: Option<u64>,
    pub period_us: u64,
}

impl CpuQuota {
    /// The quota in vCPUs (0.5: half of one core's time).
    pub fn vcpus(self) -> Option<f64> {
        let q = self.quota_us?;
        (self.period_us > 0).then(|| q as f64 / self.period_us as f64)
    }
}

/// v1 writes "no limit" as the largest page-aligned `i64`; anything this large is none.
const NO_LIMIT_V1: u64 = 1 << 62;

/// The value of the cgroup file whose name ends with `name`.
fn file<'a>(cg: &'a CgroupView, name: &str) -> Option<&'a str> {
    cg.files
        .iter()
        .find(|f| f.path.rsplit('/').next() == Some(name))
        .map(|f| f.value.trim())
}

/// The memory limit beside the memory in use, read from the files of either cgroup version.
pub fn memory_use(cg: &CgroupView) -> Option<MemoryUse> {
    let (used, limit) = if cg.version == 2 {
        (file(cg, "memory.current")?, file(cg, "memory.max")?)
    } else {
        (
            file(cg, "memory.usage_in_bytes")?,
            file(cg, "memory.limit_in_bytes")?,
        )
    };
    Some(MemoryUse {
        used_bytes: used.parse().ok()?,
        limit_bytes: limit.parse::<u64>().ok().filter(|l| *l < NO_LIMIT_V1),
    })
}

/// The CPU quota, from `cpu.max` (v2: `QUOTA PERIOD`) or `cpu.cfs_quota_us` and
/// `cpu.cfs_period_us` (v1).
pub fn cpu_quota(cg: &CgroupView) -> Option<CpuQuota> {
    let (quota, period) = if cg.version == 2 {
        file(cg, "cpu.max")?.split_once(' ')?
    } else {
        (
            file(cg, "cpu.cfs_quota_us")?,
            file(cg, "cpu.cfs_period_us")?,
        )
    };
    Some(CpuQuota {
        quota_us: quota.trim().parse::<u64>().ok(),
        period_us: period.trim().parse().ok()?,
    })
}

/// `used` as a percentage of `limit`, for a bar (0 when there is no limit to compare with).
pub fn percent(used: u64, limit: Option<u64>) -> f64 {
    match limit {
        Some(l) if l > 0 => used as f64 * 100.0 / l as f64,
        _ => 0.0,
    }
}

/// The root filesystem's overlay directories as a stack is drawn: the writable one on top (the
/// API lists them lowest first, the writable one last), each with whether it is the writable one.
pub fn layer_stack(layers: &[String]) -> Vec<(String, bool)> {
    let top = layers.len().checked_sub(1);
    layers
        .iter()
        .enumerate()
        .rev()
        .map(|(i, dir)| (dir.clone(), Some(i) == top))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuvem_api::apps::CgroupFile;

    #[test]
    fn namespaces_paired_in_a_fixed_order() {
        let ns = |kind: &str, container: u64, host: u64| NamespaceView {
            kind: kind.into(),
            container_inode: container,
            host_inode: host,
            isolated: container != host,
        };
        let rows = namespace_rows(&[
            ns("user", 4026531837, 4026531837),
            ns("net", 4026532300, 4026531840),
            ns("pid", 4026532299, 4026531836),
            ns("newkind", 7, 7),
            ns("ipc", 4026532298, 0),
        ]);
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time", "newkind"
            ]
        );
        assert!(rows[0].isolated && rows[1].isolated);
        assert!(!rows[5].isolated, "the user namespace is the host's");
        assert_eq!(rows[2].container_inode, None, "mnt was not reported");
        assert_eq!(rows[1].host_inode, Some(4026531840));
        // The host's not read (0): neither own nor shared.
        assert_eq!((rows[4].host_inode, rows[4].isolated), (None, false));
        assert_eq!(rows[4].container_inode, Some(4026532298));
        assert_eq!(isolated_count(&rows), 2);
    }

    fn cgroup(version: u8, files: &[(&str, &str)]) -> CgroupView {
        CgroupView {
            version,
            path: "/sys/fs/cgroup/x".into(),
            files: files
                .iter()
                .map(|(name, value)| CgroupFile {
                    path: format!("/sys/fs/cgroup/x/{name}"),
                    value: (*value).into(),
                    meaning: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn cgroup_v1_limits_beside_usage() {
        let cg = cgroup(
            1,
            &[
                ("cpu.cfs_quota_us", "50000"),
                ("cpu.cfs_period_us", "100000"),
                ("memory.limit_in_bytes", "134217728"),
                ("memory.usage_in_bytes", "33554432\n"),
            ],
        );
        let m = memory_use(&cg).unwrap();
        assert_eq!((m.used_bytes, m.limit_bytes), (32 << 20, Some(128 << 20)));
        assert_eq!(percent(m.used_bytes, m.limit_bytes), 25.0);
        let q = cpu_quota(&cg).unwrap();
        assert_eq!(q.vcpus(), Some(0.5));
        let unlimited = cgroup(
            1,
            &[
                ("cpu.cfs_quota_us", "-1"),
                ("cpu.cfs_period_us", "100000"),
                ("memory.limit_in_bytes", "9223372036854771712"),
                ("memory.usage_in_bytes", "1"),
            ],
        );
        assert_eq!(memory_use(&unlimited).unwrap().limit_bytes, None);
        assert_eq!(cpu_quota(&unlimited).unwrap().vcpus(), None);
        assert_eq!(percent(1, None), 0.0);
    }

    #[test]
    fn cgroup_v2_limits_beside_usage() {
        let cg = cgroup(
            2,
            &[
                ("cpu.max", "25000 100000"),
                ("memory.max", "268435456"),
                ("memory.current", "67108864"),
            ],
        );
        assert_eq!(
            memory_use(&cg),
            Some(MemoryUse {
                used_bytes: 64 << 20,
                limit_bytes: Some(256 << 20)
            })
        );
        assert_eq!(cpu_quota(&cg).unwrap().vcpus(), Some(0.25));
        let open = cgroup(
            2,
            &[
                ("cpu.max", "max 100000"),
                ("memory.max", "max"),
                ("memory.current", "5"),
            ],
        );
        assert_eq!(memory_use(&open).unwrap().limit_bytes, None);
        assert_eq!(cpu_quota(&open).unwrap().quota_us, None);
        assert_eq!(memory_use(&cgroup(2, &[])), None, "files the kernel lacks");
    }

    #[test]
    fn rootfs_layers_drawn_writable_on_top() {
        let layers = [
            "/l/base".to_owned(),
            "/l/app".to_owned(),
            "/l/upper".to_owned(),
        ];
        assert_eq!(
            layer_stack(&layers),
            [
                ("/l/upper".to_owned(), true),
                ("/l/app".to_owned(), false),
                ("/l/base".to_owned(), false)
            ]
        );
        assert!(layer_stack(&[]).is_empty());
    }
}
