//! Case mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::CaseworkerChangeRequest;
use super::{
    query::read_audit,
    service::{self, CaseChanges, FocusChild, NewConsent, OpenCase},
    types::{
        Case, CaseType, Consent, ConsentCategory, FamilyMember, FamilyMemberKind, NetworkRelation,
    },
};
use crate::graphql::scalars::Date;
use crate::{
    auth::case_policy::{Categories, Category},
    family::service::NewMember,
    graphql::{
        ContextExt, UserError,
        node::{GlobalId, NodeKind},
    },
};

/// A person to add to a family.
#[derive(Debug, InputObject)]
pub struct FamilyMemberInput {
    /// What the person is in the family.
    pub kind: FamilyMemberKind,
    /// The person's name.
    pub display_name: String,
    /// The date of birth (required for children; not in the future).
    pub date_of_birth: Option<Date>,
    /// For network members: how they are related to the family.
    pub network_relation: Option<NetworkRelation>,
    /// For `openCase` with a new family: whether the case is about this child.
    #[graphql(default)]
    pub focus_child: bool,
}

impl From<&FamilyMemberInput> for NewMember {
    fn from(input: &FamilyMemberInput) -> Self {
        NewMember {
            kind: input.kind.into(),
            display_name: input.display_name.clone(),
            date_of_birth: input.date_of_birth.map(Into::into),
            network_relation: input.network_relation.map(Into::into),
        }
    }
}

/// A new case, for a new family (`familyName` and `members`) or an existing one
/// (`familyId` and `focusChildIds`).
#[derive(Debug, InputObject)]
pub struct OpenCaseInput {
    /// The case type, which fixes the follow-up cadence.
    pub case_type: CaseType,
    /// An existing family of the municipality.
    pub family_id: Option<ID>,
    /// The name of a new family.
    pub family_name: Option<String>,
    /// The people of a new family, or people to add to an existing one.
    #[graphql(default)]
    pub members: Vec<FamilyMemberInput>,
    /// For an existing family: the children the case is about.
    #[graphql(default)]
    pub focus_child_ids: Vec<ID>,
    /// The day the case was opened (default today; not in the future).
    pub opened_on: Option<Date>,
    /// The day of the start conversation, if it took place.
    pub start_conversation_on: Option<Date>,
    /// Whether the young person may give consents themselves.
    #[graphql(default)]
    pub young_person_may_consent: bool,
}

/// The result of a mutation that changes a case.
#[derive(SimpleObject)]
pub struct CasePayload {
    /// The case after the change; null when there are user errors, or when the
    /// viewer no longer works the case (after handing it over).
    pub case: Option<Case>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Changes to an open case.
#[derive(Debug, InputObject)]
pub struct UpdateCaseInput {
    /// The case.
    pub case_id: ID,
    /// The `version` the client last read; a stale one is refused.
    pub version: i32,
    /// A new case type.
    pub case_type: Option<CaseType>,
    /// The day of the start conversation.
    pub start_conversation_on: Option<Date>,
    /// Whether the young person may give consents themselves.
    pub young_person_may_consent: Option<bool>,
}

/// Closing a case.
#[derive(Debug, InputObject)]
pub struct CloseCaseInput {
    /// The case.
    pub case_id: ID,
    /// Why the case is closed.
    pub reason: String,
}

/// Transferring a case to adult services.
#[derive(Debug, InputObject)]
pub struct TransferToAdultServicesInput {
    /// The case.
    pub case_id: ID,
    /// The written handover: goals, agreements and contacts.
    pub handover_note: String,
}

/// Handing a case over to another caseworker.
#[derive(Debug, InputObject)]
pub struct HandOverCaseInput {
    /// The case.
    pub case_id: ID,
    /// The new primary caseworker.
    pub to_caseworker_id: ID,
    /// The written handover: goals, agreements and contacts, so the family need
    /// not retell its story.
    pub handover_note: String,
}

/// Setting or removing the partner caseworker.
#[derive(Debug, InputObject)]
pub struct SetPartnerCaseworkerInput {
    /// The case.
    pub case_id: ID,
    /// The partner caseworker; null removes the partner.
    pub partner_caseworker_id: Option<ID>,
}

/// Adding a person to a case's family.
#[derive(Debug, InputObject)]
pub struct AddFamilyMemberInput {
    /// The case whose family gains the person.
    pub case_id: ID,
    /// The person.
    pub member: FamilyMemberInput,
}

/// The result of `addFamilyMember`.
#[derive(SimpleObject)]
pub struct AddFamilyMemberPayload {
    /// The new member; null when there are user errors.
    pub member: Option<FamilyMember>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// A consent a guardian (or the young person, where allowed) gives.
#[derive(Debug, InputObject)]
pub struct GrantConsentInput {
    /// The case.
    pub case_id: ID,
    /// The agency that may see.
    pub organisation_id: ID,
    /// Only this professional of the agency (default: anyone there).
    pub professional_id: Option<ID>,
    /// What may be seen.
    pub categories: Vec<ConsentCategory>,
    /// From when (default now).
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when (default until withdrawn); must be after `validFrom`.
    pub valid_until: Option<DateTime<Utc>>,
}

/// The result of `grantConsent` and `withdrawConsent`.
#[derive(SimpleObject)]
pub struct ConsentPayload {
    /// The consent; null when there are user errors.
    pub consent: Option<Consent>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Withdrawing a consent.
#[derive(Debug, InputObject)]
pub struct WithdrawConsentInput {
    /// The consent.
    pub consent_id: ID,
}

/// Setting the family therapists of a case.
#[derive(Debug, InputObject)]
pub struct SetFamilyTherapistsInput {
    /// The case.
    pub case_id: ID,
    /// The therapists (at most 5); an empty list removes them all.
    pub therapist_ids: Vec<ID>,
}

/// Asking for another caseworker.
#[derive(Debug, InputObject)]
pub struct RequestCaseworkerChangeInput {
    /// The case.
    pub case_id: ID,
    /// Why the family would like another caseworker.
    pub reason: String,
}

/// The team lead's answer to a request for another caseworker.
#[derive(Debug, InputObject)]
pub struct AnswerCaseworkerChangeRequestInput {
    /// The request.
    pub request_id: ID,
    /// Whether the request is granted.
    pub grant: bool,
    /// The answer to the family.
    pub answer: String,
    /// When granted: the new primary caseworker.
    pub new_caseworker_id: Option<ID>,
    /// When granted: the written handover to the new caseworker.
    pub handover_note: Option<String>,
}

/// The result of `requestCaseworkerChange` and `answerCaseworkerChangeRequest`.
#[derive(SimpleObject)]
pub struct CaseworkerChangeRequestPayload {
    /// The request; null when there are user errors.
    pub request: Option<CaseworkerChangeRequest>,
    /// Problems the user can fix; nothing changed when there are any.
    pub user_errors: Vec<UserError>,
}

/// Case mutations.
#[derive(Default)]
pub struct CaseMutation;

impl CaseMutation {
    /// `handOverCase` (by the primary caseworker or the team lead) and
    /// `assignCaseworker` (`by_team_lead`: the team lead only).
    async fn hand_over(
        ctx: &Context<'_>,
        input: HandOverCaseInput,
        by_team_lead: bool,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let to = GlobalId::expect(
            &input.to_caseworker_id,
            NodeKind::User,
            &["input", "toCaseworkerId"],
        )?;
        let outcome = service::hand_over_case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            to,
            &input.handover_note,
            by_team_lead,
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    async fn payload(
        ctx: &Context<'_>,
        outcome: Result<entity::care_case::Model, UserError>,
    ) -> Result<CasePayload> {
        Ok(match outcome {
            Ok(model) => {
                // After a handover the viewer may no longer see the case: then
                // the payload's case is null, and the change still happened.
                let principal = ctx.viewer().principal()?;
                let view = match service::case(
                    &ctx.state().db,
                    principal,
                    &ctx.request_meta(),
                    &read_audit(ctx),
                    model.id,
                )
                .await
                {
                    Ok(view) => Some(Case(view)),
                    Err(crate::error::AppError::NotFound(_)) => None,
                    Err(other) => return Err(other.into()),
                };
                CasePayload {
                    case: view,
                    user_errors: Vec::new(),
                }
            }
            Err(problem) => CasePayload {
                case: None,
                user_errors: vec![problem],
            },
        })
    }
}

#[Object]
impl CaseMutation {
    /// Opens a case (caseworkers and team leads), for a new family or an
    /// existing one. The caller's team owns it; a caseworker becomes its primary.
    async fn open_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and its family.")] input: OpenCaseInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let family_id = match &input.family_id {
            Some(id) => Some(GlobalId::expect(
                id,
                NodeKind::Family,
                &["input", "familyId"],
            )?),
            None => None,
        };
        let mut focus_children: Vec<FocusChild> = input
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.focus_child)
            .map(|(i, _)| FocusChild::NewMember(i))
            .collect();
        for id in &input.focus_child_ids {
            focus_children.push(FocusChild::Existing(GlobalId::expect(
                id,
                NodeKind::FamilyMember,
                &["input", "focusChildIds"],
            )?));
        }
        let outcome = service::open_case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            OpenCase {
                family_id,
                family_name: input.family_name,
                members: input.members.iter().map(NewMember::from).collect(),
                focus_children,
                case_type: input.case_type.into(),
                opened_on: input.opened_on.map(Into::into),
                start_conversation_on: input.start_conversation_on.map(Into::into),
                young_person_may_consent: input.young_person_may_consent,
            },
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Changes an open case's type, start conversation date or consent rule
    /// (primary, partner or team lead). A stale `version` is refused.
    async fn update_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCaseInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::update_case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            input.version,
            CaseChanges {
                case_type: input.case_type.map(Into::into),
                start_conversation_on: input.start_conversation_on.map(Into::into),
                young_person_may_consent: input.young_person_may_consent,
            },
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Closes a case with a reason (primary, partner or team lead).
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the reason.")] input: CloseCaseInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::close_case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            &input.reason,
            false,
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Transfers a case to adult services with a written handover.
    async fn transfer_to_adult_services(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the handover.")] input: TransferToAdultServicesInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::close_case(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            &input.handover_note,
            true,
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Hands the case over to another caseworker (the primary caseworker or the
    /// team lead), with a written handover. The history is kept.
    async fn hand_over_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "To whom, with the handover.")] input: HandOverCaseInput,
    ) -> Result<CasePayload> {
        Self::hand_over(ctx, input, false).await
    }

    /// The team lead assigns the case to a caseworker, with a written handover.
    async fn assign_caseworker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "To whom, with the handover.")] input: HandOverCaseInput,
    ) -> Result<CasePayload> {
        Self::hand_over(ctx, input, true).await
    }

    /// Sets or removes the partner caseworker (primary caseworker or team lead).
    async fn set_partner_caseworker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the partner.")] input: SetPartnerCaseworkerInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let partner = match &input.partner_caseworker_id {
            Some(p) => Some(GlobalId::expect(
                p,
                NodeKind::User,
                &["input", "partnerCaseworkerId"],
            )?),
            None => None,
        };
        let outcome = service::set_partner_caseworker(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            partner,
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Sets the family therapists working the case (primary caseworker or team
    /// lead). Their periods are kept in the responsibility history.
    async fn set_family_therapists(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and its therapists.")] input: SetFamilyTherapistsInput,
    ) -> Result<CasePayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let mut therapists = Vec::new();
        for therapist in &input.therapist_ids {
            therapists.push(GlobalId::expect(
                therapist,
                NodeKind::User,
                &["input", "therapistIds"],
            )?);
        }
        let outcome = service::set_family_therapists(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            therapists,
        )
        .await?;
        Self::payload(ctx, outcome).await
    }

    /// Adds a person to the family of a case (staff who work the case).
    async fn add_family_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the person.")] input: AddFamilyMemberInput,
    ) -> Result<AddFamilyMemberPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let db = &ctx.state().db;
        let outcome = service::add_family_member(
            db,
            principal,
            &ctx.request_meta(),
            id,
            NewMember::from(&input.member),
        )
        .await?;
        Ok(match outcome {
            Ok(model) => {
                let view =
                    service::case(db, principal, &ctx.request_meta(), &read_audit(ctx), id).await?;
                AddFamilyMemberPayload {
                    member: Some(FamilyMember {
                        model,
                        categories: view.access.categories,
                        today: view.today(),
                    }),
                    user_errors: Vec::new(),
                }
            }
            Err(problem) => AddFamilyMemberPayload {
                member: None,
                user_errors: vec![problem],
            },
        })
    }

    /// A guardian or the young person asks for another caseworker, with a
    /// reason; the team lead sees it and answers.
    async fn request_caseworker_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the reason.")] input: RequestCaseworkerChangeInput,
    ) -> Result<CaseworkerChangeRequestPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let outcome = service::request_caseworker_change(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            &input.reason,
        )
        .await?;
        Ok(change_request_payload(outcome))
    }

    /// The team lead answers a request for another caseworker; granting it
    /// hands the case over with a written handover.
    async fn answer_caseworker_change_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answer.")] input: AnswerCaseworkerChangeRequestInput,
    ) -> Result<CaseworkerChangeRequestPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.request_id,
            NodeKind::CaseworkerChangeRequest,
            &["input", "requestId"],
        )?;
        let new_caseworker = match &input.new_caseworker_id {
            Some(c) => Some(GlobalId::expect(
                c,
                NodeKind::User,
                &["input", "newCaseworkerId"],
            )?),
            None => None,
        };
        let outcome = service::answer_caseworker_change(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            id,
            input.grant,
            &input.answer,
            new_caseworker,
            input.handover_note.as_deref(),
        )
        .await?;
        Ok(change_request_payload(outcome))
    }

    /// A guardian (or the young person, where the case allows) lets an agency
    /// see some categories of the case for a period.
    async fn grant_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent.")] input: GrantConsentInput,
    ) -> Result<ConsentPayload> {
        let principal = ctx.viewer().principal()?;
        let case_id = GlobalId::expect(&input.case_id, NodeKind::Case, &["input", "caseId"])?;
        let organisation_id = GlobalId::expect(
            &input.organisation_id,
            NodeKind::Organisation,
            &["input", "organisationId"],
        )?;
        let professional_id = match &input.professional_id {
            Some(p) => Some(GlobalId::expect(
                p,
                NodeKind::User,
                &["input", "professionalId"],
            )?),
            None => None,
        };
        let categories: Categories = input
            .categories
            .iter()
            .map(|c| Category::from(*c))
            .collect();
        let outcome = service::grant_consent(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            case_id,
            NewConsent {
                organisation_id,
                professional_id,
                categories,
                valid_from: input.valid_from,
                valid_until: input.valid_until,
            },
        )
        .await?;
        Ok(match outcome {
            Ok(row) => ConsentPayload {
                consent: Some(Consent(row)),
                user_errors: Vec::new(),
            },
            Err(problem) => ConsentPayload {
                consent: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Withdraws a consent; it stops working on the very next request.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent.")] input: WithdrawConsentInput,
    ) -> Result<ConsentPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.consent_id,
            NodeKind::Consent,
            &["input", "consentId"],
        )?;
        let row =
            service::withdraw_consent(&ctx.state().db, principal, &ctx.request_meta(), id).await?;
        Ok(ConsentPayload {
            consent: Some(Consent(row)),
            user_errors: Vec::new(),
        })
    }
}

fn change_request_payload(
    outcome: Result<entity::caseworker_change_request::Model, UserError>,
) -> CaseworkerChangeRequestPayload {
    match outcome {
        Ok(row) => CaseworkerChangeRequestPayload {
            request: Some(CaseworkerChangeRequest(row)),
            user_errors: Vec::new(),
        },
        Err(problem) => CaseworkerChangeRequestPayload {
            request: None,
            user_errors: vec![problem],
        },
    }
}
