//! Goal queries and mutations.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::types::{FamilyStrength, SafetyAssessment, SafetyPerspective};
use super::{
    service::{self, NewFollowUp, NewGoal, StepAssignee},
    types::{
        FollowUp, Goal, GoalHorizon, GoalOwner, GoalProgressEntry, GoalStatus, GoalStep,
        GoalVisibility,
    },
};
use crate::graphql::scalars::Date;
use crate::{
    case::{query::read_audit, service as cases},
    graphql::{
        ContextExt, UserError, UserErrorCode,
        node::{GlobalId, NodeKind},
    },
};

use crate::graphql::pagination::{MAX_LIST_SIZE, MAX_PAGE_SIZE, list_size};
/// A new goal.
#[derive(Debug, InputObject)]
pub struct CreateGoalInput {
    /// The case.
    pub case_id: ID,
    /// A short title.
    pub title: String,
    /// The goal, concretely, in the family's words.
    pub description: String,
    /// Short- or long-term.
    pub horizon: GoalHorizon,
    /// The child it concerns (one of the case's focus children).
    pub child_id: Option<ID>,
    /// Who owns it.
    pub owner: GoalOwner,
    /// The owning agency, for `AGENCY`.
    pub owner_organisation_id: Option<ID>,
    /// When it should be reached (not in the past).
    pub target_date: Option<Date>,
    /// Who may see it (default `FAMILY`).
    pub visibility: Option<GoalVisibility>,
    /// Staff: create it active right away (default: proposed). Ignored for
    /// family members, whose goals are always proposed.
    #[graphql(default)]
    pub activate: bool,
}

/// Changes to a goal.
#[derive(Debug, InputObject)]
pub struct UpdateGoalInput {
    /// The goal.
    pub goal_id: ID,
    /// The `version` the client last read (see `Goal.version`).
    pub version: i32,
    /// A new title.
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new horizon.
    pub horizon: Option<GoalHorizon>,
    /// A new owner.
    pub owner: Option<GoalOwner>,
    /// The owning agency, for `AGENCY`.
    pub owner_organisation_id: Option<ID>,
    /// A new target date (not in the past).
    pub target_date: Option<Date>,
    /// Why it changes (kept in the history).
    pub reason: Option<String>,
}

/// A status change.
#[derive(Debug, InputObject)]
pub struct ChangeGoalStatusInput {
    /// The goal.
    pub goal_id: ID,
    /// The new status.
    pub status: GoalStatus,
    /// Why (required).
    pub reason: String,
}

/// A new step.
#[derive(Debug, InputObject)]
pub struct AddGoalStepInput {
    /// The goal.
    pub goal_id: ID,
    /// What is to be done.
    pub description: String,
    /// A family member who does it.
    pub family_member_id: Option<ID>,
    /// A member of staff on the case who does it.
    pub user_id: Option<ID>,
    /// An agency on the case (with a consent, or owning the goal) that does it.
    pub organisation_id: Option<ID>,
    /// By when.
    pub due_on: Option<Date>,
}

/// Ticking a step off.
#[derive(Debug, InputObject)]
pub struct SetGoalStepDoneInput {
    /// The step.
    pub step_id: ID,
    /// Done (true) or not done after all (false).
    pub done: bool,
}

/// A progress note.
#[derive(Debug, InputObject)]
pub struct AddGoalProgressInput {
    /// The goal.
    pub goal_id: ID,
    /// A short note.
    pub note: String,
    /// The author's own rating, 1 (not at all) to 5 (fully).
    pub rating: Option<i32>,
}

/// One goal's rating at a review.
#[derive(Debug, InputObject)]
pub struct GoalRatingInput {
    /// The goal (an active goal of the case).
    pub goal_id: ID,
    /// 1 = not at all … 5 = fully achieved.
    pub rating: i32,
}

/// A follow-up review.
#[derive(Debug, InputObject)]
pub struct RecordFollowUpInput {
    /// The case (open).
    pub case_id: ID,
    /// When it was held (not in the future).
    pub held_on: Date,
    /// Who took part.
    pub participants: Vec<String>,
    /// A rating for every active goal.
    pub ratings: Vec<GoalRatingInput>,
    /// Notes.
    pub notes: Option<String>,
    /// Decisions (goal achieved, changed, new goals).
    pub decisions: Option<String>,
}

/// The result of a goal mutation.
#[derive(SimpleObject)]
pub struct GoalPayload {
    /// The goal after the change; null when there are user errors.
    pub goal: Option<Goal>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// The result of `addGoalStep` and `setGoalStepDone`.
#[derive(SimpleObject)]
pub struct GoalStepPayload {
    /// The step; null when there are user errors.
    pub step: Option<GoalStep>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// The result of `addGoalProgress`.
#[derive(SimpleObject)]
pub struct GoalProgressPayload {
    /// The entry; null when there are user errors.
    pub progress: Option<GoalProgressEntry>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// The result of `recordFollowUp`.
#[derive(SimpleObject)]
pub struct FollowUpPayload {
    /// The review; null when there are user errors.
    pub follow_up: Option<FollowUp>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

fn optional_id(
    id: &Option<ID>,
    kind: NodeKind,
    field: &[&str],
) -> Result<Option<uuid::Uuid>, crate::error::AppError> {
    id.as_ref()
        .map(|id| GlobalId::expect(id, kind, field))
        .transpose()
}

async fn goal_payload(
    ctx: &Context<'_>,
    outcome: Result<entity::goal::Model, UserError>,
) -> Result<GoalPayload> {
    Ok(match outcome {
        Ok(model) => {
            let principal = ctx.viewer().principal()?;
            let (model, view) = service::goal(
                &ctx.state().db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                model.id,
            )
            .await?;
            GoalPayload {
                goal: Some(Goal {
                    model,
                    case: Arc::new(view),
                }),
                user_errors: Vec::new(),
            }
        }
        Err(problem) => GoalPayload {
            goal: None,
            user_errors: vec![problem],
        },
    })
}

/// A Signs of Safety assessment.
#[derive(Debug, InputObject)]
pub struct RecordSafetyAssessmentInput {
    /// The case.
    pub case_id: ID,
    /// When it was assessed (not in the future).
    pub assessed_on: Date,
    /// Whose view it is.
    pub perspective: SafetyPerspective,
    /// What we are worried about.
    pub worries: Vec<String>,
    /// What is working well.
    pub working_well: Vec<String>,
    /// What needs to happen.
    pub needs_to_happen: Vec<String>,
    /// 0 (not safe at all) to 10 (safe enough to close the case).
    pub scale: i32,
}

/// The result of `recordSafetyAssessment`.
#[derive(SimpleObject)]
pub struct SafetyAssessmentPayload {
    /// The assessment; null when there are user errors.
    pub assessment: Option<SafetyAssessment>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// A strength or resource of the family.
#[derive(Debug, InputObject)]
pub struct AddFamilyStrengthInput {
    /// The case.
    pub case_id: ID,
    /// The strength or resource.
    pub description: String,
}

/// The result of `addFamilyStrength`.
#[derive(SimpleObject)]
pub struct FamilyStrengthPayload {
    /// The strength; null when there are user errors.
    pub strength: Option<FamilyStrength>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Goal queries.
#[derive(Default)]
pub struct GoalQuery;

#[Object]
impl GoalQuery {
    /// For staff: their open cases whose follow-up is due on or before
    /// `before` (overdue ones first), each with the goals to review (at most 100).
    async fn follow_ups_due(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The last day to include.")] before: Date,
        #[graphql(desc = "At most this many (1 to 100; 100 when left out).")] first: Option<i32>,
    ) -> Result<Vec<crate::case::types::Case>> {
        let limit = list_size(first, MAX_PAGE_SIZE)?;
        let principal = ctx.viewer().principal()?;
        if !crate::auth::policy::is_staff(principal.role) {
            return Err(crate::error::AppError::Forbidden.into());
        }
        let (views, _) = cases::list_cases(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            cases::CaseFilter {
                statuses: Some(vec![entity::care_case::CaseStatus::Open]),
                due_by: Some(before.into()),
                ..Default::default()
            },
            i32::try_from(limit).unwrap_or(MAX_PAGE_SIZE),
            None,
        )
        .await?;
        Ok(views
            .into_iter()
            .filter(|v| {
                v.access.relation.works_the_case()
                    || v.access.relation == crate::auth::case_policy::CaseRelation::FamilyTherapist
            })
            .map(crate::case::types::Case)
            .collect())
    }

    /// For a family member: the active goals of their cases that they may see,
    /// with open steps, latest rating and the next review date.
    async fn my_goals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (1 to 500; 500 when left out).")] first: Option<i32>,
    ) -> Result<Vec<Goal>> {
        let limit = list_size(first, MAX_LIST_SIZE)?;
        use entity::{care_case, goal};
        use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
        let principal = ctx.viewer().principal()?;
        if crate::auth::policy::is_staff(principal.role) {
            return Ok(Vec::new());
        }
        let db = &ctx.state().db;
        // The active goals of the viewer's cases with their cases, in one
        // statement; whether the viewer may see each is decided below.
        let of_case = goal::Entity::belongs_to(care_case::Entity)
            .from(goal::Column::CaseId)
            .to(care_case::Column::Id)
            .into();
        let rows: Vec<(goal::Model, Option<care_case::Model>)> = goal::Entity::find()
            .select_also(care_case::Entity)
            .join(JoinType::InnerJoin, of_case)
            .filter(crate::auth::case_policy::case_scope(
                principal,
                chrono::Utc::now(),
            ))
            .filter(goal::Column::Status.eq(goal::GoalStatus::Active))
            .order_by_asc(goal::Column::CreatedAt)
            .order_by_asc(goal::Column::Id)
            .all(db)
            .await
            .map_err(crate::error::AppError::from)?;
        let mut case_rows: Vec<care_case::Model> = Vec::new();
        for (_, case) in &rows {
            if let Some(case) = case
                && !case_rows.iter().any(|c| c.id == case.id)
            {
                case_rows.push(case.clone());
            }
        }
        let views: Vec<Arc<cases::CaseView>> = cases::views_of(
            db,
            principal,
            &ctx.request_meta(),
            &read_audit(ctx),
            case_rows,
        )
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
        Ok(rows
            .into_iter()
            .filter_map(|(model, _)| {
                let view = views.iter().find(|v| v.model.id == model.case_id)?.clone();
                crate::auth::case_policy::can_see_goal(&view.access, model.visibility)
                    .then_some(Goal { model, case: view })
            })
            .take(limit)
            .collect())
    }
}

/// Goal mutations.
#[derive(Default)]
pub struct GoalMutation;

#[Object]
impl GoalMutation {
    /// Creates a goal: staff on the case (proposed, or active with `activate`),
    /// or a guardian or the young person (always proposed).
    async fn create_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The goal.")] input: CreateGoalInput,
    ) -> Result<GoalPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::create_goal(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            case_id,
            NewGoal {
                title: input.title,
                description: input.description,
                horizon: input.horizon.into(),
                child_member_id: optional_id(
                    &input.child_id,
                    NodeKind::FamilyMember,
                    &["input", "childId"],
                )?,
                owner: input.owner.into(),
                owner_organisation_id: optional_id(
                    &input.owner_organisation_id,
                    NodeKind::Organisation,
                    &["input", "ownerOrganisationId"],
                )?,
                target_date: input.target_date.map(Into::into),
                visibility: input.visibility.unwrap_or(GoalVisibility::Family).into(),
                activate: input.activate,
            },
        )
        .await?;
        goal_payload(ctx, outcome).await
    }

    /// Changes a goal's text, horizon, owner or target date (staff on the
    /// case); every change is kept in `Goal.changes`.
    async fn update_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateGoalInput,
    ) -> Result<GoalPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.goal_id, NodeKind::Goal, &["input", "goalId"])?;
        let outcome = service::update_goal(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            input.version,
            service::GoalChanges {
                title: input.title,
                description: input.description,
                horizon: input.horizon.map(Into::into),
                owner: input.owner.map(Into::into),
                owner_organisation_id: optional_id(
                    &input.owner_organisation_id,
                    NodeKind::Organisation,
                    &["input", "ownerOrganisationId"],
                )?,
                target_date: input.target_date.map(Into::into),
                reason: input.reason,
            },
        )
        .await?;
        goal_payload(ctx, outcome).await
    }

    /// Moves a goal through its life cycle (staff on the case), with a reason:
    /// PROPOSED → ACTIVE ⇄ ON_HOLD → ACHIEVED | NOT_ACHIEVED | CANCELLED.
    async fn change_goal_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: ChangeGoalStatusInput,
    ) -> Result<GoalPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.goal_id, NodeKind::Goal, &["input", "goalId"])?;
        let outcome = service::change_goal_status(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            input.status.into(),
            &input.reason,
        )
        .await?;
        goal_payload(ctx, outcome).await
    }

    /// Adds a step to a goal (staff on the case); give exactly one assignee.
    async fn add_goal_step(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The step.")] input: AddGoalStepInput,
    ) -> Result<GoalStepPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.goal_id, NodeKind::Goal, &["input", "goalId"])?;
        let member = optional_id(
            &input.family_member_id,
            NodeKind::FamilyMember,
            &["input", "familyMemberId"],
        )?;
        let user = optional_id(&input.user_id, NodeKind::User, &["input", "userId"])?;
        let organisation = optional_id(
            &input.organisation_id,
            NodeKind::Organisation,
            &["input", "organisationId"],
        )?;
        let assignee = match (member, user, organisation) {
            (Some(m), None, None) => StepAssignee::FamilyMember(m),
            (None, Some(u), None) => StepAssignee::Staff(u),
            (None, None, Some(o)) => StepAssignee::Organisation(o),
            _ => {
                return Ok(GoalStepPayload {
                    step: None,
                    user_errors: vec![UserError::general(
                        UserErrorCode::ExactlyOneRequired,
                        "Give exactly one of familyMemberId, userId and organisationId.",
                    )],
                });
            }
        };
        let outcome = service::add_step(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            &input.description,
            assignee,
            input.due_on.map(Into::into),
        )
        .await?;
        Ok(match outcome {
            Ok(step) => GoalStepPayload {
                step: Some(GoalStep(step)),
                user_errors: Vec::new(),
            },
            Err(problem) => GoalStepPayload {
                step: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Ticks a step off (or on again): a family member their own steps, staff
    /// on the case any step.
    async fn set_goal_step_done(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The step.")] input: SetGoalStepDoneInput,
    ) -> Result<GoalStepPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.step_id, NodeKind::GoalStep, &["input", "stepId"])?;
        let step = service::complete_step(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            input.done,
        )
        .await?;
        Ok(GoalStepPayload {
            step: Some(GoalStep(step)),
            user_errors: Vec::new(),
        })
    }

    /// Adds a progress note, optionally with a 1–5 rating; anyone who sees the goal.
    async fn add_goal_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The note.")] input: AddGoalProgressInput,
    ) -> Result<GoalProgressPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.goal_id, NodeKind::Goal, &["input", "goalId"])?;
        let outcome = service::add_progress(
            &ctx.state().db,
            &ctx.state().hub,
            principal,
            &ctx.request_meta(),
            id,
            &input.note,
            input.rating,
        )
        .await?;
        Ok(match outcome {
            Ok(row) => GoalProgressPayload {
                progress: Some(GoalProgressEntry(row)),
                user_errors: Vec::new(),
            },
            Err(problem) => GoalProgressPayload {
                progress: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Records a Signs of Safety assessment (staff on the case); earlier ones
    /// are kept.
    async fn record_safety_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assessment.")] input: RecordSafetyAssessmentInput,
    ) -> Result<SafetyAssessmentPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::record_assessment(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            service::NewAssessment {
                assessed_on: input.assessed_on.into(),
                perspective: input.perspective.into(),
                worries: input.worries,
                working_well: input.working_well,
                needs_to_happen: input.needs_to_happen,
                scale: input.scale,
            },
        )
        .await?;
        Ok(match outcome {
            Ok(row) => SafetyAssessmentPayload {
                assessment: Some(SafetyAssessment(row)),
                user_errors: Vec::new(),
            },
            Err(problem) => SafetyAssessmentPayload {
                assessment: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Records a strength or resource of the family (staff on the case or the family).
    async fn add_family_strength(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The strength.")] input: AddFamilyStrengthInput,
    ) -> Result<FamilyStrengthPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::add_strength(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            &input.description,
        )
        .await?;
        Ok(match outcome {
            Ok(row) => FamilyStrengthPayload {
                strength: Some(FamilyStrength(row)),
                user_errors: Vec::new(),
            },
            Err(problem) => FamilyStrengthPayload {
                strength: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Records a follow-up review with a rating for every active goal; the next
    /// follow-up is then due by the case's cadence.
    async fn record_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review.")] input: RecordFollowUpInput,
    ) -> Result<FollowUpPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let mut ratings = Vec::new();
        for (index, rating) in input.ratings.iter().enumerate() {
            let index = index.to_string();
            ratings.push((
                GlobalId::expect(
                    &rating.goal_id,
                    NodeKind::Goal,
                    &["input", "ratings", &index, "goalId"],
                )?,
                rating.rating,
            ));
        }
        let db = &ctx.state().db;
        let outcome = service::record_follow_up(
            db,
            principal,
            &ctx.request_meta(),
            case_id,
            NewFollowUp {
                held_on: input.held_on.into(),
                participants: input.participants,
                ratings,
                notes: input.notes,
                decisions: input.decisions,
            },
        )
        .await?;
        Ok(match outcome {
            Ok(model) => {
                let view = cases::case(
                    db,
                    principal,
                    &ctx.request_meta(),
                    &read_audit(ctx),
                    case_id,
                )
                .await?;
                FollowUpPayload {
                    follow_up: Some(FollowUp {
                        model,
                        case: Arc::new(view),
                    }),
                    user_errors: Vec::new(),
                }
            }
            Err(problem) => FollowUpPayload {
                follow_up: None,
                user_errors: vec![problem],
            },
        })
    }
}
