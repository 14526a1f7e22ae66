use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk<T, C, R, RC>(
    table: T,
    column: C,
    to: R,
    to_column: RC,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    R: IntoIden + 'static,
    RC: IntoIden + 'static,
{
    ForeignKey::create()
        .from(table, column)
        .to(to, to_column)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        manager
            .create_table(
                Table::create()
                    .table(Goal::Table)
                    .col(pk_uuid(Goal::Id))
                    .col(uuid(Goal::CaseId))
                    .col(uuid(Goal::TenantId))
                    .col(string(Goal::Title))
                    .col(text(Goal::Description))
                    .col(string_len(Goal::Horizon, 16))
                    .col(uuid_null(Goal::ChildMemberId))
                    .col(string_len(Goal::Owner, 16))
                    .col(uuid_null(Goal::OwnerOrganisationId))
                    .col(date_null(Goal::TargetDate))
                    .col(string_len(Goal::Status, 16))
                    .col(string_len(Goal::Visibility, 16))
                    .col(uuid(Goal::ProposedBy))
                    .col(integer(Goal::Version))
                    .col(timestamp_with_time_zone(Goal::CreatedAt))
                    .col(timestamp_with_time_zone(Goal::UpdatedAt))
                    .foreign_key(&mut fk(
                        Goal::Table,
                        Goal::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_goal_case")
                    .table(Goal::Table)
                    .col(Goal::CaseId)
                    .col(Goal::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // Every change of a goal, with who, when and why: the family sees it.
        manager
            .create_table(
                Table::create()
                    .table(GoalChange::Table)
                    .col(pk_uuid(GoalChange::Id))
                    .col(uuid(GoalChange::GoalId))
                    .col(uuid(GoalChange::ChangedBy))
                    .col(timestamp_with_time_zone(GoalChange::ChangedAt))
                    .col(string_len(GoalChange::Field, 32))
                    .col(text_null(GoalChange::OldValue))
                    .col(text_null(GoalChange::NewValue))
                    .col(text_null(GoalChange::Reason))
                    .foreign_key(&mut fk(
                        GoalChange::Table,
                        GoalChange::GoalId,
                        Goal::Table,
                        Goal::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_goal_change_goal")
                    .table(GoalChange::Table)
                    .col(GoalChange::GoalId)
                    .col(GoalChange::ChangedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GoalStep::Table)
                    .col(pk_uuid(GoalStep::Id))
                    .col(uuid(GoalStep::GoalId))
                    .col(text(GoalStep::Description))
                    .col(uuid_null(GoalStep::AssigneeMemberId))
                    .col(uuid_null(GoalStep::AssigneeUserId))
                    .col(uuid_null(GoalStep::AssigneeOrganisationId))
                    .col(date_null(GoalStep::DueOn))
                    .col(timestamp_with_time_zone_null(GoalStep::DoneAt))
                    .col(uuid_null(GoalStep::DoneBy))
                    .col(timestamp_with_time_zone(GoalStep::CreatedAt))
                    .foreign_key(&mut fk(
                        GoalStep::Table,
                        GoalStep::GoalId,
                        Goal::Table,
                        Goal::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_goal_step_goal")
                    .table(GoalStep::Table)
                    .col(GoalStep::GoalId)
                    .col(GoalStep::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // Progress notes and ratings, kept side by side per author.
        manager
            .create_table(
                Table::create()
                    .table(GoalProgress::Table)
                    .col(pk_uuid(GoalProgress::Id))
                    .col(uuid(GoalProgress::GoalId))
                    .col(uuid(GoalProgress::AuthorId))
                    .col(text(GoalProgress::Note))
                    .col(small_integer_null(GoalProgress::Rating))
                    .col(timestamp_with_time_zone(GoalProgress::CreatedAt))
                    .foreign_key(&mut fk(
                        GoalProgress::Table,
                        GoalProgress::GoalId,
                        Goal::Table,
                        Goal::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_goal_progress_goal")
                    .table(GoalProgress::Table)
                    .col(GoalProgress::GoalId)
                    .col(GoalProgress::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FollowUp::Table)
                    .col(pk_uuid(FollowUp::Id))
                    .col(uuid(FollowUp::CaseId))
                    .col(uuid(FollowUp::TenantId))
                    .col(date(FollowUp::HeldOn))
                    .col(text(FollowUp::Participants))
                    .col(text_null(FollowUp::Notes))
                    .col(text_null(FollowUp::Decisions))
                    .col(uuid(FollowUp::RecordedBy))
                    .col(timestamp_with_time_zone(FollowUp::CreatedAt))
                    .foreign_key(&mut fk(
                        FollowUp::Table,
                        FollowUp::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_follow_up_case")
                    .table(FollowUp::Table)
                    .col(FollowUp::CaseId)
                    .col(FollowUp::HeldOn)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FollowUpRating::Table)
                    .col(uuid(FollowUpRating::FollowUpId))
                    .col(uuid(FollowUpRating::GoalId))
                    .col(small_integer(FollowUpRating::Rating))
                    .primary_key(
                        Index::create()
                            .col(FollowUpRating::FollowUpId)
                            .col(FollowUpRating::GoalId),
                    )
                    .foreign_key(&mut fk(
                        FollowUpRating::Table,
                        FollowUpRating::FollowUpId,
                        FollowUp::Table,
                        FollowUp::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        FollowUpRating::Table,
                        FollowUpRating::GoalId,
                        Goal::Table,
                        Goal::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // Signs of Safety: the three columns and the 0–10 scale, per view, dated.
        manager
            .create_table(
                Table::create()
                    .table(SafetyAssessment::Table)
                    .col(pk_uuid(SafetyAssessment::Id))
                    .col(uuid(SafetyAssessment::CaseId))
                    .col(uuid(SafetyAssessment::TenantId))
                    .col(date(SafetyAssessment::AssessedOn))
                    .col(string_len(SafetyAssessment::Perspective, 32))
                    .col(text(SafetyAssessment::Worries))
                    .col(text(SafetyAssessment::WorkingWell))
                    .col(text(SafetyAssessment::NeedsToHappen))
                    .col(small_integer(SafetyAssessment::Scale))
                    .col(uuid(SafetyAssessment::RecordedBy))
                    .col(timestamp_with_time_zone(SafetyAssessment::CreatedAt))
                    .foreign_key(&mut fk(
                        SafetyAssessment::Table,
                        SafetyAssessment::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_safety_assessment_case")
                    .table(SafetyAssessment::Table)
                    .col(SafetyAssessment::CaseId)
                    .col(SafetyAssessment::AssessedOn)
                    .to_owned(),
            )
            .await?;
        // The family's strengths and resources, shown beside the goals.
        manager
            .create_table(
                Table::create()
                    .table(FamilyStrength::Table)
                    .col(pk_uuid(FamilyStrength::Id))
                    .col(uuid(FamilyStrength::CaseId))
                    .col(text(FamilyStrength::Description))
                    .col(uuid(FamilyStrength::RecordedBy))
                    .col(timestamp_with_time_zone(FamilyStrength::CreatedAt))
                    .foreign_key(&mut fk(
                        FamilyStrength::Table,
                        FamilyStrength::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_family_strength_case")
                    .table(FamilyStrength::Table)
                    .col(FamilyStrength::CaseId)
                    .col(FamilyStrength::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_follow_up_rating_goal")
                    .table(FollowUpRating::Table)
                    .col(FollowUpRating::GoalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FamilyStrength::Table.into_iden(),
            SafetyAssessment::Table.into_iden(),
            FollowUpRating::Table.into_iden(),
            FollowUp::Table.into_iden(),
            GoalProgress::Table.into_iden(),
            GoalStep::Table.into_iden(),
            GoalChange::Table.into_iden(),
            Goal::Table.into_iden(),
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
enum Goal {
    Table,
    Id,
    CaseId,
    TenantId,
    Title,
    Description,
    Horizon,
    ChildMemberId,
    Owner,
    OwnerOrganisationId,
    TargetDate,
    Status,
    Visibility,
    ProposedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GoalChange {
    Table,
    Id,
    GoalId,
    ChangedBy,
    ChangedAt,
    Field,
    OldValue,
    NewValue,
    Reason,
}

#[derive(DeriveIden)]
enum GoalStep {
    Table,
    Id,
    GoalId,
    Description,
    AssigneeMemberId,
    AssigneeUserId,
    AssigneeOrganisationId,
    DueOn,
    DoneAt,
    DoneBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GoalProgress {
    Table,
    Id,
    GoalId,
    AuthorId,
    Note,
    Rating,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FollowUp {
    Table,
    Id,
    CaseId,
    TenantId,
    HeldOn,
    Participants,
    Notes,
    Decisions,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FollowUpRating {
    Table,
    FollowUpId,
    GoalId,
    Rating,
}

#[derive(DeriveIden)]
enum SafetyAssessment {
    Table,
    Id,
    CaseId,
    TenantId,
    AssessedOn,
    Perspective,
    Worries,
    WorkingWell,
    NeedsToHappen,
    Scale,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FamilyStrength {
    Table,
    Id,
    CaseId,
    Description,
    RecordedBy,
    CreatedAt,
}
