//! Coordinated individual plans (SIP): the 21-day meeting deadline, the chosen
//! coordinator, interventions and the child's participation.

use integration_tests::{Backend, TestApp, first_error_code, global_id, on_both_backends};
use serde_json::json;

on_both_backends!(a_coordinated_plan_is_started_coordinated_and_its_meeting_recorded);

fn org(n: u128) -> String {
    global_id(
        "Organisation",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0000 + n),
    )
}

async fn a_coordinated_plan_is_started_coordinated_and_its_meeting_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let teacher = app.login("teacher@exempelby.example").await;
    let case = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    );
    let (school, bup) = (org(2), org(3));
    const PLAN: &str = "plan { initiatingOrganisation { name } initiatedOn coordinationMeetingDue coordinationMeetingOverdue
        coordinationMeetingHeldOn childParticipation childNonParticipationReason
        coordinator { name } coordinatorReason coordinatorReasonText
        interventions { description responsibleOrganisation { name } startsOn coordinatedBy } }
        userErrors { code field }";
    let start = format!(
        "mutation($input: StartCoordinatedPlanInput!) {{ startCoordinatedPlan(input: $input) {{ {PLAN} }} }}"
    );
    let choose = format!(
        "mutation($input: ChooseCoordinatorInput!) {{ chooseCoordinator(input: $input) {{ {PLAN} }} }}"
    );
    let add = format!(
        "mutation($input: AddPlanInterventionInput!) {{ addPlanIntervention(input: $input) {{ {PLAN} }} }}"
    );
    let record = format!(
        "mutation($input: RecordCoordinationMeetingInput!) {{ recordCoordinationMeeting(input: $input) {{ {PLAN} }} }}"
    );
    let thirty_days_ago = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();

    let by_guardian = app
        .graphql_as(
            &sara,
            &start,
            json!({ "input": { "caseId": case, "initiatingOrganisationId": school } }),
        )
        .await;
    assert_eq!(first_error_code(&by_guardian), Some("FORBIDDEN"));
    let future = app
        .graphql_as(&anna, &start, json!({ "input": { "caseId": case, "initiatingOrganisationId": school, "initiatedOn": "2099-01-01" } }))
        .await;
    assert_eq!(
        future["data"]["startCoordinatedPlan"]["userErrors"][0]["field"],
        json!(["input", "initiatedOn"])
    );

    let started = app
        .graphql_as(&anna, &start, json!({ "input": { "caseId": case, "initiatingOrganisationId": school, "initiatedOn": thirty_days_ago.to_string() } }))
        .await;
    let plan = &started["data"]["startCoordinatedPlan"]["plan"];
    assert_eq!(
        plan["initiatingOrganisation"]["name"], "Ekbackens skola",
        "{started}"
    );
    assert_eq!(
        plan["coordinationMeetingDue"],
        (thirty_days_ago + chrono::Duration::days(21)).to_string()
    );
    assert_eq!(plan["coordinationMeetingOverdue"], true);
    let twice = app
        .graphql_as(
            &anna,
            &start,
            json!({ "input": { "caseId": case, "initiatingOrganisationId": school } }),
        )
        .await;
    assert_eq!(
        twice["data"]["startCoordinatedPlan"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );

    let other_without_text = app
        .graphql_as(
            &anna,
            &choose,
            json!({ "input": { "caseId": case, "organisationId": bup, "reason": "OTHER" } }),
        )
        .await;
    assert_eq!(
        other_without_text["data"]["chooseCoordinator"]["userErrors"],
        json!([{ "code": "REQUIRED", "field": ["input", "reasonText"] }])
    );
    let chosen = app
        .graphql_as(
            &anna,
            &choose,
            json!({ "input": { "caseId": case, "organisationId": bup, "reason": "FAMILY_TRUST" } }),
        )
        .await;
    let plan = &chosen["data"]["chooseCoordinator"]["plan"];
    assert_eq!(
        plan["coordinator"]["name"], "BUP Exempelby",
        "not the initiator"
    );
    assert_eq!(plan["coordinatorReason"], "FAMILY_TRUST");

    let added = app
        .graphql_as(&anna, &add, json!({ "input": { "caseId": case, "description": "Weekly talks with Elias", "responsibleOrganisationId": bup, "startsOn": "2026-12-01", "coordinatedBy": "FAMILY" } }))
        .await;
    assert_eq!(
        added["data"]["addPlanIntervention"]["plan"]["interventions"],
        json!([{ "description": "Weekly talks with Elias", "responsibleOrganisation": { "name": "BUP Exempelby" }, "startsOn": "2026-12-01", "coordinatedBy": "FAMILY" }])
    );

    let no_reason = app
        .graphql_as(&anna, &record, json!({ "input": { "caseId": case, "heldOn": (thirty_days_ago + chrono::Duration::days(20)).to_string(), "childParticipation": "DID_NOT_TAKE_PART" } }))
        .await;
    assert_eq!(
        no_reason["data"]["recordCoordinationMeeting"]["userErrors"][0]["field"],
        json!(["input", "childNonParticipationReason"])
    );
    let recorded = app
        .graphql_as(&anna, &record, json!({ "input": { "caseId": case, "heldOn": (thirty_days_ago + chrono::Duration::days(20)).to_string(), "childParticipation": "DID_NOT_TAKE_PART", "childNonParticipationReason": "Elias was ill; his views come in writing." } }))
        .await;
    let plan = &recorded["data"]["recordCoordinationMeeting"]["plan"];
    assert_eq!(plan["coordinationMeetingOverdue"], false, "{recorded}");
    assert_eq!(plan["childParticipation"], "DID_NOT_TAKE_PART");

    // The family reads the plan; a professional without CASE_DETAILS may not.
    let read = "query($id: ID!) { case(id: $id) { coordinatedPlan { coordinator { name } interventions { description } } } }";
    let family = app.graphql_as(&sara, read, json!({ "id": case })).await;
    assert_eq!(
        family["data"]["case"]["coordinatedPlan"]["coordinator"]["name"],
        "BUP Exempelby"
    );
    let professional = app.graphql_as(&teacher, read, json!({ "id": case })).await;
    assert_eq!(first_error_code(&professional), Some("FORBIDDEN"));
    app.stop().await;
}
