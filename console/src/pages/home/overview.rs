//! The account at a glance: how many users, groups, VPCs and security groups it has, and its
//! instances by state; each figure links to the page that manages it.

use leptos::prelude::*;
use nuvem_api::ec2::InstanceState;

use crate::api;
use crate::app::tr;
use crate::components::{Scope, StatusBadge};
use crate::model::{self, Page};

/// A figure, or why it is not known (a user whose policies do not allow listing users still
/// sees their instances).
type Figure<T> = Result<T, String>;

#[derive(Clone)]
struct Counts {
    users: Figure<usize>,
    groups: Figure<usize>,
    vpcs: Figure<usize>,
    security_groups: Figure<usize>,
    instances: Figure<Vec<(InstanceState, usize)>>,
}

async fn count() -> Counts {
    Counts {
        users: api::load(async |sdk| sdk.list_users_all().await)
            .await
            .map(|l| l.len()),
        groups: api::load(async |sdk| sdk.list_groups_all().await)
            .await
            .map(|l| l.len()),
        vpcs: api::load(async |sdk| sdk.list_vpcs().await)
            .await
            .map(|l| l.items.len()),
        security_groups: api::load(async |sdk| sdk.list_security_groups(None).await)
            .await
            .map(|l| l.items.len()),
        instances: api::load(async |sdk| sdk.list_instances().await)
            .await
            .map(|l| model::count_by_state(&l.items)),
    }
}

/// A figure as shown: the number, or `—` with the reason as its title.
fn shown(n: &Figure<usize>) -> (String, Option<String>) {
    match n {
        Ok(n) => (n.to_string(), None),
        Err(e) => ("—".to_owned(), Some(e.clone())),
    }
}

/// One figure: `<a class="stat" data-count=…>` to its page.
#[component]
fn Stat<L>(name: &'static str, n: Figure<usize>, label: L, page: Page) -> impl IntoView
where
    L: Fn() -> &'static str + Send + Sync + 'static,
{
    let (n, why) = shown(&n);
    view! {
        <a class="stat" href=page.hash() data-count=name title=why>
            <span class="n">{n}</span><span>{label}</span>
        </a>
    }
}

#[component]
pub fn Overview() -> impl IntoView {
    let counts = RwSignal::new(None::<Counts>);
    Scope::current().spawn(async move { counts.set(Some(count().await)) });
    view! {
        <h2>{tr("home.overview")}</h2>
        <div class="stats" id="overview">
            {move || match counts.get() {
                None => view! { <p>{tr("common.loading")}</p> }.into_any(),
                Some(n) => {
                    let by_state = n.instances.clone().unwrap_or_default();
                    let (total, why) = shown(&n.instances.map(|l| l.iter().map(|(_, k)| k).sum()));
                    view! {
                        <Stat name="users" n=n.users label=tr("iam.users") page=Page::Iam/>
                        <Stat name="groups" n=n.groups label=tr("iam.groups") page=Page::Iam/>
                        <Stat name="vpcs" n=n.vpcs label=tr("net.vpcs") page=Page::Network/>
                        <Stat name="security-groups" n=n.security_groups label=tr("net.groups") page=Page::Network/>
                        <a class="stat" href=Page::Instances.hash() data-count="instances" title=why>
                            <span class="n">{total}</span><span>{tr("nav.instances")}</span>
                            <span class="states">
                                {by_state.into_iter().map(|(state, k)| view! {
                                    <span class="state"><StatusBadge state=state/>" × "{k}</span>
                                }).collect_view()}
                            </span>
                        </a>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
