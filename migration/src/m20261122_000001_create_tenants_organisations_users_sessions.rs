use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenant::Table)
                    .col(pk_uuid(Tenant::Id))
                    .col(string(Tenant::Name))
                    .col(string(Tenant::TimeZone))
                    .col(timestamp_with_time_zone(Tenant::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organisation::Table)
                    .col(pk_uuid(Organisation::Id))
                    .col(uuid(Organisation::TenantId))
                    .col(string(Organisation::Name))
                    .col(string_len(Organisation::Kind, 32))
                    .col(timestamp_with_time_zone(Organisation::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organisation::Table, Organisation::TenantId)
                            .to(Tenant::Table, Tenant::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organisation_tenant_name")
                    .table(Organisation::Table)
                    .col(Organisation::TenantId)
                    .col(Organisation::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserAccount::Table)
                    .col(pk_uuid(UserAccount::Id))
                    .col(uuid(UserAccount::TenantId))
                    .col(uuid_null(UserAccount::OrganisationId))
                    .col(string(UserAccount::Email))
                    .col(string(UserAccount::DisplayName))
                    .col(string_len(UserAccount::Role, 32))
                    .col(text_null(UserAccount::PasswordHash))
                    .col(string_null(UserAccount::ExternalIssuer))
                    .col(string_null(UserAccount::ExternalSubject))
                    .col(timestamp_with_time_zone(UserAccount::CreatedAt))
                    .col(timestamp_with_time_zone_null(UserAccount::DisabledAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserAccount::Table, UserAccount::TenantId)
                            .to(Tenant::Table, Tenant::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserAccount::Table, UserAccount::OrganisationId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Login looks an account up by its normalised (lower-case) e-mail address.
        manager
            .create_index(
                Index::create()
                    .name("idx_user_account_email")
                    .table(UserAccount::Table)
                    .col(UserAccount::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // An external identity (OIDC issuer + subject) links to one account.
        manager
            .create_index(
                Index::create()
                    .name("idx_user_account_external_identity")
                    .table(UserAccount::Table)
                    .col(UserAccount::ExternalIssuer)
                    .col(UserAccount::ExternalSubject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_account_tenant_role")
                    .table(UserAccount::Table)
                    .col(UserAccount::TenantId)
                    .col(UserAccount::Role)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_account_organisation")
                    .table(UserAccount::Table)
                    .col(UserAccount::OrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(pk_uuid(Session::Id))
                    .col(uuid(Session::UserId))
                    .col(uuid(Session::TenantId))
                    .col(string_len(Session::RefreshTokenHash, 64))
                    .col(big_integer(Session::RefreshGeneration))
                    .col(timestamp_with_time_zone_null(Session::RotatedAt))
                    .col(string_len_null(Session::DeviceLabel, 200))
                    .col(timestamp_with_time_zone(Session::CreatedAt))
                    .col(timestamp_with_time_zone(Session::LastSeenAt))
                    .col(timestamp_with_time_zone(Session::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Session::RevokedAt))
                    .col(string_len_null(Session::RevokedReason, 32))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Session::Table, Session::UserId)
                            .to(UserAccount::Table, UserAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Session::Table, Session::TenantId)
                            .to(Tenant::Table, Tenant::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_user_created")
                    .table(Session::Table)
                    .col(Session::UserId)
                    .col(Session::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Session::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UserAccount::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisation::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenant::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
    Name,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    TenantId,
    Name,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserAccount {
    Table,
    Id,
    TenantId,
    OrganisationId,
    Email,
    DisplayName,
    Role,
    PasswordHash,
    ExternalIssuer,
    ExternalSubject,
    CreatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    UserId,
    TenantId,
    RefreshTokenHash,
    RefreshGeneration,
    RotatedAt,
    DeviceLabel,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}
