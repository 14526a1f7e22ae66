//! Persisted queries. Automatic persisted queries (the Apollo protocol the
//! mobile apps speak): a client sends `extensions.persistedQuery.sha256Hash`
//! without the query text; if the server knows the hash it runs the stored
//! text, otherwise it answers `PersistedQueryNotFound` and the client sends
//! text and hash together once, which the server checks and remembers (in
//! this process, up to [`MAX_STORED`] texts; when full it forgets them all and
//! clients register again). And a trusted-documents mode for production
//! (`TRUSTED_DOCUMENTS=file.json`, a JSON object of sha256 → query text, the
//! apps' operations): only those documents run, by hash or by text, so a
//! leaked token cannot run arbitrary queries.

use std::{collections::HashMap, sync::Mutex};

use poem::http::StatusCode;
use sha2::{Digest, Sha256};

use crate::gate::Refusal;

/// Most query texts remembered for automatic persisted queries.
pub const MAX_STORED: usize = 5_000;

/// The persisted queries of this process.
#[derive(Debug, Default)]
pub struct PersistedQueries {
    /// Texts registered by clients (automatic persisted queries).
    learned: Mutex<HashMap<String, String>>,
    /// The only documents allowed, when trusted documents are on.
    trusted: Option<HashMap<String, String>>,
}

/// Lower-case hex sha256 of a query text.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedQueries {
    /// Automatic persisted queries only.
    pub fn automatic() -> Self {
        Self::default()
    }

    /// Only the documents of a manifest (a JSON object of sha256 → text);
    /// every hash is checked against its text.
    pub fn trusted(manifest: &str) -> anyhow::Result<Self> {
        let documents: HashMap<String, String> = serde_json::from_str(manifest).map_err(|e| {
            anyhow::anyhow!("TRUSTED_DOCUMENTS: not a JSON object of sha256 to query text ({e})")
        })?;
        if let Some((hash, _)) = documents
            .iter()
            .find(|(hash, text)| sha256_hex(text) != hash.to_lowercase())
        {
            anyhow::bail!("TRUSTED_DOCUMENTS: the text of {hash} does not hash to it");
        }
        Ok(PersistedQueries {
            learned: Mutex::default(),
            trusted: Some(
                documents
                    .into_iter()
                    .map(|(hash, text)| (hash.to_lowercase(), text))
                    .collect(),
            ),
        })
    }

    /// Fills in or checks the request's query text.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), Refusal> {
        let hash = request
            .extensions
            .remove("persistedQuery")
            .and_then(|value| {
                let json = value.into_json().ok()?;
                (json["version"] == 1)
                    .then(|| json["sha256Hash"].as_str().map(str::to_lowercase))
                    .flatten()
            });
        if let Some(trusted) = &self.trusted {
            let key = match (&hash, request.query.is_empty()) {
                (Some(hash), true) => hash.clone(),
                _ => sha256_hex(&request.query),
            };
            return match trusted.get(&key) {
                Some(text) => {
                    request.query = text.clone();
                    Ok(())
                }
                None => Err(refusal(
                    "UNTRUSTED_DOCUMENT",
                    "Only the apps' registered operations are accepted here.",
                )),
            };
        }
        let Some(hash) = hash else {
            return Ok(());
        };
        let Ok(mut learned) = self.learned.lock() else {
            return Ok(());
        };
        if request.query.is_empty() {
            return match learned.get(&hash) {
                Some(text) => {
                    request.query = text.clone();
                    Ok(())
                }
                // The message is what Apollo clients look for.
                None => Err(refusal(
                    "PERSISTED_QUERY_NOT_FOUND",
                    "PersistedQueryNotFound",
                )),
            };
        }
        if sha256_hex(&request.query) != hash {
            return Err(refusal(
                "BAD_REQUEST",
                "The persisted query's sha256Hash does not match the query.",
            ));
        }
        if learned.len() >= MAX_STORED {
            learned.clear();
        }
        learned.insert(hash, request.query.clone());
        Ok(())
    }
}

fn refusal(code: &'static str, message: &str) -> Refusal {
    Refusal {
        // Apollo clients read the error from a 200 answer and retry.
        status: if code == "PERSISTED_QUERY_NOT_FOUND" {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        code,
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, hash: Option<&str>) -> async_graphql::Request {
        let mut body = serde_json::json!({ "query": query });
        if let Some(hash) = hash {
            body["extensions"] =
                serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        }
        serde_json::from_value(body).unwrap_or_else(|_| async_graphql::Request::new(""))
    }

    #[test]
    fn a_hash_is_learned_once_with_its_text_and_checked() {
        let store = PersistedQueries::automatic();
        let text = "{ viewer { user { id } } }";
        let hash = sha256_hex(text);
        let mut miss = request("", Some(&hash));
        assert_eq!(
            store.resolve(&mut miss).err().map(|r| r.code),
            Some("PERSISTED_QUERY_NOT_FOUND")
        );
        let mut wrong = request("{ __typename }", Some(&hash));
        assert_eq!(
            store.resolve(&mut wrong).err().map(|r| r.code),
            Some("BAD_REQUEST")
        );
        let mut register = request(text, Some(&hash));
        assert!(store.resolve(&mut register).is_ok());
        let mut hit = request("", Some(&hash));
        assert!(store.resolve(&mut hit).is_ok());
        assert_eq!(hit.query, text);
        let mut plain = request("{ __typename }", None);
        assert!(store.resolve(&mut plain).is_ok());
    }

    #[test]
    fn trusted_documents_run_only_what_the_manifest_lists() {
        let text = "query Home { viewer { user { id } } }";
        let manifest = serde_json::json!({ sha256_hex(text): text }).to_string();
        let store = PersistedQueries::trusted(&manifest).unwrap_or_default();
        let mut by_hash = request("", Some(&sha256_hex(text)));
        assert!(store.resolve(&mut by_hash).is_ok());
        assert_eq!(by_hash.query, text);
        let mut by_text = request(text, None);
        assert!(store.resolve(&mut by_text).is_ok());
        let mut other = request("{ __typename }", None);
        assert_eq!(
            store.resolve(&mut other).err().map(|r| r.code),
            Some("UNTRUSTED_DOCUMENT")
        );
        let forged = serde_json::json!({ sha256_hex("{ a }"): "{ b }" }).to_string();
        assert!(PersistedQueries::trusted(&forged).is_err());
    }
}
