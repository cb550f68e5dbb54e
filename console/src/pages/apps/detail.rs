//! One app: what it runs and where to reach it, its rollout's progress, its replicas with their
//! state and health, the scale control, a new image to deploy, autoscaling, its events, its live
//! logs, a replica's internals, and its deletion.

use leptos::prelude::*;
use nuvem_api::apps::{App, AppEvent, ContainerImage, Replica, UpdateAppRequest};

use super::{autoscale::Autoscale, internals::Internals, list::refresh, loaded_images, logs::Logs};
use crate::api;
use crate::app::tr;
use crate::components::{Badge, ErrorLine, Input, Loaded, ResourceTable, Scope, confirm_delete};
use crate::model::apps::{
    Rollout, app_badge_class, app_state_name, cpu_percent, health_badge_class, health_name,
    image_choices, replica_badge_class,
};

/// How often the events are asked again (a scale or a restart adds one).
const EVENTS_POLL_MS: u32 = 3000;

#[component]
pub fn Detail(
    name: String,
    apps: RwSignal<Loaded<App>>,
    images: RwSignal<Loaded<ContainerImage>>,
    open: RwSignal<Option<String>>,
) -> impl IntoView {
    let scope = Scope::current();
    let app = {
        let name = name.clone();
        Memo::new(move |_| {
            apps.with(|l| match l {
                Some(Ok(list)) => list.iter().find(|a| a.name == name).cloned(),
                _ => None,
            })
        })
    };
    let error = RwSignal::new(None::<String>);
    let desired = app
        .get_untracked()
        .map(|a| a.replicas_desired.to_string())
        .unwrap_or_else(|| "1".into());
    let scale_to = RwSignal::new(desired);
    let new_image = RwSignal::new(String::new());
    let inside = RwSignal::new(None::<String>);
    // The server answers a scale once every new replica passed its health check (or a minute
    // went by): meanwhile the rows appear from the polled list and the button waits.
    let scaling = RwSignal::new(false);
    let scale = {
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            let Ok(replicas) = scale_to.get().trim().parse::<u32>() else {
                return error.set(Some(super::bad_field(crate::model::apps::BadField(
                    "replicas",
                ))));
            };
            let name = name.clone();
            scaling.set(true);
            scope.spawn(async move {
                if let Err(e) = api::run(async |sdk| sdk.scale_app(&name, replicas).await).await {
                    error.set(Some(e.show()));
                }
                scaling.set(false);
                refresh(apps).await;
            });
        }
    };
    let deploy = {
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            let image = Some(new_image.get())
                .filter(|i| !i.is_empty())
                .or_else(|| image_choices(&loaded_images(images)).into_iter().next());
            let request = UpdateAppRequest {
                image,
                ..UpdateAppRequest::default()
            };
            let name = name.clone();
            scope.spawn(async move {
                if let Err(e) = api::run(async |sdk| sdk.update_app(&name, &request).await).await {
                    error.set(Some(e.show()));
                }
                refresh(apps).await;
            });
        }
    };
    let delete = {
        let name = name.clone();
        move |_| {
            if !confirm_delete() {
                return;
            }
            error.set(None);
            let name = name.clone();
            scope.spawn(async move {
                match api::run(async |sdk| sdk.delete_app(&name).await).await {
                    Ok(()) => {
                        refresh(apps).await;
                        open.set(None);
                    }
                    Err(e) => error.set(Some(e.show())),
                }
            });
        }
    };
    let replicas = Signal::derive(move || app.get().map(|a| Ok(a.replicas)));
    let row = move |r: Replica| {
        let (key, for_inside) = (r.id.clone(), r.id.clone());
        view! {
            <tr data-replica=key>
                <td class="id"><code>{r.id.clone()}</code></td>
                <td class="num">{r.version}</td>
                <td><Badge class=replica_badge_class(&r.state) state=r.state.clone()/></td>
                <td class="health"><Badge class=health_badge_class(r.health) state=health_name(r.health)/></td>
                <td>{r.private_ip.clone()}</td>
                <td class="num">{r.restarts}</td>
                <td class="num">{cpu_percent(r.cpu_percent)}</td>
                <td><button class="secondary" data-action="internals"
                    on:click=move |_| inside.set(Some(for_inside.clone()))>{tr("apps.internals")}</button></td>
            </tr>
        }
    };
    let (for_logs, for_events, for_autoscale, for_inside) =
        (name.clone(), name.clone(), name.clone(), name.clone());
    view! {
        <div class="detail" id="app-detail" data-app=name.clone()>
            <h2>{tr("apps.app")}" "<code>{name.clone()}</code></h2>
            {move || app.get().map(|a| summary(&a)).unwrap_or_else(|| {
                view! { <p id="app-gone">{tr("apps.gone")}</p> }.into_any()
            })}
            <ErrorLine error=error id="app-error"/>
            <div class="columns">
                <form class="inline" id="app-scale-form" on:submit=scale>
                    <div class="field"><label for="app-scale">{tr("apps.scale_to")}</label>
                        <Input id="app-scale" value=scale_to kind="number"/></div>
                    <button id="app-scale-button" type="submit" disabled=move || scaling.get()>{tr("apps.scale")}</button>
                    <Show when=move || scaling.get()><p id="app-scaling" class="hint">{tr("apps.scaling")}</p></Show>
                </form>
                <form class="inline" id="app-deploy-form" on:submit=deploy>
                    <div class="field"><label for="app-deploy-image">{tr("apps.new_image")}</label>
                        <select id="app-deploy-image" on:change=move |ev| new_image.set(event_target_value(&ev))>
                            {move || image_choices(&loaded_images(images)).into_iter().map(|r| {
                                let value = r.clone();
                                view! { <option value=value>{r}</option> }
                            }).collect_view()}
                        </select></div>
                    <button id="app-deploy" type="submit">{tr("apps.deploy")}</button>
                </form>
            </div>
            <h3>{tr("apps.replicas")}</h3>
            <ResourceTable id="replicas" cols=8 items=replicas row=row>
                <th>"ID"</th><th>{tr("apps.version")}</th><th>{tr("common.state")}</th><th>{tr("apps.health")}</th>
                <th>{tr("ec2.private_ip")}</th><th>{tr("apps.restarts")}</th><th>"CPU"</th><th>{tr("common.actions")}</th>
            </ResourceTable>
            {move || inside.get().map(|replica| {
                let cpu = Signal::derive(move || {
                    let replica = inside.get()?;
                    app.get()?.replicas.into_iter().find(|r| r.id == replica)?.cpu_percent
                });
                view! { <Internals app=for_inside.clone() replica=replica cpu=cpu/> }
            })}
            <Autoscale name=for_autoscale policy=Signal::derive(move || app.get().and_then(|a| a.autoscaling)) apps=apps/>
            <Events name=for_events/>
            <Logs name=for_logs/>
            <p><button id="app-delete" class="danger" on:click=delete>{tr("apps.delete")}</button></p>
        </div>
    }
}

/// The app's state, version and rollout progress, image, limits and address.
fn summary(a: &App) -> AnyView {
    let rollout = Rollout::of(a);
    let progress = format!("{}/{}", rollout.updated, rollout.desired);
    let done = rollout.done(a);
    let url = a.url.clone().map(|u| {
        let href = u.clone();
        view! { <a id="app-url" href=href target="_blank" rel="noopener">{u}</a> }
    });
    let limits = format!("{} vCPU, {} MiB", a.spec.cpu, a.spec.memory_mib);
    let command = (!a.spec.command.is_empty())
        .then(|| view! { " · "<code id="app-command-shown">{a.spec.command.join(" ")}</code> });
    let health = match &a.spec.health_check.path {
        Some(p) => format!("HTTP {p}"),
        None => "TCP".to_owned(),
    };
    view! {
        <table id="app-summary">
            <tr><th>{tr("common.state")}</th><td><Badge class=app_badge_class(a.state) state=app_state_name(a.state)/>
                " "<span id="app-reason">{a.status_reason.clone()}</span></td></tr>
            <tr><th>{tr("apps.rollout")}</th><td id="app-rollout" data-done=done.to_string()>
                {tr("apps.version")}" "{rollout.version}": "
                <progress value=rollout.updated.to_string() max=rollout.desired.max(1).to_string()></progress>
                " "{progress}" "{tr("apps.at_version")}</td></tr>
            <tr><th>{tr("ec2.image")}</th><td class="image">{a.spec.image.clone()}{command}" · "{tr("apps.port")}" "{a.spec.port}</td></tr>
            <tr><th>{tr("apps.limits")}</th><td>{limits}" · "{tr("apps.health")}": "{health}</td></tr>
            <tr><th>"URL"</th><td>{url}</td></tr>
        </table>
    }
    .into_any()
}

/// The app's events, newest first: deploys, scales, restarts, health changes, rollouts.
#[component]
fn Events(name: String) -> impl IntoView {
    let events = RwSignal::<Loaded<AppEvent>>::new(None);
    Scope::current().poll(EVENTS_POLL_MS, move || {
        let name = name.clone();
        async move {
            let list = api::load(async |sdk| sdk.app_events(&name).await).await;
            let _ = events.try_set(Some(list.map(|l| {
                let mut items = l.items;
                items.sort_by_key(|e| std::cmp::Reverse(e.at));
                items
            })));
        }
    });
    let row = |e: AppEvent| {
        let kind = e.kind.clone();
        view! {
            <tr data-kind=kind>
                <td class="num">{e.at.format("%H:%M:%S").to_string()}</td>
                <td><span class="pill">{e.kind}</span></td>
                <td>{e.message}</td>
            </tr>
        }
    };
    view! {
        <h3>{tr("apps.events")}</h3>
        <ResourceTable id="app-events" cols=3 items=events row=row>
            <th>{tr("apps.time")}</th><th>{tr("apps.kind")}</th><th>{tr("apps.message")}</th>
        </ResourceTable>
    }
}
