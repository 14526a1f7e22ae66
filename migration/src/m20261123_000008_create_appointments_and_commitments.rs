//! Appointments on a case with their participants and answers, personal
//! commitments (one-off or weekly, with exceptions), and one lock row per
//! person that bookings take so that two cannot claim the same time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Appointment::Table)
                    .col(pk_uuid(Appointment::Id))
                    .col(uuid(Appointment::TenantId))
                    .col(uuid(Appointment::CaseId))
                    .col(string_len(Appointment::Kind, 32))
                    .col(string_len(Appointment::Title, 200))
                    .col(timestamp_with_time_zone(Appointment::StartsAt))
                    .col(timestamp_with_time_zone(Appointment::EndsAt))
                    .col(string_len(Appointment::LocationKind, 16))
                    .col(string_len_null(Appointment::Location, 500))
                    .col(uuid(Appointment::OrganiserId))
                    .col(string_len(Appointment::Status, 16))
                    .col(string_len_null(Appointment::CancelReason, 2000))
                    .col(string_len_null(Appointment::OverrideReason, 2000))
                    .col(integer(Appointment::Version))
                    .col(timestamp_with_time_zone(Appointment::CreatedAt))
                    .col(timestamp_with_time_zone(Appointment::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Appointment::Table, Appointment::CaseId)
                            .to(Case::Table, Case::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appointment_case_starts")
                    .table(Appointment::Table)
                    .col(Appointment::CaseId)
                    .col(Appointment::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Participant::Table)
                    .col(pk_uuid(Participant::Id))
                    .col(uuid(Participant::AppointmentId))
                    .col(uuid_null(Participant::UserId))
                    .col(uuid_null(Participant::OrganisationId))
                    .col(boolean(Participant::Required))
                    .col(string_len(Participant::Response, 16))
                    .col(string_len_null(Participant::ResponseReason, 2000))
                    .col(timestamp_with_time_zone_null(Participant::RespondedAt))
                    .col(boolean(Participant::LateDecline).default(false))
                    .col(timestamp_with_time_zone_null(Participant::CounterStartsAt))
                    .col(timestamp_with_time_zone_null(Participant::CounterEndsAt))
                    .col(string_len_null(Participant::Attendance, 24))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Participant::Table, Participant::AppointmentId)
                            .to(Appointment::Table, Appointment::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appointment_participant_appointment")
                    .table(Participant::Table)
                    .col(Participant::AppointmentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appointment_participant_user")
                    .table(Participant::Table)
                    .col(Participant::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Commitment::Table)
                    .col(pk_uuid(Commitment::Id))
                    .col(uuid(Commitment::TenantId))
                    .col(uuid(Commitment::OwnerId))
                    .col(string_len(Commitment::Title, 200))
                    .col(string_len_null(Commitment::Category, 64))
                    .col(timestamp_with_time_zone(Commitment::StartsAt))
                    .col(timestamp_with_time_zone(Commitment::EndsAt))
                    // Comma-separated weekdays (MON,TUE,…); null: one-off.
                    .col(string_len_null(Commitment::Weekdays, 40))
                    .col(date_null(Commitment::RepeatUntil))
                    // Comma-separated dates (YYYY-MM-DD) the series skips.
                    .col(text_null(Commitment::ExceptDates))
                    .col(string_len(Commitment::TimeZone, 64))
                    .col(timestamp_with_time_zone(Commitment::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Commitment::Table, Commitment::OwnerId)
                            .to(UserAccount::Table, UserAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_commitment_owner")
                    .table(Commitment::Table)
                    .col(Commitment::OwnerId)
                    .to_owned(),
            )
            .await?;
        // A booking locks the rows of its participants (in id order) before it
        // checks for clashes, so two bookings for the same people serialise.
        manager
            .create_table(
                Table::create()
                    .table(ScheduleLock::Table)
                    .col(pk_uuid(ScheduleLock::UserId))
                    .col(big_integer(ScheduleLock::Bookings))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScheduleLock::Table.into_iden(),
            Commitment::Table.into_iden(),
            Participant::Table.into_iden(),
            Appointment::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Case {
    #[sea_orm(iden = "care_case")]
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserAccount {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Appointment {
    Table,
    Id,
    TenantId,
    CaseId,
    Kind,
    Title,
    StartsAt,
    EndsAt,
    LocationKind,
    Location,
    OrganiserId,
    Status,
    CancelReason,
    OverrideReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Participant {
    #[sea_orm(iden = "appointment_participant")]
    Table,
    Id,
    AppointmentId,
    UserId,
    OrganisationId,
    Required,
    Response,
    ResponseReason,
    RespondedAt,
    LateDecline,
    CounterStartsAt,
    CounterEndsAt,
    Attendance,
}

#[derive(DeriveIden)]
enum Commitment {
    Table,
    Id,
    TenantId,
    OwnerId,
    Title,
    Category,
    StartsAt,
    EndsAt,
    Weekdays,
    RepeatUntil,
    ExceptDates,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScheduleLock {
    Table,
    UserId,
    Bookings,
}
