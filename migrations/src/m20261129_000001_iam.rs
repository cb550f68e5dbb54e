//! IAM: accounts, users, groups, memberships, policies, attachments, access keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Name,
    IsOperator,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    AccountId,
    Name,
    IsRoot,
    PasswordHash,
    CreatedAt,
    PasswordChangedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    AccountId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    UserId,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Id,
    AccountId,
    Name,
    Description,
    Document,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PolicyAttachments {
    Table,
    PolicyId,
    PrincipalKind,
    PrincipalId,
}

#[derive(DeriveIden)]
enum AccessKeys {
    Table,
    Id,
    AccountId,
    UserId,
    SecretCiphertext,
    Status,
    CreatedAt,
    LastUsedAt,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(
                        ColumnDef::new(Accounts::Id)
                            .string_len(12)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Accounts::Name)
                            .string_len(63)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Accounts::IsOperator).boolean().not_null())
                    .col(
                        ColumnDef::new(Accounts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(
                        ColumnDef::new(Users::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Users::AccountId).string_len(12).not_null())
                    .col(ColumnDef::new(Users::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Users::IsRoot).boolean().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).text().null())
                    .col(
                        ColumnDef::new(Users::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::PasswordChangedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Users::LastLoginAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_users_account",
                        (Users::Table, Users::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_account_name")
                    .table(Users::Table)
                    .col(Users::AccountId)
                    .col(Users::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(
                        ColumnDef::new(Groups::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Groups::AccountId).string_len(12).not_null())
                    .col(ColumnDef::new(Groups::Name).string_len(128).not_null())
                    .col(
                        ColumnDef::new(Groups::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_groups_account",
                        (Groups::Table, Groups::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_groups_account_name")
                    .table(Groups::Table)
                    .col(Groups::AccountId)
                    .col(Groups::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(
                        ColumnDef::new(GroupMembers::GroupId)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupMembers::UserId)
                            .string_len(40)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(GroupMembers::GroupId)
                            .col(GroupMembers::UserId),
                    )
                    .foreign_key(&mut fk(
                        "fk_group_members_group",
                        (GroupMembers::Table, GroupMembers::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_group_members_user",
                        (GroupMembers::Table, GroupMembers::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Policies::Table)
                    .col(
                        ColumnDef::new(Policies::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Policies::AccountId)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Policies::Name).string_len(128).not_null())
                    .col(ColumnDef::new(Policies::Description).text().not_null())
                    .col(ColumnDef::new(Policies::Document).text().not_null())
                    .col(
                        ColumnDef::new(Policies::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Policies::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_policies_account",
                        (Policies::Table, Policies::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_policies_account_name")
                    .table(Policies::Table)
                    .col(Policies::AccountId)
                    .col(Policies::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PolicyAttachments::Table)
                    .col(
                        ColumnDef::new(PolicyAttachments::PolicyId)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PolicyAttachments::PrincipalKind)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PolicyAttachments::PrincipalId)
                            .string_len(40)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PolicyAttachments::PolicyId)
                            .col(PolicyAttachments::PrincipalKind)
                            .col(PolicyAttachments::PrincipalId),
                    )
                    .foreign_key(&mut fk(
                        "fk_policy_attachments_policy",
                        (PolicyAttachments::Table, PolicyAttachments::PolicyId),
                        (Policies::Table, Policies::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_policy_attachments_principal")
                    .table(PolicyAttachments::Table)
                    .col(PolicyAttachments::PrincipalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessKeys::Table)
                    .col(
                        ColumnDef::new(AccessKeys::Id)
                            .string_len(20)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AccessKeys::AccountId)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessKeys::UserId).string_len(40).not_null())
                    .col(
                        ColumnDef::new(AccessKeys::SecretCiphertext)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessKeys::Status).string_len(8).not_null())
                    .col(
                        ColumnDef::new(AccessKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccessKeys::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_access_keys_user",
                        (AccessKeys::Table, AccessKeys::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_keys_user")
                    .table(AccessKeys::Table)
                    .col(AccessKeys::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccessKeys::Table.into_iden(),
            PolicyAttachments::Table.into_iden(),
            Policies::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            Groups::Table.into_iden(),
            Users::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
