//! The launch form: a name, an image, a type, a key pair, a subnet, security groups, user data.

use leptos::prelude::*;
use nuvem_api::ec2::{Image, Instance, InstanceType, KeyPair, RunInstancesRequest};
use nuvem_api::vpc::{SecurityGroup, Subnet};

use super::refresh;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Loaded, Scope};
use crate::i18n;

/// The type a launch proposes: the smallest.
const DEFAULT_TYPE: &str = "t3.nano";

/// The items of a list once loaded; none while loading or after an error (the page's own list
/// shows that).
fn items<T: Clone + Send + Sync + 'static>(l: RwSignal<Loaded<T>>) -> Vec<T> {
    l.get().and_then(Result::ok).unwrap_or_default()
}

#[component]
pub fn LaunchForm(
    instances: RwSignal<Loaded<Instance>>,
    images: RwSignal<Loaded<Image>>,
    /// The account's key pairs, shared with the Key pairs section: a new key is offered here.
    keys: RwSignal<Loaded<KeyPair>>,
) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let types = RwSignal::<Loaded<InstanceType>>::new(None);
    let subnets = RwSignal::<Loaded<Subnet>>::new(None);
    let sgs = RwSignal::<Loaded<SecurityGroup>>::new(None);
    let name = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let itype = RwSignal::new(DEFAULT_TYPE.to_owned());
    let key = RwSignal::new(String::new());
    let subnet = RwSignal::new(String::new());
    let chosen_sgs = RwSignal::new(Vec::<String>::new());
    let user_data = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    scope.load(types, async |sdk| {
        sdk.list_instance_types().await.map(|l| l.items)
    });
    scope.load(subnets, async |sdk| {
        sdk.list_subnets(None).await.map(|l| l.items)
    });
    scope.load(sgs, async |sdk| {
        sdk.list_security_groups(None).await.map(|l| l.items)
    });
    // The first image is the choice until the student picks one.
    let chosen_image = move || {
        Some(image.get())
            .filter(|i| !i.is_empty())
            .or_else(|| items(images).first().map(|i| i.id.clone()))
            .unwrap_or_default()
    };
    let launch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        // An empty choice is the server's default (default subnet, the VPC's default group).
        let chosen =
            |s: RwSignal<String>| Some(s.get().trim().to_owned()).filter(|v| !v.is_empty());
        let request = RunInstancesRequest {
            image_id: chosen_image(),
            instance_type: itype.get(),
            key_name: chosen(key),
            subnet_id: chosen(subnet),
            security_group_ids: Some(chosen_sgs.get()).filter(|v| !v.is_empty()),
            user_data: chosen(user_data),
            count: None,
            name: chosen(name),
            tags: None,
            dedicated: None,
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.run_instances(&request).await).await {
                Ok(_) => {
                    name.set(String::new());
                    refresh(instances).await;
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h1>{tr("ec2.launch")}</h1>
        <form id="launch-form" on:submit=launch>
            <div class="grid">
                <Field id="launch-name" label=tr("common.name") value=name/>
                <div class="field"><label for="image">{tr("ec2.image")}</label>
                    <select id="image" on:change=move |ev| image.set(event_target_value(&ev))>
                        {move || items(images).into_iter().map(|i| {
                            let selected = i.id == image.get_untracked();
                            view! { <option value=i.id selected=selected>{i.name}</option> }
                        }).collect_view()}
                    </select></div>
                <div class="field"><label for="itype">{tr("ec2.type")}</label>
                    <select id="itype" on:change=move |ev| itype.set(event_target_value(&ev))>
                        {move || items(types).into_iter().map(|t| {
                            let label = format!("{} — {} vCPU, {} MiB, {}/h", t.name, t.vcpus, t.memory_mib, i18n::money(c.lang.get(), t.price_per_hour));
                            let selected = t.name == itype.get_untracked();
                            view! { <option value=t.name selected=selected>{label}</option> }
                        }).collect_view()}
                    </select></div>
                <div class="field"><label for="key">{tr("ec2.key")}</label>
                    <select id="key" on:change=move |ev| key.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        // Built again when a key pair is created or deleted: the choice is kept.
                        {move || items(keys).into_iter().map(|k| {
                            let selected = k.name == key.get_untracked();
                            let value = k.name.clone();
                            view! { <option value=value selected=selected>{k.name}</option> }
                        }).collect_view()}
                    </select></div>
                <div class="field"><label for="subnet">{tr("net.subnets")}</label>
                    <select id="subnet" on:change=move |ev| subnet.set(event_target_value(&ev))>
                        <option value="">"default"</option>
                        {move || items(subnets).into_iter().map(|n| {
                            let value = n.id.clone();
                            view! { <option value=value>{format!("{} ({})", n.id, n.cidr)}</option> }
                        }).collect_view()}
                    </select></div>
            </div>
            <fieldset id="launch-groups"><legend>{tr("net.groups")}</legend>
                {move || items(sgs).into_iter().map(|g| {
                    let id = g.id.clone();
                    let input_id = format!("sg-{}", g.id);
                    view! {
                        <label class="check"><input type="checkbox" id=input_id on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let id = id.clone();
                            chosen_sgs.update(|v| { v.retain(|x| *x != id); if on { v.push(id); } });
                        }/>" "{format!("{} ({})", g.name, g.vpc_id)}</label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="user-data">{tr("ec2.user_data")}</label>
            <textarea id="user-data" rows="3" placeholder="#!/bin/sh" prop:value=user_data on:input=move |ev| user_data.set(event_target_value(&ev))></textarea>
            <ErrorLine error=error id="launch-error"/>
            <button id="launch" type="submit">{tr("ec2.launch")}</button>
        </form>
    }
}
