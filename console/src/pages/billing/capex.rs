//! The CapEx/OpEx calculator: what owning a server would cost per month (its price spread over
//! its lifetime, and its power) next to what renting cost this account this month, how much of
//! that server the account's usage would fill, and where the two cost the same.

use leptos::prelude::*;
use nuvem_api::billing::CapexComparison;

use super::budgets::bad_field;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Scope};
use crate::i18n;
use crate::model::billing::{CapexForm, bar_widths, capex_request, money};

#[component]
pub fn Capex() -> impl IntoView {
    let scope = Scope::current();
    // A small rack server, so that a lecture can press Compare at once.
    let price = RwSignal::new("4000".to_owned());
    let lifetime = RwSignal::new("36".to_owned());
    let watts = RwSignal::new("350".to_owned());
    let kwh = RwSignal::new("0.15".to_owned());
    let vcpus = RwSignal::new("32".to_owned());
    let cur = RwSignal::new("USD".to_owned());
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<CapexComparison>);
    let compare = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let form = CapexForm {
            currency: cur.get(),
            purchase_price: price.get(),
            lifetime_months: lifetime.get(),
            power_watts: watts.get(),
            electricity_price_per_kwh: kwh.get(),
            server_vcpus: vcpus.get(),
        };
        let req = match capex_request(&form) {
            Ok(r) => r,
            Err(f) => return error.set(Some(bad_field(f).to_owned())),
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.capex(&req).await).await {
                Ok(r) => result.set(Some(r)),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h2>{tr("capex.title")}</h2>
        <p>{tr("capex.intro")}</p>
        <form id="capex-form" on:submit=compare>
            <div class="grid">
                <Field id="capex-price" label=tr("capex.purchase_price") value=price/>
                <Field id="capex-lifetime" label=tr("capex.lifetime") value=lifetime/>
                <Field id="capex-watts" label=tr("capex.watts") value=watts/>
                <Field id="capex-kwh" label=tr("capex.kwh") value=kwh/>
                <Field id="capex-vcpus" label=tr("capex.vcpus") value=vcpus/>
                <div class="field"><label for="capex-currency">{tr("bill.currency")}</label>
                    <select id="capex-currency" on:change=move |ev| cur.set(event_target_value(&ev))>
                        <option value="USD">"USD"</option>
                        <option value="BRL">"BRL"</option>
                    </select></div>
            </div>
            <ErrorLine error=error id="capex-error"/>
            <button id="capex-compare" type="submit">{tr("capex.compare")}</button>
        </form>
        {move || result.get().map(|r| view! { <Comparison r=r/> })}
    }
}

/// Owning against renting, per month, as two bars, with the figures behind them.
#[component]
fn Comparison(r: CapexComparison) -> impl IntoView {
    let c = ctx();
    let cur = r.currency;
    let (own_w, rent_w) = bar_widths(r.owning_per_month, r.renting_per_month);
    // Widths through `style:` (the CSSOM): the server's Content-Security-Policy refuses inline
    // `style` attributes.
    let m = move |d| money(c.lang.get(), cur, d, 2);
    let (own, rent, depreciation, power, vcpu_hours) = (
        r.owning_per_month,
        r.renting_per_month,
        r.owning_depreciation_per_month,
        r.owning_power_per_month,
        r.reserved_vcpu_hours,
    );
    let utilization = r.utilization_percent;
    let break_even = r.break_even_utilization_percent;
    let ratio = r.renting_to_owning_ratio;
    let verdict = move || {
        let lang = c.lang.get();
        if ratio < 1.0 {
            format!(
                "{} {} % {}",
                tr("capex.renting_cheaper")(),
                i18n::number(lang, ratio * 100.0, 0),
                tr("capex.of_owning")()
            )
        } else {
            tr("capex.owning_cheaper")().to_owned()
        }
    };
    view! {
        <div class="detail" id="capex-result" data-month=r.month.clone()>
            <h3>{tr("capex.per_month")}" — "{r.month.clone()}</h3>
            <div class="hbars">
                <div class="hbar-row" id="capex-owning">
                    <span class="hbar-label">{tr("capex.owning")}</span>
                    <span class="hbar"><span class="fill own" style:width=format!("{own_w:.1}%")></span></span>
                    <span class="figures">{move || m(own)}</span>
                </div>
                <div class="hbar-row" id="capex-renting">
                    <span class="hbar-label">{tr("capex.renting")}</span>
                    <span class="hbar"><span class="fill rent" style:width=format!("{rent_w:.1}%")></span></span>
                    <span class="figures">{move || m(rent)}</span>
                </div>
            </div>
            <p>{tr("capex.owning_split")}": "{move || m(depreciation)}" + "{move || m(power)}</p>
            <p id="capex-utilization"><strong>{tr("capex.utilization")}": "</strong>
                {move || i18n::number(c.lang.get(), utilization, 1)}" % ("
                {move || i18n::number(c.lang.get(), crate::model::billing::approx(vcpu_hours), 1)}" "{tr("capex.vcpu_hours")}")"</p>
            <p id="capex-break-even"><strong>{tr("capex.break_even")}": "</strong>
                {move || break_even.map_or_else(|| "—".to_owned(), |b| format!("{} %", i18n::number(c.lang.get(), b, 1)))}</p>
            <p class="verdict" id="capex-verdict" title=r.verdict.clone()><strong>{verdict}</strong></p>
        </div>
    }
}
