//! Signed tokens of tracked links. A token names the tenant, the campaign,
//! the recipient (per-person tracking) or nobody (aggregate tracking: every
//! recipient's token is the same) and the link's place in the campaign's
//! link table — never the destination, which is looked up server-side from
//! the campaign, so a token cannot redirect anywhere the campaign does not
//! link to.
//!
//! Layout before base64url (no padding): version, tenant id length, tenant
//! id, campaign (16 bytes), 0 or 1 and then the contact id (16 bytes),
//! link index (2 bytes, big-endian), then the first 16 bytes of an
//! HMAC-SHA256 over everything before it, with a key derived for this
//! purpose alone (`Pseudonymizer::derive_key`).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::domain::{ContactId, TenantId};
use crate::telemetry::Pseudonymizer;

/// The purpose the links' key is derived for.
const PURPOSE: &str = "link-tokens";
const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
/// The longest token a verifier reads (a 40-character tenant id, a
/// recipient: 124 characters).
const MAX_TOKEN_LEN: usize = 160;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link token is not one of ours")]
    Malformed,
    #[error("the link token's signature does not hold")]
    Forged,
    #[error("the link token belongs to another tenant or campaign")]
    OtherCampaign,
}

/// What a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub tenant: TenantId,
    pub campaign: Uuid,
    /// The contact who clicked; `None` for aggregate tracking.
    pub recipient: Option<ContactId>,
    /// The link's index in the campaign's link table.
    pub link: u16,
}

/// The platform's key for link tokens.
#[derive(Clone)]
pub struct LinkKey {
    key: hmac::Key,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    /// The link key derived from the platform's pseudonym key.
    pub fn new(pseudonyms: &Pseudonymizer) -> Self {
        Self {
            key: pseudonyms.derive_key(PURPOSE),
        }
    }

    /// The signer of one campaign's links.
    pub fn signer(&self, tenant: &TenantId, campaign: Uuid) -> LinkSigner {
        let mut prefix = Vec::with_capacity(2 + tenant.as_str().len() + 16);
        prefix.push(VERSION);
        prefix.push(u8::try_from(tenant.as_str().len()).expect("a tenant id is short"));
        prefix.extend_from_slice(tenant.as_str().as_bytes());
        prefix.extend_from_slice(campaign.as_bytes());
        LinkSigner {
            tenant: tenant.clone(),
            campaign,
            key: self.clone(),
            prefix,
        }
    }

    /// What a token names, when its signature holds (compared in constant
    /// time).
    pub fn verify(&self, token: &str) -> Result<LinkClaims, LinkError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(LinkError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .map_err(|_| LinkError::Malformed)?;
        let (claims, signed) = parse(&bytes).ok_or(LinkError::Malformed)?;
        let (payload, presented) = bytes.split_at(signed);
        let expected = hmac::sign(&self.key, payload);
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected.as_ref()[..MAC_LEN], presented)
            .map_err(|_| LinkError::Forged)?;
        Ok(claims)
    }
}

/// The claims a token's bytes hold and where its MAC starts, if the bytes
/// have the token's shape.
fn parse(bytes: &[u8]) -> Option<(LinkClaims, usize)> {
    let (&version, rest) = bytes.split_first()?;
    if version != VERSION {
        return None;
    }
    let (&tenant_len, rest) = rest.split_first()?;
    let (tenant, rest) = rest.split_at_checked(usize::from(tenant_len))?;
    let tenant = TenantId::parse(std::str::from_utf8(tenant).ok()?).ok()?;
    let (campaign, rest) = rest.split_at_checked(16)?;
    let campaign = Uuid::from_slice(campaign).ok()?;
    let (&kind, rest) = rest.split_first()?;
    let (recipient, rest) = match kind {
        0 => (None, rest),
        1 => {
            let (contact, rest) = rest.split_at_checked(16)?;
            (Some(ContactId::parse(&hex::encode(contact)).ok()?), rest)
        }
        _ => return None,
    };
    let (link, rest) = rest.split_at_checked(2)?;
    if rest.len() != MAC_LEN {
        return None;
    }
    let link = u16::from_be_bytes([link[0], link[1]]);
    let claims = LinkClaims {
        tenant,
        campaign,
        recipient,
        link,
    };
    Some((claims, bytes.len() - MAC_LEN))
}

/// Signs one campaign's links. The key holds HMAC's keyed state (the
/// hashed inner and outer pads), so a token costs a copy of that state and
/// the compression of its few bytes; the signer is `Send` and `Sync`, so
/// one campaign's signer serves every worker thread.
#[derive(Clone)]
pub struct LinkSigner {
    tenant: TenantId,
    campaign: Uuid,
    key: LinkKey,
    /// Version, tenant and campaign: the start of each token.
    prefix: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner")
            .field("tenant", &self.tenant)
            .field("campaign", &self.campaign)
            .finish_non_exhaustive()
    }
}

impl LinkSigner {
    /// The token of link `link` for `recipient` (`None`: aggregate).
    pub fn token(&self, recipient: Option<&ContactId>, link: u16) -> String {
        let mut token = String::with_capacity(128);
        self.append_token(recipient, link, &mut token);
        token
    }

    /// Appends the token of link `link` for `recipient` to `out`.
    pub fn append_token(&self, recipient: Option<&ContactId>, link: u16, out: &mut String) {
        let mut bytes = Vec::with_capacity(self.prefix.len() + 1 + 16 + 2 + MAC_LEN);
        bytes.extend_from_slice(&self.prefix);
        match recipient {
            None => bytes.push(0),
            Some(contact) => {
                bytes.push(1);
                let mut id = [0u8; 16];
                hex::decode_to_slice(contact.as_str(), &mut id)
                    .expect("a contact id is 32 hex digits");
                bytes.extend_from_slice(&id);
            }
        }
        bytes.extend_from_slice(&link.to_be_bytes());
        let tag = hmac::sign(&self.key.key, &bytes);
        bytes.extend_from_slice(&tag.as_ref()[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode_string(&bytes, out);
    }

    /// What a token names, when it is valid and of this campaign.
    pub fn verify(&self, token: &str) -> Result<LinkClaims, LinkError> {
        let claims = self.key.verify(token)?;
        if claims.tenant != self.tenant || claims.campaign != self.campaign {
            return Err(LinkError::OtherCampaign);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LinkKey {
        LinkKey::new(&Pseudonymizer::new(b"0123456789abcdef0123456789abcdef"))
    }

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    fn contact(digit: char) -> ContactId {
        ContactId::parse(&digit.to_string().repeat(32)).unwrap()
    }

    const CAMPAIGN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);

    #[test]
    fn a_token_names_tenant_campaign_recipient_and_link_and_verifies() {
        let signer = key().signer(&tenant("sparkasse-musterstadt-7f3k2q"), CAMPAIGN);
        let token = signer.token(Some(&contact('a')), 19);
        assert!(token.len() <= MAX_TOKEN_LEN, "{}", token.len());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        let expected = LinkClaims {
            tenant: tenant("sparkasse-musterstadt-7f3k2q"),
            campaign: CAMPAIGN,
            recipient: Some(contact('a')),
            link: 19,
        };
        assert_eq!(signer.verify(&token), Ok(expected.clone()));
        assert_eq!(key().verify(&token), Ok(expected));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let signer = key().signer(&tenant("sparkasse-a"), CAMPAIGN);
        let token = signer.token(Some(&contact('b')), 3);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        // Another link index, same MAC.
        let at = bytes.len() - MAC_LEN - 1;
        bytes[at] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(signer.verify(&forged), Err(LinkError::Forged));
        // A flipped bit in the MAC.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        *bytes.last_mut().unwrap() ^= 0x80;
        assert_eq!(
            signer.verify(&URL_SAFE_NO_PAD.encode(&bytes)),
            Err(LinkError::Forged)
        );
        // Cut short, garbage, too long.
        assert_eq!(
            signer.verify(&token[..token.len() - 4]),
            Err(LinkError::Malformed)
        );
        assert_eq!(signer.verify("not a token!"), Err(LinkError::Malformed));
        assert_eq!(signer.verify(&"A".repeat(500)), Err(LinkError::Malformed));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = LinkKey::new(&Pseudonymizer::new(b"fedcba9876543210fedcba9876543210"));
        let token = other
            .signer(&tenant("sparkasse-a"), CAMPAIGN)
            .token(None, 0);
        assert_eq!(key().verify(&token), Err(LinkError::Forged));
    }

    #[test]
    fn a_token_of_another_tenant_or_campaign_is_refused_by_this_campaigns_signer() {
        let key = key();
        let ours = key.signer(&tenant("sparkasse-a"), CAMPAIGN);
        let other_tenant = key
            .signer(&tenant("sparkasse-b"), CAMPAIGN)
            .token(Some(&contact('c')), 1);
        let other_campaign = key
            .signer(&tenant("sparkasse-a"), Uuid::from_u128(7))
            .token(Some(&contact('c')), 1);
        assert_eq!(ours.verify(&other_tenant), Err(LinkError::OtherCampaign));
        assert_eq!(ours.verify(&other_campaign), Err(LinkError::OtherCampaign));
        // Each is genuine for its own campaign, and says whose it is.
        assert_eq!(
            key.verify(&other_tenant).unwrap().tenant,
            tenant("sparkasse-b")
        );
    }

    #[test]
    fn aggregate_tokens_are_the_same_for_every_recipient_and_name_nobody() {
        let signer = key().signer(&tenant("sparkasse-a"), CAMPAIGN);
        let first = signer.token(None, 5);
        assert_eq!(first, signer.token(None, 5));
        assert_ne!(first, signer.token(None, 6));
        assert_eq!(signer.verify(&first).unwrap().recipient, None);
        assert_ne!(
            signer.token(Some(&contact('a')), 5),
            signer.token(Some(&contact('b')), 5)
        );
    }
}
