//! Scheduling routines and closed days: working hours, the weekdays a kind of
//! meeting is held, minimum notice, travel buffer, a daily cap per child and
//! public holidays rule times out of clash checks, bookings and suggestions,
//! each saying why; who may set them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use integration_tests::{Backend, TestApp, first_error_code, global_id, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    routines_and_closed_days_rule_out_times_and_say_why,
    only_admins_and_the_organisations_team_leads_set_its_routine,
);

const ANNA: &str = "caseworker@exempelby.example";
const SARA: &str = "guardian@exempelby.example";
const ADMIN: &str = "admin@exempelby.example";

const CHECK: &str = "query($input: CheckAvailabilityInput!) { checkAvailability(input: $input) {
    availability { free conflicts { participant { displayName } reason detail startsAt endsAt } }
    userErrors { code field } } }";
const SCHEDULE: &str =
    "mutation($input: ScheduleAppointmentInput!) { scheduleAppointment(input: $input) {
    appointment { id } conflicts { reason } userErrors { code field } } }";
const SUGGEST: &str = "query($input: SuggestSlotsInput!) { suggestSlots(input: $input) {
    slots { startsAt endsAt } obstacles { participantId reason shareOfWindow } userErrors { code field } } }";
const SET_ROUTINE: &str = "mutation($input: SetSchedulingRoutineInput!) { setSchedulingRoutine(input: $input) {
    routine { workingHours { weekday from to } meetingDays { kind weekdays } minimumNoticeHours bufferMinutes dailyCapPerChild }
    userErrors { code field } } }";

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn organisation(n: u128) -> String {
    global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0000 + n),
    )
}

/// `hour:minute` Stockholm time on `date`.
fn local(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    Stockholm
        .with_ymd_and_hms(date.year(), date.month(), date.day(), hour, minute, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn closed_dates() -> Vec<NaiveDate> {
    let year = Utc::now().year();
    [year, year + 1]
        .into_iter()
        .flat_map(api::demo::closed_days)
        .map(|(d, _)| d)
        .collect()
}

/// The first open `weekday` at least `after` days from today.
fn next_open(weekday: Weekday, after: i64) -> NaiveDate {
    let closed = closed_dates();
    (Utc::now().date_naive() + Duration::days(after))
        .iter_days()
        .find(|d| d.weekday() == weekday && !closed.contains(d))
        .unwrap()
}

fn input(kind: &str, start: DateTime<Utc>, end: DateTime<Utc>, people: &[&str]) -> Value {
    json!({
        "caseId": nilsson_case(), "kind": kind,
        "startsAt": start.to_rfc3339(), "endsAt": end.to_rfc3339(),
        "participants": people.iter().map(|p| json!({ "userId": p })).collect::<Vec<_>>(),
    })
}

async fn conflicts(app: &TestApp, token: &str, input: Value) -> Vec<Value> {
    let body = app
        .graphql_as(token, CHECK, json!({ "input": input }))
        .await;
    body["data"]["checkAvailability"]["availability"]["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

fn reasons(conflicts: &[Value]) -> Vec<&str> {
    conflicts
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect()
}

fn with_reason<'a>(conflicts: &'a [Value], reason: &str) -> &'a Value {
    conflicts
        .iter()
        .find(|c| c["reason"] == reason)
        .unwrap_or_else(|| panic!("no {reason} in {conflicts:?}"))
}

async fn routines_and_closed_days_rule_out_times_and_say_why(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let admin = app.login(ADMIN).await;
    let anna_id = app.user_id(&anna).await;
    let sara_id = app.user_id(&sara).await;
    let today = Utc::now().date_naive();

    // The demo's closed days: staff read them, families do not.
    const CLOSED: &str =
        "query($f: Date!, $t: Date!) { closedDays(from: $f, to: $t) { date name } }";
    let range = json!({ "f": today.to_string(), "t": (today + Duration::days(366)).to_string() });
    let body = app.graphql_as(&anna, CLOSED, range.clone()).await;
    let days = body["data"]["closedDays"].as_array().unwrap().clone();
    assert!(days.iter().any(|d| d["name"] == "Julafton"), "{body}");
    assert_eq!(
        first_error_code(&app.graphql_as(&sara, CLOSED, range).await),
        Some("FORBIDDEN")
    );

    // A closed day: the meeting as a whole is ruled out, with the day's name.
    let holiday = closed_dates()
        .into_iter()
        .find(|d| *d > today + Duration::days(1))
        .unwrap();
    let found = conflicts(
        &app,
        &anna,
        input(
            "FOLLOW_UP",
            local(holiday, 10, 0),
            local(holiday, 11, 0),
            &[&sara_id],
        ),
    )
    .await;
    let closed = with_reason(&found, "CLOSED_DAY");
    assert!(closed["participant"].is_null());
    assert!(closed["detail"].as_str().unwrap().len() > 3, "{closed}");

    // Coordination meetings (SIP) are held on Fridays only in the demo.
    let thursday = next_open(Weekday::Thu, 3);
    let friday = next_open(Weekday::Fri, 3);
    let (t10, t11) = (local(thursday, 10, 0), local(thursday, 11, 0));
    let found = conflicts(
        &app,
        &anna,
        input("COORDINATION_MEETING", t10, t11, &[&sara_id]),
    )
    .await;
    assert_eq!(reasons(&found), ["ROUTINE"]);
    assert!(found[0]["detail"].as_str().unwrap().contains("Fridays"));
    assert!(
        conflicts(&app, &anna, input("FOLLOW_UP", t10, t11, &[&sara_id]))
            .await
            .is_empty()
    );
    let on_friday = input(
        "COORDINATION_MEETING",
        local(friday, 10, 0),
        local(friday, 11, 0),
        &[&sara_id],
    );
    assert!(conflicts(&app, &anna, on_friday).await.is_empty());
    // Booking on the Thursday is refused with the rule, unless overridden.
    let mut booking = input("COORDINATION_MEETING", t10, t11, &[&sara_id]);
    booking["title"] = json!("SIP");
    booking["location"] = json!({ "kind": "VIDEO", "text": "https://meet.example/sip" });
    let body = app
        .graphql_as(&anna, SCHEDULE, json!({ "input": booking.clone() }))
        .await;
    assert_eq!(
        body["data"]["scheduleAppointment"]["userErrors"][0]["code"],
        "CLASH"
    );
    assert_eq!(
        body["data"]["scheduleAppointment"]["conflicts"],
        json!([{ "reason": "ROUTINE" }])
    );
    booking["overrideReason"] = json!("School's only free day this month");
    let body = app
        .graphql_as(&anna, SCHEDULE, json!({ "input": booking }))
        .await;
    assert!(
        body["data"]["scheduleAppointment"]["appointment"]["id"].is_string(),
        "{body}"
    );

    // Social services get working hours, notice, a buffer and a daily cap.
    let weekdays = ["MON", "TUE", "WED", "THU", "FRI"]
        .map(|d| json!({ "weekday": d, "from": "08:00", "to": "16:00" }));
    let set = json!({ "input": {
        "organisationId": organisation(1),
        "workingHours": weekdays,
        "meetingDays": [{ "kind": "COORDINATION_MEETING", "weekdays": ["FRI"] }],
        "minimumNoticeHours": 48, "bufferMinutes": 30, "dailyCapPerChild": 1,
    } });
    let body = app.graphql_as(&admin, SET_ROUTINE, set).await;
    let routine = &body["data"]["setSchedulingRoutine"]["routine"];
    assert_eq!(
        routine["workingHours"].as_array().unwrap().len(),
        5,
        "{body}"
    );
    assert_eq!(
        routine["workingHours"][0],
        json!({ "weekday": "MON", "from": "08:00", "to": "16:00" })
    );
    assert_eq!(routine["minimumNoticeHours"], 48.0);
    assert_eq!(routine["dailyCapPerChild"], 1);

    // Anna works for social services: 17:00 is outside her working hours.
    let found = conflicts(
        &app,
        &anna,
        input(
            "FOLLOW_UP",
            local(friday, 17, 0),
            local(friday, 18, 0),
            &[&anna_id, &sara_id],
        ),
    )
    .await;
    let outside = with_reason(&found, "OUTSIDE_WORKING_HOURS");
    assert_eq!(outside["participant"]["displayName"], "Anna Berg");
    // Three hours from now is within the 48 hours' notice.
    let soon = Utc::now() + Duration::hours(3);
    let soon = soon.with_minute(0).unwrap().with_second(0).unwrap();
    let found = conflicts(
        &app,
        &anna,
        input("FOLLOW_UP", soon, soon + Duration::hours(1), &[&sara_id]),
    )
    .await;
    assert!(with_reason(&found, "NOTICE")["participant"].is_null());
    // The Thursday already has the SIP meeting (10–11, Anna organising): the
    // child's daily cap is reached, and 11:15 is inside Anna's travel buffer.
    let found = conflicts(
        &app,
        &anna,
        input(
            "FOLLOW_UP",
            local(thursday, 11, 15),
            local(thursday, 12, 0),
            &[&anna_id, &sara_id],
        ),
    )
    .await;
    assert!(with_reason(&found, "DAILY_CAP")["participant"].is_null());
    assert_eq!(
        with_reason(&found, "BUFFER")["participant"]["displayName"],
        "Anna Berg"
    );
    assert!(!reasons(&found).contains(&"APPOINTMENT"), "{found:?}");

    // Suggestions keep every rule: Fridays only, 08:00–16:00, no closed day.
    let search = |from: DateTime<Utc>, to: DateTime<Utc>| {
        json!({ "input": {
            "caseId": nilsson_case(), "kind": "COORDINATION_MEETING", "durationMinutes": 60, "count": 10,
            "from": from.to_rfc3339(), "to": to.to_rfc3339(),
            "participants": [{ "userId": anna_id }, { "userId": sara_id }],
        } })
    };
    let window_start = local(today + Duration::days(3), 0, 0);
    let body = app
        .graphql_as(
            &anna,
            SUGGEST,
            search(window_start, window_start + Duration::days(21)),
        )
        .await;
    let slots = body["data"]["suggestSlots"]["slots"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!slots.is_empty(), "{body}");
    let closed = closed_dates();
    for slot in &slots {
        let start = DateTime::parse_from_rfc3339(slot["startsAt"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Stockholm);
        let end = DateTime::parse_from_rfc3339(slot["endsAt"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Stockholm);
        assert_eq!(start.weekday(), Weekday::Fri, "{slot}");
        assert!(
            start.hour() >= 8 && (end.hour(), end.minute()) <= (16, 0),
            "{slot}"
        );
        assert!(!closed.contains(&start.date_naive()), "{slot}");
    }
    // Nothing fits on a Thursday, and the answer says it is the meeting-day rule.
    let body = app
        .graphql_as(
            &anna,
            SUGGEST,
            search(local(thursday, 0, 0), local(thursday, 23, 0)),
        )
        .await;
    let payload = &body["data"]["suggestSlots"];
    assert_eq!(payload["slots"], json!([]), "{body}");
    assert_eq!(payload["obstacles"][0]["reason"], "ROUTINE", "{body}");
    assert_eq!(payload["obstacles"][0]["shareOfWindow"], 1.0);

    // An admin closes a day and opens it again; a day is closed only once.
    const ADD: &str = "mutation($input: AddClosedDayInput!) { addClosedDay(input: $input) { closedDay { date name } userErrors { code field } } }";
    const REMOVE: &str = "mutation($input: RemoveClosedDayInput!) { removeClosedDay(input: $input) { closedDay { date } userErrors { code field } } }";
    let staff_day = next_open(Weekday::Wed, 10);
    let day = json!({ "input": { "date": staff_day.to_string(), "name": "Staff training day" } });
    let body = app.graphql_as(&admin, ADD, day.clone()).await;
    assert_eq!(
        body["data"]["addClosedDay"]["closedDay"]["name"],
        "Staff training day"
    );
    let body = app.graphql_as(&admin, ADD, day).await;
    assert_eq!(
        body["data"]["addClosedDay"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "date"] }])
    );
    let probe = input(
        "FOLLOW_UP",
        local(staff_day, 10, 0),
        local(staff_day, 11, 0),
        &[&sara_id],
    );
    let found = conflicts(&app, &anna, probe.clone()).await;
    assert_eq!(
        with_reason(&found, "CLOSED_DAY")["detail"],
        "Staff training day"
    );
    let body = app
        .graphql_as(
            &admin,
            REMOVE,
            json!({ "input": { "date": staff_day.to_string() } }),
        )
        .await;
    assert_eq!(body["data"]["removeClosedDay"]["userErrors"], json!([]));
    assert!(!reasons(&conflicts(&app, &anna, probe).await).contains(&"CLOSED_DAY"));
    app.stop().await;
}

async fn only_admins_and_the_organisations_team_leads_set_its_routine(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let routine = |org: String, buffer: i32| {
        json!({ "input": {
            "organisationId": org, "bufferMinutes": buffer,
            "workingHours": [{ "weekday": "MON", "from": "09:00", "to": "15:00" }],
        } })
    };
    const READ: &str = "query($id: ID!) { schedulingRoutine(organisationId: $id) { bufferMinutes workingHours { from } } }";
    // (account, own organisation (social services), child psychiatry, another tenant's)
    let rows = [
        (ADMIN, true, true, false),
        ("teamlead@exempelby.example", true, false, false),
        (ANNA, false, false, false),
        ("therapist@exempelby.example", false, false, false),
        ("bup@exempelby.example", false, false, false),
        (SARA, false, false, false),
        ("young@exempelby.example", false, false, false),
        ("caseworker@grannby.example", false, false, false),
    ];
    let grannby_org = global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0002_0001),
    );
    for (n, (email, own, clinic, other)) in rows.into_iter().enumerate() {
        let token = app.login(email).await;
        let buffer = i32::try_from(n).unwrap() + 1;
        for (org, allowed, what) in [
            (organisation(1), own, "social services"),
            (organisation(3), clinic, "child psychiatry"),
            (grannby_org.clone(), other, "another tenant's"),
        ] {
            let body = app
                .graphql_as(&token, SET_ROUTINE, routine(org.clone(), buffer))
                .await;
            if allowed {
                assert_eq!(
                    body["data"]["setSchedulingRoutine"]["userErrors"],
                    json!([]),
                    "{email} {what}: {body}"
                );
            } else {
                let code = first_error_code(&body);
                assert!(
                    matches!(code, Some("FORBIDDEN" | "NOT_FOUND")),
                    "{email} {what}: {body}"
                );
            }
        }
        // Staff of the tenant read routines; families and other tenants do not.
        let body = app
            .graphql_as(&token, READ, json!({ "id": organisation(1) }))
            .await;
        let staff = !matches!(
            email,
            SARA | "young@exempelby.example" | "caseworker@grannby.example"
        );
        assert_eq!(body["errors"].is_null(), staff, "{email} reads: {body}");
    }
    // The last allowed write is what is stored: the team lead's (buffer 2).
    let admin = app.login(ADMIN).await;
    let body = app
        .graphql_as(&admin, READ, json!({ "id": organisation(1) }))
        .await;
    assert_eq!(
        body["data"]["schedulingRoutine"]["bufferMinutes"], 2,
        "{body}"
    );

    // Bad input is a user error on the field and changes nothing.
    for (field, bad) in [
        (
            "workingHours",
            json!({ "workingHours": [{ "weekday": "MON", "from": "8", "to": "16:00" }] }),
        ),
        (
            "workingHours",
            json!({ "workingHours": [{ "weekday": "MON", "from": "16:00", "to": "08:00" }] }),
        ),
        (
            "bufferMinutes",
            json!({ "workingHours": [], "bufferMinutes": 241 }),
        ),
        (
            "minimumNoticeHours",
            json!({ "workingHours": [], "minimumNoticeHours": -1 }),
        ),
        (
            "dailyCapPerChild",
            json!({ "workingHours": [], "dailyCapPerChild": 0 }),
        ),
        (
            "meetingDays",
            json!({ "workingHours": [], "meetingDays": [{ "kind": "FOLLOW_UP", "weekdays": [] }] }),
        ),
    ] {
        let mut input = bad;
        input["organisationId"] = json!(organisation(1));
        let body = app
            .graphql_as(&admin, SET_ROUTINE, json!({ "input": input }))
            .await;
        assert_eq!(
            body["data"]["setSchedulingRoutine"]["userErrors"][0]["field"],
            json!(["input", field]),
            "{body}"
        );
    }
    let body = app
        .graphql_as(&admin, READ, json!({ "id": organisation(1) }))
        .await;
    assert_eq!(
        body["data"]["schedulingRoutine"]["bufferMinutes"], 2,
        "{body}"
    );
    assert_eq!(
        body["data"]["schedulingRoutine"]["workingHours"],
        json!([{ "from": "09:00" }])
    );
    app.stop().await;
}
