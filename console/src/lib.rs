//! Nuvem's web console: a Leptos client-side app compiled to WebAssembly and served by
//! `nuvem-server` at `/`. It talks only to the public API, with the shared `nuvem-api` types.
//!
//! `i18n` (the translation table and formatting) is plain Rust, tested on the host; the app
//! itself is compiled for `wasm32-unknown-unknown` only (`infra/build-console.sh`).

pub mod i18n;

#[cfg(target_arch = "wasm32")]
mod app;

/// The entry point the generated JavaScript calls.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
