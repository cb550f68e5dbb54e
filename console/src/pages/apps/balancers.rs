//! Load balancers: each listener with its targets, their health as HAProxy sees it, and its
//! live counters (sessions, requests, errors), polled.

use leptos::prelude::*;
use nuvem_api::apps::{LoadBalancer, Target};

use crate::api;
use crate::app::tr;
use crate::components::{Badge, Loaded, Scope};
use crate::model::apps::{target_badge_class, target_kind};

/// The proxy's counters move with every request: asked again this often.
const POLL_MS: u32 = 3000;

#[component]
pub fn Balancers() -> impl IntoView {
    let scope = Scope::current();
    let balancers = RwSignal::<Loaded<LoadBalancer>>::new(None);
    scope.poll(POLL_MS, move || async move {
        // A failed ask keeps what is shown (the next one tries again); only a first one shows
        // its error.
        match api::load(async |sdk| sdk.list_load_balancers().await).await {
            Ok(l) => drop(balancers.try_set(Some(Ok(l.items)))),
            Err(e) if balancers.try_get_untracked().flatten().is_none() => {
                drop(balancers.try_set(Some(Err(e))))
            }
            Err(_) => {}
        }
    });
    view! {
        <h2>{tr("apps.balancers")}</h2>
        <p>{tr("apps.balancers_intro")}</p>
        {move || match balancers.get() {
            None => view! { <p>{tr("common.loading")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p id="balancers-none">{tr("common.none")}</p> }.into_any(),
            Some(Ok(list)) => list.into_iter().map(|lb| view! { <Balancer lb=lb/> }).collect_view().into_any(),
        }}
    }
}

#[component]
fn Balancer(lb: LoadBalancer) -> impl IntoView {
    let url = lb.url.clone();
    let health = match &lb.health_check.path {
        Some(p) => format!("HTTP {p}"),
        None => "TCP".to_owned(),
    };
    let checks = format!(
        "{health}, {} s, ↑{} ↓{}",
        lb.health_check.interval_seconds,
        lb.health_check.healthy_threshold,
        lb.health_check.unhealthy_threshold
    );
    let row = |t: Target| {
        let (kind, id) = target_kind(&t.id);
        let (kind, id) = (kind.to_owned(), id.to_owned());
        let key = t.id.clone();
        view! {
            <tr data-target=key>
                <td>{kind}" "<code>{id}</code></td>
                <td>{format!("{}:{}", t.address, t.port)}</td>
                <td><Badge class=target_badge_class(&t.state) state=t.state.clone()/></td>
                <td class="num">{t.sessions_current}" / "{t.sessions_total}</td>
                <td class="num">{t.requests_total}</td>
                <td class="num">{t.errors}</td>
            </tr>
        }
    };
    let table_id = format!("targets-{}", lb.name);
    view! {
        <div class="detail balancer" data-balancer=lb.name.clone()>
            <h3>{lb.name.clone()}" "<code class="id">{lb.id.clone()}</code></h3>
            <p>
                {tr("apps.listener")}": "<a href=url.clone() target="_blank" rel="noopener">{url.clone()}</a>
                {lb.app.clone().map(|a| view! { " · "{tr("apps.app")}" "<code>{a}</code> })}
                " · "{tr("apps.health")}": "{checks}
            </p>
            <TargetTable id=table_id targets=lb.targets row=row/>
        </div>
    }
}

/// The targets of one balancer; its id names the balancer, for the browser test.
#[component]
fn TargetTable<R, V>(id: String, targets: Vec<Target>, row: R) -> impl IntoView
where
    R: Fn(Target) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let rows = if targets.is_empty() {
        view! { <tr><td colspan="6">{tr("apps.no_targets")}</td></tr> }.into_any()
    } else {
        targets.into_iter().map(row).collect_view().into_any()
    };
    view! {
        <div class="table-wrap"><table class="targets" id=id>
            <thead><tr>
                <th>{tr("apps.target")}</th><th>{tr("apps.address")}</th><th>{tr("apps.target_state")}</th>
                <th title=tr("apps.sessions_hint")>{tr("apps.sessions")}</th><th>{tr("apps.requests")}</th><th>{tr("apps.errors")}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
}
