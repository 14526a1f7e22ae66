//! Sign-in with e-ID: ID tokens from an OIDC issuer the test serves on loopback.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use integration_tests::{Backend, TestApp, on_both_backends, serve_json, tokens_of};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

on_both_backends!(an_invited_guardian_links_an_e_id_and_signs_in_with_it);

const CLIENT_ID: &str = "family-app";
const ACCEPT: &str = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) {
    viewer { role user { id } } userErrors { code field } } }";
const LOGIN: &str = "mutation($input: LoginWithIdTokenInput!) { loginWithIdToken(input: $input) {
    tokens { accessToken refreshToken } viewer { role user { id } } userErrors { code field } } }";

struct Broker {
    issuer: String,
    key: EncodingKey,
}

impl Broker {
    fn id_token(&self, claims: Value) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut all = json!({
            "iss": self.issuer, "aud": CLIENT_ID, "sub": "broker-subject-42",
            "iat": now, "exp": now + 300, "nonce": "n-1",
        });
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("broker-key-1".to_owned());
        jsonwebtoken::encode(&header, &all, &self.key).unwrap()
    }
}

fn ed25519(seed: u8) -> (EncodingKey, String) {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let encoding = EncodingKey::from_ed_der(signing.to_pkcs8_der().unwrap().as_bytes());
    (
        encoding,
        URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes()),
    )
}

async fn an_invited_guardian_links_an_e_id_and_signs_in_with_it(backend: Backend) {
    let (key, x) = ed25519(9);
    // The issuer: discovery and JWKS served on loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "broker-key-1", "alg": "EdDSA", "use": "sig" }] });
    let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") });
    let broker_server = serve_json(
        listener,
        vec![
            ("/.well-known/openid-configuration".to_owned(), discovery),
            ("/jwks".to_owned(), jwks),
        ],
    );
    let broker = Broker {
        issuer: issuer.clone(),
        key,
    };
    let app = TestApp::spawn_with(backend, |config| {
        config.oidc_issuer = Some(issuer.clone());
        config.oidc_client_id = Some(CLIENT_ID.to_owned());
    })
    .await;
    let caseworker = app.sign_in("caseworker@exempelby.example").await;
    let (_, parent, _) = integration_tests::open_family_case(&app, &caseworker.access, "Eid").await;
    let invited = app
        .graphql_as(&caseworker.access, "mutation($input: InviteFamilyMemberInput!) { inviteFamilyMember(input: $input) { code } }",
            json!({ "input": { "familyMemberId": parent, "email": "e-id.parent@family.example" } }))
        .await;
    let code = invited["data"]["inviteFamilyMember"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // Accepting with an ID token whose nonce is not the app's fails, and
    // giving both a password and a token is refused.
    let wrong_nonce = app
        .graphql(ACCEPT, json!({ "input": { "code": code, "idToken": broker.id_token(json!({})), "nonce": "other" } }))
        .await;
    assert_eq!(
        wrong_nonce["data"]["acceptInvitation"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let both = app
        .graphql(ACCEPT, json!({ "input": { "code": code, "password": "a long password here", "idToken": "x" } }))
        .await;
    assert_eq!(
        both["data"]["acceptInvitation"]["userErrors"][0]["code"],
        "EXACTLY_ONE_REQUIRED"
    );

    let accepted = app
        .graphql(ACCEPT, json!({ "input": { "code": code, "idToken": broker.id_token(json!({})), "nonce": "n-1" } }))
        .await;
    assert_eq!(
        accepted["data"]["acceptInvitation"]["viewer"]["role"], "GUARDIAN",
        "{accepted}"
    );
    let user_id = accepted["data"]["acceptInvitation"]["viewer"]["user"]["id"].clone();

    let login = |token: String, nonce: &str| {
        app.graphql(
            LOGIN,
            json!({ "input": { "idToken": token, "nonce": nonce } }),
        )
    };
    let signed_in = login(broker.id_token(json!({ "nonce": "n-2" })), "n-2").await;
    assert_eq!(
        signed_in["data"]["loginWithIdToken"]["viewer"]["user"]["id"], user_id,
        "{signed_in}"
    );
    let tokens = tokens_of(&signed_in["data"]["loginWithIdToken"]).unwrap();
    assert_eq!(app.role_or_error(&tokens.access).await, "GUARDIAN");

    let now = chrono::Utc::now().timestamp();
    let (other_key, _) = ed25519(10);
    let forged = {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("broker-key-1".to_owned());
        jsonwebtoken::encode(&header, &json!({ "iss": issuer, "aud": CLIENT_ID, "sub": "broker-subject-42", "exp": now + 300, "nonce": "n" }), &other_key).unwrap()
    };
    let refused: Vec<(&str, String)> = vec![
        ("another key", forged),
        (
            "wrong audience",
            broker.id_token(json!({ "aud": "another-app", "nonce": "n" })),
        ),
        (
            "wrong issuer",
            broker.id_token(json!({ "iss": "https://evil.example", "nonce": "n" })),
        ),
        (
            "expired",
            broker.id_token(json!({ "exp": now - 60, "nonce": "n" })),
        ),
        (
            "nonce mismatch",
            broker.id_token(json!({ "nonce": "stale" })),
        ),
    ];
    for (attack, token) in refused {
        let body = login(token, "n").await;
        assert_eq!(
            body["data"]["loginWithIdToken"]["userErrors"],
            json!([{ "code": "INVALID_CREDENTIALS", "field": ["input", "idToken"] }]),
            "{attack}: {body}"
        );
    }
    let unlinked = login(
        broker.id_token(json!({ "sub": "someone-else", "nonce": "n" })),
        "n",
    )
    .await;
    assert_eq!(
        unlinked["data"]["loginWithIdToken"]["userErrors"][0]["code"],
        "EXTERNAL_IDENTITY_NOT_LINKED"
    );

    // The broker's key endpoint goes down: the cached keys keep working.
    broker_server.abort();
    let still = login(broker.id_token(json!({ "nonce": "n-3" })), "n-3").await;
    assert!(
        tokens_of(&still["data"]["loginWithIdToken"]).is_some(),
        "{still}"
    );
    app.stop().await;
}
