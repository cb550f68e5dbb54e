//! The application shell (WebAssembly): the shared state, the session kept in localStorage, and
//! which page is shown: the one the address's hash names (`model::Page`), followed on every
//! change of the hash (a tab, Back, Forward, a typed address). The pages are in `pages/`, the
//! pieces they share in `components/`, and every API call goes through the SDK (`api.rs`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use nuvem_api::iam::{Identity, Session};

use crate::api;
use crate::components::Header;
use crate::i18n::{self, Lang};
use crate::model::Page;
use crate::pages::{Apps, Billing, Home, Iam, Instances, Network, SignIn, Storage};

/// localStorage keys: the session token, the operator's own token while acting as an account's
/// root, and the language.
const TOKEN: &str = "nuvem.token";
const OPERATOR_TOKEN: &str = "nuvem.operator_token";
const LANG: &str = "nuvem.lang";

/// State shared by every component. Its signals belong to the application's root, so they live as
/// long as the page does (unlike a page's own signals).
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub token: RwSignal<Option<String>>,
    /// The page the address names; set by [`follow_address`] only, so the two never disagree.
    pub page: RwSignal<Page>,
    pub identity: RwSignal<Option<Identity>>,
    pub expired: RwSignal<bool>,
}

thread_local! {
    /// The one application state; also reachable from async tasks, which run outside the
    /// component tree where `use_context` works (the browser runs WebAssembly on one thread).
    static CTX: std::cell::Cell<Option<Ctx>> = const { std::cell::Cell::new(None) };
}

pub fn ctx() -> Ctx {
    CTX.with(|c| c.get())
        .expect("the application state is set when the app starts")
}

/// A translated string that follows the language switch.
pub fn tr(key: &'static str) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = ctx().lang;
    move || i18n::t(lang.get(), key)
}

/// The translation of `key` now, for event handlers and messages made once (it does not follow a
/// later switch of language).
pub fn text(key: &str) -> &'static str {
    i18n::t(ctx().lang.get_untracked(), key)
}

pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

impl Ctx {
    /// Signed in (or switched account): the token is kept across reloads.
    pub fn start_session(self, session: Session) {
        if let Some(s) = storage() {
            let _ = s.set_item(TOKEN, &session.token);
        }
        self.identity.set(Some(session.identity));
        self.expired.set(false);
        self.token.set(Some(session.token));
    }

    /// Forgets the session here: signed out (`expired` false) or refused by the server (true,
    /// which the sign-in page says). Signing out forgets the operator's own token too.
    pub fn end_session(self, expired: bool) {
        if let Some(s) = storage() {
            let _ = s.remove_item(TOKEN);
            if !expired {
                let _ = s.remove_item(OPERATOR_TOKEN);
            }
        }
        self.identity.set(None);
        self.expired.set(expired);
        self.token.set(None);
    }

    /// The operator's own token, kept while they act as the root of an account.
    pub fn operator_token(self) -> Option<String> {
        stored(OPERATOR_TOKEN)
    }

    /// The operator acts as an account's root: their own token is kept to come back. The page
    /// shown stays, and is built again with the account's resources ([`App`] rebuilds the page
    /// when the token changes).
    pub fn assume(self, session: Session) {
        if let (Some(s), Some(current)) = (storage(), self.token.get_untracked()) {
            let _ = s.set_item(OPERATOR_TOKEN, &current);
        }
        self.start_session(session);
    }

    /// Back to the operator's own session, on the same page; who they are is asked again (by the
    /// effect that watches the token in [`App`]).
    pub fn back_to_operator(self) {
        let Some(token) = self.operator_token() else {
            return;
        };
        if let Some(s) = storage() {
            let _ = s.set_item(TOKEN, &token);
            let _ = s.remove_item(OPERATOR_TOKEN);
        }
        self.identity.set(None);
        self.token.set(Some(token));
    }

    fn load_identity(self) {
        spawn_local(async move {
            if let Ok(id) = api::run(async |sdk| sdk.whoami().await).await {
                self.identity.set(Some(id));
            }
        });
    }
}

/// Shows the page the address names. An address naming none (`/`, `#/nope`) is replaced by
/// Home's, without a new history entry, so that the address names the page shown.
fn follow_address(c: Ctx) {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return;
    };
    let page = Page::from_hash(&location.hash().unwrap_or_default()).unwrap_or_else(|| {
        let _ = location.replace(&Page::Home.hash());
        Page::Home
    });
    // Setting the same page again would rebuild it (and reload its lists) for nothing.
    if c.page.get_untracked() != page {
        c.page.set(page);
    }
}

#[component]
pub fn App() -> impl IntoView {
    let c = Ctx {
        lang: RwSignal::new(
            stored(LANG)
                .map(|l| Lang::from_code(&l))
                .unwrap_or_default(),
        ),
        token: RwSignal::new(stored(TOKEN)),
        page: RwSignal::new(Page::Home),
        identity: RwSignal::new(None),
        expired: RwSignal::new(false),
    };
    CTX.with(|cell| cell.set(Some(c)));
    follow_address(c);
    // The application lives as long as the document: the listener is never removed.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| follow_address(c));
    Effect::new(move |_| {
        let lang = c.lang.get();
        if let Some(s) = storage() {
            let _ = s.set_item(LANG, lang.code());
        }
        if let Some(doc) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = doc.set_attribute("lang", lang.code());
        }
    });
    // A token from an earlier visit: who is it? (An expired one leads back to sign-in.)
    Effect::new(move |_| {
        if c.token.get().is_some() && c.identity.get_untracked().is_none() {
            c.load_identity();
        }
    });
    view! {
        <Show when=move || c.token.get().is_some() fallback=|| view! { <SignIn/> }>
            <Header/>
            <main>
                // Each page owns its signals and tasks; switching page disposes the old one, and
                // so does a new session (another account, back to the operator): the token is
                // read here, so the page is built again with that session's resources. Signed
                // out: the sign-in page replaces this one, and none is built meanwhile.
                {move || match (c.token.with(Option::is_some), c.page.get()) {
                    (false, _) => ().into_any(),
                    (true, Page::Home) => view! { <Home/> }.into_any(),
                    (true, Page::Iam) => view! { <Iam/> }.into_any(),
                    (true, Page::Network) => view! { <Network/> }.into_any(),
                    (true, Page::Instances) => view! { <Instances/> }.into_any(),
                    (true, Page::Storage) => view! { <Storage/> }.into_any(),
                    (true, Page::Billing(v)) => view! { <Billing view=v/> }.into_any(),
                    (true, Page::Apps(v)) => view! { <Apps view=v/> }.into_any(),
                }}
            </main>
        </Show>
    }
}
