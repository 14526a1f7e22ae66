//! Case logic. Every read goes through `case_access` (or its SQL form
//! `case_scope` for lists); staff reads are audited once per case per request,
//! before the data is returned, and a request whose audit row cannot be written
//! fails.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{
    care_case::{self, CaseStatus, CaseType},
    case_assignment::{self, Responsibility},
    case_focus_child, case_therapist, caseworker_change_request,
    caseworker_change_request::RequestStatus,
    consent, family, family_member,
    family_member::MemberKind,
    organisation, team, team_membership, tenant, user_account,
    user_account::Role,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::cadence;
use crate::{
    audit::{self, AuditAction, AuditEntry},
    auth::access_cache::AccessCache,
    auth::{
        Principal,
        case_policy::{
            CaseAccess, CaseFacts, CaseRelation, Categories, Category, ConsentFacts, MemberFacts,
            case_access, case_scope,
        },
    },
    error::{AppError, AppResult},
    family::service::{NewMember, validate_member, validate_name},
    graphql::{RequestMeta, UserError, UserErrorCode, pagination::page_size},
};

/// Longest handover or closing note.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// A case as the viewer may see it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub model: care_case::Model,
    pub access: CaseAccess,
    pub zone: Tz,
    /// What the case's page shows, loaded with the other cases of the page.
    pub bundle: std::sync::Arc<CaseBundle>,
}

impl CaseView {
    /// `FORBIDDEN` unless the viewer's access includes `category`.
    pub fn require(&self, category: Category) -> AppResult<()> {
        if self.access.categories.contains(category) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Today in the tenant's time zone.
    pub fn today(&self) -> NaiveDate {
        cadence::local_date(Utc::now(), self.zone)
    }
}

/// What one request remembers about the cases it reads: which reads it has
/// audited already, and whether it may take cases' access facts from the
/// process's cache (query operations only, see `auth::access_cache`).
#[derive(Default)]
pub struct ReadAudit(
    Mutex<HashSet<Uuid>>,
    std::sync::OnceLock<std::sync::Arc<AccessCache>>,
);

impl std::fmt::Debug for ReadAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAudit")
            .field("uses_cache", &self.1.get().is_some())
            .finish_non_exhaustive()
    }
}

impl ReadAudit {
    /// Lets this request's case reads use the cache (call only for requests
    /// that change nothing).
    pub fn use_cache(&self, cache: std::sync::Arc<AccessCache>) {
        let _ = self.1.set(cache);
    }

    /// The cache this request may use, if any.
    fn cache(&self) -> Option<&AccessCache> {
        self.1.get().map(|c| &**c)
    }

    /// Marks ids as audited; returns those that were not yet.
    fn claim(&self, ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ids.into_iter().filter(|id| seen.insert(*id)).collect()
    }

    /// Forgets ids (their audit could not be written).
    fn release(&self, ids: &[Uuid]) {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for id in ids {
            seen.remove(id);
        }
    }
}

/// The tenant's time zone. A tenant's zone is set when it is created and
/// never changed, so each process reads it once per tenant.
pub async fn tenant_zone<C: ConnectionTrait>(db: &C, tenant_id: Uuid) -> AppResult<Tz> {
    static ZONES: std::sync::OnceLock<std::sync::RwLock<HashMap<Uuid, Tz>>> =
        std::sync::OnceLock::new();
    let zones = ZONES.get_or_init(Default::default);
    if let Some(zone) = zones
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&tenant_id)
    {
        return Ok(*zone);
    }
    let row = tenant::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let zone = row
        .time_zone
        .parse::<Tz>()
        .map_err(|_| AppError::Internal(format!("tenant {} has an unknown time zone", row.id)))?;
    zones
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(tenant_id, zone);
    Ok(zone)
}

/// Everything a page of cases shows and the policy needs, loaded for all the
/// cases at once with a fixed number of queries (seven), whatever the page size.
#[derive(Debug, Default)]
pub struct CaseBundle {
    pub facts: HashMap<Uuid, CaseFacts>,
    pub families: HashMap<Uuid, family::Model>,
    /// Members by family id, oldest first.
    pub members: HashMap<Uuid, Vec<family_member::Model>>,
    /// Focus children (member ids) by case id.
    pub focus: HashMap<Uuid, Vec<Uuid>>,
    /// Therapists (user ids) by case id.
    pub therapists: HashMap<Uuid, Vec<Uuid>>,
    pub teams: HashMap<Uuid, team::Model>,
    /// Caseworkers, therapists and team leads of the cases.
    pub users: HashMap<Uuid, user_account::Model>,
    /// The cases' coming follow-up and coordination meetings, loaded for all
    /// of them the first time one case asks.
    pub meetings: tokio::sync::OnceCell<HashMap<Uuid, Vec<entity::appointment::Model>>>,
    /// The cases' conversations (oldest first), each with whether the viewer
    /// the bundle was loaded for takes part, loaded for all of them the first
    /// time one case asks.
    pub conversations:
        tokio::sync::OnceCell<HashMap<Uuid, Vec<(entity::conversation::Model, bool)>>>,
}

/// Loads the bundle of several cases.
pub async fn load_bundle<C: ConnectionTrait>(
    db: &C,
    cases: &[care_case::Model],
) -> AppResult<CaseBundle> {
    if cases.is_empty() {
        return Ok(CaseBundle::default());
    }
    let case_ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    let team_ids: Vec<Uuid> = cases.iter().map(|c| c.team_id).collect();
    let family_ids: Vec<Uuid> = cases.iter().map(|c| c.family_id).collect();
    let therapist_rows = case_therapist::Entity::find()
        .filter(case_therapist::Column::CaseId.is_in(case_ids.clone()))
        .all(db)
        .await?;
    let teams: HashMap<Uuid, team::Model> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let member_rows = family_member::Entity::find()
        .filter(family_member::Column::FamilyId.is_in(family_ids.clone()))
        .order_by_asc(family_member::Column::CreatedAt)
        .order_by_asc(family_member::Column::Id)
        .all(db)
        .await?;
    let focus_rows = case_focus_child::Entity::find()
        .filter(case_focus_child::Column::CaseId.is_in(case_ids.clone()))
        .all(db)
        .await?;
    let consents = consent::Entity::find()
        .filter(consent::Column::CaseId.is_in(case_ids))
        .all(db)
        .await?;
    let families: HashMap<Uuid, family::Model> = family::Entity::find()
        .filter(family::Column::Id.is_in(family_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let mut user_ids: HashSet<Uuid> = HashSet::new();
    for case in cases {
        user_ids.insert(case.primary_caseworker_id);
        user_ids.extend(case.partner_caseworker_id);
    }
    user_ids.extend(therapist_rows.iter().map(|t| t.user_id));
    user_ids.extend(teams.values().filter_map(|t| t.team_lead_id));
    let users: HashMap<Uuid, user_account::Model> = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(user_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();

    let mut bundle = CaseBundle {
        families,
        teams,
        users,
        ..Default::default()
    };
    for row in member_rows {
        bundle.members.entry(row.family_id).or_default().push(row);
    }
    for row in &focus_rows {
        bundle
            .focus
            .entry(row.case_id)
            .or_default()
            .push(row.member_id);
    }
    for row in &therapist_rows {
        bundle
            .therapists
            .entry(row.case_id)
            .or_default()
            .push(row.user_id);
    }
    for case in cases {
        let focus = bundle.focus.get(&case.id).cloned().unwrap_or_default();
        let facts = CaseFacts {
            tenant_id: case.tenant_id,
            primary_caseworker_id: case.primary_caseworker_id,
            partner_caseworker_id: case.partner_caseworker_id,
            therapist_ids: bundle.therapists.get(&case.id).cloned().unwrap_or_default(),
            team_lead_id: bundle.teams.get(&case.team_id).and_then(|t| t.team_lead_id),
            members: bundle
                .members
                .get(&case.family_id)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    Some(MemberFacts {
                        user_id: m.user_id?,
                        kind: m.kind,
                        focus_child: focus.contains(&m.id),
                    })
                })
                .collect(),
            consents: consents
                .iter()
                .filter(|c| c.case_id == case.id)
                .map(ConsentFacts::from)
                .collect(),
        };
        bundle.facts.insert(case.id, facts);
    }
    Ok(bundle)
}

/// The rows of one case that its access and its page's names come from,
/// as kept between requests by `AccessCache`.
#[derive(Debug)]
pub struct CasePart {
    /// The case columns these rows were read for: a case whose columns have
    /// changed since is read again.
    key: CasePartKey,
    facts: CaseFacts,
    family: Option<family::Model>,
    members: Vec<family_member::Model>,
    focus: Vec<Uuid>,
    therapists: Vec<Uuid>,
    team: Option<team::Model>,
    users: Vec<user_account::Model>,
}

type CasePartKey = (Uuid, Uuid, Uuid, Uuid, Option<Uuid>);

fn part_key(case: &care_case::Model) -> CasePartKey {
    (
        case.tenant_id,
        case.family_id,
        case.team_id,
        case.primary_caseworker_id,
        case.partner_caseworker_id,
    )
}

impl CasePart {
    /// One case's share of a loaded bundle.
    fn of(bundle: &CaseBundle, case: &care_case::Model) -> Option<CasePart> {
        let therapists = bundle.therapists.get(&case.id).cloned().unwrap_or_default();
        let team = bundle.teams.get(&case.team_id).cloned();
        let user_ids = std::iter::once(case.primary_caseworker_id)
            .chain(case.partner_caseworker_id)
            .chain(therapists.iter().copied())
            .chain(team.as_ref().and_then(|t| t.team_lead_id));
        Some(CasePart {
            key: part_key(case),
            facts: bundle.facts.get(&case.id)?.clone(),
            family: bundle.families.get(&case.family_id).cloned(),
            members: bundle
                .members
                .get(&case.family_id)
                .cloned()
                .unwrap_or_default(),
            focus: bundle.focus.get(&case.id).cloned().unwrap_or_default(),
            users: user_ids
                .filter_map(|id| bundle.users.get(&id).cloned())
                .collect(),
            therapists,
            team,
        })
    }

    /// Adds this case's rows to a bundle.
    fn add_to(&self, bundle: &mut CaseBundle, case: &care_case::Model) {
        bundle.facts.insert(case.id, self.facts.clone());
        if let Some(family) = &self.family {
            bundle.families.insert(family.id, family.clone());
        }
        if !self.members.is_empty() {
            bundle.members.insert(case.family_id, self.members.clone());
        }
        if !self.focus.is_empty() {
            bundle.focus.insert(case.id, self.focus.clone());
        }
        if !self.therapists.is_empty() {
            bundle.therapists.insert(case.id, self.therapists.clone());
        }
        if let Some(team) = &self.team {
            bundle.teams.insert(team.id, team.clone());
        }
        for user in &self.users {
            bundle.users.insert(user.id, user.clone());
        }
    }
}

/// Loads the bundle of several cases, taking from `cache` the cases it
/// holds for their current columns and keeping there the others.
pub async fn load_bundle_cached(
    db: &DatabaseConnection,
    cases: &[care_case::Model],
    cache: Option<&AccessCache>,
) -> AppResult<CaseBundle> {
    let Some(cache) = cache else {
        return load_bundle(db, cases).await;
    };
    // Read before the rows: a change committed meanwhile voids them.
    let stamp = cache.stamp();
    let mut kept = Vec::new();
    let mut missing = Vec::new();
    for case in cases {
        match cache.case(case.id) {
            Some(part) if part.key == part_key(case) => kept.push((part, case)),
            _ => missing.push(case.clone()),
        }
    }
    let mut bundle = load_bundle(db, &missing).await?;
    if let Some(stamp) = stamp {
        for case in &missing {
            if let Some(part) = CasePart::of(&bundle, case) {
                cache.keep_case(stamp, case.id, std::sync::Arc::new(part));
            }
        }
    }
    for (part, case) in kept {
        part.add_to(&mut bundle, case);
    }
    Ok(bundle)
}

/// Decides access for loaded cases, dropping those the viewer may not see, and
/// audits the staff reads among them (once per case per request).
pub async fn views_of(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    cases: Vec<care_case::Model>,
) -> AppResult<Vec<CaseView>> {
    let bundle = std::sync::Arc::new(load_bundle_cached(db, &cases, read_audit.cache()).await?);
    let zone = tenant_zone(db, principal.tenant_id).await?;
    let now = Utc::now();
    let views: Vec<CaseView> = cases
        .into_iter()
        .filter_map(|model| {
            let access = case_access(principal, bundle.facts.get(&model.id)?, now)?;
            Some(CaseView {
                model,
                access,
                zone,
                bundle: bundle.clone(),
            })
        })
        .collect();
    let staff_reads = read_audit.claim(
        views
            .iter()
            .filter(|v| v.access.relation.is_staff())
            .map(|v| v.model.id),
    );
    if !staff_reads.is_empty() {
        let entries = staff_reads
            .iter()
            .map(|case_id| {
                let relation = views
                    .iter()
                    .find(|v| v.model.id == *case_id)
                    .map(|v| relation_name(v.access.relation))
                    .unwrap_or("STAFF");
                AuditEntry::new(AuditAction::CaseRead, Some(principal.tenant_id))
                    .actor(principal.user_id)
                    .subject("Case", *case_id)
                    .case(*case_id)
                    .request(&meta.request_id)
                    .detail(relation)
            })
            .collect();
        if let Err(error) = audit::service::append_many(db, entries).await {
            read_audit.release(&staff_reads);
            return Err(error);
        }
    }
    Ok(views)
}

/// The stored name of a relation (audit detail).
pub fn relation_name(relation: CaseRelation) -> &'static str {
    match relation {
        CaseRelation::PrimaryCaseworker => "PRIMARY_CASEWORKER",
        CaseRelation::PartnerCaseworker => "PARTNER_CASEWORKER",
        CaseRelation::FamilyTherapist => "FAMILY_THERAPIST",
        CaseRelation::TeamLead => "TEAM_LEAD",
        CaseRelation::Guardian => "GUARDIAN",
        CaseRelation::YoungPerson => "YOUNG_PERSON",
        CaseRelation::NetworkMember => "NETWORK_MEMBER",
        CaseRelation::ConsentedProfessional => "CONSENTED_PROFESSIONAL",
    }
}

/// One case the viewer may see; `NOT_FOUND` otherwise (also when it exists).
pub async fn case(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<CaseView> {
    let model = care_case::Entity::find_by_id(id)
        .filter(care_case::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("case"))?;
    views_of(db, principal, meta, read_audit, vec![model])
        .await?
        .pop()
        .ok_or(AppError::NotFound("case"))
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Option<Vec<CaseStatus>>,
    pub case_type: Option<CaseType>,
    /// Primary or partner caseworker.
    pub caseworker_id: Option<Uuid>,
    pub follow_up_overdue: Option<bool>,
    /// Part of the family's name, any case.
    pub family_name: Option<String>,
    /// Only cases whose next follow-up is due on or before this day.
    pub due_by: Option<NaiveDate>,
}

/// A position in the caseload order (next follow-up due, then id).
pub fn encode_case_cursor(case: &care_case::Model) -> String {
    URL_SAFE_NO_PAD.encode(format!("case:{}:{}", case.next_follow_up_due, case.id))
}

fn decode_case_cursor(cursor: &str) -> AppResult<(NaiveDate, Uuid)> {
    let bad = || AppError::bad_input(&["after"], "not a valid cursor");
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    if parts.next() != Some("case") {
        return Err(bad());
    }
    let due = parts.next().and_then(|d| d.parse().ok()).ok_or_else(bad)?;
    let id = parts
        .next()
        .and_then(|i| Uuid::parse_str(i).ok())
        .ok_or_else(bad)?;
    Ok((due, id))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A page of the cases the viewer may see, most urgent follow-up first.
/// Returns the page and whether another follows.
pub async fn list_cases(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    filter: CaseFilter,
    first: i32,
    after: Option<&str>,
) -> AppResult<(Vec<CaseView>, bool)> {
    let limit = page_size(first)?;
    let zone = tenant_zone(db, principal.tenant_id).await?;
    let today = cadence::local_date(Utc::now(), zone);
    let mut query = care_case::Entity::find()
        .filter(case_scope(principal, Utc::now()))
        .order_by_asc(care_case::Column::NextFollowUpDue)
        .order_by_asc(care_case::Column::Id)
        .limit(limit + 1);
    if let Some(statuses) = filter.statuses.filter(|s| !s.is_empty()) {
        query = query.filter(care_case::Column::Status.is_in(statuses));
    }
    if let Some(due_by) = filter.due_by {
        query = query.filter(care_case::Column::NextFollowUpDue.lte(due_by));
    }
    if let Some(case_type) = filter.case_type {
        query = query.filter(care_case::Column::CaseType.eq(case_type));
    }
    if let Some(caseworker) = filter.caseworker_id {
        query = query.filter(
            Condition::any()
                .add(care_case::Column::PrimaryCaseworkerId.eq(caseworker))
                .add(care_case::Column::PartnerCaseworkerId.eq(caseworker)),
        );
    }
    match filter.follow_up_overdue {
        Some(true) => {
            query = query
                .filter(care_case::Column::Status.eq(CaseStatus::Open))
                .filter(care_case::Column::NextFollowUpDue.lt(today))
        }
        Some(false) => {
            query = query.filter(
                Condition::any()
                    .add(care_case::Column::Status.ne(CaseStatus::Open))
                    .add(care_case::Column::NextFollowUpDue.gte(today)),
            )
        }
        None => {}
    }
    if let Some(name) = filter
        .family_name
        .map(|n| n.trim().to_lowercase())
        .filter(|n| !n.is_empty())
    {
        let pattern = format!("%{}%", escape_like(&name));
        query = query.filter(
            care_case::Column::FamilyId.in_subquery(
                family::Entity::find()
                    .select_only()
                    .column(family::Column::Id)
                    .filter(family::Column::TenantId.eq(principal.tenant_id))
                    .filter(
                        Expr::expr(Func::lower(Expr::col(family::Column::Name)))
                            .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
                    )
                    .into_query(),
            ),
        );
    }
    if let Some(after) = after {
        let (due, id) = decode_case_cursor(after)?;
        query = query.filter(
            Condition::any()
                .add(care_case::Column::NextFollowUpDue.gt(due))
                .add(
                    Condition::all()
                        .add(care_case::Column::NextFollowUpDue.eq(due))
                        .add(care_case::Column::Id.gt(id)),
                ),
        );
    }
    let mut rows = query.all(db).await?;
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((
        views_of(db, principal, meta, read_audit, rows).await?,
        has_next,
    ))
}

/// One caseworker's share of a team's caseload.
#[derive(Debug, Clone)]
pub struct CaseloadRow {
    pub caseworker: user_account::Model,
    pub open_cases: u64,
    pub overdue_follow_ups: u64,
}

/// For a team lead: per caseworker of their teams, open cases and overdue
/// follow-ups (as primary caseworker). Counts only; reads no case content.
pub async fn caseload(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Vec<CaseloadRow>> {
    if principal.role != Role::TeamLead {
        return Err(AppError::Forbidden);
    }
    let team_ids: Vec<Uuid> = team::Entity::find()
        .filter(team::Column::TenantId.eq(principal.tenant_id))
        .filter(team::Column::TeamLeadId.eq(principal.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let member_ids: Vec<Uuid> = team_membership::Entity::find()
        .filter(team_membership::Column::TeamId.is_in(team_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let caseworkers = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(member_ids))
        .filter(user_account::Column::Role.eq(Role::Caseworker))
        .order_by_asc(user_account::Column::DisplayName)
        .all(db)
        .await?;
    let zone = tenant_zone(db, principal.tenant_id).await?;
    let today = cadence::local_date(Utc::now(), zone);
    let open: Vec<(Uuid, NaiveDate)> = care_case::Entity::find()
        .select_only()
        .column(care_case::Column::PrimaryCaseworkerId)
        .column(care_case::Column::NextFollowUpDue)
        .filter(care_case::Column::TeamId.is_in(team_ids))
        .filter(care_case::Column::Status.eq(CaseStatus::Open))
        .into_tuple()
        .all(db)
        .await?;
    Ok(caseworkers
        .into_iter()
        .map(|caseworker| {
            let mine: Vec<&(Uuid, NaiveDate)> =
                open.iter().filter(|(p, _)| *p == caseworker.id).collect();
            CaseloadRow {
                open_cases: mine.len() as u64,
                overdue_follow_ups: mine.iter().filter(|(_, due)| *due < today).count() as u64,
                caseworker,
            }
        })
        .collect())
}

fn note_error(field: &str, note: &str) -> Option<UserError> {
    UserError::check_text(
        field,
        note,
        MAX_NOTE_CHARS,
        "Write the handover: goals, agreements and contacts, so nobody has to retell their story.",
    )
}

/// The next-follow-up date stored on a case.
pub fn due_date(model: &care_case::Model, zone: Tz) -> NaiveDate {
    cadence::next_follow_up_due(
        model.case_type,
        cadence::cadence_start(
            model.last_follow_up_at,
            model.start_conversation_on,
            model.opened_on,
            zone,
        ),
    )
}

/// A new case and, when it is the family's first, the family.
pub struct OpenCase {
    pub family_id: Option<Uuid>,
    pub family_name: Option<String>,
    pub members: Vec<NewMember>,
    /// Indexes into `members` (new family) or member ids (existing family).
    pub focus_children: Vec<FocusChild>,
    pub case_type: CaseType,
    pub opened_on: Option<NaiveDate>,
    pub start_conversation_on: Option<NaiveDate>,
    pub young_person_may_consent: bool,
}

/// A focus child: one of the new members, or an existing member.
pub enum FocusChild {
    NewMember(usize),
    Existing(Uuid),
}

/// Opens a case (caseworkers and team leads). The caller's team owns it and a
/// caseworker caller becomes its primary caseworker.
pub async fn open_case(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    input: OpenCase,
) -> AppResult<Result<care_case::Model, UserError>> {
    if !matches!(principal.role, Role::Caseworker | Role::TeamLead) {
        return Err(AppError::Forbidden);
    }
    let Some(membership) = team_membership::Entity::find_by_id(principal.user_id)
        .one(db)
        .await?
    else {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "You are not in a team yet; ask your team lead.",
        )));
    };
    let zone = tenant_zone(db, principal.tenant_id).await?;
    let today = cadence::local_date(Utc::now(), zone);
    let opened_on = input.opened_on.unwrap_or(today);
    if opened_on > today {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "openedOn",
            "A case cannot be opened in the future.",
        )));
    }
    if let Some(start) = input.start_conversation_on
        && start < opened_on
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "startConversationOn",
            "The start conversation cannot be before the case was opened.",
        )));
    }
    // The family: existing (of this tenant) or new.
    let existing_members = match input.family_id {
        Some(family_id) => {
            let found = family::Entity::find_by_id(family_id)
                .filter(family::Column::TenantId.eq(principal.tenant_id))
                .one(db)
                .await?;
            if found.is_none() {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "familyId",
                    "No such family.",
                )));
            }
            family_member::Entity::find()
                .filter(family_member::Column::FamilyId.eq(family_id))
                .all(db)
                .await?
        }
        None => {
            let name = input.family_name.clone().unwrap_or_default();
            if let Err(problem) = validate_name(&["input".into(), "familyName".into()], &name) {
                return Ok(Err(problem));
            }
            Vec::new()
        }
    };
    for (index, member) in input.members.iter().enumerate() {
        let field = vec!["input".to_owned(), "members".to_owned(), index.to_string()];
        if let Err(problem) = validate_member(&field, member, today) {
            return Ok(Err(problem));
        }
    }
    if input.focus_children.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "focusChildren",
            "Name at least one child the case is about.",
        )));
    }
    for focus in &input.focus_children {
        let is_child = match focus {
            FocusChild::NewMember(index) => input
                .members
                .get(*index)
                .map(|m| m.kind == MemberKind::Child),
            FocusChild::Existing(id) => existing_members
                .iter()
                .find(|m| m.id == *id)
                .map(|m| m.kind == MemberKind::Child),
        };
        if is_child != Some(true) {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "focusChildren",
                "A focus child must be a child of this family.",
            )));
        }
    }

    let now = Utc::now();
    let txn = db.begin().await?;
    let family_id = match input.family_id {
        Some(id) => id,
        None => {
            family::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(principal.tenant_id),
                name: Set(input.family_name.unwrap_or_default().trim().to_owned()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let mut new_member_ids = Vec::new();
    for member in &input.members {
        let row = family_member::ActiveModel {
            id: Set(Uuid::now_v7()),
            family_id: Set(family_id),
            tenant_id: Set(principal.tenant_id),
            kind: Set(member.kind),
            display_name: Set(member.display_name.trim().to_owned()),
            date_of_birth: Set(member.date_of_birth),
            network_relation: Set(member.network_relation),
            user_id: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        new_member_ids.push(row.id);
    }
    let primary = if principal.role == Role::Caseworker {
        principal.user_id
    } else {
        // A team lead opening a case is its primary until they assign someone.
        principal.user_id
    };
    let mut model = care_case::Model {
        id: Uuid::now_v7(),
        tenant_id: principal.tenant_id,
        family_id,
        team_id: membership.team_id,
        case_type: input.case_type,
        status: CaseStatus::Open,
        opened_on,
        start_conversation_on: input.start_conversation_on,
        last_follow_up_at: None,
        next_follow_up_due: opened_on,
        primary_caseworker_id: primary,
        partner_caseworker_id: None,
        young_person_may_consent: input.young_person_may_consent,
        closed_at: None,
        closing_note: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    model.next_follow_up_due = due_date(&model, zone);
    let case = care_case::ActiveModel::from(model).insert(&txn).await?;
    for focus in input.focus_children {
        let member_id = match focus {
            FocusChild::NewMember(index) => new_member_ids[index],
            FocusChild::Existing(id) => id,
        };
        case_focus_child::ActiveModel {
            case_id: Set(case.id),
            member_id: Set(member_id),
        }
        .insert(&txn)
        .await?;
    }
    start_assignment(
        &txn,
        case.id,
        Responsibility::PrimaryCaseworker,
        primary,
        principal.user_id,
        None,
        now,
    )
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::CaseOpened, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Case", case.id)
            .case(case.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(case))
}

async fn start_assignment<C: ConnectionTrait>(
    db: &C,
    case_id: Uuid,
    responsibility: Responsibility,
    user_id: Uuid,
    assigned_by: Uuid,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    case_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        responsibility: Set(responsibility),
        user_id: Set(user_id),
        started_at: Set(now),
        ended_at: Set(None),
        assigned_by: Set(Some(assigned_by)),
        handover_note: Set(note),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn end_assignments<C: ConnectionTrait>(
    db: &C,
    case_id: Uuid,
    responsibility: Responsibility,
    now: DateTime<Utc>,
) -> AppResult<()> {
    case_assignment::Entity::update_many()
        .col_expr(case_assignment::Column::EndedAt, Expr::value(now))
        .filter(case_assignment::Column::CaseId.eq(case_id))
        .filter(case_assignment::Column::Responsibility.eq(responsibility))
        .filter(case_assignment::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Loads a case for a change by someone who works it (primary, partner or the
/// team lead), checking the version the client last saw.
async fn case_to_change(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<Result<CaseView, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), id).await?;
    if !view.access.relation.works_the_case() {
        return Err(AppError::Forbidden);
    }
    if let Some(expected) = expected_version
        && expected != view.model.version
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::StaleVersion,
            "version",
            "Someone else changed the case meanwhile; reload it and try again.",
        )));
    }
    Ok(Ok(view))
}

/// What `updateCase` may change.
pub struct CaseChanges {
    pub case_type: Option<CaseType>,
    pub start_conversation_on: Option<NaiveDate>,
    pub young_person_may_consent: Option<bool>,
}

/// Changes an open case's type, start conversation date or consent rule.
pub async fn update_case(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    version: i32,
    changes: CaseChanges,
) -> AppResult<Result<care_case::Model, UserError>> {
    let view = match case_to_change(db, principal, meta, id, Some(version)).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "Only an open case can be changed.",
        )));
    }
    if let Some(start) = changes.start_conversation_on {
        if start < view.model.opened_on {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "startConversationOn",
                "The start conversation cannot be before the case was opened.",
            )));
        }
        if start > view.today() {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "startConversationOn",
                "Record the start conversation once it has taken place.",
            )));
        }
    }
    let now = Utc::now();
    let mut model = view.model.clone();
    if let Some(case_type) = changes.case_type {
        model.case_type = case_type;
    }
    if let Some(start) = changes.start_conversation_on {
        model.start_conversation_on = Some(start);
    }
    if let Some(may) = changes.young_person_may_consent {
        model.young_person_may_consent = may;
    }
    model.next_follow_up_due = due_date(&model, view.zone);
    model.version += 1;
    model.updated_at = now;
    save_with_version(
        db,
        principal,
        meta,
        model,
        version,
        AuditAction::CaseUpdated,
        None,
    )
    .await
}

/// Writes a changed case if its version is still `expected`, with its audit row.
async fn save_with_version(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    model: care_case::Model,
    expected: i32,
    action: AuditAction,
    extra: Option<(Responsibility, Option<Uuid>, Option<String>)>,
) -> AppResult<Result<care_case::Model, UserError>> {
    let txn = db.begin().await?;
    let now = model.updated_at;
    let updated = care_case::Entity::update_many()
        .col_expr(care_case::Column::CaseType, Expr::value(model.case_type))
        .col_expr(care_case::Column::Status, Expr::value(model.status))
        .col_expr(
            care_case::Column::StartConversationOn,
            Expr::value(model.start_conversation_on),
        )
        .col_expr(
            care_case::Column::NextFollowUpDue,
            Expr::value(model.next_follow_up_due),
        )
        .col_expr(
            care_case::Column::PrimaryCaseworkerId,
            Expr::value(model.primary_caseworker_id),
        )
        .col_expr(
            care_case::Column::PartnerCaseworkerId,
            Expr::value(model.partner_caseworker_id),
        )
        .col_expr(
            care_case::Column::YoungPersonMayConsent,
            Expr::value(model.young_person_may_consent),
        )
        .col_expr(care_case::Column::ClosedAt, Expr::value(model.closed_at))
        .col_expr(
            care_case::Column::ClosingNote,
            Expr::value(model.closing_note.clone()),
        )
        .col_expr(care_case::Column::Version, Expr::value(model.version))
        .col_expr(care_case::Column::UpdatedAt, Expr::value(now))
        .filter(care_case::Column::Id.eq(model.id))
        .filter(care_case::Column::Version.eq(expected))
        .exec(&txn)
        .await?
        .rows_affected;
    if updated != 1 {
        return Ok(Err(UserError::on_field(
            UserErrorCode::StaleVersion,
            "version",
            "Someone else changed the case meanwhile; reload it and try again.",
        )));
    }
    if let Some((responsibility, new_user, note)) = extra {
        end_assignments(&txn, model.id, responsibility, now).await?;
        if let Some(user) = new_user {
            start_assignment(
                &txn,
                model.id,
                responsibility,
                user,
                principal.user_id,
                note,
                now,
            )
            .await?;
        }
    }
    audit::append(
        &txn,
        AuditEntry::new(action, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Case", model.id)
            .case(model.id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(model))
}

/// Closes a case with a note, or transfers it to adult services with a
/// written handover (`to_adult_services`).
pub async fn close_case(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    note: &str,
    to_adult_services: bool,
) -> AppResult<Result<care_case::Model, UserError>> {
    let view = match case_to_change(db, principal, meta, id, None).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    let field = if to_adult_services {
        "handoverNote"
    } else {
        "reason"
    };
    if let Some(problem) = note_error(field, note) {
        return Ok(Err(problem));
    }
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "The case is not open.",
        )));
    }
    let now = Utc::now();
    let expected = view.model.version;
    let mut model = view.model;
    model.status = if to_adult_services {
        CaseStatus::TransferredToAdultServices
    } else {
        CaseStatus::Closed
    };
    model.closed_at = Some(now);
    model.closing_note = Some(note.trim().to_owned());
    model.version += 1;
    model.updated_at = now;
    let action = if to_adult_services {
        AuditAction::CaseTransferredToAdultServices
    } else {
        AuditAction::CaseClosed
    };
    save_with_version(db, principal, meta, model, expected, action, None).await
}

/// A caseworker of the viewer's tenant who can take a case.
async fn colleague_caseworker(
    db: &DatabaseConnection,
    principal: &Principal,
    user_id: Uuid,
) -> AppResult<Option<user_account::Model>> {
    Ok(user_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.tenant_id == principal.tenant_id)
        .filter(|u| u.role == Role::Caseworker && u.disabled_at.is_none()))
}

/// Hands a case over to another caseworker with a written handover. The current
/// primary caseworker or the team lead may; `by_team_lead` (assignCaseworker)
/// requires the team lead. The history of responsible people is kept.
pub async fn hand_over_case(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    to_user: Uuid,
    note: &str,
    by_team_lead: bool,
) -> AppResult<Result<care_case::Model, UserError>> {
    let view = match case_to_change(db, principal, meta, id, None).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    let allowed = match view.access.relation {
        CaseRelation::TeamLead => true,
        CaseRelation::PrimaryCaseworker => !by_team_lead,
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = note_error("handoverNote", note) {
        return Ok(Err(problem));
    }
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "The case is not open.",
        )));
    }
    let Some(new_primary) = colleague_caseworker(db, principal, to_user).await? else {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "toCaseworkerId",
            "Choose an active caseworker of your municipality.",
        )));
    };
    if new_primary.id == view.model.primary_caseworker_id {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "toCaseworkerId",
            "This caseworker is the primary caseworker already.",
        )));
    }
    let now = Utc::now();
    let expected = view.model.version;
    let mut model = view.model;
    model.primary_caseworker_id = new_primary.id;
    if model.partner_caseworker_id == Some(new_primary.id) {
        model.partner_caseworker_id = None;
    }
    model.version += 1;
    model.updated_at = now;
    save_with_version(
        db,
        principal,
        meta,
        model,
        expected,
        AuditAction::CaseHandedOver,
        Some((
            Responsibility::PrimaryCaseworker,
            Some(new_primary.id),
            Some(note.trim().to_owned()),
        )),
    )
    .await
}

/// Sets (or with `None` removes) the partner caseworker: the primary caseworker
/// or the team lead may.
pub async fn set_partner_caseworker(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    partner: Option<Uuid>,
) -> AppResult<Result<care_case::Model, UserError>> {
    let view = match case_to_change(db, principal, meta, id, None).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    if !view.access.relation.assigns_staff() {
        return Err(AppError::Forbidden);
    }
    let partner = match partner {
        None => None,
        Some(user) => {
            let Some(found) = colleague_caseworker(db, principal, user).await? else {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "partnerCaseworkerId",
                    "Choose an active caseworker of your municipality.",
                )));
            };
            if found.id == view.model.primary_caseworker_id {
                return Ok(Err(UserError::on_field(
                    UserErrorCode::InvalidValue,
                    "partnerCaseworkerId",
                    "The partner must be someone other than the primary caseworker.",
                )));
            }
            Some(found.id)
        }
    };
    let now = Utc::now();
    let expected = view.model.version;
    let mut model = view.model;
    model.partner_caseworker_id = partner;
    model.version += 1;
    model.updated_at = now;
    save_with_version(
        db,
        principal,
        meta,
        model,
        expected,
        AuditAction::PartnerCaseworkerSet,
        Some((Responsibility::PartnerCaseworker, partner, None)),
    )
    .await
}

/// Adds a person to the family of a case (staff who work the case).
pub async fn add_family_member(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    member: NewMember,
) -> AppResult<Result<family_member::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !view.access.relation.works_the_case() {
        return Err(AppError::Forbidden);
    }
    if let Err(problem) = validate_member(
        &["input".to_owned(), "member".to_owned()],
        &member,
        view.today(),
    ) {
        return Ok(Err(problem));
    }
    let txn = db.begin().await?;
    let row = family_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(view.model.family_id),
        tenant_id: Set(view.model.tenant_id),
        kind: Set(member.kind),
        display_name: Set(member.display_name.trim().to_owned()),
        date_of_birth: Set(member.date_of_birth),
        network_relation: Set(member.network_relation),
        user_id: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::FamilyMemberAdded, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("FamilyMember", row.id)
            .case(case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(row))
}

/// A consent to give.
pub struct NewConsent {
    pub organisation_id: Uuid,
    pub professional_id: Option<Uuid>,
    pub categories: Categories,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// Whether the viewer may give or withdraw consents for the case: a guardian,
/// or the young person where the case allows it.
fn may_consent(view: &CaseView) -> bool {
    match view.access.relation {
        CaseRelation::Guardian => true,
        CaseRelation::YoungPerson => view.model.young_person_may_consent,
        _ => false,
    }
}

/// A guardian (or the young person, where allowed) lets an organisation (or one
/// of its professionals) see some categories of the case for a period.
pub async fn grant_consent(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    new: NewConsent,
) -> AppResult<Result<consent::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !may_consent(&view) {
        return Err(AppError::Forbidden);
    }
    if view.model.status != CaseStatus::Open {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "The case is not open.",
        )));
    }
    if new.categories.is_empty() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::Required,
            "categories",
            "Choose what may be shared.",
        )));
    }
    let now = Utc::now();
    let valid_from = new.valid_from.unwrap_or(now);
    if let Some(until) = new.valid_until
        && until <= valid_from
    {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "validUntil",
            "The consent must end after it starts.",
        )));
    }
    let organisation = organisation::Entity::find_by_id(new.organisation_id)
        .one(db)
        .await?
        .filter(|o| o.tenant_id == principal.tenant_id)
        .filter(|o| o.kind != organisation::OrganisationKind::SocialServices);
    let Some(organisation) = organisation else {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "organisationId",
            "Choose another agency of your municipality.",
        )));
    };
    if let Some(professional) = new.professional_id {
        let fits = user_account::Entity::find_by_id(professional)
            .one(db)
            .await?
            .is_some_and(|u| {
                u.organisation_id == Some(organisation.id) && u.role == Role::AgencyProfessional
            });
        if !fits {
            return Ok(Err(UserError::on_field(
                UserErrorCode::InvalidValue,
                "professionalId",
                "This person does not work at that agency.",
            )));
        }
    }
    let txn = db.begin().await?;
    let row = consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        organisation_id: Set(organisation.id),
        user_id: Set(new.professional_id),
        categories: Set(new.categories.to_stored()),
        valid_from: Set(valid_from),
        valid_until: Set(new.valid_until),
        granted_by: Set(principal.user_id),
        granted_at: Set(now),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::ConsentGranted, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Consent", row.id)
            .case(case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(row))
}

/// Withdraws a consent; from the very next request the professional sees nothing
/// more through it. A guardian, the consenting young person, or the primary or
/// partner caseworker (on the family's word) may.
pub async fn withdraw_consent(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    consent_id: Uuid,
) -> AppResult<consent::Model> {
    let row = consent::Entity::find_by_id(consent_id)
        .filter(consent::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("consent"))?;
    let view = case(db, principal, meta, &ReadAudit::default(), row.case_id)
        .await
        .map_err(|_| AppError::NotFound("consent"))?;
    let allowed = may_consent(&view)
        || matches!(
            view.access.relation,
            CaseRelation::PrimaryCaseworker | CaseRelation::PartnerCaseworker
        );
    if !allowed {
        return Err(
            if view.access.relation == CaseRelation::ConsentedProfessional {
                AppError::NotFound("consent")
            } else {
                AppError::Forbidden
            },
        );
    }
    if row.withdrawn_at.is_some() {
        return Ok(row);
    }
    let txn = db.begin().await?;
    let mut active = row.into_active_model();
    active.withdrawn_at = Set(Some(Utc::now()));
    active.withdrawn_by = Set(Some(principal.user_id));
    let updated = active.update(&txn).await?;
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::ConsentWithdrawn, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Consent", updated.id)
            .case(updated.case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// A family the viewer may see through one of its cases, with that case's view.
pub async fn family(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<(family::Model, CaseView)> {
    let found = family::Entity::find_by_id(id)
        .filter(family::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("family"))?;
    let cases = care_case::Entity::find()
        .filter(case_scope(principal, Utc::now()))
        .filter(care_case::Column::FamilyId.eq(id))
        .order_by_desc(care_case::Column::Id)
        .limit(1)
        .all(db)
        .await?;
    let view = views_of(db, principal, meta, read_audit, cases)
        .await?
        .pop()
        .ok_or(AppError::NotFound("family"))?;
    Ok((found, view))
}

/// A family member the viewer may see through one of the family's cases.
pub async fn family_member(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<(family_member::Model, CaseView)> {
    let member = family_member::Entity::find_by_id(id)
        .filter(family_member::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("family member"))?;
    let (_, view) = family(db, principal, meta, read_audit, member.family_id)
        .await
        .map_err(|_| AppError::NotFound("family member"))?;
    Ok((member, view))
}

/// A team of the viewer's tenant (staff only).
pub async fn team(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<team::Model> {
    if !crate::auth::policy::is_staff(principal.role) {
        return Err(AppError::NotFound("team"));
    }
    team::Entity::find_by_id(id)
        .filter(team::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("team"))
}

/// A consent the viewer may see: the family and social-services staff on its case.
pub async fn consent(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<consent::Model> {
    let row = consent::Entity::find_by_id(id)
        .filter(consent::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("consent"))?;
    let view = case(db, principal, meta, read_audit, row.case_id)
        .await
        .map_err(|_| AppError::NotFound("consent"))?;
    if matches!(
        view.access.relation,
        CaseRelation::ConsentedProfessional | CaseRelation::NetworkMember
    ) {
        return Err(AppError::NotFound("consent"));
    }
    Ok(row)
}

/// The family member an invitation is for: of a case the viewer works (primary,
/// partner or team lead), and without a login yet.
pub async fn member_for_invitation(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    member_id: Uuid,
) -> AppResult<Result<family_member::Model, UserError>> {
    if !matches!(principal.role, Role::Caseworker | Role::TeamLead) {
        return Err(AppError::Forbidden);
    }
    let (member, view) =
        family_member(db, principal, meta, &ReadAudit::default(), member_id).await?;
    if !view.access.relation.works_the_case() {
        return Err(AppError::Forbidden);
    }
    if member.user_id.is_some() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "familyMemberId",
            "This person has a login already.",
        )));
    }
    Ok(Ok(member))
}

/// Longest reason or answer of a caseworker-change request.
pub const MAX_REQUEST_TEXT_CHARS: usize = 2000;

/// A guardian or the young person asks for another caseworker, with a reason.
/// The team lead sees it and answers. One pending request per person and case.
pub async fn request_caseworker_change(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    reason: &str,
) -> AppResult<Result<caseworker_change_request::Model, UserError>> {
    let view = case(db, principal, meta, &ReadAudit::default(), case_id).await?;
    if !matches!(
        view.access.relation,
        CaseRelation::Guardian | CaseRelation::YoungPerson
    ) {
        return Err(AppError::Forbidden);
    }
    if let Some(problem) = UserError::check_text(
        "reason",
        reason,
        MAX_REQUEST_TEXT_CHARS,
        "Tell us why, so the team lead can help.",
    ) {
        return Ok(Err(problem));
    }
    let pending = caseworker_change_request::Entity::find()
        .filter(caseworker_change_request::Column::CaseId.eq(case_id))
        .filter(caseworker_change_request::Column::RequestedBy.eq(principal.user_id))
        .filter(caseworker_change_request::Column::Status.eq(RequestStatus::Pending))
        .one(db)
        .await?;
    if pending.is_some() {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "You have asked already; the team lead will answer.",
        )));
    }
    let txn = db.begin().await?;
    let row = caseworker_change_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        tenant_id: Set(principal.tenant_id),
        requested_by: Set(principal.user_id),
        reason: Set(reason.trim().to_owned()),
        status: Set(RequestStatus::Pending),
        created_at: Set(Utc::now()),
        answered_by: Set(None),
        answer: Set(None),
        answered_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        AuditEntry::new(
            AuditAction::CaseworkerChangeRequested,
            Some(principal.tenant_id),
        )
        .actor(principal.user_id)
        .subject("CaseworkerChangeRequest", row.id)
        .case(case_id)
        .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(row))
}

/// The team lead answers a request: granting it hands the case over to the
/// chosen caseworker (with a written handover); declining needs an answer.
#[allow(clippy::too_many_arguments)]
pub async fn answer_caseworker_change(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    request_id: Uuid,
    grant: bool,
    answer: &str,
    new_caseworker: Option<Uuid>,
    handover_note: Option<&str>,
) -> AppResult<Result<caseworker_change_request::Model, UserError>> {
    let request = caseworker_change_request::Entity::find_by_id(request_id)
        .filter(caseworker_change_request::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("caseworker change request"))?;
    let view = case(db, principal, meta, &ReadAudit::default(), request.case_id)
        .await
        .map_err(|_| AppError::NotFound("caseworker change request"))?;
    if view.access.relation != CaseRelation::TeamLead {
        return Err(AppError::Forbidden);
    }
    if request.status != RequestStatus::Pending {
        return Ok(Err(UserError::general(
            UserErrorCode::InvalidValue,
            "The request was answered already.",
        )));
    }
    if let Some(problem) = UserError::check_text(
        "answer",
        answer,
        MAX_REQUEST_TEXT_CHARS,
        "Write an answer to the family.",
    ) {
        return Ok(Err(problem));
    }
    if grant {
        let Some(new_caseworker) = new_caseworker else {
            return Ok(Err(UserError::on_field(
                UserErrorCode::Required,
                "newCaseworkerId",
                "Choose the new caseworker.",
            )));
        };
        let outcome = hand_over_case(
            db,
            principal,
            meta,
            request.case_id,
            new_caseworker,
            handover_note.unwrap_or_default(),
            true,
        )
        .await?;
        if let Err(mut problem) = outcome {
            // The handover's fields are this input's fields.
            if let Some(field) = problem.field.as_mut()
                && field.last().map(String::as_str) == Some("toCaseworkerId")
            {
                *field = vec!["input".to_owned(), "newCaseworkerId".to_owned()];
            }
            return Ok(Err(problem));
        }
    }
    let txn = db.begin().await?;
    let mut active = request.into_active_model();
    active.status = Set(if grant {
        RequestStatus::Granted
    } else {
        RequestStatus::Declined
    });
    active.answered_by = Set(Some(principal.user_id));
    active.answer = Set(Some(answer.trim().to_owned()));
    active.answered_at = Set(Some(Utc::now()));
    let updated = active.update(&txn).await?;
    audit::append(
        &txn,
        AuditEntry::new(
            AuditAction::CaseworkerChangeAnswered,
            Some(principal.tenant_id),
        )
        .actor(principal.user_id)
        .subject("CaseworkerChangeRequest", updated.id)
        .case(updated.case_id)
        .request(&meta.request_id)
        .detail(if grant { "GRANTED" } else { "DECLINED" }),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(updated))
}

/// Requests on a case, newest first (the family and the staff who work it).
pub async fn change_requests_of_case(
    db: &DatabaseConnection,
    view: &CaseView,
) -> AppResult<Vec<caseworker_change_request::Model>> {
    let allowed = matches!(
        view.access.relation,
        CaseRelation::Guardian | CaseRelation::YoungPerson
    ) || view.access.relation.works_the_case();
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok(caseworker_change_request::Entity::find()
        .filter(caseworker_change_request::Column::CaseId.eq(view.model.id))
        .order_by_desc(caseworker_change_request::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?)
}

/// For a team lead: pending requests on their teams' cases, oldest first.
pub async fn pending_change_requests(
    db: &DatabaseConnection,
    principal: &Principal,
) -> AppResult<Vec<caseworker_change_request::Model>> {
    if principal.role != Role::TeamLead {
        return Err(AppError::Forbidden);
    }
    Ok(caseworker_change_request::Entity::find()
        .filter(caseworker_change_request::Column::TenantId.eq(principal.tenant_id))
        .filter(caseworker_change_request::Column::Status.eq(RequestStatus::Pending))
        .filter(
            caseworker_change_request::Column::CaseId.in_subquery(
                care_case::Entity::find()
                    .select_only()
                    .column(care_case::Column::Id)
                    .filter(
                        care_case::Column::TeamId.in_subquery(
                            team::Entity::find()
                                .select_only()
                                .column(team::Column::Id)
                                .filter(team::Column::TeamLeadId.eq(principal.user_id))
                                .into_query(),
                        ),
                    )
                    .into_query(),
            ),
        )
        .order_by_asc(caseworker_change_request::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?)
}

/// One request for another caseworker, for those who see the case's requests.
pub async fn change_request(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    read_audit: &ReadAudit,
    id: Uuid,
) -> AppResult<caseworker_change_request::Model> {
    let row = caseworker_change_request::Entity::find_by_id(id)
        .filter(caseworker_change_request::Column::TenantId.eq(principal.tenant_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("caseworker change request"))?;
    let view = case(db, principal, meta, read_audit, row.case_id)
        .await
        .map_err(|_| AppError::NotFound("caseworker change request"))?;
    change_requests_of_case(db, &view)
        .await
        .map_err(|_| AppError::NotFound("caseworker change request"))?;
    Ok(row)
}

/// Sets the family therapists of a case (the primary caseworker or the team
/// lead): therapists of the municipality, at most 5. Starts and ends their
/// periods in the responsibility history.
pub async fn set_family_therapists(
    db: &DatabaseConnection,
    principal: &Principal,
    meta: &RequestMeta,
    case_id: Uuid,
    therapist_ids: Vec<Uuid>,
) -> AppResult<Result<care_case::Model, UserError>> {
    let view = match case_to_change(db, principal, meta, case_id, None).await? {
        Ok(view) => view,
        Err(problem) => return Ok(Err(problem)),
    };
    if !view.access.relation.assigns_staff() {
        return Err(AppError::Forbidden);
    }
    let wanted: HashSet<Uuid> = therapist_ids.into_iter().collect();
    if wanted.len() > 5 {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "therapistIds",
            "At most 5 therapists.",
        )));
    }
    let found = user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(wanted.iter().copied()))
        .filter(user_account::Column::TenantId.eq(principal.tenant_id))
        .filter(user_account::Column::Role.eq(Role::FamilyTherapist))
        .filter(user_account::Column::DisabledAt.is_null())
        .all(db)
        .await?;
    if found.len() != wanted.len() {
        return Ok(Err(UserError::on_field(
            UserErrorCode::InvalidValue,
            "therapistIds",
            "Choose active family therapists of your municipality.",
        )));
    }
    let current: HashSet<Uuid> = view
        .bundle
        .therapists
        .get(&case_id)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let now = Utc::now();
    let txn = db.begin().await?;
    for removed in current.difference(&wanted) {
        case_therapist::Entity::delete_many()
            .filter(case_therapist::Column::CaseId.eq(case_id))
            .filter(case_therapist::Column::UserId.eq(*removed))
            .exec(&txn)
            .await?;
        case_assignment::Entity::update_many()
            .col_expr(case_assignment::Column::EndedAt, Expr::value(now))
            .filter(case_assignment::Column::CaseId.eq(case_id))
            .filter(case_assignment::Column::Responsibility.eq(Responsibility::FamilyTherapist))
            .filter(case_assignment::Column::UserId.eq(*removed))
            .filter(case_assignment::Column::EndedAt.is_null())
            .exec(&txn)
            .await?;
    }
    for added in wanted.difference(&current) {
        case_therapist::ActiveModel {
            case_id: Set(case_id),
            user_id: Set(*added),
        }
        .insert(&txn)
        .await?;
        start_assignment(
            &txn,
            case_id,
            Responsibility::FamilyTherapist,
            *added,
            principal.user_id,
            None,
            now,
        )
        .await?;
    }
    audit::append(
        &txn,
        AuditEntry::new(AuditAction::FamilyTherapistsSet, Some(principal.tenant_id))
            .actor(principal.user_id)
            .subject("Case", case_id)
            .case(case_id)
            .request(&meta.request_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(view.model))
}
