//! Nuvem's database schema. Each service adds its tables in a migration of its own; the server
//! applies every pending migration when it starts, on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_iam;
mod m20261129_000002_vpc;
mod m20261129_000003_compute;
mod m20261201_000004_security;
mod m20261202_000005_platform;
mod m20261202_000006_name_widths;
mod m20261202_000007_billing;
mod m20261202_000008_storage;
mod m20261202_000009_usage_storage;
mod m20261202_000010_bucket_websites;
mod m20261202_000011_apps;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_iam::Migration),
            Box::new(m20261129_000002_vpc::Migration),
            Box::new(m20261129_000003_compute::Migration),
            Box::new(m20261201_000004_security::Migration),
            Box::new(m20261202_000005_platform::Migration),
            Box::new(m20261202_000006_name_widths::Migration),
            Box::new(m20261202_000007_billing::Migration),
            Box::new(m20261202_000008_storage::Migration),
            Box::new(m20261202_000009_usage_storage::Migration),
            Box::new(m20261202_000010_bucket_websites::Migration),
            Box::new(m20261202_000011_apps::Migration),
        ]
    }
}
