//! Deviations: what the cooperation leadership follows up — a no-show, a
//! late decline, a booking that overrode clashes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deviation::Table)
                    .col(pk_uuid(Deviation::Id))
                    .col(uuid(Deviation::TenantId))
                    .col(uuid(Deviation::CaseId))
                    .col(uuid(Deviation::AppointmentId))
                    .col(string_len(Deviation::Kind, 24))
                    .col(uuid_null(Deviation::UserId))
                    .col(uuid_null(Deviation::OrganisationId))
                    .col(string_len_null(Deviation::Reason, 2000))
                    .col(uuid(Deviation::RecordedBy))
                    .col(timestamp_with_time_zone(Deviation::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deviation_tenant_id")
                    .table(Deviation::Table)
                    .col(Deviation::TenantId)
                    .col(Deviation::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Deviation::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Deviation {
    Table,
    Id,
    TenantId,
    CaseId,
    AppointmentId,
    Kind,
    UserId,
    OrganisationId,
    Reason,
    RecordedBy,
    CreatedAt,
}
