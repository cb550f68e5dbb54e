//! How apps, replicas, events and a replica's internals look in the terminal.

use anyhow::bail;
use nuvem_api::apps::{App, AppEvent, ReplicaHealth, ReplicaInternals};

use super::wait::state_word;
use crate::output::{Detail, Out, Tabular, list_text, table_text, timestamp};

impl Tabular for App {
    const COLUMNS: &'static [&'static str] = &[
        "NAME", "STATE", "VERSION", "IMAGE", "REPLICAS", "HEALTHY", "URL", "REASON",
    ];

    fn row(&self) -> Vec<String> {
        let healthy = self
            .replicas
            .iter()
            .filter(|r| r.health == ReplicaHealth::Healthy)
            .count();
        vec![
            self.name.clone(),
            state_word(self.state).into(),
            self.version.to_string(),
            self.spec.image.clone(),
            format!("{}/{}", self.replicas.len(), self.replicas_desired),
            healthy.to_string(),
            self.url.clone().unwrap_or_default(),
            self.status_reason.clone(),
        ]
    }
}

impl Detail for App {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let s = &self.spec;
        let health = match &s.health_check.path {
            Some(p) => format!("HTTP GET {p} every {} s", s.health_check.interval_seconds),
            None => format!("TCP connect every {} s", s.health_check.interval_seconds),
        };
        let autoscaling = match &self.autoscaling {
            Some(a) => format!(
                "{}..{} replicas, target {} % CPU, cooldown {} s",
                a.min, a.max, a.target_cpu_percent, a.cooldown_seconds
            ),
            None => "off".into(),
        };
        vec![
            ("name", self.name.clone()),
            ("id", self.id.clone()),
            (
                "state",
                format!("{} {}", state_word(self.state), self.status_reason),
            ),
            ("version", self.version.to_string()),
            ("image", s.image.clone()),
            ("command", s.command.join(" ")),
            ("port", s.port.to_string()),
            (
                "limits",
                format!("{} vCPU, {} MiB per replica", s.cpu, s.memory_mib),
            ),
            ("health check", health),
            (
                "replicas",
                format!("{} of {}", self.replicas.len(), self.replicas_desired),
            ),
            ("autoscaling", autoscaling),
            ("url", self.url.clone().unwrap_or_else(|| "-".into())),
            (
                "load balancer",
                self.load_balancer_id.clone().unwrap_or_else(|| "-".into()),
            ),
            ("subnet", self.subnet_id.clone()),
            ("security groups", self.security_group_ids.join(", ")),
            ("created", timestamp(&self.created_at)),
        ]
    }
}

/// The app as label/value lines, then its replicas as a numbered table; JSON: the app.
pub(super) fn describe(out: &Out, app: &App) -> anyhow::Result<()> {
    if out.is_json() {
        return out.detail(app);
    }
    out.detail(app)?;
    let rows = app
        .replicas
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.id.clone(),
                r.version.to_string(),
                r.state.clone(),
                format!("{:?}", r.health).to_lowercase(),
                r.private_ip.clone(),
                r.restarts.to_string(),
                r.cpu_percent
                    .map(|c| format!("{c:.1} %"))
                    .unwrap_or_else(|| "-".into()),
                r.container.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        table_text(
            &[
                "#",
                "REPLICA",
                "VERSION",
                "STATE",
                "HEALTH",
                "PRIVATE IP",
                "RESTARTS",
                "CPU",
                "CONTAINER"
            ],
            rows
        )
    );
    Ok(())
}

/// A replica given by its number in `app describe` (1, 2, ...) or by its id.
pub(super) fn replica_id(app: &App, given: &str) -> anyhow::Result<String> {
    if let Ok(n) = given.parse::<usize>() {
        return match app.replicas.get(n.wrapping_sub(1)) {
            Some(r) => Ok(r.id.clone()),
            None => bail!(
                "{} has {} replica(s): --replica takes 1 to {} or an id (r-…)",
                app.name,
                app.replicas.len(),
                app.replicas.len()
            ),
        };
    }
    match app.replicas.iter().find(|r| r.id == given) {
        Some(r) => Ok(r.id.clone()),
        None => bail!(
            "{} has no replica {given}; its replicas: {}",
            app.name,
            app.replicas
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Tabular for AppEvent {
    const COLUMNS: &'static [&'static str] = &["AT", "KIND", "MESSAGE"];

    fn row(&self) -> Vec<String> {
        vec![timestamp(&self.at), self.kind.clone(), self.message.clone()]
    }
}

struct NamespaceRow<'a>(&'a nuvem_api::apps::NamespaceView);

impl Tabular for NamespaceRow<'_> {
    const COLUMNS: &'static [&'static str] = &["NAMESPACE", "CONTAINER", "HOST", "ISOLATED"];

    fn row(&self) -> Vec<String> {
        let n = self.0;
        vec![
            n.kind.clone(),
            n.container_inode.to_string(),
            n.host_inode.to_string(),
            if n.isolated {
                "yes (a new one)"
            } else {
                "no (the host's)"
            }
            .into(),
        ]
    }
}

/// The internals as a student reads them: processes, namespaces, cgroup, layers, network.
pub(super) fn internals_text(i: &ReplicaInternals) -> anyhow::Result<String> {
    let mut text = format!(
        "replica {} (container {})\n\
         process: PID {} on the host, PID {} inside the container\n\n\
         namespaces (the inode of /proc/PID/ns/KIND; a different inode is a new namespace):\n{}\n\n",
        i.replica,
        i.container,
        i.host_pid,
        i.container_pid,
        list_text(&i.namespaces.iter().map(NamespaceRow).collect::<Vec<_>>()),
    );
    text.push_str(&format!(
        "cgroup v{} at {}:\n{}\n\n",
        i.cgroup.version,
        i.cgroup.path,
        table_text(
            &["FILE", "VALUE", "WHAT IT DOES"],
            i.cgroup
                .files
                .iter()
                .map(|f| vec![f.path.clone(), f.value.clone(), f.meaning.clone()])
                .collect()
        )
    ));
    text.push_str("root filesystem (overlay; lowest layer first, the writable one last):\n");
    for layer in &i.rootfs_layers {
        text.push_str(&format!("  {layer}\n"));
    }
    text.push_str(&format!(
        "\nnetwork: {} {} (MAC {}), security groups {}\n",
        i.interface_device,
        i.private_ip,
        i.mac,
        i.security_group_ids.join(", ")
    ));
    Ok(text)
}
