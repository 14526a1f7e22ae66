//! Scheduling routines per organisation (working hours, the weekdays a kind of
//! meeting may be held, minimum notice, buffer, a daily cap per child), closed
//! days per tenant, external iCalendar feeds with the busy time imported from
//! their last good copy, the secret addresses of users' phone calendars, and
//! when each appointment's reminder went out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SchedulingRoutine::Table)
                    .col(pk_uuid(SchedulingRoutine::OrganisationId))
                    .col(uuid(SchedulingRoutine::TenantId))
                    .col(text(SchedulingRoutine::WorkingHours))
                    .col(text(SchedulingRoutine::MeetingDays))
                    .col(integer(SchedulingRoutine::MinimumNoticeMinutes))
                    .col(integer(SchedulingRoutine::BufferMinutes))
                    .col(integer_null(SchedulingRoutine::DailyCapPerChild))
                    .col(uuid(SchedulingRoutine::UpdatedBy))
                    .col(timestamp_with_time_zone(SchedulingRoutine::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClosedDay::Table)
                    .col(pk_uuid(ClosedDay::Id))
                    .col(uuid(ClosedDay::TenantId))
                    .col(date(ClosedDay::Date))
                    .col(string_len(ClosedDay::Name, 200))
                    .col(timestamp_with_time_zone(ClosedDay::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_closed_day_tenant_date")
                    .table(ClosedDay::Table)
                    .col(ClosedDay::TenantId)
                    .col(ClosedDay::Date)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeed::Table)
                    .col(pk_uuid(CalendarFeed::Id))
                    .col(uuid(CalendarFeed::TenantId))
                    .col(uuid_null(CalendarFeed::UserId))
                    .col(uuid_null(CalendarFeed::OrganisationId))
                    .col(string_len(CalendarFeed::Name, 200))
                    .col(string_len(CalendarFeed::Url, 2000))
                    .col(uuid(CalendarFeed::CreatedBy))
                    .col(timestamp_with_time_zone(CalendarFeed::CreatedAt))
                    .col(timestamp_with_time_zone(CalendarFeed::NextFetchAt))
                    .col(timestamp_with_time_zone_null(CalendarFeed::LastAttemptAt))
                    .col(timestamp_with_time_zone_null(CalendarFeed::LastSuccessAt))
                    .col(string_len_null(CalendarFeed::LastError, 500))
                    .col(integer(CalendarFeed::BusyCount))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_calendar_feed_user", CalendarFeed::UserId),
            (
                "idx_calendar_feed_organisation",
                CalendarFeed::OrganisationId,
            ),
            ("idx_calendar_feed_next_fetch", CalendarFeed::NextFetchAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CalendarFeed::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ExternalBusy::Table)
                    .col(pk_uuid(ExternalBusy::Id))
                    .col(uuid(ExternalBusy::FeedId))
                    .col(timestamp_with_time_zone(ExternalBusy::StartsAt))
                    .col(timestamp_with_time_zone(ExternalBusy::EndsAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ExternalBusy::Table, ExternalBusy::FeedId)
                            .to(CalendarFeed::Table, CalendarFeed::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_external_busy_feed_starts")
                    .table(ExternalBusy::Table)
                    .col(ExternalBusy::FeedId)
                    .col(ExternalBusy::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarSubscription::Table)
                    .col(pk_uuid(CalendarSubscription::Id))
                    .col(uuid(CalendarSubscription::TenantId))
                    .col(uuid(CalendarSubscription::UserId))
                    .col(string_len(CalendarSubscription::TokenHash, 64))
                    .col(boolean(CalendarSubscription::FullTitles))
                    .col(timestamp_with_time_zone(CalendarSubscription::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        CalendarSubscription::LastUsedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        CalendarSubscription::RevokedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_subscription_token")
                    .table(CalendarSubscription::Table)
                    .col(CalendarSubscription::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_subscription_user")
                    .table(CalendarSubscription::Table)
                    .col(CalendarSubscription::UserId)
                    .to_owned(),
            )
            .await?;
        // When the reminder before an appointment went out (null: not yet).
        manager
            .alter_table(
                Table::alter()
                    .table(Appointment::Table)
                    .add_column(timestamp_with_time_zone_null(Appointment::RemindedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appointment_starts")
                    .table(Appointment::Table)
                    .col(Appointment::StartsAt)
                    .to_owned(),
            )
            .await?;
        // The appointment's time on each participant row, so that a person's
        // (or an organisation's) busy time is one index range.
        for column in [Participant::StartsAt, Participant::EndsAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Participant::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            (
                "idx_appointment_participant_user_starts",
                Participant::UserId,
            ),
            (
                "idx_appointment_participant_organisation_starts",
                Participant::OrganisationId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Participant::Table)
                        .col(column)
                        .col(Participant::StartsAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_appointment_participant_user_starts",
            "idx_appointment_participant_organisation_starts",
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Participant::Table)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Participant::StartsAt, Participant::EndsAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Participant::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_appointment_starts")
                    .table(Appointment::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Appointment::Table)
                    .drop_column(Appointment::RemindedAt)
                    .to_owned(),
            )
            .await?;
        for table in [
            CalendarSubscription::Table.into_iden(),
            ExternalBusy::Table.into_iden(),
            CalendarFeed::Table.into_iden(),
            ClosedDay::Table.into_iden(),
            SchedulingRoutine::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SchedulingRoutine {
    Table,
    OrganisationId,
    TenantId,
    WorkingHours,
    MeetingDays,
    MinimumNoticeMinutes,
    BufferMinutes,
    DailyCapPerChild,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClosedDay {
    Table,
    Id,
    TenantId,
    Date,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarFeed {
    Table,
    Id,
    TenantId,
    UserId,
    OrganisationId,
    Name,
    Url,
    CreatedBy,
    CreatedAt,
    NextFetchAt,
    LastAttemptAt,
    LastSuccessAt,
    LastError,
    BusyCount,
}

#[derive(DeriveIden)]
enum ExternalBusy {
    Table,
    Id,
    FeedId,
    StartsAt,
    EndsAt,
}

#[derive(DeriveIden)]
enum CalendarSubscription {
    Table,
    Id,
    TenantId,
    UserId,
    TokenHash,
    FullTitles,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Appointment {
    Table,
    RemindedAt,
    StartsAt,
}

#[derive(DeriveIden)]
enum Participant {
    #[sea_orm(iden = "appointment_participant")]
    Table,
    UserId,
    OrganisationId,
    StartsAt,
    EndsAt,
}
