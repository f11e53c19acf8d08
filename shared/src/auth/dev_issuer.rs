//! The built-in development OIDC issuer for local mode: an ES256 key kept in
//! the data folder, its public key set, and minting of tokens, so that SSO
//! can be exercised without an external identity provider. Not for
//! production use.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
use super::oidc_client::{AuthorizationRequest, CodeGrant, TokenEndpoint, code_challenge};
use crate::ports::clock::{Clock, SystemClock};

/// The audience of the development issuer's tokens.
pub const DEV_AUDIENCE: &str = "emma-local";
/// The key's file name in the data folder (PKCS#8 DER, mode 0600).
pub const KEY_FILE: &str = "oidc-dev-issuer.p8";
/// An authorization code is good for this long, and once.
const CODE_TTL: TimeDelta = TimeDelta::seconds(60);
/// At most this many codes wait to be redeemed; older ones are dropped.
const MAX_PENDING_CODES: usize = 1000;

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
    #[error("the authorization request is not acceptable: {0}")]
    BadRequest(&'static str),
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
    /// The nonce of the sign-in an ID token answers.
    pub nonce: Option<String>,
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
            nonce: None,
            ttl: TimeDelta::hours(1),
        }
    }
}

/// The development issuer: one ES256 key, kept across restarts, and the
/// authorization codes it has handed out (in memory, single use).
pub struct DevIssuer {
    issuer: Url,
    kid: String,
    jwk: Jwk,
    key: EncodingKey,
    clock: Arc<dyn Clock>,
    codes: Mutex<HashMap<String, IssuedCode>>,
}

/// What an authorization code stands for until it is redeemed.
struct IssuedCode {
    claims: DevClaims,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    expires_at: DateTime<Utc>,
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
            clock: Arc::new(SystemClock),
            codes: Mutex::new(HashMap::new()),
        })
    }

    /// The issuer with `clock` for token times and code expiry.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks an authorization request (code flow, S256 challenge, a nonce,
    /// a redirect back to `expected_redirect`) and hands out a single-use
    /// code for `claims`, which the ID token will carry.
    pub fn issue_code(
        &self,
        request: &AuthorizationRequest,
        expected_redirect: &Url,
        mut claims: DevClaims,
    ) -> Result<String, DevIssuerError> {
        Self::check_request(request, expected_redirect)?;
        claims.audience = Some(request.client_id.clone());
        claims.nonce = Some(request.nonce.clone());
        claims.ttl = TimeDelta::minutes(5);
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| DevIssuerError::KeyGeneration)?;
        let code = URL_SAFE_NO_PAD.encode(bytes);
        let now = self.clock.now();
        let mut codes = self.codes.lock().expect("the code table is never poisoned");
        codes.retain(|_, c| c.expires_at > now);
        if codes.len() >= MAX_PENDING_CODES {
            return Err(DevIssuerError::BadRequest("too many sign-ins at once"));
        }
        codes.insert(
            code.clone(),
            IssuedCode {
                claims,
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                expires_at: now + CODE_TTL,
            },
        );
        Ok(code)
    }

    /// Checks an authorization request: the code flow, this issuer's
    /// client, the registered redirect, the openid scope, an S256 code
    /// challenge, a state and a nonce.
    pub fn check_request(
        request: &AuthorizationRequest,
        expected_redirect: &Url,
    ) -> Result<(), DevIssuerError> {
        if request.response_type != "code" {
            return Err(DevIssuerError::BadRequest("response_type must be code"));
        }
        if request.client_id != DEV_AUDIENCE {
            return Err(DevIssuerError::BadRequest("unknown client_id"));
        }
        if request.redirect_uri != expected_redirect.as_str() {
            return Err(DevIssuerError::BadRequest("redirect_uri is not registered"));
        }
        if !request.scope.split(' ').any(|s| s == "openid") {
            return Err(DevIssuerError::BadRequest("scope must include openid"));
        }
        if request.code_challenge_method != "S256" || request.code_challenge.len() != 43 {
            return Err(DevIssuerError::BadRequest(
                "an S256 code_challenge is required",
            ));
        }
        if request.nonce.is_empty() || request.state.is_empty() {
            return Err(DevIssuerError::BadRequest("state and nonce are required"));
        }
        Ok(())
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
            ("nonce", claims.nonce),
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

/// The token endpoint: a code is redeemed once, by the client it was issued
/// to, with the same redirect and the verifier of its challenge.
#[async_trait]
impl TokenEndpoint for DevIssuer {
    async fn redeem(&self, grant: &CodeGrant) -> Result<String, OidcError> {
        let issued = self
            .codes
            .lock()
            .expect("the code table is never poisoned")
            .remove(&grant.code);
        let refused = |reason: &str| Err(OidcError::CodeRefused(reason.to_owned()));
        let Some(issued) = issued else {
            return refused("invalid_grant");
        };
        let now = self.clock.now();
        if issued.expires_at <= now
            || issued.client_id != grant.client_id
            || issued.redirect_uri != grant.redirect_uri
        {
            return refused("invalid_grant");
        }
        let challenge = code_challenge(&grant.code_verifier);
        if aws_lc_rs::constant_time::verify_slices_are_equal(
            challenge.as_bytes(),
            issued.code_challenge.as_bytes(),
        )
        .is_err()
        {
            return refused("invalid_grant");
        }
        self.mint(issued.claims, now)
            .map_err(|e| OidcError::TokenEndpointUnavailable(e.to_string()))
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

    mod code_flow {
        use super::*;
        use crate::auth::oidc_client::PendingSignIn;

        fn redirect() -> Url {
            Url::parse("http://127.0.0.1:8080/anmelden/sso/rueckkehr").unwrap()
        }

        fn request_for(pending: &PendingSignIn) -> AuthorizationRequest {
            AuthorizationRequest {
                response_type: "code".into(),
                client_id: DEV_AUDIENCE.into(),
                redirect_uri: redirect().to_string(),
                scope: "openid email profile".into(),
                state: pending.state.clone(),
                nonce: pending.nonce.clone(),
                code_challenge: code_challenge(&pending.code_verifier),
                code_challenge_method: "S256".into(),
            }
        }

        fn grant(code: &str, pending: &PendingSignIn) -> CodeGrant {
            CodeGrant {
                code: code.into(),
                redirect_uri: redirect().to_string(),
                client_id: DEV_AUDIENCE.into(),
                code_verifier: pending.code_verifier.clone(),
            }
        }

        /// An issuer on a manual clock, and a verifier trusting it.
        fn setup(dir: &Path) -> (Arc<DevIssuer>, OidcVerifier, ManualClock) {
            let clock = ManualClock::new(start());
            let issuer =
                Arc::new(issuer_in(dir).with_clock(Arc::new(clock.clone()) as Arc<dyn Clock>));
            let verifier = OidcVerifier::new(
                issuer.oidc_settings(jwks_url()),
                issuer.clone() as Arc<dyn JwksSource>,
                Arc::new(clock.clone()),
            )
            .unwrap();
            (issuer, verifier, clock)
        }

        #[tokio::test]
        async fn a_code_redeemed_with_its_verifier_yields_an_id_token_for_the_nonce() {
            let dir = tempfile::tempdir().unwrap();
            let (issuer, verifier, _) = setup(dir.path());
            let pending = PendingSignIn::generate();
            let code = issuer
                .issue_code(&request_for(&pending), &redirect(), full_claims())
                .unwrap();

            let id_token = issuer.redeem(&grant(&code, &pending)).await.unwrap();

            let verified = verifier
                .verify_id_token(&id_token, DEV_AUDIENCE, &pending.nonce)
                .await
                .unwrap();
            assert_eq!(verified.subject, "dev-erika");
            assert_eq!(verified.email.as_deref(), Some("erika.muster@example.test"));
            assert_eq!(
                verifier
                    .verify_id_token(&id_token, DEV_AUDIENCE, "another nonce")
                    .await,
                Err(OidcError::WrongNonce)
            );
        }

        #[tokio::test]
        async fn a_code_is_good_once() {
            let dir = tempfile::tempdir().unwrap();
            let (issuer, _, _) = setup(dir.path());
            let pending = PendingSignIn::generate();
            let code = issuer
                .issue_code(&request_for(&pending), &redirect(), full_claims())
                .unwrap();

            issuer.redeem(&grant(&code, &pending)).await.unwrap();

            assert_eq!(
                issuer.redeem(&grant(&code, &pending)).await,
                Err(OidcError::CodeRefused("invalid_grant".into()))
            );
        }

        #[tokio::test]
        async fn a_wrong_verifier_redirect_or_client_burns_the_code() {
            let dir = tempfile::tempdir().unwrap();
            let (issuer, _, _) = setup(dir.path());
            let pending = PendingSignIn::generate();
            let other = PendingSignIn::generate();
            type Spoil = fn(&mut CodeGrant, &PendingSignIn);
            let spoilers: [Spoil; 3] = [
                |g, other| g.code_verifier = other.code_verifier.clone(),
                |g, _| g.redirect_uri = "http://127.0.0.1:9/elsewhere".into(),
                |g, _| g.client_id = "another-client".into(),
            ];
            for spoil in spoilers {
                let code = issuer
                    .issue_code(&request_for(&pending), &redirect(), full_claims())
                    .unwrap();
                let mut wrong = grant(&code, &pending);
                spoil(&mut wrong, &other);

                assert_eq!(
                    issuer.redeem(&wrong).await,
                    Err(OidcError::CodeRefused("invalid_grant".into()))
                );
                assert!(
                    issuer.redeem(&grant(&code, &pending)).await.is_err(),
                    "a failed redemption burns the code"
                );
            }
        }

        #[tokio::test]
        async fn a_code_expires_after_a_minute() {
            let dir = tempfile::tempdir().unwrap();
            let (issuer, _, clock) = setup(dir.path());
            let pending = PendingSignIn::generate();
            let code = issuer
                .issue_code(&request_for(&pending), &redirect(), full_claims())
                .unwrap();

            clock.advance(TimeDelta::seconds(61));

            assert!(issuer.redeem(&grant(&code, &pending)).await.is_err());
        }

        #[test]
        fn requests_without_pkce_s256_a_nonce_or_the_registered_redirect_are_refused() {
            let dir = tempfile::tempdir().unwrap();
            let (issuer, _, _) = setup(dir.path());
            let pending = PendingSignIn::generate();
            type Spoil = fn(&mut AuthorizationRequest);
            let spoilers: [Spoil; 7] = [
                |r| r.response_type = "token".into(),
                |r| r.client_id = "another-client".into(),
                |r| r.redirect_uri = "http://evil.example/cb".into(),
                |r| r.scope = "email".into(),
                |r| r.code_challenge_method = "plain".into(),
                |r| r.code_challenge.clear(),
                |r| r.nonce.clear(),
            ];
            for spoil in spoilers {
                let mut request = request_for(&pending);
                spoil(&mut request);
                assert!(
                    matches!(
                        issuer.issue_code(&request, &redirect(), full_claims()),
                        Err(DevIssuerError::BadRequest(_))
                    ),
                    "{request:?}"
                );
            }
        }
    }
}
