//! Read state, the per-user event stream (live events, replay and the
//! notifications feed), contact settings (quiet hours, read receipts, away
//! periods), urgent messages, and the push outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Urgent help ("I need help now") is a property of the message.
        manager
            .alter_table(
                Table::alter()
                    .table(Message::Table)
                    .add_column(boolean(Message::Urgent).default(false))
                    .to_owned(),
            )
            .await?;
        // How far each user has read each conversation.
        manager
            .create_table(
                Table::create()
                    .table(ConversationRead::Table)
                    .col(uuid(ConversationRead::ConversationId))
                    .col(uuid(ConversationRead::UserId))
                    .col(big_integer(ConversationRead::LastReadSeq))
                    .col(timestamp_with_time_zone(ConversationRead::ReadAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationRead::ConversationId)
                            .col(ConversationRead::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationRead::Table, ConversationRead::ConversationId)
                            .to(Conversation::Table, Conversation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_read_user")
                    .table(ConversationRead::Table)
                    .col(ConversationRead::UserId)
                    .to_owned(),
            )
            .await?;
        // One row per user who changed a setting; absent means the defaults.
        manager
            .create_table(
                Table::create()
                    .table(ContactSetting::Table)
                    .col(pk_uuid(ContactSetting::UserId))
                    .col(string_len_null(ContactSetting::TimeZone, 64))
                    .col(integer_null(ContactSetting::QuietStartMinute))
                    .col(integer_null(ContactSetting::QuietEndMinute))
                    .col(boolean(ContactSetting::SendReadReceipts).default(true))
                    .col(timestamp_with_time_zone_null(ContactSetting::AwayFrom))
                    .col(timestamp_with_time_zone_null(ContactSetting::AwayUntil))
                    .col(string_len_null(ContactSetting::AwayNote, 500))
                    .col(timestamp_with_time_zone(ContactSetting::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactSetting::Table, ContactSetting::UserId)
                            .to(UserAccount::Table, UserAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The last event sequence number per user: each event takes the next
        // one in its inserting transaction (a row lock), so a reader replaying
        // from a cursor never skips an event that commits late.
        manager
            .create_table(
                Table::create()
                    .table(UserEventCounter::Table)
                    .col(pk_uuid(UserEventCounter::UserId))
                    .col(big_integer(UserEventCounter::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserEvent::Table)
                    .col(pk_uuid(UserEvent::Id))
                    .col(uuid(UserEvent::UserId))
                    .col(uuid(UserEvent::TenantId))
                    .col(big_integer(UserEvent::Seq))
                    .col(string_len(UserEvent::Kind, 32))
                    .col(uuid_null(UserEvent::CaseId))
                    .col(uuid_null(UserEvent::ConversationId))
                    .col(uuid_null(UserEvent::MessageId))
                    .col(uuid_null(UserEvent::ActorId))
                    // What else the event is about (a goal; later an appointment).
                    .col(uuid_null(UserEvent::SubjectId))
                    .col(boolean(UserEvent::Urgent).default(false))
                    .col(boolean(UserEvent::Covering).default(false))
                    .col(big_integer_null(UserEvent::UpToSeq))
                    .col(timestamp_with_time_zone(UserEvent::CreatedAt))
                    // When the notification shows (later than created_at during
                    // quiet hours); null: this event makes no notification.
                    .col(timestamp_with_time_zone_null(UserEvent::NotifyAt))
                    .col(timestamp_with_time_zone_null(UserEvent::NotificationReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_event_user_seq")
                    .table(UserEvent::Table)
                    .col(UserEvent::UserId)
                    .col(UserEvent::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_event_user_notify")
                    .table(UserEvent::Table)
                    .col(UserEvent::UserId)
                    .col(UserEvent::NotifyAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_event_message")
                    .table(UserEvent::Table)
                    .col(UserEvent::MessageId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PushDevice::Table)
                    .col(pk_uuid(PushDevice::Id))
                    .col(uuid(PushDevice::UserId))
                    .col(uuid(PushDevice::TenantId))
                    .col(string_len(PushDevice::Platform, 16))
                    .col(string_len(PushDevice::Token, 512))
                    .col(string_len(PushDevice::Endpoint, 1000))
                    .col(timestamp_with_time_zone(PushDevice::CreatedAt))
                    .col(timestamp_with_time_zone_null(PushDevice::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDevice::Table, PushDevice::UserId)
                            .to(UserAccount::Table, UserAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_device_user")
                    .table(PushDevice::Table)
                    .col(PushDevice::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_device_token")
                    .table(PushDevice::Table)
                    .col(PushDevice::Token)
                    .to_owned(),
            )
            .await?;
        // The push outbox: one row per device and notification, written in the
        // event's transaction and delivered by a worker with retries.
        manager
            .create_table(
                Table::create()
                    .table(PushDelivery::Table)
                    .col(pk_uuid(PushDelivery::Id))
                    .col(uuid(PushDelivery::DeviceId))
                    .col(uuid(PushDelivery::EventId))
                    .col(string_len(PushDelivery::State, 16))
                    .col(timestamp_with_time_zone(PushDelivery::DueAt))
                    .col(integer(PushDelivery::Attempts))
                    .col(string_len_null(PushDelivery::LastError, 200))
                    .col(timestamp_with_time_zone(PushDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(PushDelivery::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDelivery::Table, PushDelivery::DeviceId)
                            .to(PushDevice::Table, PushDevice::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDelivery::Table, PushDelivery::EventId)
                            .to(UserEvent::Table, UserEvent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_delivery_state_due")
                    .table(PushDelivery::Table)
                    .col(PushDelivery::State)
                    .col(PushDelivery::DueAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PushDelivery::Table.into_iden(),
            PushDevice::Table.into_iden(),
            UserEvent::Table.into_iden(),
            UserEventCounter::Table.into_iden(),
            ContactSetting::Table.into_iden(),
            ConversationRead::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Message::Table)
                    .drop_column(Message::Urgent)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Message {
    Table,
    Urgent,
}

#[derive(DeriveIden)]
enum Conversation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserAccount {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConversationRead {
    Table,
    ConversationId,
    UserId,
    LastReadSeq,
    ReadAt,
}

#[derive(DeriveIden)]
enum ContactSetting {
    Table,
    UserId,
    TimeZone,
    QuietStartMinute,
    QuietEndMinute,
    SendReadReceipts,
    AwayFrom,
    AwayUntil,
    AwayNote,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserEventCounter {
    Table,
    UserId,
    LastSeq,
}

#[derive(DeriveIden)]
enum UserEvent {
    Table,
    Id,
    UserId,
    TenantId,
    Seq,
    Kind,
    CaseId,
    ConversationId,
    MessageId,
    ActorId,
    SubjectId,
    Urgent,
    Covering,
    UpToSeq,
    CreatedAt,
    NotifyAt,
    NotificationReadAt,
}

#[derive(DeriveIden)]
enum PushDevice {
    Table,
    Id,
    UserId,
    TenantId,
    Platform,
    Token,
    Endpoint,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PushDelivery {
    Table,
    Id,
    DeviceId,
    EventId,
    State,
    DueAt,
    Attempts,
    LastError,
    CreatedAt,
    DeliveredAt,
}
