//! The shared goal picture end to end: goals and their visibility, steps the
//! family ticks off, progress from several views, follow-up reviews.

use integration_tests::{
    Backend, TestApp, assert_cost_does_not_grow, first_error_code, global_id, on_both_backends,
};
use serde_json::{Value, json};

on_both_backends!(
    the_family_follows_its_goals_ticks_off_steps_and_adds_its_view,
    a_young_persons_private_goal_and_care_team_goals_follow_visibility_and_consent,
    goal_status_changes_need_a_reason_and_a_valid_transition,
    a_follow_up_review_rates_every_active_goal_and_moves_the_next_follow_up,
    my_goals_costs_the_same_number_of_statements_for_few_or_many_goals,
    goal_changes_are_kept_and_staff_see_which_follow_ups_are_due,
    signs_of_safety_assessments_and_strengths_are_recorded_and_kept,
);

fn nilsson_case() -> String {
    global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0000),
    )
}

fn member(n: u128) -> String {
    global_id(
        "FamilyMember",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0003_0000_0000 + n),
    )
}

const CREATE: &str = "mutation($input: CreateGoalInput!) { createGoal(input: $input) {
    goal { id title status visibility child { displayName } changes { field newValue } } userErrors { code field } } }";
const STEP: &str = "mutation($input: AddGoalStepInput!) { addGoalStep(input: $input) { step { id done description } userErrors { code field } } }";
const PROGRESS: &str = "mutation($input: AddGoalProgressInput!) { addGoalProgress(input: $input) { progress { note rating author { displayName } } userErrors { code field } } }";
const STATUS: &str = "mutation($input: ChangeGoalStatusInput!) { changeGoalStatus(input: $input) { goal { status changes { field oldValue newValue reason } } userErrors { code field } } }";
const REVIEW: &str = "mutation($input: RecordFollowUpInput!) { recordFollowUp(input: $input) {
    followUp { heldOn participants ratings { goal { title } rating } } userErrors { code field } } }";

async fn create_goal(
    app: &TestApp,
    token: &str,
    title: &str,
    visibility: &str,
    activate: bool,
) -> Value {
    app.graphql_as(
        token,
        CREATE,
        json!({ "input": { "caseId": nilsson_case(), "title": title, "description": format!("{title}, in our words"),
                           "horizon": "SHORT_TERM", "owner": "SHARED", "visibility": visibility, "activate": activate,
                           "childId": member(2) } }),
    )
    .await
}

async fn the_family_follows_its_goals_ticks_off_steps_and_adds_its_view(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;

    let created = create_goal(
        &app,
        &anna,
        "Elias goes to school every day",
        "FAMILY",
        true,
    )
    .await;
    let goal = &created["data"]["createGoal"]["goal"];
    assert_eq!(goal["status"], "ACTIVE", "{created}");
    assert_eq!(goal["child"]["displayName"], "Elias Nilsson");
    assert_eq!(
        goal["changes"],
        json!([{ "field": "CREATED", "newValue": "Elias goes to school every day" }])
    );
    let goal_id = goal["id"].clone();

    let step = app
        .graphql_as(&anna, STEP, json!({ "input": { "goalId": goal_id, "description": "Wake Elias at 7", "familyMemberId": member(1) } }))
        .await;
    let step_id = step["data"]["addGoalStep"]["step"]["id"].clone();
    // A step for someone not on the case is refused.
    let lena = app.login("caseworker2@exempelby.example").await;
    let lena_id = app.user_id(&lena).await;
    let stranger = app
        .graphql_as(
            &anna,
            STEP,
            json!({ "input": { "goalId": goal_id, "description": "x", "userId": lena_id } }),
        )
        .await;
    assert_eq!(
        stranger["data"]["addGoalStep"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "assignee"] }])
    );

    let mine = app
        .graphql_as(
            &sara,
            "{ myGoals { title openSteps { id description } nextReviewDue latestRating } }",
            json!({}),
        )
        .await;
    let goals: Vec<&Value> = mine["data"]["myGoals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["title"] == "Elias goes to school every day")
        .collect();
    assert_eq!(goals.len(), 1, "{mine}");
    assert_eq!(goals[0]["openSteps"][0]["description"], "Wake Elias at 7");
    assert!(goals[0]["nextReviewDue"].is_string());

    let ticked = app
        .graphql_as(&sara, "mutation($input: SetGoalStepDoneInput!) { setGoalStepDone(input: $input) { step { done } } }", json!({ "input": { "stepId": step_id, "done": true } }))
        .await;
    assert_eq!(
        ticked["data"]["setGoalStepDone"]["step"]["done"], true,
        "{ticked}"
    );

    let bad = app
        .graphql_as(
            &sara,
            PROGRESS,
            json!({ "input": { "goalId": goal_id, "note": "Better", "rating": 7 } }),
        )
        .await;
    assert_eq!(
        bad["data"]["addGoalProgress"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "rating"] }])
    );
    app.graphql_as(&sara, PROGRESS, json!({ "input": { "goalId": goal_id, "note": "He went four days this week", "rating": 4 } })).await;
    app.graphql_as(&anna, PROGRESS, json!({ "input": { "goalId": goal_id, "note": "School reports two absences", "rating": 2 } })).await;
    let views = app
        .graphql_as(&sara, "query($id: ID!) { node(id: $id) { ... on Goal { progress { rating author { displayName } } openSteps { id } } } }", json!({ "id": goal_id }))
        .await;
    assert_eq!(
        views["data"]["node"]["progress"],
        json!([{ "rating": 2, "author": { "displayName": "Anna Berg" } }, { "rating": 4, "author": { "displayName": "Sara Nilsson" } }]),
        "both views side by side, newest first"
    );
    assert_eq!(views["data"]["node"]["openSteps"], json!([]));
    app.stop().await;
}

async fn a_young_persons_private_goal_and_care_team_goals_follow_visibility_and_consent(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let elias = app.login("young@exempelby.example").await;
    let teacher = app.login("teacher@exempelby.example").await;

    let private = create_goal(&app, &elias, "My own goal", "YOUNG_PERSON", true).await;
    let private_goal = &private["data"]["createGoal"]["goal"];
    assert_eq!(
        private_goal["status"], "PROPOSED",
        "a family member's goal is proposed: {private}"
    );
    let by_guardian = create_goal(&app, &sara, "Hidden from me", "YOUNG_PERSON", false).await;
    assert_eq!(
        by_guardian["data"]["createGoal"]["userErrors"][0]["field"],
        json!(["input", "visibility"])
    );
    create_goal(&app, &anna, "Family goal", "FAMILY", true).await;
    let care_team = create_goal(&app, &anna, "School attendance plan", "CARE_TEAM", true).await;
    let care_team_id = care_team["data"]["createGoal"]["goal"]["id"].clone();

    // The goals this test made (the demo case has goals of its own too).
    let ours = ["My own goal", "Family goal", "School attendance plan"];
    let titles = |body: &Value| -> Vec<String> {
        body["data"]["case"]["goals"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|g| g["title"].as_str().unwrap().to_owned())
            .filter(|t| ours.contains(&t.as_str()))
            .collect()
    };
    let goals = "query($id: ID!) { case(id: $id) { goals { title } } }";
    let id = json!({ "id": nilsson_case() });
    assert_eq!(
        titles(&app.graphql_as(&sara, goals, id.clone()).await),
        ["Family goal", "School attendance plan"]
    );
    assert_eq!(
        titles(&app.graphql_as(&elias, goals, id.clone()).await),
        ["My own goal", "Family goal", "School attendance plan"]
    );
    assert_eq!(
        titles(&app.graphql_as(&anna, goals, id.clone()).await),
        ["My own goal", "Family goal", "School attendance plan"]
    );
    assert_eq!(
        titles(&app.graphql_as(&teacher, goals, id.clone()).await),
        ["School attendance plan"]
    );
    let direct = app
        .graphql_as(
            &sara,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": private_goal["id"] }),
        )
        .await;
    assert_eq!(first_error_code(&direct), Some("NOT_FOUND"));

    // Sara withdraws the school's consent: the care-team goal is gone at once.
    let consents = app
        .graphql_as(
            &sara,
            "query($id: ID!) { case(id: $id) { consents { id organisation { name } } } }",
            id.clone(),
        )
        .await;
    let school = consents["data"]["case"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["organisation"]["name"] == "Ekbackens skola")
        .unwrap()["id"]
        .clone();
    app.graphql_as(&sara, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { active } } }", json!({ "input": { "consentId": school } }))
        .await;
    let after = app
        .graphql_as(
            &teacher,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": care_team_id }),
        )
        .await;
    assert_eq!(first_error_code(&after), Some("NOT_FOUND"));
    app.stop().await;
}

async fn goal_status_changes_need_a_reason_and_a_valid_transition(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let elias = app.login("young@exempelby.example").await;
    let proposed = create_goal(&app, &elias, "Football twice a week", "FAMILY", false).await;
    let goal_id = proposed["data"]["createGoal"]["goal"]["id"].clone();

    let no_reason = app
        .graphql_as(
            &anna,
            STATUS,
            json!({ "input": { "goalId": goal_id, "status": "ACTIVE", "reason": " " } }),
        )
        .await;
    assert_eq!(
        no_reason["data"]["changeGoalStatus"]["userErrors"],
        json!([{ "code": "REQUIRED", "field": ["input", "reason"] }])
    );
    let skipping = app
        .graphql_as(
            &anna,
            STATUS,
            json!({ "input": { "goalId": goal_id, "status": "ACHIEVED", "reason": "Done" } }),
        )
        .await;
    assert_eq!(
        skipping["data"]["changeGoalStatus"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );
    let by_family = app
        .graphql_as(
            &elias,
            STATUS,
            json!({ "input": { "goalId": goal_id, "status": "ACTIVE", "reason": "I want it" } }),
        )
        .await;
    assert_eq!(first_error_code(&by_family), Some("FORBIDDEN"));

    let activated = app
        .graphql_as(&anna, STATUS, json!({ "input": { "goalId": goal_id, "status": "ACTIVE", "reason": "Agreed at the start conversation" } }))
        .await;
    let goal = &activated["data"]["changeGoalStatus"]["goal"];
    assert_eq!(goal["status"], "ACTIVE", "{activated}");
    assert_eq!(
        goal["changes"][1],
        json!({ "field": "STATUS", "oldValue": "PROPOSED", "newValue": "ACTIVE", "reason": "Agreed at the start conversation" })
    );
    app.stop().await;
}

async fn a_follow_up_review_rates_every_active_goal_and_moves_the_next_follow_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let first = create_goal(&app, &anna, "School every day", "FAMILY", true).await["data"]["createGoal"]["goal"]["id"].clone();
    let second = create_goal(&app, &anna, "Calmer evenings", "FAMILY", true).await["data"]["createGoal"]["goal"]["id"].clone();
    let today = app
        .graphql_as(
            &anna,
            "query($id: ID!) { case(id: $id) { nextFollowUpDue } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let due_before = today["data"]["case"]["nextFollowUpDue"].clone();
    let held_on = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .unwrap()
        .to_string();
    let review = |ratings: Value| json!({ "input": { "caseId": nilsson_case(), "heldOn": held_on, "participants": ["Sara Nilsson", "Elias Nilsson", "Anna Berg"], "ratings": ratings, "notes": "Good talk" } });

    let out_of_range = app
        .graphql_as(
            &anna,
            REVIEW,
            review(json!([{ "goalId": first, "rating": 0 }, { "goalId": second, "rating": 3 }])),
        )
        .await;
    assert_eq!(
        out_of_range["data"]["recordFollowUp"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "ratings", "0", "rating"] }])
    );
    let missing = app
        .graphql_as(
            &anna,
            REVIEW,
            review(json!([{ "goalId": first, "rating": 3 }])),
        )
        .await;
    assert_eq!(
        missing["data"]["recordFollowUp"]["userErrors"][0]["code"],
        "REQUIRED"
    );
    let unchanged = app
        .graphql_as(
            &anna,
            "query($id: ID!) { case(id: $id) { nextFollowUpDue followUps { heldOn } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    assert_eq!(
        unchanged["data"]["case"]["nextFollowUpDue"], due_before,
        "nothing changed"
    );
    assert_eq!(unchanged["data"]["case"]["followUps"], json!([]));

    // Every active goal is rated: ours and the demo case's own.
    let active = app
        .graphql_as(
            &anna,
            "query($id: ID!) { case(id: $id) { goals { id status } } }",
            json!({ "id": nilsson_case() }),
        )
        .await;
    let mut ratings = vec![
        json!({ "goalId": first, "rating": 2 }),
        json!({ "goalId": second, "rating": 4 }),
    ];
    for goal in active["data"]["case"]["goals"].as_array().unwrap() {
        if goal["status"] == "ACTIVE" && goal["id"] != first && goal["id"] != second {
            ratings.push(json!({ "goalId": goal["id"], "rating": 3 }));
        }
    }
    let recorded = app.graphql_as(&anna, REVIEW, review(json!(ratings))).await;
    let follow_up = &recorded["data"]["recordFollowUp"]["followUp"];
    assert_eq!(
        follow_up["participants"],
        json!(["Sara Nilsson", "Elias Nilsson", "Anna Berg"]),
        "{recorded}"
    );
    let case = app
        .graphql_as(&anna, "query($id: ID!) { case(id: $id) { nextFollowUpDue goals { title latestRating ratingHistory { heldOn rating } } } }", json!({ "id": nilsson_case() }))
        .await;
    let expected_due = (chrono::Utc::now().date_naive().pred_opt().unwrap()
        + chrono::Duration::days(42))
    .to_string();
    assert_eq!(
        case["data"]["case"]["nextFollowUpDue"], expected_due,
        "six weeks after the review"
    );
    let school_goal = case["data"]["case"]["goals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["title"] == "School every day")
        .unwrap()
        .clone();
    assert_eq!(school_goal["latestRating"], 2);
    assert_eq!(
        school_goal["ratingHistory"],
        json!([{ "heldOn": held_on, "rating": 2 }])
    );

    // Not on a closed case.
    let johan = app.login("partner@exempelby.example").await;
    let hassan = global_id(
        "Case",
        uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0002_0000_0001),
    );
    app.graphql_as(
        &johan,
        "mutation($input: CloseCaseInput!) { closeCase(input: $input) { userErrors { code } } }",
        json!({ "input": { "caseId": hassan, "reason": "Done" } }),
    )
    .await;
    let closed = app
        .graphql_as(&johan, REVIEW, json!({ "input": { "caseId": hassan, "heldOn": held_on, "participants": ["Ali"], "ratings": [] } }))
        .await;
    assert_eq!(
        closed["data"]["recordFollowUp"]["userErrors"][0]["code"],
        "INVALID_VALUE"
    );
    // Only staff who work the case record reviews.
    let karin = app.login("therapist@exempelby.example").await;
    let by_therapist = app.graphql_as(&karin, REVIEW, review(json!([]))).await;
    assert_eq!(first_error_code(&by_therapist), Some("FORBIDDEN"));
    app.stop().await;
}

async fn my_goals_costs_the_same_number_of_statements_for_few_or_many_goals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    const MY_GOALS: &str = "{ myGoals { title status openSteps { description dueOn } latestRating nextReviewDue progress { rating } child { displayName } } }";
    // The demo family's own goals come on top of the ones made here.
    let demo_goals = app.graphql_as(&sara, MY_GOALS, json!({})).await["data"]["myGoals"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    let mut costs = Vec::new();
    for round in 0..10 {
        let goal = create_goal(&app, &anna, &format!("Goal {round}"), "FAMILY", true).await["data"]
            ["createGoal"]["goal"]["id"]
            .clone();
        for step in 0..5 {
            app.graphql_as(&anna, STEP, json!({ "input": { "goalId": goal, "description": format!("Step {step}"), "familyMemberId": member(1) } })).await;
        }
        if round == 1 || round == 9 {
            let (fewest, body) = app.statements_for(&sara, MY_GOALS, json!({})).await;
            costs.push(fewest);
            assert_eq!(
                body["data"]["myGoals"].as_array().map(Vec::len),
                Some(demo_goals + round + 1),
                "{body}"
            );
        }
    }
    eprintln!(
        "SQL statements for myGoals with {} and with {} goals (5 steps each on ours): {costs:?}",
        demo_goals + 2,
        demo_goals + 10
    );
    assert_cost_does_not_grow(costs[0], costs[1], 8, "myGoals");
    assert!(costs[1] <= 25, "{costs:?}");
    app.stop().await;
}

async fn goal_changes_are_kept_and_staff_see_which_follow_ups_are_due(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let goal = create_goal(&app, &anna, "Homework", "FAMILY", true).await["data"]["createGoal"]["goal"]["id"].clone();
    const UPDATE: &str = "mutation($input: UpdateGoalInput!) { updateGoal(input: $input) {
        goal { title version changes { field oldValue newValue reason changedBy { displayName } } } userErrors { code field } } }";
    let next_month = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();

    let past = app
        .graphql_as(
            &anna,
            UPDATE,
            json!({ "input": { "goalId": goal, "version": 1, "targetDate": "2020-01-01" } }),
        )
        .await;
    assert_eq!(
        past["data"]["updateGoal"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "targetDate"] }])
    );
    let by_guardian = app
        .graphql_as(
            &sara,
            UPDATE,
            json!({ "input": { "goalId": goal, "version": 1, "title": "Mine" } }),
        )
        .await;
    assert_eq!(first_error_code(&by_guardian), Some("FORBIDDEN"));
    let updated = app
        .graphql_as(&anna, UPDATE, json!({ "input": { "goalId": goal, "version": 1, "title": "Homework four days a week", "targetDate": next_month, "reason": "Agreed with Elias" } }))
        .await;
    let changes = &updated["data"]["updateGoal"]["goal"]["changes"];
    assert_eq!(
        changes[1],
        json!({ "field": "TITLE", "oldValue": "Homework", "newValue": "Homework four days a week", "reason": "Agreed with Elias", "changedBy": { "displayName": "Anna Berg" } }),
        "{updated}"
    );
    assert_eq!(changes[2]["field"], "TARGET_DATE");
    let stale = app
        .graphql_as(
            &anna,
            UPDATE,
            json!({ "input": { "goalId": goal, "version": 1, "title": "Again" } }),
        )
        .await;
    assert_eq!(
        stale["data"]["updateGoal"]["userErrors"][0]["code"],
        "STALE_VERSION"
    );
    // The family sees the history.
    let seen = app
        .graphql_as(
            &sara,
            "query($id: ID!) { node(id: $id) { ... on Goal { changes { field } } } }",
            json!({ "id": goal }),
        )
        .await;
    assert_eq!(
        seen["data"]["node"]["changes"],
        json!([{ "field": "CREATED" }, { "field": "TITLE" }, { "field": "TARGET_DATE" }])
    );

    const DUE: &str = "query($before: Date!) { followUpsDue(before: $before) { id nextFollowUpDue goals { title } } }";
    let horizon = (chrono::Utc::now().date_naive() + chrono::Duration::days(400)).to_string();
    let due = app
        .graphql_as(&anna, DUE, json!({ "before": horizon }))
        .await;
    let cases = due["data"]["followUpsDue"]
        .as_array()
        .unwrap_or_else(|| panic!("{due}"));
    assert!(cases.len() >= 2, "{due}");
    let dues: Vec<&str> = cases
        .iter()
        .map(|c| c["nextFollowUpDue"].as_str().unwrap())
        .collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "most urgent first");
    assert!(cases.iter().any(|c| {
        c["goals"]
            .as_array()
            .is_some_and(|goals| goals.contains(&json!({ "title": "Homework four days a week" })))
    }));
    let none = app
        .graphql_as(&anna, DUE, json!({ "before": "2000-01-01" }))
        .await;
    assert_eq!(none["data"]["followUpsDue"], json!([]));
    assert_eq!(
        first_error_code(
            &app.graphql_as(&sara, DUE, json!({ "before": horizon }))
                .await
        ),
        Some("FORBIDDEN")
    );
    app.stop().await;
}

async fn signs_of_safety_assessments_and_strengths_are_recorded_and_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anna = app.login("caseworker@exempelby.example").await;
    let sara = app.login("guardian@exempelby.example").await;
    let teacher = app.login("teacher@exempelby.example").await;
    const ASSESS: &str = "mutation($input: RecordSafetyAssessmentInput!) { recordSafetyAssessment(input: $input) {
        assessment { scale worries workingWell needsToHappen perspective assessedOn } userErrors { code field } } }";
    let today = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .unwrap()
        .to_string();
    let assessment = |scale: i32| {
        json!({ "input": { "caseId": nilsson_case(), "assessedOn": today, "perspective": "FAMILY",
        "worries": ["Elias stays at home", ""], "workingWell": ["Grandmother helps"], "needsToHappen": ["A plan with the school"], "scale": scale } })
    };

    let too_high = app.graphql_as(&anna, ASSESS, assessment(11)).await;
    assert_eq!(
        too_high["data"]["recordSafetyAssessment"]["userErrors"],
        json!([{ "code": "INVALID_VALUE", "field": ["input", "scale"] }])
    );
    let by_guardian = app.graphql_as(&sara, ASSESS, assessment(5)).await;
    assert_eq!(first_error_code(&by_guardian), Some("FORBIDDEN"));
    let first = app.graphql_as(&anna, ASSESS, assessment(4)).await;
    assert_eq!(
        first["data"]["recordSafetyAssessment"]["assessment"],
        json!({ "scale": 4, "worries": ["Elias stays at home"], "workingWell": ["Grandmother helps"], "needsToHappen": ["A plan with the school"], "perspective": "FAMILY", "assessedOn": today }),
        "{first}"
    );
    app.graphql_as(&anna, ASSESS, assessment(6)).await;

    let strength = app
        .graphql_as(&sara, "mutation($input: AddFamilyStrengthInput!) { addFamilyStrength(input: $input) { strength { description recordedBy { displayName } } userErrors { code } } }",
            json!({ "input": { "caseId": nilsson_case(), "description": "Grandmother helps every week" } }))
        .await;
    assert_eq!(
        strength["data"]["addFamilyStrength"]["strength"]["recordedBy"]["displayName"],
        "Sara Nilsson",
        "{strength}"
    );

    let family = app
        .graphql_as(&sara, "query($id: ID!) { case(id: $id) { safetyAssessments { scale } strengths { description } } }", json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(
        family["data"]["case"]["safetyAssessments"],
        json!([{ "scale": 6 }, { "scale": 4 }]),
        "history kept, newest first"
    );
    assert_eq!(
        family["data"]["case"]["strengths"],
        json!([{ "description": "Grandmother helps every week" }])
    );
    let professional = app
        .graphql_as(&teacher, "query($id: ID!) { case(id: $id) { strengths { description } safetyAssessments { scale } } }", json!({ "id": nilsson_case() }))
        .await;
    assert_eq!(
        professional["data"]["case"]["strengths"],
        json!([{ "description": "Grandmother helps every week" }])
    );
    assert_eq!(
        professional["data"]["case"]["safetyAssessments"],
        Value::Null
    );
    assert_eq!(first_error_code(&professional), Some("FORBIDDEN"));
    app.stop().await;
}
