//! Who may read a bucket: the public switch, which warns before it opens the bucket to everyone
//! (it only adds, or takes out, the bucket-policy statement that lets anyone `s3:GetObject`),
//! and the policy editor, checked as you type with the server's own rules; what the server
//! refuses on save is shown under it.

use leptos::prelude::*;
use serde_json::Value;

use super::Buckets;
use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, confirm_delete};
use crate::model::storage::{check_policy, with_public_read, without_public_read};

/// A policy a student can start from: one other account may read one folder.
fn example_policy(bucket: &str) -> String {
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Principal\": {{\"Nuvem\": \"111122223333\"}}, \"Action\": \"s3:GetObject\", \"Resource\": \"nrn:nuvem:s3:::{bucket}/shared/*\"}}]\n}}"
    )
}

#[component]
pub fn Permissions(bucket: String, buckets: Buckets) -> impl IntoView {
    let scope = buckets.scope;
    let bucket = StoredValue::new(bucket);
    let doc = RwSignal::new(String::new());
    // The stored policy (`None`: the bucket has none), as the switch reads it.
    let stored = RwSignal::new(None::<Value>);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let warning = RwSignal::new(false);
    let public = Memo::new(move |_| {
        buckets
            .get(&bucket.get_value())
            .is_some_and(|b| b.public_read)
    });

    let load = move || {
        let b = bucket.get_value();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.get_bucket_policy(&b).await).await {
                Ok(policy) => {
                    let _ = doc.try_set(serde_json::to_string_pretty(&policy).unwrap_or_default());
                    let _ = stored.try_set(Some(policy));
                }
                Err(e) if e.code() == "NotFound" => {
                    let _ = doc.try_set(example_policy(&b));
                    let _ = stored.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.show()));
                }
            }
        });
    };
    load();

    // Stores `policy` (`None`: removes it), then reads back the editor and the bucket's badge.
    let write = move |policy: Option<Value>| {
        let b = bucket.get_value();
        error.set(None);
        saved.set(false);
        scope.spawn(async move {
            let result = match policy {
                Some(p) => api::run(async |sdk| sdk.put_bucket_policy(&b, p).await).await,
                None => api::run(async |sdk| sdk.delete_bucket_policy(&b).await).await,
            };
            match result {
                Ok(()) => {
                    saved.set(true);
                    load();
                    buckets.reload();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };

    let check = move || check_policy(&bucket.get_value(), &doc.get());
    let is_json = move || serde_json::from_str::<Value>(&doc.get()).is_ok();
    // Any JSON is sent: what the check above refuses, the server refuses too, and its message
    // is shown where the student is looking.
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(policy) = serde_json::from_str::<Value>(&doc.get_untracked()) {
            write(Some(policy));
        }
    };
    let remove = move |_| {
        if confirm_delete() {
            write(None);
        }
    };
    let switch = move |_| {
        if public.get_untracked() {
            let closed = stored.with_untracked(|s| {
                s.as_ref()
                    .and_then(|p| without_public_read(&bucket.get_value(), p))
            });
            write(closed);
        } else {
            // Opening is asked first: everyone on the network could read every object.
            warning.set(true);
        }
    };
    let open = move |_| {
        warning.set(false);
        let opened = stored.with_untracked(|s| with_public_read(&bucket.get_value(), s.as_ref()));
        write(Some(opened));
    };
    view! {
        <h3>{tr("s3.permissions")}</h3>
        <div class="inline">
            <button id="public-switch" type="button" role="switch"
                class=move || if public.get() { "danger" } else { "secondary" }
                aria-checked=move || public.get().to_string() on:click=switch>
                {move || if public.get() { tr("s3.public_on")() } else { tr("s3.public_off")() }}
            </button>
        </div>
        <Show when=move || warning.get()>
            <div class="notice" id="public-warning" role="alertdialog">
                <p><strong>{tr("s3.public_warning_title")}</strong></p>
                <p>{tr("s3.public_warning")}</p>
                <button id="public-confirm" type="button" class="danger" on:click=open>{tr("s3.public_confirm")}</button>" "
                <button id="public-cancel" type="button" class="secondary" on:click=move |_| warning.set(false)>{tr("s3.cancel")}</button>
            </div>
        </Show>
        <form on:submit=save>
            <label for="bucket-policy">{tr("s3.policy")}</label>
            <textarea id="bucket-policy" rows="10" prop:value=doc
                on:input=move |ev| { saved.set(false); doc.set(event_target_value(&ev)); }></textarea>
            <p id="bucket-policy-check" class=move || if check().is_ok() { "ok" } else { "error" }>
                {move || match check() {
                    Ok(p) if p.allows_public_read() => tr("s3.policy_valid_public")().to_owned(),
                    Ok(_) => tr("iam.policy_valid")().to_owned(),
                    Err(e) => e,
                }}
            </p>
            <ErrorLine error=error id="bucket-policy-error"/>
            <Show when=move || saved.get()>
                <p class="ok" id="bucket-policy-saved">{tr("s3.saved")}</p>
            </Show>
            <button id="save-policy" type="submit" prop:disabled=move || !is_json()>{tr("common.save")}</button>" "
            <button id="delete-policy" type="button" class="danger" prop:disabled=move || stored.with(Option::is_none)
                on:click=remove>{tr("s3.delete_policy")}</button>
        </form>
    }
}
