use sea_orm::entity::prelude::*;

/// What happened that concerns a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum UserEventKind {
    /// A new message in a conversation the user takes part in.
    #[sea_orm(string_value = "MESSAGE_ADDED")]
    MessageAdded,
    /// Someone read the user's messages (a read receipt).
    #[sea_orm(string_value = "MESSAGES_READ")]
    MessagesRead,
    /// A goal the user can see was created or changed by someone else.
    #[sea_orm(string_value = "GOAL_CHANGED")]
    GoalChanged,
    /// The user was invited to an appointment.
    #[sea_orm(string_value = "APPOINTMENT_INVITED")]
    AppointmentInvited,
    /// An appointment the user takes part in was cancelled.
    #[sea_orm(string_value = "APPOINTMENT_CANCELLED")]
    AppointmentCancelled,
    /// A participant answered the user's invitation.
    #[sea_orm(string_value = "APPOINTMENT_ANSWERED")]
    AppointmentAnswered,
    /// An appointment the user takes part in moved to another time.
    #[sea_orm(string_value = "APPOINTMENT_CHANGED")]
    AppointmentChanged,
    /// A proposed appointment the user takes part in is booked: every
    /// required participant accepted.
    #[sea_orm(string_value = "APPOINTMENT_BOOKED")]
    AppointmentBooked,
    /// An appointment the user takes part in starts soon.
    #[sea_orm(string_value = "APPOINTMENT_REMINDER")]
    AppointmentReminder,
}

/// One event of a user's stream (`viewerEvents`), in the user's own order;
/// with `notify_at` it is also a notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// Position in the user's stream, assigned in the inserting transaction.
    pub seq: i64,
    pub kind: UserEventKind,
    pub case_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    /// Who caused it.
    pub actor_id: Option<Uuid>,
    /// What else it is about: the goal of a `GOAL_CHANGED` event.
    pub subject_id: Option<Uuid>,
    pub urgent: bool,
    /// Delivered to a partner caseworker covering for an away colleague.
    pub covering: bool,
    /// For read receipts: read up to this message sequence number.
    pub up_to_seq: Option<i64>,
    pub created_at: DateTimeUtc,
    /// When the notification shows; null: no notification.
    pub notify_at: Option<DateTimeUtc>,
    pub notification_read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
