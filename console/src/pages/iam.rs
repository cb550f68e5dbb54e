//! IAM: users and their access keys, groups, and policies with a document checked as you type.

use leptos::prelude::*;
use nuvem_api::ListParams;
use nuvem_api::iam::{AccessKeyCreated, Group, Policy, User};
use serde_json::Value;

use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope, confirm_delete};
use crate::i18n;

#[component]
pub fn Iam() -> impl IntoView {
    view! {
        <section>
            <Users/>
            <Groups/>
            <Policies/>
        </section>
    }
}

#[component]
fn Users() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let users = RwSignal::<Loaded<User>>::new(None);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<AccessKeyCreated>);
    let copied = RwSignal::new(false);
    let load = move || {
        scope.spawn(async move {
            let list = api::load(async |sdk| sdk.list_users(&ListParams::default()).await).await;
            users.set(Some(list.map(|l| l.items)));
        })
    };
    load();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (new_name, new_password) = (name.get(), password.get());
        scope.spawn(async move {
            // No password: a user for access keys only, who cannot sign in here.
            let pw = Some(new_password.as_str()).filter(|p| !p.is_empty());
            match api::run(async |sdk| sdk.create_user(&new_name, pw).await).await {
                Ok(_) => {
                    name.set(String::new());
                    password.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |user: String| {
        if !confirm_delete() {
            return;
        }
        scope.spawn(async move {
            let _ = api::run(async |sdk| sdk.delete_user(&user).await).await;
            load();
        });
    };
    let new_key = move |user: String| {
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_access_key(&user).await).await {
                Ok(k) => {
                    copied.set(false);
                    secret.set(Some(k));
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let copy = move |_| {
        if let (Some(k), Some(w)) = (secret.get_untracked(), web_sys::window()) {
            let _ = w.navigator().clipboard().write_text(&k.secret_access_key);
            copied.set(true);
        }
    };
    let row = move |u: User| {
        let (for_key, for_delete) = (u.name.clone(), u.name.clone());
        let created = u.created_at.to_rfc3339();
        let root = u.is_root;
        view! {
            <tr>
                <td>{u.name}</td>
                <td>{if u.has_password { "✔" } else { "—" }}</td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td>
                    <button class="secondary" on:click=move |_| new_key(for_key.clone())>{tr("iam.access_keys")}</button>
                    " "
                    // The root user is deleted with its account only.
                    <Show when=move || !root>
                        <button class="danger" on:click={let n = for_delete.clone(); move |_| delete(n.clone())}>{tr("common.delete")}</button>
                    </Show>
                </td>
            </tr>
        }
    };
    view! {
        <h1>{tr("iam.users")}</h1>
        <form class="inline" on:submit=create>
            <Field id="new-user" label=tr("iam.user_name") value=name>
                <ErrorLine error=error id="user-error"/>
            </Field>
            <Field id="new-password" label=tr("iam.password_optional") value=password kind="password"/>
            <button id="create-user" type="submit">{tr("common.create")}</button>
        </form>
        <Show when=move || secret.get().is_some()>
            <div class="secret" id="secret">
                <p><strong>{tr("iam.new_key")}": "</strong><code>{move || secret.get().map(|k| k.access_key_id).unwrap_or_default()}</code></p>
                <p><code id="secret-value">{move || secret.get().map(|k| k.secret_access_key).unwrap_or_default()}</code>
                    " " <button class="secondary" on:click=copy>{move || if copied.get() { tr("common.copied")() } else { tr("common.copy")() }}</button></p>
                <p class="notice">{tr("iam.secret_once")}</p>
            </div>
        </Show>
        <ResourceTable id="users" cols=4 items=users row=row>
            <th>{tr("common.name")}</th><th>{tr("iam.has_password")}</th><th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
    }
}

#[component]
fn Groups() -> impl IntoView {
    let scope = Scope::current();
    let groups = RwSignal::new(None::<Vec<Group>>);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let load = move || {
        scope.spawn(async move {
            if let Ok(g) = api::run(async |sdk| sdk.list_groups(&ListParams::default()).await).await
            {
                groups.set(Some(g.items));
            }
        })
    };
    load();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let new_name = name.get();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_group(&new_name).await).await {
                Ok(_) => {
                    name.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h1>{tr("iam.groups")}</h1>
        <form class="inline" on:submit=create>
            <Field id="new-group" label=tr("common.name") value=name>
                <ErrorLine error=error/>
            </Field>
            <button id="create-group" type="submit">{tr("common.create")}</button>
        </form>
        <ul class="chips" id="iam-groups">
            {move || groups.get().map(|g| g.into_iter().map(|g| view! { <li><span class="chip">{g.name}</span></li> }).collect_view())}
        </ul>
    }
}

/// A policy a student can start from: read-only IAM.
const EXAMPLE_POLICY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"iam:Get*\", \"iam:List*\"], \"Resource\": \"*\"}]\n}";

/// The policy editor: validated as you type, with the server's own rules (`nuvem-api`).
#[component]
fn Policies() -> impl IntoView {
    let scope = Scope::current();
    let policies = RwSignal::new(None::<Vec<Policy>>);
    let name = RwSignal::new(String::new());
    let doc = RwSignal::new(EXAMPLE_POLICY.to_owned());
    let error = RwSignal::new(None::<String>);
    let load = move || {
        scope.spawn(async move {
            if let Ok(p) =
                api::run(async |sdk| sdk.list_policies(&ListParams::default()).await).await
            {
                policies.set(Some(p.items));
            }
        })
    };
    load();
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
                    load();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
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
            <ErrorLine error=error/>
            <button type="submit" prop:disabled=move || check().is_err()>{tr("common.create")}</button>
        </form>
        <ul id="policies">
            {move || policies.get().map(|p| p.into_iter().map(|p| view! { <li><code>{p.name}</code>" — "{p.description}</li> }).collect_view())}
        </ul>
    }
}
