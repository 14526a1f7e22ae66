//! Plan logic. A plan belongs to a case; the staff who work the case change it;
//! it is case detail (`CASE_DETAILS`) for reading.

use chrono::{Days, NaiveDate, Utc};
use entity::{
    coordinated_plan::{self, ChildParticipation, CoordinatorReason},
    organisation,
    plan_intervention::{self, CoordinatedBy},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    audit::{self, AuditAction, AuditEntry},
    auth::Principal,
    case::service::{CaseView, ReadAudit, case},
    error::{AppError, AppResult},
    graphql::{RequestMeta, UserError, UserErrorCode},
};

/// Days within which the coordination meeting must be held after initiation.
pub const MEETING_DEADLINE_DAYS: u64 = 21;
const MAX_TEXT_CHARS: usize = 2000;

/// The day the coordination meeting is due.
pub fn meeting_due(initiated_on: NaiveDate) -> NaiveDate {
    initiated_on
        .checked_add_days(Days::new(MEETING_DEADLINE_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether the meeting is overdue on `today`: not held and past its due day.
pub fn meeting_overdue(plan: &coordinated_plan::Model, today: NaiveDate) -> bool {
    plan.meeting_held_on.is_none() && today > meeting_due(plan.initiated_on)
}

/// The case's plan, if it has one.
pub async fn plan_of(
    db: &DatabaseConnection,
    case_id: Uuid,
) -> AppResult<Option<coordinated_plan::Model>> {
    Ok(coordinated_plan::Entity::find()
        .filter(coordinated_plan::Column::CaseId.eq(case_id))
        .one(db)
        .await?)
}

/// The interventions of a plan, oldest first.
pub async fn interventions_of(
    db: &DatabaseConnection,
    plan_id: Uuid,
) -> AppResult<Vec<plan_intervention::Model>> {
    use sea_orm::QueryOrder;
    Ok(plan_intervention::Entity::find()
        .filter(plan_intervention::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_intervention::Column::CreatedAt)
        .order_by_asc(plan_intervention::Column::Id)
        .all(db)
        .await?)
}

/// A case the viewer works (primary, partner, team lead), for a plan change.
async fn case_to_plan(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
) -> AppResult<CaseView> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !view.access.relation.works_the_case() {
        return Err(AppError::Forbidden);
    }
    Ok(view)
}

async fn organisation_in_tenant(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<organisation::Model>> {
    Ok(organisation::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|o| o.tenant_id == principal.tenant_id))
}

async fn audit_plan(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    meta: &RequestMeta,
    action: AuditAction,
    plan: &coordinated_plan::Model,
) -> AppResult<()> {
    audit::append(
        txn,
        AuditEntry::new(action, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("CoordinatedPlan", plan.id)
            .case(plan.case_id)
            .request(&meta.request_id),
    )
    .await
}

/// Starts a coordinated plan on a case: which organisation initiated it and when.
pub async fn start_plan(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    initiating_organisation_id: Uuid,
    initiated_on: Option<NaiveDate>,
) -> AppResult<Result<coordinated_plan::Model, UserError>> {
    let view = case_to_plan(db, principal, meta, case_id).await?;
    let today = view.today();
    let initiated_on = initiated_on.unwrap_or(today);
    if initiated_on > today {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "initiatedOn",
            "A plan cannot be initiated in the future.",
        )));
    }
    if organisation_in_tenant(db, principal, initiating_organisation_id)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "initiatingOrganisationId",
            "Choose an agency of your municipality.",
        )));
    }
    if plan_of(db, case_id).await?.is_some() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "caseId",
            "The case has a coordinated plan already.",
        )));
    }
    let txn = db.begin().await?;
    let plan = coordinated_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        initiating_organisation_id: Set(initiating_organisation_id),
        initiated_on: Set(initiated_on),
        meeting_held_on: Set(None),
        child_participation: Set(None),
        child_non_participation_reason: Set(None),
        coordinator_organisation_id: Set(None),
        coordinator_reason: Set(None),
        coordinator_reason_text: Set(None),
        created_by: Set(principal.user_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit_plan(
        &txn,
        principal,
        meta,
        AuditAction::CoordinatedPlanStarted,
        &plan,
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(plan))
}

async fn existing_plan(
    db: &DatabaseConnection,
    case_id: Uuid,
) -> AppResult<Result<coordinated_plan::Model, UserError>> {
    Ok(plan_of(db, case_id).await?.ok_or_else(|| {
        UserError::on_field(
            UserErrorCode::InvalidValue,
            "caseId",
            "Start the coordinated plan first.",
        )
    }))
}

/// Chooses the coordinating organisation with a reason; it need not be the initiator.
pub async fn choose_coordinator(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    organisation_id: Uuid,
    reason: CoordinatorReason,
    reason_text: Option<&str>,
) -> AppResult<Result<coordinated_plan::Model, UserError>> {
    case_to_plan(db, principal, meta, case_id).await?;
    let plan = match existing_plan(db, case_id).await? {
        Ok(plan) => plan,
        Err(problem) => return Ok(Err(problem)),
    };
    if organisation_in_tenant(db, principal, organisation_id)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "organisationId",
            "Choose an agency of your municipality.",
        )));
    }
    let text = reason_text.map(str::trim).filter(|t| !t.is_empty());
    if reason == CoordinatorReason::Other && text.is_none() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "reasonText",
            "Say why this agency coordinates.",
        )));
    }
    if text.is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "reasonText",
            format!("Use at most {MAX_TEXT_CHARS} characters."),
        )));
    }
    let txn = db.begin().await?;
    let mut active = plan.into_active_model();
    active.coordinator_organisation_id = Set(Some(organisation_id));
    active.coordinator_reason = Set(Some(reason));
    active.coordinator_reason_text = Set(text.map(str::to_owned));
    let plan = active.update(&txn).await?;
    audit_plan(&txn, principal, meta, AuditAction::CoordinatorChosen, &plan).await?;
    txn.commit().await?;
    Ok(Ok(plan))
}

/// An intervention to add to a plan.
pub struct NewIntervention {
    pub description: String,
    pub responsible_organisation_id: Uuid,
    pub starts_on: NaiveDate,
    pub coordinated_by: CoordinatedBy,
}

/// Adds an intervention: what, which organisation is responsible, from when,
/// and who coordinates with that organisation on the family's behalf.
pub async fn add_intervention(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    new: NewIntervention,
) -> AppResult<Result<coordinated_plan::Model, UserError>> {
    case_to_plan(db, principal, meta, case_id).await?;
    let plan = match existing_plan(db, case_id).await? {
        Ok(plan) => plan,
        Err(problem) => return Ok(Err(problem)),
    };
    let description = new.description.trim();
    if description.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "description",
            "Say what is to be done.",
        )));
    }
    if description.chars().count() > MAX_TEXT_CHARS {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "description",
            format!("Use at most {MAX_TEXT_CHARS} characters."),
        )));
    }
    if organisation_in_tenant(db, principal, new.responsible_organisation_id)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "responsibleOrganisationId",
            "Choose an agency of your municipality.",
        )));
    }
    let txn = db.begin().await?;
    plan_intervention::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan.id),
        description: Set(description.to_owned()),
        responsible_organisation_id: Set(new.responsible_organisation_id),
        starts_on: Set(new.starts_on),
        coordinated_by: Set(new.coordinated_by),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit_plan(
        &txn,
        principal,
        meta,
        AuditAction::PlanInterventionAdded,
        &plan,
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(plan))
}

/// Records that the coordination meeting was held, and whether and how the
/// child took part (and why not, when not).
pub async fn record_meeting(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    held_on: NaiveDate,
    participation: ChildParticipation,
    non_participation_reason: Option<&str>,
) -> AppResult<Result<coordinated_plan::Model, UserError>> {
    let view = case_to_plan(db, principal, meta, case_id).await?;
    let plan = match existing_plan(db, case_id).await? {
        Ok(plan) => plan,
        Err(problem) => return Ok(Err(problem)),
    };
    if held_on > view.today() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "heldOn",
            "Record the meeting once it has been held.",
        )));
    }
    if held_on < plan.initiated_on {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "heldOn",
            "The meeting cannot be before the plan was initiated.",
        )));
    }
    let reason = non_participation_reason
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if participation == ChildParticipation::DidNotTakePart && reason.is_none() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "childNonParticipationReason",
            "Say why the child did not take part.",
        )));
    }
    if reason.is_some_and(|r| r.chars().count() > MAX_TEXT_CHARS) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::TooLong,
            "childNonParticipationReason",
            format!("Use at most {MAX_TEXT_CHARS} characters."),
        )));
    }
    let txn = db.begin().await?;
    let mut active = plan.into_active_model();
    active.meeting_held_on = Set(Some(held_on));
    active.child_participation = Set(Some(participation));
    active.child_non_participation_reason =
        Set(if participation == ChildParticipation::DidNotTakePart {
            reason.map(str::to_owned)
        } else {
            None
        });
    let plan = active.update(&txn).await?;
    audit_plan(
        &txn,
        principal,
        meta,
        AuditAction::CoordinationMeetingRecorded,
        &plan,
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coordination_meeting_is_due_within_three_weeks() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        assert_eq!(
            meeting_due(start),
            NaiveDate::from_ymd_opt(2026, 4, 10).unwrap()
        );
    }
}
