//! The apps, polled so that their badges follow the server, with the create form above and the
//! detail of the app opened below (the address stays `#/apps`).

use leptos::prelude::*;
use nuvem_api::apps::{App, ContainerImage};

use super::{bad_field, detail::Detail, loaded_images};
use crate::api;
use crate::app::tr;
use crate::components::{Badge, ErrorLine, Field, Loaded, ResourceTable, Scope};
use crate::model::apps::{
    CreateForm, app_badge_class, app_state_name, healthy_of_desired, image_choices,
};

/// How often the apps are asked again: a deploy, a scale or a rollout shows without a reload.
const POLL_MS: u32 = 2000;

/// Lists the apps into `apps`; a failure replaces nothing already shown (the next poll tries
/// again).
pub async fn refresh(apps: RwSignal<Loaded<App>>) {
    match api::load(async |sdk| sdk.list_apps().await).await {
        Ok(l) => drop(apps.try_set(Some(Ok(l.items)))),
        Err(e) if apps.try_get_untracked().flatten().is_none() => drop(apps.try_set(Some(Err(e)))),
        Err(_) => {}
    }
}

#[component]
pub fn AppList() -> impl IntoView {
    let scope = Scope::current();
    let apps = RwSignal::<Loaded<App>>::new(None);
    let images = RwSignal::<Loaded<ContainerImage>>::new(None);
    let open = RwSignal::new(None::<String>);
    scope.poll(POLL_MS, move || refresh(apps));
    scope.load(images, async |sdk| {
        sdk.list_container_images().await.map(|l| l.items)
    });
    let row = move |a: App| {
        let (name, key) = (a.name.clone(), a.name.clone());
        let selected = {
            let name = a.name.clone();
            move || open.get().as_deref() == Some(name.as_str())
        };
        let url = a.url.clone().map(|u| {
            let href = u.clone();
            view! { <a href=href target="_blank" rel="noopener">{u}</a> }
        });
        view! {
            <tr data-app=key class=move || if selected() { "selected" } else { "" }>
                <td><a href="#/apps" on:click=move |ev| {
                    ev.prevent_default();
                    // The same app again keeps its detail (and the logs it gathered).
                    if open.get_untracked().as_deref() != Some(name.as_str()) {
                        open.set(Some(name.clone()));
                    }
                }>{a.name.clone()}</a></td>
                <td><Badge class=app_badge_class(a.state) state=app_state_name(a.state)/></td>
                <td class="num">{a.version}</td>
                <td class="image">{a.spec.image.clone()}</td>
                <td class="num replicas">{healthy_of_desired(&a)}</td>
                <td>{url}</td>
            </tr>
        }
    };
    view! {
        <NewAppForm apps=apps images=images open=open/>
        <h2>{tr("apps.apps")}</h2>
        <ResourceTable id="apps" cols=6 items=apps row=row>
            <th>{tr("common.name")}</th><th>{tr("common.state")}</th><th>{tr("apps.version")}</th>
            <th>{tr("ec2.image")}</th><th title=tr("apps.healthy_desired_hint")>{tr("apps.healthy_desired")}</th><th>"URL"</th>
        </ResourceTable>
        // Built again only when another app is opened: the detail keeps its forms and its logs
        // while the list is polled under it.
        {move || open.get().map(|name| view! { <Detail name=name apps=apps images=images open=open/> })}
    }
}

/// The create form: name, image (the bases and the account's own), port, replicas, limits, a
/// public port for a load balancer, a health path. The server's refusal is shown under it.
#[component]
fn NewAppForm(
    apps: RwSignal<Loaded<App>>,
    images: RwSignal<Loaded<ContainerImage>>,
    open: RwSignal<Option<String>>,
) -> impl IntoView {
    let scope = Scope::current();
    let proposed = CreateForm::proposed();
    let name = RwSignal::new(proposed.name);
    let image = RwSignal::new(proposed.image);
    let command = RwSignal::new(proposed.command);
    let port = RwSignal::new(proposed.port);
    let replicas = RwSignal::new(proposed.replicas);
    let cpu = RwSignal::new(proposed.cpu);
    let memory = RwSignal::new(proposed.memory_mib);
    let public_port = RwSignal::new(proposed.public_port);
    let health_path = RwSignal::new(proposed.health_path);
    let error = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let form = CreateForm {
            name: name.get(),
            image: image.get(),
            command: command.get(),
            port: port.get(),
            replicas: replicas.get(),
            cpu: cpu.get(),
            memory_mib: memory.get(),
            public_port: public_port.get(),
            health_path: health_path.get(),
        };
        let request = match form.request() {
            Ok(r) => r,
            Err(f) => return error.set(Some(bad_field(f))),
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_app(&request).await).await {
                Ok(made) => {
                    name.set(String::new());
                    refresh(apps).await;
                    open.set(Some(made.name));
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h2>{tr("apps.create")}</h2>
        <form id="app-create-form" on:submit=create>
            <div class="grid">
                <Field id="app-name" label=tr("common.name") value=name/>
                <div class="field"><label for="app-image">{tr("ec2.image")}</label>
                    <select id="app-image" on:change=move |ev| image.set(event_target_value(&ev))>
                        {move || image_choices(&loaded_images(images)).into_iter().map(|r| {
                            let selected = r == image.get_untracked();
                            let value = r.clone();
                            view! { <option value=value selected=selected>{r}</option> }
                        }).collect_view()}
                    </select></div>
                <Field id="app-command" label=tr("apps.command") value=command/>
                <Field id="app-port" label=tr("apps.port") value=port kind="number"/>
                <Field id="app-replicas" label=tr("apps.replicas") value=replicas kind="number"/>
                <Field id="app-cpu" label=tr("apps.cpu") value=cpu/>
                <Field id="app-memory" label=tr("apps.memory") value=memory kind="number"/>
                <Field id="app-public-port" label=tr("apps.public_port") value=public_port kind="number"/>
                <Field id="app-health-path" label=tr("apps.health_path") value=health_path/>
            </div>
            <p class="hint">{tr("apps.create_hint")}</p>
            <ErrorLine error=error id="app-create-error"/>
            <button id="app-create" type="submit">{tr("apps.create")}</button>
        </form>
    }
}
