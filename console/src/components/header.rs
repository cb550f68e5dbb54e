//! The header of every page: the services, who you are, the operator's account switcher, the
//! language, sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nuvem_api::iam::Account;

use crate::api;
use crate::app::{ctx, tr};
use crate::i18n::Lang;
use crate::model::{AppsView, BillingView, Page};

#[component]
pub fn LangSwitch() -> impl IntoView {
    let c = ctx();
    view! {
        <label class="lang">
            {tr("lang.label")} " "
            <select id="lang" on:change=move |ev| c.lang.set(Lang::from_code(&event_target_value(&ev)))>
                <option value="en" selected=move || c.lang.get() == Lang::En>"English"</option>
                <option value="pt-BR" selected=move || c.lang.get() == Lang::PtBr>"Português"</option>
            </select>
        </label>
    }
}

/// The operator's account switcher: act as the root of a student's account, and come back. The
/// page shown stays (the address too), now with the other account's resources.
#[component]
fn AccountSwitch() -> impl IntoView {
    let c = ctx();
    let accounts = RwSignal::new(None::<Vec<Account>>);
    // The header lives as long as the session, so its tasks need no page scope.
    Effect::new(move |_| {
        if c.identity.get().is_some_and(|i| i.is_operator) {
            spawn_local(async move {
                let list = api::run(async |sdk| sdk.list_accounts_all().await)
                    .await
                    .ok();
                let _ = accounts.try_set(list);
            });
        }
    });
    let switch = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if name.is_empty() {
            return;
        }
        spawn_local(async move {
            if let Ok(s) = api::run(async |sdk| sdk.assume_account(&name).await).await {
                c.assume(s);
            }
        });
    };
    view! {
        <Show when=move || c.identity.get().is_some_and(|i| i.is_operator)>
            <label class="lang">{tr("acct.switch")}" "
                <select id="switch-account" on:change=switch>
                    <option value="">"admin"</option>
                    {move || accounts.get().map(|l| l.into_iter().filter(|a| !a.is_operator).map(|a| {
                        let value = a.name.clone();
                        view! { <option value=value>{a.name}</option> }
                    }).collect_view())}
                </select>
            </label>
        </Show>
        <Show when=move || c.identity.get().is_some_and(|i| !i.is_operator) && c.operator_token().is_some()>
            <button id="switch-back" class="secondary" on:click=move |_| c.back_to_operator()>{tr("acct.back")}</button>
        </Show>
    }
}

/// A tab is a link to its page's address: following it, Back and Forward all change the hash,
/// which the page follows (`app`). Exactly one tab is active: the page the address names (for
/// Billing and Apps, any of their views).
#[component]
fn Tab<L>(page: Page, label: L) -> impl IntoView
where
    L: Fn() -> &'static str + Send + Sync + 'static,
{
    let c = ctx();
    let id = format!("nav-{}", page.name());
    let on = move || c.page.get().tab() == page;
    view! {
        <a href=page.hash() id=id class=move || if on() { "active" } else { "" }
            aria-current=move || on().then_some("page")>{label}</a>
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let c = ctx();
    let sign_out = move |_| {
        // End the sessions on the server too (the assumed one and the operator's), so that a
        // copied token is worthless; the page forgets them whatever the server answers. Not
        // through `api::run`: a refused token here is no reason to say the session expired.
        let tokens: Vec<String> = c
            .token
            .get_untracked()
            .into_iter()
            .chain(c.operator_token())
            .collect();
        spawn_local(async move {
            for t in tokens {
                if let Ok(client) = api::client(Some(t)) {
                    let _ = client.logout().await;
                }
            }
        });
        c.end_session(false);
    };
    view! {
        <header>
            <span class="brand">"☁ Nuvem"</span>
            <nav>
                <Tab page=Page::Home label=tr("nav.home")/>
                <Tab page=Page::Iam label=tr("nav.iam")/>
                <Tab page=Page::Network label=tr("nav.network")/>
                <Tab page=Page::Instances label=tr("nav.instances")/>
                <Tab page=Page::Storage label=tr("nav.storage")/>
                <Tab page=Page::Apps(AppsView::Apps) label=tr("nav.apps")/>
                <Tab page=Page::Billing(BillingView::Costs) label=tr("nav.billing")/>
            </nav>
            <span class="who" id="who">{move || c.identity.get().map(|i| format!("{}@{}", i.user, i.account_name)).unwrap_or_default()}</span>
            <AccountSwitch/>
            <LangSwitch/>
            <button id="signout" class="secondary" on:click=sign_out>{tr("signout")}</button>
        </header>
    }
}
