//! GraphQL types of the goal picture.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{follow_up, goal, goal_change, goal_progress, goal_step};

use crate::graphql::scalars::Date;
use crate::{
    auth::case_policy::{Category, can_see_goal},
    case::{service::CaseView, types::FamilyMember},
    error::AppError,
    graphql::{
        ContextExt, loaders,
        node::{GlobalId, NodeKind},
    },
    identity::types::{Organisation, User},
};

/// Short- or long-term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::goal::Horizon")]
pub enum GoalHorizon {
    /// Weeks to a few months.
    ShortTerm,
    /// Months to years.
    LongTerm,
}

/// Who owns a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::goal::GoalOwner")]
pub enum GoalOwner {
    /// The family.
    Family,
    /// The caseworker.
    Caseworker,
    /// An agency (`ownerOrganisation`).
    Agency,
    /// Shared between the family and the professionals.
    Shared,
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::goal::GoalStatus")]
pub enum GoalStatus {
    /// Proposed (by the family or staff), not yet agreed.
    Proposed,
    /// Being worked on.
    Active,
    /// Paused.
    OnHold,
    /// Achieved.
    Achieved,
    /// Closed without being achieved.
    NotAchieved,
    /// Dropped.
    Cancelled,
}

/// Who may see a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::goal::GoalVisibility")]
pub enum GoalVisibility {
    /// The whole family and the staff on the case.
    Family,
    /// The young person and the staff, not the guardians.
    YoungPerson,
    /// Also professionals with a `GOALS` consent.
    CareTeam,
}

fn load_error(error: impl std::fmt::Display) -> AppError {
    AppError::Internal(error.to_string())
}

async fn user(ctx: &Context<'_>, id: uuid::Uuid) -> Result<User> {
    Ok(User(
        ctx.user_loader()
            .load_one(id)
            .await
            .map_err(load_error)?
            .ok_or_else(|| load_error("a referenced user is missing"))?,
    ))
}

/// A goal of a case, with its steps, progress and ratings.
pub struct Goal {
    pub model: goal::Model,
    pub case: Arc<CaseView>,
}

/// A goal of a case, in the family's words, with its steps, progress, ratings
/// over time and change history.
#[Object]
impl Goal {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Goal, self.model.id)
    }

    /// The case the goal belongs to.
    async fn case_id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.model.case_id)
    }

    /// A short title.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// The goal, concretely, in the family's words.
    async fn description(&self) -> &str {
        &self.model.description
    }

    /// Short- or long-term.
    async fn horizon(&self) -> GoalHorizon {
        self.model.horizon.into()
    }

    /// The child the goal concerns.
    async fn child(&self) -> Option<FamilyMember> {
        let id = self.model.child_member_id?;
        let member = self
            .case
            .bundle
            .members
            .get(&self.case.model.family_id)?
            .iter()
            .find(|m| m.id == id)?
            .clone();
        Some(FamilyMember {
            model: member,
            categories: self.case.access.categories,
            today: self.case.today(),
        })
    }

    /// Who owns the goal.
    async fn owner(&self) -> GoalOwner {
        self.model.owner.into()
    }

    /// The owning agency, for `AGENCY` goals.
    async fn owner_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.model.owner_organisation_id {
            Some(id) => Ok(ctx
                .organisation_loader()
                .load_one(id)
                .await
                .map_err(load_error)?
                .map(Organisation)),
            None => Ok(None),
        }
    }

    /// When the goal should be reached.
    async fn target_date(&self) -> Option<Date> {
        self.model.target_date.map(Date)
    }

    /// Where the goal stands.
    async fn status(&self) -> GoalStatus {
        self.model.status.into()
    }

    /// The version, to send back with `updateGoal`.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// Who may see the goal.
    async fn visibility(&self) -> GoalVisibility {
        self.model.visibility.into()
    }

    /// The next follow-up review of the case, where the goal is rated; null for
    /// viewers without the case details.
    async fn next_review_due(&self) -> Option<Date> {
        self.case
            .access
            .categories
            .contains(Category::CaseDetails)
            .then_some(self.case.model.next_follow_up_due.into())
    }

    /// The steps, oldest first.
    async fn steps(&self, ctx: &Context<'_>) -> Result<Vec<GoalStep>> {
        let rows = ctx
            .loader::<loaders::GoalStepsLoader>()
            .load_one(self.model.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(rows.into_iter().map(GoalStep).collect())
    }

    /// The steps not done yet.
    async fn open_steps(&self, ctx: &Context<'_>) -> Result<Vec<GoalStep>> {
        let rows = ctx
            .loader::<loaders::GoalStepsLoader>()
            .load_one(self.model.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|s| s.done_at.is_none())
            .map(GoalStep)
            .collect())
    }

    /// Progress notes and ratings, newest first; everyone's ratings side by side.
    async fn progress(&self, ctx: &Context<'_>) -> Result<Vec<GoalProgressEntry>> {
        let mut rows = ctx
            .loader::<loaders::GoalProgressLoader>()
            .load_one(self.model.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        rows.reverse();
        Ok(rows.into_iter().map(GoalProgressEntry).collect())
    }

    /// The 1–5 attainment ratings of the follow-up reviews, oldest first (a
    /// series to draw as a chart).
    async fn rating_history(&self, ctx: &Context<'_>) -> Result<Vec<GoalRatingPoint>> {
        rating_history(ctx, self.model.id).await
    }

    /// The rating of the latest follow-up review.
    async fn latest_rating(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        Ok(rating_history(ctx, self.model.id)
            .await?
            .last()
            .map(|p| p.rating))
    }

    /// Every change of the goal, oldest first.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<GoalChangeEntry>> {
        let rows = ctx
            .loader::<loaders::GoalChangesLoader>()
            .load_one(self.model.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(rows.into_iter().map(GoalChangeEntry).collect())
    }
}

async fn rating_history(ctx: &Context<'_>, goal_id: uuid::Uuid) -> Result<Vec<GoalRatingPoint>> {
    Ok(ctx
        .loader::<loaders::GoalRatingsLoader>()
        .load_one(goal_id)
        .await
        .map_err(load_error)?
        .unwrap_or_default()
        .into_iter()
        .map(|(held_on, rating)| GoalRatingPoint {
            held_on: held_on.into(),
            rating: i32::from(rating),
        })
        .collect())
}

/// The rating of a goal at one follow-up review.
#[derive(async_graphql::SimpleObject)]
pub struct GoalRatingPoint {
    /// When the review was held.
    pub held_on: Date,
    /// 1 = not at all … 5 = fully achieved.
    pub rating: i32,
}

/// A step under a goal.
pub struct GoalStep(pub goal_step::Model);

/// A step under a goal: what, by whom, by when, done or not.
#[Object]
impl GoalStep {
    /// Globally unique, opaque id (pass it to `setGoalStepDone`).
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::GoalStep, self.0.id)
    }

    /// What is to be done.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The family member who does it.
    async fn assignee_family_member_id(&self) -> Option<ID> {
        self.0
            .assignee_member_id
            .map(|id| GlobalId::encode(NodeKind::FamilyMember, id))
    }

    /// The member of staff who does it.
    async fn assignee_user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.assignee_user_id {
            Some(id) => Ok(Some(user(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The agency that does it.
    async fn assignee_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.0.assignee_organisation_id {
            Some(id) => Ok(ctx
                .organisation_loader()
                .load_one(id)
                .await
                .map_err(load_error)?
                .map(Organisation)),
            None => Ok(None),
        }
    }

    /// By when.
    async fn due_on(&self) -> Option<Date> {
        self.0.due_on.map(Date)
    }

    /// Whether it is done.
    async fn done(&self) -> bool {
        self.0.done_at.is_some()
    }

    /// When it was done.
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
}

/// A progress note on a goal.
pub struct GoalProgressEntry(pub goal_progress::Model);

/// A progress note on a goal, with the author's own rating if given.
#[Object]
impl GoalProgressEntry {
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.author_id).await
    }

    /// The note.
    async fn note(&self) -> &str {
        &self.0.note
    }

    /// The author's 1–5 rating, if given.
    async fn rating(&self) -> Option<i32> {
        self.0.rating.map(i32::from)
    }

    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One change of a goal.
pub struct GoalChangeEntry(pub goal_change::Model);

/// One change of a goal: what changed, from what, to what, by whom, when, why.
#[Object]
impl GoalChangeEntry {
    /// `CREATED`, `STATUS`, `TITLE`, `DESCRIPTION`, `OWNER`, `TARGET_DATE`, …
    async fn field(&self) -> &str {
        &self.0.field
    }

    /// The value before.
    async fn old_value(&self) -> Option<&str> {
        self.0.old_value.as_deref()
    }

    /// The value after.
    async fn new_value(&self) -> Option<&str> {
        self.0.new_value.as_deref()
    }

    /// Why.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// Who changed it.
    async fn changed_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.changed_by).await
    }

    /// When.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// A follow-up review of a case.
pub struct FollowUp {
    pub model: follow_up::Model,
    pub case: Arc<CaseView>,
}

/// A follow-up review: when, who took part, the rating of each goal, notes
/// and decisions.
#[Object]
impl FollowUp {
    /// When it was held.
    async fn held_on(&self) -> Date {
        self.model.held_on.into()
    }

    /// Who took part.
    async fn participants(&self) -> Vec<&str> {
        self.model.participants.lines().collect()
    }

    /// Notes.
    async fn notes(&self) -> Option<&str> {
        self.model.notes.as_deref()
    }

    /// Decisions (goal achieved, changed, new goals).
    async fn decisions(&self) -> Option<&str> {
        self.model.decisions.as_deref()
    }

    /// The rating of each goal the viewer may see.
    async fn ratings(&self, ctx: &Context<'_>) -> Result<Vec<FollowUpGoalRating>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let rows = entity::follow_up_rating::Entity::find()
            .filter(entity::follow_up_rating::Column::FollowUpId.eq(self.model.id))
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        let goals = goal::Entity::find()
            .filter(goal::Column::Id.is_in(rows.iter().map(|r| r.goal_id)))
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let model = goals.iter().find(|g| g.id == r.goal_id)?.clone();
                can_see_goal(&self.case.access, model.visibility).then(|| FollowUpGoalRating {
                    goal: Goal {
                        model,
                        case: self.case.clone(),
                    },
                    rating: i32::from(r.rating),
                })
            })
            .collect())
    }
}

/// The rating of one goal at a review.
#[derive(async_graphql::SimpleObject)]
pub struct FollowUpGoalRating {
    /// The goal.
    pub goal: Goal,
    /// 1 = not at all … 5 = fully achieved.
    pub rating: i32,
}

/// Whose view a Signs of Safety assessment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::safety_assessment::Perspective")]
pub enum SafetyPerspective {
    /// The family's.
    Family,
    /// The young person's.
    YoungPerson,
    /// The caseworker's.
    Caseworker,
    /// The network's.
    Network,
    /// Another agency's.
    Agency,
}

/// A Signs of Safety assessment.
pub struct SafetyAssessment(pub entity::safety_assessment::Model);

/// A Signs of Safety assessment: what we are worried about, what is working
/// well, what needs to happen, and the 0–10 scaling question, with whose view
/// it is and when.
#[Object]
impl SafetyAssessment {
    /// When it was assessed.
    async fn assessed_on(&self) -> Date {
        self.0.assessed_on.into()
    }

    /// Whose view it is.
    async fn perspective(&self) -> SafetyPerspective {
        self.0.perspective.into()
    }

    /// What we are worried about.
    async fn worries(&self) -> Vec<&str> {
        self.0.worries.lines().collect()
    }

    /// What is working well.
    async fn working_well(&self) -> Vec<&str> {
        self.0.working_well.lines().collect()
    }

    /// What needs to happen.
    async fn needs_to_happen(&self) -> Vec<&str> {
        self.0.needs_to_happen.lines().collect()
    }

    /// 0 (not safe at all) to 10 (safe enough to close the case).
    async fn scale(&self) -> i32 {
        i32::from(self.0.scale)
    }

    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.recorded_by).await
    }
}

/// A strength or resource of the family.
pub struct FamilyStrength(pub entity::family_strength::Model);

/// A strength or resource of the family, built on in the goals.
#[Object]
impl FamilyStrength {
    /// The strength or resource.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.recorded_by).await
    }

    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
