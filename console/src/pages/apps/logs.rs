//! Live logs: every replica's lines merged by time with a replica prefix, as `cloudctl app logs
//! -f` prints them, asked again every 2 s for what came after the last line shown.

use leptos::prelude::*;
use nuvem_api::apps::{LogLine, LogParams};

use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, Scope};
use crate::model::apps::{log_text, logs_since, merge_logs};

const POLL_MS: u32 = 2000;

/// The lines the first ask brings per replica; later asks bring what came `since`.
const FIRST_TAIL: u32 = 200;

#[component]
pub fn Logs(name: String) -> impl IntoView {
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let error = RwSignal::new(None::<String>);
    let follow = RwSignal::new(true);
    let pre = NodeRef::<leptos::html::Pre>::new();
    Scope::current().poll(POLL_MS, move || {
        let name = name.clone();
        async move {
            if !follow.get_untracked() {
                return;
            }
            let since = lines.with_untracked(|l| logs_since(l));
            let params = LogParams {
                replica: None,
                since,
                tail: since.is_none().then_some(FIRST_TAIL),
            };
            match api::run(async |sdk| sdk.app_logs(&name, &params).await).await {
                Ok(l) => {
                    let _ = error.try_set(None);
                    let _ = lines.try_update(|shown| merge_logs(shown, l.items));
                }
                Err(e) => drop(error.try_set(Some(e.show()))),
            }
        }
    });
    // The newest line stays in sight, as in a terminal that follows a log: scrolled on the next
    // frame, once the text the same change set is in the document.
    Effect::new(move |_| {
        lines.track();
        if let Some(el) = pre.get() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    view! {
        <h3>{tr("apps.logs")}</h3>
        <label class="check"><input type="checkbox" id="app-logs-follow" prop:checked=follow
            on:change=move |ev| follow.set(event_target_checked(&ev))/>" "{tr("apps.follow")}</label>
        <ErrorLine error=error id="app-logs-error"/>
        <pre id="app-logs" class="logs" node_ref=pre>{move || lines.with(|l| log_text(l))}</pre>
    }
}
