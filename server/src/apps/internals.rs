//! Inside a container (the seed's namespaces and cgroups chapter): one replica as the kernel
//! sees it, read from `/proc` and `/sys/fs/cgroup` at the time of the call — nothing stored.

use nuvem_api::apps as api;

use super::{Apps, host};
use crate::drivers::cgroup;
use crate::error::{Error, Result};
use crate::iam::Principal;

impl Apps {
    pub async fn replica_internals(
        &self,
        p: &Principal,
        name: &str,
        replica: &str,
    ) -> Result<api::ReplicaInternals> {
        self.iam
            .authorize(p, "apps:DescribeInternals", &Self::res(p, "app", name))
            .await?;
        let app = self.app_lookup(p, name).await?;
        let r = self
            .store
            .replica_list(&app.id)
            .await?
            .into_iter()
            .find(|r| r.id == replica)
            .ok_or_else(|| Error::not_found("replica", replica))?;
        let info = self
            .engine
            .container_inspect(&r.container)
            .await
            .map_err(host)?
            .filter(|i| i.pid != 0)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "replica {replica} is not running now; its internals exist only while it runs"
                ))
            })?;
        // Said plainly rather than read from an unrelated process, or failed as an internal
        // error the caller cannot act on.
        if !self.engine.runs_host_processes() {
            return Err(Error::Conflict(format!(
                "replica {replica} runs on the simulated container engine, which starts no process: it has no namespaces or cgroup to show; start the server with --container-engine docker to see them"
            )));
        }
        let pid = info.pid;
        let (namespaces, container_pid, cg) = tokio::task::spawn_blocking(move || {
            // PID 1 stands for the host; where it cannot be read (a microVM's init refuses even
            // root), the server's own process does: it runs in the host's namespaces.
            let mut host_ns = cgroup::namespaces(1);
            if host_ns.is_empty() {
                host_ns = cgroup::namespaces(std::process::id());
            }
            let mine = cgroup::namespaces(pid);
            let namespaces: Vec<api::NamespaceView> = mine
                .into_iter()
                .map(|(kind, inode)| {
                    let host_inode = host_ns
                        .iter()
                        .find(|(k, _)| *k == kind)
                        .map(|(_, i)| *i)
                        .unwrap_or(0);
                    api::NamespaceView {
                        // A host inode not read (0) proves nothing either way.
                        isolated: host_inode != 0 && inode != host_inode,
                        kind,
                        container_inode: inode,
                        host_inode,
                    }
                })
                .collect();
            (
                namespaces,
                cgroup::pid_in_namespace(pid).unwrap_or(0),
                cgroup::limit_files(pid),
            )
        })
        .await
        .map_err(Error::internal)?;
        let (version, path, files) = cg.map_err(host)?;
        let eni = self
            .store
            .eni_get(&r.account_id, &r.interface_id)
            .await?
            .ok_or_else(|| Error::internal(format!("interface {} vanished", r.interface_id)))?;
        Ok(api::ReplicaInternals {
            replica: r.id.clone(),
            container: r.container.clone(),
            host_pid: pid,
            container_pid,
            namespaces,
            cgroup: api::CgroupView {
                version,
                path: path.display().to_string(),
                files: files
                    .into_iter()
                    .map(|(path, value, meaning)| api::CgroupFile {
                        path,
                        value,
                        meaning,
                    })
                    .collect(),
            },
            rootfs_layers: info.layers,
            interface_device: eni.device.clone(),
            private_ip: eni.private_ip.clone(),
            mac: eni.mac.clone(),
            security_group_ids: self.store.eni_sg_list(&eni.id).await?,
        })
    }
}
