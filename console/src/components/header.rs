//! The header of every page: the services, who you are, the operator's account switcher, the
//! language, sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nuvem_api::iam::Account;

use crate::api;
use crate::app::{Page, ctx, tr};
use crate::i18n::Lang;

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

/// The operator's account switcher: act as the root of a student's account, and come back.
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

#[component]
pub fn Header() -> impl IntoView {
    let c = ctx();
    let go = move |p: Page| move |_| c.go(p);
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
    let link = move |p: Page| if c.page.get() == p { "active" } else { "" };
    view! {
        <header>
            <span class="brand">"☁ Nuvem"</span>
            <nav>
                <a href="#/home" id="nav-home" class=move || link(Page::Home) on:click=go(Page::Home)>{tr("nav.home")}</a>
                <a href="#/iam" id="nav-iam" class=move || link(Page::Iam) on:click=go(Page::Iam)>{tr("nav.iam")}</a>
                <a href="#/network" id="nav-network" class=move || link(Page::Network) on:click=go(Page::Network)>{tr("nav.network")}</a>
                <a href="#/instances" id="nav-instances" class=move || link(Page::Instances) on:click=go(Page::Instances)>{tr("nav.instances")}</a>
            </nav>
            <span class="who" id="who">{move || c.identity.get().map(|i| format!("{}@{}", i.user, i.account_name)).unwrap_or_default()}</span>
            <AccountSwitch/>
            <LangSwitch/>
            <button id="signout" class="secondary" on:click=sign_out>{tr("signout")}</button>
        </header>
    }
}
