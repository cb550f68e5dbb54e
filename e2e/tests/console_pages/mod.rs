//! The console's pages and how the test moves between them: which element shows each page, the
//! wait for a page (address, active tab and page shown agree), and the routing and session-change
//! walks over all of them. Only `console.rs` uses it.

use std::time::{Duration, Instant};

use crate::browser::*;
use serde_json::json;

/// The pages, as the address names them, and an element only that page shows (one the console
/// had before pages said `data-page`, so that this test also reads older builds).
const PAGES: [(&str, &str); 5] = [
    ("home", "#home-title"),
    ("iam", "#users"),
    ("network", "#vpcs"),
    ("instances", "#launch-form"),
    ("billing", "#billing-views"),
];

impl Browser {
    /// Waits until the page `name` is shown, the address names it, and exactly one tab is active:
    /// its own.
    pub async fn at(&self, name: &str) {
        let shown_by = PAGES.iter().find(|(p, _)| *p == name).unwrap().1;
        let selectors: Vec<&str> = PAGES.iter().map(|(_, css)| *css).collect();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let state = self
                .c
                .execute(
                    "return {hash: location.hash, \
                     active: [...document.querySelectorAll('header nav a.active')].map(a => a.getAttribute('href')), \
                     shown: arguments[0].filter(css => document.querySelector(css))}",
                    vec![json!(selectors)],
                )
                .await
                .unwrap();
            let want = format!("#/{name}");
            if state["hash"] == want.as_str()
                && state["active"] == json!([want])
                && state["shown"] == json!([shown_by])
            {
                return;
            }
            if Instant::now() > deadline {
                shot(&self.c, "failure").await;
                panic!(
                    "expected page {name}: the address, the one active tab and the page shown \
                     (hash, active tabs, pages shown) are {state}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Follows the tab of page `name`.
    pub async fn go(&self, name: &str) {
        click(&self.c, &format!("#nav-{name}")).await;
        self.at(name).await;
    }
}

/// Every page from every other page by its tab, Back and Forward through them, and an address
/// naming no page.
pub async fn routing_follows_the_browser(b: &Browser, url: &str) {
    for (from, _) in PAGES {
        for (to, _) in PAGES.iter().filter(|(p, _)| *p != from) {
            b.go(from).await;
            b.go(to).await;
        }
    }
    // The Instances page polls: leaving it must end its polling quietly.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    b.log_is_clean("going from every page to every other", &[])
        .await;

    for (p, _) in PAGES {
        b.go(p).await;
    }
    for p in ["instances", "network", "iam", "home"] {
        b.c.back().await.unwrap();
        b.at(p).await;
    }
    for p in ["iam", "network"] {
        b.c.forward().await.unwrap();
        b.at(p).await;
    }
    // A home card is a link to its page's address too.
    b.go("home").await;
    click(&b.c, "a.card[href='#/instances']").await;
    b.at("instances").await;
    b.c.back().await.unwrap();
    b.at("home").await;
    // A typed address naming no page shows Home, and the address is made to say so.
    b.c.goto(&format!("{url}#/nowhere")).await.unwrap();
    b.at("home").await;
    b.log_is_clean("after Back and Forward", &[]).await;
}

/// On each page: the account switch and back, the language and back, sign-out and sign-in. The
/// page stays the one the address names, rebuilt for the session.
pub async fn every_page_survives_a_session_change(b: &Browser) {
    let c = &b.c;
    for (p, _) in PAGES {
        b.go(p).await;
        until_text(c, "#switch-account", "turma", 20).await;
        b.select("#switch-account", "turma").await;
        until_text(c, "#who", "root@turma", 20).await;
        b.at(p).await;
        click(c, "#switch-back").await;
        until_text(c, "#who", "root@admin", 20).await;
        b.at(p).await;

        b.select("#lang", "pt-BR").await;
        until_text(c, "#nav-home", "Início", 10).await;
        b.at(p).await;
        b.select("#lang", "en").await;
        until_text(c, "#nav-home", "Home", 10).await;
        b.at(p).await;

        b.sign_out().await;
        b.sign_in().await;
        b.at(p).await;
        b.log_is_clean(
            &format!("switching account, language and session on {p}"),
            &[],
        )
        .await;
    }
}
