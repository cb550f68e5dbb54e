//! Integration tests of the API on a real server, SQLite and PostgreSQL.

mod common;

mod apps_api;
mod apps_iam;
mod bad_input;
mod billing;
mod ec2_api;
mod hardening;
mod iam;
mod instances_kernel;
mod odd_input;
mod openapi;
mod reconcilers;
mod sagas;
mod security;
mod storage;
mod storage_iam;
mod storage_manage;
mod storage_objects;
mod storage_website;
mod sweeps;
mod upgrade;
mod usage_events;
mod vpc_api;
mod vpc_kernel;
