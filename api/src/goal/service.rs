//! Goal logic. A goal is seen through its case (the `GOALS` category) and its
//! visibility (`can_see_goal`); staff on the case manage goals, the family
//! proposes them, ticks off its steps and adds progress.

use chrono::{NaiveDate, TimeZone, Utc};
use entity::{
    care_case::{self, CaseStatus},
    consent,
    family_member::MemberKind,
    follow_up, follow_up_rating, goal,
    goal::{GoalOwner, GoalStatus, GoalVisibility, Horizon},
    goal_change, goal_progress, goal_step, organisation,
    user_event::UserEventKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    audit::{self, AuditAction, AuditEntry},
    auth::{
        Principal,
        case_policy::{
            CaseAccess, CaseRelation, Categories, Category, can_see_goal, manages_goals,
        },
    },
    case::service::{CaseView, ReadAudit, case, due_date},
    error::{AppError, AppResult},
    events::{
        self,
        hub::{Announcement, Hub},
        service::{NewEvent, Notify},
    },
    graphql::{RequestMeta, UserError, UserErrorCode},
};

const MAX_TITLE_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 4000;

/// Whether a status change is allowed: PROPOSED → ACTIVE | CANCELLED;
/// ACTIVE ⇄ ON_HOLD; ACTIVE | ON_HOLD → ACHIEVED | NOT_ACHIEVED | CANCELLED.
pub fn transition_allowed(from: GoalStatus, to: GoalStatus) -> bool {
    use GoalStatus::*;
    matches!(
        (from, to),
        (Proposed, Active)
            | (Proposed, Cancelled)
            | (Active, OnHold)
            | (OnHold, Active)
            | (Active | OnHold, Achieved | NotAchieved | Cancelled)
    )
}

/// The goals of a case the viewer may see, oldest first.
pub async fn goals_of_case(
    db: &DatabaseConnection,
    view: &CaseView,
) -> AppResult<Vec<goal::Model>> {
    view.require(Category::Goals)?;
    let rows = goal::Entity::find()
        .filter(goal::Column::CaseId.eq(view.model.id))
        .order_by_asc(goal::Column::CreatedAt)
        .order_by_asc(goal::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|g| can_see_goal(&view.access, g.visibility))
        .collect())
}

/// One goal the viewer may see, with its case; `NOT_FOUND` otherwise.
pub async fn goal(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<(goal::Model, CaseView)> {
    let row = goal::Entity::find_by_id(id)
        .filter(goal::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("goal"))?;
    let view = case(db, principal, meta, read_audit, row.case_id)
        .await
        .map_err(|_| AppError::NotFound("goal"))?;
    if !can_see_goal(&view.access, row.visibility) {
        return Err(AppError::NotFound("goal"));
    }
    Ok((row, view))
}

async fn record_change(
    txn: &DatabaseTransaction,
    goal_id: Uuid,
    by: Uuid,
    field: &str,
    old: Option<String>,
    new: Option<String>,
    reason: Option<String>,
) -> AppResult<()> {
    goal_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        goal_id: Set(goal_id),
        changed_by: Set(by),
        changed_at: Set(Utc::now()),
        field: Set(field.to_owned()),
        old_value: Set(old),
        new_value: Set(new),
        reason: Set(reason),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Records a change of a goal in its transaction: the audit entry, and a
/// `GOAL_CHANGED` event for everyone else on the case who can see the goal.
/// Family members are notified; staff hear of it in their stream, and the
/// primary caseworker is notified when the family made the change. Returns
/// the announcements to make once the transaction commits.
async fn record_goal_change(
    txn: &DatabaseTransaction,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    action: AuditAction,
    goal: &goal::Model,
    view: &CaseView,
) -> AppResult<Vec<Announcement>> {
    audit::append(
        txn,
        AuditEntry::new(action, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Goal", goal.id)
            .case(goal.case_id)
            .request(&meta.request_id),
    )
    .await?;
    let Some(facts) = view.bundle.facts.get(&view.model.id) else {
        return Ok(Vec::new());
    };
    let by_family = !view.access.relation.is_staff();
    let sees = |relation: CaseRelation| {
        can_see_goal(
            &CaseAccess {
                relation,
                categories: Categories::all(),
            },
            goal.visibility,
        )
    };
    let mut recipients: Vec<(Uuid, Notify)> = Vec::new();
    for member in &facts.members {
        let relation = match member.kind {
            MemberKind::Guardian => CaseRelation::Guardian,
            MemberKind::Child if member.focus_child => CaseRelation::YoungPerson,
            _ => continue,
        };
        if sees(relation) {
            recipients.push((member.user_id, Notify::RespectingQuietHours));
        }
    }
    let primary_notify = if by_family {
        Notify::RespectingQuietHours
    } else {
        Notify::No
    };
    recipients.push((facts.primary_caseworker_id, primary_notify));
    recipients.extend(facts.partner_caseworker_id.map(|p| (p, Notify::No)));
    if sees(CaseRelation::FamilyTherapist) {
        recipients.extend(facts.therapist_ids.iter().map(|t| (*t, Notify::No)));
    }
    let mut seen = std::collections::HashSet::new();
    let events = recipients
        .into_iter()
        .filter(|(user, _)| *user != principal.user_id && seen.insert(*user))
        .map(|(user, notify)| NewEvent {
            case_id: Some(goal.case_id),
            subject_id: Some(goal.id),
            actor_id: Some(principal.user_id),
            notify,
            ..NewEvent::new(user, UserEventKind::GoalChanged)
        })
        .collect();
    let announcements =
        events::service::append(txn, principal.tenant_id, events, Utc::now()).await?;
    hub.announce_in(txn, &announcements).await?;
    Ok(announcements)
}

/// A goal to create.
pub struct NewGoal {
    pub title: String,
    pub description: String,
    pub horizon: Horizon,
    pub child_member_id: Option<Uuid>,
    pub owner: GoalOwner,
    pub owner_organisation_id: Option<Uuid>,
    pub target_date: Option<NaiveDate>,
    pub visibility: GoalVisibility,
    /// Staff may create it active; a family member's goal is always proposed.
    pub activate: bool,
}

/// Creates a goal: staff on the case (proposed or active), or a guardian or the
/// young person (always proposed; staff activate it).
pub async fn create_goal(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    new: NewGoal,
) -> AppResult<Result<goal::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    let staff = manages_goals(view.access.relation);
    let family = matches!(
        view.access.relation,
        CaseRelation::Guardian | CaseRelation::YoungPerson
    );
    if !(staff || family) {
        return Err(AppError::Forbidden);
    }
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "The case is not open.",
        )));
    }
    if let Some(problem) = UserError::check_text(
        "title",
        &new.title,
        MAX_TITLE_CHARS,
        "Give the goal a short title.",
    )
    .or_else(|| {
        UserError::check_text(
            "description",
            &new.description,
            MAX_TEXT_CHARS,
            "Describe the goal in words everyone understands.",
        )
    }) {
        return Ok(Err(problem));
    }
    if !can_see_goal(&view.access, new.visibility) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "visibility",
            "You could not see a goal with this visibility.",
        )));
    }
    if let Some(child) = new.child_member_id
        && !view
            .bundle
            .focus
            .get(&case_id)
            .is_some_and(|ids| ids.contains(&child))
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "childId",
            "Choose a child the case is about.",
        )));
    }
    if new.owner == GoalOwner::Agency {
        let Some(org) = new.owner_organisation_id else {
            return Ok(Err(UserError::on_field(
                UserErrorCode::Required,
                "ownerOrganisationId",
                "Choose the agency that owns the goal.",
            )));
        };
        let known = organisation::Entity::find_by_id(org)
            .one(db)
            .await?
            .is_some_and(|o| o.tenant_id == principal.tenant_id);
        if !known {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "ownerOrganisationId",
                "Choose an agency of your municipality.",
            )));
        }
    }
    if let Some(target) = new.target_date
        && target < view.today()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "targetDate",
            "The target date is in the past.",
        )));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let created = goal::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        title: Set(new.title.trim().to_owned()),
        description: Set(new.description.trim().to_owned()),
        horizon: Set(new.horizon),
        child_member_id: Set(new.child_member_id),
        owner: Set(new.owner),
        owner_organisation_id: Set(if new.owner == GoalOwner::Agency {
            new.owner_organisation_id
        } else {
            None
        }),
        target_date: Set(new.target_date),
        status: Set(if staff && new.activate {
            GoalStatus::Active
        } else {
            GoalStatus::Proposed
        }),
        visibility: Set(new.visibility),
        proposed_by: Set(principal.user_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_change(
        &txn,
        created.id,
        principal.user_id,
        "CREATED",
        None,
        Some(created.title.clone()),
        None,
    )
    .await?;
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalCreated,
        &created,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(Ok(created))
}

/// Moves a goal through its life cycle (staff on the case), with a reason.
pub async fn change_goal_status(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    goal_id: Uuid,
    status: GoalStatus,
    reason: &str,
) -> AppResult<Result<goal::Model, UserError>> {
    let (row, view) = goal(db, principal, meta, &ReadAudit::default(), goal_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = UserError::check_text(
        "reason",
        reason,
        MAX_TEXT_CHARS,
        "Say why the goal changes.",
    ) {
        return Ok(Err(problem));
    }
    if !transition_allowed(row.status, status) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "status",
            format!("A goal cannot go from {:?} to {:?}.", row.status, status),
        )));
    }
    let old = row.status;
    let txn = db.begin().await?;
    let mut active = row.into_active_model();
    active.status = Set(status);
    active.version = Set(active.version.as_ref() + 1);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    record_change(
        &txn,
        updated.id,
        principal.user_id,
        "STATUS",
        Some(status_name(old).to_owned()),
        Some(status_name(status).to_owned()),
        Some(reason.trim().to_owned()),
    )
    .await?;
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalChanged,
        &updated,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(Ok(updated))
}

fn status_name(status: GoalStatus) -> &'static str {
    match status {
        GoalStatus::Proposed => "PROPOSED",
        GoalStatus::Active => "ACTIVE",
        GoalStatus::OnHold => "ON_HOLD",
        GoalStatus::Achieved => "ACHIEVED",
        GoalStatus::NotAchieved => "NOT_ACHIEVED",
        GoalStatus::Cancelled => "CANCELLED",
    }
}

/// Who a step is for.
pub enum StepAssignee {
    FamilyMember(Uuid),
    Staff(Uuid),
    Organisation(Uuid),
}

/// Adds a step to a goal (staff on the case). The assignee must be on the case:
/// a member of the family, a member of staff working it, or an agency with a
/// live consent (or owning the goal).
#[allow(clippy::too_many_arguments)]
pub async fn add_step(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    goal_id: Uuid,
    description: &str,
    assignee: StepAssignee,
    due_on: Option<NaiveDate>,
) -> AppResult<Result<goal_step::Model, UserError>> {
    let (row, view) = goal(db, principal, meta, &ReadAudit::default(), goal_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = UserError::check_text(
        "description",
        description,
        MAX_TEXT_CHARS,
        "Say what is to be done.",
    ) {
        return Ok(Err(problem));
    }
    let bundle = &view.bundle;
    let on_case = match assignee {
        StepAssignee::FamilyMember(id) => bundle
            .members
            .get(&view.model.family_id)
            .is_some_and(|members| members.iter().any(|m| m.id == id)),
        StepAssignee::Staff(id) => {
            view.model.primary_caseworker_id == id
                || view.model.partner_caseworker_id == Some(id)
                || bundle
                    .therapists
                    .get(&view.model.id)
                    .is_some_and(|t| t.contains(&id))
        }
        StepAssignee::Organisation(id) => {
            let now = Utc::now();
            row.owner_organisation_id == Some(id)
                || consent::Entity::find()
                    .filter(consent::Column::CaseId.eq(view.model.id))
                    .filter(consent::Column::OrganisationId.eq(id))
                    .all(db)
                    .await?
                    .iter()
                    .any(|c| crate::auth::case_policy::ConsentFacts::from(c).live_at(now))
        }
    };
    if !on_case {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "assignee",
            "Choose someone who is on the case.",
        )));
    }
    let (member, user, organisation) = match assignee {
        StepAssignee::FamilyMember(id) => (Some(id), None, None),
        StepAssignee::Staff(id) => (None, Some(id), None),
        StepAssignee::Organisation(id) => (None, None, Some(id)),
    };
    let txn = db.begin().await?;
    let step = goal_step::ActiveModel {
        id: Set(Uuid::now_v7()),
        goal_id: Set(goal_id),
        description: Set(description.trim().to_owned()),
        assignee_member_id: Set(member),
        assignee_user_id: Set(user),
        assignee_organisation_id: Set(organisation),
        due_on: Set(due_on),
        done_at: Set(None),
        done_by: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalChanged,
        &row,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(Ok(step))
}

/// Ticks a step off (or on again): staff on the case for any step, a family
/// member for their own steps.
pub async fn complete_step(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    step_id: Uuid,
    done: bool,
) -> AppResult<goal_step::Model> {
    let step = goal_step::Entity::find_by_id(step_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("step"))?;
    let (row, view) = goal(db, principal, meta, &ReadAudit::default(), step.goal_id)
        .await
        .map_err(|_| AppError::NotFound("step"))?;
    let own_step = step.assignee_member_id.is_some_and(|member| {
        view.bundle
            .members
            .get(&view.model.family_id)
            .is_some_and(|members| {
                members
                    .iter()
                    .any(|m| m.id == member && m.user_id == Some(principal.user_id))
            })
    });
    if !(manages_goals(view.access.relation) || own_step) {
        return Err(AppError::Forbidden);
    }
    let txn = db.begin().await?;
    let mut active = step.into_active_model();
    active.done_at = Set(done.then(Utc::now));
    active.done_by = Set(done.then_some(principal.user_id));
    let updated = active.update(&txn).await?;
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalChanged,
        &row,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(updated)
}

/// Adds a progress note, optionally with the author's 1–5 rating; anyone who
/// sees the goal may.
pub async fn add_progress(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    goal_id: Uuid,
    note: &str,
    rating: Option<i32>,
) -> AppResult<Result<goal_progress::Model, UserError>> {
    let (row, view) = goal(db, principal, meta, &ReadAudit::default(), goal_id).await?;
    if let Some(problem) =
        UserError::check_text("note", note, MAX_TEXT_CHARS, "Write a short note.")
    {
        return Ok(Err(problem));
    }
    if let Some(rating) = rating
        && !(1..=5).contains(&rating)
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "rating",
            "Rate from 1 (not at all) to 5 (fully).",
        )));
    }
    let txn = db.begin().await?;
    let progress = goal_progress::ActiveModel {
        id: Set(Uuid::now_v7()),
        goal_id: Set(goal_id),
        author_id: Set(principal.user_id),
        note: Set(note.trim().to_owned()),
        rating: Set(rating.map(|r| r as i16)),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalProgressAdded,
        &row,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(Ok(progress))
}

/// A follow-up review to record.
pub struct NewFollowUp {
    pub held_on: NaiveDate,
    pub participants: Vec<String>,
    pub ratings: Vec<(Uuid, i32)>,
    pub notes: Option<String>,
    pub decisions: Option<String>,
}

/// Records a follow-up review (staff who work the case): a 1–5 rating for
/// every active goal. Sets `lastFollowUpAt`, which moves `nextFollowUpDue` by
/// the case's cadence.
pub async fn record_follow_up(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    new: NewFollowUp,
) -> AppResult<Result<follow_up::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !view.access.relation.works_the_case() {
        return Err(AppError::Forbidden);
    }
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "Follow-ups are recorded on open cases only.",
        )));
    }
    if new.held_on > view.today() || new.held_on < view.model.opened_on {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "heldOn",
            "The review must be held between the opening of the case and today.",
        )));
    }
    let participants: Vec<String> = new
        .participants
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if participants.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "participants",
            "Who took part?",
        )));
    }
    let active: Vec<goal::Model> = goal::Entity::find()
        .filter(goal::Column::CaseId.eq(case_id))
        .filter(goal::Column::Status.eq(GoalStatus::Active))
        .all(db)
        .await?;
    for (index, (goal_id, rating)) in new.ratings.iter().enumerate() {
        if !(1..=5).contains(rating) {
            return Ok(Err(UserError {
                code: UserErrorCode::InvalidValue,
                message: "Rate from 1 (not at all) to 5 (fully).".into(),
                field: Some(vec![
                    "input".into(),
                    "ratings".into(),
                    index.to_string(),
                    "rating".into(),
                ]),
            }));
        }
        if !active.iter().any(|g| g.id == *goal_id) {
            return Ok(Err(UserError {
                code: UserErrorCode::InvalidValue,
                message: "Only the case's active goals are rated.".into(),
                field: Some(vec![
                    "input".into(),
                    "ratings".into(),
                    index.to_string(),
                    "goalId".into(),
                ]),
            }));
        }
    }
    if let Some(missing) = active
        .iter()
        .find(|g| !new.ratings.iter().any(|(id, _)| *id == g.id))
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "ratings",
            format!("Rate every active goal; \"{}\" is missing.", missing.title),
        )));
    }
    let now = Utc::now();
    // Held today: now; held earlier: midday of that day in the municipality.
    let held_at = if new.held_on == view.today() {
        now
    } else {
        view.zone
            .from_local_datetime(&new.held_on.and_hms_opt(12, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let txn = db.begin().await?;
    let review = follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        held_on: Set(new.held_on),
        participants: Set(participants.join("\n")),
        notes: Set(new
            .notes
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())),
        decisions: Set(new
            .decisions
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())),
        recorded_by: Set(principal.user_id),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    for (goal_id, rating) in &new.ratings {
        follow_up_rating::ActiveModel {
            follow_up_id: Set(review.id),
            goal_id: Set(*goal_id),
            rating: Set(*rating as i16),
        }
        .insert(&txn)
        .await?;
    }
    let mut model = view.model.clone();
    let latest = model.last_follow_up_at.is_none_or(|last| held_at > last);
    if latest {
        model.last_follow_up_at = Some(held_at);
        model.next_follow_up_due = due_date(&model, view.zone);
        let mut case_row = view.model.clone().into_active_model();
        case_row.last_follow_up_at = Set(model.last_follow_up_at);
        case_row.next_follow_up_due = Set(model.next_follow_up_due);
        case_row.version = Set(view.model.version + 1);
        case_row.updated_at = Set(now);
        care_case::Entity::update(case_row).exec(&txn).await?;
    }
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::FollowUpRecorded, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("FollowUp", review.id)
            .case(case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(review))
}

/// Changes to a goal's text, owner, horizon or target date.
pub struct GoalChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub horizon: Option<Horizon>,
    pub owner: Option<GoalOwner>,
    pub owner_organisation_id: Option<Uuid>,
    pub target_date: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Changes a goal (staff on the case); every changed field is kept in the
/// goal's history with who, when and why. A stale `version` is refused.
pub async fn update_goal(
    db: &DatabaseConnection,
    hub: &Hub,
    principal: &Principal,
    meta: &RequestMeta,
    goal_id: Uuid,
    version: i32,
    changes: GoalChanges,
) -> AppResult<Result<goal::Model, UserError>> {
    let (row, view) = goal(db, principal, meta, &ReadAudit::default(), goal_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    if row.version != version {
        return Ok(Err(UserError::on_field(
            UserErrorCode::StaleVersion,
            "version",
            "Someone else changed the goal meanwhile; reload it.",
        )));
    }
    if let Some(title) = &changes.title
        && let Some(problem) = UserError::check_text(
            "title",
            title,
            MAX_TITLE_CHARS,
            "Give the goal a short title.",
        )
    {
        return Ok(Err(problem));
    }
    if let Some(description) = &changes.description
        && let Some(problem) = UserError::check_text(
            "description",
            description,
            MAX_TEXT_CHARS,
            "Describe the goal.",
        )
    {
        return Ok(Err(problem));
    }
    if let Some(target) = changes.target_date
        && target < view.today()
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "targetDate",
            "The target date is in the past.",
        )));
    }
    let owner = changes.owner.unwrap_or(row.owner);
    let owner_organisation = if owner == GoalOwner::Agency {
        changes.owner_organisation_id.or(row.owner_organisation_id)
    } else {
        None
    };
    if owner == GoalOwner::Agency {
        let known = match owner_organisation {
            Some(org) => organisation::Entity::find_by_id(org)
                .one(db)
                .await?
                .is_some_and(|o| o.tenant_id == principal.tenant_id),
            None => false,
        };
        if !known {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "ownerOrganisationId",
                "Choose the agency that owns the goal.",
            )));
        }
    }
    let reason = changes
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let mut changed: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
    let mut next = row.clone();
    if let Some(title) = changes
        .title
        .map(|t| t.trim().to_owned())
        .filter(|t| *t != row.title)
    {
        changed.push(("TITLE", Some(row.title.clone()), Some(title.clone())));
        next.title = title;
    }
    if let Some(description) = changes
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| *d != row.description)
    {
        changed.push((
            "DESCRIPTION",
            Some(row.description.clone()),
            Some(description.clone()),
        ));
        next.description = description;
    }
    if let Some(horizon) = changes.horizon.filter(|h| *h != row.horizon) {
        changed.push((
            "HORIZON",
            Some(format!("{:?}", row.horizon)),
            Some(format!("{horizon:?}")),
        ));
        next.horizon = horizon;
    }
    if owner != row.owner || owner_organisation != row.owner_organisation_id {
        changed.push((
            "OWNER",
            Some(format!("{:?}", row.owner)),
            Some(format!("{owner:?}")),
        ));
        next.owner = owner;
        next.owner_organisation_id = owner_organisation;
    }
    if let Some(target) = changes.target_date.filter(|t| Some(*t) != row.target_date) {
        changed.push((
            "TARGET_DATE",
            row.target_date.map(|d| d.to_string()),
            Some(target.to_string()),
        ));
        next.target_date = Some(target);
    }
    if changed.is_empty() {
        return Ok(Ok(row));
    }
    let txn = db.begin().await?;
    let mut active = next.clone().into_active_model();
    active.title = Set(next.title.clone());
    active.description = Set(next.description.clone());
    active.horizon = Set(next.horizon);
    active.owner = Set(next.owner);
    active.owner_organisation_id = Set(next.owner_organisation_id);
    active.target_date = Set(next.target_date);
    active.version = Set(row.version + 1);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    for (field, old, new) in changed {
        record_change(
            &txn,
            updated.id,
            principal.user_id,
            field,
            old,
            new,
            reason.clone(),
        )
        .await?;
    }
    let announcements = record_goal_change(
        &txn,
        hub,
        principal,
        meta,
        AuditAction::GoalChanged,
        &updated,
        &view,
    )
    .await?;
    txn.commit().await?;
    hub.announce_committed(&announcements);
    Ok(Ok(updated))
}

/// A Signs of Safety assessment to record.
pub struct NewAssessment {
    pub assessed_on: NaiveDate,
    pub perspective: entity::safety_assessment::Perspective,
    pub worries: Vec<String>,
    pub working_well: Vec<String>,
    pub needs_to_happen: Vec<String>,
    pub scale: i32,
}

fn lines(items: Vec<String>) -> String {
    items
        .into_iter()
        .map(|i| i.replace('\n', " ").trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Records a Signs of Safety assessment (staff on the case): the three columns,
/// the 0–10 scaling question, whose view it is and when. Earlier ones are kept.
pub async fn record_assessment(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    new: NewAssessment,
) -> AppResult<Result<entity::safety_assessment::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !manages_goals(view.access.relation) {
        return Err(AppError::Forbidden);
    }
    if !(0..=10).contains(&new.scale) {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "scale",
            "The scale goes from 0 to 10.",
        )));
    }
    if new.assessed_on > view.today() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "assessedOn",
            "The assessment date is in the future.",
        )));
    }
    let total: usize = [&new.worries, &new.working_well, &new.needs_to_happen]
        .iter()
        .flat_map(|column| column.iter())
        .map(|item| item.chars().count())
        .sum();
    if total > MAX_TEXT_CHARS * 3 {
        return Ok(Err(UserError::general(
            UserErrorCode::TooLong,
            "The assessment is too long.",
        )));
    }
    let txn = db.begin().await?;
    let row = entity::safety_assessment::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        assessed_on: Set(new.assessed_on),
        perspective: Set(new.perspective),
        worries: Set(lines(new.worries)),
        working_well: Set(lines(new.working_well)),
        needs_to_happen: Set(lines(new.needs_to_happen)),
        scale: Set(new.scale as i16),
        recorded_by: Set(principal.user_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(
            AuditAction::SafetyAssessmentRecorded,
            Some(principal.tenant_id),
        )
        .actor(principal.user_id)
        .subject("Case", case_id)
        .case(case_id)
        .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(row))
}

/// Records a strength or resource of the family (staff on the case, or the
/// family itself).
pub async fn add_strength(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    description: &str,
) -> AppResult<Result<entity::family_strength::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    let family = matches!(
        view.access.relation,
        CaseRelation::Guardian | CaseRelation::YoungPerson
    );
    if !(manages_goals(view.access.relation) || family) {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = UserError::check_text(
        "description",
        description,
        MAX_TEXT_CHARS,
        "Describe the strength or resource.",
    ) {
        return Ok(Err(problem));
    }
    let txn = db.begin().await?;
    let row = entity::family_strength::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        description: Set(description.trim().to_owned()),
        recorded_by: Set(principal.user_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::FamilyStrengthAdded, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Case", case_id)
            .case(case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_move_through_their_life_cycle_only_forward_or_between_active_and_on_hold() {
        use GoalStatus::*;
        assert!(transition_allowed(Proposed, Active));
        assert!(transition_allowed(Active, OnHold));
        assert!(transition_allowed(OnHold, Active));
        assert!(transition_allowed(Active, Achieved));
        assert!(!transition_allowed(Proposed, Achieved));
        assert!(!transition_allowed(Achieved, Active));
        assert!(!transition_allowed(Cancelled, Proposed));
    }
}
