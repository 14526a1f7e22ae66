//! Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).

use std::{io::Write, path::Path};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{Config, Environment};

/// How long an access token is valid.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(15);
/// How long a session (and its refresh token) lives without being used.
pub const SESSION_LIFETIME: Duration = Duration::days(30);
/// The file in DATA_DIR that keeps the development signing key.
pub const DEV_KEY_FILE: &str = "token-signing.key";
const MIN_KEY_BYTES: usize = 32;

/// What an access token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The tenant id.
    pub tid: Uuid,
    /// The session id: revoking the session ends the token at once.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// The keys that sign and verify access tokens (HMAC-SHA256).
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    /// Builds keys from raw secret bytes.
    pub fn from_secret(secret: &[u8]) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// TOKEN_SIGNING_KEY if given; in development a key generated once and kept in
    /// DATA_DIR. In production a missing key is a configuration error.
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        if let Some(encoded) = &config.token_signing_key {
            let secret = STANDARD
                .decode(encoded.trim())
                .context("TOKEN_SIGNING_KEY is not valid base64")?;
            anyhow::ensure!(
                secret.len() >= MIN_KEY_BYTES,
                "TOKEN_SIGNING_KEY must encode at least {MIN_KEY_BYTES} bytes"
            );
            return Ok(Self::from_secret(&secret));
        }
        anyhow::ensure!(
            config.app_env == Environment::Development,
            "TOKEN_SIGNING_KEY is required when APP_ENV=production"
        );
        let secret = load_or_create_dev_key(&config.data_dir)?;
        Ok(Self::from_secret(&secret))
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
            sub: user_id,
            tid: tenant_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing an access token")?;
        Ok((token, expires_at))
    }

    /// Verifies signature and expiry; `None` for any invalid token.
    pub fn verify_access_token(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

fn load_or_create_dev_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(DEV_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = STANDARD
                .decode(text.trim())
                .with_context(|| format!("{} is not valid base64", path.display()))?;
            anyhow::ensure!(
                secret.len() >= MIN_KEY_BYTES,
                "{} holds too short a key",
                path.display()
            );
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::db::ensure_writable_dir(data_dir)?;
            let mut secret = vec![0u8; MIN_KEY_BYTES];
            rand::rng().fill_bytes(&mut secret);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(STANDARD.encode(&secret).as_bytes())?;
            file.sync_all()?;
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A new opaque refresh token (256 random bits, URL-safe).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token: hex SHA-256. The token has 256 bits of
/// entropy, so a fast hash is enough and lookups stay indexable.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_signed_with_another_key_is_rejected() {
        let ours = TokenKeys::from_secret(&[1u8; 32]);
        let theirs = TokenKeys::from_secret(&[2u8; 32]);
        let now = Utc::now();
        let (token, _) = theirs
            .issue_access_token(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), now)
            .unwrap();
        assert!(ours.verify_access_token(&token).is_none());
        assert!(theirs.verify_access_token(&token).is_some());
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let keys = TokenKeys::from_secret(&[1u8; 32]);
        let long_ago = Utc::now() - Duration::hours(1);
        let (token, _) = keys
            .issue_access_token(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), long_ago)
            .unwrap();
        assert!(keys.verify_access_token(&token).is_none());
    }

    #[test]
    fn refresh_tokens_are_unique_and_hashed_stably() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
        assert_eq!(hash_refresh_token(&a).len(), 64);
    }
}
