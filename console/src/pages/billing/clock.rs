//! The demo clock: a banner on every billing view while the account's metering runs faster than
//! real time (or ran so this month), and the operator's controls to set an account's factor,
//! pause it, or move it forward (`PUT /v1/billing/clocks/{account}`).

use leptos::prelude::*;
use nuvem_api::billing::{Clock, SetClockRequest};

use super::Metering;
use crate::api;
use crate::app::{ctx, text, tr};
use crate::components::{ErrorLine, Field, Scope};
use crate::i18n;

/// What the banner says: the factor, and whether the clock is frozen; `None` on real time.
fn demo(m: Metering) -> Option<(u32, bool)> {
    let clock = m.clock.get();
    let mark = m.mark.get();
    match (clock, mark) {
        (Some(c), _) if c.factor > 1 || c.paused => Some((c.factor, c.paused)),
        (Some(c), Some(mark)) if c.demo => Some((mark.factor, false)),
        (Some(c), None) if c.demo => Some((c.factor, false)),
        (None, Some(mark)) => Some((mark.factor, false)),
        _ => None,
    }
}

#[component]
pub fn DemoBanner(m: Metering) -> impl IntoView {
    let c = ctx();
    let now = move || {
        m.clock
            .get()
            .map(|k| i18n::date(c.lang.get(), &k.now.to_rfc3339()))
            .unwrap_or_default()
    };
    view! {
        <Show when=move || demo(m).is_some()>
            <div class="demo-banner" id="demo-banner" role="status">
                <strong>{tr("bill.demo")}" "<span id="demo-factor">{move || demo(m).map(|(f, _)| format!("{f}×")).unwrap_or_default()}</span></strong>
                " — "{tr("bill.demo_note")}
                {move || demo(m).is_some_and(|(_, paused)| paused).then(|| view! { " · " <span class="paused">{tr("bill.demo_paused")}</span> })}
                <span class="demo-now">" · "{tr("bill.demo_now")}" "{now}</span>
            </div>
        </Show>
    }
}

/// The operator's controls of one account's clock.
#[component]
pub fn ClockControl(m: Metering) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let account = RwSignal::new(
        c.identity
            .get_untracked()
            .map(|i| i.account_name)
            .unwrap_or_default(),
    );
    let factor = RwSignal::new("3600".to_owned());
    let error = RwSignal::new(None::<String>);
    let answer = RwSignal::new(None::<Clock>);
    let send = move |req: SetClockRequest| {
        error.set(None);
        let name = account.get_untracked().trim().to_owned();
        let own = c
            .identity
            .get_untracked()
            .is_some_and(|i| i.account_name == name);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.set_clock(&name, &req).await).await {
                Ok(clock) => {
                    // The operator's own account: the banner and the meter follow at once.
                    if own {
                        m.clock.set(Some(clock.clone()));
                    }
                    answer.set(Some(clock));
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let set_factor = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match factor.get().trim().parse::<u32>() {
            Ok(f) => send(SetClockRequest {
                factor: Some(f),
                ..Default::default()
            }),
            Err(_) => error.set(Some(text("clock.bad_factor").to_owned())),
        }
    };
    let shown = move || {
        answer.get().map(|k| {
            let state = if k.paused {
                tr("bill.demo_paused")()
            } else {
                tr("clock.running")()
            };
            format!(
                "{}: {}× · {state} · {}",
                k.account,
                k.factor,
                i18n::date(c.lang.get(), &k.now.to_rfc3339())
            )
        })
    };
    view! {
        <div class="detail" id="clock-control">
            <h2>{tr("clock.title")}</h2>
            <p>{tr("clock.intro")}</p>
            <form class="inline" on:submit=set_factor>
                <Field id="clock-account" label=tr("signin.account") value=account/>
                <Field id="clock-factor" label=tr("clock.factor") value=factor/>
                <button id="clock-set" type="submit">{tr("clock.set")}</button>
                <button id="clock-pause" type="button" class="secondary" on:click=move |_| send(SetClockRequest { paused: Some(true), ..Default::default() })>{tr("clock.pause")}</button>
                <button id="clock-resume" type="button" class="secondary" on:click=move |_| send(SetClockRequest { paused: Some(false), ..Default::default() })>{tr("clock.resume")}</button>
                <button id="clock-advance" type="button" class="secondary" on:click=move |_| send(SetClockRequest { advance_seconds: Some(86_400), ..Default::default() })>{tr("clock.advance_day")}</button>
                <button id="clock-real" type="button" class="secondary" on:click=move |_| send(SetClockRequest { factor: Some(1), ..Default::default() })>{tr("clock.real_time")}</button>
            </form>
            <ErrorLine error=error id="clock-error"/>
            <p class="ok" id="clock-result">{shown}</p>
        </div>
    }
}
