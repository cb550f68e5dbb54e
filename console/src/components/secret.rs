//! What the server returns once and never again (an access key's secret, a generated private
//! key): shown with a copy button and, for a file, a link that downloads it.

use leptos::prelude::*;

use crate::app::tr;
use crate::model;

/// `<div class="secret" id=id>`: the children (what the secret belongs to), the value, a copy
/// button, a download link when `file` names the file, and the notice that it is shown only now.
/// It lives as long as its page: leaving the page forgets it.
#[component]
pub fn ShownOnce<N>(
    id: &'static str,
    /// The value's element id (a `<code>`, or a `<textarea>` when `file` is set).
    value_id: &'static str,
    value: String,
    /// The name of the file it downloads as (`lab.pem`), with a link `#{value_id}-download`.
    #[prop(optional)]
    file: Option<String>,
    /// The notice: `tr("…")`.
    notice: N,
    children: Children,
) -> impl IntoView
where
    N: Fn() -> &'static str + Send + Sync + 'static,
{
    let copied = RwSignal::new(false);
    let for_copy = value.clone();
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&for_copy);
            copied.set(true);
        }
    };
    let copy_label = move || {
        if copied.get() {
            tr("common.copied")()
        } else {
            tr("common.copy")()
        }
    };
    let shown = match file {
        None => view! { <p><code id=value_id>{value}</code></p> }.into_any(),
        Some(file) => {
            let href = model::data_url("application/x-pem-file", &value);
            let link_id = format!("{value_id}-download");
            let label = file.clone();
            view! {
                <textarea id=value_id rows="6" readonly=true prop:value=value></textarea>
                <p><a id=link_id class="button" href=href download=file>{tr("common.download")}" "{label}</a></p>
            }
            .into_any()
        }
    };
    view! {
        <div class="secret" id=id>
            {children()}
            {shown}
            <p><button type="button" class="secondary" on:click=copy>{copy_label}</button></p>
            <p class="notice">{notice}</p>
        </div>
    }
}
