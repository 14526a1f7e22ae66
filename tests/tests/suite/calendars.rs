//! External calendar feeds: a person's or an organisation's iCalendar feed,
//! served by the test on loopback, becomes busy time — recurring events in a
//! time zone with exceptions, all-day events, Outlook zone names, cancelled
//! events — and planning keeps the last good copy when the feed is down.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use integration_tests::{
    Backend, TestApp, first_error_code, global_id, on_both_backends,
    stub::{Answer, Stub},
};
use serde_json::{Value, json};

on_both_backends!(
    a_feed_becomes_busy_time_and_its_last_good_copy_outlives_an_outage,
    feeds_are_fetched_on_schedule_and_belong_to_whoever_registered_them,
    a_phone_calendar_is_discreet_unless_asked_and_stops_when_revoked,
    an_organisation_without_a_named_person_is_invited_and_its_calendar_counts,
);

const ANNA: &str = "caseworker@exempelby.example";
const SARA: &str = "guardian@exempelby.example";

const REGISTER: &str = "mutation($input: RegisterCalendarFeedInput!) { registerCalendarFeed(input: $input) {
    feed { id name busyCount lastError lastSuccessAt stale ageSeconds } userErrors { code field message } } }";
const REFRESH: &str = "mutation($input: CalendarFeedInput!) { refreshCalendarFeed(input: $input) {
    feed { busyCount lastError lastSuccessAt lastAttemptAt stale } userErrors { code } } }";
const CHECK: &str = "query($input: CheckAvailabilityInput!) { checkAvailability(input: $input) {
    availability { conflicts { participant { displayName } reason detail } } userErrors { code } } }";
const FEEDS: &str = "query($org: ID) { calendarFeeds(organisationId: $org) { id name lastSuccessAt lastAttemptAt } }";

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn child_psychiatry() -> String {
    global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0003),
    )
}

fn local(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Stockholm
        .with_ymd_and_hms(date.year(), date.month(), date.day(), hour, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// The first `weekday` at least 3 days ahead on which the demo is open.
fn next(weekday: Weekday) -> NaiveDate {
    let year = Utc::now().year();
    let closed: Vec<NaiveDate> = [year, year + 1]
        .into_iter()
        .flat_map(api::demo::closed_days)
        .map(|(d, _)| d)
        .collect();
    (Utc::now().date_naive() + Duration::days(3))
        .iter_days()
        .find(|d| {
            d.weekday() == weekday
                && !closed.contains(d)
                && !closed.contains(&(*d + Duration::days(7)))
                && !closed.contains(&(*d + Duration::days(14)))
        })
        .unwrap()
}

fn stamp(date: NaiveDate, hour: u32) -> String {
    format!("{}T{hour:02}0000", date.format("%Y%m%d"))
}

/// A feed like a real one: a weekly shift in Stockholm time on `weekday`
/// (three weeks, the second one skipped), an all-day conference, a meeting
/// in an Outlook zone name, and a cancelled event. Lines are folded and end
/// in CRLF.
fn feed(weekday: Weekday) -> String {
    let first = next(weekday);
    let wednesday = next(Weekday::Wed);
    let thursday = next(Weekday::Thu);
    let byday = &weekday.to_string().to_uppercase()[..2];
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Loopback//Feed//EN".to_owned(),
        "BEGIN:VTIMEZONE".to_owned(),
        "TZID:Europe/Stockholm".to_owned(),
        "BEGIN:STANDARD".to_owned(),
        "DTSTART:19701025T030000".to_owned(),
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU".to_owned(),
        "TZOFFSETFROM:+0200".to_owned(),
        "TZOFFSETTO:+0100".to_owned(),
        "END:STANDARD".to_owned(),
        "BEGIN:DAYLIGHT".to_owned(),
        "DTSTART:19700329T020000".to_owned(),
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU".to_owned(),
        "TZOFFSETFROM:+0100".to_owned(),
        "TZOFFSETTO:+0200".to_owned(),
        "END:DAYLIGHT".to_owned(),
        "END:VTIMEZONE".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        "UID:shift@loopback".to_owned(),
        format!("DTSTART;TZID=Europe/Stockholm:{}", stamp(first, 9)),
        format!("DTEND;TZID=Europe/Stockholm:{}", stamp(first, 12)),
        format!("RRULE:FREQ=WEEKLY;BYDAY={byday};COUNT=3"),
        format!(
            "EXDATE;TZID=Europe/Stockholm:{}",
            stamp(first + Duration::days(7), 9)
        ),
        "SUMMARY:Work shift at the care home, a long summary that a real calendar\r\n  folds over two lines".to_owned(),
        "END:VEVENT".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        "UID:conference@loopback".to_owned(),
        format!("DTSTART;VALUE=DATE:{}", wednesday.format("%Y%m%d")),
        format!(
            "DTEND;VALUE=DATE:{}",
            (wednesday + Duration::days(1)).format("%Y%m%d")
        ),
        "SUMMARY:Conference".to_owned(),
        "END:VEVENT".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        "UID:outlook@loopback".to_owned(),
        format!("DTSTART;TZID=W. Europe Standard Time:{}", stamp(thursday, 13)),
        format!("DTEND;TZID=W. Europe Standard Time:{}", stamp(thursday, 14)),
        "SUMMARY:Parents' evening".to_owned(),
        "END:VEVENT".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        "UID:cancelled@loopback".to_owned(),
        format!("DTSTART;TZID=Europe/Stockholm:{}", stamp(thursday, 9)),
        format!("DTEND;TZID=Europe/Stockholm:{}", stamp(thursday, 11)),
        "STATUS:CANCELLED".to_owned(),
        "SUMMARY:Called off".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.join("\r\n") + "\r\n"
}

/// A calendar on loopback whose answer the test switches.
struct Calendar {
    stub: Stub,
    answer: Arc<Mutex<Answer>>,
}

impl Calendar {
    async fn start(text: String) -> Calendar {
        let answer = Arc::new(Mutex::new(ics(text)));
        let served = answer.clone();
        let stub = Stub::start(move |_| served.lock().unwrap().clone()).await;
        Calendar { stub, answer }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}.ics", self.stub.base)
    }

    fn serve(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

fn ics(body: String) -> Answer {
    Answer {
        status: 200,
        content_type: "text/calendar",
        body,
    }
}

/// The external-calendar conflicts of a one-hour meeting with `people`.
async fn external(app: &TestApp, token: &str, start: DateTime<Utc>, people: &[&str]) -> Vec<Value> {
    let input = json!({
        "caseId": nilsson_case(), "kind": "FOLLOW_UP",
        "startsAt": start.to_rfc3339(), "endsAt": (start + Duration::hours(1)).to_rfc3339(),
        "participants": people.iter().map(|p| json!({ "userId": p })).collect::<Vec<_>>(),
    });
    let body = app
        .graphql_as(token, CHECK, json!({ "input": input }))
        .await;
    body["data"]["checkAvailability"]["availability"]["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|c| c["reason"] == "EXTERNAL_CALENDAR")
        .cloned()
        .collect()
}

async fn a_feed_becomes_busy_time_and_its_last_good_copy_outlives_an_outage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let sara_id = app.user_id(&sara).await;
    let calendar = Calendar::start(feed(Weekday::Tue)).await;

    let body = app
        .graphql_as(
            &sara,
            REGISTER,
            json!({ "input": { "name": "Work", "url": calendar.url("work") } }),
        )
        .await;
    let registered = &body["data"]["registerCalendarFeed"]["feed"];
    // Two shifts (one skipped), the conference and the parents' evening.
    assert_eq!(registered["busyCount"], 4, "{body}");
    assert!(registered["lastError"].is_null());
    assert_eq!(registered["stale"], false);
    let feed_id = registered["id"].clone();
    let first_success = registered["lastSuccessAt"].clone();

    // Sara's feed makes her busy; the caseworker sees only "busy".
    let tuesday = next(Weekday::Tue);
    let busy = external(&app, &anna, local(tuesday, 10), &[&sara_id]).await;
    assert_eq!(busy.len(), 1, "{busy:?}");
    assert_eq!(busy[0]["participant"]["displayName"], "Sara Nilsson");
    assert!(
        busy[0]["detail"].is_null(),
        "no details for others: {busy:?}"
    );
    // The skipped week is free, the third is busy, the shift ends at 12.
    assert!(
        external(
            &app,
            &anna,
            local(tuesday + Duration::days(7), 10),
            &[&sara_id]
        )
        .await
        .is_empty()
    );
    assert_eq!(
        external(
            &app,
            &anna,
            local(tuesday + Duration::days(14), 10),
            &[&sara_id]
        )
        .await
        .len(),
        1
    );
    assert!(
        external(&app, &anna, local(tuesday, 12), &[&sara_id])
            .await
            .is_empty()
    );
    // The all-day conference and the Outlook-zoned evening count; the
    // cancelled event does not.
    let wednesday = next(Weekday::Wed);
    let thursday = next(Weekday::Thu);
    assert_eq!(
        external(&app, &anna, local(wednesday, 15), &[&sara_id])
            .await
            .len(),
        1
    );
    assert_eq!(
        external(&app, &anna, local(thursday, 13), &[&sara_id])
            .await
            .len(),
        1
    );
    assert!(
        external(&app, &anna, local(thursday, 9), &[&sara_id])
            .await
            .is_empty()
    );

    // The calendar goes down: the last good copy stays in use, with the reason.
    for (answer, reason) in [
        (Answer::status(500), "HTTP 500"),
        (
            ics("<html>Service unavailable</html>".to_owned()),
            "iCalendar",
        ),
    ] {
        calendar.serve(answer);
        let body = app
            .graphql_as(&sara, REFRESH, json!({ "input": { "feedId": feed_id } }))
            .await;
        let refreshed = &body["data"]["refreshCalendarFeed"]["feed"];
        assert!(
            refreshed["lastError"]
                .as_str()
                .unwrap_or_default()
                .contains(reason),
            "{body}"
        );
        assert_eq!(refreshed["lastSuccessAt"], first_success);
        assert_eq!(refreshed["busyCount"], 4);
        assert_eq!(
            external(&app, &anna, local(tuesday, 10), &[&sara_id])
                .await
                .len(),
            1
        );
    }

    // Back up, with the shift moved to Fridays: the new copy replaces the old.
    calendar.serve(ics(feed(Weekday::Fri)));
    let body = app
        .graphql_as(&sara, REFRESH, json!({ "input": { "feedId": feed_id } }))
        .await;
    assert!(
        body["data"]["refreshCalendarFeed"]["feed"]["lastError"].is_null(),
        "{body}"
    );
    assert!(
        external(&app, &anna, local(tuesday, 10), &[&sara_id])
            .await
            .is_empty()
    );
    assert_eq!(
        external(&app, &anna, local(next(Weekday::Fri), 10), &[&sara_id])
            .await
            .len(),
        1
    );

    // Addresses that are not calendars are refused and nothing is stored.
    calendar.serve(Answer::status(404));
    for (name, url, code, field) in [
        ("Gone", calendar.url("gone"), "INVALID_VALUE", "url"),
        (
            "Ftp",
            "ftp://calendar.example/a.ics".to_owned(),
            "INVALID_VALUE",
            "url",
        ),
        (" ", calendar.url("work"), "REQUIRED", "name"),
    ] {
        let body = app
            .graphql_as(
                &sara,
                REGISTER,
                json!({ "input": { "name": name, "url": url } }),
            )
            .await;
        assert_eq!(
            body["data"]["registerCalendarFeed"]["userErrors"][0]["code"], code,
            "{body}"
        );
        assert_eq!(
            body["data"]["registerCalendarFeed"]["userErrors"][0]["field"],
            json!(["input", field])
        );
    }
    let listed = app.graphql_as(&sara, FEEDS, json!({})).await;
    assert_eq!(
        listed["data"]["calendarFeeds"].as_array().unwrap().len(),
        1,
        "{listed}"
    );

    // Removing the feed removes its busy time.
    let body = app
        .graphql_as(&sara, "mutation($input: CalendarFeedInput!) { removeCalendarFeed(input: $input) { feed { name } userErrors { code } } }",
            json!({ "input": { "feedId": feed_id } }))
        .await;
    assert_eq!(
        body["data"]["removeCalendarFeed"]["feed"]["name"], "Work",
        "{body}"
    );
    assert!(
        external(&app, &anna, local(next(Weekday::Fri), 10), &[&sara_id])
            .await
            .is_empty()
    );
    app.stop().await;
}

async fn feeds_are_fetched_on_schedule_and_belong_to_whoever_registered_them(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.calendar_feed_poll_seconds = 1).await;
    let anna = app.login(ANNA).await;
    let sara = app.login(SARA).await;
    let admin = app.login("admin@exempelby.example").await;
    let bup = app.login("bup@exempelby.example").await;
    let sara_id = app.user_id(&sara).await;
    let bup_id = app.user_id(&bup).await;
    let calendar = Calendar::start(feed(Weekday::Tue)).await;
    let tuesday = next(Weekday::Tue);

    let body = app
        .graphql_as(
            &sara,
            REGISTER,
            json!({ "input": { "name": "Work", "url": calendar.url("work") } }),
        )
        .await;
    let feed_id = body["data"]["registerCalendarFeed"]["feed"]["id"].clone();

    // The scheduled fetch: once the feed is due, the worker fetches it.
    calendar.serve(ics(feed(Weekday::Fri)));
    {
        use sea_orm::{EntityTrait, sea_query::Expr};
        entity::calendar_feed::Entity::update_many()
            .col_expr(
                entity::calendar_feed::Column::NextFetchAt,
                Expr::value(Utc::now() - Duration::minutes(1)),
            )
            .exec(&app.db)
            .await
            .unwrap();
    }
    let mut moved = false;
    for _ in 0..100 {
        if external(&app, &anna, local(tuesday, 10), &[&sara_id])
            .await
            .is_empty()
        {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(moved, "the worker fetched the new copy");
    assert_eq!(
        external(&app, &anna, local(next(Weekday::Fri), 10), &[&sara_id])
            .await
            .len(),
        1
    );
    assert_eq!(
        calendar.stub.requests().len(),
        2,
        "one fetch at registration, one on schedule"
    );

    // An organisation's feed is busy time for its staff: the admin registers
    // the clinic's; its professional becomes busy.
    calendar.serve(ics(feed(Weekday::Tue)));
    let body = app
        .graphql_as(&admin, REGISTER, json!({ "input": { "name": "BUP bookings", "url": calendar.url("bup"), "organisationId": child_psychiatry() } }))
        .await;
    assert_eq!(
        body["data"]["registerCalendarFeed"]["userErrors"],
        json!([]),
        "{body}"
    );
    let clinic_busy = external(&app, &anna, local(tuesday, 10), &[&bup_id]).await;
    assert_eq!(clinic_busy.len(), 1, "{clinic_busy:?}");
    assert!(clinic_busy[0]["participant"]["displayName"].is_string());

    // Who may touch which feed: a person's own feed is theirs alone; an
    // organisation's belongs to its admins and team leads.
    let org = json!({ "org": child_psychiatry() });
    let listed = app.graphql_as(&admin, FEEDS, org.clone()).await;
    assert_eq!(
        listed["data"]["calendarFeeds"][0]["name"], "BUP bookings",
        "{listed}"
    );
    let node = "query($id: ID!) { node(id: $id) { ... on CalendarFeed { name } } }";
    assert_eq!(
        app.graphql_as(&sara, node, json!({ "id": feed_id })).await["data"]["node"]["name"],
        "Work"
    );
    let grannby = app.login("caseworker@grannby.example").await;
    for token in [&anna, &admin, &bup, &grannby] {
        let refresh = app
            .graphql_as(token, REFRESH, json!({ "input": { "feedId": feed_id } }))
            .await;
        assert_eq!(first_error_code(&refresh), Some("NOT_FOUND"), "{refresh}");
        let read = app.graphql_as(token, node, json!({ "id": feed_id })).await;
        assert_eq!(first_error_code(&read), Some("NOT_FOUND"), "{read}");
    }
    let register_for_clinic = json!({ "input": { "name": "X", "url": calendar.url("x"), "organisationId": child_psychiatry() } });
    for token in [&sara, &anna, &bup] {
        let body = app
            .graphql_as(token, REGISTER, register_for_clinic.clone())
            .await;
        assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
        let body = app.graphql_as(token, FEEDS, org.clone()).await;
        assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    let body = app
        .graphql_as(&grannby, REGISTER, register_for_clinic)
        .await;
    assert_eq!(first_error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app.graphql_as(&grannby, FEEDS, org).await;
    assert!(
        body["data"].is_null() || body["data"]["calendarFeeds"] == json!([]),
        "{body}"
    );
    app.stop().await;
}

async fn a_phone_calendar_is_discreet_unless_asked_and_stops_when_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ali = app.login("guardian2@exempelby.example").await;
    const CREATE: &str = "mutation($input: CreateCalendarSubscriptionInput!) { createCalendarSubscription(input: $input) {
        subscription { id fullTitles } path userErrors { code } } }";
    let get = |path: &str| {
        let url = app.url(path);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    // Ali's demo appointments next week, and their titles.
    let mine = app
        .graphql_as(&ali, "query($f: DateTime!, $t: DateTime!) { myAppointments(from: $f, to: $t) { title } }",
            json!({ "f": Utc::now().to_rfc3339(), "t": (Utc::now() + Duration::days(30)).to_rfc3339() }))
        .await;
    let titles: Vec<String> = mine["data"]["myAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(titles.len() >= 3, "{mine}");

    let discreet = app.graphql_as(&ali, CREATE, json!({ "input": {} })).await;
    let discreet = &discreet["data"]["createCalendarSubscription"];
    assert_eq!(discreet["subscription"]["fullTitles"], false);
    let discreet_path = discreet["path"].as_str().unwrap().to_owned();
    assert!(discreet_path.starts_with("/calendar/") && discreet_path.ends_with(".ics"));
    let response = get(&discreet_path).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.matches("BEGIN:VEVENT").count() >= titles.len(),
        "{text}"
    );
    assert!(
        text.contains("REFRESH-INTERVAL;VALUE=DURATION:PT3600S"),
        "{text}"
    );
    assert_eq!(
        text.matches("SUMMARY:").count(),
        text.matches("SUMMARY:Appointment\r\n").count(),
        "{text}"
    );
    for title in &titles {
        assert!(!text.contains(title.as_str()), "{title} leaks into {text}");
    }

    let full = app
        .graphql_as(&ali, CREATE, json!({ "input": { "fullTitles": true } }))
        .await;
    let full_path = full["data"]["createCalendarSubscription"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = get(&full_path).await.text().await.unwrap();
    for title in &titles {
        assert!(text.contains(title.as_str()), "{title} missing from {text}");
    }

    // Both are listed, without their secrets; the one read shows when.
    let listed = app
        .graphql_as(
            &ali,
            "{ calendarSubscriptions { id fullTitles lastUsedAt } }",
            json!({}),
        )
        .await;
    let listed = listed["data"]["calendarSubscriptions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|s| s["lastUsedAt"].is_string()),
        "{listed:?}"
    );
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&discreet_path[10..30])
    );

    // Revoking: only its owner can, and the address stops at once; an
    // unknown address looks the same.
    const REVOKE: &str = "mutation($input: RevokeCalendarSubscriptionInput!) { revokeCalendarSubscription(input: $input) { subscription { id } } }";
    let revoke = json!({ "input": { "subscriptionId": discreet["subscription"]["id"] } });
    let sara = app.login(SARA).await;
    assert_eq!(
        first_error_code(&app.graphql_as(&sara, REVOKE, revoke.clone()).await),
        Some("NOT_FOUND")
    );
    assert_eq!(get(&discreet_path).await.status(), 200);
    let body = app.graphql_as(&ali, REVOKE, revoke).await;
    assert!(
        body["data"]["revokeCalendarSubscription"]["subscription"]["id"].is_string(),
        "{body}"
    );
    assert_eq!(get(&discreet_path).await.status(), 404);
    assert_eq!(get("/calendar/not-a-token.ics").await.status(), 404);
    assert_eq!(get(&full_path).await.status(), 200);

    // A deactivated account's calendar stops too.
    let admin = app.login("admin@exempelby.example").await;
    let ali_id = app.user_id(&ali).await;
    app.graphql_as(&admin, "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { userErrors { code } } }",
        json!({ "input": { "userId": ali_id } }))
        .await;
    assert_eq!(get(&full_path).await.status(), 404);
    app.stop().await;
}

async fn an_organisation_without_a_named_person_is_invited_and_its_calendar_counts(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login(ANNA).await;
    let admin = app.login("admin@exempelby.example").await;
    let sara = app.login(SARA).await;
    let sara_id = app.user_id(&sara).await;
    let calendar = Calendar::start(feed(Weekday::Tue)).await;
    let body = app
        .graphql_as(&admin, REGISTER, json!({ "input": { "name": "BUP bookings", "url": calendar.url("bup"), "organisationId": child_psychiatry() } }))
        .await;
    assert_eq!(
        body["data"]["registerCalendarFeed"]["userErrors"],
        json!([]),
        "{body}"
    );
    let clinic = json!({ "organisationId": child_psychiatry() });
    const CHECK_ORG: &str = "query($input: CheckAvailabilityInput!) { checkAvailability(input: $input) {
        availability { conflicts { participant { displayName } organisation { name } reason } } userErrors { code field } } }";
    let probe = |start: DateTime<Utc>, people: Value| {
        json!({ "input": {
            "caseId": nilsson_case(), "startsAt": start.to_rfc3339(),
            "endsAt": (start + Duration::hours(1)).to_rfc3339(), "participants": people,
        } })
    };
    // The clinic's calendar is its busy time.
    let tuesday = next(Weekday::Tue);
    let body = app
        .graphql_as(&anna, CHECK_ORG, probe(local(tuesday, 10), json!([clinic])))
        .await;
    assert_eq!(
        body["data"]["checkAvailability"]["availability"]["conflicts"],
        json!([{ "participant": null, "organisation": { "name": "BUP Exempelby" }, "reason": "EXTERNAL_CALENDAR" }]),
        "{body}"
    );
    // Booked with the clinic (nobody named yet) and Sara.
    let wednesday = next(Weekday::Wed) + Duration::days(7);
    let mut booking =
        probe(local(wednesday, 10), json!([clinic, { "userId": sara_id }]))["input"].clone();
    booking["kind"] = json!("NETWORK_MEETING");
    booking["title"] = json!("Network meeting");
    booking["location"] = json!({ "kind": "ADDRESS", "text": "BUP Exempelby" });
    const BOOK: &str = "mutation($input: ScheduleAppointmentInput!) { scheduleAppointment(input: $input) {
        appointment { participants { user { displayName } organisation { name } required response } }
        conflicts { organisation { name } reason } userErrors { code field } } }";
    let body = app
        .graphql_as(&anna, BOOK, json!({ "input": booking.clone() }))
        .await;
    let participants = body["data"]["scheduleAppointment"]["appointment"]["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert!(
        participants.iter().any(|p| p["user"].is_null()
            && p["organisation"]["name"] == "BUP Exempelby"
            && p["response"] == "PENDING"),
        "{participants:?}"
    );
    // The clinic is now busy then: a second booking with it clashes.
    let mut second = booking.clone();
    second["participants"] = json!([clinic]);
    let body = app
        .graphql_as(&anna, BOOK, json!({ "input": second }))
        .await;
    assert_eq!(
        body["data"]["scheduleAppointment"]["userErrors"][0]["code"], "CLASH",
        "{body}"
    );
    assert_eq!(
        body["data"]["scheduleAppointment"]["conflicts"],
        json!([{ "organisation": { "name": "BUP Exempelby" }, "reason": "APPOINTMENT" }])
    );
    // Suggestions keep clear of the clinic's busy time.
    let body = app
        .graphql_as(&anna, "query($input: SuggestSlotsInput!) { suggestSlots(input: $input) { slots { startsAt } userErrors { code } } }",
            json!({ "input": { "caseId": nilsson_case(), "participants": [clinic], "durationMinutes": 60, "count": 10,
                "from": local(tuesday, 8).to_rfc3339(), "to": local(tuesday, 14).to_rfc3339() } }))
        .await;
    let slots = body["data"]["suggestSlots"]["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert!(!slots.is_empty(), "{body}");
    for slot in &slots {
        let start = DateTime::parse_from_rfc3339(slot["startsAt"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            start + Duration::hours(1) <= local(tuesday, 9) || start >= local(tuesday, 12),
            "{slot}"
        );
    }
    // An organisation without an APPOINTMENTS consent on the case, or a
    // participant naming both a person and an organisation, is refused.
    let habilitation = global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0004),
    );
    let body = app
        .graphql_as(
            &anna,
            CHECK_ORG,
            probe(
                local(tuesday, 13),
                json!([{ "organisationId": habilitation }]),
            ),
        )
        .await;
    assert_eq!(
        body["data"]["checkAvailability"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "participants"] }]),
        "{body}"
    );
    let both = json!([{ "organisationId": child_psychiatry(), "userId": sara_id }]);
    let body = app
        .graphql_as(&anna, CHECK_ORG, probe(local(tuesday, 13), both))
        .await;
    assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    app.stop().await;
}
