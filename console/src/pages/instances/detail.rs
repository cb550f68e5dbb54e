//! One instance: where it runs and how it was made.

use leptos::prelude::*;
use nuvem_api::ec2::Instance;

use crate::app::{ctx, tr};
use crate::components::StatusBadge;
use crate::i18n;

#[component]
pub fn Detail(
    instance: Instance,
    /// The image's name (its id while the images are not known).
    image: String,
) -> impl IntoView {
    let i = instance;
    let launched = i.launched_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let cpus = if i.pinned_cpus.is_empty() {
        "shared".to_owned()
    } else {
        format!("{:?}", i.pinned_cpus)
    };
    view! {
        <div class="detail" id="instance-detail">
            <h2>{i.name.clone()}" (" <code class="id">{i.id.clone()}</code> ")"</h2>
            <table>
                <tr><th>{tr("common.state")}</th><td><StatusBadge state=i.state/>" "{i.state_reason.clone()}</td></tr>
                <tr><th>{tr("ec2.type")}</th><td>{format!("{} — {} vCPU, {} MiB", i.instance_type, i.vcpus, i.memory_mib)}</td></tr>
                <tr><th>{tr("ec2.image")}</th><td>{image}" " <code class="id">{i.image_id.clone()}</code></td></tr>
                <tr><th>{tr("ec2.private_ip")}</th><td>{i.private_ip.clone().unwrap_or_default()}" — "<code class="id">{i.subnet_id.clone()}</code></td></tr>
                <tr><th>{tr("net.groups")}</th><td>{i.security_group_ids.join(", ")}</td></tr>
                <tr><th>{tr("ec2.key")}</th><td id="instance-key">{i.key_name.clone().unwrap_or_default()}</td></tr>
                <tr><th>"Host"</th><td>{format!("{} ({}), CPUs: {cpus}", i.host, i.accelerator)}</td></tr>
                <tr><th>{tr("common.created")}</th><td>{move || if launched.is_empty() { String::new() } else { i18n::date(ctx().lang.get(), &launched) }}</td></tr>
            </table>
        </div>
    }
}
