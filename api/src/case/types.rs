//! GraphQL types of cases, families, consents and teams.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{case_assignment, consent, family, family_member, team};
use uuid::Uuid;

use super::{cadence, service::CaseView};
use crate::graphql::scalars::Date;
use crate::{
    auth::case_policy::{self, Categories, Category},
    error::AppError,
    graphql::{
        ContextExt, loaders,
        node::{GlobalId, NodeKind},
    },
    identity::types::{Organisation, User},
};

/// What kind of case it is; fixes the follow-up cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::care_case::CaseType")]
pub enum CaseType {
    /// Compensation and support only: followed up every 3 months.
    Support,
    /// A child-professional investigation with measures: followed up every 6 weeks.
    Investigation,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::care_case::CaseStatus")]
pub enum CaseStatus {
    /// Being worked.
    Open,
    /// Closed.
    Closed,
    /// Handed over to adult services.
    TransferredToAdultServices,
}

/// How the viewer is related to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::auth::case_policy::CaseRelation")]
pub enum CaseRelation {
    /// The primary caseworker.
    PrimaryCaseworker,
    /// The partner caseworker ("makker"), who covers for the primary.
    PartnerCaseworker,
    /// A family therapist on the case.
    FamilyTherapist,
    /// The lead of the team that owns the case.
    TeamLead,
    /// A guardian in the family.
    Guardian,
    /// The young person the case is about.
    YoungPerson,
    /// A member of the family's network.
    NetworkMember,
    /// A professional of another agency, through the family's consent.
    ConsentedProfessional,
}

/// A category of case data a consent can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConsentCategory {
    /// The goals and their progress.
    Goals,
    /// The appointments.
    Appointments,
    /// The messages of care-team conversations.
    Messages,
    /// The case record: dates, follow-ups, family details, history.
    CaseDetails,
}

impl From<ConsentCategory> for Category {
    fn from(category: ConsentCategory) -> Self {
        match category {
            ConsentCategory::Goals => Category::Goals,
            ConsentCategory::Appointments => Category::Appointments,
            ConsentCategory::Messages => Category::Messages,
            ConsentCategory::CaseDetails => Category::CaseDetails,
        }
    }
}

impl From<Category> for ConsentCategory {
    fn from(category: Category) -> Self {
        match category {
            Category::Goals => ConsentCategory::Goals,
            Category::Appointments => ConsentCategory::Appointments,
            Category::Messages => ConsentCategory::Messages,
            Category::CaseDetails => ConsentCategory::CaseDetails,
        }
    }
}

fn categories_of(set: Categories) -> Vec<ConsentCategory> {
    set.iter().map(ConsentCategory::from).collect()
}

/// What a person is in a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::family_member::MemberKind")]
pub enum FamilyMemberKind {
    /// A parent or other legal guardian.
    Guardian,
    /// A child (who may have their own login as a young person).
    Child,
    /// A relative, friend, foster or support family.
    NetworkMember,
}

/// How a network member is related to the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::family_member::NetworkRelation")]
pub enum NetworkRelation {
    /// A relative.
    Relative,
    /// A friend.
    Friend,
    /// A foster family.
    FosterFamily,
    /// A support family.
    SupportFamily,
    /// Another relation.
    Other,
}

/// Which responsibility a person had on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::case_assignment::Responsibility")]
pub enum Responsibility {
    /// Primary caseworker.
    PrimaryCaseworker,
    /// Partner caseworker.
    PartnerCaseworker,
    /// Family therapist.
    FamilyTherapist,
}

fn load_error(error: impl std::fmt::Display) -> AppError {
    AppError::Internal(error.to_string())
}

/// A case: one family in one tenant, its caseworkers and follow-up status.
pub struct Case(pub CaseView);

impl Case {
    fn bundled_user(&self, id: Uuid) -> Result<User> {
        self.0
            .bundle
            .users
            .get(&id)
            .cloned()
            .map(User)
            .ok_or_else(|| load_error("a referenced user is missing").into())
    }
}

/// A case: one family in one tenant, its caseworkers and follow-up status.
/// Fields marked *case details* need the `CASE_DETAILS` category (everyone on
/// the case has it; a professional only through a consent).
#[Object]
impl Case {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.0.model.id)
    }

    /// The case type, which fixes the follow-up cadence.
    async fn case_type(&self) -> CaseType {
        self.0.model.case_type.into()
    }

    /// Where the case stands.
    async fn status(&self) -> CaseStatus {
        self.0.model.status.into()
    }

    /// How the viewer is related to the case.
    async fn viewer_relation(&self) -> CaseRelation {
        self.0.access.relation.into()
    }

    /// Which categories of the case the viewer may see.
    async fn viewer_categories(&self) -> Vec<ConsentCategory> {
        categories_of(self.0.access.categories)
    }

    /// The family.
    async fn family(&self) -> Result<Family> {
        let row = self
            .0
            .bundle
            .families
            .get(&self.0.model.family_id)
            .cloned()
            .ok_or_else(|| load_error("the case's family is missing"))?;
        Ok(Family {
            model: row,
            categories: self.0.access.categories,
            today: self.0.today(),
            prefetched: Some(
                self.0
                    .bundle
                    .members
                    .get(&self.0.model.family_id)
                    .cloned()
                    .unwrap_or_default(),
            ),
        })
    }

    /// The children the case is about.
    async fn focus_children(&self) -> Result<Vec<FamilyMember>> {
        let bundle = &self.0.bundle;
        let ids = bundle
            .focus
            .get(&self.0.model.id)
            .cloned()
            .unwrap_or_default();
        let members = bundle
            .members
            .get(&self.0.model.family_id)
            .cloned()
            .unwrap_or_default();
        Ok(members
            .into_iter()
            .filter(|m| ids.contains(&m.id))
            .map(|model| FamilyMember {
                model,
                categories: self.0.access.categories,
                today: self.0.today(),
            })
            .collect())
    }

    /// The primary caseworker.
    async fn primary_caseworker(&self) -> Result<User> {
        self.bundled_user(self.0.model.primary_caseworker_id)
    }

    /// The partner caseworker, who knows the case and covers absences.
    async fn partner_caseworker(&self) -> Result<Option<User>> {
        self.0
            .model
            .partner_caseworker_id
            .map(|id| self.bundled_user(id))
            .transpose()
    }

    /// Family therapists working the case.
    async fn therapists(&self) -> Result<Vec<User>> {
        self.0
            .bundle
            .therapists
            .get(&self.0.model.id)
            .into_iter()
            .flatten()
            .map(|id| self.bundled_user(*id))
            .collect()
    }

    /// The team that owns the case.
    async fn team(&self) -> Result<Team> {
        let row = self
            .0
            .bundle
            .teams
            .get(&self.0.model.team_id)
            .cloned()
            .ok_or_else(|| load_error("the case's team is missing"))?;
        let lead = row
            .team_lead_id
            .and_then(|id| self.0.bundle.users.get(&id).cloned());
        Ok(Team {
            model: row,
            prefetched_lead: lead.map(Some),
        })
    }

    /// Case details: the day the case was opened.
    async fn opened_on(&self) -> Result<Option<Date>> {
        self.0.require(Category::CaseDetails)?;
        Ok(Some(self.0.model.opened_on.into()))
    }

    /// Case details: the day of the start conversation with child and family.
    async fn start_conversation_on(&self) -> Result<Option<Date>> {
        self.0.require(Category::CaseDetails)?;
        Ok(self.0.model.start_conversation_on.map(Date))
    }

    /// Case details: when the last follow-up review was held.
    async fn last_follow_up_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.0.require(Category::CaseDetails)?;
        Ok(self.0.model.last_follow_up_at)
    }

    /// Case details: the day the next follow-up is due (the last follow-up, else
    /// the start conversation, else the opening, plus 3 months for `SUPPORT` or
    /// 6 weeks for `INVESTIGATION`; in the municipality's time zone).
    async fn next_follow_up_due(&self) -> Result<Option<Date>> {
        self.0.require(Category::CaseDetails)?;
        Ok(Some(self.0.model.next_follow_up_due.into()))
    }

    /// Case details: the follow-up meeting booked on the case (a `FOLLOW_UP`
    /// appointment, proposed or booked, not over yet), and whether it is held
    /// by the follow-up due date.
    async fn follow_up_meeting(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::scheduling::deadlines::ScheduledMeeting>> {
        self.0.require(Category::CaseDetails)?;
        let bundle = &self.0.bundle;
        let meetings = bundle
            .meetings
            .get_or_try_init(|| {
                let ids: Vec<Uuid> = bundle.facts.keys().copied().collect();
                let db = ctx.state().db.clone();
                async move { crate::scheduling::deadlines::upcoming_meetings(&db, &ids).await }
            })
            .await?;
        Ok(crate::scheduling::deadlines::next_meeting(
            meetings
                .get(&self.0.model.id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            entity::appointment::AppointmentKind::FollowUp,
            self.0.model.next_follow_up_due,
            self.0.zone,
        ))
    }

    /// Case details: whether the case is open and its follow-up is past due.
    async fn follow_up_overdue(&self) -> Result<Option<bool>> {
        self.0.require(Category::CaseDetails)?;
        Ok(Some(cadence::follow_up_overdue(
            self.0.model.status,
            self.0.model.next_follow_up_due,
            self.0.today(),
        )))
    }

    /// Whether the young person may give consents themselves.
    async fn young_person_may_consent(&self) -> bool {
        self.0.model.young_person_may_consent
    }

    /// Case details: when the case was closed or transferred.
    async fn closed_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.0.require(Category::CaseDetails)?;
        Ok(self.0.model.closed_at)
    }

    /// Case details: why the case was closed, or the handover to adult services.
    async fn closing_note(&self) -> Result<Option<&str>> {
        self.0.require(Category::CaseDetails)?;
        Ok(self.0.model.closing_note.as_deref())
    }

    /// Case details: who was responsible when, with the handover notes, oldest first.
    async fn responsibility_history(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<CaseAssignment>>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        self.0.require(Category::CaseDetails)?;
        let rows = case_assignment::Entity::find()
            .filter(case_assignment::Column::CaseId.eq(self.0.model.id))
            .order_by_asc(case_assignment::Column::StartedAt)
            .order_by_asc(case_assignment::Column::Id)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        Ok(Some(rows.into_iter().map(CaseAssignment).collect()))
    }

    /// Who may see what of the case: every consent the family gave, live or
    /// not. Visible to the family and the social-services staff on the case.
    async fn consents(&self, ctx: &Context<'_>) -> Result<Option<Vec<Consent>>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        if matches!(
            self.0.access.relation,
            case_policy::CaseRelation::ConsentedProfessional
                | case_policy::CaseRelation::NetworkMember
        ) {
            return Err(AppError::Forbidden.into());
        }
        let rows = consent::Entity::find()
            .filter(consent::Column::CaseId.eq(self.0.model.id))
            .order_by_desc(consent::Column::GrantedAt)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        Ok(Some(rows.into_iter().map(Consent).collect()))
    }

    /// Who accessed the case and when, newest first: every read by staff and
    /// professionals, and every change. For the family (transparency) and the
    /// social-services staff who work the case; `FORBIDDEN` for others.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries (1–100).")] first: i32,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> Result<CaseAccessConnection> {
        use crate::graphql::pagination::{decode_cursor, page, page_size};
        use case_policy::CaseRelation as R;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let allowed = matches!(
            self.0.access.relation,
            R::Guardian
                | R::YoungPerson
                | R::PrimaryCaseworker
                | R::PartnerCaseworker
                | R::TeamLead
        );
        if !allowed {
            return Err(AppError::Forbidden.into());
        }
        let limit = page_size(first)?;
        let mut query = entity::audit_event::Entity::find()
            .filter(entity::audit_event::Column::CaseId.eq(self.0.model.id))
            .filter(entity::audit_event::Column::TenantId.eq(self.0.model.tenant_id))
            .order_by_desc(entity::audit_event::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(entity::audit_event::Column::Id.lt(decode_cursor(&after)?));
        }
        let rows = query.all(&ctx.state().db).await.map_err(AppError::from)?;
        Ok(CaseAccessConnection::new(page(
            rows,
            limit,
            |row| row.id,
            CaseAccessEntry,
        )))
    }

    /// Requests from the family for another caseworker, newest first. For the
    /// family and the social-services staff who work the case.
    async fn caseworker_change_requests(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<CaseworkerChangeRequest>>> {
        let rows = super::service::change_requests_of_case(&ctx.state().db, &self.0).await?;
        Ok(Some(
            rows.into_iter().map(CaseworkerChangeRequest).collect(),
        ))
    }

    /// Case details: the coordinated individual plan (SIP), if one was started.
    async fn coordinated_plan(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::plan::types::CoordinatedPlan>> {
        self.0.require(Category::CaseDetails)?;
        let plan = crate::plan::service::plan_of(&ctx.state().db, self.0.model.id).await?;
        Ok(plan.map(|model| crate::plan::types::CoordinatedPlan {
            model,
            zone: self.0.zone,
        }))
    }

    /// The goals of the case the viewer may see (the `GOALS` category and
    /// each goal's visibility), oldest first.
    async fn goals(&self, ctx: &Context<'_>) -> Result<Option<Vec<crate::goal::types::Goal>>> {
        let rows = crate::goal::service::goals_of_case(&ctx.state().db, &self.0).await?;
        let view = std::sync::Arc::new(self.0.clone());
        Ok(Some(
            rows.into_iter()
                .map(|model| crate::goal::types::Goal {
                    model,
                    case: view.clone(),
                })
                .collect(),
        ))
    }

    /// The follow-up reviews, newest first, with the rating of each goal the
    /// viewer may see. Needs the `GOALS` category.
    async fn follow_ups(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<crate::goal::types::FollowUp>>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        self.0.require(Category::Goals)?;
        let rows = entity::follow_up::Entity::find()
            .filter(entity::follow_up::Column::CaseId.eq(self.0.model.id))
            .order_by_desc(entity::follow_up::Column::HeldOn)
            .limit(100)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        let view = std::sync::Arc::new(self.0.clone());
        Ok(Some(
            rows.into_iter()
                .map(|model| crate::goal::types::FollowUp {
                    model,
                    case: view.clone(),
                })
                .collect(),
        ))
    }

    /// Case details: the Signs of Safety assessments, newest first.
    async fn safety_assessments(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<crate::goal::types::SafetyAssessment>>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        self.0.require(Category::CaseDetails)?;
        let rows = entity::safety_assessment::Entity::find()
            .filter(entity::safety_assessment::Column::CaseId.eq(self.0.model.id))
            .order_by_desc(entity::safety_assessment::Column::AssessedOn)
            .order_by_desc(entity::safety_assessment::Column::CreatedAt)
            .limit(100)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        Ok(Some(
            rows.into_iter()
                .map(crate::goal::types::SafetyAssessment)
                .collect(),
        ))
    }

    /// The family's strengths and resources, shown beside the goals (needs the
    /// `GOALS` category), oldest first.
    async fn strengths(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<crate::goal::types::FamilyStrength>>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        self.0.require(Category::Goals)?;
        let rows = entity::family_strength::Entity::find()
            .filter(entity::family_strength::Column::CaseId.eq(self.0.model.id))
            .order_by_asc(entity::family_strength::Column::CreatedAt)
            .limit(100)
            .all(&ctx.state().db)
            .await
            .map_err(AppError::from)?;
        Ok(Some(
            rows.into_iter()
                .map(crate::goal::types::FamilyStrength)
                .collect(),
        ))
    }

    /// The conversations of the case the viewer takes part in (the `MESSAGES`
    /// category, and the conversation's kind and participants).
    async fn conversations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::messaging::types::Conversation>> {
        let principal = ctx.viewer().principal()?;
        let rows =
            crate::messaging::service::conversations_of_case(&ctx.state().db, principal, &self.0)
                .await?;
        let view = std::sync::Arc::new(self.0.clone());
        Ok(rows
            .into_iter()
            .map(|model| crate::messaging::types::Conversation {
                model,
                case: view.clone(),
            })
            .collect())
    }

    /// The version of the case, to send back with `updateCase`.
    async fn version(&self) -> i32 {
        self.0.model.version
    }
}

async fn user(ctx: &Context<'_>, id: Uuid) -> Result<User> {
    Ok(User(
        ctx.user_loader()
            .load_one(id)
            .await
            .map_err(load_error)?
            .ok_or_else(|| load_error("a referenced user is missing"))?,
    ))
}

/// A household: guardians, children and their network.
pub struct Family {
    pub model: family::Model,
    pub categories: Categories,
    pub today: NaiveDate,
    /// The members when already loaded with the case.
    pub prefetched: Option<Vec<family_member::Model>>,
}

/// A household: guardians, children and their network.
#[Object]
impl Family {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Family, self.model.id)
    }

    /// How the family is referred to.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Case details: everyone in the family and its network.
    async fn members(&self, ctx: &Context<'_>) -> Result<Option<Vec<FamilyMember>>> {
        if !self.categories.contains(Category::CaseDetails) {
            return Err(AppError::Forbidden.into());
        }
        let members = match &self.prefetched {
            Some(members) => members.clone(),
            None => ctx
                .loader::<loaders::FamilyMembersLoader>()
                .load_one(self.model.id)
                .await
                .map_err(load_error)?
                .unwrap_or_default(),
        };
        Ok(Some(
            members
                .into_iter()
                .map(|model| FamilyMember {
                    model,
                    categories: self.categories,
                    today: self.today,
                })
                .collect(),
        ))
    }
}

/// A person in a family. No national identity number is kept.
pub struct FamilyMember {
    pub model: family_member::Model,
    pub categories: Categories,
    pub today: NaiveDate,
}

/// A person in a family. No national identity number is kept.
#[Object]
impl FamilyMember {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::FamilyMember, self.model.id)
    }

    /// What the person is in the family.
    async fn kind(&self) -> FamilyMemberKind {
        self.model.kind.into()
    }

    /// The person's name.
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// Case details: the date of birth.
    async fn date_of_birth(&self) -> Result<Option<Date>> {
        if !self.categories.contains(Category::CaseDetails) {
            return Err(AppError::Forbidden.into());
        }
        Ok(self.model.date_of_birth.map(Date))
    }

    /// The age in whole years today, derived from the date of birth.
    async fn age(&self) -> Option<i32> {
        self.model
            .date_of_birth
            .map(|born| cadence::age_on(born, self.today))
    }

    /// How a network member is related to the family.
    async fn network_relation(&self) -> Option<NetworkRelation> {
        self.model.network_relation.map(Into::into)
    }

    /// Whether the person has their own login.
    async fn has_account(&self) -> bool {
        self.model.user_id.is_some()
    }
}

/// A team of caseworkers and therapists with a team lead.
pub struct Team {
    pub model: team::Model,
    /// The team lead when already loaded (`Some(None)`: the team has none).
    pub prefetched_lead: Option<Option<entity::user_account::Model>>,
}

/// A team of caseworkers and therapists with a team lead.
#[Object]
impl Team {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Team, self.model.id)
    }

    /// The team's name.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// The team lead.
    async fn team_lead(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        if let Some(lead) = &self.prefetched_lead {
            return Ok(lead.clone().map(User));
        }
        match self.model.team_lead_id {
            Some(id) => Ok(Some(user(ctx, id).await?)),
            None => Ok(None),
        }
    }
}

/// One period of responsibility on a case.
pub struct CaseAssignment(pub case_assignment::Model);

/// One period of responsibility on a case.
#[Object]
impl CaseAssignment {
    /// Which responsibility.
    async fn responsibility(&self) -> Responsibility {
        self.0.responsibility.into()
    }

    /// Who had it.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.user_id).await
    }

    /// From when.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// Until when; null while it lasts.
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }

    /// The written handover given when this period began.
    async fn handover_note(&self) -> Option<&str> {
        self.0.handover_note.as_deref()
    }
}

/// A family's consent that an agency (or one of its professionals) may see
/// some categories of the case, for a period.
pub struct Consent(pub consent::Model);

/// A family's consent that an agency (or one of its professionals) may see
/// some categories of the case, for a period.
#[Object]
impl Consent {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::Consent, self.0.id)
    }

    /// The agency that may see.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        Ok(Organisation(
            ctx.organisation_loader()
                .load_one(self.0.organisation_id)
                .await
                .map_err(load_error)?
                .ok_or_else(|| load_error("the consent's organisation is missing"))?,
        ))
    }

    /// Only this professional of the agency, when set.
    async fn professional(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.user_id {
            Some(id) => Ok(Some(user(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// What may be seen.
    async fn categories(&self) -> Vec<ConsentCategory> {
        categories_of(Categories::parse(&self.0.categories))
    }

    /// From when.
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.valid_from
    }

    /// Until when; null for until withdrawn.
    async fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.0.valid_until
    }

    /// Who gave it.
    async fn granted_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.granted_by).await
    }

    /// When it was given.
    async fn granted_at(&self) -> DateTime<Utc> {
        self.0.granted_at
    }

    /// When it was withdrawn; null unless withdrawn.
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }

    /// Whether it is in force now.
    async fn active(&self) -> bool {
        case_policy::ConsentFacts::from(&self.0).live_at(Utc::now())
    }
}

/// One caseworker's share of a team's caseload.
#[derive(SimpleObject)]
pub struct CaseloadEntry {
    /// The caseworker.
    pub caseworker: User,
    /// Open cases where they are the primary caseworker.
    pub open_cases: u64,
    /// Of those, how many have an overdue follow-up.
    pub overdue_follow_ups: u64,
}

crate::connection_type!(
    CaseConnection,
    CaseEdge,
    Case,
    "A page of cases, most urgent follow-up first.",
    "One case with its cursor."
);

/// One access to a case: who read or changed it, and when.
pub struct CaseAccessEntry(pub entity::audit_event::Model);

/// One access to a case: who read or changed it, and when.
#[Object]
impl CaseAccessEntry {
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// What was done (`CASE_READ`, `CASE_HANDED_OVER`, `CONSENT_GRANTED`, …).
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.actor_user_id {
            Some(id) => Ok(Some(user(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// For reads: as what the person had access (`PRIMARY_CASEWORKER`,
    /// `CONSENTED_PROFESSIONAL`, …).
    async fn relation(&self) -> Option<&str> {
        (self.0.action == "CASE_READ")
            .then_some(self.0.detail.as_deref())
            .flatten()
    }
}

crate::connection_type!(
    CaseAccessConnection,
    CaseAccessEdge,
    CaseAccessEntry,
    "A page of a case's access log, newest first.",
    "One access with its cursor."
);

/// Where a request for another caseworker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::caseworker_change_request::RequestStatus")]
pub enum CaseworkerChangeRequestStatus {
    /// Waiting for the team lead's answer.
    Pending,
    /// Granted: the case was handed over.
    Granted,
    /// Declined, with an answer.
    Declined,
}

/// A family member's request for another caseworker, answered by the team lead.
pub struct CaseworkerChangeRequest(pub entity::caseworker_change_request::Model);

/// A family member's request for another caseworker, answered by the team lead.
#[Object]
impl CaseworkerChangeRequest {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        GlobalId::encode(NodeKind::CaseworkerChangeRequest, self.0.id)
    }

    /// The case.
    async fn case_id(&self) -> ID {
        GlobalId::encode(NodeKind::Case, self.0.case_id)
    }

    /// Who asked.
    async fn requested_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.requested_by).await
    }

    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Where it stands.
    async fn status(&self) -> CaseworkerChangeRequestStatus {
        self.0.status.into()
    }

    /// When it was asked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The team lead who answered.
    async fn answered_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.answered_by {
            Some(id) => Ok(Some(user(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The answer to the family.
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }

    /// When it was answered.
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
}
