//! The pieces of a form: an input bound to a signal, a labelled field, the line of its error.

use leptos::prelude::*;

/// An `<input>` that edits `value`.
#[component]
pub fn Input(
    #[prop(into)] id: String,
    value: RwSignal<String>,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    view! {
        <input id=id type=kind autocomplete=autocomplete prop:value=value
            on:input=move |ev| value.set(event_target_value(&ev))/>
    }
}

/// `<div class="field">`: the label, the input, then `children` (e.g. the field's error line).
#[component]
pub fn Field<L>(
    #[prop(into)] id: String,
    /// The label's text: `tr("…")`, so that it follows the language.
    label: L,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView
where
    L: Fn() -> &'static str + Send + Sync + 'static,
{
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <Input id=id value=value kind=kind/>
            {children.map(|c| c())}
        </div>
    }
}

/// The error of a form or field, shown while there is one.
#[component]
pub fn ErrorLine(
    error: RwSignal<Option<String>>,
    /// The element id, for the fields the browser test reads.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="error" id=id.clone()>{move || error.get().unwrap_or_default()}</p>
        </Show>
    }
}
