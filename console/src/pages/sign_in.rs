//! Sign-in with an account, a user name and a password; the session token is kept across reloads.

use leptos::prelude::*;

use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Input, LangSwitch, Scope};

#[component]
pub fn SignIn() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let account = RwSignal::new(String::new());
    let user = RwSignal::new("root".to_owned());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (account, user, password) = (account.get(), user.get(), password.get());
        scope.spawn(async move {
            match api::run(async |sdk| sdk.login(&account, &user, &password).await).await {
                // This page goes away: the task touches nothing of it after.
                Ok(s) => c.start_session(s),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <div class="signin">
            <h1>{tr("app.title")}</h1>
            <p class="tagline">{tr("app.tagline")}</p>
            <LangSwitch/>
            <Show when=move || c.expired.get()>
                <p class="notice" id="expired">{tr("signin.expired")}</p>
            </Show>
            <form on:submit=submit>
                <label for="account">{tr("signin.account")}</label>
                <Input id="account" value=account autocomplete="organization"/>
                <label for="user">{tr("signin.user")}</label>
                <Input id="user" value=user autocomplete="username"/>
                <label for="password">{tr("signin.password")}</label>
                <Input id="password" value=password kind="password" autocomplete="current-password"/>
                <ErrorLine error=error id="signin-error"/>
                <button id="signin" type="submit">{tr("signin.submit")}</button>
            </form>
        </div>
    }
}
