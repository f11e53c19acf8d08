//! The built-in development OIDC issuer for local mode: an ES256 key kept in
//! the data folder, its public key set, and minting of tokens, so that SSO
//! can be exercised without an external identity provider. Not for
//! production use.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use url::Url;

use super::oidc::{DEFAULT_ROLE_CLAIM, DEFAULT_TENANT_CLAIM, JwksSource, OidcError, OidcSettings};

/// The audience of the development issuer's tokens.
pub const DEV_AUDIENCE: &str = "emma-local";
/// The key's file name in the data folder (PKCS#8 DER, mode 0600).
pub const KEY_FILE: &str = "oidc-dev-issuer.p8";

#[derive(Debug, thiserror::Error)]
pub enum DevIssuerError {
    #[error("the development issuer's key file {path} could not be read or written: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the development issuer's key file {path} does not hold a P-256 PKCS#8 key")]
    InvalidKey { path: PathBuf },
    #[error("the development issuer could not generate a key")]
    KeyGeneration,
    #[error("the development issuer could not sign a token: {0}")]
    Signing(String),
}

/// What a minted token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevClaims {
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Written to the default tenant claim (`emma_tenant`).
    pub tenant: Option<String>,
    /// Written to the default role claim (`emma_role`).
    pub role: Option<String>,
    /// Defaults to the issuer's audience.
    pub audience: Option<String>,
    pub ttl: TimeDelta,
}

impl DevClaims {
    /// Claims for a subject alone, valid for an hour.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            email: None,
            name: None,
            tenant: None,
            role: None,
            audience: None,
            ttl: TimeDelta::hours(1),
        }
    }
}

/// The development issuer: one ES256 key, kept across restarts.
pub struct DevIssuer {
    issuer: Url,
    kid: String,
    jwk: Jwk,
    key: EncodingKey,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer.as_str())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// Loads the key from `data_dir`, or creates it there (readable by its
    /// owner only) on first use. `issuer_url` becomes the tokens' `iss`.
    pub fn load_or_create(data_dir: &Path, issuer_url: Url) -> Result<Self, DevIssuerError> {
        let path = data_dir.join(KEY_FILE);
        let io_error = |source| DevIssuerError::Io {
            path: path.clone(),
            source,
        };
        let pkcs8 = match fs::read(&path) {
            Ok(bytes) => {
                restrict_to_owner(&path).map_err(io_error)?;
                bytes
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(data_dir).map_err(io_error)?;
                create_key(&path)?
            }
            Err(e) => return Err(io_error(e)),
        };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
            .map_err(|_| DevIssuerError::InvalidKey { path: path.clone() })?;
        let jwk = public_jwk(&pair).ok_or(DevIssuerError::InvalidKey { path })?;
        let kid = jwk.common.key_id.clone().unwrap_or_default();
        Ok(Self {
            issuer: issuer_url,
            kid,
            jwk,
            key: EncodingKey::from_ec_der(&pkcs8),
        })
    }

    /// The tokens' `iss`.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The tokens' default `aud`.
    pub fn audience(&self) -> &str {
        DEV_AUDIENCE
    }

    /// The key id, an RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set: one P-256 key with its kid, `alg: ES256`, `use: sig`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// Verifier settings that accept this issuer's tokens, with the key set
    /// published at `jwks_url`.
    pub fn oidc_settings(&self, jwks_url: Url) -> OidcSettings {
        OidcSettings::new(self.issuer(), self.audience(), jwks_url)
    }

    /// A signed token for these claims, issued at `now`.
    pub fn mint(&self, claims: DevClaims, now: DateTime<Utc>) -> Result<String, DevIssuerError> {
        let issued = now.timestamp();
        let expires = (now + claims.ttl).timestamp();
        let mut body = Map::new();
        body.insert("iss".into(), self.issuer().into());
        body.insert("sub".into(), claims.subject.into());
        body.insert(
            "aud".into(),
            claims
                .audience
                .unwrap_or_else(|| DEV_AUDIENCE.to_owned())
                .into(),
        );
        body.insert("iat".into(), issued.into());
        body.insert("nbf".into(), issued.into());
        body.insert("exp".into(), expires.into());
        let optional = [
            ("email", claims.email),
            ("name", claims.name),
            (DEFAULT_TENANT_CLAIM, claims.tenant),
            (DEFAULT_ROLE_CLAIM, claims.role),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                body.insert(name.into(), Value::String(value));
            }
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &body, &self.key)
            .map_err(|e| DevIssuerError::Signing(e.to_string()))
    }
}

/// Local mode can verify the development issuer's tokens in-process: its
/// key set is the same whatever URL is asked for.
#[async_trait]
impl JwksSource for DevIssuer {
    async fn fetch(&self, _url: &Url) -> Result<JwkSet, OidcError> {
        Ok(self.jwks())
    }
}

/// Generates a key and publishes it at `path` with mode 0600. If another
/// process published one first, that one is used.
fn create_key(path: &Path) -> Result<Vec<u8>, DevIssuerError> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| DevIssuerError::KeyGeneration)?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|_| DevIssuerError::KeyGeneration)?
        .as_ref()
        .to_vec();
    publish_once(path, &pkcs8).map_err(|source| DevIssuerError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` readable by its owner only, unless a file is
/// there already; answers the bytes that ended up there.
fn publish_once(path: &Path, bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut temp_name = path.file_name().unwrap_or_default().to_owned();
    temp_name.push(format!("~tmp-{}", uuid::Uuid::new_v4().simple()));
    let temp = path.with_file_name(temp_name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        // A hard link publishes the whole file at once and, unlike a rename,
        // never replaces a key another process published meanwhile.
        fs::hard_link(&temp, path)
    })();
    let _ = fs::remove_file(&temp);
    match written {
        Ok(()) => Ok(bytes.to_vec()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => fs::read(path),
        Err(e) => Err(e),
    }
}

/// Makes an existing key file readable by its owner only.
fn restrict_to_owner(path: &Path) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "the development issuer's key file was readable by others; restricting it to 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The public half as a JWK, with its RFC 7638 thumbprint as kid.
fn public_jwk(pair: &EcdsaKeyPair) -> Option<Jwk> {
    // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
    let (&4, xy) = pair.public_key().as_ref().split_first()? else {
        return None;
    };
    if xy.len() != 64 {
        return None;
    }
    let (x, y) = xy.split_at(32);
    let mut jwk: Jwk = serde_json::from_value(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
        "use": "sig",
        "alg": "ES256",
    }))
    .ok()?;
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256).ok()?);
    Some(jwk)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::oidc::{OidcVerifier, VerifiedToken};
    use crate::ports::clock::ManualClock;

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T14:30:00+01:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn issuer_url() -> Url {
        Url::parse("http://127.0.0.1:8080/oidc").unwrap()
    }

    fn jwks_url() -> Url {
        Url::parse("http://127.0.0.1:8080/oidc/jwks.json").unwrap()
    }

    fn issuer_in(dir: &Path) -> DevIssuer {
        DevIssuer::load_or_create(dir, issuer_url()).unwrap()
    }

    /// A verifier that trusts `trusted`'s key set, its clock at `start()`.
    fn verifier_trusting(trusted: DevIssuer) -> (OidcVerifier, ManualClock) {
        let clock = ManualClock::new(start());
        let settings = trusted.oidc_settings(jwks_url());
        let verifier = OidcVerifier::new(settings, Arc::new(trusted), Arc::new(clock.clone()));
        (verifier.unwrap(), clock)
    }

    fn full_claims() -> DevClaims {
        DevClaims {
            email: Some("erika.muster@example.test".into()),
            name: Some("Erika Muster".into()),
            tenant: Some("sparkasse-nord".into()),
            role: Some("tenant_admin".into()),
            ttl: TimeDelta::minutes(30),
            ..DevClaims::new("dev-erika")
        }
    }

    #[tokio::test]
    async fn a_minted_token_passes_the_verifier() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer_in(dir.path());
        let token = issuer.mint(full_claims(), start()).unwrap();
        let (verifier, _) = verifier_trusting(issuer);

        let verified = verifier.verify(&token).await.unwrap();

        assert_eq!(
            verified,
            VerifiedToken {
                subject: "dev-erika".into(),
                email: Some("erika.muster@example.test".into()),
                name: Some("Erika Muster".into()),
                tenant: Some("sparkasse-nord".into()),
                role: Some("tenant_admin".into()),
                expires_at: start() + TimeDelta::minutes(30),
            }
        );
    }

    #[tokio::test]
    async fn a_minted_token_expires_after_its_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer_in(dir.path());
        let token = issuer.mint(full_claims(), start()).unwrap();
        let (verifier, clock) = verifier_trusting(issuer);

        clock.advance(TimeDelta::minutes(32));

        assert_eq!(verifier.verify(&token).await, Err(OidcError::Expired));
    }

    #[tokio::test]
    async fn a_token_minted_for_another_audience_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer_in(dir.path());
        let claims = DevClaims {
            audience: Some("another-app".into()),
            ..full_claims()
        };
        let token = issuer.mint(claims, start()).unwrap();
        let (verifier, _) = verifier_trusting(issuer);

        assert_eq!(verifier.verify(&token).await, Err(OidcError::WrongAudience));
    }

    #[tokio::test]
    async fn a_token_from_another_dev_issuer_is_refused() {
        let trusted_dir = tempfile::tempdir().unwrap();
        let other_dir = tempfile::tempdir().unwrap();
        let trusted = issuer_in(trusted_dir.path());
        let other = issuer_in(other_dir.path());
        assert_ne!(trusted.kid(), other.kid());
        let token = other.mint(full_claims(), start()).unwrap();
        let (verifier, _) = verifier_trusting(trusted);

        assert_eq!(verifier.verify(&token).await, Err(OidcError::UnknownKeyId));
    }

    #[tokio::test]
    async fn a_token_from_another_key_under_the_trusted_kid_is_refused() {
        let trusted_dir = tempfile::tempdir().unwrap();
        let other_dir = tempfile::tempdir().unwrap();
        let trusted = issuer_in(trusted_dir.path());
        let mut other = issuer_in(other_dir.path());
        other.kid = trusted.kid().to_owned();
        let token = other.mint(full_claims(), start()).unwrap();
        let (verifier, _) = verifier_trusting(trusted);

        assert_eq!(verifier.verify(&token).await, Err(OidcError::BadSignature));
    }

    #[tokio::test]
    async fn the_key_file_is_reused_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let first = issuer_in(dir.path());
        let token = first.mint(full_claims(), start()).unwrap();

        let second = issuer_in(dir.path());

        assert_eq!(second.kid(), first.kid());
        assert_eq!(second.jwks(), first.jwks());
        let (verifier, _) = verifier_trusting(second);
        assert!(verifier.verify(&token).await.is_ok());
    }

    #[test]
    fn the_key_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        issuer_in(&data);
        let path = data.join(KEY_FILE);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        issuer_in(&data);

        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(KEY_FILE)]);
    }

    #[test]
    fn a_corrupt_key_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::write(&path, b"not a key").unwrap();

        let loaded = DevIssuer::load_or_create(dir.path(), issuer_url());

        assert!(
            matches!(loaded, Err(DevIssuerError::InvalidKey { .. })),
            "{loaded:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }

    #[test]
    fn the_key_set_holds_only_the_public_key_with_kid_alg_and_use() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer_in(dir.path());

        let jwks = serde_json::to_value(issuer.jwks()).unwrap();

        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys[0].as_object().unwrap();
        let mut fields: Vec<_> = key.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["kid"], issuer.kid());
    }

    #[test]
    fn the_issuer_and_audience_are_the_configured_url_and_emma_local() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer_in(dir.path());

        assert_eq!(issuer.issuer(), "http://127.0.0.1:8080/oidc");
        assert_eq!(issuer.audience(), "emma-local");
        let settings = issuer.oidc_settings(jwks_url());
        assert_eq!(settings.issuer, issuer.issuer());
        assert_eq!(settings.audience, "emma-local");
    }
}
