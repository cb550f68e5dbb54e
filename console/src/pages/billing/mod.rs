//! Billing: what this account's usage costs, metered per second. The running month's estimate
//! with a live meter, its cost per day stacked by service, its line items and what was reserved
//! against what was used (Costs); the budget and its alerts (Budgets); the price catalog
//! (Prices); the CapEx/OpEx calculator (Capex). A banner says when the account runs on a demo
//! clock, so that a bill grown in minutes is never mistaken for a real one; the operator gets the
//! clock's controls.

mod budgets;
mod capex;
mod clock;
mod explorer;
mod meter;
mod prices;

use leptos::prelude::*;
use nuvem_api::billing::{Clock, DemoClockMark};

use crate::api;
use crate::app::{ctx, tr};
use crate::components::Scope;
use crate::model::{BillingView, Page};

/// How often the account's clock is asked again: a demo clock the operator starts shows its
/// banner, and moves the meter, within this time.
const CLOCK_POLL_MS: u32 = 5000;

/// What the billing views share: the account's clock, and the demo-clock mark the last answer of
/// any view carried (a bill of a month that had a demo clock says so even once it is real time
/// again).
#[derive(Clone, Copy)]
pub struct Metering {
    pub clock: RwSignal<Option<Clock>>,
    pub mark: RwSignal<Option<DemoClockMark>>,
}

impl Metering {
    /// Keeps a view's demo-clock mark for the banner; an answer without one clears nothing
    /// another view found.
    pub fn saw(self, mark: Option<DemoClockMark>) {
        if mark.is_some() {
            let _ = self.mark.try_set(mark);
        }
    }
}

/// A view's link in the sub-navigation.
fn view_label(v: BillingView) -> &'static str {
    match v {
        BillingView::Costs => tr("bill.costs")(),
        BillingView::Budgets => tr("bill.budgets")(),
        BillingView::Prices => tr("bill.prices")(),
        BillingView::Capex => tr("bill.capex")(),
    }
}

#[component]
pub fn Billing(view: BillingView) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let m = Metering {
        clock: RwSignal::new(None),
        mark: RwSignal::new(None),
    };
    scope.poll(CLOCK_POLL_MS, move || async move {
        // A refused or failed call keeps what is shown; the banner needs no error of its own.
        if let Ok(clock) = api::run(async |sdk| sdk.get_clock(None).await).await {
            let _ = m.clock.try_set(Some(clock));
        }
    });
    let operator = move || c.identity.get().is_some_and(|i| i.is_operator);
    let shown = match view {
        BillingView::Costs => view! {
            <meter::Meter m=m/>
            <explorer::Explorer m=m/>
        }
        .into_any(),
        BillingView::Budgets => view! { <budgets::Budgets/> }.into_any(),
        BillingView::Prices => view! { <prices::Prices/> }.into_any(),
        BillingView::Capex => view! { <capex::Capex/> }.into_any(),
    };
    view! {
        <section id="page-billing" data-page="billing" data-view=view.name()>
            <clock::DemoBanner m=m/>
            <h1 id="billing-title">{tr("nav.billing")}</h1>
            <nav class="subnav" id="billing-views">
                {BillingView::ALL.into_iter().map(|v| {
                    let on = v == view;
                    let class = if on { "active" } else { "" };
                    view! {
                        <a href=Page::Billing(v).hash() id=format!("billing-{}", v.name())
                            class=class aria-current=on.then_some("page")>
                            {move || view_label(v)}
                        </a>
                    }
                }).collect_view()}
            </nav>
            {shown}
            <Show when=operator>
                <clock::ClockControl m=m/>
            </Show>
        </section>
    }
}
