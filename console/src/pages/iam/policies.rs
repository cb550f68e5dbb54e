//! Policies: the editor, validated as you type with the server's own rules (`nuvem-api`), and
//! the account's policies with how many users and groups use each; delete one.

use leptos::prelude::*;
use nuvem_api::iam::Policy;
use serde_json::Value;

use super::Lists;
use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, Field, ResourceTable, confirm_delete};

/// A policy a student can start from: read-only IAM.
const EXAMPLE_POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"iam:Get*\", \"iam:List*\"], \"Resource\": \"*\"}]\n}";

#[component]
pub fn Policies(lists: Lists) -> impl IntoView {
    let scope = lists.scope;
    let name = RwSignal::new(String::new());
    let doc = RwSignal::new(EXAMPLE_POLICY.to_owned());
    let error = RwSignal::new(None::<String>);
    let check = move || -> Result<(), String> {
        let v: Value = serde_json::from_str(&doc.get()).map_err(|e| e.to_string())?;
        nuvem_api::policy::parse(&v)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(document) = serde_json::from_str::<Value>(&doc.get()) else {
            return;
        };
        let new_name = name.get();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_policy(&new_name, None, document).await).await {
                Ok(_) => {
                    name.set(String::new());
                    lists.policies();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |policy: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_policy(&policy).await).await {
                Ok(()) => lists.policies(),
                // Still attached: the server says to whom.
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let row = move |p: Policy| {
        let (for_delete, key) = (p.name.clone(), p.name.clone());
        view! {
            <tr data-policy=key>
                <td><code>{p.name}</code></td>
                <td>{p.description}</td>
                <td>{p.attachment_count}</td>
                <td><button class="danger" on:click=move |_| delete(for_delete.clone())>{tr("common.delete")}</button></td>
            </tr>
        }
    };
    view! {
        <h1>{tr("iam.policies")}</h1>
        <form on:submit=save>
            <Field id="policy-name" label=tr("common.name") value=name/>
            <label for="policy-doc">{tr("iam.policy_document")}</label>
            <textarea id="policy-doc" rows="8" prop:value=doc on:input=move |ev| doc.set(event_target_value(&ev))></textarea>
            <p id="policy-check" class=move || if check().is_ok() { "ok" } else { "error" }>
                {move || match check() { Ok(()) => tr("iam.policy_valid")().to_owned(), Err(e) => e }}
            </p>
            <ErrorLine error=error id="policy-error"/>
            <button id="create-policy" type="submit" prop:disabled=move || check().is_err()>{tr("common.create")}</button>
        </form>
        <ResourceTable id="policies" cols=4 items=lists.policies row=row>
            <th>{tr("common.name")}</th><th>{tr("net.description")}</th><th>{tr("iam.attachments")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
    }
}
