//! Nuvem's web console: a Leptos client-side app compiled to WebAssembly and served by
//! `nuvem-server` at `/`. It talks to the public API only through the SDK (`nuvem-sdk` without its
//! `native` feature), with the shared `nuvem-api` types.
//!
//! `i18n` (the translation table and formatting) and `model` (the pages' plain logic) are plain
//! Rust, tested on the host; the app itself (`app`, `api`, `components/`, `pages/`) is compiled
//! for `wasm32-unknown-unknown` only (`infra/build-console.sh`).

pub mod i18n;
pub mod model;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod pages;

/// The entry point the generated JavaScript calls.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
