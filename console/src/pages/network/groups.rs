//! Security groups: create and delete one; the selected group's rules, revoked one by one, and a
//! form that adds one whose source (or, for egress, destination) is an address block or another
//! group of the same VPC; the iptables rules Nuvem generated for it.

use leptos::prelude::*;
use nuvem_api::vpc::{Direction, GeneratedRules, SecurityGroup, SecurityGroupRule, Vpc};

use super::group_name;
use crate::api;
use crate::app::{text, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope, confirm_delete};
use crate::model;

#[component]
pub fn SecurityGroups(
    vpcs: RwSignal<Loaded<Vpc>>,
    groups: RwSignal<Loaded<SecurityGroup>>,
) -> impl IntoView {
    let scope = Scope::current();
    let selected = RwSignal::new(None::<String>);
    let iptables = RwSignal::new(None::<GeneratedRules>);
    let new_sg = RwSignal::new(String::new());
    let sg_error = RwSignal::new(None::<String>);
    let load = move || {
        scope.spawn(async move {
            let list = api::load(async |sdk| sdk.list_security_groups(None).await).await;
            groups.set(Some(list.map(|l| l.items)));
            if let Some(id) = selected.get_untracked() {
                let rules = api::run(async |sdk| sdk.security_group_iptables(&id).await).await;
                iptables.set(rules.ok());
            }
        })
    };
    let current = move || -> Option<SecurityGroup> {
        let id = selected.get()?;
        groups.get()?.ok()?.into_iter().find(|g| g.id == id)
    };
    let create_sg = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sg_error.set(None);
        // In the default VPC, the first listed.
        let Some(vpc) = vpcs
            .get_untracked()
            .and_then(|v| v.ok()?.first().map(|v| v.id.clone()))
        else {
            return;
        };
        let name = new_sg.get();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_security_group(&vpc, &name, None).await).await {
                Ok(g) => {
                    new_sg.set(String::new());
                    selected.set(Some(g.id));
                    load();
                }
                Err(e) => sg_error.set(Some(e.show())),
            }
        });
    };
    let delete_sg = move |_| {
        let Some(id) = selected.get_untracked() else {
            return;
        };
        if !confirm_delete() {
            return;
        }
        sg_error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_security_group(&id).await).await {
                Ok(()) => {
                    selected.set(None);
                    iptables.set(None);
                    load();
                }
                // Still used by an interface, or the source of another group's rule.
                Err(e) => sg_error.set(Some(e.show())),
            }
        });
    };
    let select = move |id: String| {
        selected.set(Some(id));
        iptables.set(None);
        load();
    };
    let row = move |g: SecurityGroup| {
        let (id, sel, key) = (g.id.clone(), g.id.clone(), g.id.clone());
        let chosen = move || selected.get().as_deref() == Some(sel.as_str());
        let chosen_row = chosen.clone();
        view! {
            <tr data-sg=key class=move || if chosen_row() { "selected" } else { "" }>
                <td><button class=move || if chosen() { "chip active" } else { "chip" }
                    on:click=move |_| select(id.clone())>{g.name}</button></td>
                <td class="id"><code>{g.id}</code></td>
                <td class="id"><code>{g.vpc_id}</code></td>
                <td>{g.rules.len()}</td>
                <td>{g.description}</td>
            </tr>
        }
    };
    view! {
        <h1>{tr("net.groups")}</h1>
        <form class="inline" on:submit=create_sg>
            <Field id="new-sg" label=tr("common.name") value=new_sg/>
            <button id="create-sg" type="submit">{tr("common.create")}</button>
        </form>
        <ErrorLine error=sg_error id="sg-error"/>
        <ResourceTable id="groups" cols=5 items=groups row=row>
            <th>{tr("common.name")}</th><th>"ID"</th><th>"VPC"</th><th>{tr("net.rules")}</th><th>{tr("net.description")}</th>
        </ResourceTable>
        <Show when=move || current().is_some()>
            <div class="detail" id="sg-detail">
                <h2>{tr("net.rules")}" — "{move || current().map(|g| g.name).unwrap_or_default()}</h2>
                // The default group goes with its VPC only.
                <Show when=move || current().is_some_and(|g| !g.is_default)>
                    <p><button id="delete-sg" class="danger" on:click=delete_sg>{tr("net.delete_group")}</button></p>
                </Show>
                <Rules groups=groups current=Signal::derive(current) reload=load/>
                <h3>{tr("net.iptables")}</h3>
                {move || match iptables.get() {
                    Some(r) if !r.rules.is_empty() => view! { <pre id="iptables">{r.rules.join("\n")}</pre> }.into_any(),
                    _ => view! { <p class="notice" id="iptables">{tr("net.iptables_none")}</p> }.into_any(),
                }}
            </div>
        </Show>
    }
}

/// The selected group's rules, each revocable, and the form that adds one.
#[component]
fn Rules<F>(
    groups: RwSignal<Loaded<SecurityGroup>>,
    current: Signal<Option<SecurityGroup>>,
    reload: F,
) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let scope = Scope::current();
    let direction = RwSignal::new("ingress".to_owned());
    let proto = RwSignal::new("tcp".to_owned());
    let port = RwSignal::new("22".to_owned());
    let peer = RwSignal::new("cidr".to_owned());
    let cidr = RwSignal::new("0.0.0.0/0".to_owned());
    let error = RwSignal::new(None::<String>);
    let group_id = move || current.with(|g| g.as_ref().map(|g| g.id.clone()));
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Some(id) = group_id() else {
            return;
        };
        let rule = model::rule(
            model::direction(&direction.get()),
            model::protocol(&proto.get()),
            &port.get(),
            model::Peer::from_form(&peer.get(), &cidr.get()),
        );
        let Ok(rule) = rule else {
            error.set(Some(text("net.port_number").to_owned()));
            return;
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.authorize_rule(&id, &rule).await).await {
                Ok(_) => reload(),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let revoke = move |rule: String| {
        let Some(id) = group_id() else {
            return;
        };
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.revoke_rule(&id, &rule).await).await {
                Ok(()) => reload(),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let rules = Signal::derive(move || current.get().map(|g| Ok(g.rules)));
    let row = move |r: SecurityGroupRule| {
        let peer = match (r.cidr, r.source_group_id) {
            (Some(c), _) => view! { <span>{c}</span> }.into_any(),
            (None, Some(g)) => {
                let name = group_name(groups, &g);
                view! { <span class="peer-group">{name}" " <code class="id">{g}</code></span> }
                    .into_any()
            }
            (None, None) => ().into_any(),
        };
        let id = r.id.clone();
        let ingress = r.direction == Direction::Ingress;
        view! {
            <tr data-rule=r.id.clone()>
                <td>{move || if ingress { tr("net.ingress")() } else { tr("net.egress")() }}</td>
                <td>{r.protocol.as_str()}</td>
                <td>{model::ports(r.from_port, r.to_port)}</td>
                <td>{peer}</td>
                <td><button class="danger" data-action="revoke" on:click=move |_| revoke(id.clone())>{tr("net.revoke")}</button></td>
            </tr>
        }
    };
    // The groups a rule may name: those of the selected group's VPC.
    let peers = move || {
        let vpc = current.with(|g| g.as_ref().map(|g| g.vpc_id.clone()));
        groups.with(|l| {
            l.as_ref()
                .and_then(|l| l.as_ref().ok())
                .map(|l| {
                    l.iter()
                        .filter(|g| Some(&g.vpc_id) == vpc.as_ref())
                        .map(|g| (g.id.clone(), g.name.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <ResourceTable id="rules" cols=5 items=rules row=row>
            <th>{tr("net.direction")}</th><th>{tr("net.protocol")}</th><th>{tr("net.port")}</th><th>{tr("net.peer")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
        <form class="inline" on:submit=add>
            <div class="field"><label for="rule-direction">{tr("net.direction")}</label>
                <select id="rule-direction" on:change=move |ev| direction.set(event_target_value(&ev))>
                    <option value="ingress">{tr("net.ingress")}</option><option value="egress">{tr("net.egress")}</option>
                </select></div>
            <div class="field"><label for="rule-proto">{tr("net.protocol")}</label>
                <select id="rule-proto" on:change=move |ev| proto.set(event_target_value(&ev))>
                    <option value="tcp">"tcp"</option><option value="udp">"udp"</option><option value="icmp">"icmp"</option><option value="all">"all"</option>
                </select></div>
            <Field id="rule-port" label=tr("net.port") value=port/>
            <div class="field"><label for="rule-peer">{tr("net.peer")}</label>
                <select id="rule-peer" on:change=move |ev| peer.set(event_target_value(&ev))>
                    <option value="cidr">{tr("net.source")}</option>
                    {move || peers().into_iter().map(|(id, name)| {
                        let selected = peer.get_untracked() == id;
                        view! { <option value=id.clone() selected=selected>{format!("{name} ({id})")}</option> }
                    }).collect_view()}
                </select></div>
            <Show when=move || peer.get() == "cidr">
                <Field id="rule-cidr" label=tr("net.source") value=cidr/>
            </Show>
            <button id="add-rule" type="submit">{tr("net.add_rule")}</button>
        </form>
        <ErrorLine error=error id="rule-error"/>
    }
}
