//! The case part of the policy: who may see and do what on a case, decided from
//! the viewer's relation to it and, for other agencies, the family's consent.
//!
//! `case_access` decides for one case from its facts; `case_scope` is the same
//! rule as a SQL condition, so that lists and counts only ever contain what the
//! viewer may see (no fetch-then-filter).

use chrono::{DateTime, Utc};
use entity::{
    care_case, case_focus_child, case_therapist, consent, family_member, team, user_account::Role,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::Principal;

/// A category of case data a consent can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Goals,
    Appointments,
    Messages,
    CaseDetails,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 4] = [
        Category::Goals,
        Category::Appointments,
        Category::Messages,
        Category::CaseDetails,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Goals => "GOALS",
            Category::Appointments => "APPOINTMENTS",
            Category::Messages => "MESSAGES",
            Category::CaseDetails => "CASE_DETAILS",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Category::Goals => 1,
            Category::Appointments => 2,
            Category::Messages => 4,
            Category::CaseDetails => 8,
        }
    }
}

/// A set of categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Categories(u8);

impl Categories {
    /// Every category.
    pub fn all() -> Self {
        Categories(15)
    }

    /// No category.
    pub fn none() -> Self {
        Categories(0)
    }

    /// Whether `category` is in the set.
    pub fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }

    /// The union of two sets.
    pub fn union(self, other: Categories) -> Self {
        Categories(self.0 | other.0)
    }

    /// Parses the stored comma-separated form; unknown names are ignored.
    pub fn parse(stored: &str) -> Self {
        let mut set = Categories::none();
        for name in stored.split(',') {
            if let Some(category) = Category::ALL.iter().find(|c| c.as_str() == name.trim()) {
                set = set.union(Categories::from(*category));
            }
        }
        set
    }

    /// The stored comma-separated form, in a fixed order.
    pub fn to_stored(self) -> String {
        self.iter()
            .map(Category::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The categories in the set, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl From<Category> for Categories {
    fn from(category: Category) -> Self {
        Categories(category.bit())
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Categories::none(), |set, c| set.union(c.into()))
    }
}

/// How the viewer is related to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseRelation {
    PrimaryCaseworker,
    PartnerCaseworker,
    FamilyTherapist,
    TeamLead,
    Guardian,
    YoungPerson,
    NetworkMember,
    /// A professional of another organisation, through a live consent.
    ConsentedProfessional,
}

impl CaseRelation {
    /// Whether the relation is a staff one (reads are audited).
    pub fn is_staff(self) -> bool {
        !matches!(
            self,
            CaseRelation::Guardian | CaseRelation::YoungPerson | CaseRelation::NetworkMember
        )
    }

    /// Whether the viewer decides who works the case (partner, therapists):
    /// the primary caseworker or the team lead.
    pub fn assigns_staff(self) -> bool {
        matches!(
            self,
            CaseRelation::PrimaryCaseworker | CaseRelation::TeamLead
        )
    }

    /// Whether the viewer works the case in social services (may change it).
    pub fn works_the_case(self) -> bool {
        matches!(
            self,
            CaseRelation::PrimaryCaseworker
                | CaseRelation::PartnerCaseworker
                | CaseRelation::TeamLead
        )
    }
}

/// What the viewer may see of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseAccess {
    pub relation: CaseRelation,
    pub categories: Categories,
}

/// Whether a viewer with `access` to a case sees a goal of `visibility`:
/// `FAMILY` goals the family and the staff; `YOUNG_PERSON` goals the young
/// person and the staff, not the guardians; `CARE_TEAM` goals also
/// professionals with a `GOALS` consent.
pub fn can_see_goal(access: &CaseAccess, visibility: entity::goal::GoalVisibility) -> bool {
    use entity::goal::GoalVisibility;
    if !access.categories.contains(Category::Goals) {
        return false;
    }
    match visibility {
        GoalVisibility::Family => !matches!(
            access.relation,
            CaseRelation::ConsentedProfessional | CaseRelation::NetworkMember
        ),
        GoalVisibility::YoungPerson => !matches!(
            access.relation,
            CaseRelation::Guardian
                | CaseRelation::NetworkMember
                | CaseRelation::ConsentedProfessional
        ),
        GoalVisibility::CareTeam => access.relation != CaseRelation::NetworkMember,
    }
}

/// Whether a viewer with `access` to a case may read and write in a
/// conversation of `kind`; `participant` says whether the conversation lists
/// the viewer (family members take part only where listed).
pub fn can_use_conversation(
    access: &CaseAccess,
    kind: entity::conversation::ConversationKind,
    participant: bool,
) -> bool {
    use entity::conversation::ConversationKind;
    if !access.categories.contains(Category::Messages) {
        return false;
    }
    let staff = manages_goals(access.relation);
    match kind {
        ConversationKind::Family => {
            staff
                || (participant
                    && matches!(
                        access.relation,
                        CaseRelation::Guardian | CaseRelation::YoungPerson
                    ))
        }
        ConversationKind::YoungPerson => {
            access.relation.works_the_case()
                || (participant && access.relation == CaseRelation::YoungPerson)
        }
        ConversationKind::CareTeam => {
            staff || access.relation == CaseRelation::ConsentedProfessional
        }
    }
}

/// Whether the viewer is staff on the case who may manage its goals.
pub fn manages_goals(relation: CaseRelation) -> bool {
    relation.works_the_case() || relation == CaseRelation::FamilyTherapist
}

/// A consent as the policy needs it.
#[derive(Debug, Clone)]
pub struct ConsentFacts {
    pub organisation_id: Uuid,
    pub user_id: Option<Uuid>,
    pub categories: Categories,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub withdrawn: bool,
}

impl ConsentFacts {
    /// Whether the consent is in force at `now`.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        !self.withdrawn
            && self.valid_from <= now
            && self.valid_until.is_none_or(|until| now < until)
    }
}

impl From<&consent::Model> for ConsentFacts {
    fn from(row: &consent::Model) -> Self {
        ConsentFacts {
            organisation_id: row.organisation_id,
            user_id: row.user_id,
            categories: Categories::parse(&row.categories),
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            withdrawn: row.withdrawn_at.is_some(),
        }
    }
}

/// A family member with a login, as the policy needs it.
#[derive(Debug, Clone)]
pub struct MemberFacts {
    pub user_id: Uuid,
    pub kind: family_member::MemberKind,
    /// Whether this member is one of the case's focus children.
    pub focus_child: bool,
}

/// Everything the policy needs to know about one case.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub tenant_id: Uuid,
    pub primary_caseworker_id: Uuid,
    pub partner_caseworker_id: Option<Uuid>,
    pub therapist_ids: Vec<Uuid>,
    pub team_lead_id: Option<Uuid>,
    pub members: Vec<MemberFacts>,
    pub consents: Vec<ConsentFacts>,
}

/// What `principal` may see of the case, or `None` when nothing (the case then
/// answers as if it did not exist). Admins read no case content.
pub fn case_access(
    principal: &Principal,
    facts: &CaseFacts,
    now: DateTime<Utc>,
) -> Option<CaseAccess> {
    if principal.tenant_id != facts.tenant_id || principal.role == Role::Admin {
        return None;
    }
    let me = principal.user_id;
    let full = |relation| {
        Some(CaseAccess {
            relation,
            categories: Categories::all(),
        })
    };
    if facts.primary_caseworker_id == me {
        return full(CaseRelation::PrimaryCaseworker);
    }
    if facts.partner_caseworker_id == Some(me) {
        return full(CaseRelation::PartnerCaseworker);
    }
    if facts.team_lead_id == Some(me) && principal.role == Role::TeamLead {
        return full(CaseRelation::TeamLead);
    }
    if facts.therapist_ids.contains(&me) {
        return full(CaseRelation::FamilyTherapist);
    }
    if let Some(member) = facts.members.iter().find(|m| m.user_id == me) {
        return match (member.kind, principal.role) {
            (family_member::MemberKind::Guardian, Role::Guardian) => full(CaseRelation::Guardian),
            (family_member::MemberKind::Child, Role::YoungPerson) if member.focus_child => {
                full(CaseRelation::YoungPerson)
            }
            // A network member is part of the family's circle: they see who
            // works the case and what they take part in, not the case record.
            (family_member::MemberKind::NetworkMember, Role::NetworkMember) => Some(CaseAccess {
                relation: CaseRelation::NetworkMember,
                categories: Categories::none(),
            }),
            _ => None,
        };
    }
    if principal.role == Role::AgencyProfessional
        && let Some(organisation_id) = principal.organisation_id
    {
        let categories = facts
            .consents
            .iter()
            .filter(|c| c.live_at(now))
            .filter(|c| c.organisation_id == organisation_id)
            .filter(|c| c.user_id.is_none_or(|u| u == me))
            .fold(Categories::none(), |set, c| set.union(c.categories));
        if !categories.is_empty() {
            return Some(CaseAccess {
                relation: CaseRelation::ConsentedProfessional,
                categories,
            });
        }
    }
    None
}

/// The same rule as `case_access`, as a SQL condition on `care_case`, for lists
/// and counts. Agency professionals see a case while a live consent for their
/// organisation (or them) exists.
pub fn case_scope(principal: &Principal, now: DateTime<Utc>) -> Condition {
    let tenant = care_case::Column::TenantId.eq(principal.tenant_id);
    if principal.role == Role::Admin {
        // Admins read no case content: an always-false condition.
        return Condition::all()
            .add(tenant)
            .add(care_case::Column::Id.is_null());
    }
    let me = principal.user_id;
    let mut any = Condition::any()
        .add(care_case::Column::PrimaryCaseworkerId.eq(me))
        .add(care_case::Column::PartnerCaseworkerId.eq(me))
        .add(
            care_case::Column::Id.in_subquery(
                case_therapist::Entity::find()
                    .select_only()
                    .column(case_therapist::Column::CaseId)
                    .filter(case_therapist::Column::UserId.eq(me))
                    .into_query(),
            ),
        );
    if principal.role == Role::TeamLead {
        any = any.add(
            care_case::Column::TeamId.in_subquery(
                team::Entity::find()
                    .select_only()
                    .column(team::Column::Id)
                    .filter(team::Column::TeamLeadId.eq(me))
                    .into_query(),
            ),
        );
    }
    match principal.role {
        Role::Guardian | Role::NetworkMember => {
            any = any.add(
                care_case::Column::FamilyId.in_subquery(
                    family_member::Entity::find()
                        .select_only()
                        .column(family_member::Column::FamilyId)
                        .filter(family_member::Column::UserId.eq(me))
                        .into_query(),
                ),
            );
        }
        Role::YoungPerson => {
            any = any.add(
                care_case::Column::Id.in_subquery(
                    case_focus_child::Entity::find()
                        .select_only()
                        .column(case_focus_child::Column::CaseId)
                        .filter(
                            case_focus_child::Column::MemberId.in_subquery(
                                family_member::Entity::find()
                                    .select_only()
                                    .column(family_member::Column::Id)
                                    .filter(family_member::Column::UserId.eq(me))
                                    .into_query(),
                            ),
                        )
                        .into_query(),
                ),
            );
        }
        Role::AgencyProfessional => {
            if let Some(organisation_id) = principal.organisation_id {
                any = any.add(
                    care_case::Column::Id.in_subquery(
                        consent::Entity::find()
                            .select_only()
                            .column(consent::Column::CaseId)
                            .filter(consent::Column::OrganisationId.eq(organisation_id))
                            .filter(
                                Condition::any()
                                    .add(consent::Column::UserId.is_null())
                                    .add(consent::Column::UserId.eq(me)),
                            )
                            .filter(consent::Column::WithdrawnAt.is_null())
                            .filter(consent::Column::ValidFrom.lte(now))
                            .filter(
                                Condition::any()
                                    .add(consent::Column::ValidUntil.is_null())
                                    .add(consent::Column::ValidUntil.gt(now)),
                            )
                            .into_query(),
                    ),
                );
            }
        }
        _ => {}
    }
    Condition::all().add(tenant).add(any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use family_member::MemberKind;

    fn principal(role: Role, tenant_id: Uuid, organisation_id: Option<Uuid>) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            tenant_id,
            organisation_id,
            role,
            session_id: Uuid::now_v7(),
        }
    }

    fn facts(tenant_id: Uuid) -> CaseFacts {
        CaseFacts {
            tenant_id,
            primary_caseworker_id: Uuid::now_v7(),
            partner_caseworker_id: None,
            therapist_ids: vec![],
            team_lead_id: None,
            members: vec![],
            consents: vec![],
        }
    }

    #[test]
    fn staff_on_the_case_and_the_family_see_everything_admins_and_strangers_nothing() {
        let tenant = Uuid::now_v7();
        let now = Utc::now();
        let primary = principal(Role::Caseworker, tenant, None);
        let partner = principal(Role::Caseworker, tenant, None);
        let lead = principal(Role::TeamLead, tenant, None);
        let guardian = principal(Role::Guardian, tenant, None);
        let admin = principal(Role::Admin, tenant, None);
        let stranger = principal(Role::Caseworker, tenant, None);
        let mut case = facts(tenant);
        case.primary_caseworker_id = primary.user_id;
        case.partner_caseworker_id = Some(partner.user_id);
        case.team_lead_id = Some(lead.user_id);
        case.members.push(MemberFacts {
            user_id: guardian.user_id,
            kind: MemberKind::Guardian,
            focus_child: false,
        });
        for (p, relation) in [
            (&primary, CaseRelation::PrimaryCaseworker),
            (&partner, CaseRelation::PartnerCaseworker),
            (&lead, CaseRelation::TeamLead),
            (&guardian, CaseRelation::Guardian),
        ] {
            assert_eq!(
                case_access(p, &case, now),
                Some(CaseAccess {
                    relation,
                    categories: Categories::all()
                })
            );
        }
        assert_eq!(case_access(&admin, &case, now), None);
        assert_eq!(case_access(&stranger, &case, now), None);
        let mut other_tenant = primary.clone();
        other_tenant.tenant_id = Uuid::now_v7();
        assert_eq!(case_access(&other_tenant, &case, now), None);
    }

    #[test]
    fn a_professional_sees_exactly_the_live_consented_categories() {
        let tenant = Uuid::now_v7();
        let school = Uuid::now_v7();
        let now = Utc::now();
        let teacher = principal(Role::AgencyProfessional, tenant, Some(school));
        let mut case = facts(tenant);
        assert_eq!(
            case_access(&teacher, &case, now),
            None,
            "no consent, nothing"
        );
        case.consents.push(ConsentFacts {
            organisation_id: school,
            user_id: None,
            categories: Category::Goals.into(),
            valid_from: now - Duration::days(1),
            valid_until: Some(now + Duration::days(30)),
            withdrawn: false,
        });
        let access = case_access(&teacher, &case, now).unwrap();
        assert!(access.categories.contains(Category::Goals));
        assert!(!access.categories.contains(Category::Messages));
        assert_eq!(
            case_access(&teacher, &case, now + Duration::days(31)),
            None,
            "expired"
        );
        case.consents[0].withdrawn = true;
        assert_eq!(case_access(&teacher, &case, now), None, "withdrawn");
        case.consents[0].withdrawn = false;
        case.consents[0].user_id = Some(Uuid::now_v7());
        assert_eq!(
            case_access(&teacher, &case, now),
            None,
            "for another person"
        );
    }

    #[test]
    fn a_young_persons_private_goal_is_hidden_from_guardians_and_professionals() {
        use entity::goal::GoalVisibility;
        let access = |relation, categories| CaseAccess {
            relation,
            categories,
        };
        let guardian = access(CaseRelation::Guardian, Categories::all());
        let young = access(CaseRelation::YoungPerson, Categories::all());
        let primary = access(CaseRelation::PrimaryCaseworker, Categories::all());
        let school = access(CaseRelation::ConsentedProfessional, Category::Goals.into());
        let school_without_goals = access(
            CaseRelation::ConsentedProfessional,
            Category::Appointments.into(),
        );
        assert!(!can_see_goal(&guardian, GoalVisibility::YoungPerson));
        assert!(can_see_goal(&young, GoalVisibility::YoungPerson));
        assert!(can_see_goal(&primary, GoalVisibility::YoungPerson));
        assert!(!can_see_goal(&school, GoalVisibility::Family));
        assert!(can_see_goal(&school, GoalVisibility::CareTeam));
        assert!(!can_see_goal(
            &school_without_goals,
            GoalVisibility::CareTeam
        ));
    }

    #[test]
    fn categories_round_trip_through_their_stored_form() {
        let set: Categories = [Category::Messages, Category::Goals].into_iter().collect();
        assert_eq!(set.to_stored(), "GOALS,MESSAGES");
        assert_eq!(Categories::parse("GOALS,MESSAGES"), set);
        assert_eq!(Categories::parse(""), Categories::none());
    }
}
