//! Appointments that do not clash: commitments as busy time (private to
//! their owner), clash checks, bookings refused or overridden with a reason,
//! racing bookings, answers with late declines and counter-proposals,
//! cancelling, and bad input that changes nothing.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use integration_tests::{
    Backend, TestApp, assert_cost_does_not_grow, first_error_code, global_id, on_both_backends,
};
use serde_json::{Value, json};

on_both_backends!(
    suggesting_and_checking_cost_a_fixed_number_of_statements,
    a_reminder_goes_out_before_an_appointment_and_again_after_it_moves,
    a_proposed_time_is_booked_once_everyone_required_has_accepted,
    the_planning_calendar_merges_everyones_busy_time_and_keeps_details_private,
    a_booked_follow_up_or_coordination_meeting_shows_against_its_deadline,
    a_clashing_time_is_refused_with_the_conflicts_unless_staff_override_it,
    a_weekly_commitment_keeps_its_local_time_across_daylight_saving_and_skips_exceptions,
    answers_need_a_reason_to_decline_and_a_late_decline_is_marked,
    bad_input_is_a_clear_user_error_and_books_nothing,
    two_bookings_racing_for_the_same_people_cannot_both_succeed,
    scheduling_follows_the_viewers_relation_to_the_case,
    suggested_times_fit_everyone_required_and_say_who_blocks_when_none_do,
    the_demo_family_has_school_hours_and_a_week_of_appointments,
    invitations_answers_and_cancellations_reach_the_people_concerned,
    moving_an_appointment_checks_everyone_again_and_asks_again,
    attendance_and_deviations_are_followed_up_by_the_team_lead,
);

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

const ANNA: &str = "caseworker@exempelby.example";
const SARA: &str = "guardian@exempelby.example";
const ELIAS: &str = "young@exempelby.example";

const CHECK: &str = "query($input: CheckAvailabilityInput!) { checkAvailability(input: $input) {
    availability { free conflicts { participant { displayName } startsAt endsAt reason detail } }
    userErrors { code field message } } }";
const SCHEDULE: &str = "mutation($input: ScheduleAppointmentInput!) { scheduleAppointment(input: $input) {
    appointment { id title status overrideReason startsAt participants { user { displayName } required response } }
    conflicts { participant { displayName } reason detail }
    userErrors { code field message } } }";
const RESPOND: &str = "mutation($input: RespondToAppointmentInput!) { respondToAppointment(input: $input) {
    appointment { participants { user { displayName } response reason lateDecline proposedStartsAt } }
    userErrors { code field message } } }";
const MINE: &str =
    "query($from: DateTime!, $to: DateTime!) { myAppointments(from: $from, to: $to) {
    id title startsAt participants { user { displayName } response } } }";

/// A whole hour at `hour` UTC on the `days`-th day from today on which the
/// demo municipality is open (or `days` ago, when negative) (its closed days are skipped, so a test about
/// something else does not meet a public holiday; distinct `days` stay
/// distinct days in the same order).
fn at(days: i64, hour: u32) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let closed: Vec<chrono::NaiveDate> = [today.year(), today.year() + 1]
        .into_iter()
        .flat_map(api::demo::closed_days)
        .map(|(date, _)| date)
        .collect();
    // Past days (for "in the past" errors) are taken as they are.
    let day = match usize::try_from(days) {
        Ok(n) => today.iter_days().filter(|d| !closed.contains(d)).nth(n),
        Err(_) => Some(today + Duration::days(days)),
    }
    .unwrap();
    day.and_hms_opt(hour, 0, 0).unwrap().and_utc()
}

/// Removes the demo's closed days, for a test that needs a time a few hours
/// from now whatever the date.
async fn open_every_day(app: &TestApp) {
    use sea_orm::EntityTrait;
    entity::closed_day::Entity::delete_many()
        .exec(&app.db)
        .await
        .unwrap();
}

async fn id_of(app: &TestApp, token: &str) -> String {
    app.user_id(token).await
}

fn proposal(start: DateTime<Utc>, end: DateTime<Utc>, people: &[&str]) -> Value {
    json!({
        "caseId": nilsson_case(),
        "startsAt": start.to_rfc3339(),
        "endsAt": end.to_rfc3339(),
        "participants": people.iter().map(|p| json!({ "userId": p })).collect::<Vec<_>>(),
    })
}

fn booking(title: &str, start: DateTime<Utc>, end: DateTime<Utc>, people: &[&str]) -> Value {
    let mut input = proposal(start, end, people);
    input["kind"] = json!("FOLLOW_UP");
    input["title"] = json!(title);
    input["location"] = json!({ "kind": "ADDRESS", "text": "Storgatan 1" });
    input
}

async fn schedule(app: &TestApp, token: &str, input: Value) -> Value {
    app.graphql_as(token, SCHEDULE, json!({ "input": input }))
        .await["data"]["scheduleAppointment"]
        .clone()
}

async fn mine(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app
        .graphql_as(
            token,
            MINE,
            json!({ "from": Utc::now().to_rfc3339(), "to": (Utc::now() + Duration::days(60)).to_rfc3339() }),
        )
        .await;
    body["data"]["myAppointments"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

async fn a_clashing_time_is_refused_with_the_conflicts_unless_staff_override_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    // Sara's visit at another agency, in three days 09:00–10:00 UTC.
    let created = app
        .graphql_as(
            &sara,
            "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) {
                commitment { id title category } userErrors { code field } } }",
            json!({ "input": { "title": "BUP visit", "category": "child psychiatry",
                "startsAt": at(3, 9).to_rfc3339(), "endsAt": at(3, 10).to_rfc3339() } }),
        )
        .await;
    assert_eq!(
        created["data"]["createCommitment"]["commitment"]["title"], "BUP visit",
        "{created}"
    );

    // Anna checks 09:30–10:30: busy, but not why.
    let check = app
        .graphql_as(
            &anna,
            CHECK,
            json!({ "input": proposal(at(3, 9) + Duration::minutes(30), at(3, 10) + Duration::minutes(30), &[&sara_id]) }),
        )
        .await;
    let availability = &check["data"]["checkAvailability"]["availability"];
    assert_eq!(availability["free"], false, "{check}");
    assert_eq!(
        availability["conflicts"][0],
        json!({ "participant": { "displayName": "Sara Nilsson" },
                "startsAt": at(3, 9).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).replace("Z", "+00:00"),
                "endsAt": at(3, 10).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).replace("Z", "+00:00"),
                "reason": "COMMITMENT", "detail": null }),
        "{check}"
    );

    // Booking it is refused, with the conflicts, and nothing is booked.
    let refused = schedule(
        &app,
        &anna,
        booking("Follow-up", at(3, 9), at(3, 10), &[&sara_id]),
    )
    .await;
    assert!(refused["appointment"].is_null(), "{refused}");
    assert_eq!(refused["userErrors"][0]["code"], "CLASH");
    assert_eq!(refused["conflicts"][0]["reason"], "COMMITMENT");
    assert_eq!(mine(&app, &sara).await.len(), 0);

    // With a written reason, staff may book anyway; the deviation is kept.
    let mut forced = booking("Follow-up", at(3, 9), at(3, 10), &[&sara_id]);
    forced["overrideReason"] = json!("Only time the interpreter can come");
    let booked = schedule(&app, &anna, forced).await;
    assert_eq!(booked["appointment"]["status"], "BOOKED", "{booked}");
    assert_eq!(
        booked["appointment"]["overrideReason"],
        "Only time the interpreter can come"
    );

    // A free time books directly; Sara sees both, with everyone's answers.
    let free = schedule(
        &app,
        &anna,
        booking("Home visit", at(4, 14), at(4, 15), &[&sara_id]),
    )
    .await;
    assert!(free["userErrors"].as_array().unwrap().is_empty(), "{free}");
    let list = mine(&app, &sara).await;
    assert_eq!(list.len(), 2);
    let visit = list.iter().find(|a| a["title"] == "Home visit").unwrap();
    let answers: Vec<(String, String)> = visit["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["user"]["displayName"].as_str().unwrap().to_owned(),
                p["response"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(answers.contains(&("Anna Berg".into(), "ACCEPTED".into())));
    assert!(answers.contains(&("Sara Nilsson".into(), "PENDING".into())));

    // The booked time now clashes, and Anna may see which appointment it is.
    let again = app
        .graphql_as(
            &anna,
            CHECK,
            json!({ "input": proposal(at(4, 14), at(4, 15), &[&sara_id]) }),
        )
        .await;
    let conflicts = again["data"]["checkAvailability"]["availability"]["conflicts"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        conflicts
            .iter()
            .any(|c| c["reason"] == "APPOINTMENT" && c["detail"] == "Home visit"),
        "{again}"
    );
    // Sara's own view of her commitment shows its details.
    let own = app
        .graphql_as(&sara, "{ myCommitments { title category } }", json!({}))
        .await;
    assert_eq!(
        own["data"]["myCommitments"],
        json!([{ "title": "BUP visit", "category": "child psychiatry" }])
    );
    app.stop().await;
}

async fn a_weekly_commitment_keeps_its_local_time_across_daylight_saving_and_skips_exceptions(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let elias = app.login(ELIAS).await;
    let elias_id = id_of(&app, &elias).await;
    // School 08:15–14:30 Stockholm time, Monday to Friday, from Monday
    // 4 January 2027 (CET, UTC+1) to the summer; no school on 26 March 2027.
    let school = app
        .graphql_as(
            &elias,
            "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) {
                commitment { weekdays repeatUntil exceptDates timeZone } userErrors { code field } } }",
            json!({ "input": { "title": "School", "startsAt": "2027-01-04T07:15:00Z", "endsAt": "2027-01-04T13:30:00Z",
                "weekdays": ["MON", "TUE", "WED", "THU", "FRI"], "repeatUntil": "2027-06-11",
                "exceptDates": ["2027-03-26"], "timeZone": "Europe/Stockholm" } }),
        )
        .await;
    assert_eq!(
        school["data"]["createCommitment"]["commitment"],
        json!({ "weekdays": ["MON", "TUE", "WED", "THU", "FRI"], "repeatUntil": "2027-06-11",
                "exceptDates": ["2027-03-26"], "timeZone": "Europe/Stockholm" }),
        "{school}"
    );
    let free = |start: &str, end: &str| {
        let app = &app;
        let anna = anna.clone();
        let elias_id = elias_id.clone();
        let (start, end) = (start.to_owned(), end.to_owned());
        async move {
            let body = app
                .graphql_as(
                    &anna,
                    CHECK,
                    json!({ "input": { "caseId": nilsson_case(), "startsAt": start, "endsAt": end,
                        "participants": [{ "userId": elias_id }] } }),
                )
                .await;
            body["data"]["checkAvailability"]["availability"]["free"]
                .as_bool()
                .unwrap_or_else(|| panic!("{body}"))
        }
    };
    // Winter (UTC+1): school ends 13:30 UTC.
    assert!(!free("2027-02-02T13:00:00Z", "2027-02-02T13:30:00Z").await);
    assert!(free("2027-02-02T13:30:00Z", "2027-02-02T14:30:00Z").await);
    // After the spring change (UTC+2) it ends at 14:30 local = 12:30 UTC.
    assert!(free("2027-04-06T12:30:00Z", "2027-04-06T13:30:00Z").await);
    assert!(!free("2027-04-06T12:00:00Z", "2027-04-06T12:45:00Z").await);
    // The exception day, a Friday, is free; the Thursday before is not.
    assert!(free("2027-03-26T09:00:00Z", "2027-03-26T10:00:00Z").await);
    assert!(!free("2027-03-25T09:00:00Z", "2027-03-25T10:00:00Z").await);
    // Weekends and after the series ends are free.
    assert!(free("2027-02-06T09:00:00Z", "2027-02-06T10:00:00Z").await);
    assert!(free("2027-06-14T08:00:00Z", "2027-06-14T09:00:00Z").await);
    app.stop().await;
}

async fn answers_need_a_reason_to_decline_and_a_late_decline_is_marked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    open_every_day(&app).await;
    let soon_start = Utc::now() + Duration::hours(3);
    let soon = schedule(
        &app,
        &anna,
        booking(
            "Soon",
            soon_start,
            soon_start + Duration::hours(1),
            &[&sara_id],
        ),
    )
    .await;
    let soon_id = soon["appointment"]["id"].clone();
    assert!(soon_id.is_string(), "{soon}");

    let no_reason = app
        .graphql_as(
            &sara,
            RESPOND,
            json!({ "input": { "appointmentId": soon_id, "reply": "DECLINE" } }),
        )
        .await;
    assert_eq!(
        no_reason["data"]["respondToAppointment"]["userErrors"][0]["field"],
        json!(["input", "reason"])
    );
    let counter = (Utc::now() + Duration::days(2))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    let declined = app
        .graphql_as(
            &sara,
            RESPOND,
            json!({ "input": { "appointmentId": soon_id, "reply": "DECLINE", "reason": "Ill child",
                "proposedStartsAt": counter.to_rfc3339(), "proposedEndsAt": (counter + Duration::hours(1)).to_rfc3339() } }),
        )
        .await;
    let participants = declined["data"]["respondToAppointment"]["appointment"]["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("{declined}"))
        .clone();
    let saras = participants
        .iter()
        .find(|p| p["user"]["displayName"] == "Sara Nilsson")
        .unwrap();
    assert_eq!(saras["response"], "DECLINED");
    assert_eq!(saras["reason"], "Ill child");
    assert_eq!(saras["lateDecline"], true, "within the 24-hour notice");
    assert!(saras["proposedStartsAt"].is_string());

    // In good time: accepting, then declining is not late.
    let later = schedule(
        &app,
        &anna,
        booking("Later", at(5, 10), at(5, 11), &[&sara_id]),
    )
    .await;
    let later_id = later["appointment"]["id"].clone();
    let accepted = app
        .graphql_as(
            &sara,
            RESPOND,
            json!({ "input": { "appointmentId": later_id, "reply": "ACCEPT" } }),
        )
        .await;
    assert!(
        accepted["data"]["respondToAppointment"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let declined = app
        .graphql_as(
            &sara,
            RESPOND,
            json!({ "input": { "appointmentId": later_id, "reply": "DECLINE", "reason": "Work" } }),
        )
        .await;
    let saras = declined["data"]["respondToAppointment"]["appointment"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"]["displayName"] == "Sara Nilsson")
        .unwrap()
        .clone();
    assert_eq!(saras["lateDecline"], false);

    // Cancelling needs a reason; a cancelled appointment is not busy any more.
    const CANCEL: &str =
        "mutation($input: CancelAppointmentInput!) { cancelAppointment(input: $input) {
        appointment { status } userErrors { code field } } }";
    let blank = app
        .graphql_as(
            &anna,
            CANCEL,
            json!({ "input": { "appointmentId": later_id, "reason": " " } }),
        )
        .await;
    assert_eq!(
        blank["data"]["cancelAppointment"]["userErrors"][0]["code"],
        "REQUIRED"
    );
    let cancelled = app
        .graphql_as(
            &anna,
            CANCEL,
            json!({ "input": { "appointmentId": later_id, "reason": "Family moved the date" } }),
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelAppointment"]["appointment"]["status"],
        "CANCELLED"
    );
    let by_family = app
        .graphql_as(
            &sara,
            CANCEL,
            json!({ "input": { "appointmentId": soon_id, "reason": "x" } }),
        )
        .await;
    assert_eq!(first_error_code(&by_family), Some("FORBIDDEN"));
    app.stop().await;
}

async fn bad_input_is_a_clear_user_error_and_books_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    let ali = app.login("guardian2@exempelby.example").await;
    let ali_id = id_of(&app, &ali).await;
    let start = at(6, 10);
    let cases = [
        (
            "end before start",
            booking("x", start, start - Duration::hours(1), &[&sara_id]),
            "endsAt",
        ),
        (
            "zero duration",
            booking("x", start, start, &[&sara_id]),
            "endsAt",
        ),
        (
            "over 24 hours",
            booking("x", start, start + Duration::hours(25), &[&sara_id]),
            "endsAt",
        ),
        (
            "in the past",
            booking("x", at(-2, 10), at(-2, 11), &[&sara_id]),
            "startsAt",
        ),
        (
            "a participant not on the case",
            booking("x", start, start + Duration::hours(1), &[&ali_id]),
            "participants",
        ),
        (
            "no title",
            booking(" ", start, start + Duration::hours(1), &[&sara_id]),
            "title",
        ),
    ];
    for (what, input, field) in cases {
        let payload = schedule(&app, &anna, input).await;
        assert!(payload["appointment"].is_null(), "{what}: {payload}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", field]),
            "{what}: {payload}"
        );
        assert!(payload["userErrors"][0]["message"].as_str().unwrap().len() > 5);
    }
    assert_eq!(mine(&app, &sara).await.len(), 0, "nothing was booked");
    let range = app
        .graphql_as(
            &sara,
            MINE,
            json!({ "from": Utc::now().to_rfc3339(), "to": (Utc::now() - Duration::days(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(first_error_code(&range), Some("BAD_USER_INPUT"));
    let commitment = app
        .graphql_as(
            &sara,
            "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) { userErrors { code field } } }",
            json!({ "input": { "title": "Work", "startsAt": start.to_rfc3339(), "endsAt": start.to_rfc3339() } }),
        )
        .await;
    assert_eq!(
        commitment["data"]["createCommitment"]["userErrors"][0]["field"],
        json!(["input", "endsAt"])
    );
    app.stop().await;
}

async fn two_bookings_racing_for_the_same_people_cannot_both_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let johan = app.login("partner@exempelby.example").await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    let start = at(7, 12);
    let attempts = (0..8).map(|n| {
        let token = if n % 2 == 0 {
            anna.clone()
        } else {
            johan.clone()
        };
        let input = booking(
            &format!("Race {n}"),
            start,
            start + Duration::hours(1),
            &[&sara_id],
        );
        let app = &app;
        async move { schedule(app, &token, input).await }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let booked = outcomes
        .iter()
        .filter(|o| o["appointment"].is_object())
        .count();
    let clashed = outcomes
        .iter()
        .filter(|o| o["userErrors"][0]["code"] == "CLASH")
        .count();
    assert_eq!((booked, clashed), (1, 7), "{outcomes:?}");
    assert_eq!(mine(&app, &sara).await.len(), 1);
    app.stop().await;
}

/// Every relation to the Nilsson case: who may check times, book, list the
/// case's appointments, cancel and answer; commitments are their owner's.
async fn scheduling_follows_the_viewers_relation_to_the_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    let booked = schedule(
        &app,
        &anna,
        booking("Matrix", at(8, 9), at(8, 10), &[&sara_id]),
    )
    .await;
    let appointment = booked["appointment"]["id"].clone();
    let saras_commitment = app
        .graphql_as(
            &sara,
            "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) { commitment { id } } }",
            json!({ "input": { "title": "Work", "startsAt": at(9, 8).to_rfc3339(), "endsAt": at(9, 16).to_rfc3339() } }),
        )
        .await["data"]["createCommitment"]["commitment"]["id"]
        .clone();
    // (who, relation, staff on the case, sees the case's appointments, invited)
    let rows: &[(&str, &str, bool, bool, bool)] = &[
        (ANNA, "primary caseworker", true, true, true),
        (
            "partner@exempelby.example",
            "partner caseworker",
            true,
            true,
            false,
        ),
        (
            "therapist@exempelby.example",
            "family therapist",
            true,
            true,
            false,
        ),
        (
            "teamlead@exempelby.example",
            "team lead of the team",
            true,
            true,
            false,
        ),
        (
            "teamlead2@exempelby.example",
            "team lead of another team",
            false,
            false,
            false,
        ),
        (
            "caseworker2@exempelby.example",
            "caseworker not on the case",
            false,
            false,
            false,
        ),
        (SARA, "guardian of the case", false, true, true),
        (
            "guardian2@exempelby.example",
            "guardian of another case",
            false,
            false,
            false,
        ),
        (ELIAS, "young person", false, true, false),
        (
            "network@exempelby.example",
            "network member",
            false,
            false,
            false,
        ),
        (
            "teacher@exempelby.example",
            "school with APPOINTMENTS consent",
            false,
            true,
            false,
        ),
        (
            "bup@exempelby.example",
            "child psychiatry with APPOINTMENTS consent",
            false,
            true,
            false,
        ),
        ("admin@exempelby.example", "admin", false, false, false),
        (
            "caseworker@grannby.example",
            "caseworker of another tenant",
            false,
            false,
            false,
        ),
    ];
    for (email, relation, staff, sees, invited) in rows {
        let token = app.login(email).await;
        let row = |what: &str| format!("{relation} ({email}): {what}");
        // Probes with bad input: allowed → a user error, refused → an error.
        let check = app
            .graphql_as(
                &token,
                CHECK,
                json!({ "input": proposal(at(3, 10), at(3, 9), &[&sara_id]) }),
            )
            .await;
        let sched = schedule(&app, &token, booking("x", at(3, 10), at(3, 9), &[&sara_id])).await;
        let cancel = app
            .graphql_as(&token, "mutation($input: CancelAppointmentInput!) { cancelAppointment(input: $input) { userErrors { code } } }",
                json!({ "input": { "appointmentId": appointment, "reason": "" } }))
            .await;
        let listed = app
            .graphql_as(&token, "query($c: ID!, $f: DateTime!, $t: DateTime!) { appointments(caseId: $c, from: $f, to: $t) { id } }",
                json!({ "c": nilsson_case(), "f": Utc::now().to_rfc3339(), "t": (Utc::now() + Duration::days(30)).to_rfc3339() }))
            .await;
        let respond = app
            .graphql_as(
                &token,
                RESPOND,
                json!({ "input": { "appointmentId": appointment, "reply": "DECLINE" } }),
            )
            .await;
        let node = app
            .graphql_as(
                &token,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": appointment }),
            )
            .await;
        let attended = app
            .graphql_as(
                &token,
                "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { userErrors { code } } }",
                json!({ "input": { "appointmentId": appointment, "attendance": [] } }),
            )
            .await;
        let deviations = app
            .graphql_as(
                &token,
                "{ deviations(first: 5) { edges { cursor } } }",
                json!({}),
            )
            .await;
        let team_lead = email.starts_with("teamlead");
        assert_eq!(
            deviations["data"]["deviations"].is_object(),
            team_lead,
            "{}",
            row(&format!("deviations {deviations}"))
        );
        let moved = app
            .graphql_as(
                &token,
                "mutation($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input) { userErrors { code } } }",
                json!({ "input": { "appointmentId": appointment } }),
            )
            .await;
        let suggest = app
            .graphql_as(
                &token,
                SUGGEST,
                json!({ "input": { "caseId": nilsson_case(),
                    "participants": [{ "userId": sara_id }], "durationMinutes": 0,
                    "from": at(3, 8).to_rfc3339(), "to": at(3, 18).to_rfc3339() } }),
            )
            .await;
        let commitment = app
            .graphql_as(
                &token,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": saras_commitment }),
            )
            .await;
        // The planning calendar, probed with a window that is too long.
        let planning = app
            .graphql_as(
                &token,
                "query($input: CalendarInput!) { calendar(input: $input) { userErrors { code } } }",
                json!({ "input": { "caseId": nilsson_case(), "participants": [sara_id],
                    "from": at(3, 8).to_rfc3339(), "to": at(60, 8).to_rfc3339() } }),
            )
            .await;
        if *staff {
            assert_eq!(
                planning["data"]["calendar"]["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row(&format!("calendar {planning}"))
            );
        } else {
            assert!(
                matches!(first_error_code(&planning), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("calendar {planning}"))
            );
        }
        if *staff {
            assert_eq!(
                check["data"]["checkAvailability"]["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row(&format!("check {check}"))
            );
            assert_eq!(
                sched["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row("schedule")
            );
            assert_eq!(
                cancel["data"]["cancelAppointment"]["userErrors"][0]["code"],
                "REQUIRED",
                "{}",
                row("cancel")
            );
            assert_eq!(
                attended["data"]["recordAttendance"]["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row(&format!("attendance {attended}"))
            );
            assert_eq!(
                moved["data"]["rescheduleAppointment"]["userErrors"][0]["code"],
                "EXACTLY_ONE_REQUIRED",
                "{}",
                row(&format!("reschedule {moved}"))
            );
            assert_eq!(
                suggest["data"]["suggestSlots"]["userErrors"][0]["code"],
                "INVALID_VALUE",
                "{}",
                row(&format!("suggest {suggest}"))
            );
        } else {
            assert!(
                matches!(first_error_code(&attended), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("attendance {attended}"))
            );
            assert!(
                matches!(first_error_code(&moved), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("reschedule {moved}"))
            );
            assert!(
                matches!(first_error_code(&suggest), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("suggest {suggest}"))
            );
            assert!(
                matches!(first_error_code(&check), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("check {check}"))
            );
            assert!(sched.is_null(), "{}", row("schedule"));
            assert!(
                matches!(first_error_code(&cancel), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("cancel {cancel}"))
            );
        }
        if *sees {
            assert_eq!(
                listed["data"]["appointments"][0]["id"],
                appointment,
                "{}",
                row(&format!("list {listed}"))
            );
        } else {
            assert!(
                matches!(first_error_code(&listed), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("list {listed}"))
            );
        }
        assert_eq!(
            node["data"]["node"].is_object(),
            *sees,
            "{}",
            row(&format!("node {node}"))
        );
        if *invited {
            assert_eq!(
                respond["data"]["respondToAppointment"]["userErrors"][0]["code"],
                "REQUIRED",
                "{}",
                row(&format!("respond {respond}"))
            );
        } else {
            assert!(
                matches!(first_error_code(&respond), Some("FORBIDDEN" | "NOT_FOUND")),
                "{}",
                row(&format!("respond {respond}"))
            );
        }
        assert_eq!(
            commitment["data"]["node"].is_object(),
            *email == SARA,
            "{}",
            row("Sara's commitment")
        );
    }
    app.stop().await;
}

const SUGGEST: &str = "query($input: SuggestSlotsInput!) { suggestSlots(input: $input) {
    slots { startsAt endsAt optionalParticipantsFree inPreferredTime }
    obstacles { participantId shareOfWindow } userErrors { code field } } }";

async fn commit(app: &TestApp, token: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
    let body = app
        .graphql_as(
            token,
            "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) { userErrors { code } } }",
            json!({ "input": { "title": "Busy", "startsAt": start.to_rfc3339(), "endsAt": end.to_rfc3339() } }),
        )
        .await;
    assert_eq!(
        body["data"]["createCommitment"]["userErrors"],
        json!([]),
        "{body}"
    );
}

async fn suggested_times_fit_everyone_required_and_say_who_blocks_when_none_do(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let elias = app.login(ELIAS).await;
    let sara_id = id_of(&app, &sara).await;
    let elias_id = id_of(&app, &elias).await;
    // In ten days: Elias at school 07–13 UTC, Sara busy 13–15 UTC.
    commit(&app, &elias, at(10, 7), at(10, 13)).await;
    commit(&app, &sara, at(10, 13), at(10, 15)).await;
    let input = json!({
        "caseId": nilsson_case(),
        "participants": [{ "userId": sara_id }, { "userId": elias_id, "required": false }],
        "durationMinutes": 60, "from": at(10, 6).to_rfc3339(), "to": at(10, 18).to_rfc3339(),
        "count": 3, "preferred": [{ "startsAt": at(10, 15).to_rfc3339(), "endsAt": at(10, 18).to_rfc3339() }],
    });
    let body = app
        .graphql_as(&anna, SUGGEST, json!({ "input": input }))
        .await;
    let slots = body["data"]["suggestSlots"]["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert_eq!(slots.len(), 3, "{body}");
    let first = &slots[0];
    assert_eq!(
        DateTime::parse_from_rfc3339(first["startsAt"].as_str().unwrap()).unwrap(),
        at(10, 15),
        "Elias can come and it is the family's preferred time: {body}"
    );
    assert_eq!(first["optionalParticipantsFree"], json!([elias_id]));
    assert_eq!(first["inPreferredTime"], true);
    for slot in &slots {
        let start = DateTime::parse_from_rfc3339(slot["startsAt"].as_str().unwrap()).unwrap();
        let start = start.with_timezone(&Utc);
        assert!(
            !(start < at(10, 15) && start + Duration::hours(1) > at(10, 13)),
            "never while Sara is busy: {slot}"
        );
    }

    // Sara busy all day: nothing fits, and she is named.
    commit(&app, &sara, at(10, 5), at(10, 19)).await;
    let body = app
        .graphql_as(&anna, SUGGEST, json!({ "input": input }))
        .await;
    let payload = &body["data"]["suggestSlots"];
    assert_eq!(payload["slots"], json!([]), "{body}");
    assert_eq!(payload["obstacles"][0]["participantId"], sara_id);
    assert_eq!(payload["obstacles"][0]["shareOfWindow"], 1.0);

    // Bad input.
    let mut zero = input.clone();
    zero["durationMinutes"] = json!(0);
    let body = app
        .graphql_as(&anna, SUGGEST, json!({ "input": zero }))
        .await;
    assert_eq!(
        body["data"]["suggestSlots"]["userErrors"][0]["field"],
        json!(["input", "durationMinutes"])
    );
    let mut past = input.clone();
    past["from"] = json!(at(-3, 8).to_rfc3339());
    past["to"] = json!(at(-3, 18).to_rfc3339());
    let body = app
        .graphql_as(&anna, SUGGEST, json!({ "input": past }))
        .await;
    assert_eq!(
        body["data"]["suggestSlots"]["userErrors"][0]["field"],
        json!(["input", "to"])
    );
    let by_family = app
        .graphql_as(&sara, SUGGEST, json!({ "input": input }))
        .await;
    assert_eq!(first_error_code(&by_family), Some("FORBIDDEN"));
    app.stop().await;
}

async fn the_demo_family_has_school_hours_and_a_week_of_appointments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ali = app.login("guardian2@exempelby.example").await;
    let week = mine(&app, &ali).await;
    assert_eq!(week.len(), 5, "{week:?}");
    let own = app
        .graphql_as(
            &ali,
            "{ myCommitments { title category weekdays } }",
            json!({}),
        )
        .await;
    assert!(
        own["data"]["myCommitments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["category"] == "school"
                && c["weekdays"] == json!(["MON", "TUE", "WED", "THU", "FRI"])),
        "{own}"
    );
    // Johan (primary caseworker) sees the school day as busy, not what it is.
    let johan = app.login("partner@exempelby.example").await;
    let ali_id = id_of(&app, &ali).await;
    let hassan_case = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0001),
    );
    // Next Monday to Friday at 10:00 Stockholm time: school.
    let mut found_school = false;
    for days in 1..=7 {
        let start = at(days, 9);
        let body = app
            .graphql_as(
                &johan,
                CHECK,
                json!({ "input": { "caseId": hassan_case, "startsAt": start.to_rfc3339(),
                    "endsAt": (start + Duration::minutes(30)).to_rfc3339(),
                    "participants": [{ "userId": ali_id }] } }),
            )
            .await;
        let conflicts = body["data"]["checkAvailability"]["availability"]["conflicts"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .clone();
        for conflict in conflicts {
            assert!(conflict["detail"].is_null(), "private: {conflict}");
            found_school |= conflict["reason"] == "COMMITMENT";
        }
    }
    assert!(found_school, "school days are busy");
    app.stop().await;
}

async fn appointment_notifications(app: &TestApp, token: &str, appointment: &Value) -> Vec<String> {
    let body = app
        .graphql_as(
            token,
            "{ notifications(first: 50) { edges { node { kind title appointmentId } } } }",
            json!({}),
        )
        .await;
    body["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|e| e["node"]["appointmentId"] == *appointment)
        .map(|e| e["node"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn invitations_answers_and_cancellations_reach_the_people_concerned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;

    // Sara's phone listens to her stream.
    let mut phone = app.websocket("graphql-transport-ws").await;
    phone
        .send(json!({ "type": "connection_init", "payload": { "accessToken": sara } }))
        .await;
    assert_eq!(phone.next().await.unwrap()["type"], "connection_ack");
    phone
        .send(json!({ "id": "e", "type": "subscribe", "payload": {
            "query": "subscription { viewerEvents { kind appointmentId actor { displayName } } }" } }))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let booked = schedule(
        &app,
        &anna,
        booking("Follow-up", at(6, 9), at(6, 10), &[&sara_id]),
    )
    .await;
    let appointment = booked["appointment"]["id"].clone();
    let live = phone.next().await.unwrap();
    assert_eq!(
        live["payload"]["data"]["viewerEvents"],
        json!({ "kind": "APPOINTMENT_INVITED", "appointmentId": appointment,
                "actor": { "displayName": "Anna Berg" } }),
        "{live}"
    );
    assert_eq!(
        appointment_notifications(&app, &sara, &appointment).await,
        vec!["APPOINTMENT_INVITED"]
    );

    app.graphql_as(
        &sara,
        RESPOND,
        json!({ "input": { "appointmentId": appointment, "reply": "DECLINE", "reason": "Work" } }),
    )
    .await;
    assert_eq!(
        appointment_notifications(&app, &anna, &appointment).await,
        vec!["APPOINTMENT_ANSWERED"]
    );
    app.graphql_as(
        &anna,
        "mutation($input: CancelAppointmentInput!) { cancelAppointment(input: $input) { userErrors { code } } }",
        json!({ "input": { "appointmentId": appointment, "reason": "Sara cannot come" } }),
    )
    .await;
    let kinds = appointment_notifications(&app, &sara, &appointment).await;
    assert_eq!(
        kinds,
        vec!["APPOINTMENT_CANCELLED", "APPOINTMENT_INVITED"],
        "newest first"
    );
    app.stop().await;
}

async fn moving_an_appointment_checks_everyone_again_and_asks_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    const MOVE: &str =
        "mutation($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input) {
        appointment { startsAt participants { user { displayName } response } }
        conflicts { reason } userErrors { code field } } }";
    let booked = schedule(
        &app,
        &anna,
        booking("Follow-up", at(6, 9), at(6, 10), &[&sara_id]),
    )
    .await;
    let appointment = booked["appointment"]["id"].clone();
    // Sara declines and proposes the day after at 14.
    let counter = at(7, 14);
    app.graphql_as(
        &sara,
        RESPOND,
        json!({ "input": { "appointmentId": appointment, "reply": "DECLINE", "reason": "Work",
            "proposedStartsAt": counter.to_rfc3339(), "proposedEndsAt": (counter + Duration::hours(1)).to_rfc3339() } }),
    )
    .await;
    // Sara has something else at 16 that day.
    commit(&app, &sara, at(7, 16), at(7, 17)).await;
    let clash = app
        .graphql_as(
            &anna,
            MOVE,
            json!({ "input": { "appointmentId": appointment,
            "startsAt": at(7, 16).to_rfc3339(), "endsAt": at(7, 17).to_rfc3339() } }),
        )
        .await;
    assert_eq!(
        clash["data"]["rescheduleAppointment"]["userErrors"][0]["code"], "CLASH",
        "{clash}"
    );
    // Sara's commitment is among the conflicts (Anna, who organises, may
    // have a demo meeting then too, depending on the weekday of the run).
    assert!(
        clash["data"]["rescheduleAppointment"]["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["reason"] == "COMMITMENT"),
        "{clash}"
    );

    // Taking Sara's counter-proposal with one mutation; everyone is asked again.
    let moved = app
        .graphql_as(
            &anna,
            MOVE,
            json!({ "input": { "appointmentId": appointment, "counterProposalOf": sara_id } }),
        )
        .await;
    let payload = &moved["data"]["rescheduleAppointment"];
    assert_eq!(payload["userErrors"], json!([]), "{moved}");
    assert_eq!(
        DateTime::parse_from_rfc3339(payload["appointment"]["startsAt"].as_str().unwrap()).unwrap(),
        counter
    );
    let saras = payload["appointment"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"]["displayName"] == "Sara Nilsson")
        .unwrap()
        .clone();
    assert_eq!(saras["response"], "PENDING");
    // The old time is free again, the new one is busy.
    let old = app
        .graphql_as(
            &anna,
            CHECK,
            json!({ "input": proposal(at(6, 9), at(6, 10), &[&sara_id]) }),
        )
        .await;
    assert_eq!(
        old["data"]["checkAvailability"]["availability"]["free"], true,
        "{old}"
    );
    // Neither both a time and a counter-proposal, nor a participant without one.
    let both = app
        .graphql_as(
            &anna,
            MOVE,
            json!({ "input": { "appointmentId": appointment, "counterProposalOf": sara_id,
            "startsAt": at(8, 9).to_rfc3339(), "endsAt": at(8, 10).to_rfc3339() } }),
        )
        .await;
    assert_eq!(
        both["data"]["rescheduleAppointment"]["userErrors"][0]["code"],
        "EXACTLY_ONE_REQUIRED"
    );
    let none = app
        .graphql_as(
            &anna,
            MOVE,
            json!({ "input": { "appointmentId": appointment, "counterProposalOf": sara_id } }),
        )
        .await;
    assert_eq!(
        none["data"]["rescheduleAppointment"]["userErrors"][0]["field"],
        json!(["input", "counterProposalOf"]),
        "the answer was reset, the counter-proposal with it: {none}"
    );
    let by_family = app
        .graphql_as(
            &sara,
            MOVE,
            json!({ "input": { "appointmentId": appointment,
            "startsAt": at(8, 9).to_rfc3339(), "endsAt": at(8, 10).to_rfc3339() } }),
        )
        .await;
    assert_eq!(first_error_code(&by_family), Some("FORBIDDEN"));
    app.stop().await;
}

/// The uuid inside a global id.
fn uuid_of(id: &Value) -> uuid::Uuid {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

async fn attendance_and_deviations_are_followed_up_by_the_team_lead(backend: Backend) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let maria = app.login("teamlead@exempelby.example").await;
    let sara_id = id_of(&app, &sara).await;
    const ATTEND: &str = "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
        appointment { status participants { user { displayName } attendance } } userErrors { code field } } }";

    // An override: Sara is busy, Anna books anyway with a reason.
    commit(&app, &sara, at(6, 9), at(6, 10)).await;
    let mut forced = booking("Forced", at(6, 9), at(6, 10), &[&sara_id]);
    forced["overrideReason"] = json!("The only day the interpreter can");
    assert!(schedule(&app, &anna, forced).await["appointment"].is_object());
    // A late decline.
    open_every_day(&app).await;
    let soon_start = Utc::now() + Duration::hours(2);
    let soon = schedule(
        &app,
        &anna,
        booking(
            "Soon",
            soon_start,
            soon_start + Duration::hours(1),
            &[&sara_id],
        ),
    )
    .await;
    app.graphql_as(&sara, RESPOND, json!({ "input": { "appointmentId": soon["appointment"]["id"], "reply": "DECLINE", "reason": "Sick" } }))
        .await;
    // A meeting that has ended, with a no-show.
    let held = schedule(
        &app,
        &anna,
        booking("Held", at(2, 9), at(2, 10), &[&sara_id]),
    )
    .await;
    let held_id = held["appointment"]["id"].clone();
    let attendance = json!({ "input": { "appointmentId": held_id, "attendance": [
        { "userId": sara_id, "attendance": "NO_SHOW" },
        { "userId": id_of(&app, &anna).await, "attendance": "ATTENDED" } ] } });
    let early = app.graphql_as(&anna, ATTEND, attendance.clone()).await;
    assert_eq!(
        early["data"]["recordAttendance"]["userErrors"][0]["code"], "INVALID_VALUE",
        "not before the end: {early}"
    );
    // Time passes: the meeting was yesterday.
    entity::appointment::Entity::update_many()
        .col_expr(
            entity::appointment::Column::StartsAt,
            Expr::value(Utc::now() - Duration::hours(26)),
        )
        .col_expr(
            entity::appointment::Column::EndsAt,
            Expr::value(Utc::now() - Duration::hours(25)),
        )
        .filter(entity::appointment::Column::Id.eq(uuid_of(&held_id)))
        .exec(&app.db)
        .await
        .unwrap();
    let recorded = app.graphql_as(&anna, ATTEND, attendance).await;
    let appointment = &recorded["data"]["recordAttendance"]["appointment"];
    assert_eq!(appointment["status"], "FULFILLED", "{recorded}");
    assert!(
        appointment["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["user"]["displayName"] == "Sara Nilsson" && p["attendance"] == "NO_SHOW")
    );

    const DEVIATIONS: &str =
        "query($filter: DeviationFilterInput) { deviations(first: 20, filter: $filter) {
        edges { node { kind reason user { displayName } appointmentId } } } }";
    let all = app.graphql_as(&maria, DEVIATIONS, json!({})).await;
    let mut kinds: Vec<String> = all["data"]["deviations"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{all}"))
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec!["CLASH_OVERRIDE", "LATE_DECLINE", "NO_SHOW"],
        "{all}"
    );
    let no_shows = app
        .graphql_as(
            &maria,
            DEVIATIONS,
            json!({ "filter": { "kind": "NO_SHOW" } }),
        )
        .await;
    assert_eq!(
        no_shows["data"]["deviations"]["edges"],
        json!([{ "node": { "kind": "NO_SHOW", "reason": null, "user": { "displayName": "Sara Nilsson" },
                           "appointmentId": held_id } }])
    );
    // Only team leads follow deviations up; only staff on the case record attendance.
    for token in [&anna, &sara] {
        let refused = app.graphql_as(token, DEVIATIONS, json!({})).await;
        assert_eq!(first_error_code(&refused), Some("FORBIDDEN"));
    }
    let by_family = app
        .graphql_as(
            &sara,
            ATTEND,
            json!({ "input": { "appointmentId": held_id, "attendance": [] } }),
        )
        .await;
    assert_eq!(first_error_code(&by_family), Some("FORBIDDEN"));
    app.stop().await;
}

async fn a_booked_follow_up_or_coordination_meeting_shows_against_its_deadline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    const CASE: &str = "query($id: ID!) { case(id: $id) { nextFollowUpDue
        followUpMeeting { appointmentId status startsAt dueOn inTime }
        coordinatedPlan { coordinationMeetingDue coordinationMeeting { status dueOn inTime } } } }";
    let read = || async {
        app.graphql_as(&anna, CASE, json!({ "id": nilsson_case() }))
            .await["data"]["case"]
            .clone()
    };
    let case = read().await;
    assert!(case["followUpMeeting"].is_null(), "{case}");
    let due =
        chrono::NaiveDate::parse_from_str(case["nextFollowUpDue"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();

    // A follow-up meeting before the due date is in time.
    let early = schedule(
        &app,
        &anna,
        booking("Follow-up", at(3, 9), at(3, 10), &[&sara_id]),
    )
    .await;
    let early_id = early["appointment"]["id"].clone();
    let case = read().await;
    assert_eq!(case["followUpMeeting"]["appointmentId"], early_id, "{case}");
    assert_eq!(case["followUpMeeting"]["status"], "BOOKED");
    assert_eq!(case["followUpMeeting"]["dueOn"], case["nextFollowUpDue"]);
    assert_eq!(
        case["followUpMeeting"]["inTime"],
        json!(at(3, 9).date_naive() <= due)
    );
    // followUpsDue shows it too.
    let listed = app
        .graphql_as(
            &anna,
            "query($b: Date!) { followUpsDue(before: $b) { id followUpMeeting { inTime } } }",
            json!({ "b": (due + Duration::days(1)).to_string() }),
        )
        .await;
    let nilsson = listed["data"]["followUpsDue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == nilsson_case())
        .cloned()
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(
        nilsson["followUpMeeting"]["inTime"].is_boolean(),
        "{nilsson}"
    );

    // Only one after the due date: not in time.
    let mut late = booking(
        "Late follow-up",
        at(0, 9) + Duration::days((due - Utc::now().date_naive()).num_days() + 3),
        at(0, 10) + Duration::days((due - Utc::now().date_naive()).num_days() + 3),
        &[&sara_id],
    );
    late["overrideReason"] = json!("Whatever the calendar says");
    assert!(schedule(&app, &anna, late).await["appointment"]["id"].is_string());
    app.graphql_as(&anna, "mutation($input: CancelAppointmentInput!) { cancelAppointment(input: $input) { userErrors { code } } }",
        json!({ "input": { "appointmentId": early_id, "reason": "Moved" } }))
        .await;
    let case = read().await;
    assert_eq!(case["followUpMeeting"]["inTime"], false, "{case}");

    // A SIP started today: its coordination meeting (Fridays) within 21 days is in time.
    let school = global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0002),
    );
    let started = app
        .graphql_as(&anna, "mutation($input: StartCoordinatedPlanInput!) { startCoordinatedPlan(input: $input) { userErrors { code field } } }",
            json!({ "input": { "caseId": nilsson_case(), "initiatingOrganisationId": school } }))
        .await;
    assert_eq!(
        started["data"]["startCoordinatedPlan"]["userErrors"],
        json!([]),
        "{started}"
    );
    assert!(read().await["coordinatedPlan"]["coordinationMeeting"].is_null());
    let friday = (3..10)
        .map(|d| at(d, 9))
        .find(|t| t.weekday() == chrono::Weekday::Fri)
        .unwrap();
    let mut sip = booking("SIP", friday, friday + Duration::hours(1), &[&sara_id]);
    sip["kind"] = json!("COORDINATION_MEETING");
    let booked = schedule(&app, &anna, sip).await;
    assert!(booked["appointment"]["id"].is_string(), "{booked}");
    let plan = read().await["coordinatedPlan"].clone();
    assert_eq!(plan["coordinationMeeting"]["inTime"], true, "{plan}");
    assert_eq!(
        plan["coordinationMeeting"]["dueOn"],
        plan["coordinationMeetingDue"]
    );
    app.stop().await;
}

async fn the_planning_calendar_merges_everyones_busy_time_and_keeps_details_private(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let anna_id = id_of(&app, &anna).await;
    let sara_id = id_of(&app, &sara).await;
    const CALENDAR: &str = "query($input: CalendarInput!) { calendar(input: $input) {
        calendar { busy { participant { displayName } reason detail startsAt endsAt } mergedBusy { startsAt endsAt } }
        userErrors { code field } } }";
    // Sara is busy 08–10 (her own commitment); Anna books a follow-up 10–11.
    commit(&app, &sara, at(4, 8), at(4, 10)).await;
    let booked = schedule(
        &app,
        &anna,
        booking("Follow-up", at(4, 10), at(4, 11), &[&sara_id]),
    )
    .await;
    assert!(booked["appointment"]["id"].is_string(), "{booked}");
    let input = |people: Vec<&str>, days: i64| {
        json!({ "input": {
            "caseId": nilsson_case(), "participants": people,
            "from": at(4, 0).to_rfc3339(), "to": (at(4, 0) + Duration::days(days)).to_rfc3339(),
        } })
    };
    let body = app
        .graphql_as(&anna, CALENDAR, input(vec![&anna_id, &sara_id], 1))
        .await;
    let calendar = &body["data"]["calendar"]["calendar"];
    let busy = calendar["busy"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let commitment = busy.iter().find(|b| b["reason"] == "COMMITMENT").unwrap();
    assert_eq!(commitment["participant"]["displayName"], "Sara Nilsson");
    assert!(
        commitment["detail"].is_null(),
        "Sara's commitment is only busy to Anna"
    );
    let meetings: Vec<&Value> = busy
        .iter()
        .filter(|b| b["reason"] == "APPOINTMENT")
        .collect();
    assert_eq!(meetings.len(), 2, "Anna's and Sara's: {busy:?}");
    assert!(meetings.iter().all(|m| m["detail"] == "Follow-up"));
    // 08–10 and 10–11 touch: one merged period.
    let merged = calendar["mergedBusy"].as_array().unwrap();
    let (from, to) = (at(4, 8), at(4, 11));
    assert!(
        merged.iter().any(|p| {
            DateTime::parse_from_rfc3339(p["startsAt"].as_str().unwrap()).unwrap() == from
                && DateTime::parse_from_rfc3339(p["endsAt"].as_str().unwrap()).unwrap() == to
        }),
        "{merged:?}"
    );
    // The planning calendar is for staff on the case, not for families.
    let body = app
        .graphql_as(&sara, CALENDAR, input(vec![&sara_id], 1))
        .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    // Someone outside the case, or too long a window: user errors.
    let ali = app.login("guardian2@exempelby.example").await;
    let ali_id = id_of(&app, &ali).await;
    for (people, days, field) in [
        (vec![sara_id.as_str(), ali_id.as_str()], 1, "participants"),
        (vec![], 1, "participants"),
        (vec![sara_id.as_str()], 32, "to"),
    ] {
        let body = app.graphql_as(&anna, CALENDAR, input(people, days)).await;
        assert_eq!(
            body["data"]["calendar"]["userErrors"],
            json!([{ "code": "INVALID_VALUE", "field": ["input", field] }]),
            "{body}"
        );
    }
    // Another tenant's caseworker does not find the case.
    let grannby = app.login("caseworker@grannby.example").await;
    let body = app
        .graphql_as(&grannby, CALENDAR, input(vec![&sara_id], 1))
        .await;
    assert_eq!(first_error_code(&body), Some("NOT_FOUND"), "{body}");
    app.stop().await;
}

async fn a_proposed_time_is_booked_once_everyone_required_has_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let johan = app.login("partner@exempelby.example").await;
    let sara_id = id_of(&app, &sara).await;
    let johan_id = id_of(&app, &johan).await;
    let mut proposal = booking("Home visit", at(5, 13), at(5, 14), &[&sara_id]);
    proposal["participants"] =
        json!([{ "userId": sara_id }, { "userId": johan_id, "required": false }]);
    proposal["propose"] = json!(true);
    let proposed = schedule(&app, &anna, proposal).await;
    assert_eq!(proposed["appointment"]["status"], "PROPOSED", "{proposed}");
    let id = proposed["appointment"]["id"].clone();
    let status = || async {
        app.graphql_as(
            &anna,
            "query($id: ID!) { node(id: $id) { ... on Appointment { status } } }",
            json!({ "id": id }),
        )
        .await["data"]["node"]["status"]
            .clone()
    };
    // A proposed time already holds the people's time.
    let clash = schedule(
        &app,
        &anna,
        booking("Other", at(5, 13), at(5, 14), &[&sara_id]),
    )
    .await;
    assert_eq!(clash["userErrors"][0]["code"], "CLASH", "{clash}");
    // Moved, it is still only proposed.
    let moved = app
        .graphql_as(&anna, "mutation($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input) { userErrors { code } } }",
            json!({ "input": { "appointmentId": id, "startsAt": at(5, 14).to_rfc3339(), "endsAt": at(5, 15).to_rfc3339() } }))
        .await;
    assert_eq!(
        moved["data"]["rescheduleAppointment"]["userErrors"],
        json!([]),
        "{moved}"
    );
    assert_eq!(status().await, "PROPOSED");
    // The optional participant's acceptance does not book it; Sara's does.
    let accept = json!({ "input": { "appointmentId": id, "reply": "ACCEPT" } });
    app.graphql_as(&johan, RESPOND, accept.clone()).await;
    assert_eq!(status().await, "PROPOSED");
    let body = app.graphql_as(&sara, RESPOND, accept).await;
    assert_eq!(
        body["data"]["respondToAppointment"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(status().await, "BOOKED");
    // Johan hears that it is booked.
    let events = app
        .graphql_as(
            &johan,
            "{ notifications(first: 10) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    let kinds: Vec<&str> = events["data"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"APPOINTMENT_BOOKED"), "{events}");
    app.stop().await;
}

async fn a_reminder_goes_out_before_an_appointment_and_again_after_it_moves(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.appointment_reminder_poll_seconds = 1;
    })
    .await;
    open_every_day(&app).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = id_of(&app, &sara).await;
    let soon = (Utc::now() + Duration::hours(3))
        .with_nanosecond(0)
        .unwrap();
    let near = schedule(
        &app,
        &anna,
        booking("Soon", soon, soon + Duration::hours(1), &[&sara_id]),
    )
    .await;
    let near_id = near["appointment"]["id"].clone();
    let far = schedule(
        &app,
        &anna,
        booking("Later", at(5, 9), at(5, 10), &[&sara_id]),
    )
    .await;
    assert!(far["appointment"]["id"].is_string(), "{far}");
    let reminders = |token: String| {
        let app = &app;
        async move {
            let body = app
                .graphql_as(
                    &token,
                    "{ notifications(first: 50) { edges { node { kind appointmentId title } } } }",
                    json!({}),
                )
                .await;
            body["data"]["notifications"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .filter(|n| n["kind"] == "APPOINTMENT_REMINDER")
                .collect::<Vec<Value>>()
        }
    };
    let mut found = Vec::new();
    for _ in 0..100 {
        found = reminders(sara.clone()).await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Only the appointment within a day, once, and with no details.
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["appointmentId"], near_id);
    assert!(!found[0]["title"].as_str().unwrap().contains("Soon"));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(reminders(sara.clone()).await.len(), 1, "not twice");
    // The organiser is reminded too.
    assert_eq!(reminders(anna.clone()).await.len(), 1);
    // Moved to another time within the day: reminded again.
    let moved = app
        .graphql_as(&anna, "mutation($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input) { userErrors { code } } }",
            json!({ "input": { "appointmentId": near_id, "startsAt": (soon + Duration::hours(1)).to_rfc3339(), "endsAt": (soon + Duration::hours(2)).to_rfc3339() } }))
        .await;
    assert_eq!(
        moved["data"]["rescheduleAppointment"]["userErrors"],
        json!([]),
        "{moved}"
    );
    let mut again = 0;
    for _ in 0..100 {
        again = reminders(anna.clone()).await.len();
        if again == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(again, 2, "reminded again at the new time");
    app.stop().await;
}

async fn suggesting_and_checking_cost_a_fixed_number_of_statements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let mut people = Vec::new();
    for email in [
        SARA,
        ELIAS,
        "partner@exempelby.example",
        "therapist@exempelby.example",
        "teamlead@exempelby.example",
        "teacher@exempelby.example",
    ] {
        let token = app.login(email).await;
        people.push(id_of(&app, &token).await);
    }
    // Everyone gets a few meetings on the case in the searched window.
    for (n, person) in people.iter().enumerate() {
        let day = 3 + n as i64;
        let body = schedule(
            &app,
            &anna,
            booking("Busy", at(day, 9), at(day, 10), &[person]),
        )
        .await;
        assert!(body["appointment"]["id"].is_string(), "{body}");
    }
    let input = |who: &[String]| {
        json!({ "input": {
            "caseId": nilsson_case(), "durationMinutes": 60, "count": 5,
            "from": at(2, 0).to_rfc3339(), "to": at(16, 0).to_rfc3339(),
            "participants": who.iter().map(|p| json!({ "userId": p })).collect::<Vec<_>>(),
        } })
    };
    let (one, body) = app
        .statements_for(&anna, SUGGEST, input(&people[..1]))
        .await;
    assert!(body["data"]["suggestSlots"]["slots"].is_array(), "{body}");
    let (six, _) = app.statements_for(&anna, SUGGEST, input(&people)).await;
    let check = |who: &[String]| {
        let mut probe = proposal(
            at(5, 9),
            at(5, 12),
            &who.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        probe["kind"] = json!("FOLLOW_UP");
        json!({ "input": probe })
    };
    let (check_one, body) = app.statements_for(&anna, CHECK, check(&people[..1])).await;
    assert!(
        body["data"]["checkAvailability"]["availability"].is_object(),
        "{body}"
    );
    let (check_six, _) = app.statements_for(&anna, CHECK, check(&people)).await;
    println!(
        "SQL statements: suggestSlots {one} (1 person) / {six} (6 people); checkAvailability {check_one} / {check_six}"
    );
    assert_cost_does_not_grow(one, six, 5, "suggestSlots");
    assert_cost_does_not_grow(check_one, check_six, 5, "checkAvailability");
    assert!(six <= 22 && check_six <= 22, "{six} {check_six}");
    app.stop().await;
}
