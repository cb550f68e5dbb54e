//! Apps: the account's container apps (the list, the create form, one app's detail with its
//! replicas, scaling, autoscaling, rollout, events, live logs and a replica's internals), its
//! container images with their layers, and its load balancers with their targets' health. Each
//! view has its own address (`#/apps`, `#/apps/images`, `#/apps/load-balancers`).

mod autoscale;
mod balancers;
mod detail;
mod images;
mod internals;
mod list;
mod logs;

use leptos::prelude::*;
use nuvem_api::apps::ContainerImage;

use crate::app::{text, tr};
use crate::components::Loaded;
use crate::model::apps::BadField;
use crate::model::{AppsView, Page};

/// A view's link in the sub-navigation.
fn view_label(v: AppsView) -> &'static str {
    match v {
        AppsView::Apps => tr("apps.apps")(),
        AppsView::Images => tr("apps.images")(),
        AppsView::LoadBalancers => tr("apps.balancers")(),
    }
}

/// The message of a form field that is not a number (the field named as its label says).
fn bad_field(f: BadField) -> String {
    let field = match f.0 {
        "port" => text("apps.port"),
        "replicas" => text("apps.replicas"),
        "cpu" => text("apps.cpu"),
        "memory_mib" => text("apps.memory"),
        "public_port" => text("apps.public_port"),
        "min" => text("apps.as_min"),
        "max" => text("apps.as_max"),
        "target_cpu_percent" => text("apps.as_target"),
        "cooldown_seconds" => text("apps.as_cooldown"),
        other => other,
    };
    format!("{}: {field}", text("apps.not_a_number"))
}

/// The images once loaded; none while loading or after an error (the Images view shows that).
fn loaded_images(images: RwSignal<Loaded<ContainerImage>>) -> Vec<ContainerImage> {
    images.get().and_then(Result::ok).unwrap_or_default()
}

#[component]
pub fn Apps(view: AppsView) -> impl IntoView {
    let shown = match view {
        AppsView::Apps => view! { <list::AppList/> }.into_any(),
        AppsView::Images => view! { <images::Images/> }.into_any(),
        AppsView::LoadBalancers => view! { <balancers::Balancers/> }.into_any(),
    };
    view! {
        <section id="page-apps" data-page="apps" data-view=view.name()>
            <h1 id="apps-title">{tr("nav.apps")}</h1>
            <p>{tr("apps.intro")}</p>
            <nav class="subnav" id="apps-views">
                {AppsView::ALL.into_iter().map(|v| {
                    let on = v == view;
                    let class = if on { "active" } else { "" };
                    view! {
                        <a href=Page::Apps(v).hash() id=format!("apps-{}", v.name())
                            class=class aria-current=on.then_some("page")>
                            {move || view_label(v)}
                        </a>
                    }
                }).collect_view()}
            </nav>
            {shown}
        </section>
    }
}
