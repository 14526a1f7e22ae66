//! The audit trail: sign-ins and account changes are recorded, admins page
//! through their own tenant's trail, and tampering is refused or detected.

use integration_tests::{
    Backend, TestApp, api_binary, first_error_code, on_both_backends, process,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

on_both_backends!(
    an_admin_pages_through_the_tenants_sign_ins_newest_first,
    only_admins_read_the_trail_and_page_sizes_are_bounded,
    the_trail_cannot_be_changed_and_tampering_is_detected,
);

const TRAIL: &str = "query($first: Int!, $after: String) {
  auditTrail(first: $first, after: $after) {
    edges { cursor node { action detail actor { displayName } subjectType requestId } }
    pageInfo { hasNextPage endCursor }
  }
}";

async fn trail(app: &TestApp, token: &str, first: i32, after: Option<&str>) -> Value {
    app.graphql_as(token, TRAIL, json!({ "first": first, "after": after }))
        .await
}

async fn an_admin_pages_through_the_tenants_sign_ins_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_in("guardian@exempelby.example").await;
    app.login_with("guardian@exempelby.example", "wrong password", "x")
        .await;
    app.sign_in("caseworker@grannby.example").await; // another tenant
    let admin = app.sign_in("admin@exempelby.example").await;

    let first_page = trail(&app, &admin.access, 2, None).await;
    let connection = &first_page["data"]["auditTrail"];
    let edges = connection["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0]["node"]["action"], "LOGIN_SUCCEEDED");
    assert_eq!(edges[0]["node"]["actor"]["displayName"], "Eva Admin");
    assert_eq!(edges[1]["node"]["action"], "LOGIN_FAILED");
    assert_eq!(edges[1]["node"]["detail"], "WRONG_PASSWORD");
    assert_eq!(edges[1]["node"]["subjectType"], "User");
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        edges[0]["node"]["requestId"].as_str().map(str::len),
        Some(36)
    );

    let cursor = connection["pageInfo"]["endCursor"].as_str().unwrap();
    let second_page = trail(&app, &admin.access, 10, Some(cursor)).await;
    let rest: Vec<&Value> = second_page["data"]["auditTrail"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(rest.len(), 1, "only this tenant's events: {rest:?}");
    assert_eq!(rest[0]["action"], "LOGIN_SUCCEEDED");
    assert_eq!(rest[0]["actor"]["displayName"], "Sara Nilsson");
    assert_eq!(
        second_page["data"]["auditTrail"]["pageInfo"]["hasNextPage"],
        false
    );
    app.stop().await;
}

async fn only_admins_read_the_trail_and_page_sizes_are_bounded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for email in [
        "teamlead@exempelby.example",
        "caseworker@exempelby.example",
        "guardian@exempelby.example",
        "caseworker@grannby.example",
    ] {
        let token = app.sign_in(email).await.access;
        let body = trail(&app, &token, 10, None).await;
        assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{email}");
    }
    let admin = app.sign_in("admin@exempelby.example").await;
    for first in [0, 101] {
        let body = trail(&app, &admin.access, first, None).await;
        assert_eq!(
            first_error_code(&body),
            Some("BAD_USER_INPUT"),
            "first: {first}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], json!(["first"]));
    }
    let body = trail(&app, &admin.access, 10, Some("garbage")).await;
    assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"));
    app.stop().await;
}

async fn the_trail_cannot_be_changed_and_tampering_is_detected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_in("guardian@exempelby.example").await;
    app.sign_in("caseworker@exempelby.example").await;
    let db_backend = app.db.get_database_backend();
    let mut envs = vec![(
        "DATA_DIR".to_owned(),
        app.database.data_dir.display().to_string(),
    )];
    if let Some(url) = &app.database.database_url {
        envs.push(("DATABASE_URL".to_owned(), url.clone()));
    }
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let verify = || process::run(api_binary!(), &["verify-audit"], &env_refs);

    let intact = verify().await;
    assert!(intact.status.success(), "{}", intact.stderr);
    assert!(
        intact.stderr.contains("audit trail intact"),
        "{}",
        intact.stderr
    );

    let sql = |s: &str| Statement::from_string(db_backend, s.to_owned());
    let update = app
        .db
        .execute_raw(sql("UPDATE audit_event SET detail = 'x'"))
        .await;
    assert!(update.is_err(), "the database refuses to change audit rows");
    let delete = app.db.execute_raw(sql("DELETE FROM audit_event")).await;
    assert!(delete.is_err(), "the database refuses to delete audit rows");

    // Someone with direct database access removes the guard and edits a row.
    match db_backend {
        DbBackend::Postgres => {
            app.db
                .execute_raw(sql(
                    "DROP TRIGGER audit_event_no_update_or_delete ON audit_event",
                ))
                .await
                .unwrap();
        }
        _ => {
            app.db
                .execute_raw(sql("DROP TRIGGER audit_event_no_update"))
                .await
                .unwrap();
        }
    }
    app.db
        .execute_raw(sql(
            "UPDATE audit_event SET actor_user_id = NULL WHERE seq = 1",
        ))
        .await
        .unwrap();

    let broken = verify().await;
    assert!(!broken.status.success());
    assert!(
        broken.stderr.contains("entry 1 was altered"),
        "{}",
        broken.stderr
    );
    app.stop().await;
}
