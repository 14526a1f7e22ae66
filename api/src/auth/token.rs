//! Access tokens (short-lived EdDSA JWTs) and refresh tokens (opaque, stored hashed).
//!
//! Access tokens are signed with an Ed25519 key identified by a `kid` (its RFC 7638
//! thumbprint); the public keys are published at `/.well-known/jwks.json`. After a
//! key rotation the previous public keys stay accepted (TOKEN_PREVIOUS_PUBLIC_KEYS)
//! until the tokens they signed have expired.

use std::{collections::HashMap, io::Write, path::Path};

use anyhow::Context;
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey, pkcs8::EncodePrivateKey};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{Config, Environment};

/// How long an access token is valid.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(15);
/// How long a session (and its refresh token) lives without being refreshed.
pub const SESSION_LIFETIME: Duration = Duration::days(30);
/// The file in DATA_DIR that keeps the development signing key.
pub const DEV_KEY_FILE: &str = "token-signing.key";
/// The `typ` claim of access tokens; nothing else may pass as one.
pub const ACCESS_TOKEN_TYPE: &str = "access";
/// Clock leeway when validating `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 5;
const SEED_BYTES: usize = 32;

/// What an access token says about its bearer: ids only, no personal data and
/// no list of cases (access is decided from the database on every request).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The tenant id.
    pub tid: Uuid,
    /// The session id: revoking the session ends the token at once.
    pub sid: Uuid,
    /// Token type: always `access`.
    pub typ: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The keys that sign and verify access tokens, and derive refresh tokens.
pub struct TokenKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
    issuer: String,
    audience: String,
    refresh_key: [u8; 32],
}

impl TokenKeys {
    /// Builds keys from the current Ed25519 seed and the public keys of previous
    /// signing keys that are still accepted.
    pub fn from_seed(
        seed: &[u8; SEED_BYTES],
        previous_public_keys: &[[u8; 32]],
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Self> {
        let signing = SigningKey::from_bytes(seed);
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        let current_public = signing.verifying_key();
        let kid = thumbprint(&current_public);
        let mut decoding = HashMap::new();
        let mut jwks = Vec::new();
        for public in
            std::iter::once(current_public.to_bytes()).chain(previous_public_keys.iter().copied())
        {
            let verifying = VerifyingKey::from_bytes(&public).map_err(|_| {
                anyhow::anyhow!("TOKEN_PREVIOUS_PUBLIC_KEYS holds an invalid Ed25519 key")
            })?;
            let key_id = thumbprint(&verifying);
            jwks.push(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(public),
                "kid": key_id,
                "use": "sig",
                "alg": "EdDSA",
            }));
            decoding.insert(key_id, DecodingKey::from_ed_der(&public));
        }
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(seed).map_err(|_| anyhow::anyhow!("HMAC key"))?;
        mac.update(b"refresh-token-key");
        let refresh_key: [u8; 32] = mac.finalize().into_bytes().into();
        Ok(TokenKeys {
            kid,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding,
            jwks: serde_json::json!({ "keys": jwks }),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            refresh_key,
        })
    }

    /// TOKEN_SIGNING_KEY if given; in development a key generated once and kept in
    /// DATA_DIR. In production a missing key is a configuration error.
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        let seed = match &config.token_signing_key {
            Some(encoded) => decode_32(encoded, "TOKEN_SIGNING_KEY")?,
            None => {
                anyhow::ensure!(
                    config.app_env == Environment::Development,
                    "TOKEN_SIGNING_KEY is required when APP_ENV=production"
                );
                load_or_create_dev_key(&config.data_dir)?
            }
        };
        let previous = config
            .token_previous_public_keys
            .iter()
            .filter(|k| !k.trim().is_empty())
            .map(|k| decode_32(k, "TOKEN_PREVIOUS_PUBLIC_KEYS"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Self::from_seed(&seed, &previous, &config.token_issuer, &config.token_issuer)
    }

    /// The JSON Web Key Set of every accepted public key.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The `kid` of the current signing key.
    pub fn current_kid(&self) -> &str {
        &self.kid
    }

    /// Signs an access token for a session; returns it with its expiry.
    pub fn issue_access_token(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires_at = now + ACCESS_TOKEN_LIFETIME;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            tid: tenant_id,
            sid: session_id,
            typ: ACCESS_TOKEN_TYPE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .context("signing an access token")?;
        Ok((token, expires_at))
    }

    /// Verifies an access token: EdDSA only (no `none`, no HMAC), a known `kid`,
    /// the signature, `exp` and `nbf` with 5 s leeway, `iss`, `aud`, and
    /// `typ = access`. `None` for anything else.
    pub fn verify_access_token(&self, token: &str) -> Option<AccessClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = self.decoding.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .ok()?
            .claims;
        (claims.typ == ACCESS_TOKEN_TYPE).then_some(claims)
    }

    /// The refresh token of a session's `generation`: the session id, the
    /// generation and an HMAC over both. Derived rather than random so that a
    /// phone retrying a refresh whose answer it lost can be given the same new
    /// token again; the server stores only its hash.
    pub fn refresh_token(&self, session_id: Uuid, generation: i64) -> String {
        let mut bytes = Vec::with_capacity(56);
        bytes.extend_from_slice(session_id.as_bytes());
        bytes.extend_from_slice(&generation.to_be_bytes());
        let mac = self.refresh_mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The session id and generation of a refresh token this server issued;
    /// `None` for anything forged or malformed (the MAC is checked in constant time).
    pub fn parse_refresh_token(&self, token: &str) -> Option<(Uuid, i64)> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != 56 {
            return None;
        }
        let (payload, mac) = bytes.split_at(24);
        self.refresh_mac(payload).verify_slice(mac).ok()?;
        let session_id = Uuid::from_slice(&payload[..16]).ok()?;
        let generation = i64::from_be_bytes(payload[16..24].try_into().ok()?);
        Some((session_id, generation))
    }

    fn refresh_mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.refresh_key)
            .expect("HMAC accepts any key length");
        mac.update(b"refresh:");
        mac.update(payload);
        mac
    }
}

/// RFC 7638 JWK thumbprint of an Ed25519 public key, base64url.
fn thumbprint(key: &VerifyingKey) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(key.to_bytes())
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn decode_32(encoded: &str, variable: &str) -> anyhow::Result<[u8; 32]> {
    let trimmed = encoded.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .with_context(|| format!("{variable} is not valid base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("{variable} must encode exactly 32 bytes (an Ed25519 key)"))
}

fn load_or_create_dev_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(DEV_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => decode_32(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::db::ensure_writable_dir(data_dir)?;
            let mut seed = [0u8; SEED_BYTES];
            rand::rng().fill_bytes(&mut seed);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(&path)
                .with_context(|| format!("DATA_DIR: cannot create {}", path.display()))?;
            file.write_all(STANDARD.encode(seed).as_bytes())?;
            file.sync_all()?;
            Ok(seed)
        }
        Err(e) => Err(e).with_context(|| format!("DATA_DIR: cannot read {}", path.display())),
    }
}

/// The stored form of a refresh token or invitation code: hex SHA-256. These
/// carry 256 bits of entropy, so a fast hash is enough and lookups stay indexable.
pub fn hash_secret(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random secret (256 bits, URL-safe), for invitation codes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> TokenKeys {
        TokenKeys::from_seed(&[seed; 32], &[], "iss", "iss").unwrap()
    }

    #[test]
    fn a_token_signed_with_another_key_is_rejected() {
        let ours = keys(1);
        let theirs = keys(2);
        let (token, _) = theirs
            .issue_access_token(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Utc::now())
            .unwrap();
        assert!(ours.verify_access_token(&token).is_none());
        assert!(theirs.verify_access_token(&token).is_some());
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let keys = keys(1);
        let long_ago = Utc::now() - Duration::hours(1);
        let (token, _) = keys
            .issue_access_token(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), long_ago)
            .unwrap();
        assert!(keys.verify_access_token(&token).is_none());
    }

    #[test]
    fn tokens_of_a_previous_key_stay_valid_after_rotation() {
        let old = keys(1);
        let old_public = SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes();
        let rotated = TokenKeys::from_seed(&[2; 32], &[old_public], "iss", "iss").unwrap();
        let (token, _) = old
            .issue_access_token(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Utc::now())
            .unwrap();
        assert!(rotated.verify_access_token(&token).is_some());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        assert_ne!(rotated.current_kid(), old.current_kid());
    }

    #[test]
    fn refresh_tokens_differ_per_session_and_generation_and_are_stable() {
        let keys = keys(1);
        let session = Uuid::now_v7();
        assert_eq!(
            keys.refresh_token(session, 1),
            keys.refresh_token(session, 1)
        );
        assert_eq!(
            keys.parse_refresh_token(&keys.refresh_token(session, 7)),
            Some((session, 7))
        );
        assert_eq!(
            self::keys(2).parse_refresh_token(&keys.refresh_token(session, 7)),
            None,
            "another server's token is refused"
        );
        let mut tampered = keys.refresh_token(session, 7);
        tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
        assert_eq!(keys.parse_refresh_token(&tampered), None);
        assert_ne!(
            keys.refresh_token(session, 1),
            keys.refresh_token(session, 2)
        );
        assert_ne!(
            keys.refresh_token(session, 1),
            keys.refresh_token(Uuid::now_v7(), 1)
        );
        assert_eq!(hash_secret("a").len(), 64);
    }
}
