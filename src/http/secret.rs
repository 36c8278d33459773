//! Staff secrets: Argon2id password hashes (PHC strings) and random session and CSRF tokens,
//! stored only as a hash.
//!
//! A session token is 256 random bits, so its stored hash need not be slow: it is Argon2id at
//! the smallest cost (8 KiB, one pass) with a fixed salt, used as a plain one-way function,
//! which keeps a stolen database from yielding live tokens without another hash crate.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::rand_core::RngCore;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The password is shorter than [`MIN_PASSWORD_CHARS`].
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// The hasher failed (it does not for valid parameters).
    #[error("password hashing failed")]
    Hash,
}

/// The shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A PHC string of `password` hashed with Argon2id (OWASP parameters: 19 MiB, 2 passes) and
/// a random salt. CPU-heavy (tens of milliseconds): call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(SecretError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| SecretError::Hash)
}

/// Whether `password` matches the PHC string `hash`; `false` for an unreadable hash.
/// CPU-heavy like [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Runs a verification against a fixed hash, so an unknown username takes as long to refuse
/// as a wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// A fresh random token: 32 bytes from the OS generator, as 64 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The stored form of a session token (64 hex digits).
pub fn token_digest(token: &str) -> String {
    let mut out = [0u8; 32];
    let digest = Params::new(Params::MIN_M_COST, 1, 1, Some(out.len()))
        .ok()
        .map(|p| Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
        .and_then(|a| {
            a.hash_password_into(token.as_bytes(), b"carecall-session", &mut out)
                .ok()
        });
    match digest {
        Some(()) => hex(&out),
        // Unreachable with these constant parameters; an empty digest matches no session.
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert!(matches!(hash_password("short"), Err(SecretError::TooShort)));
    }

    #[test]
    fn tokens_are_random_and_their_digest_is_stable() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_digest(&a), token_digest(&a));
        assert_ne!(token_digest(&a), token_digest(&b));
        assert_ne!(token_digest(&a), a);
        assert_eq!(token_digest(&a).len(), 64);
    }
}
