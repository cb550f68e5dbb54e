//! An instance's state as a coloured badge, from the API's own state values.

use leptos::prelude::*;
use nuvem_api::ec2::InstanceState;

use crate::model::badge_class;

/// `<span class="badge …" data-state="running">running</span>`; `data-state` is the API's name,
/// for scripts and the browser test to wait on.
#[component]
pub fn StatusBadge(state: InstanceState) -> impl IntoView {
    let name = state.as_str();
    view! { <span class=badge_class(state) data-state=name>{name}</span> }
}

/// Any other state as a badge: the class from the page's model (`model::apps`), the API's own
/// word shown and in `data-state` (apps, replicas, their health, a balancer's targets).
#[component]
pub fn Badge(class: &'static str, #[prop(into)] state: String) -> impl IntoView {
    let shown = state.clone();
    view! { <span class=class data-state=state>{shown}</span> }
}
