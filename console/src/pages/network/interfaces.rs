//! The network interfaces: each instance's port on its subnet's bridge, with its address, its
//! host-side device and the security groups its traffic passes.

use leptos::prelude::*;
use nuvem_api::vpc::{NetworkInterface, SecurityGroup};

use super::group_name;
use crate::app::tr;
use crate::components::{Loaded, ResourceTable, Scope};

#[component]
pub fn Interfaces(groups: RwSignal<Loaded<SecurityGroup>>) -> impl IntoView {
    let interfaces = RwSignal::<Loaded<NetworkInterface>>::new(None);
    Scope::current().load(interfaces, async |sdk| {
        sdk.list_network_interfaces(None).await.map(|l| l.items)
    });
    let row = move |n: NetworkInterface| {
        let ids = n.security_group_ids.clone();
        let key = n.id.clone();
        let names = move || {
            ids.iter()
                .map(|id| group_name(groups, id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        view! {
            <tr data-interface=key>
                <td class="id"><code>{n.id}</code></td>
                <td class="id"><code>{n.subnet_id}</code></td>
                <td>{n.private_ip}</td>
                <td class="id"><code>{n.mac}</code></td>
                <td class="id"><code>{n.device}</code></td>
                <td>{names}</td>
                <td class="id">{if n.attached_to.is_empty() { "—".to_owned() } else { n.attached_to }}</td>
            </tr>
        }
    };
    view! {
        <h1>{tr("net.interfaces")}</h1>
        <ResourceTable id="interfaces" cols=7 items=interfaces row=row>
            <th>"ID"</th><th>{tr("net.subnet")}</th><th>{tr("ec2.private_ip")}</th><th>"MAC"</th>
            <th>{tr("net.device")}</th><th>{tr("net.groups")}</th><th>{tr("net.attached_to")}</th>
        </ResourceTable>
    }
}
