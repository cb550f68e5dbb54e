//! The console application (WebAssembly).

use gloo_net::http::{Request, RequestBuilder};
use leptos::prelude::*;
use leptos::task::spawn_local;
use nuvem_api::ErrorBody;
use nuvem_api::ec2::{ImageList, Instance, InstanceList, InstanceTypeList, KeyPairList};
use nuvem_api::iam::{
    AccessKeyCreated, AccountList, GroupList, Identity, PolicyList, QuotaList, Session, UserList,
};
use nuvem_api::vpc::{
    GeneratedRules, SecurityGroup, SecurityGroupList, SubnetList, TraceResult, VpcList,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::i18n::{self, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Home,
    Iam,
    Network,
    Instances,
}

impl Page {
    fn from_hash(h: &str) -> Page {
        match h.trim_start_matches('#').trim_start_matches('/') {
            "iam" => Page::Iam,
            "network" => Page::Network,
            "instances" => Page::Instances,
            _ => Page::Home,
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Page::Home => "#/home",
            Page::Iam => "#/iam",
            Page::Network => "#/network",
            Page::Instances => "#/instances",
        }
    }
}

/// State shared by every component.
#[derive(Clone, Copy)]
struct Ctx {
    lang: RwSignal<Lang>,
    token: RwSignal<Option<String>>,
    page: RwSignal<Page>,
    identity: RwSignal<Option<Identity>>,
    expired: RwSignal<bool>,
}

thread_local! {
    /// The one application state; also reachable from async tasks, which run outside the
    /// component tree where `use_context` works (the browser runs WebAssembly on one thread).
    static CTX: std::cell::Cell<Option<Ctx>> = const { std::cell::Cell::new(None) };
}

fn ctx() -> Ctx {
    CTX.with(|c| c.get())
        .expect("the application state is set when the app starts")
}

/// A translated string that follows the language switch.
fn tr(key: &'static str) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = ctx().lang;
    move || i18n::t(lang.get(), key)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// An API error as the page shows it.
#[derive(Debug, Clone)]
struct ApiError {
    code: String,
    message: String,
}

impl ApiError {
    /// The message a student reads, with the stable code to search for.
    fn show(&self) -> String {
        format!("{} ({})", self.message, self.code)
    }
}

/// Calls the API with the session token. A 401 ends the session and leads back to sign-in.
async fn api<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<T, ApiError> {
    let c = ctx();
    let builder: RequestBuilder = match method {
        "POST" => Request::post(path),
        "PUT" => Request::put(path),
        "PATCH" => Request::patch(path),
        "DELETE" => Request::delete(path),
        _ => Request::get(path),
    };
    let builder = match c.token.get_untracked() {
        Some(t) => builder.header("Authorization", &format!("Bearer {t}")),
        None => builder,
    };
    let net = |e: gloo_net::Error| ApiError {
        code: "Network".into(),
        message: e.to_string(),
    };
    let response = match body {
        Some(b) => builder.json(&b).map_err(net)?.send().await.map_err(net)?,
        None => builder.send().await.map_err(net)?,
    };
    let status = response.status();
    let text = response.text().await.map_err(net)?;
    if (200..300).contains(&status) {
        let text = if text.is_empty() {
            "null".to_owned()
        } else {
            text
        };
        return serde_json::from_str(&text).map_err(|e| ApiError {
            code: "Decode".into(),
            message: e.to_string(),
        });
    }
    let err = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| ApiError {
            code: b.code.to_string(),
            message: b.message,
        })
        .unwrap_or(ApiError {
            code: format!("HTTP {status}"),
            message: text,
        });
    if status == 401 && c.token.get_untracked().is_some() {
        c.token.set(None);
        c.expired.set(true);
        if let Some(s) = storage() {
            let _ = s.remove_item("nuvem.token");
        }
    }
    Err(err)
}

fn badge(state: &str) -> &'static str {
    match state {
        "running" => "badge ok",
        "pending" | "stopping" | "shutting-down" => "badge busy",
        "stopped" => "badge idle",
        _ => "badge off",
    }
}

#[component]
pub fn App() -> impl IntoView {
    let saved_lang = storage()
        .and_then(|s| s.get_item("nuvem.lang").ok().flatten())
        .map(|l| Lang::from_code(&l));
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let c = Ctx {
        lang: RwSignal::new(saved_lang.unwrap_or_default()),
        token: RwSignal::new(storage().and_then(|s| s.get_item("nuvem.token").ok().flatten())),
        page: RwSignal::new(Page::from_hash(&hash)),
        identity: RwSignal::new(None),
        expired: RwSignal::new(false),
    };
    CTX.with(|cell| cell.set(Some(c)));
    Effect::new(move |_| {
        let lang = c.lang.get();
        if let Some(s) = storage() {
            let _ = s.set_item("nuvem.lang", lang.code());
        }
        if let Some(doc) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = doc.set_attribute("lang", lang.code());
        }
    });
    Effect::new(move |_| {
        if c.token.get().is_some() && c.identity.get_untracked().is_none() {
            spawn_local(async move {
                if let Ok(id) = api::<Identity>("GET", "/v1/auth/whoami", None).await {
                    c.identity.set(Some(id));
                }
            });
        }
    });
    view! {
        <Show when=move || c.token.get().is_some() fallback=|| view! { <SignIn/> }>
            <Header/>
            <main>
                {move || match c.page.get() {
                    Page::Home => view! { <Home/> }.into_any(),
                    Page::Iam => view! { <Iam/> }.into_any(),
                    Page::Network => view! { <Network/> }.into_any(),
                    Page::Instances => view! { <Instances/> }.into_any(),
                }}
            </main>
        </Show>
    }
}

#[component]
fn LangSwitch() -> impl IntoView {
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

#[component]
fn SignIn() -> impl IntoView {
    let c = ctx();
    let account = RwSignal::new(String::new());
    let user = RwSignal::new("root".to_owned());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let body =
            json!({"account": account.get(), "user": user.get(), "password": password.get()});
        spawn_local(async move {
            match api::<Session>("POST", "/v1/auth/login", Some(body)).await {
                Ok(s) => {
                    if let Some(st) = storage() {
                        let _ = st.set_item("nuvem.token", &s.token);
                    }
                    c.identity.set(Some(s.identity));
                    c.expired.set(false);
                    c.token.set(Some(s.token));
                }
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
                <input id="account" autocomplete="organization" prop:value=account on:input=move |ev| account.set(event_target_value(&ev))/>
                <label for="user">{tr("signin.user")}</label>
                <input id="user" autocomplete="username" prop:value=user on:input=move |ev| user.set(event_target_value(&ev))/>
                <label for="password">{tr("signin.password")}</label>
                <input id="password" type="password" autocomplete="current-password" prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <Show when=move || error.get().is_some()>
                    <p class="error" id="signin-error">{move || error.get().unwrap_or_default()}</p>
                </Show>
                <button id="signin" type="submit">{tr("signin.submit")}</button>
            </form>
        </div>
    }
}

/// The operator's account switcher: act as the root of a student's account, and come back.
#[component]
fn AccountSwitch() -> impl IntoView {
    let c = ctx();
    let accounts = RwSignal::new(None::<AccountList>);
    let operator_token =
        move || storage().and_then(|s| s.get_item("nuvem.operator_token").ok().flatten());
    Effect::new(move |_| {
        if c.identity.get().is_some_and(|i| i.is_operator) {
            spawn_local(async move {
                accounts.set(
                    api::<AccountList>("GET", "/v1/accounts?limit=1000", None)
                        .await
                        .ok(),
                );
            });
        }
    });
    let switch = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if name.is_empty() {
            return;
        }
        spawn_local(async move {
            if let Ok(s) =
                api::<Session>("POST", &format!("/v1/accounts/{name}/assume"), None).await
            {
                if let (Some(st), Some(current)) = (storage(), c.token.get_untracked()) {
                    let _ = st.set_item("nuvem.operator_token", &current);
                    let _ = st.set_item("nuvem.token", &s.token);
                }
                c.identity.set(Some(s.identity));
                c.token.set(Some(s.token));
                c.page.set(Page::Home);
            }
        });
    };
    let back = move |_| {
        if let Some(t) = operator_token() {
            if let Some(st) = storage() {
                let _ = st.set_item("nuvem.token", &t);
                let _ = st.remove_item("nuvem.operator_token");
            }
            c.identity.set(None);
            c.token.set(Some(t));
            c.page.set(Page::Home);
            spawn_local(async move {
                if let Ok(id) = api::<Identity>("GET", "/v1/auth/whoami", None).await {
                    c.identity.set(Some(id));
                }
            });
        }
    };
    view! {
        <Show when=move || c.identity.get().is_some_and(|i| i.is_operator)>
            <label class="lang">{tr("acct.switch")}" "
                <select id="switch-account" on:change=switch>
                    <option value="">"admin"</option>
                    {move || accounts.get().map(|l| l.items.into_iter().filter(|a| !a.is_operator).map(|a| {
                        let value = a.name.clone();
                        view! { <option value=value>{a.name}</option> }
                    }).collect_view())}
                </select>
            </label>
        </Show>
        <Show when=move || c.identity.get().is_some_and(|i| !i.is_operator) && operator_token().is_some()>
            <button id="switch-back" class="secondary" on:click=back>{tr("acct.back")}</button>
        </Show>
    }
}

#[component]
fn Header() -> impl IntoView {
    let c = ctx();
    let go = move |p: Page| {
        move |_| {
            c.page.set(p);
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_hash(p.hash());
            }
        }
    };
    let sign_out = move |_| {
        // End the sessions on the server too (the assumed one and the operator's), so that a
        // copied token is worthless; the page forgets them whatever the server answers.
        let mut tokens: Vec<String> = c.token.get_untracked().into_iter().collect();
        if let Some(s) = storage() {
            if let Ok(Some(t)) = s.get_item("nuvem.operator_token") {
                tokens.push(t);
            }
            let _ = s.remove_item("nuvem.token");
            let _ = s.remove_item("nuvem.operator_token");
        }
        spawn_local(async move {
            for t in tokens {
                let _ = Request::post("/v1/auth/logout")
                    .header("Authorization", &format!("Bearer {t}"))
                    .send()
                    .await;
            }
        });
        c.identity.set(None);
        c.token.set(None);
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

#[component]
fn Home() -> impl IntoView {
    let c = ctx();
    let cards: [(&'static str, &'static str, &'static str, Page); 3] = [
        ("svc.iam", "svc.iam.nist", "model.platform", Page::Iam),
        ("svc.vpc", "svc.vpc.nist", "model.iaas", Page::Network),
        ("svc.ec2", "svc.ec2.nist", "model.iaas", Page::Instances),
    ];
    view! {
        <section>
            <h1 id="home-title">{tr("home.title")}</h1>
            <p>{tr("home.intro")}</p>
            <div class="cards">
                {cards.into_iter().map(|(name, nist, model, page)| view! {
                    <a class="card" href=page.hash() on:click=move |_| c.page.set(page)>
                        <h2>{move || i18n::t(c.lang.get(), name)}</h2>
                        <p><strong>{tr("home.characteristic")}": "</strong>{move || i18n::t(c.lang.get(), nist)}</p>
                        <p><strong>{tr("home.model")}": "</strong><span class="pill">{move || i18n::t(c.lang.get(), model)}</span></p>
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
    let quotas = RwSignal::new(None::<QuotaList>);
    spawn_local(async move {
        if let Ok(q) = api::<QuotaList>("GET", "/v1/quotas", None).await {
            // The page may be gone by now: a disposed signal is simply not written.
            let _ = quotas.try_set(Some(q));
        }
    });
    view! {
        <h2>{tr("quota.title")}</h2>
        <p>{tr("quota.intro")}</p>
        {move || quotas.get().map(|q| view! {
            <table id="quotas">
                <thead><tr><th>{tr("quota.name")}</th><th>{tr("quota.usage")}</th><th>{tr("quota.used")}</th></tr></thead>
                <tbody>
                    {q.items.into_iter().map(|i| {
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

#[component]
fn Iam() -> impl IntoView {
    let c = ctx();
    let users = RwSignal::new(None::<UserList>);
    let policies = RwSignal::new(None::<PolicyList>);
    let groups = RwSignal::new(None::<GroupList>);
    let group_name = RwSignal::new(String::new());
    let group_error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<AccessKeyCreated>);
    let copied = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            if let Ok(u) = api::<UserList>("GET", "/v1/iam/users", None).await {
                users.set(Some(u));
            }
            if let Ok(p) = api::<PolicyList>("GET", "/v1/iam/policies", None).await {
                policies.set(Some(p));
            }
            if let Ok(g) = api::<GroupList>("GET", "/v1/iam/groups", None).await {
                groups.set(Some(g));
            }
        })
    };
    load();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        name_error.set(None);
        let mut body = json!({"name": name.get()});
        if !password.get().is_empty() {
            body["password"] = json!(password.get());
        }
        spawn_local(async move {
            match api::<Value>("POST", "/v1/iam/users", Some(body)).await {
                Ok(_) => {
                    name.set(String::new());
                    password.set(String::new());
                    load();
                }
                Err(e) => name_error.set(Some(e.show())),
            }
        });
    };
    let delete = move |user: String| {
        if !confirm(i18n::t(c.lang.get_untracked(), "common.confirm_delete")) {
            return;
        }
        spawn_local(async move {
            let _ = api::<Value>("DELETE", &format!("/v1/iam/users/{user}"), None).await;
            load();
        });
    };
    let new_key = move |user: String| {
        spawn_local(async move {
            match api::<AccessKeyCreated>(
                "POST",
                &format!("/v1/iam/users/{user}/access-keys"),
                None,
            )
            .await
            {
                Ok(k) => {
                    copied.set(false);
                    secret.set(Some(k));
                }
                Err(e) => name_error.set(Some(e.show())),
            }
        });
    };
    let copy = move |_| {
        if let (Some(k), Some(w)) = (secret.get_untracked(), web_sys::window()) {
            let _ = w.navigator().clipboard().write_text(&k.secret_access_key);
            copied.set(true);
        }
    };
    let create_group = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        group_error.set(None);
        let body = json!({"name": group_name.get()});
        spawn_local(async move {
            match api::<Value>("POST", "/v1/iam/groups", Some(body)).await {
                Ok(_) => {
                    group_name.set(String::new());
                    load();
                }
                Err(e) => group_error.set(Some(e.show())),
            }
        });
    };
    // Policy editor: validated as you type, with the server's own rules (nuvem-api).
    let policy_name = RwSignal::new(String::new());
    let policy_doc = RwSignal::new(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"iam:Get*\", \"iam:List*\"], \"Resource\": \"*\"}]\n}".to_owned(),
    );
    let policy_check = move || -> Result<(), String> {
        let v: Value = serde_json::from_str(&policy_doc.get()).map_err(|e| e.to_string())?;
        nuvem_api::policy::parse(&v)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let policy_error = RwSignal::new(None::<String>);
    let save_policy = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        policy_error.set(None);
        let Ok(doc) = serde_json::from_str::<Value>(&policy_doc.get()) else {
            return;
        };
        let body = json!({"name": policy_name.get(), "document": doc});
        spawn_local(async move {
            match api::<Value>("POST", "/v1/iam/policies", Some(body)).await {
                Ok(_) => {
                    policy_name.set(String::new());
                    load();
                }
                Err(e) => policy_error.set(Some(e.show())),
            }
        });
    };
    view! {
        <section>
            <h1>{tr("iam.users")}</h1>
            <form class="inline" on:submit=create>
                <div class="field">
                    <label for="new-user">{tr("iam.user_name")}</label>
                    <input id="new-user" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                    <Show when=move || name_error.get().is_some()>
                        <p class="error" id="user-error">{move || name_error.get().unwrap_or_default()}</p>
                    </Show>
                </div>
                <div class="field">
                    <label for="new-password">{tr("iam.password_optional")}</label>
                    <input id="new-password" type="password" prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <button id="create-user" type="submit">{tr("common.create")}</button>
            </form>
            <Show when=move || secret.get().is_some()>
                <div class="secret" id="secret">
                    <p><strong>{tr("iam.new_key")}": "</strong><code>{move || secret.get().map(|k| k.access_key_id).unwrap_or_default()}</code></p>
                    <p><code id="secret-value">{move || secret.get().map(|k| k.secret_access_key).unwrap_or_default()}</code>
                        " " <button class="secondary" on:click=copy>{move || if copied.get() { tr("common.copied")() } else { tr("common.copy")() }}</button></p>
                    <p class="notice">{tr("iam.secret_once")}</p>
                </div>
            </Show>
            <table id="users">
                <thead><tr><th>{tr("common.name")}</th><th>{tr("iam.has_password")}</th><th>{tr("common.created")}</th><th>{tr("common.actions")}</th></tr></thead>
                <tbody>
                    {move || match users.get() {
                        None => view! { <tr><td colspan="4">{tr("common.loading")}</td></tr> }.into_any(),
                        Some(list) => list.items.into_iter().map(|u| {
                            let (n1, n2) = (u.name.clone(), u.name.clone());
                            let created = u.created_at.to_rfc3339();
                            view! {
                                <tr>
                                    <td>{u.name.clone()}</td>
                                    <td>{if u.has_password { "✔" } else { "—" }}</td>
                                    <td>{move || i18n::date(c.lang.get(), &created)}</td>
                                    <td>
                                        <button class="secondary" on:click=move |_| new_key(n1.clone())>{tr("iam.access_keys")}</button>
                                        " "
                                        <Show when={let root = u.is_root; move || !root}>
                                            <button class="danger" on:click={let n = n2.clone(); move |_| delete(n.clone())}>{tr("common.delete")}</button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }).collect_view().into_any(),
                    }}
                </tbody>
            </table>

            <h1>{tr("iam.groups")}</h1>
            <form class="inline" on:submit=create_group>
                <div class="field">
                    <label for="new-group">{tr("common.name")}</label>
                    <input id="new-group" prop:value=group_name on:input=move |ev| group_name.set(event_target_value(&ev))/>
                    <Show when=move || group_error.get().is_some()><p class="error">{move || group_error.get().unwrap_or_default()}</p></Show>
                </div>
                <button id="create-group" type="submit">{tr("common.create")}</button>
            </form>
            <ul class="chips" id="iam-groups">
                {move || groups.get().map(|g| g.items.into_iter().map(|g| view! { <li><span class="chip">{g.name}</span></li> }).collect_view())}
            </ul>
            <h1>{tr("iam.policies")}</h1>
            <form on:submit=save_policy>
                <div class="field">
                    <label for="policy-name">{tr("common.name")}</label>
                    <input id="policy-name" prop:value=policy_name on:input=move |ev| policy_name.set(event_target_value(&ev))/>
                </div>
                <label for="policy-doc">{tr("iam.policy_document")}</label>
                <textarea id="policy-doc" rows="8" prop:value=policy_doc on:input=move |ev| policy_doc.set(event_target_value(&ev))></textarea>
                <p id="policy-check" class=move || if policy_check().is_ok() { "ok" } else { "error" }>
                    {move || match policy_check() { Ok(()) => tr("iam.policy_valid")().to_owned(), Err(e) => e }}
                </p>
                <Show when=move || policy_error.get().is_some()>
                    <p class="error">{move || policy_error.get().unwrap_or_default()}</p>
                </Show>
                <button type="submit" prop:disabled=move || policy_check().is_err()>{tr("common.create")}</button>
            </form>
            <ul id="policies">
                {move || policies.get().map(|p| p.items.into_iter().map(|p| view! { <li><code>{p.name}</code>" — "{p.description}</li> }).collect_view())}
            </ul>
        </section>
    }
}

#[component]
fn Network() -> impl IntoView {
    let vpcs = RwSignal::new(None::<VpcList>);
    let subnets = RwSignal::new(None::<SubnetList>);
    let groups = RwSignal::new(None::<SecurityGroupList>);
    let selected = RwSignal::new(None::<String>);
    let iptables = RwSignal::new(None::<GeneratedRules>);
    let rule_port = RwSignal::new("22".to_owned());
    let rule_cidr = RwSignal::new("0.0.0.0/0".to_owned());
    let rule_proto = RwSignal::new("tcp".to_owned());
    let rule_error = RwSignal::new(None::<String>);
    let new_sg = RwSignal::new(String::new());
    let sg_error = RwSignal::new(None::<String>);
    let trace_from = RwSignal::new(String::new());
    let trace_to = RwSignal::new(String::new());
    let trace_port = RwSignal::new("22".to_owned());
    let trace_result = RwSignal::new(None::<Result<TraceResult, String>>);
    let load = move || {
        spawn_local(async move {
            if let Ok(v) = api::<VpcList>("GET", "/v1/vpc/vpcs", None).await {
                vpcs.set(Some(v));
            }
            if let Ok(n) = api::<SubnetList>("GET", "/v1/vpc/subnets", None).await {
                subnets.set(Some(n));
            }
            if let Ok(g) = api::<SecurityGroupList>("GET", "/v1/vpc/security-groups", None).await {
                groups.set(Some(g));
            }
            if let Some(id) = selected.get_untracked() {
                iptables.set(
                    api::<GeneratedRules>(
                        "GET",
                        &format!("/v1/vpc/security-groups/{id}/iptables"),
                        None,
                    )
                    .await
                    .ok(),
                );
            }
        })
    };
    load();
    let current = move || -> Option<SecurityGroup> {
        let id = selected.get()?;
        groups.get()?.items.into_iter().find(|g| g.id == id)
    };
    let create_sg = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sg_error.set(None);
        let Some(vpc) = vpcs
            .get_untracked()
            .and_then(|v| v.items.first().map(|v| v.id.clone()))
        else {
            return;
        };
        let body = json!({"vpc_id": vpc, "name": new_sg.get()});
        spawn_local(async move {
            match api::<SecurityGroup>("POST", "/v1/vpc/security-groups", Some(body)).await {
                Ok(g) => {
                    new_sg.set(String::new());
                    selected.set(Some(g.id));
                    load();
                }
                Err(e) => sg_error.set(Some(e.show())),
            }
        });
    };
    let add_rule = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        rule_error.set(None);
        let Some(id) = selected.get_untracked() else {
            return;
        };
        let proto = rule_proto.get();
        let mut body = json!({"direction": "ingress", "protocol": proto, "cidr": rule_cidr.get()});
        if proto == "tcp" || proto == "udp" {
            body["from_port"] = match rule_port.get().trim().parse::<u64>() {
                Ok(p) => json!(p),
                Err(_) => json!(rule_port.get()),
            };
        }
        spawn_local(async move {
            match api::<Value>(
                "POST",
                &format!("/v1/vpc/security-groups/{id}/rules"),
                Some(body),
            )
            .await
            {
                Ok(_) => load(),
                Err(e) => rule_error.set(Some(e.show())),
            }
        });
    };
    let run_trace = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({"from": trace_from.get(), "to": trace_to.get(), "protocol": "tcp", "port": trace_port.get().trim().parse::<u64>().unwrap_or(0)});
        spawn_local(async move {
            trace_result.set(Some(
                api::<TraceResult>("POST", "/v1/vpc/trace", Some(body))
                    .await
                    .map_err(|e| e.show()),
            ));
        });
    };
    view! {
        <section>
            <h1>{tr("net.vpcs")}</h1>
            <table id="vpcs">
                <thead><tr><th>"ID"</th><th>"CIDR"</th><th>{tr("common.name")}</th><th>"IGW"</th></tr></thead>
                <tbody>{move || vpcs.get().map(|v| v.items.into_iter().map(|v| view! {
                    <tr><td><code>{v.id}</code></td><td>{v.cidr}</td><td>{v.name}</td><td>{if v.internet_gateway { "on" } else { "off" }}</td></tr>
                }).collect_view())}</tbody>
            </table>
            <h1>{tr("net.subnets")}</h1>
            <table id="subnets">
                <thead><tr><th>"ID"</th><th>"VPC"</th><th>"CIDR"</th><th>"Gateway"</th><th>"Bridge"</th></tr></thead>
                <tbody>{move || subnets.get().map(|n| n.items.into_iter().map(|n| view! {
                    <tr><td><code>{n.id}</code></td><td><code>{n.vpc_id}</code></td><td>{n.cidr}</td><td>{n.gateway}</td><td><code>{n.bridge}</code></td></tr>
                }).collect_view())}</tbody>
            </table>
            <h1>{tr("net.groups")}</h1>
            <form class="inline" on:submit=create_sg>
                <div class="field">
                    <label for="new-sg">{tr("common.name")}</label>
                    <input id="new-sg" prop:value=new_sg on:input=move |ev| new_sg.set(event_target_value(&ev))/>
                    <Show when=move || sg_error.get().is_some()><p class="error">{move || sg_error.get().unwrap_or_default()}</p></Show>
                </div>
                <button id="create-sg" type="submit">{tr("common.create")}</button>
            </form>
            <ul class="chips" id="groups">
                {move || groups.get().map(|g| g.items.into_iter().map(|g| {
                    let id = g.id.clone();
                    let sel = g.id.clone();
                    view! { <li><button class=move || if selected.get().as_deref() == Some(sel.as_str()) { "chip active" } else { "chip" }
                        on:click=move |_| { selected.set(Some(id.clone())); load(); }>{g.name}" ("{g.rules.len()}")"</button></li> }
                }).collect_view())}
            </ul>
            <Show when=move || current().is_some()>
                <h2>{tr("net.rules")}" — "{move || current().map(|g| g.name).unwrap_or_default()}</h2>
                <table id="rules">
                    <thead><tr><th>{tr("net.direction")}</th><th>{tr("net.protocol")}</th><th>{tr("net.port")}</th><th>{tr("net.source")}</th></tr></thead>
                    <tbody>{move || current().map(|g| g.rules.into_iter().map(|r| view! {
                        <tr><td>{format!("{:?}", r.direction)}</td><td>{r.protocol.as_str()}</td>
                        <td>{match (r.from_port, r.to_port) { (Some(a), Some(b)) if a == b => a.to_string(), (Some(a), Some(b)) => format!("{a}-{b}"), _ => "all".into() }}</td>
                        <td>{r.cidr.or(r.source_group_id).unwrap_or_default()}</td></tr>
                    }).collect_view())}</tbody>
                </table>
                <form class="inline" on:submit=add_rule>
                    <div class="field"><label for="rule-proto">{tr("net.protocol")}</label>
                        <select id="rule-proto" on:change=move |ev| rule_proto.set(event_target_value(&ev))>
                            <option value="tcp">"tcp"</option><option value="udp">"udp"</option><option value="icmp">"icmp"</option><option value="all">"all"</option>
                        </select></div>
                    <div class="field"><label for="rule-port">{tr("net.port")}</label>
                        <input id="rule-port" prop:value=rule_port on:input=move |ev| rule_port.set(event_target_value(&ev))/></div>
                    <div class="field"><label for="rule-cidr">{tr("net.source")}</label>
                        <input id="rule-cidr" prop:value=rule_cidr on:input=move |ev| rule_cidr.set(event_target_value(&ev))/></div>
                    <button id="add-rule" type="submit">{tr("net.add_rule")}</button>
                </form>
                <Show when=move || rule_error.get().is_some()><p class="error" id="rule-error">{move || rule_error.get().unwrap_or_default()}</p></Show>
                <h3>{tr("net.iptables")}</h3>
                {move || match iptables.get() {
                    Some(r) if !r.rules.is_empty() => view! { <pre id="iptables">{r.rules.join("\n")}</pre> }.into_any(),
                    _ => view! { <p class="notice" id="iptables">{tr("net.iptables_none")}</p> }.into_any(),
                }}
            </Show>
            <h1>{tr("net.trace")}</h1>
            <form class="inline" on:submit=run_trace>
                <div class="field"><label for="trace-from">{tr("net.from")}</label><input id="trace-from" prop:value=trace_from on:input=move |ev| trace_from.set(event_target_value(&ev))/></div>
                <div class="field"><label for="trace-to">{tr("net.to")}</label><input id="trace-to" prop:value=trace_to on:input=move |ev| trace_to.set(event_target_value(&ev))/></div>
                <div class="field"><label for="trace-port">{tr("net.port")}</label><input id="trace-port" prop:value=trace_port on:input=move |ev| trace_port.set(event_target_value(&ev))/></div>
                <button type="submit">{tr("net.trace")}</button>
            </form>
            <p id="trace-result">{move || match trace_result.get() {
                None => String::new(),
                Some(Ok(t)) => format!("{:?}: {}", t.verdict, t.reason).to_uppercase_first(),
                Some(Err(e)) => e,
            }}</p>
        </section>
    }
}

trait UpperFirst {
    fn to_uppercase_first(self) -> String;
}

impl UpperFirst for String {
    /// `Allow: …` → `ALLOW: …`.
    fn to_uppercase_first(self) -> String {
        match self.split_once(':') {
            Some((v, rest)) => format!("{}:{rest}", v.to_uppercase()),
            None => self,
        }
    }
}

#[component]
fn Instances() -> impl IntoView {
    let c = ctx();
    let instances = RwSignal::new(None::<InstanceList>);
    let images = RwSignal::new(None::<ImageList>);
    let types = RwSignal::new(None::<InstanceTypeList>);
    let keys = RwSignal::new(None::<KeyPairList>);
    let subnets = RwSignal::new(None::<SubnetList>);
    let sgs = RwSignal::new(None::<SecurityGroupList>);
    let subnet = RwSignal::new(String::new());
    let chosen_sgs = RwSignal::new(Vec::<String>::new());
    let image = RwSignal::new(String::new());
    let itype = RwSignal::new("t3.nano".to_owned());
    let key = RwSignal::new(String::new());
    let user_data = RwSignal::new(String::new());
    let launch_error = RwSignal::new(None::<String>);
    let console = RwSignal::new(None::<(String, String)>);
    let detail = RwSignal::new(None::<String>);
    let alive = RwSignal::new(true);
    on_cleanup(move || alive.set(false));
    let load = move || {
        spawn_local(async move {
            if let Ok(i) = api::<InstanceList>("GET", "/v1/ec2/instances", None).await {
                instances.set(Some(i));
            }
        })
    };
    spawn_local(async move {
        if let Ok(i) = api::<ImageList>("GET", "/v1/ec2/images", None).await {
            if image.get_untracked().is_empty()
                && let Some(first) = i.items.first()
            {
                image.set(first.id.clone());
            }
            images.set(Some(i));
        }
        types.set(
            api::<InstanceTypeList>("GET", "/v1/ec2/instance-types", None)
                .await
                .ok(),
        );
        keys.set(
            api::<KeyPairList>("GET", "/v1/ec2/key-pairs", None)
                .await
                .ok(),
        );
        subnets.set(api::<SubnetList>("GET", "/v1/vpc/subnets", None).await.ok());
        sgs.set(
            api::<SecurityGroupList>("GET", "/v1/vpc/security-groups", None)
                .await
                .ok(),
        );
    });
    // Status badges follow the instances without a reload.
    spawn_local(async move {
        while alive.get_untracked() && c.token.get_untracked().is_some() {
            if let Ok(i) = api::<InstanceList>("GET", "/v1/ec2/instances", None).await {
                if alive.get_untracked() {
                    instances.set(Some(i));
                }
            }
            gloo_timers::future::TimeoutFuture::new(2000).await;
        }
    });
    let launch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        launch_error.set(None);
        let mut body = json!({"image_id": image.get(), "instance_type": itype.get()});
        if !key.get().is_empty() {
            body["key_name"] = json!(key.get());
        }
        if !user_data.get().is_empty() {
            body["user_data"] = json!(user_data.get());
        }
        if !subnet.get().is_empty() {
            body["subnet_id"] = json!(subnet.get());
        }
        if !chosen_sgs.get().is_empty() {
            body["security_group_ids"] = json!(chosen_sgs.get());
        }
        spawn_local(async move {
            match api::<InstanceList>("POST", "/v1/ec2/instances", Some(body)).await {
                Ok(_) => load(),
                Err(e) => launch_error.set(Some(e.show())),
            }
        });
    };
    let act = move |id: String, what: &'static str| {
        if what == "terminate" && !confirm(i18n::t(c.lang.get_untracked(), "common.confirm_delete"))
        {
            return;
        }
        spawn_local(async move {
            let r = match what {
                "terminate" => {
                    api::<Instance>("DELETE", &format!("/v1/ec2/instances/{id}"), None).await
                }
                other => {
                    api::<Instance>("POST", &format!("/v1/ec2/instances/{id}/{other}"), None).await
                }
            };
            if let Err(e) = r {
                launch_error.set(Some(e.show()));
            }
            load();
        });
    };
    let show_console = move |id: String| {
        spawn_local(async move {
            if let Ok(out) = api::<nuvem_api::ec2::ConsoleOutput>(
                "GET",
                &format!("/v1/ec2/instances/{id}/console"),
                None,
            )
            .await
            {
                console.set(Some((id, out.output)));
            }
        });
    };
    view! {
        <section>
            <h1>{tr("ec2.launch")}</h1>
            <form id="launch-form" on:submit=launch>
                <div class="grid">
                    <div class="field"><label for="image">{tr("ec2.image")}</label>
                        <select id="image" on:change=move |ev| image.set(event_target_value(&ev))>
                            {move || images.get().map(|l| l.items.into_iter().map(|i| view! { <option value=i.id.clone()>{i.name}</option> }).collect_view())}
                        </select></div>
                    <div class="field"><label for="itype">{tr("ec2.type")}</label>
                        <select id="itype" on:change=move |ev| itype.set(event_target_value(&ev))>
                            {move || types.get().map(|l| l.items.into_iter().map(|t| {
                                let label = format!("{} — {} vCPU, {} MiB, {}/h", t.name, t.vcpus, t.memory_mib, i18n::money(c.lang.get(), t.price_per_hour));
                                let selected = t.name == "t3.nano";
                                view! { <option value=t.name.clone() selected=selected>{label}</option> }
                            }).collect_view())}
                        </select></div>
                    <div class="field"><label for="key">{tr("ec2.key")}</label>
                        <select id="key" on:change=move |ev| key.set(event_target_value(&ev))>
                            <option value="">"—"</option>
                            {move || keys.get().map(|l| l.items.into_iter().map(|k| { let value = k.name.clone(); view! { <option value=value>{k.name}</option> } }).collect_view())}
                        </select></div>
                    <div class="field"><label for="subnet">{tr("net.subnets")}</label>
                        <select id="subnet" on:change=move |ev| subnet.set(event_target_value(&ev))>
                            <option value="">"default"</option>
                            {move || subnets.get().map(|l| l.items.into_iter().map(|n| {
                                let value = n.id.clone();
                                view! { <option value=value>{format!("{} ({})", n.id, n.cidr)}</option> }
                            }).collect_view())}
                        </select></div>
                </div>
                <fieldset id="launch-groups"><legend>{tr("net.groups")}</legend>
                    {move || sgs.get().map(|l| l.items.into_iter().map(|g| {
                        let id = g.id.clone();
                        let input_id = format!("sg-{}", g.id);
                        view! {
                            <label class="check"><input type="checkbox" id=input_id on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let id = id.clone();
                                chosen_sgs.update(|v| { v.retain(|x| *x != id); if on { v.push(id); } });
                            }/>" "{format!("{} ({})", g.name, g.vpc_id)}</label>
                        }
                    }).collect_view())}
                </fieldset>
                <label for="user-data">{tr("ec2.user_data")}</label>
                <textarea id="user-data" rows="3" placeholder="#!/bin/sh" prop:value=user_data on:input=move |ev| user_data.set(event_target_value(&ev))></textarea>
                <Show when=move || launch_error.get().is_some()><p class="error" id="launch-error">{move || launch_error.get().unwrap_or_default()}</p></Show>
                <button id="launch" type="submit">{tr("ec2.launch")}</button>
            </form>
            <h1>{tr("nav.instances")}</h1>
            <table id="instances">
                <thead><tr><th>"ID"</th><th>{tr("common.name")}</th><th>{tr("common.state")}</th><th>{tr("ec2.type")}</th><th>{tr("ec2.private_ip")}</th><th>{tr("common.actions")}</th></tr></thead>
                <tbody>
                    {move || match instances.get() {
                        None => view! { <tr><td colspan="6">{tr("common.loading")}</td></tr> }.into_any(),
                        Some(l) if l.items.is_empty() => view! { <tr><td colspan="6">{tr("common.none")}</td></tr> }.into_any(),
                        Some(l) => l.items.into_iter().map(|i| {
                            let (a, b, d, e) = (i.id.clone(), i.id.clone(), i.id.clone(), i.id.clone());
                            let open = i.id.clone();
                            let state = i.state.as_str();
                            view! {
                                <tr>
                                    <td><a href="#/instances" class="id" on:click=move |_| detail.set(Some(open.clone()))><code>{i.id.clone()}</code></a></td>
                                    <td>{i.name.clone()}</td>
                                    <td><span class=badge(state) data-state=state>{state}</span></td>
                                    <td>{i.instance_type.clone()}</td>
                                    <td>{i.private_ip.clone().unwrap_or_default()}</td>
                                    <td>
                                        <button class="secondary" on:click=move |_| show_console(a.clone())>{tr("ec2.console")}</button>" "
                                        <button class="secondary" on:click=move |_| act(b.clone(), "stop")>{tr("ec2.stop")}</button>" "
                                        <button class="secondary" on:click=move |_| act(d.clone(), "start")>{tr("ec2.start")}</button>" "
                                        <button class="danger" on:click=move |_| act(e.clone(), "terminate")>{tr("ec2.terminate")}</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view().into_any(),
                    }}
                </tbody>
            </table>
            <Show when=move || detail.get().is_some()>
                {move || {
                    let id = detail.get().unwrap_or_default();
                    instances.get().and_then(|l| l.items.into_iter().find(|i| i.id == id)).map(|i| {
                        let launched = i.launched_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                        let cpus = if i.pinned_cpus.is_empty() { "shared".to_owned() } else { format!("{:?}", i.pinned_cpus) };
                        view! {
                            <div class="detail" id="instance-detail">
                                <h2>{i.name.clone()}" ("{i.id.clone()}")"</h2>
                                <table>
                                    <tr><th>{tr("common.state")}</th><td><span class=badge(i.state.as_str())>{i.state.as_str()}</span>" "{i.state_reason.clone()}</td></tr>
                                    <tr><th>{tr("ec2.type")}</th><td>{format!("{} — {} vCPU, {} MiB", i.instance_type, i.vcpus, i.memory_mib)}</td></tr>
                                    <tr><th>{tr("ec2.image")}</th><td><code>{i.image_id.clone()}</code></td></tr>
                                    <tr><th>{tr("ec2.private_ip")}</th><td>{i.private_ip.clone().unwrap_or_default()}" — "<code>{i.subnet_id.clone()}</code></td></tr>
                                    <tr><th>{tr("net.groups")}</th><td>{i.security_group_ids.join(", ")}</td></tr>
                                    <tr><th>{tr("ec2.key")}</th><td>{i.key_name.clone().unwrap_or_default()}</td></tr>
                                    <tr><th>"Host"</th><td>{format!("{} ({}), CPUs: {cpus}", i.host, i.accelerator)}</td></tr>
                                    <tr><th>{tr("common.created")}</th><td>{move || if launched.is_empty() { String::new() } else { i18n::date(ctx().lang.get(), &launched) }}</td></tr>
                                </table>
                            </div>
                        }
                    })
                }}
            </Show>
            <Show when=move || console.get().is_some()>
                <h2>{tr("ec2.console")}" — "{move || console.get().map(|c| c.0).unwrap_or_default()}</h2>
                <pre id="console">{move || console.get().map(|c| c.1).unwrap_or_default()}</pre>
            </Show>
        </section>
    }
}
