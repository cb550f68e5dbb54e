//! IAM: users (their groups, policies and access keys), groups (their members and policies), and
//! policies with a document checked as you type.

mod groups;
mod policies;
mod user_detail;
mod users;

use leptos::html;
use leptos::prelude::*;
use nuvem_api::iam::{Group, Policy, User};

use crate::app::tr;
use crate::components::{Loaded, ResourceTable, Scope};

/// The account's users, groups and policies, shared by the sections: a group created below is
/// offered at once in a user's detail, an attachment changes a policy's count.
#[derive(Clone, Copy)]
struct Lists {
    scope: Scope,
    users: RwSignal<Loaded<User>>,
    groups: RwSignal<Loaded<Group>>,
    policies: RwSignal<Loaded<Policy>>,
}

impl Lists {
    fn users(self) {
        self.scope
            .load(self.users, async |sdk| sdk.list_users_all().await);
    }

    fn groups(self) {
        self.scope
            .load(self.groups, async |sdk| sdk.list_groups_all().await);
    }

    fn policies(self) {
        self.scope
            .load(self.policies, async |sdk| sdk.list_policies_all().await);
    }

    /// The names of a list once loaded (none while loading or after its error, shown there).
    fn names<T: Clone + Send + Sync + 'static>(
        list: RwSignal<Loaded<T>>,
        name: fn(&T) -> &str,
    ) -> Vec<String> {
        list.with(|l| match l {
            Some(Ok(items)) => items.iter().map(|i| name(i).to_owned()).collect(),
            _ => Vec::new(),
        })
    }
}

/// What of `all` is not in `current` yet: the choices to add; none until `current` is known.
fn missing(all: Vec<String>, current: RwSignal<Loaded<String>>) -> Vec<String> {
    current.with(|c| match c {
        Some(Ok(have)) => all.into_iter().filter(|n| !have.contains(n)).collect(),
        _ => Vec::new(),
    })
}

#[component]
pub fn Iam() -> impl IntoView {
    let lists = Lists {
        scope: Scope::current(),
        users: RwSignal::new(None),
        groups: RwSignal::new(None),
        policies: RwSignal::new(None),
    };
    lists.users();
    lists.groups();
    lists.policies();
    view! {
        <section id="page-iam" data-page="iam">
            <users::Users lists=lists/>
            <groups::Groups lists=lists/>
            <policies::Policies lists=lists/>
        </section>
    }
}

/// A list of names edited in place: each removable, and a choice among `candidates` to add. The
/// user's groups and policies, the group's members and policies.
#[component]
fn Names<L, A>(
    /// The table's id; the choice is `{id}-choice`, its button `{id}-add`.
    id: &'static str,
    /// The column's heading: `tr("…")`.
    heading: L,
    names: RwSignal<Loaded<String>>,
    /// What may be added (not yet in `names`).
    #[prop(into)]
    candidates: Signal<Vec<String>>,
    /// The add button's label: `tr("…")`.
    add_label: A,
    on_add: Callback<String>,
    on_remove: Callback<String>,
) -> impl IntoView
where
    L: Fn() -> &'static str + Send + Sync + 'static,
    A: Fn() -> &'static str + Send + Sync + 'static,
{
    let choice = NodeRef::<html::Select>::new();
    let add = move |_| {
        if let Some(name) = choice.get().map(|s| s.value()).filter(|v| !v.is_empty()) {
            on_add.run(name);
        }
    };
    let row = move |name: String| {
        let (for_remove, key) = (name.clone(), name.clone());
        view! {
            <tr data-name=key>
                <td>{name}</td>
                <td><button class="secondary" data-action="remove" on:click=move |_| on_remove.run(for_remove.clone())>{tr("iam.remove")}</button></td>
            </tr>
        }
    };
    view! {
        <ResourceTable id=id cols=2 items=names row=row>
            <th>{heading}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
        <div class="inline">
            <select id=format!("{id}-choice") node_ref=choice aria-label=tr("iam.choose")>
                {move || candidates.get().into_iter().map(|n| { let value = n.clone(); view! { <option value=value>{n}</option> } }).collect_view()}
            </select>
            <button id=format!("{id}-add") type="button" prop:disabled=move || candidates.with(Vec::is_empty) on:click=add>{add_label}</button>
        </div>
    }
}
