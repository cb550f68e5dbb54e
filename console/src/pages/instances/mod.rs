//! Instances: launch one, watch its status badge follow the server (polled), the actions its
//! state allows, its details and its serial console; and the key pairs to log in with.

mod detail;
mod keys;
mod launch;

use leptos::prelude::*;
use nuvem_api::ec2::{Image, Instance, KeyPair};

use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, Loaded, ResourceTable, Scope, StatusBadge, confirm_delete};
use crate::model::{self, InstanceAction};

/// How often the list is asked again, so that badges move from pending to running by themselves.
const POLL_MS: u32 = 2000;

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

/// The image's name for its id, once the images are known.
fn image_name(images: RwSignal<Loaded<Image>>, id: &str) -> String {
    images.with(|l| match l {
        Some(Ok(list)) => model::image_name(list, id),
        _ => id.to_owned(),
    })
}

/// An action's button label.
fn action_label(a: InstanceAction) -> &'static str {
    match a {
        InstanceAction::Stop => tr("ec2.stop")(),
        InstanceAction::Start => tr("ec2.start")(),
        InstanceAction::Reboot => tr("ec2.reboot")(),
        InstanceAction::Terminate => tr("ec2.terminate")(),
    }
}

#[component]
pub fn Instances() -> impl IntoView {
    let scope = Scope::current();
    let instances = RwSignal::<Loaded<Instance>>::new(None);
    let images = RwSignal::<Loaded<Image>>::new(None);
    let keys = RwSignal::<Loaded<KeyPair>>::new(None);
    let error = RwSignal::new(None::<String>);
    let console = RwSignal::new(None::<(String, String)>);
    let detail = RwSignal::new(None::<String>);
    // Ends with this page (see `Scope`): leaving it used to panic while the loop still ran.
    scope.poll(POLL_MS, move || refresh(instances));
    scope.load(images, async |sdk| sdk.list_images().await.map(|l| l.items));
    scope.load(keys, async |sdk| {
        sdk.list_key_pairs().await.map(|l| l.items)
    });
    let act = move |id: String, action: InstanceAction| {
        if action == InstanceAction::Terminate && !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            let r = api::run(async |sdk| match action {
                InstanceAction::Stop => sdk.stop_instance(&id).await,
                InstanceAction::Start => sdk.start_instance(&id).await,
                InstanceAction::Reboot => sdk.reboot_instance(&id).await,
                InstanceAction::Terminate => sdk.terminate_instance(&id).await,
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
            match api::run(async |sdk| sdk.console_output(&id).await).await {
                Ok(out) => console.set(Some((id, out.output))),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let row = move |i: Instance| {
        let (open, for_console, image_id) = (i.id.clone(), i.id.clone(), i.image_id.clone());
        let (key, image_title) = (i.id.clone(), i.image_id.clone());
        let buttons = model::actions(i.state)
            .iter()
            .map(|&a| {
                let id = i.id.clone();
                let class = if a == InstanceAction::Terminate { "danger" } else { "secondary" };
                view! { " " <button class=class data-action=a.name() on:click=move |_| act(id.clone(), a)>{move || action_label(a)}</button> }
            })
            .collect_view();
        view! {
            <tr data-instance=key>
                // An anchor for the keyboard; the detail is shown below, the address stays.
                <td class="id"><a href="#/instances" class="id" on:click=move |ev| {
                    ev.prevent_default();
                    detail.set(Some(open.clone()));
                }><code>{i.id.clone()}</code></a></td>
                <td>{i.name.clone()}</td>
                <td><StatusBadge state=i.state/></td>
                <td>{i.instance_type.clone()}</td>
                <td class="image" title=image_title>{move || image_name(images, &image_id)}</td>
                <td>{i.private_ip.clone().unwrap_or_default()}</td>
                <td class="actions">
                    <button class="secondary" data-action="console" on:click=move |_| show_console(for_console.clone())>{tr("ec2.console")}</button>
                    {buttons}
                </td>
            </tr>
        }
    };
    view! {
        <section id="page-instances" data-page="instances">
            <launch::LaunchForm instances=instances images=images keys=keys/>
            <h1>{tr("nav.instances")}</h1>
            <ErrorLine error=error id="instance-error"/>
            <ResourceTable id="instances" cols=7 items=instances row=row>
                <th>"ID"</th><th>{tr("common.name")}</th><th>{tr("common.state")}</th><th>{tr("ec2.type")}</th>
                <th>{tr("ec2.image")}</th><th>{tr("ec2.private_ip")}</th><th>{tr("common.actions")}</th>
            </ResourceTable>
            {move || {
                let id = detail.get()?;
                let found = instances.get().and_then(|l| l.ok()?.into_iter().find(|i| i.id == id))?;
                let image = image_name(images, &found.image_id);
                Some(view! { <detail::Detail instance=found image=image/> })
            }}
            <Show when=move || console.get().is_some()>
                <h2>{tr("ec2.console")}" — "<code>{move || console.get().map(|c| c.0).unwrap_or_default()}</code></h2>
                <pre id="console">{move || console.get().map(|c| c.1).unwrap_or_default()}</pre>
            </Show>
            <keys::KeyPairs keys=keys/>
        </section>
    }
}
