//! Refresh-token rotation, reuse detection, sign-out, password change,
//! deactivation and throttling, end to end.

use integration_tests::{
    Backend, DEMO_PASSWORD, TestApp, first_error_code, on_both_backends, tokens_of,
};
use serde_json::json;

on_both_backends!(
    refreshing_rotates_the_refresh_token_and_keeps_the_session,
    a_retried_refresh_within_the_grace_window_returns_the_same_new_token,
    reusing_an_old_refresh_token_ends_the_whole_session,
    logout_ends_this_session_and_logout_everywhere_ends_all,
    a_user_can_sign_out_a_lost_phone_but_not_someone_elses,
    changing_the_password_ends_the_other_sessions,
    a_deactivated_users_still_valid_token_is_refused_at_once,
    repeated_failures_lock_the_account_name_whether_or_not_it_exists,
);

async fn refreshing_rotates_the_refresh_token_and_keeps_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.sign_in("guardian@exempelby.example").await;

    let body = app.refresh(&first.refresh).await;
    let second = tokens_of(&body["data"]["refreshSession"]).expect("new tokens");
    let body = app.refresh(&second.refresh).await;
    let third = tokens_of(&body["data"]["refreshSession"]).expect("newer tokens");

    assert_ne!(first.refresh, second.refresh);
    assert_ne!(second.refresh, third.refresh);
    assert_eq!(app.role_or_error(&third.access).await, "GUARDIAN");
    let sessions = app
        .graphql_as(
            &third.access,
            "{ viewer { sessions { current } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        sessions["data"]["viewer"]["sessions"],
        json!([{ "current": true }]),
        "still one session"
    );
    app.stop().await;
}

async fn a_retried_refresh_within_the_grace_window_returns_the_same_new_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.sign_in("guardian@exempelby.example").await;

    // The phone sends the refresh, loses the answer, and sends it again.
    let lost = app.refresh(&first.refresh).await;
    let retried = app.refresh(&first.refresh).await;

    let lost = tokens_of(&lost["data"]["refreshSession"]).expect("tokens");
    let retried = tokens_of(&retried["data"]["refreshSession"]).expect("tokens on retry");
    assert_eq!(lost.refresh, retried.refresh, "the same new refresh token");
    assert_eq!(app.role_or_error(&retried.access).await, "GUARDIAN");
    let next = app.refresh(&retried.refresh).await;
    assert!(
        tokens_of(&next["data"]["refreshSession"]).is_some(),
        "{next}"
    );
    app.stop().await;
}

async fn reusing_an_old_refresh_token_ends_the_whole_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stolen = app.sign_in("caseworker@exempelby.example").await;
    let body = app.refresh(&stolen.refresh).await;
    let second = tokens_of(&body["data"]["refreshSession"]).unwrap();
    let body = app.refresh(&second.refresh).await;
    let legitimate = tokens_of(&body["data"]["refreshSession"]).unwrap();
    // In use, so the server keeps the session in memory (the access cache).
    assert_eq!(app.role_or_error(&legitimate.access).await, "CASEWORKER");

    // The thief replays the first refresh token, two rotations old.
    let replay = app.refresh(&stolen.refresh).await;

    assert_eq!(first_error_code(&replay), Some("UNAUTHENTICATED"));
    assert_eq!(
        app.role_or_error(&legitimate.access).await,
        "UNAUTHENTICATED",
        "the whole session ended"
    );
    let after = app.refresh(&legitimate.refresh).await;
    assert_eq!(first_error_code(&after), Some("UNAUTHENTICATED"));
    let forged = app.refresh("not-a-refresh-token").await;
    assert_eq!(first_error_code(&forged), Some("UNAUTHENTICATED"));
    app.stop().await;
}

async fn logout_ends_this_session_and_logout_everywhere_ends_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let phone = app.sign_in("guardian@exempelby.example").await;
    let tablet = app.sign_in("guardian@exempelby.example").await;

    let body = app
        .graphql_as(
            &phone.access,
            "mutation { logout { endedSessionCount userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["logout"]["endedSessionCount"], 1);
    assert_eq!(app.role_or_error(&phone.access).await, "UNAUTHENTICATED");
    assert_eq!(
        first_error_code(&app.refresh(&phone.refresh).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(app.role_or_error(&tablet.access).await, "GUARDIAN");

    let laptop = app.sign_in("guardian@exempelby.example").await;
    let body = app
        .graphql_as(
            &laptop.access,
            "mutation { logoutEverywhere { endedSessionCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["logoutEverywhere"]["endedSessionCount"], 2);
    assert_eq!(app.role_or_error(&tablet.access).await, "UNAUTHENTICATED");
    assert_eq!(app.role_or_error(&laptop.access).await, "UNAUTHENTICATED");
    app.stop().await;
}

async fn a_user_can_sign_out_a_lost_phone_but_not_someone_elses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lost_phone = app.sign_in("young@exempelby.example").await;
    let laptop = app.sign_in("young@exempelby.example").await;
    let other = app.sign_in("guardian@exempelby.example").await;
    let sessions = app
        .graphql_as(
            &laptop.access,
            "{ viewer { sessions { id current } } }",
            json!({}),
        )
        .await;
    let lost_id = sessions["data"]["viewer"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .map(|s| s["id"].clone())
        .expect("the other session is listed");
    const REVOKE: &str = "mutation($input: RevokeSessionInput!) {
        revokeSession(input: $input) { session { id revokedAt } userErrors { code } } }";

    let by_someone_else = app
        .graphql_as(
            &other.access,
            REVOKE,
            json!({ "input": { "sessionId": lost_id } }),
        )
        .await;
    assert_eq!(first_error_code(&by_someone_else), Some("NOT_FOUND"));
    assert_eq!(app.role_or_error(&lost_phone.access).await, "YOUNG_PERSON");

    let by_owner = app
        .graphql_as(
            &laptop.access,
            REVOKE,
            json!({ "input": { "sessionId": lost_id } }),
        )
        .await;
    assert!(
        by_owner["data"]["revokeSession"]["session"]["revokedAt"].is_string(),
        "{by_owner}"
    );
    assert_eq!(
        app.role_or_error(&lost_phone.access).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(app.role_or_error(&laptop.access).await, "YOUNG_PERSON");

    let garbage = app
        .graphql_as(
            &laptop.access,
            REVOKE,
            json!({ "input": { "sessionId": "nonsense" } }),
        )
        .await;
    assert_eq!(first_error_code(&garbage), Some("BAD_USER_INPUT"));
    assert_eq!(
        garbage["errors"][0]["extensions"]["field"],
        json!(["input", "sessionId"])
    );
    app.stop().await;
}

async fn changing_the_password_ends_the_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let here = app.sign_in("therapist@exempelby.example").await;
    let elsewhere = app.sign_in("therapist@exempelby.example").await;
    const CHANGE: &str = "mutation($input: ChangePasswordInput!) {
        changePassword(input: $input) { endedSessionCount userErrors { code field } } }";

    let wrong = app
        .graphql_as(&here.access, CHANGE, json!({ "input": { "currentPassword": "wrong", "newPassword": "a much better password" } }))
        .await;
    assert_eq!(
        wrong["data"]["changePassword"]["userErrors"],
        json!([{ "code": "INVALID_CREDENTIALS", "field": ["input", "currentPassword"] }])
    );
    let short = app
        .graphql_as(
            &here.access,
            CHANGE,
            json!({ "input": { "currentPassword": DEMO_PASSWORD, "newPassword": "short" } }),
        )
        .await;
    assert_eq!(
        short["data"]["changePassword"]["userErrors"],
        json!([{ "code": "TOO_SHORT", "field": ["input", "newPassword"] }])
    );
    assert_eq!(
        app.role_or_error(&elsewhere.access).await,
        "FAMILY_THERAPIST",
        "nothing changed yet"
    );

    let changed = app
        .graphql_as(&here.access, CHANGE, json!({ "input": { "currentPassword": DEMO_PASSWORD, "newPassword": "a much better password" } }))
        .await;
    assert_eq!(
        changed["data"]["changePassword"]["endedSessionCount"], 1,
        "{changed}"
    );
    assert_eq!(app.role_or_error(&here.access).await, "FAMILY_THERAPIST");
    assert_eq!(
        app.role_or_error(&elsewhere.access).await,
        "UNAUTHENTICATED"
    );
    let old = app
        .login_with("therapist@exempelby.example", DEMO_PASSWORD, "x")
        .await;
    assert_eq!(
        old["data"]["login"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let new = app
        .login_with("therapist@exempelby.example", "a much better password", "x")
        .await;
    assert!(tokens_of(&new["data"]["login"]).is_some(), "{new}");
    app.stop().await;
}

async fn a_deactivated_users_still_valid_token_is_refused_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@exempelby.example").await;
    let caseworker = app.sign_in("partner@exempelby.example").await;
    let caseworker_id = app.user_id(&caseworker.access).await;
    const DEACTIVATE: &str = "mutation($input: DeactivateUserInput!) {
        deactivateUser(input: $input) { user { active } userErrors { code } } }";

    let by_colleague = app
        .graphql_as(
            &app.sign_in("caseworker@exempelby.example").await.access,
            DEACTIVATE,
            json!({ "input": { "userId": caseworker_id } }),
        )
        .await;
    assert_eq!(first_error_code(&by_colleague), Some("FORBIDDEN"));

    let body = app
        .graphql_as(
            &admin.access,
            DEACTIVATE,
            json!({ "input": { "userId": caseworker_id } }),
        )
        .await;
    assert_eq!(
        body["data"]["deactivateUser"]["user"]["active"], false,
        "{body}"
    );

    assert_eq!(
        app.role_or_error(&caseworker.access).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        first_error_code(&app.refresh(&caseworker.refresh).await),
        Some("UNAUTHENTICATED")
    );
    let again = app
        .login_with("partner@exempelby.example", DEMO_PASSWORD, "x")
        .await;
    assert_eq!(
        again["data"]["login"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let admin_id = app.user_id(&admin.access).await;
    let self_deactivation = app
        .graphql_as(
            &admin.access,
            DEACTIVATE,
            json!({ "input": { "userId": admin_id } }),
        )
        .await;
    assert_eq!(first_error_code(&self_deactivation), Some("FORBIDDEN"));
    app.stop().await;
}

async fn repeated_failures_lock_the_account_name_whether_or_not_it_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for email in ["guardian2@exempelby.example", "nobody@exempelby.example"] {
        for attempt in 1..=5 {
            let body = app.login_with(email, "wrong password!", "x").await;
            assert_eq!(
                body["data"]["login"]["userErrors"][0]["code"], "INVALID_CREDENTIALS",
                "{email} attempt {attempt}: {body}"
            );
        }
        // Locked now: even the right password is refused, and an unknown account
        // looks exactly like a real one.
        let body = app.login_with(email, DEMO_PASSWORD, "x").await;
        assert_eq!(
            first_error_code(&body),
            Some("RATE_LIMITED"),
            "{email}: {body}"
        );
        let retry_after = body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .expect("a retry-after");
        assert!((800..=900).contains(&retry_after), "{retry_after}");
    }
    // Another account from the same address is not locked (the address limit is higher).
    assert!(
        tokens_of(
            &app.login_with("guardian@exempelby.example", DEMO_PASSWORD, "x")
                .await["data"]["login"]
        )
        .is_some()
    );
    app.stop().await;
}
