//! A realistic municipality, written straight into the database of a running
//! server (in the demo tenant, beside the demo data): caseworkers in teams,
//! families with a guardian who can sign in and one or two children, one open
//! case each with two goals, a year of progress notes, follow-ups with
//! ratings, a family conversation with a year of messages (the guardian has
//! read all but the newest two) and a year of appointments (every other week,
//! half past, half ahead).
//!
//! Rows go in with multi-row inserts in chunks, inside one transaction per
//! table, so 5,000 families take well under a minute on either database.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use entity::{
    appointment::{self, AppointmentKind, AppointmentStatus, LocationKind},
    appointment_participant::{self, Response},
    care_case::{self, CaseStatus, CaseType},
    case_assignment::{self, Responsibility},
    case_focus_child, conversation, conversation_participant, conversation_read, family,
    family_member::{self, MemberKind},
    follow_up, follow_up_rating, goal,
    goal::{GoalOwner, GoalStatus, GoalVisibility, Horizon},
    goal_progress, message, team, team_membership,
    user_account::{self, Role},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use uuid::Uuid;

/// How big the municipality is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub families: usize,
    pub caseworkers: usize,
    /// Messages per family conversation over the year.
    pub messages_per_family: usize,
    /// Appointments per family over the year (evenly spread, half ahead).
    pub appointments_per_family: usize,
}

/// What was seeded: who can sign in, and how many rows of each kind.
#[derive(Debug, Clone)]
pub struct Municipality {
    /// Guardian e-mail per family, in family order.
    pub guardians: Vec<String>,
    /// Caseworker e-mail, in order; caseworker `k` is primary for families
    /// `k, k + caseworkers, …` and partner for as many others.
    pub caseworkers: Vec<String>,
    /// Rows written, by table.
    pub rows: Vec<(&'static str, usize)>,
    pub seconds: f64,
}

impl Municipality {
    /// Rows written in all.
    pub fn total_rows(&self) -> usize {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

const BASE: u128 = 0x0193_0000_0000_7000_9000_0000_0000_0000;

/// A deterministic id: `table` (1..=255) and a running number.
fn id(table: u128, n: usize) -> Uuid {
    Uuid::from_u128(BASE + (table << 40) + n as u128)
}

const GIVEN: [&str; 12] = [
    "Sara", "Ali", "Maja", "Omar", "Linnea", "Erik", "Fatima", "Johan", "Noah", "Elsa", "Amir",
    "Wilma",
];
const SURNAMES: [&str; 10] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
];
const MESSAGES: [&str; 6] = [
    "Hej! Hur gick veckan?",
    "Det har varit lugnare hemma, tack.",
    "Vi ses på torsdag som vi sa.",
    "Skolan ringde om frånvaron i måndags.",
    "Kan vi flytta mötet en timme?",
    "Bra jobbat med kvällsrutinen!",
];

/// Writes every row of `rows` with multi-row inserts of at most
/// `30,000 / columns` rows (under SQLite's and PostgreSQL's parameter limits).
async fn insert_all<A>(
    db: &DatabaseConnection,
    rows: Vec<A>,
    columns: usize,
) -> anyhow::Result<usize>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let total = rows.len();
    let per_statement = (30_000 / columns.max(1)).max(1);
    let txn = db.begin().await?;
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            break;
        }
        A::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(total)
}

/// Seeds the municipality into the demo tenant of the server's database.
pub async fn seed(db: &DatabaseConnection, scale: Scale) -> anyhow::Result<Municipality> {
    let started = Instant::now();
    let tenant = api::demo::DEMO_TENANT_ID;
    let social_services = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0001);
    let now = Utc::now();
    let today = now.with_timezone(&Stockholm).date_naive();
    // Every account gets the demo password: copy the demo guardian's hash.
    let password_hash = user_account::Entity::find()
        .filter(user_account::Column::Email.eq("guardian@exempelby.example"))
        .one(db)
        .await?
        .and_then(|u| u.password_hash)
        .context("the demo data must be loaded (serve --demo)")?;
    let local = |day: NaiveDate, minutes: u32| -> DateTime<Utc> {
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0)
            .unwrap_or_default();
        Stockholm
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let mut rows = Vec::new();

    // Staff: caseworkers in teams of ten.
    let teams = scale.caseworkers.div_ceil(10).max(1);
    let caseworker_ids: Vec<Uuid> = (0..scale.caseworkers).map(|k| id(1, k)).collect();
    let caseworkers: Vec<String> = (0..scale.caseworkers)
        .map(|k| format!("caseworker{k}@bench.example"))
        .collect();
    let mut users = Vec::new();
    for (k, email) in caseworkers.iter().enumerate() {
        users.push(user_account::ActiveModel {
            id: Set(caseworker_ids[k]),
            tenant_id: Set(tenant),
            organisation_id: Set(Some(social_services)),
            email: Set(email.clone()),
            display_name: Set(format!(
                "{} {}",
                GIVEN[(k * 7) % GIVEN.len()],
                SURNAMES[k % SURNAMES.len()]
            )),
            role: Set(Role::Caseworker),
            password_hash: Set(Some(password_hash.clone())),
            external_issuer: Set(None),
            external_subject: Set(None),
            created_at: Set(now - Duration::days(400)),
            disabled_at: Set(None),
        });
    }
    let guardians: Vec<String> = (0..scale.families)
        .map(|n| format!("family{n}@bench.example"))
        .collect();
    for (n, email) in guardians.iter().enumerate() {
        users.push(user_account::ActiveModel {
            id: Set(id(2, n)),
            tenant_id: Set(tenant),
            organisation_id: Set(None),
            email: Set(email.clone()),
            display_name: Set(format!(
                "{} {}",
                GIVEN[n % GIVEN.len()],
                SURNAMES[(n / GIVEN.len()) % SURNAMES.len()]
            )),
            role: Set(Role::Guardian),
            password_hash: Set(Some(password_hash.clone())),
            external_issuer: Set(None),
            external_subject: Set(None),
            created_at: Set(now - Duration::days(365)),
            disabled_at: Set(None),
        });
    }
    rows.push(("user_account", insert_all(db, users, 11).await?));
    let team_rows: Vec<team::ActiveModel> = (0..teams)
        .map(|t| team::ActiveModel {
            id: Set(id(3, t)),
            tenant_id: Set(tenant),
            name: Set(format!("Team {}", t + 1)),
            team_lead_id: Set(None),
            created_at: Set(now - Duration::days(400)),
        })
        .collect();
    rows.push(("team", insert_all(db, team_rows, 5).await?));
    let memberships: Vec<team_membership::ActiveModel> = (0..scale.caseworkers)
        .map(|k| team_membership::ActiveModel {
            user_id: Set(caseworker_ids[k]),
            team_id: Set(id(3, k / 10)),
        })
        .collect();
    rows.push(("team_membership", insert_all(db, memberships, 2).await?));

    // Families, their cases and everything on them.
    let mut families = Vec::new();
    let mut members = Vec::new();
    let mut cases = Vec::new();
    let mut assignments = Vec::new();
    let mut focus = Vec::new();
    let mut goals = Vec::new();
    let mut progress = Vec::new();
    let mut follow_ups = Vec::new();
    let mut ratings = Vec::new();
    let mut conversations = Vec::new();
    let mut conversation_participants = Vec::new();
    let mut reads = Vec::new();
    let mut messages = Vec::new();
    let mut appointments = Vec::new();
    let mut participants = Vec::new();
    let (mut member_n, mut progress_n, mut message_n, mut participant_n) = (0, 0, 0, 0);
    let year_ago = today - Duration::days(365);
    for n in 0..scale.families {
        let family_id = id(4, n);
        let guardian = id(2, n);
        let surname = SURNAMES[(n / GIVEN.len()) % SURNAMES.len()];
        let primary = caseworker_ids[n % scale.caseworkers];
        let partner = caseworker_ids[(n + scale.caseworkers / 2 + 1) % scale.caseworkers];
        families.push(family::ActiveModel {
            id: Set(family_id),
            tenant_id: Set(tenant),
            name: Set(surname.to_owned()),
            created_at: Set(now - Duration::days(365)),
        });
        let mut member = |kind, name: String, born: Option<NaiveDate>, user: Option<Uuid>| {
            member_n += 1;
            let member_id = id(5, member_n);
            members.push(family_member::ActiveModel {
                id: Set(member_id),
                family_id: Set(family_id),
                tenant_id: Set(tenant),
                kind: Set(kind),
                display_name: Set(name),
                date_of_birth: Set(born),
                network_relation: Set(None),
                user_id: Set(user),
                created_at: Set(now - Duration::days(365)),
            });
            member_id
        };
        member(
            MemberKind::Guardian,
            format!("{} {surname}", GIVEN[n % GIVEN.len()]),
            None,
            Some(guardian),
        );
        let children = 1 + n % 2;
        let mut first_child = None;
        for c in 0..children {
            let born = NaiveDate::from_ymd_opt(
                2008 + ((n + c * 3) % 14) as i32,
                1 + (n % 12) as u32,
                1 + (c as u32 * 9 + n as u32 % 19),
            );
            let child = member(
                MemberKind::Child,
                format!("{} {surname}", GIVEN[(n + c + 5) % GIVEN.len()]),
                born,
                None,
            );
            first_child.get_or_insert(child);
            focus.push(case_focus_child::ActiveModel {
                case_id: Set(id(6, n)),
                member_id: Set(child),
            });
        }
        let case_id = id(6, n);
        let opened_on = year_ago + Duration::days((n % 60) as i64);
        let last_follow_up_at = local(today - Duration::days((n % 40) as i64 + 1), 10 * 60);
        let mut case = care_case::Model {
            id: case_id,
            tenant_id: tenant,
            family_id,
            team_id: id(3, (n % scale.caseworkers) / 10),
            case_type: if n % 3 == 0 {
                CaseType::Investigation
            } else {
                CaseType::Support
            },
            status: CaseStatus::Open,
            opened_on,
            start_conversation_on: Some(opened_on + Duration::days(7)),
            last_follow_up_at: Some(last_follow_up_at),
            next_follow_up_due: opened_on,
            primary_caseworker_id: primary,
            partner_caseworker_id: Some(partner),
            young_person_may_consent: false,
            closed_at: None,
            closing_note: None,
            version: 1,
            created_at: now - Duration::days(365),
            updated_at: now,
        };
        case.next_follow_up_due = api::case::service::due_date(&case, Stockholm);
        cases.push(care_case::ActiveModel::from(case));
        assignments.push(case_assignment::ActiveModel {
            id: Set(id(7, n)),
            case_id: Set(case_id),
            responsibility: Set(Responsibility::PrimaryCaseworker),
            user_id: Set(primary),
            started_at: Set(now - Duration::days(365)),
            ended_at: Set(None),
            assigned_by: Set(None),
            handover_note: Set(None),
        });

        // Two goals, a progress note a month from each side, and a
        // follow-up every six weeks rating both.
        let goal_ids = [id(8, n * 2), id(8, n * 2 + 1)];
        for (g, goal_id) in goal_ids.iter().enumerate() {
            goals.push(goal::ActiveModel {
                id: Set(*goal_id),
                case_id: Set(case_id),
                tenant_id: Set(tenant),
                title: Set(["Go to school every day", "Calm evenings at home"][g].to_owned()),
                description: Set("Agreed together at the start conversation.".to_owned()),
                horizon: Set(if g == 0 {
                    Horizon::ShortTerm
                } else {
                    Horizon::LongTerm
                }),
                child_member_id: Set(first_child),
                owner: Set(if g == 0 {
                    GoalOwner::Shared
                } else {
                    GoalOwner::Family
                }),
                owner_organisation_id: Set(None),
                target_date: Set(Some(today + Duration::days(90))),
                status: Set(GoalStatus::Active),
                visibility: Set(if g == 0 {
                    GoalVisibility::Family
                } else {
                    GoalVisibility::CareTeam
                }),
                proposed_by: Set(primary),
                version: Set(1),
                created_at: Set(local(opened_on, 9 * 60 + g as u32)),
                updated_at: Set(now),
            });
            for month in 0..12 {
                for (author, rating) in [(primary, 3), (guardian, 4)] {
                    progress_n += 1;
                    progress.push(goal_progress::ActiveModel {
                        id: Set(id(9, progress_n)),
                        goal_id: Set(*goal_id),
                        author_id: Set(author),
                        note: Set("Some steps forward this month.".to_owned()),
                        rating: Set(Some(((rating + month + g) % 5 + 1) as i16)),
                        created_at: Set(local(
                            year_ago + Duration::days(30 * month as i64 + 15),
                            12 * 60 + (author == guardian) as u32,
                        )),
                    });
                }
            }
        }
        let reviews = 8;
        for r in 0..reviews {
            let held_on = today - Duration::days(42 * (reviews - r) as i64 - (n % 40) as i64);
            let review_id = id(10, n * reviews + r);
            follow_ups.push(follow_up::ActiveModel {
                id: Set(review_id),
                case_id: Set(case_id),
                tenant_id: Set(tenant),
                held_on: Set(held_on),
                participants: Set("The family\nThe caseworker".to_owned()),
                notes: Set(Some("Talked through every goal.".to_owned())),
                decisions: Set(None),
                recorded_by: Set(primary),
                created_at: Set(local(held_on, 11 * 60)),
            });
            for (g, goal_id) in goal_ids.iter().enumerate() {
                ratings.push(follow_up_rating::ActiveModel {
                    follow_up_id: Set(review_id),
                    goal_id: Set(*goal_id),
                    rating: Set(((r + g) % 5 + 1) as i16),
                });
            }
        }

        // The family conversation: a year of messages, both ways.
        let conversation_id = id(11, n);
        let total = scale.messages_per_family as i64;
        conversations.push(conversation::ActiveModel {
            id: Set(conversation_id),
            case_id: Set(case_id),
            tenant_id: Set(tenant),
            kind: Set(conversation::ConversationKind::Family),
            title: Set(None),
            last_seq: Set(total),
            created_by: Set(primary),
            created_at: Set(local(opened_on, 8 * 60)),
        });
        conversation_participants.push(conversation_participant::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(guardian),
        });
        for m in 0..scale.messages_per_family {
            message_n += 1;
            let day =
                year_ago + Duration::days((m * 365 / scale.messages_per_family.max(1)) as i64);
            messages.push(message::ActiveModel {
                id: Set(id(12, message_n)),
                conversation_id: Set(conversation_id),
                seq: Set(m as i64 + 1),
                author_id: Set(if m % 2 == 0 { primary } else { guardian }),
                client_message_id: Set(format!("seed-{n}-{m}")),
                body: Set(MESSAGES[(n + m) % MESSAGES.len()].to_owned()),
                reply_to_id: Set(None),
                created_at: Set(local(day, 9 * 60 + (m % 8) as u32 * 60)),
                edited_at: Set(None),
                withdrawn_at: Set(None),
                urgent: Set(false),
            });
        }
        for (reader, upto) in [(primary, total), (guardian, (total - 2).max(0))] {
            reads.push(conversation_read::ActiveModel {
                conversation_id: Set(conversation_id),
                user_id: Set(reader),
                last_read_seq: Set(upto),
                read_at: Set(now - Duration::days(1)),
            });
        }

        // A year of appointments on weekdays, half past and half ahead, at
        // staggered hours so that a caseworker's day holds several.
        let every = (365 / scale.appointments_per_family.max(1)).max(1) as i64;
        for a in 0..scale.appointments_per_family {
            let mut day = today - Duration::days(182)
                + Duration::days(every * a as i64 + (n % every as usize) as i64);
            while matches!(
                chrono::Datelike::weekday(&day),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            ) {
                day += Duration::days(1);
            }
            let starts = local(day, 8 * 60 + ((n / scale.caseworkers) % 8) as u32 * 60);
            let ends = starts + Duration::hours(1);
            let appointment_id = id(13, n * scale.appointments_per_family + a);
            let past = ends < now;
            appointments.push(appointment::ActiveModel {
                id: Set(appointment_id),
                tenant_id: Set(tenant),
                case_id: Set(case_id),
                kind: Set(if a % 3 == 0 {
                    AppointmentKind::FollowUp
                } else {
                    AppointmentKind::HomeVisit
                }),
                title: Set(if a % 3 == 0 {
                    "Follow-up".to_owned()
                } else {
                    "Home visit".to_owned()
                }),
                starts_at: Set(starts),
                ends_at: Set(ends),
                location_kind: Set(LocationKind::FamilyHome),
                location: Set(None),
                organiser_id: Set(primary),
                status: Set(if past {
                    AppointmentStatus::Fulfilled
                } else {
                    AppointmentStatus::Booked
                }),
                cancel_reason: Set(None),
                override_reason: Set(None),
                version: Set(1),
                created_at: Set(starts - Duration::days(14)),
                updated_at: Set(starts - Duration::days(14)),
                reminded_at: Set(past.then_some(starts - Duration::hours(24))),
            });
            for (user, response) in [
                (primary, Response::Accepted),
                (guardian, Response::Accepted),
            ] {
                participant_n += 1;
                participants.push(appointment_participant::ActiveModel {
                    id: Set(id(14, participant_n)),
                    appointment_id: Set(appointment_id),
                    user_id: Set(Some(user)),
                    organisation_id: Set(None),
                    required: Set(true),
                    response: Set(response),
                    response_reason: Set(None),
                    responded_at: Set(Some(starts - Duration::days(13))),
                    late_decline: Set(false),
                    counter_starts_at: Set(None),
                    counter_ends_at: Set(None),
                    attendance: Set(None),
                    starts_at: Set(Some(starts)),
                    ends_at: Set(Some(ends)),
                });
            }
        }
    }
    rows.push(("family", insert_all(db, families, 4).await?));
    rows.push(("family_member", insert_all(db, members, 9).await?));
    rows.push(("care_case", insert_all(db, cases, 18).await?));
    rows.push(("case_assignment", insert_all(db, assignments, 8).await?));
    rows.push(("case_focus_child", insert_all(db, focus, 2).await?));
    rows.push(("goal", insert_all(db, goals, 16).await?));
    rows.push(("goal_progress", insert_all(db, progress, 6).await?));
    rows.push(("follow_up", insert_all(db, follow_ups, 9).await?));
    rows.push(("follow_up_rating", insert_all(db, ratings, 3).await?));
    rows.push(("conversation", insert_all(db, conversations, 8).await?));
    rows.push((
        "conversation_participant",
        insert_all(db, conversation_participants, 2).await?,
    ));
    rows.push(("conversation_read", insert_all(db, reads, 4).await?));
    rows.push(("message", insert_all(db, messages, 11).await?));
    rows.push(("appointment", insert_all(db, appointments, 18).await?));
    rows.push((
        "appointment_participant",
        insert_all(db, participants, 14).await?,
    ));
    crate::analyze(db).await?;
    Ok(Municipality {
        guardians,
        caseworkers,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}
