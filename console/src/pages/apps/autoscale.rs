//! Target tracking on average CPU: min, max, the CPU % to keep, the cooldown; or off.

use leptos::prelude::*;
use nuvem_api::apps::{App, Autoscaling};

use super::{bad_field, list::refresh};
use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, Field, Loaded, Scope};
use crate::model::apps::AutoscalingForm;

#[component]
pub fn Autoscale(
    name: String,
    /// The app's policy as last polled (`None`: off).
    policy: Signal<Option<Autoscaling>>,
    apps: RwSignal<Loaded<App>>,
) -> impl IntoView {
    let scope = Scope::current();
    let proposed = AutoscalingForm::of(policy.get_untracked().as_ref());
    let min = RwSignal::new(proposed.min);
    let max = RwSignal::new(proposed.max);
    let target = RwSignal::new(proposed.target_cpu_percent);
    let cooldown = RwSignal::new(proposed.cooldown_seconds);
    let error = RwSignal::new(None::<String>);
    let save = {
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            let form = AutoscalingForm {
                min: min.get(),
                max: max.get(),
                target_cpu_percent: target.get(),
                cooldown_seconds: cooldown.get(),
            };
            let policy = match form.policy() {
                Ok(p) => p,
                Err(f) => return error.set(Some(bad_field(f))),
            };
            let name = name.clone();
            scope.spawn(async move {
                if let Err(e) =
                    api::run(async |sdk| sdk.set_autoscaling(&name, &policy).await).await
                {
                    error.set(Some(e.show()));
                }
                refresh(apps).await;
            });
        }
    };
    let off = move |_| {
        error.set(None);
        let name = name.clone();
        scope.spawn(async move {
            if let Err(e) = api::run(async |sdk| sdk.delete_autoscaling(&name).await).await {
                error.set(Some(e.show()));
            }
            refresh(apps).await;
        });
    };
    let current = move || match policy.get() {
        Some(p) => format!(
            "{} {}–{}, CPU {} %, {} s",
            tr("apps.as_on")(),
            p.min,
            p.max,
            p.target_cpu_percent,
            p.cooldown_seconds
        ),
        None => tr("apps.as_off")().to_owned(),
    };
    view! {
        <h3>{tr("apps.autoscaling")}</h3>
        <p id="app-autoscaling">{current}</p>
        <form id="app-autoscaling-form" on:submit=save>
            <div class="grid">
                <Field id="as-min" label=tr("apps.as_min") value=min kind="number"/>
                <Field id="as-max" label=tr("apps.as_max") value=max kind="number"/>
                <Field id="as-target" label=tr("apps.as_target") value=target/>
                <Field id="as-cooldown" label=tr("apps.as_cooldown") value=cooldown kind="number"/>
            </div>
            <ErrorLine error=error id="app-autoscaling-error"/>
            <p>
                <button id="as-save" type="submit">{tr("common.save")}</button>" "
                <button id="as-off" type="button" class="secondary" on:click=off
                    disabled=move || policy.get().is_none()>{tr("apps.as_turn_off")}</button>
            </p>
        </form>
    }
}
