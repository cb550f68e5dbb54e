//! The account's budget: its amount, this month's spending against it as a bar, the alerts its
//! thresholds raised (and what the hard limit stopped), a form to set it, and its deletion.

use leptos::prelude::*;
use nuvem_api::billing::{Budget, BudgetAlert};

use crate::api;
use crate::app::{ctx, text, tr};
use crate::components::{Bar, ErrorLine, Field, Loaded, ResourceTable, Scope, confirm_delete};
use crate::i18n;
use crate::model::billing::{BadField, budget_request, money};

/// How often the budget is asked again, while there is one: alerts fire as the meter runs.
const BUDGET_POLL_MS: u32 = 5000;

/// The message of a form field that is not what it must be.
pub fn bad_field(f: BadField) -> &'static str {
    match f {
        BadField::Thresholds => text("budget.bad_thresholds"),
        BadField::Lifetime => text("capex.bad_lifetime"),
        BadField::Watts => text("capex.bad_watts"),
        BadField::Vcpus => text("capex.bad_vcpus"),
        BadField::Effective => text("price.bad_effective"),
    }
}

/// The budget, or none when the account has none (the API's 404).
async fn load() -> Result<Option<Budget>, String> {
    api::load(async |sdk| match sdk.get_budget(None).await {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    })
    .await
}

#[component]
pub fn Budgets() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    // `None` until the first answer, then the budget, none set (`Ok(None)`), or the error.
    let budget = RwSignal::new(None::<Result<Option<Budget>, String>>);
    let alerts = RwSignal::<Loaded<BudgetAlert>>::new(None);
    let show = move |b: Result<Option<Budget>, String>| {
        let list = b.clone().map(|b| b.map(|b| b.alerts).unwrap_or_default());
        let _ = alerts.try_set(Some(list));
        let _ = budget.try_set(Some(b));
    };
    scope.poll(BUDGET_POLL_MS, move || async move {
        // Without a budget there are no alerts to follow, and each ask would be a 404 the
        // browser logs as an error: the form shows the one it sets.
        if !matches!(budget.try_get_untracked().flatten(), Some(Ok(None))) {
            show(load().await);
        }
    });
    let amount = RwSignal::new("10.00".to_owned());
    let currency = RwSignal::new("USD".to_owned());
    let thresholds = RwSignal::new("50, 80, 100".to_owned());
    let hard_limit = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let req = match budget_request(
            &amount.get(),
            &currency.get(),
            &thresholds.get(),
            hard_limit.get(),
        ) {
            Ok(r) => r,
            Err(f) => return error.set(Some(bad_field(f).to_owned())),
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.set_budget(None, &req).await).await {
                Ok(b) => show(Ok(Some(b))),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |_| {
        if !confirm_delete() {
            return;
        }
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_budget(None).await).await {
                Ok(()) => show(Ok(None)),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let summary = move || match budget.get() {
        None => view! { <p>{tr("common.loading")}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(None)) => view! { <p id="budget-none">{tr("budget.none")}</p> }.into_any(),
        Some(Ok(Some(b))) => {
            let (cur, amount, spent) = (b.currency, b.amount, b.spent);
            let percent = b.percent_used;
            // The bar counts whole percent of the budget; above 100 it shows as over.
            let used = percent.round().max(0.0) as u64;
            let marks = b
                .thresholds
                .iter()
                .map(|t| format!("{t} %"))
                .collect::<Vec<_>>()
                .join(" · ");
            let figures = move || {
                let lang = c.lang.get();
                format!(
                    "{} / {} ({} %)",
                    money(lang, cur, spent, 4),
                    money(lang, cur, amount, 2),
                    i18n::number(lang, percent, 1)
                )
            };
            view! {
                <div class="detail" id="budget">
                    <p><strong>{tr("budget.amount")}": "</strong>
                        <span id="budget-amount">{move || money(c.lang.get(), cur, amount, 2)}</span>
                        " " {cur.as_str()}</p>
                    <Bar id="budget-used" used=used total=100 figures=figures/>
                    <p><strong>{tr("budget.thresholds")}": "</strong><span id="budget-thresholds">{marks}</span></p>
                    <p id="budget-hard-limit">{if b.hard_limit { view! { <span class="badge off">{tr("budget.hard_limit_on")}</span> }.into_any() } else { view! { <span class="badge idle">{tr("budget.alerts_only")}</span> }.into_any() }}</p>
                    <button id="budget-delete" class="danger" on:click=delete>{tr("common.delete")}</button>
                </div>
            }
            .into_any()
        }
    };
    let alert_row = move |a: BudgetAlert| {
        let cur = budget
            .get_untracked()
            .and_then(|b| b.ok().flatten())
            .map_or(nuvem_api::billing::Currency::Usd, |b| b.currency);
        let at = a.at.to_rfc3339();
        view! {
            <tr data-threshold=a.threshold>
                <td class="num">{a.threshold}" %"</td>
                <td class="num">{move || money(c.lang.get(), cur, a.spent, 4)}</td>
                <td>{move || i18n::date(c.lang.get(), &at)}</td>
                <td>{a.action}</td>
            </tr>
        }
    };
    view! {
        <h2>{tr("budget.title")}</h2>
        <p>{tr("budget.intro")}</p>
        {summary}
        <h3>{tr("budget.alerts")}</h3>
        <ResourceTable id="budget-alerts" cols=4 items=alerts row=alert_row>
            <th>{tr("budget.threshold")}</th><th>{tr("budget.spent")}</th><th>{tr("budget.at")}</th><th>{tr("budget.action")}</th>
        </ResourceTable>
        <h3>{tr("budget.set")}</h3>
        <form id="budget-form" on:submit=save>
            <div class="grid">
                <Field id="budget-amount-field" label=tr("budget.amount") value=amount/>
                <div class="field"><label for="budget-currency">{tr("bill.currency")}</label>
                    <select id="budget-currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                        <option value="USD">"USD"</option>
                        <option value="BRL">"BRL"</option>
                    </select></div>
                <Field id="budget-thresholds-field" label=tr("budget.thresholds_field") value=thresholds/>
            </div>
            <label class="check"><input type="checkbox" id="budget-hard" prop:checked=hard_limit
                on:change=move |ev| hard_limit.set(event_target_checked(&ev))/>" "{tr("budget.hard_limit")}</label>
            <Show when=move || hard_limit.get()>
                <p class="notice" id="budget-hard-warning">{tr("budget.hard_limit_warning")}</p>
            </Show>
            <ErrorLine error=error id="budget-error"/>
            <button id="budget-save" type="submit">{tr("common.save")}</button>
        </form>
    }
}
