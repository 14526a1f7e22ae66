//! Plan mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{
    service::{self, NewIntervention},
    types::{ChildParticipation, CoordinatedBy, CoordinatedPlan, CoordinatorReason},
};
use crate::graphql::scalars::Date;
use crate::graphql::{
    ContextExt, UserError,
    node::{GlobalId, NodeKind},
};

/// Starting a coordinated plan.
#[derive(Debug, InputObject)]
pub struct StartCoordinatedPlanInput {
    /// The case.
    pub case_id: ID,
    /// The organisation that initiated the plan (any agency may).
    pub initiating_organisation_id: ID,
    /// When it was initiated (default today; not in the future).
    pub initiated_on: Option<Date>,
}

/// Choosing the coordinating organisation.
#[derive(Debug, InputObject)]
pub struct ChooseCoordinatorInput {
    /// The case whose plan it is.
    pub case_id: ID,
    /// The coordinating organisation.
    pub organisation_id: ID,
    /// Why it coordinates.
    pub reason: CoordinatorReason,
    /// The reason in words (required for `OTHER`).
    pub reason_text: Option<String>,
}

/// Adding an intervention to a plan.
#[derive(Debug, InputObject)]
pub struct AddPlanInterventionInput {
    /// The case whose plan it is.
    pub case_id: ID,
    /// What is to be done.
    pub description: String,
    /// The organisation responsible.
    pub responsible_organisation_id: ID,
    /// From when.
    pub starts_on: Date,
    /// Who coordinates with that organisation on the family's behalf.
    pub coordinated_by: CoordinatedBy,
}

/// Recording the coordination meeting.
#[derive(Debug, InputObject)]
pub struct RecordCoordinationMeetingInput {
    /// The case whose plan it is.
    pub case_id: ID,
    /// When the meeting was held.
    pub held_on: Date,
    /// Whether and how the child took part.
    pub child_participation: ChildParticipation,
    /// Why the child did not take part (required for `DID_NOT_TAKE_PART`).
    pub child_non_participation_reason: Option<String>,
}

/// The result of a plan mutation.
#[derive(SimpleObject)]
pub struct CoordinatedPlanPayload {
    /// The plan after the change; null when there are user errors.
    pub plan: Option<CoordinatedPlan>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

fn payload(
    outcome: Result<entity::coordinated_plan::Model, UserError>,
    zone: chrono_tz::Tz,
) -> CoordinatedPlanPayload {
    match outcome {
        Ok(model) => CoordinatedPlanPayload {
            plan: Some(CoordinatedPlan { model, zone }),
            user_errors: Vec::new(),
        },
        Err(problem) => CoordinatedPlanPayload {
            plan: None,
            user_errors: vec![problem],
        },
    }
}

async fn zone(ctx: &Context<'_>) -> Result<chrono_tz::Tz> {
    let principal = ctx.viewer().principal()?;
    Ok(crate::case::service::tenant_zone(&ctx.state().db, principal.tenant_id).await?)
}

/// Plan mutations.
#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Starts a coordinated individual plan (SIP) on a case; the coordination
    /// meeting is then due within 21 days. Staff who work the case.
    async fn start_coordinated_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the initiating organisation.")]
        input: StartCoordinatedPlanInput,
    ) -> Result<CoordinatedPlanPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let organisation = GlobalId::expect(
            &input.initiating_organisation_id,
            NodeKind::Organisation,
            &["input", "initiatingOrganisationId"],
        )?;
        let outcome = service::start_plan(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            organisation,
            input.initiated_on.map(Into::into),
        )
        .await?;
        Ok(payload(outcome, zone(ctx).await?))
    }

    /// Chooses the coordinating organisation, with a reason.
    async fn choose_coordinator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation and the reason.")] input: ChooseCoordinatorInput,
    ) -> Result<CoordinatedPlanPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let organisation = GlobalId::expect(
            &input.organisation_id,
            NodeKind::Organisation,
            &["input", "organisationId"],
        )?;
        let outcome = service::choose_coordinator(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            organisation,
            input.reason.into(),
            input.reason_text.as_deref(),
        )
        .await?;
        Ok(payload(outcome, zone(ctx).await?))
    }

    /// Adds an intervention to the plan.
    async fn add_plan_intervention(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The intervention.")] input: AddPlanInterventionInput,
    ) -> Result<CoordinatedPlanPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let organisation = GlobalId::expect(
            &input.responsible_organisation_id,
            NodeKind::Organisation,
            &["input", "responsibleOrganisationId"],
        )?;
        let outcome = service::add_intervention(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            NewIntervention {
                description: input.description,
                responsible_organisation_id: organisation,
                starts_on: input.starts_on.into(),
                coordinated_by: input.coordinated_by.into(),
            },
        )
        .await?;
        Ok(payload(outcome, zone(ctx).await?))
    }

    /// Records that the coordination meeting was held and how the child took part.
    async fn record_coordination_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting.")] input: RecordCoordinationMeetingInput,
    ) -> Result<CoordinatedPlanPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::record_meeting(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            input.held_on.into(),
            input.child_participation.into(),
            input.child_non_participation_reason.as_deref(),
        )
        .await?;
        Ok(payload(outcome, zone(ctx).await?))
    }
}
