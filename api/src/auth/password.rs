//! Password hashing with argon2id at the OWASP-recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane).

use std::sync::OnceLock;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (argon2 cost does not depend on it, but bodies must stay small).
pub const MAX_PASSWORD_CHARS: usize = 256;

fn argon2() -> Argon2<'static> {
    // The parameters are constants known to be valid.
    #[allow(clippy::unwrap_used)]
    let params = Params::new(19 * 1024, 2, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most this many argon2 computations run at once, so a burst of sign-ins
/// cannot take every blocking thread (or all memory: 19 MiB each).
static HASHING_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Hashes a password off the async threads, behind the hashing limit.
pub async fn hash_password_async(password: String) -> anyhow::Result<String> {
    let _slot = HASHING_SLOTS.acquire().await?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Verifies a password off the async threads, behind the hashing limit.
/// `stored = None` still does the full work (see `verify_password`).
pub async fn verify_password_async(
    password: String,
    stored: Option<String>,
) -> anyhow::Result<bool> {
    let _slot = HASHING_SLOTS.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref())).await?)
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored PHC string. With `None` (unknown account,
/// or no password set yet) it verifies against a fixed dummy hash so that the
/// time taken does not reveal whether the account exists, and returns false.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        hash_password("dummy password that matches no account").unwrap_or_default()
    });
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", Some(&phc)));
        assert!(!verify_password("correct horse battery!", Some(&phc)));
    }

    #[test]
    fn an_unknown_account_never_verifies() {
        assert!(!verify_password(
            "dummy password that matches no account",
            None
        ));
    }
}
