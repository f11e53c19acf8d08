//! Single sign-on through bearer JWTs from the corporate OIDC issuer: the
//! issuer's key set (JWKS) is fetched and cached, and each token is checked
//! for a pinned algorithm (RS256 or ES256, taken from the key), its signature,
//! issuer, audience, lifetime and subject before its claims are trusted.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use url::Url;

use crate::ports::clock::Clock;

/// The claim that names the user's tenant unless configured otherwise.
pub const DEFAULT_TENANT_CLAIM: &str = "emma_tenant";
/// The claim that names the user's role unless configured otherwise.
pub const DEFAULT_ROLE_CLAIM: &str = "emma_role";

/// Tokens longer than this are refused unread.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where the issuer is and what its tokens must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The exact `iss` of accepted tokens.
    pub issuer: String,
    /// The value the `aud` claim must contain.
    pub audience: String,
    /// Where the issuer publishes its key set (https, or http on loopback).
    pub jwks_url: Url,
    /// The claim read as the user's tenant.
    pub tenant_claim: String,
    /// The claim read as the user's role.
    pub role_claim: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// The least time between two fetches of the key set.
    pub jwks_cooldown: Duration,
    /// A key set older than this is fetched again.
    pub jwks_max_age: Duration,
}

impl OidcSettings {
    /// Settings with the default claim names, a leeway of 60 s, a JWKS
    /// cooldown of 5 minutes and a JWKS max age of an hour.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks_url: Url) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url,
            tenant_claim: DEFAULT_TENANT_CLAIM.to_owned(),
            role_claim: DEFAULT_ROLE_CLAIM.to_owned(),
            leeway: Duration::from_secs(60),
            jwks_cooldown: Duration::from_secs(5 * 60),
            jwks_max_age: Duration::from_secs(60 * 60),
        }
    }
}

/// Why a token was refused or could not be checked. No variant carries any
/// part of the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the OIDC settings are invalid: {0}")]
    InvalidSettings(&'static str),
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is unsigned (alg none)")]
    Unsigned,
    #[error("the token's algorithm is not allowed (only RS256 and ES256 are)")]
    AlgorithmNotAllowed,
    #[error("the token marks header parameters as critical, which is not supported")]
    UnsupportedCriticalHeader,
    #[error("the token names no key id")]
    MissingKeyId,
    #[error("the token's key id is not in the issuer's key set")]
    UnknownKeyId,
    #[error("the token's algorithm differs from its key's")]
    AlgorithmMismatch,
    #[error("the issuer's key for this token cannot verify RS256 or ES256 signatures")]
    UnusableKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token's issuer is not the configured one")]
    WrongIssuer,
    #[error("the token is not meant for this audience")]
    WrongAudience,
    #[error("the token has no expiry")]
    MissingExpiry,
    #[error("the token's expiry is not a numeric date")]
    ExpiryNotNumeric,
    #[error("the token's not-before time is not a numeric date")]
    NotBeforeNotNumeric,
    #[error("the token's issue time is not a numeric date")]
    IssuedAtNotNumeric,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token has no subject")]
    MissingSubject,
    #[error("the token's claim {0} is not a string")]
    ClaimNotAString(String),
    #[error("the issuer's key set is unavailable: {0}")]
    JwksUnavailable(String),
    #[error("the ID token's nonce is not the one this sign-in sent")]
    WrongNonce,
    #[error("the ID token's authorized party (azp) is not this client")]
    WrongAuthorizedParty,
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRefused(String),
    #[error("the identity provider's token endpoint is unavailable: {0}")]
    TokenEndpointUnavailable(String),
}

impl OidcError {
    /// Whether the token itself was refused (401), as opposed to the
    /// verifier being unable to decide (settings, key set unreachable).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            Self::InvalidSettings(_) | Self::JwksUnavailable(_) | Self::TokenEndpointUnavailable(_)
        )
    }
}

/// Where the issuer's key set comes from.
#[async_trait]
pub trait JwksSource: Send + Sync {
    async fn fetch(&self, url: &Url) -> Result<JwkSet, OidcError>;
}

/// Checks that a key set URL is https, or plain http on a loopback host
/// (the development issuer).
pub fn check_jwks_url(url: &Url) -> Result<(), OidcError> {
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(OidcError::InvalidSettings(
            "the JWKS URL must be https (http only on 127.0.0.1 or localhost)",
        )),
    }
}

/// Fetches key sets over HTTPS: no redirects, a 5 s timeout, at most 256 KiB.
#[derive(Debug, Clone)]
pub struct HttpJwksSource {
    client: reqwest::Client,
}

impl HttpJwksSource {
    const TIMEOUT: Duration = Duration::from_secs(5);
    const MAX_BYTES: usize = 256 * 1024;

    pub fn new() -> Result<Self, OidcError> {
        // Plain http is allowed for the development issuer on loopback;
        // `check_jwks_url` decides which URLs are fetched at all.
        let client = crate::adapters::fetch::client(Self::TIMEOUT, false)
            .map_err(|e| OidcError::JwksUnavailable(e.to_string()))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl JwksSource for HttpJwksSource {
    async fn fetch(&self, url: &Url) -> Result<JwkSet, OidcError> {
        check_jwks_url(url)?;
        let unavailable = |reason: String| OidcError::JwksUnavailable(format!("{url}: {reason}"));
        let body = crate::adapters::fetch::get_limited(
            &self.client,
            url,
            "application/json",
            Self::MAX_BYTES,
        )
        .await
        .map_err(|e| match e {
            crate::adapters::fetch::FetchError::TooLarge(_) => {
                unavailable("the key set is too large".to_owned())
            }
            other => unavailable(other.to_string()),
        })?;
        serde_json::from_slice(&body)
            .map_err(|_| unavailable("the answer is not a JWK set".to_owned()))
    }
}

/// A key set and when it was fetched.
struct Snapshot {
    keys: JwkSet,
    fetched_at: DateTime<Utc>,
}

/// The issuer's key set, fetched on first use, again when older than its
/// max age, and again when a token names an unknown key id — but never more
/// than once per cooldown, however many requests ask at once.
pub struct JwksCache {
    source: Arc<dyn JwksSource>,
    url: Url,
    clock: Arc<dyn Clock>,
    cooldown: TimeDelta,
    max_age: TimeDelta,
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Held while deciding on and doing a fetch; holds the time of the last
    /// fetch attempt, successful or not.
    last_attempt: tokio::sync::Mutex<Option<DateTime<Utc>>>,
}

impl JwksCache {
    pub fn new(
        source: Arc<dyn JwksSource>,
        url: Url,
        clock: Arc<dyn Clock>,
        cooldown: Duration,
        max_age: Duration,
    ) -> Result<Self, OidcError> {
        let delta = |d: Duration| {
            TimeDelta::from_std(d).map_err(|_| OidcError::InvalidSettings("a duration is too long"))
        };
        Ok(Self {
            source,
            url,
            clock,
            cooldown: delta(cooldown)?,
            max_age: delta(max_age)?,
            current: RwLock::new(None),
            last_attempt: tokio::sync::Mutex::new(None),
        })
    }

    /// The key with this id, fetching the key set when it is missing, stale,
    /// or lacks the id, within the cooldown.
    pub async fn key(&self, kid: &str) -> Result<Jwk, OidcError> {
        if let Some(key) = self.fresh_key(kid, self.clock.now()) {
            return Ok(key);
        }
        let mut last_attempt = self.last_attempt.lock().await;
        let now = self.clock.now();
        // Another request may have refreshed the set while this one waited.
        if let Some(key) = self.fresh_key(kid, now) {
            return Ok(key);
        }
        let cooling_down = last_attempt.is_some_and(|at| now < at + self.cooldown);
        if !cooling_down {
            *last_attempt = Some(now);
            match self.source.fetch(&self.url).await {
                Ok(keys) => {
                    let found = keys.find(kid).cloned();
                    *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                        Some(Arc::new(Snapshot {
                            keys,
                            fetched_at: now,
                        }));
                    return found.ok_or(OidcError::UnknownKeyId);
                }
                Err(e) if self.snapshot().is_none() => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "refreshing the OIDC key set failed; keeping the previous one");
                }
            }
        }
        // Cooling down, or the refresh failed: answer from the set we have,
        // even if it is past its max age.
        match self.snapshot() {
            Some(snapshot) => snapshot
                .keys
                .find(kid)
                .cloned()
                .ok_or(OidcError::UnknownKeyId),
            None => Err(OidcError::JwksUnavailable(
                "not fetched yet; waiting for the cooldown after a failed fetch".to_owned(),
            )),
        }
    }

    fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn fresh_key(&self, kid: &str, now: DateTime<Utc>) -> Option<Jwk> {
        let snapshot = self.snapshot()?;
        if now >= snapshot.fetched_at + self.max_age {
            return None;
        }
        snapshot.keys.find(kid).cloned()
    }
}

/// What a verified token says about its bearer.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub subject: String,
    /// Absent when the issuer marks it unverified (`email_verified: false`).
    pub email: Option<String>,
    pub name: Option<String>,
    /// From the configured tenant claim.
    pub tenant: Option<String>,
    /// From the configured role claim.
    pub role: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address and name are personal data: keep them out of logs.
        f.debug_struct("VerifiedToken")
            .field("subject", &self.subject)
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name.as_ref().map(|_| "<redacted>"))
            .field("tenant", &self.tenant)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Checks bearer tokens against the configured issuer.
pub struct OidcVerifier {
    settings: OidcSettings,
    leeway: i64,
    keys: JwksCache,
    clock: Arc<dyn Clock>,
}

/// A token split into its decoded parts, not yet trusted.
struct Parts<'a> {
    signing_input: &'a str,
    signature: &'a str,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl OidcVerifier {
    pub fn new(
        settings: OidcSettings,
        source: Arc<dyn JwksSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OidcError> {
        if settings.issuer.is_empty() {
            return Err(OidcError::InvalidSettings("the issuer is empty"));
        }
        if settings.audience.is_empty() {
            return Err(OidcError::InvalidSettings("the audience is empty"));
        }
        if settings.tenant_claim.is_empty() || settings.role_claim.is_empty() {
            return Err(OidcError::InvalidSettings("a claim name is empty"));
        }
        check_jwks_url(&settings.jwks_url)?;
        let leeway = i64::try_from(settings.leeway.as_secs())
            .map_err(|_| OidcError::InvalidSettings("the leeway is too long"))?;
        let keys = JwksCache::new(
            source,
            settings.jwks_url.clone(),
            Arc::clone(&clock),
            settings.jwks_cooldown,
            settings.jwks_max_age,
        )?;
        Ok(Self {
            settings,
            leeway,
            keys,
            clock,
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Checks a bearer token and answers what it says about its bearer.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, OidcError> {
        let claims = self.verified_claims(token).await?;
        self.check_claims(&claims, &self.settings.audience)
    }

    /// Checks an ID token from the authorization-code flow: as a bearer
    /// token, but meant for `client_id` (and, among several audiences,
    /// authorized for it) and carrying the `nonce` this sign-in sent.
    pub async fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<VerifiedToken, OidcError> {
        let claims = self.verified_claims(token).await?;
        let verified = self.check_claims(&claims, client_id)?;
        // The authorized party, when named, must be this client; with
        // several audiences it must be named (OIDC Core §3.1.3.7).
        let several = matches!(claims.get("aud"), Some(Value::Array(auds)) if auds.len() > 1);
        match claims.get("azp") {
            Some(azp) if azp.as_str() != Some(client_id) => {
                return Err(OidcError::WrongAuthorizedParty);
            }
            None if several => return Err(OidcError::WrongAuthorizedParty),
            _ => {}
        }
        let sent = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        let matches = !sent.is_empty()
            && aws_lc_rs::constant_time::verify_slices_are_equal(sent.as_bytes(), nonce.as_bytes())
                .is_ok();
        if !matches {
            return Err(OidcError::WrongNonce);
        }
        Ok(verified)
    }

    /// The claims of a token whose signature holds with one of the
    /// issuer's keys; nothing in them is checked yet.
    async fn verified_claims(&self, token: &str) -> Result<Map<String, Value>, OidcError> {
        let parts = split(token)?;
        // The header is untrusted: it may only narrow, never choose, the
        // algorithm. Anything but RS256 and ES256 is refused before a key is
        // looked up.
        let alg = match parts.header.get("alg").and_then(Value::as_str) {
            Some(alg) if alg.eq_ignore_ascii_case("none") => return Err(OidcError::Unsigned),
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            _ => return Err(OidcError::AlgorithmNotAllowed),
        };
        if parts.header.contains_key("crit") {
            return Err(OidcError::UnsupportedCriticalHeader);
        }
        let kid = match parts.header.get("kid").and_then(Value::as_str) {
            Some(kid) if !kid.is_empty() => kid,
            _ => return Err(OidcError::MissingKeyId),
        };
        let jwk = self.keys.key(kid).await?;
        if key_algorithm(&jwk)? != alg {
            return Err(OidcError::AlgorithmMismatch);
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| OidcError::UnusableKey)?;
        let valid = jsonwebtoken::crypto::verify(
            parts.signature,
            parts.signing_input.as_bytes(),
            &key,
            alg,
        )
        .map_err(|_| OidcError::BadSignature)?;
        if !valid {
            return Err(OidcError::BadSignature);
        }
        Ok(parts.claims)
    }

    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        audience: &str,
    ) -> Result<VerifiedToken, OidcError> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.settings.issuer.as_str()) {
            return Err(OidcError::WrongIssuer);
        }
        let for_us = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        };
        if !for_us {
            return Err(OidcError::WrongAudience);
        }

        let now = self.clock.now().timestamp();
        let exp = match claims.get("exp") {
            None => return Err(OidcError::MissingExpiry),
            Some(value) => numeric_date(value).ok_or(OidcError::ExpiryNotNumeric)?,
        };
        let expires_at = DateTime::from_timestamp(exp, 0).ok_or(OidcError::ExpiryNotNumeric)?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(OidcError::Expired);
        }
        if let Some(value) = claims.get("nbf") {
            let nbf = numeric_date(value).ok_or(OidcError::NotBeforeNotNumeric)?;
            if now.saturating_add(self.leeway) < nbf {
                return Err(OidcError::NotYetValid);
            }
        }
        if let Some(value) = claims.get("iat") {
            let iat = numeric_date(value).ok_or(OidcError::IssuedAtNotNumeric)?;
            if iat > now.saturating_add(self.leeway) {
                return Err(OidcError::IssuedInFuture);
            }
        }

        let subject = match claims.get("sub").and_then(Value::as_str) {
            Some(sub) if !sub.is_empty() => sub.to_owned(),
            _ => return Err(OidcError::MissingSubject),
        };
        let email_unverified = claims.get("email_verified") == Some(&Value::Bool(false));
        let email = optional_string(claims, "email")?.filter(|_| !email_unverified);
        Ok(VerifiedToken {
            subject,
            email,
            name: optional_string(claims, "name")?,
            tenant: optional_string(claims, &self.settings.tenant_claim)?,
            role: optional_string(claims, &self.settings.role_claim)?,
            expires_at,
        })
    }
}

/// Splits a compact JWS into its three parts and decodes header and claims
/// as JSON objects; the signature stays encoded.
fn split(token: &str) -> Result<Parts<'_>, OidcError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OidcError::Malformed);
    }
    let mut pieces = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(OidcError::Malformed);
    };
    let signing_input = &token[..header.len() + 1 + claims.len()];
    Ok(Parts {
        signing_input,
        signature,
        header: json_object(header)?,
        claims: json_object(claims)?,
    })
}

fn json_object(part: &str) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| OidcError::Malformed)
}

/// The algorithm a key is for: its `alg`, or for a key without one, the
/// algorithm its type implies. Keys for encryption, HMAC secrets and curves
/// other than P-256 are unusable.
fn key_algorithm(jwk: &Jwk) -> Result<Algorithm, OidcError> {
    let common = &jwk.common;
    if matches!(&common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err(OidcError::UnusableKey);
    }
    if let Some(ops) = &common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err(OidcError::UnusableKey);
    }
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return Err(OidcError::UnusableKey),
    };
    match common.key_algorithm {
        None => Ok(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Ok(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Ok(implied),
        // A key for another algorithm of its family (RS384, PS256, …) does
        // not verify ours; a key whose `alg` contradicts its type is broken.
        Some(_) => Err(OidcError::AlgorithmMismatch),
    }
}

/// A JWT NumericDate: a JSON number of seconds since the epoch (fractions
/// are cut off). Strings and other types are not dates.
fn numeric_date(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    if let Some(seconds) = number.as_i64() {
        return Some(seconds);
    }
    let seconds = number.as_f64()?;
    (seconds.is_finite() && seconds.abs() < 1e15).then(|| seconds.floor() as i64)
}

fn optional_string(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, OidcError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(OidcError::ClaimNotAString(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
        RsaPublicKeyComponents,
    };
    use serde_json::json;

    use super::*;
    use crate::ports::clock::ManualClock;

    const ISSUER: &str = "https://login.example.test/realms/group";
    const AUDIENCE: &str = "emma";

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T14:30:00+01:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn b64_json(value: &Value) -> String {
        b64(&serde_json::to_vec(value).unwrap())
    }

    /// A signing key with its public JWK.
    enum Signer {
        Es256(EcdsaKeyPair),
        Rs256(&'static RsaKeyPair),
    }

    struct TestKey {
        signer: Signer,
        kid: String,
        jwk: Jwk,
    }

    /// One RSA key for all tests: generating it is the slow part.
    fn rsa_pair() -> &'static RsaKeyPair {
        static PAIR: OnceLock<RsaKeyPair> = OnceLock::new();
        PAIR.get_or_init(|| RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
    }

    impl TestKey {
        fn es256(kid: &str) -> Self {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = pair.public_key().as_ref();
            let jwk = serde_json::from_value(json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            }))
            .unwrap();
            Self {
                signer: Signer::Es256(pair),
                kid: kid.to_owned(),
                jwk,
            }
        }

        fn rs256(kid: &str) -> Self {
            let pair = rsa_pair();
            let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let jwk = serde_json::from_value(json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": b64(&public.n), "e": b64(&public.e),
            }))
            .unwrap();
            Self {
                signer: Signer::Rs256(pair),
                kid: kid.to_owned(),
                jwk,
            }
        }

        fn alg(&self) -> &'static str {
            match self.signer {
                Signer::Es256(_) => "ES256",
                Signer::Rs256(_) => "RS256",
            }
        }

        /// A token with this exact header and these claims, signed by the key.
        fn sign_raw(&self, header: &Value, claims: &Value) -> String {
            let input = format!("{}.{}", b64_json(header), b64_json(claims));
            let rng = SystemRandom::new();
            let signature = match &self.signer {
                Signer::Es256(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
                Signer::Rs256(pair) => {
                    let mut signature = vec![0; pair.public_modulus_len()];
                    pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                        .unwrap();
                    signature
                }
            };
            format!("{input}.{}", b64(&signature))
        }

        /// A token with the key's own algorithm and kid.
        fn sign(&self, claims: &Value) -> String {
            self.sign_raw(
                &json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid}),
                claims,
            )
        }
    }

    /// Claims a verifier accepts at `start()`.
    fn good_claims() -> Value {
        let now = start().timestamp();
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "u-4711",
            "iat": now, "nbf": now, "exp": now + 300,
            "email": "erika.muster@example.test", "name": "Erika Muster",
            "emma_tenant": "sparkasse-nord", "emma_role": "editor",
        })
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    /// A key set that counts its fetches and can be rotated.
    struct CountingJwks {
        keys: Mutex<JwkSet>,
        fetches: AtomicUsize,
    }

    impl CountingJwks {
        fn new(keys: &[&TestKey]) -> Arc<Self> {
            Arc::new(Self {
                keys: Mutex::new(set_of(keys)),
                fetches: AtomicUsize::new(0),
            })
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }

        fn rotate_to(&self, keys: &[&TestKey]) {
            *self.keys.lock().unwrap() = set_of(keys);
        }
    }

    fn set_of(keys: &[&TestKey]) -> JwkSet {
        JwkSet {
            keys: keys.iter().map(|k| k.jwk.clone()).collect(),
        }
    }

    #[async_trait]
    impl JwksSource for CountingJwks {
        async fn fetch(&self, _url: &Url) -> Result<JwkSet, OidcError> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            // Give concurrent verifications a chance to pile up meanwhile.
            tokio::task::yield_now().await;
            Ok(self.keys.lock().unwrap().clone())
        }
    }

    fn settings() -> OidcSettings {
        OidcSettings::new(
            ISSUER,
            AUDIENCE,
            Url::parse("https://login.example.test/realms/group/certs").unwrap(),
        )
    }

    fn verifier_with(
        settings: OidcSettings,
        source: Arc<CountingJwks>,
    ) -> (Arc<OidcVerifier>, ManualClock) {
        let clock = ManualClock::new(start());
        let verifier = OidcVerifier::new(settings, source, Arc::new(clock.clone())).unwrap();
        (Arc::new(verifier), clock)
    }

    fn verifier(source: Arc<CountingJwks>) -> (Arc<OidcVerifier>, ManualClock) {
        verifier_with(settings(), source)
    }

    /// Verifies a token expected to be refused; checks the error does not
    /// echo any part of the token.
    async fn refused(verifier: &OidcVerifier, token: &str) -> OidcError {
        let error = verifier
            .verify(token)
            .await
            .expect_err("the token is refused");
        let shown = format!("{error} {error:?}");
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!shown.contains(part), "the error echoes the token: {shown}");
        }
        error
    }

    #[tokio::test]
    async fn a_valid_es256_token_is_accepted_with_its_claims() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&good_claims());

        let verified = verifier.verify(&token).await.unwrap();

        assert_eq!(
            verified,
            VerifiedToken {
                subject: "u-4711".into(),
                email: Some("erika.muster@example.test".into()),
                name: Some("Erika Muster".into()),
                tenant: Some("sparkasse-nord".into()),
                role: Some("editor".into()),
                expires_at: start() + TimeDelta::seconds(300),
            }
        );
    }

    #[tokio::test]
    async fn a_valid_rs256_token_is_accepted() {
        let key = TestKey::rs256("rsa-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));

        let verified = verifier.verify(&key.sign(&good_claims())).await.unwrap();

        assert_eq!(verified.subject, "u-4711");
    }

    #[tokio::test]
    async fn tenant_and_role_are_read_from_the_configured_claims() {
        let key = TestKey::es256("ec-1");
        let mut settings = settings();
        settings.tenant_claim = "https://emma.example.test/institute".into();
        settings.role_claim = "groups_role".into();
        let (verifier, _) = verifier_with(settings, CountingJwks::new(&[&key]));
        let claims = with(
            with(
                good_claims(),
                "https://emma.example.test/institute",
                json!("sparkasse-sued"),
            ),
            "groups_role",
            json!("viewer"),
        );

        let verified = verifier.verify(&key.sign(&claims)).await.unwrap();

        assert_eq!(verified.tenant.as_deref(), Some("sparkasse-sued"));
        assert_eq!(verified.role.as_deref(), Some("viewer"));
    }

    #[tokio::test]
    async fn a_tenant_claim_that_is_not_a_string_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&with(good_claims(), "emma_tenant", json!(["a", "b"])));

        assert_eq!(
            refused(&verifier, &token).await,
            OidcError::ClaimNotAString("emma_tenant".into())
        );
    }

    #[tokio::test]
    async fn an_address_the_issuer_marks_unverified_is_dropped() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&with(good_claims(), "email_verified", json!(false)));

        let verified = verifier.verify(&token).await.unwrap();

        assert_eq!(verified.email, None);
    }

    #[tokio::test]
    async fn a_token_with_alg_none_is_refused_before_any_key_lookup() {
        let key = TestKey::es256("ec-1");
        let source = CountingJwks::new(&[&key]);
        let (verifier, _) = verifier(source.clone());
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": "ec-1"});
            let token = format!("{}.{}.", b64_json(&header), b64_json(&good_claims()));

            assert_eq!(refused(&verifier, &token).await, OidcError::Unsigned);
        }
        assert_eq!(source.fetches(), 0);
    }

    #[tokio::test]
    async fn an_hs256_token_signed_with_the_rsa_public_key_is_refused_before_any_key_lookup() {
        let key = TestKey::rs256("rsa-1");
        let source = CountingJwks::new(&[&key]);
        let (verifier, _) = verifier(source.clone());
        // The classic key confusion: the public key's bytes used as an HMAC
        // secret, in each form a careless verifier might hand to HMAC.
        let public = rsa_pair().public_key().as_ref().to_vec();
        let jwk_json = serde_json::to_vec(&key.jwk).unwrap();
        for secret in [public, jwk_json] {
            let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"});
            let input = format!("{}.{}", b64_json(&header), b64_json(&good_claims()));
            let mac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            let mac = aws_lc_rs::hmac::sign(&mac_key, input.as_bytes());
            let token = format!("{input}.{}", b64(mac.as_ref()));

            assert_eq!(
                refused(&verifier, &token).await,
                OidcError::AlgorithmNotAllowed
            );
        }
        assert_eq!(source.fetches(), 0);
    }

    #[tokio::test]
    async fn algorithms_other_than_rs256_and_es256_are_refused() {
        let key = TestKey::rs256("rsa-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        for alg in ["RS384", "PS256", "ES384", "EdDSA", "HS512"] {
            let header = json!({"alg": alg, "kid": "rsa-1"});
            let token = key.sign_raw(&header, &good_claims());

            assert_eq!(
                refused(&verifier, &token).await,
                OidcError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
    }

    #[tokio::test]
    async fn a_token_whose_header_alg_differs_from_its_keys_is_refused() {
        let ec = TestKey::es256("ec-1");
        let rsa = TestKey::rs256("rsa-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&ec, &rsa]));
        // Signed with the RSA key but naming the EC key's kid, and the reverse.
        let rs_on_ec = rsa.sign_raw(&json!({"alg": "RS256", "kid": "ec-1"}), &good_claims());
        let es_on_rsa = ec.sign_raw(&json!({"alg": "ES256", "kid": "rsa-1"}), &good_claims());

        assert_eq!(
            refused(&verifier, &rs_on_ec).await,
            OidcError::AlgorithmMismatch
        );
        assert_eq!(
            refused(&verifier, &es_on_rsa).await,
            OidcError::AlgorithmMismatch
        );
    }

    #[tokio::test]
    async fn a_key_meant_for_encryption_or_an_hmac_secret_is_never_used() {
        let mut enc = TestKey::es256("ec-enc");
        enc.jwk.common.public_key_use = Some(PublicKeyUse::Encryption);
        let mut oct = TestKey::es256("oct-1");
        oct.jwk =
            serde_json::from_value(json!({"kty": "oct", "kid": "oct-1", "k": "c2VjcmV0"})).unwrap();
        let (verifier, _) = verifier(CountingJwks::new(&[&enc, &oct]));

        assert_eq!(
            refused(&verifier, &enc.sign(&good_claims())).await,
            OidcError::UnusableKey
        );
        let on_oct = oct.sign_raw(&json!({"alg": "ES256", "kid": "oct-1"}), &good_claims());
        assert_eq!(refused(&verifier, &on_oct).await, OidcError::UnusableKey);
    }

    #[tokio::test]
    async fn a_token_with_a_tampered_payload_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&good_claims());
        let (header, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged_claims = with(good_claims(), "emma_role", json!("tenant_admin"));
        let forged = format!("{header}.{}.{signature}", b64_json(&forged_claims));

        assert_eq!(refused(&verifier, &forged).await, OidcError::BadSignature);
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
        let key = TestKey::es256("ec-1");
        let impostor = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));

        assert_eq!(
            refused(&verifier, &impostor.sign(&good_claims())).await,
            OidcError::BadSignature
        );
    }

    #[tokio::test]
    async fn a_token_for_another_audience_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));

        for aud in [
            json!("another-app"),
            json!(["another-app", "third"]),
            json!([]),
        ] {
            let token = key.sign(&with(good_claims(), "aud", aud));
            assert_eq!(refused(&verifier, &token).await, OidcError::WrongAudience);
        }
        let token = key.sign(&without(good_claims(), "aud"));
        assert_eq!(refused(&verifier, &token).await, OidcError::WrongAudience);
    }

    #[tokio::test]
    async fn a_token_whose_audience_list_names_us_is_accepted() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&with(good_claims(), "aud", json!(["other", AUDIENCE])));

        assert!(verifier.verify(&token).await.is_ok());
    }

    #[tokio::test]
    async fn a_token_from_another_issuer_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));

        for iss in [
            json!("https://evil.example.test/realms/group"),
            json!(format!("{ISSUER}/")),
            json!([ISSUER]),
        ] {
            let token = key.sign(&with(good_claims(), "iss", iss));
            assert_eq!(refused(&verifier, &token).await, OidcError::WrongIssuer);
        }
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, clock) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&good_claims());
        // Expiry is 300 s after start, the leeway 60 s.
        clock.advance(TimeDelta::seconds(359));
        assert!(verifier.verify(&token).await.is_ok());

        clock.advance(TimeDelta::seconds(1));

        assert_eq!(refused(&verifier, &token).await, OidcError::Expired);
    }

    #[tokio::test]
    async fn a_token_not_valid_yet_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, clock) = verifier(CountingJwks::new(&[&key]));
        let nbf = start().timestamp() + 120;
        let token = key.sign(&with(good_claims(), "nbf", json!(nbf)));

        assert_eq!(refused(&verifier, &token).await, OidcError::NotYetValid);
        clock.advance(TimeDelta::seconds(60));
        assert!(verifier.verify(&token).await.is_ok());
    }

    #[tokio::test]
    async fn a_token_issued_in_the_future_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let iat = start().timestamp() + 61;
        let token = key.sign(&with(good_claims(), "iat", json!(iat)));

        assert_eq!(refused(&verifier, &token).await, OidcError::IssuedInFuture);
    }

    #[tokio::test]
    async fn time_claims_that_are_not_numbers_are_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let exp = (start().timestamp() + 300).to_string();
        let cases = [
            ("exp", json!(exp), OidcError::ExpiryNotNumeric),
            ("exp", json!(null), OidcError::ExpiryNotNumeric),
            ("nbf", json!("0"), OidcError::NotBeforeNotNumeric),
            ("iat", json!(true), OidcError::IssuedAtNotNumeric),
        ];
        for (claim, value, expected) in cases {
            let token = key.sign(&with(good_claims(), claim, value));
            assert_eq!(refused(&verifier, &token).await, expected, "{claim}");
        }
    }

    #[tokio::test]
    async fn a_fractional_expiry_is_a_numeric_date() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let exp = start().timestamp() as f64 + 300.75;
        let token = key.sign(&with(good_claims(), "exp", json!(exp)));

        let verified = verifier.verify(&token).await.unwrap();

        assert_eq!(verified.expires_at, start() + TimeDelta::seconds(300));
    }

    #[tokio::test]
    async fn a_token_without_exp_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let token = key.sign(&without(good_claims(), "exp"));

        assert_eq!(refused(&verifier, &token).await, OidcError::MissingExpiry);
    }

    #[tokio::test]
    async fn a_token_without_a_subject_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));

        for claims in [
            without(good_claims(), "sub"),
            with(good_claims(), "sub", json!("")),
            with(good_claims(), "sub", json!(4711)),
        ] {
            let token = key.sign(&claims);
            assert_eq!(refused(&verifier, &token).await, OidcError::MissingSubject);
        }
    }

    #[tokio::test]
    async fn malformed_tokens_are_refused_without_a_fetch() {
        let key = TestKey::es256("ec-1");
        let source = CountingJwks::new(&[&key]);
        let (verifier, _) = verifier(source.clone());
        let good = key.sign(&good_claims());
        let header = b64_json(&json!({"alg": "ES256", "kid": "ec-1"}));
        let cases = [
            String::new(),
            "not a token".to_owned(),
            format!("{good}.extra"),
            good.replacen('.', "", 1),
            format!("{header}.%%%.c2ln"),
            format!("{header}.{}.c2ln", b64(b"[1,2]")),
            format!("{}.{}.c2ln", b64(b"not json"), b64_json(&good_claims())),
            "a".repeat(MAX_TOKEN_BYTES + 1),
        ];
        for token in cases {
            assert_eq!(refused(&verifier, &token).await, OidcError::Malformed);
        }
        assert_eq!(source.fetches(), 0);
    }

    #[tokio::test]
    async fn a_token_without_a_kid_or_with_critical_headers_is_refused() {
        let key = TestKey::es256("ec-1");
        let (verifier, _) = verifier(CountingJwks::new(&[&key]));
        let no_kid = key.sign_raw(&json!({"alg": "ES256"}), &good_claims());
        let crit = key.sign_raw(
            &json!({"alg": "ES256", "kid": "ec-1", "crit": ["exp"], "exp": 1}),
            &good_claims(),
        );

        assert_eq!(refused(&verifier, &no_kid).await, OidcError::MissingKeyId);
        assert_eq!(
            refused(&verifier, &crit).await,
            OidcError::UnsupportedCriticalHeader
        );
    }

    fn random_kid_token(key: &TestKey) -> String {
        let kid = uuid::Uuid::new_v4().to_string();
        key.sign_raw(&json!({"alg": "ES256", "kid": kid}), &good_claims())
    }

    #[tokio::test]
    async fn a_flood_of_unknown_kids_causes_one_fetch_per_cooldown() {
        let key = TestKey::es256("ec-1");
        let source = CountingJwks::new(&[&key]);
        let (verifier, clock) = verifier(source.clone());
        verifier.verify(&key.sign(&good_claims())).await.unwrap();
        assert_eq!(source.fetches(), 1);
        clock.advance(TimeDelta::minutes(5));

        for _ in 0..100 {
            assert_eq!(
                refused(&verifier, &random_kid_token(&key)).await,
                OidcError::UnknownKeyId
            );
        }
        assert_eq!(source.fetches(), 2);

        clock.advance(TimeDelta::minutes(5));
        refused(&verifier, &random_kid_token(&key)).await;
        assert_eq!(source.fetches(), 3);
        // Known keys keep working throughout.
        let claims = with(good_claims(), "exp", json!(clock.now().timestamp() + 300));
        assert!(verifier.verify(&key.sign(&claims)).await.is_ok());
        assert_eq!(source.fetches(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_concurrent_flood_of_unknown_kids_causes_one_fetch_per_cooldown() {
        let key = Arc::new(TestKey::es256("ec-1"));
        let source = CountingJwks::new(&[&key]);
        let (verifier, clock) = verifier(source.clone());

        let flood = |verifier: Arc<OidcVerifier>| {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..100 {
                let verifier = Arc::clone(&verifier);
                let token = random_kid_token(&key);
                tasks.spawn(async move { verifier.verify(&token).await });
            }
            tasks.join_all()
        };

        let results = flood(Arc::clone(&verifier)).await;
        assert!(results.iter().all(|r| r == &Err(OidcError::UnknownKeyId)));
        assert_eq!(source.fetches(), 1);

        clock.advance(TimeDelta::minutes(4));
        flood(Arc::clone(&verifier)).await;
        assert_eq!(source.fetches(), 1);

        clock.advance(TimeDelta::minutes(1));
        flood(Arc::clone(&verifier)).await;
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn a_kid_that_appears_after_a_key_rotation_is_found_after_one_refresh() {
        let old = TestKey::es256("2026-10");
        let new = TestKey::rs256("2026-11");
        let source = CountingJwks::new(&[&old]);
        let (verifier, clock) = verifier(source.clone());
        verifier.verify(&old.sign(&good_claims())).await.unwrap();
        clock.advance(TimeDelta::minutes(10));
        source.rotate_to(&[&old, &new]);
        let claims = with(good_claims(), "exp", json!(clock.now().timestamp() + 300));

        let verified = verifier.verify(&new.sign(&claims)).await;

        assert!(verified.is_ok(), "{verified:?}");
        assert_eq!(source.fetches(), 2);
        assert!(verifier.verify(&new.sign(&claims)).await.is_ok());
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn a_key_set_older_than_its_max_age_is_fetched_again() {
        let old = TestKey::es256("old");
        let new = TestKey::es256("new");
        let source = CountingJwks::new(&[&old]);
        let (verifier, clock) = verifier(source.clone());
        verifier.verify(&old.sign(&good_claims())).await.unwrap();
        // The issuer retires the old key; within the max age it still works.
        source.rotate_to(&[&new]);
        clock.advance(TimeDelta::minutes(59));
        let claims = with(good_claims(), "exp", json!(clock.now().timestamp() + 300));
        assert!(verifier.verify(&old.sign(&claims)).await.is_ok());
        assert_eq!(source.fetches(), 1);

        clock.advance(TimeDelta::minutes(1));

        assert_eq!(
            refused(&verifier, &old.sign(&claims)).await,
            OidcError::UnknownKeyId
        );
        assert_eq!(source.fetches(), 2);
    }

    /// A source that fails until told otherwise.
    struct FlakyJwks {
        inner: Arc<CountingJwks>,
        up: Mutex<bool>,
    }

    #[async_trait]
    impl JwksSource for FlakyJwks {
        async fn fetch(&self, url: &Url) -> Result<JwkSet, OidcError> {
            let up = *self.up.lock().unwrap();
            let keys = self.inner.fetch(url).await?;
            if up {
                Ok(keys)
            } else {
                Err(OidcError::JwksUnavailable("down".into()))
            }
        }
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_retried_only_after_the_cooldown() {
        let key = TestKey::es256("ec-1");
        let counting = CountingJwks::new(&[&key]);
        let flaky = Arc::new(FlakyJwks {
            inner: counting.clone(),
            up: Mutex::new(false),
        });
        let clock = ManualClock::new(start());
        let verifier =
            OidcVerifier::new(settings(), flaky.clone(), Arc::new(clock.clone())).unwrap();
        let token = key.sign(&good_claims());

        let first = refused(&verifier, &token).await;
        assert!(!first.is_refusal(), "{first:?}");
        refused(&verifier, &token).await;
        assert_eq!(counting.fetches(), 1);

        *flaky.up.lock().unwrap() = true;
        clock.advance(TimeDelta::minutes(5));

        assert!(verifier.verify(&token).await.is_ok());
        assert_eq!(counting.fetches(), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_previous_key_set() {
        let key = TestKey::es256("ec-1");
        let counting = CountingJwks::new(&[&key]);
        let flaky = Arc::new(FlakyJwks {
            inner: counting.clone(),
            up: Mutex::new(true),
        });
        let clock = ManualClock::new(start());
        let verifier =
            OidcVerifier::new(settings(), flaky.clone(), Arc::new(clock.clone())).unwrap();
        verifier.verify(&key.sign(&good_claims())).await.unwrap();
        *flaky.up.lock().unwrap() = false;
        clock.advance(TimeDelta::hours(2));
        let claims = with(good_claims(), "exp", json!(clock.now().timestamp() + 300));

        assert!(verifier.verify(&key.sign(&claims)).await.is_ok());
        assert_eq!(counting.fetches(), 2);
    }

    #[test]
    fn the_jwks_url_must_be_https_except_on_loopback() {
        for ok in [
            "https://login.example.test/certs",
            "http://127.0.0.1:8080/oidc/jwks.json",
            "http://localhost:8080/oidc/jwks.json",
            "http://[::1]:8080/oidc/jwks.json",
        ] {
            assert_eq!(check_jwks_url(&Url::parse(ok).unwrap()), Ok(()), "{ok}");
        }
        for bad in [
            "http://login.example.test/certs",
            "http://127.0.0.1.example.test/certs",
            "file:///etc/passwd",
            "ftp://login.example.test/certs",
        ] {
            assert!(check_jwks_url(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_without_issuer_or_audience_or_with_a_plain_http_jwks_url_are_refused() {
        let source = CountingJwks::new(&[]);
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start()));
        let mut no_issuer = settings();
        no_issuer.issuer.clear();
        let mut no_audience = settings();
        no_audience.audience.clear();
        let mut plain_http = settings();
        plain_http.jwks_url = Url::parse("http://login.example.test/certs").unwrap();

        for bad in [no_issuer, no_audience, plain_http] {
            let made = OidcVerifier::new(bad, source.clone(), clock.clone());
            assert!(matches!(made, Err(OidcError::InvalidSettings(_))));
        }
    }

    /// Serves `body` at /jwks.json, a redirect at /moved, and 300 KiB at
    /// /big on a loopback port; answers the base URL.
    async fn serve_jwks(body: String) -> Url {
        use axum::response::Redirect;
        use axum::routing::get;
        let app = axum::Router::new()
            .route("/jwks.json", get(move || async move { body }))
            .route(
                "/moved",
                get(|| async { Redirect::temporary("/jwks.json") }),
            )
            .route("/big", get(|| async { "x".repeat(300 * 1024) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Url::parse(&format!("http://{address}/")).unwrap()
    }

    #[tokio::test]
    async fn the_http_source_fetches_a_key_set_but_follows_no_redirect_and_reads_no_huge_body() {
        let key = TestKey::es256("ec-1");
        let base = serve_jwks(serde_json::to_string(&set_of(&[&key])).unwrap()).await;
        let source = HttpJwksSource::new().unwrap();

        let keys = source
            .fetch(&base.join("jwks.json").unwrap())
            .await
            .unwrap();
        assert_eq!(keys, set_of(&[&key]));

        for path in ["moved", "big", "missing"] {
            let fetched = source.fetch(&base.join(path).unwrap()).await;
            assert!(
                matches!(fetched, Err(OidcError::JwksUnavailable(_))),
                "{path}: {fetched:?}"
            );
        }
    }

    #[test]
    fn the_debug_form_of_a_verified_token_hides_the_address_and_name() {
        let token = VerifiedToken {
            subject: "u-4711".into(),
            email: Some("erika.muster@example.test".into()),
            name: Some("Erika Muster".into()),
            tenant: None,
            role: None,
            expires_at: start(),
        };

        let shown = format!("{token:?}");

        assert!(shown.contains("u-4711"));
        assert!(
            !shown.contains("erika") && !shown.contains("Muster"),
            "{shown}"
        );
    }

    mod id_tokens {
        use super::*;

        const CLIENT: &str = "emma-web";
        const NONCE: &str = "n-0S6_WzA2Mj";

        fn id_claims() -> Value {
            with(
                with(good_claims(), "aud", json!(CLIENT)),
                "nonce",
                json!(NONCE),
            )
        }

        async fn check(claims: Value) -> Result<VerifiedToken, OidcError> {
            let key = TestKey::es256("k1");
            let (verifier, _) = verifier(CountingJwks::new(&[&key]));
            verifier
                .verify_id_token(&key.sign(&claims), CLIENT, NONCE)
                .await
        }

        #[tokio::test]
        async fn an_id_token_for_this_client_and_nonce_is_accepted() {
            assert_eq!(check(id_claims()).await.unwrap().subject, "u-4711");
            let named = with(id_claims(), "azp", json!(CLIENT));
            assert!(check(named).await.is_ok());
        }

        #[tokio::test]
        async fn an_id_token_for_the_api_audience_is_not_one_for_the_client() {
            let for_api = with(id_claims(), "aud", json!(AUDIENCE));
            assert_eq!(check(for_api).await, Err(OidcError::WrongAudience));
        }

        #[tokio::test]
        async fn another_or_a_missing_nonce_is_refused() {
            let other = with(id_claims(), "nonce", json!("n-another"));
            assert_eq!(check(other).await, Err(OidcError::WrongNonce));
            let missing = without(id_claims(), "nonce");
            assert_eq!(check(missing).await, Err(OidcError::WrongNonce));
            let empty = with(id_claims(), "nonce", json!(""));
            assert_eq!(check(empty).await, Err(OidcError::WrongNonce));
        }

        #[tokio::test]
        async fn another_authorized_party_is_refused_and_several_audiences_need_ours() {
            let foreign = with(id_claims(), "azp", json!("another-client"));
            assert_eq!(check(foreign).await, Err(OidcError::WrongAuthorizedParty));
            let several = with(id_claims(), "aud", json!([CLIENT, "another-client"]));
            assert_eq!(
                check(several.clone()).await,
                Err(OidcError::WrongAuthorizedParty)
            );
            assert!(check(with(several, "azp", json!(CLIENT))).await.is_ok());
        }
    }
}
