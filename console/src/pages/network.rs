//! Networking: VPCs, subnets, security groups with their rules and the iptables rules they
//! became, and a trace of whether a connection would pass.

use leptos::prelude::*;
use nuvem_api::vpc::{GeneratedRules, SecurityGroup, Subnet, TraceResult, Vpc};

use crate::api;
use crate::app::{text, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope};
use crate::model;

#[component]
pub fn Network() -> impl IntoView {
    let scope = Scope::current();
    let vpcs = RwSignal::<Loaded<Vpc>>::new(None);
    let subnets = RwSignal::<Loaded<Subnet>>::new(None);
    scope.spawn(async move {
        vpcs.set(Some(
            api::load(async |sdk| sdk.list_vpcs().await)
                .await
                .map(|l| l.items),
        ));
        let list = api::load(async |sdk| sdk.list_subnets(None).await).await;
        subnets.set(Some(list.map(|l| l.items)));
    });
    view! {
        <section>
            <h1>{tr("net.vpcs")}</h1>
            <ResourceTable id="vpcs" cols=4 items=vpcs row=|v: Vpc| view! {
                <tr><td><code>{v.id}</code></td><td>{v.cidr}</td><td>{v.name}</td><td>{if v.internet_gateway { "on" } else { "off" }}</td></tr>
            }>
                <th>"ID"</th><th>"CIDR"</th><th>{tr("common.name")}</th><th>"IGW"</th>
            </ResourceTable>
            <h1>{tr("net.subnets")}</h1>
            <ResourceTable id="subnets" cols=5 items=subnets row=|n: Subnet| view! {
                <tr><td><code>{n.id}</code></td><td><code>{n.vpc_id}</code></td><td>{n.cidr}</td><td>{n.gateway}</td><td><code>{n.bridge}</code></td></tr>
            }>
                <th>"ID"</th><th>"VPC"</th><th>"CIDR"</th><th>"Gateway"</th><th>"Bridge"</th>
            </ResourceTable>
            <SecurityGroups vpcs=vpcs/>
            <Trace/>
        </section>
    }
}

/// The security groups as chips; the selected one's rules, a form to add one, its iptables.
#[component]
fn SecurityGroups(vpcs: RwSignal<Loaded<Vpc>>) -> impl IntoView {
    let scope = Scope::current();
    let groups = RwSignal::new(None::<Vec<SecurityGroup>>);
    let selected = RwSignal::new(None::<String>);
    let iptables = RwSignal::new(None::<GeneratedRules>);
    let new_sg = RwSignal::new(String::new());
    let sg_error = RwSignal::new(None::<String>);
    let rule_proto = RwSignal::new("tcp".to_owned());
    let rule_port = RwSignal::new("22".to_owned());
    let rule_cidr = RwSignal::new("0.0.0.0/0".to_owned());
    let rule_error = RwSignal::new(None::<String>);
    let load = move || {
        scope.spawn(async move {
            if let Ok(g) = api::run(async |sdk| sdk.list_security_groups(None).await).await {
                groups.set(Some(g.items));
            }
            if let Some(id) = selected.get_untracked() {
                let rules = api::run(async |sdk| sdk.security_group_iptables(&id).await).await;
                iptables.set(rules.ok());
            }
        })
    };
    load();
    let current = move || -> Option<SecurityGroup> {
        let id = selected.get()?;
        groups.get()?.into_iter().find(|g| g.id == id)
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
    let add_rule = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        rule_error.set(None);
        let Some(id) = selected.get_untracked() else {
            return;
        };
        let protocol = model::protocol(&rule_proto.get());
        let rule = match model::ingress_rule(protocol, &rule_port.get(), &rule_cidr.get()) {
            Ok(rule) => rule,
            Err(model::NotAPort) => {
                rule_error.set(Some(text("net.port_number").to_owned()));
                return;
            }
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.authorize_rule(&id, &rule).await).await {
                Ok(_) => load(),
                Err(e) => rule_error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h1>{tr("net.groups")}</h1>
        <form class="inline" on:submit=create_sg>
            <Field id="new-sg" label=tr("common.name") value=new_sg>
                <ErrorLine error=sg_error/>
            </Field>
            <button id="create-sg" type="submit">{tr("common.create")}</button>
        </form>
        <ul class="chips" id="groups">
            {move || groups.get().map(|g| g.into_iter().map(|g| {
                let id = g.id.clone();
                let sel = g.id.clone();
                view! { <li><button class=move || if selected.get().as_deref() == Some(sel.as_str()) { "chip active" } else { "chip" }
                    on:click=move |_| { selected.set(Some(id.clone())); load(); }>{g.name}" ("{g.rules.len()}")"</button></li> }
            }).collect_view())}
        </ul>
        <Show when=move || current().is_some()>
            <h2>{tr("net.rules")}" — "{move || current().map(|g| g.name).unwrap_or_default()}</h2>
            <table id="rules">
                <thead><tr><th>{tr("net.direction")}</th><th>{tr("net.protocol")}</th><th>{tr("net.port")}</th><th>{tr("net.source")}</th></tr></thead>
                <tbody>{move || current().map(|g| g.rules.into_iter().map(|r| view! {
                    <tr><td>{format!("{:?}", r.direction)}</td><td>{r.protocol.as_str()}</td>
                    <td>{model::ports(r.from_port, r.to_port)}</td>
                    <td>{r.cidr.or(r.source_group_id).unwrap_or_default()}</td></tr>
                }).collect_view())}</tbody>
            </table>
            <form class="inline" on:submit=add_rule>
                <div class="field"><label for="rule-proto">{tr("net.protocol")}</label>
                    <select id="rule-proto" on:change=move |ev| rule_proto.set(event_target_value(&ev))>
                        <option value="tcp">"tcp"</option><option value="udp">"udp"</option><option value="icmp">"icmp"</option><option value="all">"all"</option>
                    </select></div>
                <Field id="rule-port" label=tr("net.port") value=rule_port/>
                <Field id="rule-cidr" label=tr("net.source") value=rule_cidr/>
                <button id="add-rule" type="submit">{tr("net.add_rule")}</button>
            </form>
            <ErrorLine error=rule_error id="rule-error"/>
            <h3>{tr("net.iptables")}</h3>
            {move || match iptables.get() {
                Some(r) if !r.rules.is_empty() => view! { <pre id="iptables">{r.rules.join("\n")}</pre> }.into_any(),
                _ => view! { <p class="notice" id="iptables">{tr("net.iptables_none")}</p> }.into_any(),
            }}
        </Show>
    }
}

/// Would a TCP connection pass? The verdict names the rule or default that decides.
#[component]
fn Trace() -> impl IntoView {
    let scope = Scope::current();
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let port = RwSignal::new("22".to_owned());
    let result = RwSignal::new(None::<Result<TraceResult, String>>);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = model::trace_request(&from.get(), &to.get(), &port.get());
        scope.spawn(async move {
            result.set(Some(api::load(async |sdk| sdk.trace(&request).await).await));
        });
    };
    view! {
        <h1>{tr("net.trace")}</h1>
        <form class="inline" on:submit=run>
            <Field id="trace-from" label=tr("net.from") value=from/>
            <Field id="trace-to" label=tr("net.to") value=to/>
            <Field id="trace-port" label=tr("net.port") value=port/>
            <button type="submit">{tr("net.trace")}</button>
        </form>
        <p id="trace-result">{move || match result.get() {
            None => String::new(),
            Some(Ok(t)) => model::verdict(&t),
            Some(Err(e)) => e,
        }}</p>
    }
}
