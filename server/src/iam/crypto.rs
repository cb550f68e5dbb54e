//! Secrets of the IAM service: password hashing (argon2id), the JWT signing key, and the data key
//! that encrypts access-key secrets at rest. Keys live in `<data_dir>/keys/`, created on first start
//! with mode 0600.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::{Rng, RngCore, rngs::OsRng};
use serde::{Deserialize, Serialize};

/// What a session token asserts. Short names keep tokens small.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Account id.
    pub acc: String,
    /// The access key the session was exchanged for, if any: disabling it ends the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akid: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The session's id: sign-out records it, and a recorded session is refused.
    pub jti: String,
    /// Issue time in milliseconds: a password session older than the user's last password
    /// change is refused (`iat` has only seconds).
    pub iat_ms: i64,
    /// For an assumed account: the operator user who assumed it, and that user's account. The
    /// session lives only while that user may still assume the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asa: Option<String>,
}

pub const ISSUER: &str = "nuvem";

pub struct Keys {
    jwt_encoding: EncodingKey,
    jwt_decoding: DecodingKey,
    secrets: Aes256Gcm,
    /// A real hash of a random password, verified when a user does not exist so that a wrong user
    /// name costs the same time as a wrong password (no user enumeration by timing).
    dummy_hash: String,
}

fn load_or_create_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    use std::io::Write;
    if let Ok(bytes) = std::fs::read(path) {
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| anyhow::anyhow!("{} must hold exactly 32 bytes", path.display()));
    }
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(&key)?;
    f.sync_all()?;
    Ok(key)
}

impl Keys {
    /// Loads the keys from `<data_dir>/keys`, creating any that are missing.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let dir = data_dir.join("keys");
        std::fs::create_dir_all(&dir)?;
        let jwt = load_or_create_key(&dir.join("jwt.key"))?;
        let data = load_or_create_key(&dir.join("secrets.key"))?;
        Ok(Keys {
            jwt_encoding: EncodingKey::from_secret(&jwt),
            jwt_decoding: DecodingKey::from_secret(&jwt),
            secrets: Aes256Gcm::new(&data.into()),
            dummy_hash: hash_password(&random_password())?,
        })
    }

    pub fn issue_token(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.jwt_encoding,
        )?)
    }

    /// Verifies signature, issuer and expiry (no leeway: an expired token is expired).
    pub fn verify_token(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &self.jwt_decoding, &validation)?.claims)
    }

    pub fn encrypt_secret(&self, secret: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .secrets
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .map_err(|_| anyhow::anyhow!("encrypting an access key secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(B64.encode(out))
    }

    pub fn decrypt_secret(&self, stored: &str) -> anyhow::Result<String> {
        let raw = B64.decode(stored)?;
        anyhow::ensure!(raw.len() > 12, "stored secret is too short");
        let (nonce, ct) = raw.split_at(12);
        let pt = self
            .secrets
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| {
                anyhow::anyhow!("an access key secret does not decrypt with this data key")
            })?;
        Ok(String::from_utf8(pt)?)
    }

    /// A hash to verify against when the user does not exist (see the field).
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }
}

/// Hashes with argon2id and the crate's recommended parameters (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A readable generated password: 20 characters without look-alikes (no 0/O, 1/l/I).
pub fn random_password() -> String {
    random_chars(
        b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        20,
    )
}

/// Access key ids look like AWS's (`AKIA…`) but say Nuvem: `NKIA` + 16 base32 characters.
pub fn new_access_key_id() -> String {
    format!(
        "NKIA{}",
        random_chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    )
}

/// 40 characters, as AWS secrets.
pub fn new_secret_access_key() -> String {
    random_chars(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    )
}

/// Twelve digits, not starting with 0, as AWS account ids.
pub fn new_account_id() -> String {
    let mut rng = OsRng;
    format!(
        "{}{:011}",
        rng.gen_range(1..10),
        rng.gen_range(0..100_000_000_000u64)
    )
}

/// Resource ids: a short type prefix and 24 hex digits (`usr-…`, `grp-…`, `pol-…`).
pub fn new_id(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..24])
}

/// Constant-time comparison of two secrets.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secrets_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong horse"));
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load(dir.path()).unwrap();
        let enc = keys.encrypt_secret("s3cr3t").unwrap();
        assert!(!enc.contains("s3cr3t"));
        assert_eq!(keys.decrypt_secret(&enc).unwrap(), "s3cr3t");
        // The same directory yields the same keys after a restart.
        let again = Keys::load(dir.path()).unwrap();
        assert_eq!(again.decrypt_secret(&enc).unwrap(), "s3cr3t");
        assert_eq!(new_account_id().len(), 12);
        assert_eq!(new_access_key_id().len(), 20);
        assert_eq!(new_secret_access_key().len(), 40);
        assert!(secrets_equal("abc", "abc") && !secrets_equal("abc", "abd"));
    }
}
