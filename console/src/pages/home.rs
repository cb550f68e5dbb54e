//! Home: a card per service with the NIST characteristic it shows, and the account's quotas.

use leptos::prelude::*;
use nuvem_api::iam::Quota;

use crate::api;
use crate::app::{Page, ctx, tr};
use crate::components::Scope;
use crate::i18n;

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
    ];
    view! {
        <section>
            <h1 id="home-title">{tr("home.title")}</h1>
            <p>{tr("home.intro")}</p>
            <div class="cards">
                {cards.into_iter().map(|(name, nist, model, page)| view! {
                    <a class="card" href=page.hash() on:click=move |_| c.page.set(page)>
                        <h2>{name}</h2>
                        <p><strong>{tr("home.characteristic")}": "</strong>{nist}</p>
                        <p><strong>{tr("home.model")}": "</strong><span class="pill">{model}</span></p>
                    </a>
                }).collect_view()}
            </div>
            <Quotas/>
        </section>
    }
}

/// The account's quotas as bars of used against limit: the shared host, made visible.
#[component]
fn Quotas() -> impl IntoView {
    let c = ctx();
    let quotas = RwSignal::new(None::<Vec<Quota>>);
    Scope::current().spawn(async move {
        if let Ok(q) = api::run(async |sdk| sdk.quotas().await).await {
            quotas.set(Some(q.items));
        }
    });
    view! {
        <h2>{tr("quota.title")}</h2>
        <p>{tr("quota.intro")}</p>
        {move || quotas.get().map(|q| view! {
            <table id="quotas">
                <thead><tr><th>{tr("quota.name")}</th><th>{tr("quota.usage")}</th><th>{tr("quota.used")}</th></tr></thead>
                <tbody>
                    {q.into_iter().map(|i| {
                        // A quota's name is a key of its own (`quota.q.vcpus`); the i18n test
                        // checks that every quota of the API has one.
                        let key: &'static str = i18n::TABLE
                            .iter()
                            .find(|(k, _, _)| k.strip_prefix("quota.q.") == Some(i.name.as_str()))
                            .map(|(k, _, _)| *k)
                            .unwrap_or("quota.name");
                        view! {
                            <tr>
                                <td title=i.description.clone()>{move || i18n::t(c.lang.get(), key)}</td>
                                <td><progress value=i.used.to_string() max=i.limit.max(1).to_string()></progress></td>
                                <td>{format!("{} / {}", i.used, i.limit)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
