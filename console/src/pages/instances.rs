//! Instances: launch one, watch its status badge follow the server (polled), stop, start,
//! terminate, its details and its serial console.

use leptos::prelude::*;
use nuvem_api::ec2::{Image, Instance, InstanceType, KeyPair, RunInstancesRequest};
use nuvem_api::vpc::{SecurityGroup, Subnet};

use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Loaded, ResourceTable, Scope, StatusBadge, confirm_delete};
use crate::i18n;

/// How often the list is asked again, so that badges move from pending to running by themselves.
const POLL_MS: u32 = 2000;

/// The type a launch proposes: the smallest.
const DEFAULT_TYPE: &str = "t3.nano";

/// Lists the instances into `instances`. A failure replaces nothing already shown (the next poll
/// tries again). `try_` accessors: a page's signals may be disposed under a task that ends late.
async fn refresh(instances: RwSignal<Loaded<Instance>>) {
    match api::load(async |sdk| sdk.list_instances().await).await {
        Ok(l) => drop(instances.try_set(Some(Ok(l.items)))),
        Err(e) if instances.try_get_untracked().flatten().is_none() => {
            drop(instances.try_set(Some(Err(e))))
        }
        Err(_) => {}
    }
}

#[derive(Clone, Copy)]
enum Action {
    Stop,
    Start,
    Terminate,
}

#[component]
pub fn Instances() -> impl IntoView {
    let scope = Scope::current();
    let instances = RwSignal::<Loaded<Instance>>::new(None);
    let error = RwSignal::new(None::<String>);
    let console = RwSignal::new(None::<(String, String)>);
    let detail = RwSignal::new(None::<String>);
    // Ends with this page (see `Scope`): leaving it used to panic while the loop still ran.
    scope.poll(POLL_MS, move || refresh(instances));
    let act = move |id: String, action: Action| {
        if matches!(action, Action::Terminate) && !confirm_delete() {
            return;
        }
        scope.spawn(async move {
            let r = api::run(async |sdk| match action {
                Action::Stop => sdk.stop_instance(&id).await,
                Action::Start => sdk.start_instance(&id).await,
                Action::Terminate => sdk.terminate_instance(&id).await,
            })
            .await;
            if let Err(e) = r {
                error.set(Some(e.show()));
            }
            refresh(instances).await;
        });
    };
    let show_console = move |id: String| {
        scope.spawn(async move {
            if let Ok(out) = api::run(async |sdk| sdk.console_output(&id).await).await {
                console.set(Some((id, out.output)));
            }
        });
    };
    let row = move |i: Instance| {
        let (a, b, d, e) = (i.id.clone(), i.id.clone(), i.id.clone(), i.id.clone());
        let open = i.id.clone();
        view! {
            <tr>
                <td><a href="#/instances" class="id" on:click=move |_| detail.set(Some(open.clone()))><code>{i.id.clone()}</code></a></td>
                <td>{i.name.clone()}</td>
                <td><StatusBadge state=i.state/></td>
                <td>{i.instance_type.clone()}</td>
                <td>{i.private_ip.clone().unwrap_or_default()}</td>
                <td>
                    <button class="secondary" on:click=move |_| show_console(a.clone())>{tr("ec2.console")}</button>" "
                    <button class="secondary" on:click=move |_| act(b.clone(), Action::Stop)>{tr("ec2.stop")}</button>" "
                    <button class="secondary" on:click=move |_| act(d.clone(), Action::Start)>{tr("ec2.start")}</button>" "
                    <button class="danger" on:click=move |_| act(e.clone(), Action::Terminate)>{tr("ec2.terminate")}</button>
                </td>
            </tr>
        }
    };
    view! {
        <section>
            <LaunchForm instances=instances error=error/>
            <h1>{tr("nav.instances")}</h1>
            <ResourceTable id="instances" cols=6 items=instances row=row>
                <th>"ID"</th><th>{tr("common.name")}</th><th>{tr("common.state")}</th><th>{tr("ec2.type")}</th><th>{tr("ec2.private_ip")}</th><th>{tr("common.actions")}</th>
            </ResourceTable>
            <Show when=move || detail.get().is_some()>
                {move || {
                    let id = detail.get().unwrap_or_default();
                    let found = instances.get().and_then(|l| l.ok()?.into_iter().find(|i| i.id == id));
                    found.map(|i| view! { <Detail instance=i/> })
                }}
            </Show>
            <Show when=move || console.get().is_some()>
                <h2>{tr("ec2.console")}" — "{move || console.get().map(|c| c.0).unwrap_or_default()}</h2>
                <pre id="console">{move || console.get().map(|c| c.1).unwrap_or_default()}</pre>
            </Show>
        </section>
    }
}

/// One instance: where it runs and how it was made.
#[component]
fn Detail(instance: Instance) -> impl IntoView {
    let i = instance;
    let launched = i.launched_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let cpus = if i.pinned_cpus.is_empty() {
        "shared".to_owned()
    } else {
        format!("{:?}", i.pinned_cpus)
    };
    view! {
        <div class="detail" id="instance-detail">
            <h2>{i.name.clone()}" ("{i.id.clone()}")"</h2>
            <table>
                <tr><th>{tr("common.state")}</th><td><StatusBadge state=i.state/>" "{i.state_reason.clone()}</td></tr>
                <tr><th>{tr("ec2.type")}</th><td>{format!("{} — {} vCPU, {} MiB", i.instance_type, i.vcpus, i.memory_mib)}</td></tr>
                <tr><th>{tr("ec2.image")}</th><td><code>{i.image_id.clone()}</code></td></tr>
                <tr><th>{tr("ec2.private_ip")}</th><td>{i.private_ip.clone().unwrap_or_default()}" — "<code>{i.subnet_id.clone()}</code></td></tr>
                <tr><th>{tr("net.groups")}</th><td>{i.security_group_ids.join(", ")}</td></tr>
                <tr><th>{tr("ec2.key")}</th><td>{i.key_name.clone().unwrap_or_default()}</td></tr>
                <tr><th>"Host"</th><td>{format!("{} ({}), CPUs: {cpus}", i.host, i.accelerator)}</td></tr>
                <tr><th>{tr("common.created")}</th><td>{move || if launched.is_empty() { String::new() } else { i18n::date(ctx().lang.get(), &launched) }}</td></tr>
            </table>
        </div>
    }
}

/// The launch form: an image, a type, a key pair, a subnet, security groups, user data.
#[component]
fn LaunchForm(
    instances: RwSignal<Loaded<Instance>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let images = RwSignal::new(None::<Vec<Image>>);
    let types = RwSignal::new(None::<Vec<InstanceType>>);
    let keys = RwSignal::new(None::<Vec<KeyPair>>);
    let subnets = RwSignal::new(None::<Vec<Subnet>>);
    let sgs = RwSignal::new(None::<Vec<SecurityGroup>>);
    let image = RwSignal::new(String::new());
    let itype = RwSignal::new(DEFAULT_TYPE.to_owned());
    let key = RwSignal::new(String::new());
    let subnet = RwSignal::new(String::new());
    let chosen_sgs = RwSignal::new(Vec::<String>::new());
    let user_data = RwSignal::new(String::new());
    scope.spawn(async move {
        if let Ok(i) = api::run(async |sdk| sdk.list_images().await).await {
            // The first image is chosen until the student picks one.
            if image.get_untracked().is_empty()
                && let Some(first) = i.items.first()
            {
                image.set(first.id.clone());
            }
            images.set(Some(i.items));
        }
        let t = api::run(async |sdk| sdk.list_instance_types().await).await;
        types.set(t.ok().map(|l| l.items));
        let k = api::run(async |sdk| sdk.list_key_pairs().await).await;
        keys.set(k.ok().map(|l| l.items));
        let n = api::run(async |sdk| sdk.list_subnets(None).await).await;
        subnets.set(n.ok().map(|l| l.items));
        let g = api::run(async |sdk| sdk.list_security_groups(None).await).await;
        sgs.set(g.ok().map(|l| l.items));
    });
    let launch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        // An empty choice is the server's default (default subnet, the VPC's default group).
        let chosen = |s: RwSignal<String>| Some(s.get()).filter(|v| !v.is_empty());
        let request = RunInstancesRequest {
            image_id: image.get(),
            instance_type: itype.get(),
            key_name: chosen(key),
            subnet_id: chosen(subnet),
            security_group_ids: Some(chosen_sgs.get()).filter(|v| !v.is_empty()),
            user_data: chosen(user_data),
            count: None,
            name: None,
            tags: None,
            dedicated: None,
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.run_instances(&request).await).await {
                Ok(_) => refresh(instances).await,
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h1>{tr("ec2.launch")}</h1>
        <form id="launch-form" on:submit=launch>
            <div class="grid">
                <div class="field"><label for="image">{tr("ec2.image")}</label>
                    <select id="image" on:change=move |ev| image.set(event_target_value(&ev))>
                        {move || images.get().map(|l| l.into_iter().map(|i| view! { <option value=i.id.clone()>{i.name}</option> }).collect_view())}
                    </select></div>
                <div class="field"><label for="itype">{tr("ec2.type")}</label>
                    <select id="itype" on:change=move |ev| itype.set(event_target_value(&ev))>
                        {move || types.get().map(|l| l.into_iter().map(|t| {
                            let label = format!("{} — {} vCPU, {} MiB, {}/h", t.name, t.vcpus, t.memory_mib, i18n::money(c.lang.get(), t.price_per_hour));
                            let selected = t.name == DEFAULT_TYPE;
                            view! { <option value=t.name.clone() selected=selected>{label}</option> }
                        }).collect_view())}
                    </select></div>
                <div class="field"><label for="key">{tr("ec2.key")}</label>
                    <select id="key" on:change=move |ev| key.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        {move || keys.get().map(|l| l.into_iter().map(|k| { let value = k.name.clone(); view! { <option value=value>{k.name}</option> } }).collect_view())}
                    </select></div>
                <div class="field"><label for="subnet">{tr("net.subnets")}</label>
                    <select id="subnet" on:change=move |ev| subnet.set(event_target_value(&ev))>
                        <option value="">"default"</option>
                        {move || subnets.get().map(|l| l.into_iter().map(|n| {
                            let value = n.id.clone();
                            view! { <option value=value>{format!("{} ({})", n.id, n.cidr)}</option> }
                        }).collect_view())}
                    </select></div>
            </div>
            <fieldset id="launch-groups"><legend>{tr("net.groups")}</legend>
                {move || sgs.get().map(|l| l.into_iter().map(|g| {
                    let id = g.id.clone();
                    let input_id = format!("sg-{}", g.id);
                    view! {
                        <label class="check"><input type="checkbox" id=input_id on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let id = id.clone();
                            chosen_sgs.update(|v| { v.retain(|x| *x != id); if on { v.push(id); } });
                        }/>" "{format!("{} ({})", g.name, g.vpc_id)}</label>
                    }
                }).collect_view())}
            </fieldset>
            <label for="user-data">{tr("ec2.user_data")}</label>
            <textarea id="user-data" rows="3" placeholder="#!/bin/sh" prop:value=user_data on:input=move |ev| user_data.set(event_target_value(&ev))></textarea>
            <ErrorLine error=error id="launch-error"/>
            <button id="launch" type="submit">{tr("ec2.launch")}</button>
        </form>
    }
}
