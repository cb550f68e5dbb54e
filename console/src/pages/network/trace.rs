//! Would a TCP connection pass? The verdict names the rule or default that decides.

use leptos::prelude::*;
use nuvem_api::vpc::TraceResult;

use crate::api;
use crate::app::tr;
use crate::components::{Field, Scope};
use crate::model;

#[component]
pub fn Trace() -> impl IntoView {
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
