//! The demo municipality: ready accounts of every role for newcomers and for
//! manual testing. Idempotent: running it again adds only what is missing.
//! Every later capability adds its demo data here.

use chrono::Utc;
use entity::{
    organisation, organisation::OrganisationKind, tenant, user_account, user_account::Role,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::auth::password;

/// The password of every demo account. Demo data only: never in production.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// The demo municipality's fixed id (so re-seeding finds it).
pub const DEMO_TENANT_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
/// A second municipality, so that cross-tenant isolation can be tried by hand.
pub const OTHER_TENANT_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0002);

struct DemoOrganisation {
    id: u128,
    tenant: Uuid,
    name: &'static str,
    kind: OrganisationKind,
}

/// One demo login.
pub struct DemoAccount {
    pub email: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    tenant: Uuid,
    organisation: Option<u128>,
}

const SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0001;
const SCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0002;
const CHILD_PSYCHIATRY: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0003;
const HABILITATION: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0004;
const PRESCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0005;
const OTHER_SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0002_0001;

fn organisations() -> [DemoOrganisation; 6] {
    [
        DemoOrganisation {
            id: SOCIAL_SERVICES,
            tenant: DEMO_TENANT_ID,
            name: "Exempelby socialtjänst",
            kind: OrganisationKind::SocialServices,
        },
        DemoOrganisation {
            id: SCHOOL,
            tenant: DEMO_TENANT_ID,
            name: "Ekbackens skola",
            kind: OrganisationKind::School,
        },
        DemoOrganisation {
            id: CHILD_PSYCHIATRY,
            tenant: DEMO_TENANT_ID,
            name: "BUP Exempelby",
            kind: OrganisationKind::ChildPsychiatry,
        },
        DemoOrganisation {
            id: HABILITATION,
            tenant: DEMO_TENANT_ID,
            name: "Barn- och ungdomshabiliteringen",
            kind: OrganisationKind::Habilitation,
        },
        DemoOrganisation {
            id: PRESCHOOL,
            tenant: DEMO_TENANT_ID,
            name: "Solrosens förskola",
            kind: OrganisationKind::Preschool,
        },
        DemoOrganisation {
            id: OTHER_SOCIAL_SERVICES,
            tenant: OTHER_TENANT_ID,
            name: "Grannby socialtjänst",
            kind: OrganisationKind::SocialServices,
        },
    ]
}

/// Every demo login, as listed in the README.
pub fn accounts() -> Vec<DemoAccount> {
    let demo = DEMO_TENANT_ID;
    vec![
        DemoAccount {
            email: "admin@exempelby.example",
            display_name: "Eva Admin",
            role: Role::Admin,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "teamlead@exempelby.example",
            display_name: "Maria Lind",
            role: Role::TeamLead,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "caseworker@exempelby.example",
            display_name: "Anna Berg",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "partner@exempelby.example",
            display_name: "Johan Ek",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "therapist@exempelby.example",
            display_name: "Karin Holm",
            role: Role::FamilyTherapist,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "teacher@exempelby.example",
            display_name: "Lars Svensson",
            role: Role::AgencyProfessional,
            tenant: demo,
            organisation: Some(SCHOOL),
        },
        DemoAccount {
            email: "bup@exempelby.example",
            display_name: "Dr. Nadia Karimi",
            role: Role::AgencyProfessional,
            tenant: demo,
            organisation: Some(CHILD_PSYCHIATRY),
        },
        DemoAccount {
            email: "guardian@exempelby.example",
            display_name: "Sara Nilsson",
            role: Role::Guardian,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "guardian2@exempelby.example",
            display_name: "Ali Hassan",
            role: Role::Guardian,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "young@exempelby.example",
            display_name: "Elias Nilsson",
            role: Role::YoungPerson,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "network@exempelby.example",
            display_name: "Birgitta Nilsson",
            role: Role::NetworkMember,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "teamlead2@exempelby.example",
            display_name: "Omar Said",
            role: Role::TeamLead,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "caseworker2@exempelby.example",
            display_name: "Lena Åberg",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "caseworker3@exempelby.example",
            display_name: "Mikael Strand",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "caseworker@grannby.example",
            display_name: "Per Grann",
            role: Role::Caseworker,
            tenant: OTHER_TENANT_ID,
            organisation: Some(OTHER_SOCIAL_SERVICES),
        },
    ]
}

/// What `seed` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub tenants_created: usize,
    pub organisations_created: usize,
    pub accounts_created: usize,
    pub cases_created: usize,
    pub conversations_created: usize,
    pub appointments_created: usize,
}

/// Loads the demo municipality; adds only what is missing, in one transaction.
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let missing_accounts: Vec<DemoAccount> = {
        let mut missing = Vec::new();
        for account in accounts() {
            let exists = user_account::Entity::find()
                .filter(user_account::Column::Email.eq(account.email))
                .one(db)
                .await?
                .is_some();
            if !exists {
                missing.push(account);
            }
        }
        missing
    };
    // One hash for all demo accounts: argon2 is deliberately slow.
    let password_hash = if missing_accounts.is_empty() {
        String::new()
    } else {
        tokio::task::spawn_blocking(|| password::hash_password(DEMO_PASSWORD))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?
    };

    let now = Utc::now();
    let txn = db.begin().await?;
    for (id, name) in [
        (DEMO_TENANT_ID, "Exempelby kommun"),
        (OTHER_TENANT_ID, "Grannby kommun"),
    ] {
        if tenant::Entity::find_by_id(id).one(&txn).await?.is_none() {
            tenant::ActiveModel {
                id: Set(id),
                name: Set(name.to_owned()),
                time_zone: Set("Europe/Stockholm".to_owned()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            report.tenants_created += 1;
        }
    }
    for org in organisations() {
        let id = Uuid::from_u128(org.id);
        if organisation::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .is_none()
        {
            organisation::ActiveModel {
                id: Set(id),
                tenant_id: Set(org.tenant),
                name: Set(org.name.to_owned()),
                kind: Set(org.kind),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            report.organisations_created += 1;
        }
    }
    for account in missing_accounts {
        user_account::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(account.tenant),
            organisation_id: Set(account.organisation.map(Uuid::from_u128)),
            email: Set(account.email.to_owned()),
            display_name: Set(account.display_name.to_owned()),
            role: Set(account.role),
            password_hash: Set(Some(password_hash.clone())),
            external_issuer: Set(None),
            external_subject: Set(None),
            created_at: Set(now),
            disabled_at: Set(None),
        }
        .insert(&txn)
        .await?;
        report.accounts_created += 1;
    }
    txn.commit().await?;
    report.cases_created = seed_cases(db).await?;
    report.conversations_created = seed_conversations(db).await?;
    report.appointments_created = seed_schedule(db).await?;
    seed_contact_settings(db).await?;
    seed_scheduling_rules(db).await?;
    Ok(report)
}

const CONVERSATION_BASE: u128 = 0x0193_0000_0000_7000_8000_0008_0000_0000;

/// A line of a demo conversation: from the family (else the caseworker), how
/// many days ago, at what hour, and the text.
type Line = (bool, i64, u32, &'static str);

const FAMILY_LINES: &[Line] = &[
    (
        false,
        20,
        9,
        "Hi! Confirming our start conversation on Thursday at 10. Does that still work for you?",
    ),
    (
        true,
        20,
        18,
        "Yes, we'll be there. Could the children come after school instead?",
    ),
    (false, 19, 8, "Of course, let's say 14:30 then."),
    (
        true,
        12,
        20,
        "The bedtime routine worked three nights this week.",
    ),
    (
        false,
        11,
        9,
        "That's great to hear! Add it as progress on the goal, then we can look at it together.",
    ),
    (
        false,
        2,
        15,
        "A reminder: the school asked about a network meeting; I'll suggest a few times next week.",
    ),
];

const YOUNG_PERSON_LINES: &[Line] = &[
    (
        false,
        15,
        10,
        "Hi Elias, this conversation is just between you and me. Write whenever you want.",
    ),
    (
        true,
        14,
        21,
        "ok. can we talk about school without mum there",
    ),
    (false, 13, 8, "Yes. I'll call you on Tuesday after school."),
];

/// A few weeks of messages on every open demo case: a family conversation
/// between the primary caseworker and the guardians who have a login (the
/// caseworker's notes only, where nobody has one yet), and the young person
/// Elias Nilsson's private conversation. The family has read all but the
/// newest message. Adds nothing when they exist.
async fn seed_conversations(db: &DatabaseConnection) -> anyhow::Result<usize> {
    use chrono::{Duration, TimeZone};
    use entity::{
        care_case, conversation, conversation_participant, conversation_read, family_member,
        message,
    };
    use sea_orm::QueryOrder;

    if conversation::Entity::find_by_id(Uuid::from_u128(CONVERSATION_BASE))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(0);
    }
    let cases = care_case::Entity::find()
        .filter(care_case::Column::TenantId.eq(DEMO_TENANT_ID))
        .filter(care_case::Column::Status.eq(care_case::CaseStatus::Open))
        .order_by_asc(care_case::Column::Id)
        .all(db)
        .await?;
    let members = family_member::Entity::find()
        .filter(family_member::Column::TenantId.eq(DEMO_TENANT_ID))
        .filter(family_member::Column::UserId.is_not_null())
        .all(db)
        .await?;
    let elias = user_id_of(db, "young@exempelby.example").await?;
    let today = Utc::now().date_naive();
    let at = |days: i64, hour: u32| {
        let day = today - Duration::days(days);
        Utc.from_utc_datetime(&day.and_hms_opt(hour, 7, 0).unwrap_or_default())
    };
    let txn = db.begin().await?;
    let mut created = 0;
    for (n, case) in cases.iter().enumerate() {
        let guardians: Vec<Uuid> = members
            .iter()
            .filter(|m| {
                m.family_id == case.family_id && m.kind == family_member::MemberKind::Guardian
            })
            .filter_map(|m| m.user_id)
            .collect();
        let mut conversations = vec![(
            Uuid::from_u128(CONVERSATION_BASE + n as u128),
            conversation::ConversationKind::Family,
            guardians.clone(),
            FAMILY_LINES,
        )];
        let young: Vec<Uuid> = members
            .iter()
            .filter(|m| m.family_id == case.family_id && m.user_id == Some(elias))
            .filter_map(|m| m.user_id)
            .collect();
        if !young.is_empty() {
            conversations.push((
                Uuid::from_u128(CONVERSATION_BASE + 1000 + n as u128),
                conversation::ConversationKind::YoungPerson,
                young,
                YOUNG_PERSON_LINES,
            ));
        }
        for (conversation_id, kind, participants, lines) in conversations {
            let family_author = participants.first().copied();
            let lines: Vec<&Line> = lines
                .iter()
                .filter(|line| !line.0 || family_author.is_some())
                .collect();
            let first_at = lines.first().map(|l| at(l.1, l.2)).unwrap_or_else(Utc::now);
            conversation::ActiveModel {
                id: Set(conversation_id),
                case_id: Set(case.id),
                tenant_id: Set(DEMO_TENANT_ID),
                kind: Set(kind),
                title: Set(None),
                last_seq: Set(lines.len() as i64),
                created_by: Set(case.primary_caseworker_id),
                created_at: Set(first_at - Duration::minutes(5)),
            }
            .insert(&txn)
            .await?;
            for user in &participants {
                conversation_participant::ActiveModel {
                    conversation_id: Set(conversation_id),
                    user_id: Set(*user),
                }
                .insert(&txn)
                .await?;
            }
            for (k, (from_family, days, hour, text)) in lines.iter().copied().enumerate() {
                let author = match (*from_family, family_author) {
                    (true, Some(member)) => member,
                    _ => case.primary_caseworker_id,
                };
                message::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    conversation_id: Set(conversation_id),
                    seq: Set(k as i64 + 1),
                    author_id: Set(author),
                    client_message_id: Set(format!("demo-{conversation_id}-{k}")),
                    body: Set((*text).to_owned()),
                    reply_to_id: Set(None),
                    created_at: Set(at(*days, *hour)),
                    edited_at: Set(None),
                    withdrawn_at: Set(None),
                    urgent: Set(false),
                }
                .insert(&txn)
                .await?;
            }
            // The caseworker has read everything; the family all but the newest.
            let total = lines.len() as i64;
            let readers = std::iter::once((case.primary_caseworker_id, total))
                .chain(participants.iter().map(|user| (*user, total - 1)));
            for (user, seq) in readers {
                if seq > 0 {
                    conversation_read::ActiveModel {
                        conversation_id: Set(conversation_id),
                        user_id: Set(user),
                        last_read_seq: Set(seq),
                        read_at: Set(Utc::now()),
                    }
                    .insert(&txn)
                    .await?;
                }
            }
            created += 1;
        }
    }
    txn.commit().await?;
    Ok(created)
}

const APPOINTMENT_BASE: u128 = 0x0193_0000_0000_7000_8000_0009_0000_0000;
const COMMITMENT_BASE: u128 = 0x0193_0000_0000_7000_8000_000a_0000_0000;

/// Busy time and a week of appointments for the Hassan family (whose case
/// Johan Ek has, with Anna Berg as partner): the child's school hours that
/// Ali Hassan entered (08:15–14:30 Monday to Friday, Stockholm time, for the
/// school year), his work on Tuesdays and Thursdays and a private
/// habilitation visit, and five appointments next week. Adds nothing when
/// they exist. The Nilsson family's calendar is left empty to try things on.
async fn seed_schedule(db: &DatabaseConnection) -> anyhow::Result<usize> {
    use chrono::{Datelike, Duration, NaiveTime, TimeZone};
    use chrono_tz::Europe::Stockholm;
    use entity::{
        appointment::{self, AppointmentKind, AppointmentStatus, LocationKind},
        appointment_participant::{self, Response},
        commitment,
    };

    if appointment::Entity::find_by_id(Uuid::from_u128(APPOINTMENT_BASE))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(0);
    }
    let anna = user_id_of(db, "caseworker@exempelby.example").await?;
    let johan = user_id_of(db, "partner@exempelby.example").await?;
    let ali = user_id_of(db, "guardian2@exempelby.example").await?;
    let hassan_case = Uuid::from_u128(CASE_BASE + 1);
    let now = Utc::now();
    let today = now.with_timezone(&Stockholm).date_naive();
    let local = |day: chrono::NaiveDate, hour: u32, minute: u32| {
        Stockholm
            .from_local_datetime(
                &day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default()),
            )
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    // The Monday of this week, and the first Monday at least two days ahead
    // (so the demo week never starts within a day's reminder time).
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let in_two_days = today + Duration::days(2);
    let next_monday = in_two_days
        + Duration::days(i64::from(
            (7 - in_two_days.weekday().num_days_from_monday()) % 7,
        ));
    let txn = db.begin().await?;
    let commitments = [
        (
            ali,
            "Amir's school day",
            Some("school"),
            monday,
            (8, 15),
            (14, 30),
            Some("MON,TUE,WED,THU,FRI"),
        ),
        (
            ali,
            "Work",
            None,
            monday + Duration::days(1),
            (8, 0),
            (16, 0),
            Some("TUE,THU"),
        ),
        (
            ali,
            "Habilitation with Amir",
            Some("habilitation"),
            next_monday + Duration::days(2),
            (15, 0),
            (16, 0),
            None,
        ),
    ];
    for (n, (owner, title, category, day, from, to, weekdays)) in
        commitments.into_iter().enumerate()
    {
        commitment::ActiveModel {
            id: Set(Uuid::from_u128(COMMITMENT_BASE + n as u128)),
            tenant_id: Set(DEMO_TENANT_ID),
            owner_id: Set(owner),
            title: Set(title.to_owned()),
            category: Set(category.map(str::to_owned)),
            starts_at: Set(local(day, from.0, from.1)),
            ends_at: Set(local(day, to.0, to.1)),
            weekdays: Set(weekdays.map(str::to_owned)),
            repeat_until: Set(weekdays.map(|_| today + Duration::days(200))),
            except_dates: Set(None),
            time_zone: Set("Europe/Stockholm".to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    // A week of appointments on the Hassan case, none clashing.
    let week = [
        (
            AppointmentKind::FollowUp,
            "Follow-up: goals and the bedtime routine",
            0,
            (15, 0),
            (16, 0),
            LocationKind::Address,
            Some("Exempelby socialtjänst, Storgatan 1"),
            vec![(ali, true)],
        ),
        (
            AppointmentKind::HomeVisit,
            "Home visit",
            1,
            (17, 0),
            (18, 0),
            LocationKind::FamilyHome,
            None,
            vec![(ali, true), (anna, false)],
        ),
        (
            AppointmentKind::ChildConversation,
            "Talk with Amir",
            2,
            (14, 45),
            (15, 30),
            LocationKind::Address,
            Some("Ekbackens skola, kuratorns rum"),
            vec![(ali, false)],
        ),
        (
            AppointmentKind::Treatment,
            "Family session",
            3,
            (17, 30),
            (18, 30),
            LocationKind::Video,
            Some("https://video.exempelby.example/room/hassan"),
            vec![(ali, true)],
        ),
        (
            AppointmentKind::NetworkMeeting,
            "Network meeting with the school",
            4,
            (15, 0),
            (16, 0),
            LocationKind::Address,
            Some("Ekbackens skola"),
            vec![(ali, true), (anna, false)],
        ),
    ];
    let mut created = 0;
    for (n, (kind, title, day, from, to, location_kind, location, people)) in
        week.into_iter().enumerate()
    {
        let day = next_monday + Duration::days(day);
        let id = Uuid::from_u128(APPOINTMENT_BASE + n as u128);
        let organiser = johan;
        appointment::ActiveModel {
            id: Set(id),
            tenant_id: Set(DEMO_TENANT_ID),
            case_id: Set(hassan_case),
            kind: Set(kind),
            title: Set(title.to_owned()),
            starts_at: Set(local(day, from.0, from.1)),
            ends_at: Set(local(day, to.0, to.1)),
            location_kind: Set(location_kind),
            location: Set(location.map(str::to_owned)),
            organiser_id: Set(organiser),
            status: Set(AppointmentStatus::Booked),
            cancel_reason: Set(None),
            override_reason: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            reminded_at: Set(None),
        }
        .insert(&txn)
        .await?;
        let mut everyone = people;
        if !everyone.iter().any(|(u, _)| *u == organiser) {
            everyone.push((organiser, true));
        }
        for (k, (user, required)) in everyone.into_iter().enumerate() {
            let answered = user == organiser || (k % 2 == 0 && n % 2 == 0);
            appointment_participant::ActiveModel {
                id: Set(Uuid::now_v7()),
                appointment_id: Set(id),
                user_id: Set(Some(user)),
                organisation_id: Set(None),
                required: Set(required),
                response: Set(if answered {
                    Response::Accepted
                } else {
                    Response::Pending
                }),
                response_reason: Set(None),
                responded_at: Set(answered.then_some(now)),
                late_decline: Set(false),
                counter_starts_at: Set(None),
                counter_ends_at: Set(None),
                attendance: Set(None),
                starts_at: Set(Some(local(day, from.0, from.1))),
                ends_at: Set(Some(local(day, to.0, to.1))),
            }
            .insert(&txn)
            .await?;
        }
        created += 1;
    }
    txn.commit().await?;
    Ok(created)
}

/// The demo municipality's closed days in `year`: the Swedish public holidays
/// and holiday eves on fixed dates, and Midsummer Eve (the Friday between 19
/// and 25 June). Movable feasts around Easter are not included.
pub fn closed_days(year: i32) -> Vec<(chrono::NaiveDate, &'static str)> {
    use chrono::{Datelike, NaiveDate, Weekday};
    let fixed = [
        (1, 1, "Nyårsdagen"),
        (1, 6, "Trettondedag jul"),
        (5, 1, "Första maj"),
        (6, 6, "Sveriges nationaldag"),
        (12, 24, "Julafton"),
        (12, 25, "Juldagen"),
        (12, 26, "Annandag jul"),
        (12, 31, "Nyårsafton"),
    ];
    let mut days: Vec<(NaiveDate, &'static str)> = fixed
        .iter()
        .filter_map(|(m, d, name)| Some((NaiveDate::from_ymd_opt(year, *m, *d)?, *name)))
        .collect();
    days.extend(
        (19..=25)
            .filter_map(|d| NaiveDate::from_ymd_opt(year, 6, d))
            .find(|d| d.weekday() == Weekday::Fri)
            .map(|d| (d, "Midsommarafton")),
    );
    days.sort();
    days
}

/// Scheduling rules: the child psychiatry clinic works Monday to Friday
/// 08:00–16:00 with 15 minutes between meetings, the school 07:30–16:30;
/// social services hold coordination meetings (SIP) on Fridays; the
/// municipality is closed on this and next year's public holidays.
async fn seed_scheduling_rules(db: &DatabaseConnection) -> anyhow::Result<()> {
    use entity::{closed_day, scheduling_routine};
    let weekdays = |from: &str, to: &str| {
        ["MON", "TUE", "WED", "THU", "FRI"]
            .map(|day| format!("{day} {from}-{to}"))
            .join(",")
    };
    let routines = [
        (
            CHILD_PSYCHIATRY,
            weekdays("08:00", "16:00"),
            String::new(),
            15,
        ),
        (SCHOOL, weekdays("07:30", "16:30"), String::new(), 0),
        (
            SOCIAL_SERVICES,
            String::new(),
            "COORDINATION_MEETING=FRI".to_owned(),
            0,
        ),
    ];
    let now = Utc::now();
    let admin = user_account::Entity::find()
        .filter(user_account::Column::Email.eq("admin@exempelby.example"))
        .one(db)
        .await?
        .map(|a| a.id)
        .unwrap_or_default();
    for (organisation, working_hours, meeting_days, buffer) in routines {
        let id = Uuid::from_u128(organisation);
        if scheduling_routine::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_some()
        {
            continue;
        }
        scheduling_routine::ActiveModel {
            organisation_id: Set(id),
            tenant_id: Set(DEMO_TENANT_ID),
            working_hours: Set(working_hours),
            meeting_days: Set(meeting_days),
            minimum_notice_minutes: Set(0),
            buffer_minutes: Set(buffer),
            daily_cap_per_child: Set(None),
            updated_by: Set(admin),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    let year = chrono::Datelike::year(&now.date_naive());
    for (date, name) in closed_days(year).into_iter().chain(closed_days(year + 1)) {
        let exists = closed_day::Entity::find()
            .filter(closed_day::Column::TenantId.eq(DEMO_TENANT_ID))
            .filter(closed_day::Column::Date.eq(date))
            .one(db)
            .await?
            .is_some();
        if !exists {
            closed_day::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(DEMO_TENANT_ID),
                date: Set(date),
                name: Set(name.to_owned()),
                created_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Lena Åberg is away this week (Mikael Strand, her partner on her cases,
/// covers); Ali Hassan has quiet hours in the evening and night. Re-seeding
/// moves Lena's away period to the current week.
async fn seed_contact_settings(db: &DatabaseConnection) -> anyhow::Result<()> {
    use chrono::Duration;

    use crate::events::service::{contact_settings, save_settings};
    let failed =
        |e: crate::error::AppError| anyhow::anyhow!("demo contact settings: {}", e.message());
    let now = Utc::now();
    let lena = user_id_of(db, "caseworker2@exempelby.example").await?;
    let mut away = contact_settings(db, lena).await.map_err(failed)?;
    away.away_from = Some(now - Duration::days(1));
    away.away_until = Some(now + Duration::days(6));
    away.away_note =
        Some("On a course this week. Mikael Strand covers; urgent: call the office.".to_owned());
    save_settings(db, away).await.map_err(failed)?;
    let ali = user_id_of(db, "guardian2@exempelby.example").await?;
    let mut quiet = contact_settings(db, ali).await.map_err(failed)?;
    if quiet.quiet_start_minute.is_none() {
        quiet.quiet_start_minute = Some(21 * 60);
        quiet.quiet_end_minute = Some(7 * 60);
        save_settings(db, quiet).await.map_err(failed)?;
    }
    Ok(())
}

const TEAM_NORTH: u128 = 0x0193_0000_0000_7000_8000_0000_0003_0001;
const TEAM_SOUTH: u128 = 0x0193_0000_0000_7000_8000_0000_0003_0002;
const FAMILY_BASE: u128 = 0x0193_0000_0000_7000_8000_0001_0000_0000;
const CASE_BASE: u128 = 0x0193_0000_0000_7000_8000_0002_0000_0000;
const MEMBER_BASE: u128 = 0x0193_0000_0000_7000_8000_0003_0000_0000;
const CONSENT_BASE: u128 = 0x0193_0000_0000_7000_8000_0004_0000_0000;
const PLAN_BASE: u128 = 0x0193_0000_0000_7000_8000_0005_0000_0000;
const GOAL_BASE: u128 = 0x0193_0000_0000_7000_8000_0006_0000_0000;
const REVIEW_BASE: u128 = 0x0193_0000_0000_7000_8000_0007_0000_0000;
/// How many families the demo municipality has.
pub const DEMO_FAMILIES: usize = 40;

const SURNAMES: [&str; 20] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Lindberg",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindqvist",
    "Jakobsson",
    "Magnusson",
    "Olofsson",
];
const GIVEN: [&str; 12] = [
    "Alva", "Liam", "Maja", "Noah", "Ella", "Hugo", "Saga", "Oscar", "Wilma", "Lucas", "Freja",
    "Adam",
];

async fn user_id_of<C: sea_orm::ConnectionTrait>(db: &C, email: &str) -> anyhow::Result<Uuid> {
    Ok(user_account::Entity::find()
        .filter(user_account::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo account {email} is missing"))?
        .id)
}

/// Teams, 40 families with cases of both types (some with overdue follow-ups),
/// and consents for the school and child psychiatry. Adds only what is missing.
async fn seed_cases(db: &DatabaseConnection) -> anyhow::Result<usize> {
    use chrono::{Duration, NaiveDate};
    use entity::{
        care_case::{self, CaseStatus, CaseType},
        case_assignment::{self, Responsibility},
        case_focus_child, case_therapist, consent, family, family_member,
        family_member::{MemberKind, NetworkRelation},
        team, team_membership,
    };

    if family::Entity::find_by_id(Uuid::from_u128(FAMILY_BASE))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(0);
    }
    let zone: chrono_tz::Tz = chrono_tz::Europe::Stockholm;
    let now = Utc::now();
    let today = crate::case::cadence::local_date(now, zone);
    let id = |base: u128, n: usize| Uuid::from_u128(base + n as u128);
    let lead_north = user_id_of(db, "teamlead@exempelby.example").await?;
    let lead_south = user_id_of(db, "teamlead2@exempelby.example").await?;
    let anna = user_id_of(db, "caseworker@exempelby.example").await?;
    let johan = user_id_of(db, "partner@exempelby.example").await?;
    let karin = user_id_of(db, "therapist@exempelby.example").await?;
    let lena = user_id_of(db, "caseworker2@exempelby.example").await?;
    let mikael = user_id_of(db, "caseworker3@exempelby.example").await?;
    let sara = user_id_of(db, "guardian@exempelby.example").await?;
    let ali = user_id_of(db, "guardian2@exempelby.example").await?;
    let elias = user_id_of(db, "young@exempelby.example").await?;
    let birgitta = user_id_of(db, "network@exempelby.example").await?;

    let txn = db.begin().await?;
    for (team_id, name, lead) in [
        (TEAM_NORTH, "Team Norr", lead_north),
        (TEAM_SOUTH, "Team Söder", lead_south),
    ] {
        team::ActiveModel {
            id: Set(Uuid::from_u128(team_id)),
            tenant_id: Set(DEMO_TENANT_ID),
            name: Set(name.to_owned()),
            team_lead_id: Set(Some(lead)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    for (user, team_id) in [
        (lead_north, TEAM_NORTH),
        (anna, TEAM_NORTH),
        (johan, TEAM_NORTH),
        (karin, TEAM_NORTH),
        (lead_south, TEAM_SOUTH),
        (lena, TEAM_SOUTH),
        (mikael, TEAM_SOUTH),
    ] {
        team_membership::ActiveModel {
            user_id: Set(user),
            team_id: Set(Uuid::from_u128(team_id)),
        }
        .insert(&txn)
        .await?;
    }

    let mut member_n = 0usize;
    let mut consent_n = 0usize;
    for n in 0..DEMO_FAMILIES {
        let family_id = id(FAMILY_BASE, n);
        // The first two families are the demo logins' own.
        let name = match n {
            0 => "Nilsson".to_owned(),
            1 => "Hassan".to_owned(),
            _ => SURNAMES[n % SURNAMES.len()].to_owned(),
        };
        family::ActiveModel {
            id: Set(family_id),
            tenant_id: Set(DEMO_TENANT_ID),
            name: Set(name.clone()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let mut add = |kind, display: String, born: Option<NaiveDate>, relation, user| {
            member_n += 1;
            family_member::ActiveModel {
                id: Set(id(MEMBER_BASE, member_n)),
                family_id: Set(family_id),
                tenant_id: Set(DEMO_TENANT_ID),
                kind: Set(kind),
                display_name: Set(display),
                date_of_birth: Set(born),
                network_relation: Set(relation),
                user_id: Set(user),
                created_at: Set(now),
            }
        };
        let mut members = Vec::new();
        let mut focus = Vec::new();
        match n {
            0 => {
                members.push(add(
                    MemberKind::Guardian,
                    "Sara Nilsson".into(),
                    None,
                    None,
                    Some(sara),
                ));
                let child = add(
                    MemberKind::Child,
                    "Elias Nilsson".into(),
                    NaiveDate::from_ymd_opt(2011, 4, 3),
                    None,
                    Some(elias),
                );
                focus.push(child.id.clone().unwrap());
                members.push(child);
                members.push(add(
                    MemberKind::Child,
                    "Ida Nilsson".into(),
                    NaiveDate::from_ymd_opt(2016, 9, 21),
                    None,
                    None,
                ));
                members.push(add(
                    MemberKind::NetworkMember,
                    "Birgitta Nilsson".into(),
                    None,
                    Some(NetworkRelation::Relative),
                    Some(birgitta),
                ));
            }
            1 => {
                members.push(add(
                    MemberKind::Guardian,
                    "Ali Hassan".into(),
                    None,
                    None,
                    Some(ali),
                ));
                let child = add(
                    MemberKind::Child,
                    "Yasmin Hassan".into(),
                    NaiveDate::from_ymd_opt(2014, 1, 12),
                    None,
                    None,
                );
                focus.push(child.id.clone().unwrap());
                members.push(child);
            }
            _ => {
                members.push(add(
                    MemberKind::Guardian,
                    format!("{} {name}", GIVEN[(n * 5) % GIVEN.len()]),
                    None,
                    None,
                    None,
                ));
                let born = NaiveDate::from_ymd_opt(
                    2008 + (n % 14) as i32,
                    1 + (n % 12) as u32,
                    1 + (n % 27) as u32,
                );
                let child = add(
                    MemberKind::Child,
                    format!("{} {name}", GIVEN[n % GIVEN.len()]),
                    born,
                    None,
                    None,
                );
                focus.push(child.id.clone().unwrap());
                members.push(child);
                if n % 4 == 0 {
                    members.push(add(
                        MemberKind::NetworkMember,
                        format!("Stödfamiljen {}", SURNAMES[(n + 3) % SURNAMES.len()]),
                        None,
                        Some(NetworkRelation::SupportFamily),
                        None,
                    ));
                }
            }
        }
        for member in members {
            member.insert(&txn).await?;
        }

        let case_id = id(CASE_BASE, n);
        let north = n % 2 == 0;
        let (team_id, primary, partner) = match n {
            0 => (TEAM_NORTH, anna, Some(johan)),
            1 => (TEAM_NORTH, johan, Some(anna)),
            _ if north => (TEAM_NORTH, if n % 4 == 0 { anna } else { johan }, None),
            _ => (
                TEAM_SOUTH,
                if n % 3 == 0 { lena } else { mikael },
                Some(if n % 3 == 0 { mikael } else { lena }),
            ),
        };
        let case_type = if n % 3 == 1 {
            CaseType::Support
        } else {
            CaseType::Investigation
        };
        let opened_on = today - Duration::days(20 + ((n * 37) % 400) as i64);
        // Every fifth case is overdue: its last follow-up is long past.
        let last_follow_up_at = if n % 5 == 3 {
            Some(now - Duration::days(120))
        } else if n % 5 == 0 {
            None
        } else {
            Some(now - Duration::days(((n * 7) % 30) as i64 + 1))
        };
        let status = if n >= 37 {
            CaseStatus::Closed
        } else {
            CaseStatus::Open
        };
        let mut model = care_case::Model {
            id: case_id,
            tenant_id: DEMO_TENANT_ID,
            family_id,
            team_id: Uuid::from_u128(team_id),
            case_type,
            status,
            opened_on,
            start_conversation_on: Some(opened_on + Duration::days(7)),
            last_follow_up_at,
            next_follow_up_due: opened_on,
            primary_caseworker_id: primary,
            partner_caseworker_id: partner,
            young_person_may_consent: n == 0,
            closed_at: (status == CaseStatus::Closed).then_some(now - Duration::days(3)),
            closing_note: (status == CaseStatus::Closed)
                .then(|| "The goals were reached; the family manages on its own.".to_owned()),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        model.next_follow_up_due = crate::case::service::due_date(&model, zone);
        care_case::ActiveModel::from(model).insert(&txn).await?;
        let focus_member_ids = focus.clone();
        let guardian_user = match n {
            0 => Some(sara),
            1 => Some(ali),
            _ => None,
        };
        for member_id in focus {
            case_focus_child::ActiveModel {
                case_id: Set(case_id),
                member_id: Set(member_id),
            }
            .insert(&txn)
            .await?;
        }
        case_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(case_id),
            responsibility: Set(Responsibility::PrimaryCaseworker),
            user_id: Set(primary),
            started_at: Set(now),
            ended_at: Set(None),
            assigned_by: Set(None),
            handover_note: Set(None),
        }
        .insert(&txn)
        .await?;
        if n == 0 {
            case_therapist::ActiveModel {
                case_id: Set(case_id),
                user_id: Set(karin),
            }
            .insert(&txn)
            .await?;
        }
        if status == CaseStatus::Open {
            seed_goals(
                &txn,
                case_id,
                n,
                primary,
                focus_member_ids.first().copied(),
                guardian_user,
                last_follow_up_at,
                opened_on,
                zone,
                now,
            )
            .await?;
        }
        // A few coordinated plans (SIP), one with its meeting overdue.
        if n % 10 == 0 && n > 0 && status == CaseStatus::Open {
            let initiated_on = today - Duration::days(if n == 10 { 30 } else { 5 });
            let plan_id = id(PLAN_BASE, n);
            entity::coordinated_plan::ActiveModel {
                id: Set(plan_id),
                case_id: Set(case_id),
                tenant_id: Set(DEMO_TENANT_ID),
                initiating_organisation_id: Set(Uuid::from_u128(SCHOOL)),
                initiated_on: Set(initiated_on),
                meeting_held_on: Set(None),
                child_participation: Set(None),
                child_non_participation_reason: Set(None),
                coordinator_organisation_id: Set(Some(Uuid::from_u128(CHILD_PSYCHIATRY))),
                coordinator_reason: Set(Some(
                    entity::coordinated_plan::CoordinatorReason::FamilyTrust,
                )),
                coordinator_reason_text: Set(None),
                created_by: Set(primary),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            entity::plan_intervention::ActiveModel {
                id: Set(Uuid::now_v7()),
                plan_id: Set(plan_id),
                description: Set("Support in school every morning".to_owned()),
                responsible_organisation_id: Set(Uuid::from_u128(SCHOOL)),
                starts_on: Set(initiated_on + Duration::days(7)),
                coordinated_by: Set(entity::plan_intervention::CoordinatedBy::Caseworker),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
        // Consents: the school sees goals and appointments of some cases, child
        // psychiatry a little more of a few.
        let mut consents = Vec::new();
        if n == 0 || n % 3 == 0 {
            consents.push((SCHOOL, "GOALS,APPOINTMENTS"));
        }
        if n == 0 || n % 7 == 0 {
            consents.push((CHILD_PSYCHIATRY, "GOALS,APPOINTMENTS,MESSAGES"));
        }
        for (organisation, categories) in consents {
            consent_n += 1;
            consent::ActiveModel {
                id: Set(id(CONSENT_BASE, consent_n)),
                case_id: Set(case_id),
                tenant_id: Set(DEMO_TENANT_ID),
                organisation_id: Set(Uuid::from_u128(organisation)),
                user_id: Set(None),
                categories: Set(categories.to_owned()),
                valid_from: Set(now - Duration::days(10)),
                valid_until: Set(Some(now + Duration::days(365))),
                granted_by: Set(if n == 0 { sara } else { primary }),
                granted_at: Set(now - Duration::days(10)),
                withdrawn_at: Set(None),
                withdrawn_by: Set(None),
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(DEMO_FAMILIES)
}

/// Two goals per open demo case (one for the family, one shared with the care
/// team), with steps, progress from the family and the caseworker, and, where
/// the case has had follow-ups, two reviews with ratings.
#[allow(clippy::too_many_arguments)]
async fn seed_goals(
    txn: &sea_orm::DatabaseTransaction,
    case_id: Uuid,
    n: usize,
    caseworker: Uuid,
    child: Option<Uuid>,
    guardian: Option<Uuid>,
    last_follow_up_at: Option<chrono::DateTime<Utc>>,
    opened_on: chrono::NaiveDate,
    zone: chrono_tz::Tz,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    use chrono::Duration;
    use entity::{
        follow_up, follow_up_rating, goal,
        goal::{GoalOwner, GoalStatus, GoalVisibility, Horizon},
        goal_change, goal_progress, goal_step,
    };
    let goals = [
        (
            "Go to school every day",
            "Up at seven, at school by eight, every day of the week.",
            GoalVisibility::Family,
            Horizon::ShortTerm,
            GoalOwner::Shared,
        ),
        (
            "Calm evenings at home",
            "Fewer conflicts at bedtime; we agree on a routine and keep it.",
            GoalVisibility::CareTeam,
            Horizon::LongTerm,
            GoalOwner::Family,
        ),
    ];
    let mut goal_ids = Vec::new();
    for (index, (title, description, visibility, horizon, owner)) in goals.into_iter().enumerate() {
        let goal_id = Uuid::from_u128(GOAL_BASE + (n * 10 + index) as u128);
        goal::ActiveModel {
            id: Set(goal_id),
            case_id: Set(case_id),
            tenant_id: Set(DEMO_TENANT_ID),
            title: Set(title.to_owned()),
            description: Set(description.to_owned()),
            horizon: Set(horizon),
            child_member_id: Set(child),
            owner: Set(owner),
            owner_organisation_id: Set(None),
            target_date: Set(Some(
                crate::case::cadence::local_date(now, zone) + Duration::days(90),
            )),
            status: Set(GoalStatus::Active),
            visibility: Set(visibility),
            proposed_by: Set(caseworker),
            version: Set(1),
            created_at: Set(now - Duration::days(60) + Duration::seconds(index as i64)),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
        goal_change::ActiveModel {
            id: Set(Uuid::now_v7()),
            goal_id: Set(goal_id),
            changed_by: Set(caseworker),
            changed_at: Set(now - Duration::days(60)),
            field: Set("CREATED".to_owned()),
            old_value: Set(None),
            new_value: Set(Some(title.to_owned())),
            reason: Set(None),
        }
        .insert(txn)
        .await?;
        for (step, description) in [
            "Agree on the routine together",
            "Check in with the caseworker on Fridays",
        ]
        .into_iter()
        .enumerate()
        {
            goal_step::ActiveModel {
                id: Set(Uuid::now_v7()),
                goal_id: Set(goal_id),
                description: Set(description.to_owned()),
                assignee_member_id: Set(None),
                assignee_user_id: Set(Some(caseworker)),
                assignee_organisation_id: Set(None),
                due_on: Set(Some(
                    crate::case::cadence::local_date(now, zone)
                        + Duration::days(7 * (step as i64 + 1)),
                )),
                done_at: Set((step == 0).then_some(now - Duration::days(10))),
                done_by: Set((step == 0).then_some(caseworker)),
                created_at: Set(now - Duration::days(59) + Duration::seconds(step as i64)),
            }
            .insert(txn)
            .await?;
        }
        for (author, note, rating) in [
            (Some(caseworker), "Better than last month", 3),
            (guardian, "We are getting there", 4),
        ] {
            if let Some(author) = author {
                goal_progress::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    goal_id: Set(goal_id),
                    author_id: Set(author),
                    note: Set(note.to_owned()),
                    rating: Set(Some(rating)),
                    created_at: Set(now - Duration::days(5) + Duration::seconds(rating as i64)),
                }
                .insert(txn)
                .await?;
            }
        }
        goal_ids.push(goal_id);
    }
    // Two reviews where the case has been followed up: the last one and one a
    // cadence earlier (never before the case was opened).
    if let Some(last) = last_follow_up_at {
        let last_day = crate::case::cadence::local_date(last, zone);
        for (review, held_on) in [last_day - Duration::days(42), last_day]
            .into_iter()
            .enumerate()
        {
            if held_on < opened_on {
                continue;
            }
            let id = Uuid::from_u128(REVIEW_BASE + (n * 10 + review) as u128);
            follow_up::ActiveModel {
                id: Set(id),
                case_id: Set(case_id),
                tenant_id: Set(DEMO_TENANT_ID),
                held_on: Set(held_on),
                participants: Set("The family\nThe caseworker".to_owned()),
                notes: Set(Some("Talked through every goal.".to_owned())),
                decisions: Set(None),
                recorded_by: Set(caseworker),
                created_at: Set(now),
            }
            .insert(txn)
            .await?;
            for (index, goal_id) in goal_ids.iter().enumerate() {
                follow_up_rating::ActiveModel {
                    follow_up_id: Set(id),
                    goal_id: Set(*goal_id),
                    rating: Set((2 + review + index).min(5) as i16),
                }
                .insert(txn)
                .await?;
            }
        }
    }
    Ok(())
}
