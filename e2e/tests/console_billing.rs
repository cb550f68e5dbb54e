//! The console's Billing pages in a real browser: headless Chromium through chromedriver against
//! the built `nuvem-server` serving the built console, on the simulated hypervisor and network
//! (so it needs no root, libvirt or guest image; metering is the same code either way).
//!
//! The operator opens Billing (the estimate, the price list, a price change announced with the
//! form, a refused one), sets a 3600× demo clock for a class account with the clock control, and
//! acts as that account: the demo banner shows, an instance launched from the console makes the
//! live meter tick between two answers of the estimate, the cost chart, the line items and the
//! reserved-against-used bars fill; a budget set through the form (after the form and the server
//! refuse bad thresholds) raises its alerts as the meter runs; the CapEx/OpEx calculator compares
//! owning and renting. Then the same in Português, and leaving Billing ends its polling quietly.
//! The browser's log is read after every step. Screenshots of the cost explorer, budgets and
//! calculator are saved in `e2e/artifacts/` (`docs/images/` keeps copies for `docs/console.md`).

mod browser;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use browser::*;
use fantoccini::{Client, Locator};

const POOL: &str = "10.126.0.0/16";

/// An image the simulated hypervisor boots: its files only have to exist.
fn simulated_image(dir: &Path) {
    let image = dir.join("nuvem-tiny");
    std::fs::create_dir_all(&image).unwrap();
    std::fs::write(
        image.join("image.json"),
        r#"{"name": "nuvem-tiny", "format": "kernel-initrd"}"#,
    )
    .unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::write(image.join(f), b"simulated").unwrap();
    }
}

/// `$1,234.5678` → 1234.5678.
fn amount(shown: &str) -> f64 {
    let digits: String = shown
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not an amount: {shown:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built console: run infra/test.sh"]
async fn billing_in_a_real_browser() {
    let Some(console) = needs("the billing console test", built_console()) else {
        return;
    };
    let images = tempfile::tempdir().unwrap();
    simulated_image(images.path());
    let images_dir = images.path().display().to_string();
    let server = ConsoleServer::start(POOL, &console, &["--images-dir", &images_dir]);
    let (cli, url) = (&server.cli, &server.url);
    let made = cli.run(
        &["account", "create", "turma", "--root-password-stdin"],
        Some("turma-password"),
    );
    assert!(made.status.success(), "{made:?}");

    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(port, profile.path()).await;
    let c = &b.c;
    c.goto(url).await.unwrap();
    b.sign_in().await;

    // The Billing tab; the operator's own account runs on real time: no banner.
    click(c, "#nav-billing").await;
    until_text(c, "#billing-title", "Billing", 20).await;
    until_text(c, "#accrued", "$", 20).await;
    until_text(c, "#clock-control", "Demo clock", 20).await;
    assert_eq!(count(c, "#demo-banner").await, 0, "real time has no banner");
    b.log_is_clean("on Billing", &[]).await;

    prices_and_a_change(&b).await;

    // A 3600× demo clock for the class account, from the operator's control.
    billing_view(c, "costs").await;
    fill(c, "#clock-account", "turma").await;
    fill(c, "#clock-factor", "3600").await;
    click(c, "#clock-set").await;
    until_text(c, "#clock-result", "turma: 3600×", 20).await;
    assert_eq!(
        count(c, "#demo-banner").await,
        0,
        "only turma's clock runs fast"
    );

    // As turma: the banner, and an instance that runs.
    until_text(c, "#switch-account", "turma", 20).await;
    b.select("#switch-account", "turma").await;
    until_text(c, "#who", "root@turma", 20).await;
    until_text(c, "#demo-banner", "DEMO CLOCK 3600×", 20).await;
    assert_eq!(
        count(c, "#clock-control").await,
        0,
        "the clock is the operator's"
    );
    click(c, "#nav-instances").await;
    until_text(c, "#image", "nuvem-tiny", 20).await;
    fill(c, "#launch-name", "meter-1").await;
    click(c, "#launch").await;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("span[data-state='running']"))
        .await
        .expect("the instance reached running");
    b.log_is_clean("launching as turma", &[]).await;

    live_meter_and_cost_explorer(&b).await;
    budget_through_the_form(&b).await;
    capex_comparison(&b).await;
    cost_explorer_after_a_few_days(&b).await;

    // Português: the tab, the banner and the calculator.
    b.select("#lang", "pt-BR").await;
    until_text(c, "#nav-billing", "Custos", 10).await;
    until_text(c, "#demo-banner", "RELÓGIO DE DEMONSTRAÇÃO 3600×", 10).await;
    until_text(c, "#demo-banner", "não é uma conta real", 10).await;
    billing_view(c, "capex").await;
    until_text(c, "#capex-compare", "Comparar", 10).await;
    click(c, "#capex-compare").await;
    until_text(c, "#capex-verdict", "mais barato", 20).await;
    until_text(c, "#billing-budgets", "Orçamentos", 10).await;
    b.select("#lang", "en").await;
    until_text(c, "#nav-billing", "Billing", 10).await;

    // Leaving Billing ends its polling: a poll after it would panic on a disposed signal.
    click(c, "#nav-home").await;
    until_text(c, "#home-title", "Services", 20).await;
    tokio::time::sleep(Duration::from_millis(6000)).await;
    b.log_is_clean("after leaving Billing", &[]).await;

    // Back to the operator: real time again, no banner.
    click(c, "#switch-back").await;
    until_text(c, "#who", "root@admin", 20).await;
    click(c, "#nav-billing").await;
    until_text(c, "#accrued", "$", 20).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(count(c, "#demo-banner").await, 0);
    b.log_is_clean("at the end", &[]).await;
    b.c.clone().close().await.unwrap();
}

/// The catalog as a table; a price change announced for later (scheduled, not in force) through
/// the operator's form, and a negative price refused by the server with its message.
/// Opens one view of Billing and waits until the page shown is that view: until then the
/// previous view's form (the clock's, for one) is still there, and typing into it is lost.
async fn billing_view(c: &Client, view: &str) {
    click(c, &format!("#billing-{view}")).await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("#page-billing[data-view='{view}']")))
        .await
        .unwrap_or_else(|e| panic!("the {view} view never opened: {e}"));
}

async fn prices_and_a_change(b: &Browser) {
    let c = &b.c;
    billing_view(c, "prices").await;
    until_text(c, "#prices", "ec2.instance.t3.nano", 20).await;
    let nano = text(c, "#prices tr[data-sku='ec2.instance.t3.nano']").await;
    assert!(nano.contains("hour") && nano.contains('$'), "{nano}");
    until_text(c, "#prices-scheduled", "Nothing here yet", 20).await;
    until_text(c, "#price-sku", "ec2.disk", 20).await;
    b.select("#price-sku", "ec2.instance.t3.small").await;
    fill(c, "#price-value", "-1").await;
    click(c, "#price-save").await;
    until_text(c, "#price-error", "InvalidRequest", 20).await;
    b.log_is_clean("a refused price", &["status of 400"]).await;
    fill(c, "#price-value", "0,0300").await;
    // A datetime-local field takes its value as the browser would set it from its picker.
    c.execute(
        "const e = document.querySelector('#price-effective'); e.value = '2030-01-01T00:00'; \
         e.dispatchEvent(new Event('input', {bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    click(c, "#price-save").await;
    until_text(c, "#prices-scheduled", "ec2.instance.t3.small", 20).await;
    let scheduled = text(c, "#prices-scheduled").await;
    assert!(
        scheduled.contains("$0.0300") && scheduled.contains("2030-01-01 00:00"),
        "{scheduled}"
    );
    b.log_is_clean("on Prices", &[]).await;
}

/// The estimate while an instance runs on a 3600× clock: the meter moves by itself between two
/// answers, the hourly rate is the instance's, the chart, line items and usage fill.
async fn live_meter_and_cost_explorer(b: &Browser) {
    let c = &b.c;
    click(c, "#nav-billing").await;
    until_text(c, "#running", "instance", 30).await;
    let rate = amount(&text(c, "#hourly-rate").await);
    assert!(rate > 0.0, "a running instance has an hourly rate");
    // Sampled 0.6 s apart, well within one poll of the estimate (3 s): the meter moved on its
    // own; at 3600× a second of real time is an hour of the rate.
    let first = amount(&text(c, "#meter").await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = amount(&text(c, "#meter").await);
    assert!(second > first, "the meter ticks: {first} then {second}");
    until_text(c, "#line-items", "ec2", 30).await;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#cost-chart rect[data-service='ec2']"))
        .await
        .expect("the chart has a bar of ec2");
    until_text(c, "#cost-legend", "ec2", 10).await;
    until_text(c, "#reserved-used", "vCPU", 30).await;
    let total = amount(&text(c, "#bill-total-amount").await);
    assert!(total > 0.0, "the bill has grown");
    let csv = c
        .find(Locator::Css("#bill-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(csv.starts_with("data:text/csv"), "{csv}");
    b.log_is_clean("on the cost explorer", &[]).await;
}

/// Back on the cost explorer after the other views: the demo clock ran meanwhile (a metered day
/// every 24 s), so the chart has a few days of bars, for its screenshot.
async fn cost_explorer_after_a_few_days(b: &Browser) {
    let c = &b.c;
    billing_view(c, "costs").await;
    // Bars on three days of the month, whichever they are: the demo clock starts on today's
    // date (a wait for day 3 itself failed from the 4th of a month on). 60 s leaves room for a
    // run that crosses into a new month, whose chart starts again from day 1.
    let days = chart_days_at_least(c, 3, 60).await;
    assert!(
        days.len() >= 3,
        "the chart has three days of bars: {days:?}"
    );
    until_text(c, "#line-items", "running", 20).await;
    // Taller than the other steps need, so that the screenshot holds the meter and the chart.
    c.set_window_size(1280, 1250).await.unwrap();
    shot_at(c, "#page-billing", "billing-costs").await;
    c.set_window_size(1280, 900).await.unwrap();
    b.log_is_clean("back on the cost explorer", &[]).await;
}

/// No budget yet; thresholds refused by the form (not numbers) and by the server (out of
/// order); a small budget set, whose alerts fire as the demo clock runs. The hard limit warns.
async fn budget_through_the_form(b: &Browser) {
    let c = &b.c;
    billing_view(c, "budgets").await;
    until_text(c, "#budget-none", "No budget", 20).await;
    // The API says "no budget" with a 404, which the browser logs.
    b.log_is_clean("without a budget", &["status of 404"]).await;
    fill(c, "#budget-thresholds-field", "half").await;
    click(c, "#budget-save").await;
    until_text(c, "#budget-error", "whole percentages", 10).await;
    fill(c, "#budget-thresholds-field", "80, 50").await;
    click(c, "#budget-save").await;
    until_text(c, "#budget-error", "InvalidRequest", 20).await;
    b.log_is_clean("refused thresholds", &["status of 400"])
        .await;
    click(c, "#budget-hard").await;
    until_text(c, "#budget-hard-warning", "stopped", 10).await;
    click(c, "#budget-hard").await;
    assert_eq!(count(c, "#budget-hard-warning").await, 0);
    fill(c, "#budget-amount-field", "0.50").await;
    fill(c, "#budget-thresholds-field", "50, 80, 100").await;
    click(c, "#budget-save").await;
    until_text(c, "#budget-amount", "$0.50", 20).await;
    assert_eq!(text(c, "#budget-thresholds").await, "50 % · 80 % · 100 %");
    until_text(c, "#budget-hard-limit", "Alerts only", 10).await;
    until_text(c, "#budget-used", "%", 10).await;
    let bar = c.find(Locator::Css("#budget-used progress")).await.unwrap();
    assert_eq!(bar.attr("max").await.unwrap().as_deref(), Some("100"));
    // At 3600× the instance spends an hour's price each second: the first alert comes soon.
    until_text(c, "#budget-alerts", "50 %", 120).await;
    until_text(c, "#budget-alerts", "alert", 10).await;
    c.set_window_size(1280, 1250).await.unwrap();
    shot_at(c, "#page-billing", "billing-budgets").await;
    c.set_window_size(1280, 900).await.unwrap();
    b.log_is_clean("on Budgets", &[]).await;
}

/// The calculator: a whole number refused by the form, then owning against renting as two bars.
async fn capex_comparison(b: &Browser) {
    let c = &b.c;
    billing_view(c, "capex").await;
    fill(c, "#capex-lifetime", "long").await;
    click(c, "#capex-compare").await;
    until_text(c, "#capex-error", "whole number of months", 10).await;
    fill(c, "#capex-lifetime", "36").await;
    click(c, "#capex-compare").await;
    until_text(c, "#capex-verdict", "cheaper", 20).await;
    until_text(c, "#capex-owning", "$", 10).await;
    until_text(c, "#capex-renting", "$", 10).await;
    until_text(c, "#capex-utilization", "%", 10).await;
    assert_eq!(count(c, "#capex-result .hbar .fill").await, 2);
    // The bars' widths are set through the CSSOM (the CSP refuses inline styles): the larger
    // amount fills its row.
    let widths = c
        .execute(
            "return [...document.querySelectorAll('#capex-result .hbar .fill')].map(e => e.style.width)",
            vec![],
        )
        .await
        .unwrap();
    assert!(widths.to_string().contains("\"100%\""), "{widths}");
    c.set_window_size(1280, 1250).await.unwrap();
    shot_at(c, "#page-billing", "billing-capex").await;
    c.set_window_size(1280, 900).await.unwrap();
    b.log_is_clean("on the calculator", &[]).await;
}

/// The days of the month the cost chart has bars on, once there are `wanted` of them (or what
/// there is after `secs`, with a screenshot in e2e/artifacts/failure.png).
async fn chart_days_at_least(c: &Client, wanted: usize, secs: u64) -> BTreeSet<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let mut days = BTreeSet::new();
        for bar in c
            .find_all(Locator::Css("#cost-chart rect[data-day]"))
            .await
            .unwrap_or_default()
        {
            if let Ok(Some(day)) = bar.attr("data-day").await {
                days.extend(day.parse::<u32>().ok());
            }
        }
        if days.len() >= wanted {
            return days;
        }
        if std::time::Instant::now() > deadline {
            shot(c, "failure").await;
            return days;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
