//! Logging and pseudonyms. Logs are structured JSON (tracing); personal data
//! never appears in them in clear: log `Pseudonymizer::hash` of an address.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

/// Installs the JSON log subscriber once per process. `RUST_LOG` filters
/// (default `info`); `EMMA_LOG=pretty` gives human-readable lines locally.
pub fn init_logging() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("EMMA_LOG").is_ok_and(|v| v == "pretty");
    let result = if pretty {
        fmt().with_env_filter(filter).try_init()
    } else {
        fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .try_init()
    };
    // A second call (tests, several entry points in one process) keeps the first.
    drop(result);
}

/// Keyed hashes of personal data, so logs can correlate one person's events
/// without naming them. Without the key the hash cannot be reversed by
/// trying addresses.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

impl Pseudonymizer {
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: SecretSlice::from(key.to_vec()),
        }
    }

    /// A short, stable, keyed hash: 16 bytes of HMAC-SHA256, in hex.
    pub fn hash(&self, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// An HMAC-SHA256 key of its own for one purpose (`"link-tokens"`, …),
    /// derived from the platform key by HKDF with the purpose as its info.
    /// HKDF keys its first step with a fixed salt, not with the platform
    /// key, so no `hash` of any value can equal a derived key or a MAC
    /// made with one: a keyed hash of one purpose never stands in for
    /// another's.
    pub fn derive_key(&self, purpose: &str) -> aws_lc_rs::hmac::Key {
        use aws_lc_rs::{hkdf, hmac};
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"emma derived keys v1");
        let prk = salt.extract(self.key.expose_secret());
        let info = [purpose.as_bytes()];
        let okm = prk
            .expand(&info, hmac::HMAC_SHA256)
            .expect("HKDF gives 32 bytes for any purpose");
        hmac::Key::from(okm)
    }

    /// The hash of an e-mail address, case-insensitive.
    pub fn email(&self, email: &crate::domain::EmailAddress) -> String {
        self.hash(&email.normalized())
    }

    /// The id of the contact with this address in this tenant.
    pub fn contact_id(
        &self,
        tenant: &crate::domain::TenantId,
        email: &crate::domain::EmailAddress,
    ) -> crate::domain::ContactId {
        crate::domain::ContactId::parse(
            &self.hash(&format!("contact:{tenant}:{}", email.normalized())),
        )
        .expect("a hash is 32 hex digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    #[test]
    fn an_address_hashes_the_same_in_any_case_and_never_shows_in_clear() {
        let p = Pseudonymizer::new(b"0123456789abcdef0123456789abcdef");
        let a = EmailAddress::parse("Erika@Example.de").unwrap();
        let b = EmailAddress::parse("erika@example.de").unwrap();
        assert_eq!(p.email(&a), p.email(&b));
        assert!(!p.email(&a).contains("erika"));
        assert_eq!(p.email(&a).len(), 32);
    }

    #[test]
    fn another_key_gives_another_hash() {
        let a = EmailAddress::parse("erika@example.de").unwrap();
        let p1 = Pseudonymizer::new(b"0123456789abcdef0123456789abcdef");
        let p2 = Pseudonymizer::new(b"fedcba9876543210fedcba9876543210");
        assert_ne!(p1.email(&a), p2.email(&a));
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_from_the_plain_hash() {
        use aws_lc_rs::hmac;
        let p = Pseudonymizer::new(b"0123456789abcdef0123456789abcdef");
        let links = hmac::sign(&p.derive_key("link-tokens"), b"x");
        let other = hmac::sign(&p.derive_key("other"), b"x");
        assert_ne!(links.as_ref(), other.as_ref());
        let again = hmac::sign(&p.derive_key("link-tokens"), b"x");
        assert_eq!(links.as_ref(), again.as_ref());
        assert_ne!(hex::encode(&links.as_ref()[..16]), p.hash("x"));
    }
}
