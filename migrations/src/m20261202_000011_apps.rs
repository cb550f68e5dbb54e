//! Container apps and load balancers: `app_images` (an account's images, `name:tag`), `apps`
//! (the desired state: spec, version, replicas), `app_replicas` (the containers made for it, each
//! with its interface), `load_balancers` (listener port and targets) and `app_events`.
//!
//! Specs, lists and settings are JSON text, validated by the server on write: the database keeps
//! what was asked, Docker and HAProxy hold what runs, and the apps reconciler aligns the two.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AppImages {
    Table,
    Id,
    AccountId,
    Name,
    Tag,
    EngineRef,
    SizeBytes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
    AccountId,
    Name,
    Spec,
    Version,
    ReplicasDesired,
    State,
    StatusReason,
    SubnetId,
    SecurityGroupIds,
    OwnSecurityGroup,
    LoadBalancerId,
    Autoscaling,
    LastScaledAt,
    Tags,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppReplicas {
    Table,
    Id,
    AppId,
    AccountId,
    Version,
    Container,
    InterfaceId,
    PrivateIp,
    Restarts,
    Health,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoadBalancers {
    Table,
    Id,
    AccountId,
    Name,
    Port,
    AppId,
    InstanceIds,
    TargetPort,
    Health,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppEvents {
    Table,
    Id,
    AppId,
    AccountId,
    At,
    Kind,
    Message,
}

fn id(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string_len(32).not_null().to_owned()
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AppImages::Table)
                .col(id(AppImages::Id).primary_key())
                .col(id(AppImages::AccountId))
                .col(ColumnDef::new(AppImages::Name).string_len(40).not_null())
                .col(ColumnDef::new(AppImages::Tag).string_len(64).not_null())
                // The image's name in the engine: `nuvem-<account>/<name>:<tag>`.
                .col(
                    ColumnDef::new(AppImages::EngineRef)
                        .string_len(200)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AppImages::SizeBytes)
                        .big_integer()
                        .not_null(),
                )
                .col(ts(AppImages::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_app_images_name")
                .table(AppImages::Table)
                .col(AppImages::AccountId)
                .col(AppImages::Name)
                .col(AppImages::Tag)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Apps::Table)
                .col(id(Apps::Id).primary_key())
                .col(id(Apps::AccountId))
                .col(ColumnDef::new(Apps::Name).string_len(40).not_null())
                .col(ColumnDef::new(Apps::Spec).text().not_null())
                .col(ColumnDef::new(Apps::Version).integer().not_null())
                .col(ColumnDef::new(Apps::ReplicasDesired).integer().not_null())
                .col(ColumnDef::new(Apps::State).string_len(16).not_null())
                .col(ColumnDef::new(Apps::StatusReason).text().not_null())
                .col(id(Apps::SubnetId))
                .col(ColumnDef::new(Apps::SecurityGroupIds).text().not_null())
                // The group made for the app (deleted with it); None when the user named groups.
                .col(ColumnDef::new(Apps::OwnSecurityGroup).string_len(32).null())
                .col(ColumnDef::new(Apps::LoadBalancerId).string_len(32).null())
                .col(ColumnDef::new(Apps::Autoscaling).text().null())
                .col(
                    ColumnDef::new(Apps::LastScaledAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(Apps::Tags).text().not_null())
                .col(ts(Apps::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_apps_name")
                .table(Apps::Table)
                .col(Apps::AccountId)
                .col(Apps::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AppReplicas::Table)
                .col(id(AppReplicas::Id).primary_key())
                .col(id(AppReplicas::AppId))
                .col(id(AppReplicas::AccountId))
                .col(ColumnDef::new(AppReplicas::Version).integer().not_null())
                .col(
                    ColumnDef::new(AppReplicas::Container)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AppReplicas::InterfaceId)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AppReplicas::PrivateIp)
                        .string_len(15)
                        .not_null(),
                )
                .col(ColumnDef::new(AppReplicas::Restarts).integer().not_null())
                .col(
                    ColumnDef::new(AppReplicas::Health)
                        .string_len(16)
                        .not_null(),
                )
                .col(ts(AppReplicas::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_app_replicas_app")
                .table(AppReplicas::Table)
                .col(AppReplicas::AppId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LoadBalancers::Table)
                .col(id(LoadBalancers::Id).primary_key())
                .col(id(LoadBalancers::AccountId))
                .col(
                    ColumnDef::new(LoadBalancers::Name)
                        .string_len(40)
                        .not_null(),
                )
                .col(ColumnDef::new(LoadBalancers::Port).integer().not_null())
                .col(ColumnDef::new(LoadBalancers::AppId).string_len(32).null())
                .col(ColumnDef::new(LoadBalancers::InstanceIds).text().not_null())
                .col(ColumnDef::new(LoadBalancers::TargetPort).integer().null())
                .col(ColumnDef::new(LoadBalancers::Health).text().not_null())
                .col(ts(LoadBalancers::CreatedAt))
                .to_owned(),
        )
        .await?;
        // A host port serves one load balancer, whoever owns it.
        m.create_index(
            Index::create()
                .name("ux_load_balancers_port")
                .table(LoadBalancers::Table)
                .col(LoadBalancers::Port)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_load_balancers_name")
                .table(LoadBalancers::Table)
                .col(LoadBalancers::AccountId)
                .col(LoadBalancers::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AppEvents::Table)
                .col(
                    ColumnDef::new(AppEvents::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id(AppEvents::AppId))
                .col(id(AppEvents::AccountId))
                .col(ts(AppEvents::At))
                .col(ColumnDef::new(AppEvents::Kind).string_len(16).not_null())
                .col(ColumnDef::new(AppEvents::Message).text().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_app_events_app")
                .table(AppEvents::Table)
                .col(AppEvents::AppId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AppEvents::Table.into_iden(),
            LoadBalancers::Table.into_iden(),
            AppReplicas::Table.into_iden(),
            Apps::Table.into_iden(),
            AppImages::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
