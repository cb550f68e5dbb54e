//! One user: the groups they belong to, the policies attached to them, their access keys (a new
//! one's secret shown once; deactivate, activate, delete).

use leptos::prelude::*;
use nuvem_api::iam::{AccessKey, AccessKeyCreated, AccessKeyStatus, Group, Policy};

use super::{Lists, Names, missing};
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Loaded, ResourceTable, Scope, ShownOnce, confirm_delete};
use crate::i18n;

#[component]
pub fn UserDetail(user: String, lists: Lists) -> impl IntoView {
    let c = ctx();
    // The detail's own scope: opening another user ends this one's calls with it.
    let scope = Scope::current();
    let user = StoredValue::new(user);
    let groups = RwSignal::<Loaded<String>>::new(None);
    let policies = RwSignal::<Loaded<String>>::new(None);
    let keys = RwSignal::<Loaded<AccessKey>>::new(None);
    let secret = RwSignal::new(None::<AccessKeyCreated>);
    let error = RwSignal::new(None::<String>);
    let name = move || user.get_value();
    let load_groups = move || {
        let u = name();
        scope.load(groups, async move |sdk| {
            sdk.list_groups_for_user(&u).await.map(|l| l.items)
        });
    };
    let load_policies = move || {
        let u = name();
        scope.load(policies, async move |sdk| {
            sdk.list_user_policies(&u).await.map(|l| l.items)
        });
    };
    let load_keys = move || {
        let u = name();
        scope.load(keys, async move |sdk| {
            sdk.list_access_keys(&u).await.map(|l| l.items)
        });
    };
    load_groups();
    load_policies();
    load_keys();
    // A change's error is shown above the lists; what it changed is listed again either way.
    let failed = move |r: Result<(), api::ApiError>| {
        if let Err(e) = r {
            error.set(Some(e.show()));
        }
    };
    let add_group = Callback::new(move |g: String| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            failed(api::run(async |sdk| sdk.add_user_to_group(&g, &u).await).await);
            load_groups();
        });
    });
    let remove_group = Callback::new(move |g: String| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            failed(api::run(async |sdk| sdk.remove_user_from_group(&g, &u).await).await);
            load_groups();
        });
    });
    let attach = Callback::new(move |p: String| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            failed(api::run(async |sdk| sdk.attach_user_policy(&u, &p).await).await);
            load_policies();
            // The policy's attachment count changed.
            lists.policies();
        });
    });
    let detach = Callback::new(move |p: String| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            failed(api::run(async |sdk| sdk.detach_user_policy(&u, &p).await).await);
            load_policies();
            // The policy's attachment count changed.
            lists.policies();
        });
    });
    let new_key = move |_| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_access_key(&u).await).await {
                Ok(k) => secret.set(Some(k)),
                Err(e) => error.set(Some(e.show())),
            }
            load_keys();
        });
    };
    let set_status = move |key: String, status: AccessKeyStatus| {
        let u = name();
        error.set(None);
        scope.spawn(async move {
            let r = api::run(async |sdk| sdk.update_access_key(&u, &key, status).await).await;
            failed(r.map(drop));
            load_keys();
        });
    };
    let delete_key = move |key: String| {
        if !confirm_delete() {
            return;
        }
        let u = name();
        error.set(None);
        scope.spawn(async move {
            failed(api::run(async |sdk| sdk.delete_access_key(&u, &key).await).await);
            load_keys();
        });
    };
    let key_row = move |k: AccessKey| {
        let created = k.created_at.to_rfc3339();
        let used = k.last_used_at.map(|t| t.to_rfc3339());
        let active = k.status == AccessKeyStatus::Active;
        let (for_status, for_delete) = (k.access_key_id.clone(), k.access_key_id.clone());
        let key = k.access_key_id.clone();
        let next = if active {
            AccessKeyStatus::Inactive
        } else {
            AccessKeyStatus::Active
        };
        view! {
            <tr data-key=key>
                <td class="id"><code>{k.access_key_id}</code></td>
                <td data-status=if active { "active" } else { "inactive" }>{move || if active { tr("iam.key_active")() } else { tr("iam.key_inactive")() }}</td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td>{move || used.as_deref().map_or_else(|| "—".to_owned(), |u| i18n::date(c.lang.get(), u))}</td>
                <td>
                    <button class="secondary" data-action="status" on:click=move |_| set_status(for_status.clone(), next)>
                        {move || if active { tr("iam.deactivate")() } else { tr("iam.activate")() }}
                    </button>" "
                    <button class="danger" data-action="delete" on:click=move |_| delete_key(for_delete.clone())>{tr("common.delete")}</button>
                </td>
            </tr>
        }
    };
    let group_names = move || missing(Lists::names(lists.groups, |g: &Group| &g.name), groups);
    let policy_names =
        move || missing(Lists::names(lists.policies, |p: &Policy| &p.name), policies);
    view! {
        <div class="detail" id="user-detail">
            <h2>{tr("iam.user")}" "<code>{name()}</code></h2>
            <ErrorLine error=error id="user-detail-error"/>
            <div class="columns">
                <div>
                    <h3>{tr("iam.groups")}</h3>
                    <Names id="user-groups" heading=tr("iam.group") names=groups candidates=group_names
                        add_label=tr("iam.add_to_group") on_add=add_group on_remove=remove_group/>
                </div>
                <div>
                    <h3>{tr("iam.policies")}</h3>
                    <Names id="user-policies" heading=tr("iam.policy") names=policies candidates=policy_names
                        add_label=tr("iam.attach") on_add=attach on_remove=detach/>
                </div>
            </div>
            <h3>{tr("iam.access_keys")}</h3>
            <p><button id="create-access-key" type="button" on:click=new_key>{tr("iam.new_access_key")}</button></p>
            {move || secret.get().map(|k| view! {
                <ShownOnce id="secret" value_id="secret-value" value=k.secret_access_key notice=tr("iam.secret_once")>
                    <p><strong>{tr("iam.new_key")}": "</strong><code>{k.access_key_id}</code></p>
                </ShownOnce>
            })}
            <ResourceTable id="user-keys" cols=5 items=keys row=key_row>
                <th>"ID"</th><th>{tr("common.state")}</th><th>{tr("common.created")}</th><th>{tr("iam.last_used")}</th><th>{tr("common.actions")}</th>
            </ResourceTable>
        </div>
    }
}
