//! The running month's estimate: accrued so far, the hourly rate of what runs now, the forecast
//! to the month's end, and a live meter. The estimate is asked every few seconds; between two
//! answers the meter moves on by itself at the hourly rate on the account's clock (3600× on a
//! demo clock), so it ticks smoothly while resources run and stands still when nothing does.

use leptos::prelude::*;
use nuvem_api::billing::{Estimate, RunningResource};

use super::Metering;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{Loaded, ResourceTable, Scope};
use crate::model::billing::{approx, meter, money};

/// How often the server's exact figures replace the meter's own.
const ESTIMATE_POLL_MS: u32 = 3000;
/// How often the meter moves between two answers.
const TICK_MS: u32 = 200;

/// The browser's clock, in milliseconds.
fn real_now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn Meter(m: Metering) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let estimate = RwSignal::new(None::<Result<Estimate, String>>);
    let running = RwSignal::<Loaded<RunningResource>>::new(None);
    // When the estimate shown was answered, and now, on the browser's clock.
    let answered_ms = RwSignal::new(0.0_f64);
    let now_ms = RwSignal::new(0.0_f64);
    scope.poll(ESTIMATE_POLL_MS, move || async move {
        let answer = api::load(async |sdk| sdk.get_estimate(&Default::default()).await).await;
        match answer {
            Ok(e) => {
                m.saw(e.demo_clock.clone());
                let _ = running.try_set(Some(Ok(e.running.clone())));
                let _ = answered_ms.try_set(real_now_ms());
                let _ = estimate.try_set(Some(Ok(e)));
            }
            // A failed poll keeps the last figures; only a first failure is shown.
            Err(e) if estimate.try_get_untracked().flatten().is_none() => {
                let _ = running.try_set(Some(Err(e.clone())));
                let _ = estimate.try_set(Some(Err(e)));
            }
            Err(_) => {}
        }
    });
    scope.poll(TICK_MS, move || async move {
        let _ = now_ms.try_set(real_now_ms());
    });
    let live = move || {
        let e = estimate.get()?.ok()?;
        let (factor, paused) = m.clock.get().map_or((1, false), |k| (k.factor, k.paused));
        let value = meter(
            approx(e.accrued),
            approx(e.hourly_rate),
            now_ms.get() - answered_ms.get(),
            factor,
            paused,
        );
        // Shown with the bill's four places; the next answer is the exact figure.
        let amount = rust_decimal::Decimal::from_f64_retain(value).unwrap_or(e.accrued);
        Some(money(c.lang.get(), e.currency, amount, 4))
    };
    let figure = move |pick: fn(&Estimate) -> rust_decimal::Decimal, decimals: u32| {
        move || {
            estimate
                .get()
                .and_then(Result::ok)
                .map(|e| money(c.lang.get(), e.currency, pick(&e), decimals))
                .unwrap_or_else(|| "—".to_owned())
        }
    };
    let row = move |r: RunningResource| {
        let currency = estimate
            .get_untracked()
            .and_then(Result::ok)
            .map(|e| e.currency)
            .unwrap_or(nuvem_api::billing::Currency::Usd);
        // The macro builds the children before the attributes: the key is taken first.
        let key = r.resource_id.clone();
        view! {
            <tr data-resource=key>
                <td>{r.service}</td>
                <td>{r.resource_type}</td>
                <td class="id"><code>{r.resource_id}</code></td>
                <td>{r.usage_type}</td>
                <td class="num">{move || money(c.lang.get(), currency, r.hourly_rate, 4)}"/h"</td>
            </tr>
        }
    };
    view! {
        <h2>{tr("bill.estimate")}</h2>
        {move || estimate.get().and_then(Result::err).map(|e| view! { <p class="error" id="estimate-error">{e}</p> })}
        <div class="stats meter" id="estimate">
            <div class="stat live"><span class="n" id="meter">{move || live().unwrap_or_else(|| "—".to_owned())}</span>
                <span>{tr("bill.meter")}</span></div>
            <div class="stat"><span class="n" id="accrued">{figure(|e| e.accrued, 4)}</span><span>{tr("bill.accrued")}</span></div>
            <div class="stat"><span class="n" id="hourly-rate">{figure(|e| e.hourly_rate, 4)}</span><span>{tr("bill.hourly_rate")}</span></div>
            <div class="stat"><span class="n" id="forecast">{figure(|e| e.forecast, 2)}</span><span>{tr("bill.forecast")}</span></div>
        </div>
        <h3>{tr("bill.running")}</h3>
        <ResourceTable id="running" cols=5 items=running row=row>
            <th>{tr("bill.service")}</th><th>{tr("bill.resource_type")}</th><th>{tr("bill.resource")}</th>
            <th>{tr("bill.usage_type")}</th><th>{tr("bill.hourly_rate")}</th>
        </ResourceTable>
    }
}
