//! The operator's view of the hosts: vCPUs and memory used of what guests may have, what is free,
//! whether guests run on KVM or on TCG, and a form that changes a host's vCPU ratio and reserved
//! memory live (`PATCH /v1/ec2/hosts/{host}`). Running instances are never evicted: a host
//! lowered below its use takes no new launch until enough frees.

use leptos::prelude::*;
use nuvem_api::ec2::Host;

use crate::api;
use crate::app::{ctx, text, tr};
use crate::components::{Bar, ErrorLine, Field, Loaded, ResourceTable, Scope};
use crate::i18n;
use crate::model;

#[component]
pub fn Hosts() -> impl IntoView {
    let scope = Scope::current();
    let hosts = RwSignal::<Loaded<Host>>::new(None);
    scope.load(hosts, async |sdk| sdk.list_hosts().await.map(|l| l.items));
    let row = move |h: Host| view! { <HostRow host=h hosts=hosts scope=scope/> };
    view! {
        <h2>{tr("host.title")}</h2>
        <p>{tr("host.intro")}</p>
        <ResourceTable id="hosts" cols=4 items=hosts row=row>
            <th>"Host"</th><th>"vCPUs"</th><th>{tr("host.memory")}</th><th>{tr("host.change")}</th>
        </ResourceTable>
    }
}

/// One host: its figures as bars, and its form.
#[component]
fn HostRow(host: Host, hosts: RwSignal<Loaded<Host>>, scope: Scope) -> impl IntoView {
    let c = ctx();
    let h = host;
    let ratio = RwSignal::new(h.cpu_ratio.to_string());
    let reserved = RwSignal::new(h.reserved_memory_mib.to_string());
    let error = RwSignal::new(None::<String>);
    let name = h.name.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (Ok(cpu_ratio), Ok(reserved_mib)) = (
            model::ratio_field(&ratio.get()),
            model::mib_field(&reserved.get()),
        ) else {
            error.set(Some(text("host.not_a_number").to_owned()));
            return;
        };
        let host = name.clone();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.update_host(&host, cpu_ratio, reserved_mib).await).await
            {
                Ok(_) => scope.load(hosts, async |sdk| sdk.list_hosts().await.map(|l| l.items)),
                // The row may be gone (the list reloaded meanwhile).
                Err(e) => drop(error.try_set(Some(e.show()))),
            }
        });
    };
    let (kvm, cores, guest) = (h.accelerator == "kvm", h.cores, model::guest_memory_mib(&h));
    let n = move |v: f64, decimals| i18n::number(c.lang.get(), v, decimals);
    let (vcpus_used, vcpus_capacity, vcpus_free) = (h.vcpus_used, h.vcpus_capacity, h.vcpus_free);
    let (mem_used, mem_free, mem_reserved) =
        (h.memory_used_mib, h.memory_free_mib, h.reserved_memory_mib);
    let cpu_ratio = h.cpu_ratio;
    let vcpu_figures = move || {
        format!(
            "{vcpus_used} / {vcpus_capacity} ({} {}) — {cores} {} × {}",
            vcpus_free,
            tr("host.free")(),
            tr("host.cores")(),
            n(cpu_ratio, 1)
        )
    };
    let memory_figures = move || {
        format!(
            "{} / {} MiB ({} {}) — {} MiB {}",
            n(mem_used as f64, 0),
            n(guest as f64, 0),
            n(mem_free as f64, 0),
            tr("host.free")(),
            n(mem_reserved as f64, 0),
            tr("host.reserved_for_host")()
        )
    };
    let id = |what: &str| format!("host-{what}-{}", h.name);
    view! {
        <tr data-host=h.name.clone()>
            <td class="id">
                <strong>{h.name.clone()}</strong><br/>
                <span class="pill" title=move || if kvm { tr("host.kvm")() } else { tr("host.tcg")() }>
                    {if kvm { "KVM" } else { "TCG" }}
                </span>
            </td>
            <td><Bar id=id("vcpus") used=u64::from(vcpus_used) total=u64::from(vcpus_capacity) figures=vcpu_figures/></td>
            <td><Bar id=id("memory") used=mem_used total=guest figures=memory_figures/></td>
            <td>
                <form class="inline" on:submit=save>
                    <Field id=id("ratio") label=tr("host.ratio") value=ratio/>
                    <Field id=id("reserved") label=tr("host.reserved") value=reserved/>
                    <button id=id("save") type="submit">{tr("common.save")}</button>
                </form>
                <ErrorLine error=error id=id("error")/>
            </td>
        </tr>
    }
}
