//! Home: a card per service with the NIST characteristic it shows, an overview of the account,
//! its quotas, and for the operator the hosts' capacity.

mod hosts;
mod overview;

use leptos::prelude::*;
use nuvem_api::iam::Quota;

use crate::app::{ctx, tr};
use crate::components::{Bar, Loaded, ResourceTable, Scope};
use crate::i18n;
use crate::model::{AppsView, BillingView, Page};

#[component]
pub fn Home() -> impl IntoView {
    let c = ctx();
    let cards = [
        (
            tr("svc.iam"),
            tr("svc.iam.nist"),
            tr("model.platform"),
            Page::Iam,
        ),
        (
            tr("svc.vpc"),
            tr("svc.vpc.nist"),
            tr("model.iaas"),
            Page::Network,
        ),
        (
            tr("svc.ec2"),
            tr("svc.ec2.nist"),
            tr("model.iaas"),
            Page::Instances,
        ),
        (
            tr("svc.s3"),
            tr("svc.s3.nist"),
            tr("model.iaas"),
            Page::Storage,
        ),
        (
            tr("svc.apps"),
            tr("svc.apps.nist"),
            tr("model.paas"),
            Page::Apps(AppsView::Apps),
        ),
        (
            tr("svc.billing"),
            tr("svc.billing.nist"),
            tr("model.platform"),
            Page::Billing(BillingView::Costs),
        ),
    ];
    let operator = move || c.identity.get().is_some_and(|i| i.is_operator);
    view! {
        <section id="page-home" data-page="home">
            <h1 id="home-title">{tr("home.title")}</h1>
            <p>{tr("home.intro")}</p>
            <div class="cards">
                // Links to the pages' addresses: the page follows the address (`app`).
                {cards.into_iter().map(|(name, nist, model, page)| view! {
                    <a class="card" href=page.hash()>
                        <h2>{name}</h2>
                        <p><strong>{tr("home.characteristic")}": "</strong>{nist}</p>
                        <p><strong>{tr("home.model")}": "</strong><span class="pill">{model}</span></p>
                    </a>
                }).collect_view()}
            </div>
            <overview::Overview/>
            <Quotas/>
            // The hosts are the operator's: a student's account is not asked for them.
            <Show when=operator>
                <hosts::Hosts/>
            </Show>
        </section>
    }
}

/// The account's quotas as bars of used against limit: the shared host, made visible.
#[component]
fn Quotas() -> impl IntoView {
    let c = ctx();
    let quotas = RwSignal::<Loaded<Quota>>::new(None);
    Scope::current().load(quotas, async |sdk| sdk.quotas().await.map(|q| q.items));
    let row = move |i: Quota| {
        // A quota's name is a key of its own (`quota.q.vcpus`); the i18n test checks that every
        // quota of the API has one.
        let key: &'static str = i18n::TABLE
            .iter()
            .find(|(k, _, _)| k.strip_prefix("quota.q.") == Some(i.name.as_str()))
            .map(|(k, _, _)| *k)
            .unwrap_or("quota.name");
        view! {
            <tr>
                <td title=i.description.clone()>{move || i18n::t(c.lang.get(), key)}</td>
                <td><Bar used=i.used total=i.limit figures=format!("{} / {}", i.used, i.limit)/></td>
            </tr>
        }
    };
    view! {
        <h2>{tr("quota.title")}</h2>
        <p>{tr("quota.intro")}</p>
        <ResourceTable id="quotas" cols=2 items=quotas row=row>
            <th>{tr("quota.name")}</th><th>{tr("quota.used")}</th>
        </ResourceTable>
    }
}
