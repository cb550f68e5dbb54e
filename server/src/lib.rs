//! `nuvem-server`: one API server for the AWS-like services of Nuvem.
//!
//! A request flows `http` (parse, authenticate) → a service such as [`iam`] (authorize, business
//! rules) → [`store`] (state). See `docs/architecture.md`.

pub mod config;
pub mod error;
pub mod http;
pub mod iam;
pub mod server;
pub mod store;

/// The services, shared by every HTTP worker.
#[derive(Clone)]
pub struct Nuvem {
    pub store: store::Store,
    pub iam: iam::Iam,
}
