//! Access-token attacks: every forged, stale or misused token is refused, and the
//! public keys are published for other services.

use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use integration_tests::{Backend, TestApp, on_both_backends};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

on_both_backends!(
    the_jwks_publishes_the_key_that_verifies_access_tokens,
    forged_stale_and_misused_tokens_are_refused,
);

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

async fn jwks(app: &TestApp) -> Value {
    app.client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn the_jwks_publishes_the_key_that_verifies_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.sign_in("caseworker@exempelby.example").await.access;

    let keys = jwks(&app).await;

    let key = &keys["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key["kid"]);
    // Another service verifies the token with nothing but the JWKS.
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["family-services-api"]);
    validation.set_issuer(&["family-services-api"]);
    let verified = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(verified.claims["typ"], "access");
    let claims = verified.claims.as_object().unwrap();
    for personal in ["email", "name", "displayName", "cases"] {
        assert!(
            !claims.contains_key(personal),
            "no personal data in the token: {claims:?}"
        );
    }
    app.stop().await;
}

async fn forged_stale_and_misused_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let real = app.sign_in("caseworker@exempelby.example").await.access;
    let claims = claims_of(&real);
    let kid = header_of(&real)["kid"].as_str().unwrap().to_owned();
    let public_x = jwks(&app).await["keys"][0]["x"]
        .as_str()
        .unwrap()
        .to_owned();
    // The server's own signing key, to show that valid signatures on bad claims fail too.
    let seed = std::fs::read_to_string(app.database.data_dir.join("token-signing.key")).unwrap();
    let seed: [u8; 32] = STANDARD.decode(seed.trim()).unwrap().try_into().unwrap();
    let server_key = EncodingKey::from_ed_der(
        SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .unwrap()
            .as_bytes(),
    );
    let attacker_key = EncodingKey::from_ed_der(
        SigningKey::from_bytes(&[7u8; 32])
            .to_pkcs8_der()
            .unwrap()
            .as_bytes(),
    );
    let now = chrono::Utc::now().timestamp();
    let with = |changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let eddsa = |claims: &Value, key: &EncodingKey| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    };
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let secret = URL_SAFE_NO_PAD.decode(&public_x).unwrap();
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap()
    };
    let tampered = {
        let parts: Vec<&str> = real.split('.').collect();
        let other_tenant = with(json!({ "tid": "01930000-0000-7000-8000-000000000002" }));
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(other_tenant.to_string()),
            parts[2]
        )
    };

    let attacks: Vec<(&str, String)> = vec![
        ("signed with another key", eddsa(&claims, &attacker_key)),
        ("alg none", alg_none),
        ("HS256 with the public key as secret", hs256_with_public_key),
        (
            "expired",
            eddsa(
                &with(json!({ "iat": now - 3600, "nbf": now - 3600, "exp": now - 60 })),
                &server_key,
            ),
        ),
        (
            "not yet valid",
            eddsa(&with(json!({ "nbf": now + 600 })), &server_key),
        ),
        (
            "wrong audience",
            eddsa(&with(json!({ "aud": "another-service" })), &server_key),
        ),
        (
            "wrong issuer",
            eddsa(&with(json!({ "iss": "https://evil.example" })), &server_key),
        ),
        (
            "not an access token",
            eddsa(&with(json!({ "typ": "refresh" })), &server_key),
        ),
        ("no expiry", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("exp");
            eddsa(&c, &server_key)
        }),
        ("tampered payload", tampered),
    ];

    for (attack, token) in attacks {
        assert_eq!(
            app.role_or_error(&token).await,
            "UNAUTHENTICATED",
            "{attack}"
        );
    }
    // The control: the same machinery with the right claims is accepted.
    assert_eq!(
        app.role_or_error(&eddsa(&claims, &server_key)).await,
        "CASEWORKER"
    );
    app.stop().await;
}
