//! A figure used against its total as a bar with its numbers: quotas, a host's vCPUs and memory.

use leptos::prelude::*;

/// `<div class="bar"><progress/> figures</div>`; `over` when the use is above the total (a host
/// whose ratio was lowered below what runs on it).
#[component]
pub fn Bar(
    used: u64,
    total: u64,
    /// The numbers beside the bar, e.g. `3 / 8 vCPUs` (a closure follows the language).
    #[prop(into)]
    figures: Signal<String>,
    #[prop(optional, into)] id: Option<String>,
) -> impl IntoView {
    let class = if used > total { "bar over" } else { "bar" };
    view! {
        <div class=class id=id>
            <progress value=used.to_string() max=total.max(1).to_string()></progress>
            <span class="figures">{figures}</span>
        </div>
    }
}
