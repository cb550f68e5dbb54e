//! Networking: VPCs, subnets, security groups with their rules and the iptables rules they
//! became, the network interfaces that use them, and a trace of whether a connection would pass.

mod groups;
mod interfaces;
mod trace;

use leptos::prelude::*;
use nuvem_api::vpc::{SecurityGroup, Subnet, Vpc};

use crate::app::tr;
use crate::components::{Loaded, ResourceTable, Scope};

/// A security group's name for its id (the id itself while the groups are not known).
fn group_name(groups: RwSignal<Loaded<SecurityGroup>>, id: &str) -> String {
    groups.with(|l| {
        l.as_ref()
            .and_then(|l| l.as_ref().ok())
            .and_then(|l| l.iter().find(|g| g.id == id))
            .map_or_else(|| id.to_owned(), |g| g.name.clone())
    })
}

#[component]
pub fn Network() -> impl IntoView {
    let scope = Scope::current();
    let vpcs = RwSignal::<Loaded<Vpc>>::new(None);
    let subnets = RwSignal::<Loaded<Subnet>>::new(None);
    let groups = RwSignal::<Loaded<SecurityGroup>>::new(None);
    scope.load(vpcs, async |sdk| sdk.list_vpcs().await.map(|l| l.items));
    scope.load(subnets, async |sdk| {
        sdk.list_subnets(None).await.map(|l| l.items)
    });
    scope.load(groups, async |sdk| {
        sdk.list_security_groups(None).await.map(|l| l.items)
    });
    view! {
        <section id="page-network" data-page="network">
            <h1>{tr("net.vpcs")}</h1>
            <ResourceTable id="vpcs" cols=4 items=vpcs row=|v: Vpc| view! {
                <tr><td class="id"><code>{v.id}</code></td><td>{v.cidr}</td><td>{v.name}</td><td>{if v.internet_gateway { "on" } else { "off" }}</td></tr>
            }>
                <th>"ID"</th><th>"CIDR"</th><th>{tr("common.name")}</th><th>"IGW"</th>
            </ResourceTable>
            <h1>{tr("net.subnets")}</h1>
            <ResourceTable id="subnets" cols=5 items=subnets row=|n: Subnet| view! {
                <tr><td class="id"><code>{n.id}</code></td><td class="id"><code>{n.vpc_id}</code></td><td>{n.cidr}</td><td>{n.gateway}</td><td class="id"><code>{n.bridge}</code></td></tr>
            }>
                <th>"ID"</th><th>"VPC"</th><th>"CIDR"</th><th>"Gateway"</th><th>"Bridge"</th>
            </ResourceTable>
            <groups::SecurityGroups vpcs=vpcs groups=groups/>
            <interfaces::Interfaces groups=groups/>
            <trace::Trace/>
        </section>
    }
}
