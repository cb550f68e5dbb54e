//! VPC networking: VPCs, subnets, security groups and rules, network interfaces, port forwards.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Vpcs {
    Table,
    Id,
    AccountId,
    Name,
    Cidr,
    IsDefault,
    InternetGateway,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subnets {
    Table,
    Id,
    AccountId,
    VpcId,
    Name,
    Cidr,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SecurityGroups {
    Table,
    Id,
    AccountId,
    VpcId,
    Name,
    Description,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SgRules {
    Table,
    Id,
    SgId,
    Direction,
    Protocol,
    FromPort,
    ToPort,
    Cidr,
    SourceGroupId,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NetworkInterfaces {
    Table,
    Id,
    AccountId,
    VpcId,
    SubnetId,
    PrivateIp,
    Mac,
    Device,
    AttachedTo,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EniSecurityGroups {
    Table,
    EniId,
    SgId,
}

#[derive(DeriveIden)]
enum PortForwards {
    Table,
    Id,
    AccountId,
    EniId,
    Protocol,
    HostPort,
    PrivatePort,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(32).not_null().to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

async fn unique(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).unique().to_owned();
    for c in cols {
        idx.col(Alias::new(*c));
    }
    m.create_index(idx).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Vpcs::Table)
                .col(id(Vpcs::Id).primary_key())
                .col(ColumnDef::new(Vpcs::AccountId).string_len(12).not_null())
                .col(ColumnDef::new(Vpcs::Name).string_len(128).not_null())
                .col(ColumnDef::new(Vpcs::Cidr).string_len(18).not_null())
                .col(ColumnDef::new(Vpcs::IsDefault).boolean().not_null())
                .col(ColumnDef::new(Vpcs::InternetGateway).boolean().not_null())
                .col(time(Vpcs::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_vpcs_account",
                    (Vpcs::Table, Vpcs::AccountId),
                    (Accounts::Table, Accounts::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Subnets::Table)
                .col(id(Subnets::Id).primary_key())
                .col(ColumnDef::new(Subnets::AccountId).string_len(12).not_null())
                .col(id(Subnets::VpcId))
                .col(ColumnDef::new(Subnets::Name).string_len(128).not_null())
                .col(ColumnDef::new(Subnets::Cidr).string_len(18).not_null())
                .col(ColumnDef::new(Subnets::IsDefault).boolean().not_null())
                .col(time(Subnets::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_subnets_vpc",
                    (Subnets::Table, Subnets::VpcId),
                    (Vpcs::Table, Vpcs::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SecurityGroups::Table)
                .col(id(SecurityGroups::Id).primary_key())
                .col(
                    ColumnDef::new(SecurityGroups::AccountId)
                        .string_len(12)
                        .not_null(),
                )
                .col(id(SecurityGroups::VpcId))
                .col(
                    ColumnDef::new(SecurityGroups::Name)
                        .string_len(255)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SecurityGroups::Description)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SecurityGroups::IsDefault)
                        .boolean()
                        .not_null(),
                )
                .col(time(SecurityGroups::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_security_groups_vpc",
                    (SecurityGroups::Table, SecurityGroups::VpcId),
                    (Vpcs::Table, Vpcs::Id),
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ux_security_groups_vpc_name",
            SecurityGroups::Table,
            &["vpc_id", "name"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SgRules::Table)
                .col(id(SgRules::Id).primary_key())
                .col(id(SgRules::SgId))
                .col(ColumnDef::new(SgRules::Direction).string_len(8).not_null())
                .col(ColumnDef::new(SgRules::Protocol).string_len(8).not_null())
                .col(ColumnDef::new(SgRules::FromPort).integer().null())
                .col(ColumnDef::new(SgRules::ToPort).integer().null())
                .col(ColumnDef::new(SgRules::Cidr).string_len(18).null())
                .col(ColumnDef::new(SgRules::SourceGroupId).string_len(32).null())
                .col(ColumnDef::new(SgRules::Description).text().not_null())
                .col(time(SgRules::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_sg_rules_sg",
                    (SgRules::Table, SgRules::SgId),
                    (SecurityGroups::Table, SecurityGroups::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NetworkInterfaces::Table)
                .col(id(NetworkInterfaces::Id).primary_key())
                .col(
                    ColumnDef::new(NetworkInterfaces::AccountId)
                        .string_len(12)
                        .not_null(),
                )
                .col(id(NetworkInterfaces::VpcId))
                .col(id(NetworkInterfaces::SubnetId))
                .col(
                    ColumnDef::new(NetworkInterfaces::PrivateIp)
                        .string_len(15)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(NetworkInterfaces::Mac)
                        .string_len(17)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(NetworkInterfaces::Device)
                        .string_len(15)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(NetworkInterfaces::AttachedTo)
                        .string_len(128)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(NetworkInterfaces::Description)
                        .text()
                        .not_null(),
                )
                .col(time(NetworkInterfaces::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_network_interfaces_subnet",
                    (NetworkInterfaces::Table, NetworkInterfaces::SubnetId),
                    (Subnets::Table, Subnets::Id),
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ux_network_interfaces_subnet_ip",
            NetworkInterfaces::Table,
            &["subnet_id", "private_ip"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EniSecurityGroups::Table)
                .col(id(EniSecurityGroups::EniId))
                .col(id(EniSecurityGroups::SgId))
                .primary_key(
                    Index::create()
                        .col(EniSecurityGroups::EniId)
                        .col(EniSecurityGroups::SgId),
                )
                .foreign_key(&mut fk(
                    "fk_eni_security_groups_eni",
                    (EniSecurityGroups::Table, EniSecurityGroups::EniId),
                    (NetworkInterfaces::Table, NetworkInterfaces::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_eni_security_groups_sg",
                    (EniSecurityGroups::Table, EniSecurityGroups::SgId),
                    (SecurityGroups::Table, SecurityGroups::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PortForwards::Table)
                .col(id(PortForwards::Id).primary_key())
                .col(
                    ColumnDef::new(PortForwards::AccountId)
                        .string_len(12)
                        .not_null(),
                )
                .col(id(PortForwards::EniId))
                .col(
                    ColumnDef::new(PortForwards::Protocol)
                        .string_len(8)
                        .not_null(),
                )
                .col(ColumnDef::new(PortForwards::HostPort).integer().not_null())
                .col(
                    ColumnDef::new(PortForwards::PrivatePort)
                        .integer()
                        .not_null(),
                )
                .col(time(PortForwards::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_port_forwards_eni",
                    (PortForwards::Table, PortForwards::EniId),
                    (NetworkInterfaces::Table, NetworkInterfaces::Id),
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ux_port_forwards_host_port",
            PortForwards::Table,
            &["protocol", "host_port"],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PortForwards::Table.into_iden(),
            EniSecurityGroups::Table.into_iden(),
            NetworkInterfaces::Table.into_iden(),
            SgRules::Table.into_iden(),
            SecurityGroups::Table.into_iden(),
            Subnets::Table.into_iden(),
            Vpcs::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
