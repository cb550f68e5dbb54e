//! Existing databases upgrade in place: a database made by the schema before the platform
//! migration (instances with a `step` column and JSON in text columns) opens with the current
//! server, its instance reads back typed, and a corrupt value is an error, not a default.

use nuvem_api::ec2::InstanceState;
use nuvem_migrations::{Migrator, MigratorTrait};
use nuvem_server::store::Store;
use sea_orm::{ConnectionTrait, Database};

use crate::common::{Backend, fresh_postgres_database, postgres_url};

/// The migrations before `m20261202_000005_platform`.
const PREVIOUS_SCHEMA: u32 = 4;

const OLD_INSTANCE: &str = "INSERT INTO instances (id, account_id, name, state, state_reason, \
    image_id, instance_type, vcpus, memory_mib, disk_gib, key_name, public_key, subnet_id, \
    vpc_id, eni_id, security_group_ids, host_id, accelerator, dedicated, pinned_cpus, \
    user_data, tags, step, created_at, launched_at, terminated_at) VALUES \
    ('i-0ld', 'acct-1', 'old', 'running', '', 'img-1', 't3.nano', 1, 512, 1, NULL, NULL, \
    'subnet-1', 'vpc-1', 'eni-1', '[\"sg-1\"]', 'host-1', 'tcg', TRUE, '[1]', '', \
    '{\"course\":\"cloud\"}', 5, '2026-12-01 10:00:00+00:00', NULL, NULL)";

async fn an_old_database_upgrades_in_place(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
        Backend::Postgres => match postgres_url() {
            Some(admin) => fresh_postgres_database(&admin).await,
            None => return,
        },
    };
    {
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(PREVIOUS_SCHEMA)).await.unwrap();
        db.execute_unprepared(OLD_INSTANCE).await.unwrap();
        db.close().await.unwrap();
    }
    let store = Store::connect(&url)
        .await
        .expect("the old database upgrades");
    let row = store
        .instance_get_any("i-0ld")
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(row.state, InstanceState::Running);
    assert_eq!(row.security_group_ids.0, ["sg-1"]);
    assert_eq!(row.pinned_cpus.0, [1]);
    assert_eq!(row.tags.0.get("course").map(String::as_str), Some("cloud"));
    assert_eq!(row.generation, 0);
    // Written back through the new schema, with its generation bumped.
    let mut row = row;
    row.state_reason = "upgraded".into();
    store.instance_save(&mut row).await.unwrap();
    assert_eq!(row.generation, 1);

    // A state the code does not know is an error at the read, never a default.
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared("UPDATE instances SET state = 'hibernating' WHERE id = 'i-0ld'")
        .await
        .unwrap();
    let err = store
        .instance_get_any("i-0ld")
        .await
        .expect_err("unknown state");
    assert!(err.to_string().contains("internal"), "{err}");
    db.close().await.unwrap();
}

#[tokio::test]
async fn an_old_sqlite_database_upgrades_in_place() {
    an_old_database_upgrades_in_place(Backend::Sqlite).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run infra/test.sh"]
async fn an_old_postgres_database_upgrades_in_place() {
    an_old_database_upgrades_in_place(Backend::Postgres).await;
}
