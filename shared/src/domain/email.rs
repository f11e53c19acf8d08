//! E-mail addresses as EMMA accepts them: syntactically valid, no quoted
//! local parts, no IP literals, within the RFC 5321 length limits, with an
//! ASCII local part (SES does not send to others) and the domain in its
//! ASCII (IDNA) form, so `müller@bücher.de` is not accepted but
//! `info@bücher.de` becomes `info@xn--bcher-kva.de`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is longer than 254 characters")]
    TooLong,
    #[error("the part before the @ is longer than 64 characters")]
    LocalPartTooLong,
    #[error("quoted local parts are not accepted")]
    Quoted,
    #[error("IP addresses as domains are not accepted")]
    IpLiteral,
    #[error("the domain needs a dot, as in name@example.de")]
    NoDotInDomain,
    #[error("the part before the @ may only hold ASCII characters (no umlauts)")]
    NonAsciiLocalPart,
    #[error("the domain is not a valid internationalised domain name")]
    InvalidDomain,
    #[error("this is not a valid e-mail address")]
    Invalid,
}

/// A valid e-mail address. Its identity is case-insensitive: two addresses
/// that differ only in case are the same person.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailAddressError::TooLong);
        }
        if trimmed.starts_with('"') {
            return Err(EmailAddressError::Quoted);
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(EmailAddressError::Invalid);
        };
        if local.len() > 64 {
            return Err(EmailAddressError::LocalPartTooLong);
        }
        if domain.starts_with('[') {
            return Err(EmailAddressError::IpLiteral);
        }
        if !domain.contains('.') {
            return Err(EmailAddressError::NoDotInDomain);
        }
        if !local.is_ascii() {
            return Err(EmailAddressError::NonAsciiLocalPart);
        }
        // IDNA (UTS #46): lower case, Unicode labels to xn-- labels.
        let domain =
            idna::domain_to_ascii_strict(domain).map_err(|_| EmailAddressError::InvalidDomain)?;
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(EmailAddressError::TooLong);
        }
        let options = email_address::Options::default().without_display_text();
        email_address::EmailAddress::parse_with_options(&address, options)
            .map_err(|_| EmailAddressError::Invalid)?;
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for identity and for keyed hashes: all lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

impl Eq for EmailAddress {}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailAddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_address_parses_and_its_domain_is_lower_cased() {
        let a = EmailAddress::parse(" Erika.Mustermann@Sparkasse-Musterstadt.DE ").unwrap();
        assert_eq!(a.as_str(), "Erika.Mustermann@sparkasse-musterstadt.de");
        assert_eq!(a.domain(), "sparkasse-musterstadt.de");
    }

    #[test]
    fn addresses_that_differ_only_in_case_are_the_same() {
        let a = EmailAddress::parse("MAX@example.de").unwrap();
        let b = EmailAddress::parse("max@EXAMPLE.de").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn an_international_domain_is_kept_in_its_ascii_form() {
        let a = EmailAddress::parse("Info@Bücher.DE").unwrap();
        assert_eq!(a.as_str(), "Info@xn--bcher-kva.de");
        assert_eq!(a, EmailAddress::parse("info@xn--bcher-kva.de").unwrap());
        // Mixed scripts resolve the same whichever form was typed.
        assert_eq!(
            EmailAddress::parse("kontakt@straße.de").unwrap().domain(),
            idna::domain_to_ascii_strict("straße.de").unwrap()
        );
    }

    #[test]
    fn header_injection_and_line_breaks_are_refused() {
        for raw in [
            "erika@example.de\r\nBcc: alle@example.de",
            "erika@example.de\nBcc: alle@example.de",
            "erika\r\n@example.de",
            "erika@exam\rple.de",
        ] {
            assert!(EmailAddress::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn each_kind_of_bad_address_gets_its_own_reason() {
        let long_local = format!("{}@example.de", "a".repeat(65));
        let long_total = format!("a@{}.de", "b".repeat(260));
        let cases = [
            ("", EmailAddressError::Empty),
            ("no-at-sign", EmailAddressError::Invalid),
            ("\"quoted\"@example.de", EmailAddressError::Quoted),
            ("user@[192.168.0.1]", EmailAddressError::IpLiteral),
            ("user@localhost", EmailAddressError::NoDotInDomain),
            (long_local.as_str(), EmailAddressError::LocalPartTooLong),
            (long_total.as_str(), EmailAddressError::TooLong),
            ("two@@example.de", EmailAddressError::Invalid),
            ("müller@example.de", EmailAddressError::NonAsciiLocalPart),
            ("info@exa mple.de", EmailAddressError::InvalidDomain),
        ];
        for (raw, expected) in cases {
            assert_eq!(EmailAddress::parse(raw).unwrap_err(), expected, "{raw:?}");
        }
    }
}
