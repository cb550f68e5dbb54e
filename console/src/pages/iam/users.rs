//! Users: create one (with a password to sign in here, or none for access keys only), open one's
//! detail, delete one.

use leptos::prelude::*;
use nuvem_api::iam::User;

use super::Lists;
use super::user_detail::UserDetail;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, ResourceTable, confirm_delete};
use crate::i18n;

#[component]
pub fn Users(lists: Lists) -> impl IntoView {
    let c = ctx();
    let scope = lists.scope;
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
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
                    lists.users();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |user: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_user(&user).await).await {
                Ok(()) => {
                    if selected.get_untracked().as_deref() == Some(user.as_str()) {
                        selected.set(None);
                    }
                    lists.users();
                    lists.policies();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let row = move |u: User| {
        let (open, for_delete, sel) = (u.name.clone(), u.name.clone(), u.name.clone());
        let key = u.name.clone();
        let created = u.created_at.to_rfc3339();
        let root = u.is_root;
        view! {
            <tr data-user=key class=move || if selected.get().as_deref() == Some(sel.as_str()) { "selected" } else { "" }>
                <td><button class="link" on:click=move |_| selected.set(Some(open.clone()))>{u.name}</button></td>
                <td>{if u.has_password { "✔" } else { "—" }}</td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td>
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
        <ResourceTable id="users" cols=4 items=lists.users row=row>
            <th>{tr("common.name")}</th><th>{tr("iam.has_password")}</th><th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
        // Built again for each user opened: its lists are that user's.
        {move || selected.get().map(|user| view! { <UserDetail user=user lists=lists/> })}
    }
}
