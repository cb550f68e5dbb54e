//! Groups: create one, open one's detail (its members and its policies, edited in place), delete
//! one.

use leptos::prelude::*;
use nuvem_api::iam::{Group, GroupDetail, Policy, User};

use super::{Lists, Names, missing};
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope, confirm_delete};
use crate::i18n;

#[component]
pub fn Groups(lists: Lists) -> impl IntoView {
    let c = ctx();
    let scope = lists.scope;
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let new_name = name.get();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_group(&new_name).await).await {
                Ok(_) => {
                    name.set(String::new());
                    lists.groups();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |group: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_group(&group).await).await {
                Ok(()) => {
                    if selected.get_untracked().as_deref() == Some(group.as_str()) {
                        selected.set(None);
                    }
                    lists.groups();
                    lists.policies();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let row = move |g: Group| {
        let (open, for_delete, sel) = (g.name.clone(), g.name.clone(), g.name.clone());
        let key = g.name.clone();
        let created = g.created_at.to_rfc3339();
        view! {
            <tr data-group=key class=move || if selected.get().as_deref() == Some(sel.as_str()) { "selected" } else { "" }>
                <td><button class="link" on:click=move |_| selected.set(Some(open.clone()))>{g.name}</button></td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td><button class="danger" on:click=move |_| delete(for_delete.clone())>{tr("common.delete")}</button></td>
            </tr>
        }
    };
    view! {
        <h1>{tr("iam.groups")}</h1>
        <form class="inline" on:submit=create>
            <Field id="new-group" label=tr("common.name") value=name>
                <ErrorLine error=error id="group-error"/>
            </Field>
            <button id="create-group" type="submit">{tr("common.create")}</button>
        </form>
        <ResourceTable id="iam-groups" cols=3 items=lists.groups row=row>
            <th>{tr("common.name")}</th><th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
        {move || selected.get().map(|group| view! { <GroupPanel group=group lists=lists/> })}
    }
}

/// One group: its members and its policies, both edited in place.
#[component]
fn GroupPanel(group: String, lists: Lists) -> impl IntoView {
    // The panel's own scope: opening another group ends this one's calls with it.
    let scope = Scope::current();
    let group = StoredValue::new(group);
    let members = RwSignal::<Loaded<String>>::new(None);
    let policies = RwSignal::<Loaded<String>>::new(None);
    let error = RwSignal::new(None::<String>);
    let name = move || group.get_value();
    // One answer holds both lists.
    let load = move || {
        let g = name();
        scope.spawn(async move {
            let detail = api::load(async |sdk| sdk.get_group(&g).await).await;
            let (m, p) = match detail {
                Ok(GroupDetail {
                    members, policies, ..
                }) => (Ok(members), Ok(policies)),
                Err(e) => (Err(e.clone()), Err(e)),
            };
            members.set(Some(m));
            policies.set(Some(p));
        });
    };
    load();
    let after = move |r: Result<(), api::ApiError>, counts: bool| {
        if let Err(e) = r {
            error.set(Some(e.show()));
        }
        load();
        if counts {
            lists.policies();
        }
    };
    let add_member = Callback::new(move |u: String| {
        let g = name();
        error.set(None);
        scope.spawn(async move {
            after(
                api::run(async |sdk| sdk.add_user_to_group(&g, &u).await).await,
                false,
            );
        });
    });
    let remove_member = Callback::new(move |u: String| {
        let g = name();
        error.set(None);
        scope.spawn(async move {
            after(
                api::run(async |sdk| sdk.remove_user_from_group(&g, &u).await).await,
                false,
            );
        });
    });
    let attach = Callback::new(move |p: String| {
        let g = name();
        error.set(None);
        scope.spawn(async move {
            after(
                api::run(async |sdk| sdk.attach_group_policy(&g, &p).await).await,
                true,
            );
        });
    });
    let detach = Callback::new(move |p: String| {
        let g = name();
        error.set(None);
        scope.spawn(async move {
            after(
                api::run(async |sdk| sdk.detach_group_policy(&g, &p).await).await,
                true,
            );
        });
    });
    let user_names = move || missing(Lists::names(lists.users, |u: &User| &u.name), members);
    let policy_names =
        move || missing(Lists::names(lists.policies, |p: &Policy| &p.name), policies);
    view! {
        <div class="detail" id="group-detail">
            <h2>{tr("iam.group")}" "<code>{name()}</code></h2>
            <ErrorLine error=error id="group-detail-error"/>
            <div class="columns">
                <div>
                    <h3>{tr("iam.members")}</h3>
                    <Names id="group-members" heading=tr("iam.user") names=members candidates=user_names
                        add_label=tr("iam.add_member") on_add=add_member on_remove=remove_member/>
                </div>
                <div>
                    <h3>{tr("iam.policies")}</h3>
                    <Names id="group-policies" heading=tr("iam.policy") names=policies candidates=policy_names
                        add_label=tr("iam.attach") on_add=attach on_remove=detach/>
                </div>
            </div>
        </div>
    }
}
