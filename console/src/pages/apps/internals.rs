//! One replica as the kernel sees it (the seed's namespaces and cgroups chapter): its PID on the
//! host and inside the container; each namespace beside the host's, the ones of its own marked;
//! the cgroup's limits beside what it uses, and the files that hold them; the overlay layers of
//! its root filesystem as a stack; its network interface. All read by the server from `/proc`
//! and `/sys/fs/cgroup` when asked: "Read again" reads them anew (after a change of limits, say).

use leptos::prelude::*;
use nuvem_api::apps::ReplicaInternals;

use crate::api;
use crate::app::tr;
use crate::components::{Bar, ErrorLine, Scope};
use crate::model::apps::{
    NamespaceRow, bytes, cpu_quota, isolated_count, layer_stack, memory_use, namespace_rows,
    percent,
};

#[component]
pub fn Internals(
    app: String,
    replica: String,
    /// The replica's CPU use at the last sample (% of one core), beside its quota.
    cpu: Signal<Option<f64>>,
) -> impl IntoView {
    let scope = Scope::current();
    let internals = RwSignal::new(None::<ReplicaInternals>);
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let read = {
        let (app, replica) = (app.clone(), replica.clone());
        move || {
            let (app, replica) = (app.clone(), replica.clone());
            loading.set(true);
            scope.spawn(async move {
                match api::run(async |sdk| sdk.replica_internals(&app, &replica).await).await {
                    Ok(i) => {
                        error.set(None);
                        internals.set(Some(i));
                    }
                    Err(e) => {
                        internals.set(None);
                        error.set(Some(e.show()));
                    }
                }
                loading.set(false);
            });
        }
    };
    read();
    let again = read.clone();
    view! {
        <div class="detail internals" id="internals" data-replica=replica.clone()>
            <h3>{tr("apps.internals_of")}" "<code>{replica.clone()}</code></h3>
            <p>{tr("apps.internals_intro")}</p>
            <p><button id="internals-refresh" class="secondary" on:click=move |_| again()>{tr("apps.refresh")}</button>
                <Show when=move || loading.get()>" "{tr("common.loading")}</Show></p>
            <ErrorLine error=error id="internals-error"/>
            {move || internals.get().map(|i| view! { <InternalsRead i=i cpu=cpu/> })}
        </div>
    }
}

/// The internals as the server read them.
#[component]
fn InternalsRead(i: ReplicaInternals, cpu: Signal<Option<f64>>) -> impl IntoView {
    let rows = namespace_rows(&i.namespaces);
    let own = isolated_count(&rows);
    let memory = memory_use(&i.cgroup).map(|m| {
        let limit = m.limit_bytes.map_or_else(|| tr("apps.no_limit")().to_owned(), bytes);
        let figures = format!(
            "{} / {limit} ({:.0} %)",
            bytes(m.used_bytes),
            percent(m.used_bytes, m.limit_bytes)
        );
        view! {
            <tr><th>{tr("host.memory")}</th>
                <td><Bar id="cgroup-memory" used=m.used_bytes total=m.limit_bytes.unwrap_or(0) figures=figures/></td></tr>
        }
    });
    let quota = cpu_quota(&i.cgroup).map(|q| {
        // The quota as % of one core, the unit the replica's CPU sample is measured in.
        let limit = q.vcpus().map(|v| (v * 100.0).round() as u64);
        let figures = move || {
            let used = cpu.get().map_or_else(|| "—".to_owned(), |p| format!("{p:.1} %"));
            let limit = match (q.quota_us, limit) {
                (Some(us), Some(l)) => format!("{l} % ({us} µs / {} µs)", q.period_us),
                _ => tr("apps.no_limit")().to_owned(),
            };
            format!("{used} / {limit}")
        };
        view! {
            <tr><th>"CPU"</th><td>{move || view! {
                <Bar id="cgroup-cpu" used=cpu.get().unwrap_or(0.0).round() as u64 total=limit.unwrap_or(0) figures=Signal::derive(figures)/>
            }}</td></tr>
        }
    });
    let security_groups = i.security_group_ids.join(", ");
    view! {
        <h4>{tr("apps.pids")}</h4>
        <p id="internals-pids" class="pids">
            {tr("apps.host_pid")}" "<strong id="host-pid">{i.host_pid}</strong>
            " → "{tr("apps.container_pid")}" "<strong id="container-pid">{i.container_pid}</strong>
        </p>
        <h4>"Namespaces"</h4>
        <p>{format!("{own}/{} ", rows.len())}{tr("apps.ns_own")}</p>
        <Namespaces rows=rows/>
        <h4>{tr("apps.cgroup")}" v"{i.cgroup.version}</h4>
        <p><code>{i.cgroup.path.clone()}</code></p>
        <table id="cgroup-limits">
            <thead><tr><th></th><th>{tr("apps.usage_of_limit")}</th></tr></thead>
            <tbody>{memory}{quota}</tbody>
        </table>
        <div class="table-wrap"><table id="cgroup-files">
            <thead><tr><th>{tr("apps.file")}</th><th>{tr("apps.value")}</th><th>{tr("apps.meaning")}</th></tr></thead>
            // The file's name, its full path on hover: the directory is shown above, and whole
            // paths would push the values off the screen.
            <tbody>{i.cgroup.files.into_iter().map(|f| {
                let name = f.path.rsplit('/').next().unwrap_or_default().to_owned();
                view! {
                    <tr><td class="id" title=f.path><code>{name}</code></td><td><code>{f.value}</code></td><td>{f.meaning}</td></tr>
                }
            }).collect_view()}</tbody>
        </table></div>
        <h4>{tr("apps.rootfs")}</h4>
        <ol class="layer-stack" id="rootfs-layers">
            {layer_stack(&i.rootfs_layers).into_iter().map(|(dir, writable)| {
                let class = if writable { "layer writable" } else { "layer" };
                let label = if writable { tr("apps.layer_writable") } else { tr("apps.layer_read_only") };
                view! { <li class=class><code>{dir}</code>" "<span class="pill">{label}</span></li> }
            }).collect_view()}
        </ol>
        <h4>{tr("net.interfaces")}</h4>
        <table id="internals-network">
            <tr><th>{tr("net.device")}</th><td><code>{i.interface_device}</code></td></tr>
            <tr><th>{tr("ec2.private_ip")}</th><td>{i.private_ip}</td></tr>
            <tr><th>"MAC"</th><td><code>{i.mac}</code></td></tr>
            <tr><th>{tr("net.groups")}</th><td>{security_groups}</td></tr>
        </table>
    }
}

/// The diagram: the container's namespaces in one column, the host's in the other, each kind on
/// a row; a row of the container's own is marked and its two boxes stand apart, a shared one
/// joins them.
#[component]
fn Namespaces(rows: Vec<NamespaceRow>) -> impl IntoView {
    let inode = |i: Option<u64>| i.map_or_else(|| "—".to_owned(), |n| n.to_string());
    view! {
        <div class="ns-diagram" id="ns-diagram" role="table">
            <div class="ns-row ns-head" role="row">
                <span role="columnheader">{tr("apps.ns_container")}</span>
                <span role="columnheader"></span>
                <span role="columnheader">{tr("apps.ns_host")}</span>
            </div>
            {rows.into_iter().map(|r| {
                let absent = r.container_inode.is_none();
                let unknown = r.host_inode.is_none();
                let class = if absent {
                    "ns-row absent"
                } else if unknown {
                    "ns-row unknown"
                } else if r.isolated {
                    "ns-row isolated"
                } else {
                    "ns-row shared"
                };
                let mark = if absent {
                    tr("apps.ns_absent")
                } else if unknown {
                    tr("apps.ns_unknown")
                } else if r.isolated {
                    tr("apps.ns_isolated")
                } else {
                    tr("apps.ns_shared")
                };
                let kind = r.kind.clone();
                view! {
                    <div class=class role="row" data-ns=kind data-isolated=r.isolated.to_string()>
                        <span class="ns-box container" role="cell"><strong>{r.kind.clone()}</strong>" "<code>{inode(r.container_inode)}</code></span>
                        <span class="ns-link" role="cell">{mark}</span>
                        <span class="ns-box host" role="cell"><strong>{r.kind.clone()}</strong>" "<code>{inode(r.host_inode)}</code></span>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}
