//! The price catalog: what each SKU costs now, per unit and currency, since when; the changes
//! announced for later (a price never changes retroactively); and the operator's form to set a
//! price from now or a later time.

use leptos::prelude::*;
use nuvem_api::billing::{Price, SetPriceRequest};

use super::budgets::bad_field;
use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope};
use crate::i18n;
use crate::model::billing::{currency, decimal_field, effective_field, money};

#[component]
pub fn Prices() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let items = RwSignal::<Loaded<Price>>::new(None);
    let scheduled = RwSignal::<Loaded<Price>>::new(None);
    let reload = move || {
        scope.spawn(async move {
            let list = api::load(async |sdk| sdk.list_prices().await).await;
            let _ = scheduled.try_set(Some(list.clone().map(|l| l.scheduled)));
            let _ = items.try_set(Some(list.map(|l| l.items)));
        })
    };
    reload();
    let row = move |p: Price| {
        let from = p.effective_from.to_rfc3339();
        let (cur, price) = (p.currency, p.unit_price);
        // The macro builds the children before the attributes: the key is taken first.
        let key = p.sku.clone();
        view! {
            <tr data-sku=key data-currency=cur.as_str()>
                <td class="id"><code>{p.sku}</code></td>
                <td>{p.description}</td>
                <td>{p.unit}</td>
                <td>{cur.as_str()}</td>
                <td class="num">{move || money(c.lang.get(), cur, price, 4)}</td>
                <td>{move || i18n::date(c.lang.get(), &from)}</td>
            </tr>
        }
    };
    let operator = move || c.identity.get().is_some_and(|i| i.is_operator);
    view! {
        <h2>{tr("price.title")}</h2>
        <p>{tr("price.intro")}</p>
        <ResourceTable id="prices" cols=6 items=items row=row>
            <th>"SKU"</th><th>{tr("price.description")}</th><th>{tr("price.unit")}</th>
            <th>{tr("bill.currency")}</th><th>{tr("bill.unit_price")}</th><th>{tr("price.effective_from")}</th>
        </ResourceTable>
        <h3>{tr("price.scheduled")}</h3>
        <ResourceTable id="prices-scheduled" cols=6 items=scheduled row=row>
            <th>"SKU"</th><th>{tr("price.description")}</th><th>{tr("price.unit")}</th>
            <th>{tr("bill.currency")}</th><th>{tr("bill.unit_price")}</th><th>{tr("price.effective_from")}</th>
        </ResourceTable>
        <Show when=operator>
            <SetPrice items=items reload=reload/>
        </Show>
    }
}

/// The operator's form: a SKU of the catalog, a currency, a price, and when it applies.
#[component]
fn SetPrice<R>(items: RwSignal<Loaded<Price>>, reload: R) -> impl IntoView
where
    R: Fn() + Copy + Send + Sync + 'static,
{
    let scope = Scope::current();
    let sku = RwSignal::new(String::new());
    let cur = RwSignal::new("USD".to_owned());
    let price = RwSignal::new(String::new());
    let effective = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let skus = move || {
        let mut s: Vec<String> = items
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.sku)
            .collect();
        s.sort();
        s.dedup();
        s
    };
    let chosen_sku = move || {
        Some(sku.get())
            .filter(|s| !s.is_empty())
            .or_else(|| skus().into_iter().next())
            .unwrap_or_default()
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let effective_from = match effective_field(&effective.get()) {
            Ok(t) => t,
            Err(f) => return error.set(Some(bad_field(f).to_owned())),
        };
        let req = SetPriceRequest {
            sku: chosen_sku(),
            currency: currency(&cur.get()),
            unit_price: decimal_field(&price.get()),
            effective_from,
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.set_price(&req).await).await {
                Ok(_) => {
                    price.set(String::new());
                    reload();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <div class="detail" id="set-price">
            <h3>{tr("price.set")}</h3>
            <form class="inline" id="price-form" on:submit=save>
                <div class="field"><label for="price-sku">"SKU"</label>
                    <select id="price-sku" on:change=move |ev| sku.set(event_target_value(&ev))>
                        {move || skus().into_iter().map(|s| {
                            let (selected, value) = (s == sku.get_untracked(), s.clone());
                            view! { <option value=value selected=selected>{s}</option> }
                        }).collect_view()}
                    </select></div>
                <div class="field"><label for="price-currency">{tr("bill.currency")}</label>
                    <select id="price-currency" on:change=move |ev| cur.set(event_target_value(&ev))>
                        <option value="USD">"USD"</option>
                        <option value="BRL">"BRL"</option>
                    </select></div>
                <Field id="price-value" label=tr("bill.unit_price") value=price/>
                <Field id="price-effective" label=tr("price.effective_field") value=effective kind="datetime-local"/>
                <button id="price-save" type="submit">{tr("common.save")}</button>
            </form>
            <ErrorLine error=error id="price-error"/>
        </div>
    }
}
