//! Nuvem's web console. The Leptos application lands with the console issue; this crate already
//! depends on `nuvem-api` so that the console will share the server's types from its first line.

/// The API types the console will render.
pub use nuvem_api as api;
