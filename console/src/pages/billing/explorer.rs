//! The cost explorer: the running month's bill as cost per day stacked by service (an inline
//! SVG, worked out client-side from the line items), the totals per service, the line items
//! (exportable as CSV and JSON), and what each resource reserved against what it used.

use leptos::prelude::*;
use nuvem_api::billing::{Bill, Currency, LineItem, ResourceUsage};

use super::Metering;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{Bar, Loaded, ResourceTable, Scope};
use crate::i18n;
use crate::model::billing::{
    CHART_HEIGHT, CHART_WIDTH, cost_per_day, money, service_colour, services, stacked,
};
use crate::model::data_url;

/// How often the bill and the usage are asked again: on a demo clock a day passes in seconds.
const BILL_POLL_MS: u32 = 5000;
/// Room under the bars for the days' numbers.
const AXIS: f64 = 22.0;

#[component]
pub fn Explorer(m: Metering) -> impl IntoView {
    let scope = Scope::current();
    let bill = RwSignal::new(None::<Result<Bill, String>>);
    let items = RwSignal::<Loaded<LineItem>>::new(None);
    let usage = RwSignal::<Loaded<ResourceUsage>>::new(None);
    scope.poll(BILL_POLL_MS, move || async move {
        match api::load(async |sdk| sdk.get_bill(&Default::default()).await).await {
            Ok(b) => {
                m.saw(b.demo_clock.clone());
                let _ = items.try_set(Some(Ok(b.line_items.clone())));
                let _ = bill.try_set(Some(Ok(b)));
            }
            Err(e) if bill.try_get_untracked().flatten().is_none() => {
                let _ = items.try_set(Some(Err(e.clone())));
                let _ = bill.try_set(Some(Err(e)));
            }
            Err(_) => {}
        }
        match api::load(async |sdk| sdk.get_usage(&Default::default()).await).await {
            Ok(u) => {
                m.saw(u.demo_clock.clone());
                let _ = usage.try_set(Some(Ok(u.items)));
            }
            Err(e) if usage.try_get_untracked().flatten().is_none() => {
                let _ = usage.try_set(Some(Err(e)));
            }
            Err(_) => {}
        }
    });
    let loaded = move || bill.get().and_then(Result::ok);
    view! {
        <h2>{tr("bill.per_day")}</h2>
        {move || match bill.get() {
            None => view! { <p>{tr("common.loading")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
            Some(Ok(b)) => view! { <Chart bill=b/> }.into_any(),
        }}
        {move || loaded().map(|b| view! { <Totals bill=b/> })}
        <h2>{tr("bill.line_items")}</h2>
        <LineItems items=items bill=bill/>
        <h2>{tr("bill.reserved_used")}</h2>
        <p>{tr("bill.reserved_used_intro")}</p>
        <ReservedUsed usage=usage/>
    }
}

/// Cost per day, stacked by service, with a legend of the services' colours.
#[component]
fn Chart(bill: Bill) -> impl IntoView {
    let c = ctx();
    let names = services(&bill);
    let days = cost_per_day(&bill);
    let highest = days.iter().map(|d| d.total()).fold(0.0, f64::max);
    let currency = bill.currency;
    let top = move || {
        let d = rust_decimal::Decimal::from_f64_retain(highest).unwrap_or_default();
        money(c.lang.get(), currency, d, 4)
    };
    let columns = days.len().max(1) as f64;
    let labels = days
        .iter()
        .filter(|d| d.day == 1 || d.day % 5 == 0)
        .map(|d| {
            let x = (f64::from(d.day) - 0.5) * CHART_WIDTH / columns;
            view! { <text x=format!("{x:.1}") y=format!("{:.1}", CHART_HEIGHT + AXIS - 6.0) text-anchor="middle" class="axis">{d.day}</text> }
        })
        .collect_view();
    let bars = stacked(&days)
        .into_iter()
        .map(|s| {
            let service = names.get(s.service).cloned().unwrap_or_default();
            view! {
                <rect x=format!("{:.2}", s.x) y=format!("{:.2}", s.y) width=format!("{:.2}", s.width)
                    height=format!("{:.2}", s.height) fill=service_colour(s.service)
                    data-day=s.day data-service=service/>
            }
        })
        .collect_view();
    // The swatch's colour through `style:` (the CSSOM): the server's Content-Security-Policy
    // refuses inline `style` attributes.
    let legend = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            view! { <span class="key"><span class="swatch" style:background=service_colour(i)></span>{n.clone()}</span> }
        })
        .collect_view();
    let view_box = format!("0 0 {CHART_WIDTH} {}", CHART_HEIGHT + AXIS);
    view! {
        <figure class="chart" id="cost-chart" data-month=bill.month.clone()>
            <figcaption>{tr("bill.highest_day")}" "<strong>{top}</strong>" · "{bill.month.clone()}</figcaption>
            <svg viewBox=view_box role="img">
                <line x1="0" y1=format!("{CHART_HEIGHT}") x2=format!("{CHART_WIDTH}") y2=format!("{CHART_HEIGHT}") class="baseline"/>
                {bars}
                {labels}
            </svg>
            <div class="legend" id="cost-legend">{legend}</div>
        </figure>
    }
}

/// The month's total and each service's share, with the bill's status (an estimate until the
/// month ends) and its exports.
#[component]
fn Totals(bill: Bill) -> impl IntoView {
    let c = ctx();
    let currency = bill.currency;
    let total = bill.total;
    let is_final = bill.status == "final";
    let status = move || {
        if is_final {
            tr("bill.final")()
        } else {
            tr("bill.estimate_status")()
        }
    };
    let csv = data_url("text/csv", &nuvem_api::billing::bill_csv(&bill));
    let json = data_url(
        "application/json",
        &serde_json::to_string_pretty(&bill).unwrap_or_default(),
    );
    let file = format!("nuvem-bill-{}-{}", bill.account, bill.month);
    let by_service = bill
        .by_service
        .iter()
        .map(|s| {
            let (name, key, amount) = (s.service.clone(), s.service.clone(), s.amount);
            view! { <span class="pill" data-service=key>{name}" "{move || money(c.lang.get(), currency, amount, 4)}</span> " " }
        })
        .collect_view();
    view! {
        <p id="bill-total">
            <strong>{tr("bill.total")}": "<span id="bill-total-amount">{move || money(c.lang.get(), currency, total, 4)}</span></strong>
            " ("{status}") "
            {by_service}
        </p>
        <p class="exports">
            <a class="button" id="bill-csv" href=csv download=format!("{file}.csv")>{tr("bill.csv")}</a>" "
            <a class="button" id="bill-json" href=json download=format!("{file}.json")>{tr("bill.json")}</a>
        </p>
    }
}

#[component]
fn LineItems(
    items: RwSignal<Loaded<LineItem>>,
    bill: RwSignal<Option<Result<Bill, String>>>,
) -> impl IntoView {
    let c = ctx();
    let currency = move || {
        bill.get_untracked()
            .and_then(Result::ok)
            .map_or(Currency::Usd, |b| b.currency)
    };
    let row = move |i: LineItem| {
        let cur = currency();
        let lang = c.lang;
        // The macro builds the children before the attributes: the key is taken first.
        let key = i.resource_id.clone();
        view! {
            <tr data-resource=key>
                <td>{i.service}</td>
                <td class="id"><code>{i.resource_id}</code></td>
                <td>{i.usage_type}</td>
                <td class="id">{i.sku}</td>
                <td class="num">{move || i18n::localize(lang.get(), &i.quantity.round_dp(4).to_string())}" "{i.unit}</td>
                <td class="num">{move || money(lang.get(), cur, i.unit_price, 4)}</td>
                <td class="num"><strong>{move || money(lang.get(), cur, i.amount, 4)}</strong></td>
            </tr>
        }
    };
    view! {
        <ResourceTable id="line-items" cols=7 items=items row=row>
            <th>{tr("bill.service")}</th><th>{tr("bill.resource")}</th><th>{tr("bill.usage_type")}</th>
            <th>"SKU"</th><th>{tr("bill.quantity")}</th><th>{tr("bill.unit_price")}</th><th>{tr("bill.amount")}</th>
        </ResourceTable>
    }
}

/// Reserved vCPUs against the average used, per resource, as bars: the measured service.
#[component]
fn ReservedUsed(usage: RwSignal<Loaded<ResourceUsage>>) -> impl IntoView {
    let c = ctx();
    let row = move |u: ResourceUsage| {
        // Hundredths of a vCPU, so that the bar shows 0.4 of 2.
        let used = u
            .used_vcpus_average
            .map(|v| (v * 100.0).round().max(0.0) as u64);
        let reserved = u.reserved_vcpus;
        let hours = u.running_seconds as f64 / 3600.0;
        let figures = move || {
            let lang = c.lang.get();
            match u.used_vcpus_average {
                Some(v) => format!(
                    "{} / {reserved} vCPU {}",
                    i18n::number(lang, v, 2),
                    tr("bill.used_of_reserved")()
                ),
                None => format!("? / {reserved} vCPU — {}", tr("bill.not_sampled")()),
            }
        };
        view! {
            <tr data-resource=u.resource_id.clone()>
                <td class="id"><code>{u.resource_id.clone()}</code></td>
                <td class="num">{move || i18n::number(c.lang.get(), hours, 2)}" h"</td>
                <td><Bar id=format!("usage-{}", u.resource_id) used=used.unwrap_or(0) total=u64::from(reserved) * 100 figures=figures/></td>
                <td class="num">{u.samples}</td>
            </tr>
        }
    };
    view! {
        <ResourceTable id="reserved-used" cols=4 items=usage row=row>
            <th>{tr("bill.resource")}</th><th>{tr("bill.ran")}</th><th>{tr("bill.used_vcpus")}</th><th>{tr("bill.samples")}</th>
        </ResourceTable>
    }
}
