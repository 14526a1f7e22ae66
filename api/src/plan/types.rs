//! GraphQL types of coordinated plans.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::NaiveDate;
use entity::{coordinated_plan, plan_intervention};

use super::service;
use crate::graphql::scalars::Date;
use crate::{
    error::AppError,
    graphql::{
        ContextExt,
        node::{GlobalId, NodeKind},
    },
    identity::types::Organisation,
};

/// How the child took part in a meeting or plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::coordinated_plan::ChildParticipation")]
pub enum ChildParticipation {
    /// The child was present.
    Present,
    /// A parent brought the child's views.
    ViewsBroughtByParent,
    /// The foster family brought the child's views.
    ViewsBroughtByFosterFamily,
    /// The child gave their views in writing.
    WrittenViews,
    /// The child did not take part (the reason is recorded).
    DidNotTakePart,
}

/// Why an organisation coordinates a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::coordinated_plan::CoordinatorReason")]
pub enum CoordinatorReason {
    /// The family trusts this agency most.
    FamilyTrust,
    /// This agency has the most interventions.
    MostInterventions,
    /// Another reason, given in text.
    Other,
}

/// Who coordinates with an organisation on the family's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::plan_intervention::CoordinatedBy")]
pub enum CoordinatedBy {
    /// The family itself.
    Family,
    /// The caseworker.
    Caseworker,
}

async fn organisation(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Organisation> {
    Ok(Organisation(
        ctx.organisation_loader()
            .load_one(id)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .ok_or_else(|| AppError::Internal("a plan's organisation is missing".into()))?,
    ))
}

/// A coordinated individual plan (SIP) of a case.
pub struct CoordinatedPlan {
    pub model: coordinated_plan::Model,
    /// The municipality's time zone.
    pub zone: chrono_tz::Tz,
}

impl CoordinatedPlan {
    fn today(&self) -> NaiveDate {
        crate::case::cadence::local_date(chrono::Utc::now(), self.zone)
    }
}

/// A coordinated individual plan (SIP) of a case: who initiated it, the
/// coordination meeting due within 21 days, the chosen coordinator, the
/// interventions and the child's participation.
#[Object]
impl CoordinatedPlan {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::CoordinatedPlan, self.model.id)
    }

    /// The organisation that initiated the plan.
    async fn initiating_organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation(ctx, self.model.initiating_organisation_id).await
    }

    /// When the plan was initiated.
    async fn initiated_on(&self) -> Date {
        self.model.initiated_on.into()
    }

    /// The day the coordination meeting must be held by (initiation + 21 days).
    async fn coordination_meeting_due(&self) -> Date {
        service::meeting_due(self.model.initiated_on).into()
    }

    /// Whether the meeting is not held and past its due day.
    async fn coordination_meeting_overdue(&self) -> bool {
        service::meeting_overdue(&self.model, self.today())
    }

    /// The coordination meeting booked on the case (proposed or booked, not
    /// over yet), and whether it is held by the 21-day deadline.
    async fn coordination_meeting(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::scheduling::deadlines::ScheduledMeeting>> {
        let meetings =
            crate::scheduling::deadlines::upcoming_meetings(&ctx.state().db, &[self.model.case_id])
                .await?;
        Ok(crate::scheduling::deadlines::next_meeting(
            meetings
                .get(&self.model.case_id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            entity::appointment::AppointmentKind::CoordinationMeeting,
            service::meeting_due(self.model.initiated_on),
            self.zone,
        ))
    }

    /// When the coordination meeting was held.
    async fn coordination_meeting_held_on(&self) -> Option<Date> {
        self.model.meeting_held_on.map(Date)
    }

    /// Whether and how the child took part in the meeting.
    async fn child_participation(&self) -> Option<ChildParticipation> {
        self.model.child_participation.map(Into::into)
    }

    /// Why the child did not take part.
    async fn child_non_participation_reason(&self) -> Option<&str> {
        self.model.child_non_participation_reason.as_deref()
    }

    /// The coordinating organisation (chosen, not necessarily the initiator).
    async fn coordinator(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.model.coordinator_organisation_id {
            Some(id) => Ok(Some(organisation(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// Why that organisation coordinates.
    async fn coordinator_reason(&self) -> Option<CoordinatorReason> {
        self.model.coordinator_reason.map(Into::into)
    }

    /// The reason in words (required for `OTHER`).
    async fn coordinator_reason_text(&self) -> Option<&str> {
        self.model.coordinator_reason_text.as_deref()
    }

    /// The interventions, oldest first.
    async fn interventions(&self, ctx: &Context<'_>) -> Result<Vec<PlanIntervention>> {
        let rows = service::interventions_of(&ctx.state().db, self.model.id).await?;
        Ok(rows.into_iter().map(PlanIntervention).collect())
    }
}

/// An intervention of a coordinated plan.
pub struct PlanIntervention(pub plan_intervention::Model);

/// An intervention of a coordinated plan: what, which organisation is
/// responsible, from when, and who coordinates with it for the family.
#[Object]
impl PlanIntervention {
    /// What is to be done.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The organisation responsible.
    async fn responsible_organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation(ctx, self.0.responsible_organisation_id).await
    }

    /// From when.
    async fn starts_on(&self) -> Date {
        self.0.starts_on.into()
    }

    /// Who coordinates with the organisation on the family's behalf.
    async fn coordinated_by(&self) -> CoordinatedBy {
        self.0.coordinated_by.into()
    }
}
