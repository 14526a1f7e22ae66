//! External identity: verifying OpenID Connect ID tokens from the municipality's
//! e-ID broker (BankID, Freja, MitID … behind one OIDC issuer).
//!
//! The issuer's signing keys come from its JWKS (found through
//! `/.well-known/openid-configuration`, or `OIDC_JWKS_URL`). They are cached;
//! an unknown `kid` triggers a refetch (at most every 30 s), and when the issuer
//! cannot be reached the last good key set keeps working.

use std::time::{Duration, Instant};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{JwkSet, KeyAlgorithm},
};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::token::LEEWAY_SECONDS;

/// Where the external identity provider is.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer (`iss`) exactly as it appears in ID tokens.
    pub issuer: String,
    /// This application's client id: the required `aud`.
    pub client_id: String,
    /// The JWKS URL; `None` means discovery from the issuer.
    pub jwks_url: Option<String>,
}

/// What a verified ID token says.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    /// The issuer.
    pub iss: String,
    /// The subject: the person's stable id at the issuer.
    pub sub: String,
    /// The nonce the app sent in its authentication request.
    pub nonce: Option<String>,
}

/// Why an ID token was refused (only logged; clients get one generic answer).
#[derive(Debug, PartialEq, Eq)]
pub enum IdTokenRefusal {
    /// Malformed, unknown key, bad signature, wrong issuer/audience, expired, …
    Invalid,
    /// The nonce does not match the one the app sent.
    NonceMismatch,
    /// The issuer's keys could not be fetched and none are cached.
    KeysUnavailable,
}

struct CachedKeys {
    set: JwkSet,
    fetched_at: Instant,
}

/// Verifies ID tokens of one issuer.
pub struct OidcVerifier {
    config: OidcConfig,
    http: reqwest::Client,
    keys: RwLock<Option<CachedKeys>>,
}

/// How long a fetched key set is used before it is fetched again.
const KEYS_MAX_AGE: Duration = Duration::from_secs(600);
/// Least time between two fetches caused by an unknown `kid`.
const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

impl OidcVerifier {
    /// A verifier for `config`.
    pub fn new(config: OidcConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(OidcVerifier {
            config,
            http,
            keys: RwLock::new(None),
        })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    async fn fetch_keys(&self) -> anyhow::Result<JwkSet> {
        let jwks_url = match &self.config.jwks_url {
            Some(url) => url.clone(),
            None => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                self.http
                    .get(discovery)
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<Discovery>()
                    .await?
                    .jwks_uri
            }
        };
        Ok(self
            .http
            .get(jwks_url)
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await?)
    }

    /// The decoding key for `kid`, fetching the key set when it is missing,
    /// stale, or does not know `kid`.
    async fn key_for(
        &self,
        kid: &str,
    ) -> Result<(DecodingKey, Option<KeyAlgorithm>), IdTokenRefusal> {
        let lookup = |set: &JwkSet| {
            set.find(kid)
                .map(|jwk| (DecodingKey::from_jwk(jwk).ok(), jwk.common.key_algorithm))
        };
        {
            let cached = self.keys.read().await;
            if let Some(cached) = cached.as_ref()
                && cached.fetched_at.elapsed() < KEYS_MAX_AGE
                && let Some((Some(key), alg)) = lookup(&cached.set)
            {
                return Ok((key, alg));
            }
        }
        let mut cached = self.keys.write().await;
        let may_fetch = cached
            .as_ref()
            .is_none_or(|c| c.fetched_at.elapsed() >= REFETCH_INTERVAL);
        if may_fetch {
            match self.fetch_keys().await {
                Ok(set) => {
                    *cached = Some(CachedKeys {
                        set,
                        fetched_at: Instant::now(),
                    })
                }
                Err(error) => {
                    tracing::warn!(%error, "fetching the OIDC issuer's keys failed; using the last good set");
                }
            }
        }
        match cached.as_ref() {
            None => Err(IdTokenRefusal::KeysUnavailable),
            Some(c) => match lookup(&c.set) {
                Some((Some(key), alg)) => Ok((key, alg)),
                _ => Err(IdTokenRefusal::Invalid),
            },
        }
    }

    /// Verifies an ID token: signature with the issuer's key (RS256, ES256 or
    /// EdDSA, as the key says), `iss`, `aud` = our client id, `exp` (5 s leeway),
    /// `nbf` if present, and the nonce.
    pub async fn verify(&self, id_token: &str, nonce: &str) -> Result<IdClaims, IdTokenRefusal> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| IdTokenRefusal::Invalid)?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(IdTokenRefusal::Invalid);
        }
        let kid = header.kid.ok_or(IdTokenRefusal::Invalid)?;
        let (key, key_alg) = self.key_for(&kid).await?;
        if let Some(key_alg) = key_alg
            && format!("{key_alg:?}") != format!("{:?}", header.alg)
        {
            return Err(IdTokenRefusal::Invalid);
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|_| IdTokenRefusal::Invalid)?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) || nonce.is_empty() {
            return Err(IdTokenRefusal::NonceMismatch);
        }
        Ok(claims)
    }
}
