//! Work a page starts, bound to the page's life.
//!
//! A page's signals are disposed with the page: a task that outlives it and then reads or writes
//! one panics ("Tried to access a reactive value that has already been disposed", then
//! `RuntimeError: unreachable`). That is what leaving the Instances page did while its status
//! badges were still polled. Every task of a page is therefore spawned through a [`Scope`]: it is
//! aborted when the page's reactive owner is cleaned up, before it can touch a disposed signal (the
//! browser runs WebAssembly on one thread, so no task runs while the owner is being cleaned up).
//! Aborting drops its future, and with it an API call in flight: reqwest aborts the `fetch`.

use std::future::Future;

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};

use crate::api;
use crate::app::ctx;
use crate::components::Loaded;

/// The reactive owner of the page being built, kept to spawn its tasks later: from an event
/// handler no owner is current, and a task spawned there would not end with the page. Weak: the
/// owner holds this value, which must not keep it alive.
#[derive(Clone, Copy)]
pub struct Scope(StoredValue<Option<WeakOwner>>);

impl Scope {
    /// Call while the page is built (in the component's body).
    pub fn current() -> Scope {
        Scope(StoredValue::new(Owner::current().map(|o| o.downgrade())))
    }

    /// Runs `task` until it ends or the page is gone, whichever comes first.
    pub fn spawn(self, task: impl Future<Output = ()> + 'static) {
        // Disposed with the page: an event of a page that is gone starts nothing.
        let Some(owner) = self.0.try_get_value() else {
            return;
        };
        match owner {
            Some(weak) => {
                if let Some(owner) = weak.upgrade() {
                    owner.with(|| spawn_local_scoped_with_cancellation(task));
                }
            }
            // Built outside any owner (not in this console): nothing to end with.
            None => spawn_local(task),
        }
    }

    /// Lists into `into` with one SDK call, e.g.
    /// `scope.load(users, async |sdk| sdk.list_users_all().await)`. What is shown stays until the
    /// answer replaces it (no flash of "Loading…" on a refresh); the first answer, or an error,
    /// replaces "Loading…".
    pub fn load<T>(
        self,
        into: RwSignal<Loaded<T>>,
        call: impl AsyncFnOnce(&nuvem_sdk::Client) -> nuvem_sdk::Result<Vec<T>> + 'static,
    ) where
        T: Send + Sync + 'static,
    {
        self.spawn(async move {
            let list = api::load(call).await;
            // Gone with the part of the page that showed it (a closed detail): nothing to set.
            let _ = into.try_set(Some(list));
        });
    }

    /// Runs `tick` now and then `every_ms` after each run ends, while the page lives and its user
    /// is signed in; e.g. the Instances page keeps its status badges current without a reload.
    pub fn poll<F, Fut>(self, every_ms: u32, mut tick: F)
    where
        F: FnMut() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let c = ctx();
        self.spawn(async move {
            // The token belongs to the application's root and outlives every page; the loop
            // itself ends when the page's owner aborts it.
            while c.token.try_get_untracked().flatten().is_some() {
                tick().await;
                TimeoutFuture::new(every_ms).await;
            }
        });
    }
}
