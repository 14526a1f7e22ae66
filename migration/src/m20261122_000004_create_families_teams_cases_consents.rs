use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Foreign key helper: `from` → `to`.id.
fn fk<
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
    R: IntoIden + Copy + 'static,
    RC: IntoIden + Copy + 'static,
>(
    table: T,
    column: C,
    references: R,
    references_column: RC,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(references, references_column)
        .on_delete(on_delete)
        .to_owned()
}

fn index<T: IntoIden + Copy + 'static>(
    name: &str,
    table: T,
    columns: &[DynIden],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column.clone());
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        manager
            .create_table(
                Table::create()
                    .table(Team::Table)
                    .col(pk_uuid(Team::Id))
                    .col(uuid(Team::TenantId))
                    .col(string(Team::Name))
                    .col(uuid_null(Team::TeamLeadId))
                    .col(timestamp_with_time_zone(Team::CreatedAt))
                    .foreign_key(&mut fk(
                        Team::Table,
                        Team::TenantId,
                        Tenant::Table,
                        Tenant::Id,
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Team::Table,
                        Team::TeamLeadId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_team_tenant",
                Team::Table,
                &[Team::TenantId.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_team_lead",
                Team::Table,
                &[Team::TeamLeadId.into_iden()],
                false,
            ))
            .await?;

        // Which team a caseworker or therapist works in (at most one).
        manager
            .create_table(
                Table::create()
                    .table(TeamMembership::Table)
                    .col(pk_uuid(TeamMembership::UserId))
                    .col(uuid(TeamMembership::TeamId))
                    .foreign_key(&mut fk(
                        TeamMembership::Table,
                        TeamMembership::UserId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        TeamMembership::Table,
                        TeamMembership::TeamId,
                        Team::Table,
                        Team::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_team_membership_team",
                TeamMembership::Table,
                &[TeamMembership::TeamId.into_iden()],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Family::Table)
                    .col(pk_uuid(Family::Id))
                    .col(uuid(Family::TenantId))
                    .col(string(Family::Name))
                    .col(timestamp_with_time_zone(Family::CreatedAt))
                    .foreign_key(&mut fk(
                        Family::Table,
                        Family::TenantId,
                        Tenant::Table,
                        Tenant::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_family_tenant_name",
                Family::Table,
                &[Family::TenantId.into_iden(), Family::Name.into_iden()],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FamilyMember::Table)
                    .col(pk_uuid(FamilyMember::Id))
                    .col(uuid(FamilyMember::FamilyId))
                    .col(uuid(FamilyMember::TenantId))
                    .col(string_len(FamilyMember::Kind, 32))
                    .col(string(FamilyMember::DisplayName))
                    .col(date_null(FamilyMember::DateOfBirth))
                    .col(string_len_null(FamilyMember::NetworkRelation, 32))
                    .col(uuid_null(FamilyMember::UserId))
                    .col(timestamp_with_time_zone(FamilyMember::CreatedAt))
                    .foreign_key(&mut fk(
                        FamilyMember::Table,
                        FamilyMember::FamilyId,
                        Family::Table,
                        Family::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        FamilyMember::Table,
                        FamilyMember::UserId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_family_member_family",
                FamilyMember::Table,
                &[FamilyMember::FamilyId.into_iden()],
                false,
            ))
            .await?;
        // A login belongs to one family membership.
        manager
            .create_index(index(
                "idx_family_member_user",
                FamilyMember::Table,
                &[FamilyMember::UserId.into_iden()],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Case::Table)
                    .col(pk_uuid(Case::Id))
                    .col(uuid(Case::TenantId))
                    .col(uuid(Case::FamilyId))
                    .col(uuid(Case::TeamId))
                    .col(string_len(Case::CaseType, 32))
                    .col(string_len(Case::Status, 32))
                    .col(date(Case::OpenedOn))
                    .col(date_null(Case::StartConversationOn))
                    .col(timestamp_with_time_zone_null(Case::LastFollowUpAt))
                    // Derived from the type and the dates in the tenant's time
                    // zone, kept here so lists can filter and sort by it.
                    .col(date(Case::NextFollowUpDue))
                    .col(uuid(Case::PrimaryCaseworkerId))
                    .col(uuid_null(Case::PartnerCaseworkerId))
                    .col(boolean(Case::YoungPersonMayConsent))
                    .col(timestamp_with_time_zone_null(Case::ClosedAt))
                    .col(text_null(Case::ClosingNote))
                    .col(integer(Case::Version))
                    .col(timestamp_with_time_zone(Case::CreatedAt))
                    .col(timestamp_with_time_zone(Case::UpdatedAt))
                    .foreign_key(&mut fk(
                        Case::Table,
                        Case::TenantId,
                        Tenant::Table,
                        Tenant::Id,
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Case::Table,
                        Case::FamilyId,
                        Family::Table,
                        Family::Id,
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Case::Table,
                        Case::TeamId,
                        Team::Table,
                        Team::Id,
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Case::Table,
                        Case::PrimaryCaseworkerId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Case::Table,
                        Case::PartnerCaseworkerId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_case_tenant_id",
                Case::Table,
                &[Case::TenantId.into_iden(), Case::Id.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_case_family",
                Case::Table,
                &[Case::FamilyId.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_case_team",
                Case::Table,
                &[Case::TeamId.into_iden(), Case::Status.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_case_tenant_due",
                Case::Table,
                &[
                    Case::TenantId.into_iden(),
                    Case::NextFollowUpDue.into_iden(),
                    Case::Id.into_iden(),
                ],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_case_primary",
                Case::Table,
                &[
                    Case::PrimaryCaseworkerId.into_iden(),
                    Case::Status.into_iden(),
                ],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_case_partner",
                Case::Table,
                &[Case::PartnerCaseworkerId.into_iden()],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseFocusChild::Table)
                    .col(uuid(CaseFocusChild::CaseId))
                    .col(uuid(CaseFocusChild::MemberId))
                    .primary_key(
                        Index::create()
                            .col(CaseFocusChild::CaseId)
                            .col(CaseFocusChild::MemberId),
                    )
                    .foreign_key(&mut fk(
                        CaseFocusChild::Table,
                        CaseFocusChild::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CaseFocusChild::Table,
                        CaseFocusChild::MemberId,
                        FamilyMember::Table,
                        FamilyMember::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_case_focus_child_member",
                CaseFocusChild::Table,
                &[CaseFocusChild::MemberId.into_iden()],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseTherapist::Table)
                    .col(uuid(CaseTherapist::CaseId))
                    .col(uuid(CaseTherapist::UserId))
                    .primary_key(
                        Index::create()
                            .col(CaseTherapist::CaseId)
                            .col(CaseTherapist::UserId),
                    )
                    .foreign_key(&mut fk(
                        CaseTherapist::Table,
                        CaseTherapist::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CaseTherapist::Table,
                        CaseTherapist::UserId,
                        UserAccount::Table,
                        UserAccount::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_case_therapist_user",
                CaseTherapist::Table,
                &[CaseTherapist::UserId.into_iden()],
                false,
            ))
            .await?;

        // Who was responsible when: kept for the whole life of the case.
        manager
            .create_table(
                Table::create()
                    .table(CaseAssignment::Table)
                    .col(pk_uuid(CaseAssignment::Id))
                    .col(uuid(CaseAssignment::CaseId))
                    .col(string_len(CaseAssignment::Responsibility, 32))
                    .col(uuid(CaseAssignment::UserId))
                    .col(timestamp_with_time_zone(CaseAssignment::StartedAt))
                    .col(timestamp_with_time_zone_null(CaseAssignment::EndedAt))
                    .col(uuid_null(CaseAssignment::AssignedBy))
                    .col(text_null(CaseAssignment::HandoverNote))
                    .foreign_key(&mut fk(
                        CaseAssignment::Table,
                        CaseAssignment::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_case_assignment_case",
                CaseAssignment::Table,
                &[
                    CaseAssignment::CaseId.into_iden(),
                    CaseAssignment::StartedAt.into_iden(),
                ],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consent::Table)
                    .col(pk_uuid(Consent::Id))
                    .col(uuid(Consent::CaseId))
                    .col(uuid(Consent::TenantId))
                    .col(uuid(Consent::OrganisationId))
                    .col(uuid_null(Consent::UserId))
                    .col(string_len(Consent::Categories, 128))
                    .col(timestamp_with_time_zone(Consent::ValidFrom))
                    .col(timestamp_with_time_zone_null(Consent::ValidUntil))
                    .col(uuid(Consent::GrantedBy))
                    .col(timestamp_with_time_zone(Consent::GrantedAt))
                    .col(timestamp_with_time_zone_null(Consent::WithdrawnAt))
                    .col(uuid_null(Consent::WithdrawnBy))
                    .foreign_key(&mut fk(
                        Consent::Table,
                        Consent::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Consent::Table,
                        Consent::OrganisationId,
                        Organisation::Table,
                        Organisation::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // A family member asking for another caseworker; the team lead answers.
        manager
            .create_table(
                Table::create()
                    .table(ChangeRequest::Table)
                    .col(pk_uuid(ChangeRequest::Id))
                    .col(uuid(ChangeRequest::CaseId))
                    .col(uuid(ChangeRequest::TenantId))
                    .col(uuid(ChangeRequest::RequestedBy))
                    .col(text(ChangeRequest::Reason))
                    .col(string_len(ChangeRequest::Status, 16))
                    .col(timestamp_with_time_zone(ChangeRequest::CreatedAt))
                    .col(uuid_null(ChangeRequest::AnsweredBy))
                    .col(text_null(ChangeRequest::Answer))
                    .col(timestamp_with_time_zone_null(ChangeRequest::AnsweredAt))
                    .foreign_key(&mut fk(
                        ChangeRequest::Table,
                        ChangeRequest::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_change_request_case",
                ChangeRequest::Table,
                &[
                    ChangeRequest::CaseId.into_iden(),
                    ChangeRequest::CreatedAt.into_iden(),
                ],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_change_request_tenant_status",
                ChangeRequest::Table,
                &[
                    ChangeRequest::TenantId.into_iden(),
                    ChangeRequest::Status.into_iden(),
                ],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_consent_case",
                Consent::Table,
                &[Consent::CaseId.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_consent_organisation",
                Consent::Table,
                &[
                    Consent::OrganisationId.into_iden(),
                    Consent::CaseId.into_iden(),
                ],
                false,
            ))
            .await?;
        // Coordinated individual plans (SIP): one per case.
        manager
            .create_table(
                Table::create()
                    .table(Plan::Table)
                    .col(pk_uuid(Plan::Id))
                    .col(uuid_uniq(Plan::CaseId))
                    .col(uuid(Plan::TenantId))
                    .col(uuid(Plan::InitiatingOrganisationId))
                    .col(date(Plan::InitiatedOn))
                    .col(date_null(Plan::MeetingHeldOn))
                    .col(string_len_null(Plan::ChildParticipation, 32))
                    .col(text_null(Plan::ChildNonParticipationReason))
                    .col(uuid_null(Plan::CoordinatorOrganisationId))
                    .col(string_len_null(Plan::CoordinatorReason, 32))
                    .col(text_null(Plan::CoordinatorReasonText))
                    .col(uuid(Plan::CreatedBy))
                    .col(timestamp_with_time_zone(Plan::CreatedAt))
                    .foreign_key(&mut fk(
                        Plan::Table,
                        Plan::CaseId,
                        Case::Table,
                        Case::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Plan::Table,
                        Plan::InitiatingOrganisationId,
                        Organisation::Table,
                        Organisation::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Intervention::Table)
                    .col(pk_uuid(Intervention::Id))
                    .col(uuid(Intervention::PlanId))
                    .col(text(Intervention::Description))
                    .col(uuid(Intervention::ResponsibleOrganisationId))
                    .col(date(Intervention::StartsOn))
                    .col(string_len(Intervention::CoordinatedBy, 16))
                    .col(timestamp_with_time_zone(Intervention::CreatedAt))
                    .foreign_key(&mut fk(
                        Intervention::Table,
                        Intervention::PlanId,
                        Plan::Table,
                        Plan::Id,
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Intervention::Table,
                        Intervention::ResponsibleOrganisationId,
                        Organisation::Table,
                        Organisation::Id,
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_plan_intervention_plan",
                Intervention::Table,
                &[
                    Intervention::PlanId.into_iden(),
                    Intervention::CreatedAt.into_iden(),
                ],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Intervention::Table.into_iden(),
            Plan::Table.into_iden(),
            ChangeRequest::Table.into_iden(),
            Consent::Table.into_iden(),
            CaseAssignment::Table.into_iden(),
            CaseTherapist::Table.into_iden(),
            CaseFocusChild::Table.into_iden(),
            Case::Table.into_iden(),
            FamilyMember::Table.into_iden(),
            Family::Table.into_iden(),
            TeamMembership::Table.into_iden(),
            Team::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserAccount {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
#[allow(clippy::enum_variant_names)]
enum Team {
    Table,
    Id,
    TenantId,
    Name,
    TeamLeadId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TeamMembership {
    Table,
    UserId,
    TeamId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Family {
    Table,
    Id,
    TenantId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FamilyMember {
    Table,
    Id,
    FamilyId,
    TenantId,
    Kind,
    DisplayName,
    DateOfBirth,
    NetworkRelation,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
#[allow(clippy::enum_variant_names)]
enum Case {
    #[sea_orm(iden = "care_case")]
    Table,
    Id,
    TenantId,
    FamilyId,
    TeamId,
    CaseType,
    Status,
    OpenedOn,
    StartConversationOn,
    LastFollowUpAt,
    NextFollowUpDue,
    PrimaryCaseworkerId,
    PartnerCaseworkerId,
    YoungPersonMayConsent,
    ClosedAt,
    ClosingNote,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseFocusChild {
    Table,
    CaseId,
    MemberId,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseTherapist {
    Table,
    CaseId,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseAssignment {
    Table,
    Id,
    CaseId,
    Responsibility,
    UserId,
    StartedAt,
    EndedAt,
    AssignedBy,
    HandoverNote,
}

#[derive(DeriveIden, Clone, Copy)]
enum Consent {
    Table,
    Id,
    CaseId,
    TenantId,
    OrganisationId,
    UserId,
    Categories,
    ValidFrom,
    ValidUntil,
    GrantedBy,
    GrantedAt,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangeRequest {
    #[sea_orm(iden = "caseworker_change_request")]
    Table,
    Id,
    CaseId,
    TenantId,
    RequestedBy,
    Reason,
    Status,
    CreatedAt,
    AnsweredBy,
    Answer,
    AnsweredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Plan {
    #[sea_orm(iden = "coordinated_plan")]
    Table,
    Id,
    CaseId,
    TenantId,
    InitiatingOrganisationId,
    InitiatedOn,
    MeetingHeldOn,
    ChildParticipation,
    ChildNonParticipationReason,
    CoordinatorOrganisationId,
    CoordinatorReason,
    CoordinatorReasonText,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Intervention {
    #[sea_orm(iden = "plan_intervention")]
    Table,
    Id,
    PlanId,
    Description,
    ResponsibleOrganisationId,
    StartsOn,
    CoordinatedBy,
    CreatedAt,
}
