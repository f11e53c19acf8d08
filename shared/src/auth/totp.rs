//! TOTP as a second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//! steps): the shared secret, the `otpauth://` URI and its QR code for the
//! authenticator app, and code checks that allow one step of clock drift and
//! refuse a code whose step was already used.

use std::fmt;

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one (clock drift, typing time).
pub const SKEW_STEPS: u64 = 1;

/// Why a code or a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The input is not six digits.
    #[error("a code is six digits")]
    Malformed,
    /// Six digits, but not the code for this moment (±1 step).
    #[error("the code is not right")]
    Invalid,
    /// The right code, but its step (or a later one) was already used.
    #[error("the code was already used")]
    Replayed,
    /// A stored secret is not base32 or shorter than 128 bits.
    #[error("not a TOTP secret")]
    InvalidSecret,
    /// The URI is too long for a QR code.
    #[error("the URI does not fit in a QR code")]
    UriTooLong,
}

/// The secret shared with the user's authenticator app: 160 random bits
/// (RFC 4226's recommendation), serialised as unpadded base32. Its `Debug`
/// does not show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TotpSecret(Secret);

impl TotpSecret {
    /// A new random secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(Secret::generate())
    }

    /// Reads a base32 secret (as stored, or as typed from an app's manual
    /// entry: case, spaces and `=` padding do not matter). At least 128
    /// bits.
    pub fn from_base32(encoded: &str) -> Result<Self, TotpError> {
        let cleaned: String = encoded
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let secret = Secret::try_from_base32(&cleaned).map_err(|_| TotpError::InvalidSecret)?;
        if secret.as_bytes().len() < 16 {
            return Err(TotpError::InvalidSecret);
        }
        Ok(Self(secret))
    }

    /// The secret as unpadded base32 (what `otpauth://` URIs carry).
    pub fn to_base32(&self) -> String {
        self.0.to_base32()
    }

    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECONDS)
            .with_skew(0)
            .with_secret(self.0.clone())
            .build_noncompliant()
    }

    /// The `otpauth://totp/…` URI for authenticator apps, labelled
    /// `issuer:account`. The Key URI format forbids `:` in either part, so
    /// colons become spaces; an empty account becomes "account".
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> String {
        let label = |part: &str| part.replace(':', " ").trim().to_owned();
        let issuer = label(issuer);
        let account = match label(account) {
            account if account.is_empty() => "account".to_owned(),
            account => account,
        };
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
            .with_issuer((!issuer.is_empty()).then_some(issuer))
            .with_account_name(account)
            .build_noncompliant();
        // Both label parts are non-empty where needed and free of colons, the
        // only things `to_url` refuses.
        totp.to_url().unwrap_or_default()
    }

    /// The code an authenticator app shows at `at` (for tests and support).
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        let seconds = u64::try_from(at.timestamp()).unwrap_or_default();
        self.totp().generate(seconds).to_string()
    }

    /// Checks a code typed at `now`. Accepts the current step and one step
    /// either side; refuses a code whose step is at or before
    /// `last_used_step` (RFC 6238 §5.2: each code is accepted once), so the
    /// caller stores the returned step as the new `last_used_step`.
    /// Surrounding and inner spaces ("123 456") are ignored.
    pub fn verify(
        &self,
        code: &str,
        now: DateTime<Utc>,
        last_used_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let seconds = u64::try_from(now.timestamp()).map_err(|_| TotpError::Invalid)?;
        let current = seconds / STEP_SECONDS;
        let totp = self.totp();
        // Newest first, so a code that happens to match two steps counts for
        // the one that is not used yet.
        let matched: Vec<u64> = (current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS)
            .rev()
            .filter(|step| totp.check(&code, step * STEP_SECONDS).is_some())
            .collect();
        match matched.first() {
            None => Err(TotpError::Invalid),
            Some(&step) if last_used_step.is_some_and(|last| step <= last) => {
                Err(TotpError::Replayed)
            }
            Some(&step) => Ok(step),
        }
    }
}

impl TryFrom<String> for TotpSecret {
    type Error = TotpError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_base32(&value)
    }
}

impl From<TotpSecret> for String {
    fn from(value: TotpSecret) -> Self {
        value.to_base32()
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

/// The QR code of `uri` as an SVG element (no XML declaration, no script),
/// ready to place inline in a page under a strict CSP.
pub fn qr_svg(uri: &str) -> Result<String, TotpError> {
    let code = QrCode::new(uri.as_bytes()).map_err(|_| TotpError::UriTooLong)?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let element = match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    };
    Ok(element)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 seed, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret(Secret::from(b"12345678901234567890".to_vec()))
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn step_of(seconds: i64) -> u64 {
        seconds as u64 / STEP_SECONDS
    }

    #[test]
    fn the_rfc_6238_sha1_vectors_verify_as_six_digit_codes() {
        // The RFC's eight-digit codes, last six digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        let secret = rfc_secret();
        for (seconds, code) in vectors {
            assert_eq!(
                secret.verify(code, at(seconds), None),
                Ok(step_of(seconds)),
                "{seconds}"
            );
        }
    }

    #[test]
    fn a_code_one_step_early_or_late_is_accepted_with_its_own_step() {
        let secret = rfc_secret();
        // 287082 belongs to step 1 (seconds 30..=59).
        assert_eq!(secret.verify("287082", at(59 + 30), None), Ok(1));
        assert_eq!(secret.verify("287082", at(59 - 30), None), Ok(1));
        // 081804 belongs to step 37037036.
        let step = step_of(1_111_111_109);
        assert_eq!(
            secret.verify("081804", at(1_111_111_109 + 30), None),
            Ok(step)
        );
        assert_eq!(
            secret.verify("081804", at(1_111_111_109 - 30), None),
            Ok(step)
        );
    }

    #[test]
    fn a_code_two_steps_away_is_refused() {
        let secret = rfc_secret();
        let seconds = 1_111_111_109;
        assert_eq!(
            secret.verify("081804", at(seconds + 60), None),
            Err(TotpError::Invalid)
        );
        assert_eq!(
            secret.verify("081804", at(seconds - 60), None),
            Err(TotpError::Invalid)
        );
    }

    #[test]
    fn a_wrong_code_is_invalid() {
        let secret = rfc_secret();
        assert_eq!(
            secret.verify("081805", at(1_111_111_109), None),
            Err(TotpError::Invalid)
        );
    }

    #[test]
    fn a_code_whose_step_was_used_is_refused_as_a_replay() {
        let secret = rfc_secret();
        let now = at(1_111_111_109);
        let step = secret.verify("081804", now, None).unwrap();
        assert_eq!(
            secret.verify("081804", now, Some(step)),
            Err(TotpError::Replayed)
        );
        // An older code after a newer one was used is a replay as well.
        assert_eq!(
            secret.verify("081804", now, Some(step + 1)),
            Err(TotpError::Replayed)
        );
        // A code of a later step is fine.
        assert_eq!(secret.verify("081804", now, Some(step - 1)), Ok(step));
    }

    #[test]
    fn input_that_is_not_six_digits_is_malformed() {
        let secret = rfc_secret();
        let now = at(59);
        for bad in [
            "",
            "28708",
            "2870821",
            "28708a",
            "+28708",
            "２８７０８２",
            "94287082",
        ] {
            assert_eq!(
                secret.verify(bad, now, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(secret.verify(" 287 082 ", now, None), Ok(1));
    }

    #[test]
    fn a_generated_secret_is_160_bits_and_round_trips_through_base32() {
        let secret = TotpSecret::generate();
        let encoded = secret.to_base32();
        assert_eq!(encoded.len(), 32);
        assert_ne!(TotpSecret::generate(), secret);
        assert_eq!(TotpSecret::from_base32(&encoded), Ok(secret.clone()));
        let chars: Vec<char> = encoded.to_lowercase().chars().collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        assert_eq!(
            TotpSecret::from_base32(&groups.join(" ")),
            Ok(secret.clone())
        );

        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, format!("\"{encoded}\""));
        assert_eq!(serde_json::from_str::<TotpSecret>(&json).unwrap(), secret);
        assert_eq!(format!("{secret:?}"), "TotpSecret(…)");
    }

    #[test]
    fn a_short_or_garbled_secret_is_refused() {
        // 80 bits.
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQ"),
            Err(TotpError::InvalidSecret)
        );
        assert_eq!(
            TotpSecret::from_base32("not base32!"),
            Err(TotpError::InvalidSecret)
        );
        assert!(serde_json::from_str::<TotpSecret>("\"1189\"").is_err());
    }

    #[test]
    fn the_provisioning_uri_names_issuer_account_and_secret() {
        let secret = rfc_secret();
        let uri = secret.provisioning_uri("EMMA Sparkasse", "erika@example.org");
        assert_eq!(
            uri,
            "otpauth://totp/EMMA%20Sparkasse:erika%40example.org\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=EMMA%20Sparkasse"
        );
        let colons = secret.provisioning_uri("A:B", ":");
        assert!(
            colons.starts_with("otpauth://totp/A%20B:account?"),
            "{colons}"
        );
    }

    #[test]
    fn the_qr_code_is_a_bare_svg_element() {
        let uri = rfc_secret().provisioning_uri("EMMA", "erika@example.org");
        let svg = qr_svg(&uri).unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<script"));
        assert_eq!(qr_svg(&"x".repeat(8000)), Err(TotpError::UriTooLong));
    }
}
