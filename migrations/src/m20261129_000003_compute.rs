//! Compute: images, instance types, key pairs, hosts, instances.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn s(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(255)
        .not_null()
        .to_owned()
}

fn s_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(255)
        .null()
        .to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}

fn double(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .double()
        .not_null()
        .to_owned()
}

fn boolean(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .to_owned()
}

fn time(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn time_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn table(name: &str, cols: Vec<ColumnDef>) -> TableCreateStatement {
    let mut t = Table::create().table(Alias::new(name)).to_owned();
    for mut c in cols {
        t.col(&mut c);
    }
    t
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table(
            "images",
            vec![
                s("id").primary_key().to_owned(),
                s("name"),
                s_null("owner_account_id"),
                boolean("public"),
                s("format"),
                s("architecture"),
                ColumnDef::new(Alias::new("kernel_path"))
                    .text()
                    .null()
                    .to_owned(),
                ColumnDef::new(Alias::new("initrd_path"))
                    .text()
                    .null()
                    .to_owned(),
                text("cmdline"),
                ColumnDef::new(Alias::new("disk_path"))
                    .text()
                    .null()
                    .to_owned(),
                big("min_disk_mib"),
                text("description"),
                time("created_at"),
            ],
        ))
        .await?;
        m.create_table(table(
            "instance_types",
            vec![
                s("name").primary_key().to_owned(),
                int("vcpus"),
                big("memory_mib"),
                big("disk_gib"),
                double("price_per_hour"),
            ],
        ))
        .await?;
        m.create_table(table(
            "key_pairs",
            vec![
                s("id").primary_key().to_owned(),
                s("account_id"),
                s("name"),
                s("key_type"),
                s("fingerprint"),
                text("public_key"),
                time("created_at"),
            ],
        ))
        .await?;
        m.create_index(
            Index::create()
                .name("ux_key_pairs_account_name")
                .table(Alias::new("key_pairs"))
                .col(Alias::new("account_id"))
                .col(Alias::new("name"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(table(
            "hosts",
            vec![
                s("id").primary_key().to_owned(),
                s("name"),
                s("uri"),
                int("cores"),
                big("memory_mib"),
                double("cpu_ratio"),
                s("accelerator"),
                time("created_at"),
            ],
        ))
        .await?;
        m.create_table(table(
            "instances",
            vec![
                s("id").primary_key().to_owned(),
                s("account_id"),
                s("name"),
                s("state"),
                text("state_reason"),
                s("image_id"),
                s("instance_type"),
                int("vcpus"),
                big("memory_mib"),
                big("disk_gib"),
                s_null("key_name"),
                ColumnDef::new(Alias::new("public_key"))
                    .text()
                    .null()
                    .to_owned(),
                s("subnet_id"),
                s("vpc_id"),
                s_null("eni_id"),
                text("security_group_ids"),
                s("host_id"),
                s("accelerator"),
                boolean("dedicated"),
                text("pinned_cpus"),
                text("user_data"),
                text("tags"),
                int("step"),
                time("created_at"),
                time_null("launched_at"),
                time_null("terminated_at"),
            ],
        ))
        .await?;
        m.create_index(
            Index::create()
                .name("ix_instances_account")
                .table(Alias::new("instances"))
                .col(Alias::new("account_id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "instances",
            "hosts",
            "key_pairs",
            "instance_types",
            "images",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
