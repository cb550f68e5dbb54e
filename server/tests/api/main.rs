//! Integration tests of the API on a real server, SQLite and PostgreSQL.

mod common;

mod bad_input;
mod ec2_api;
mod hardening;
mod iam;
mod instances_kernel;
mod openapi;
mod reconcilers;
mod security;
mod sweeps;
mod usage_events;
mod vpc_api;
mod vpc_kernel;
