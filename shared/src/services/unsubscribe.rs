//! Unsubscribing through the link in every mailing: a signed token that
//! names a tenant and a contact (and nothing else a stranger could change),
//! what the public page shows of the contact's subscriptions, and the two
//! ways out — leaving chosen lists, or leaving every mailing (which puts the
//! address on the suppression list) — and the person's preferences: the
//! language of the mailings and the name and salutation they are addressed
//! by. Each change is on the audit log with no actor: the person acts
//! through the link, not as a user.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::App;
use crate::domain::{Contact, ContactId, ContactStatus, Language, ListId, TenantId};
use crate::ports::store::{MAX_BATCH_GET, StoreError, keys};
use crate::services::audit::{self, Actor, AuditEntry, IpTrace};
use crate::services::contacts::{self, ContactChange, ContactError};
use crate::services::lists::{self, List, ListError};
use crate::services::tenants::TenantError;

/// The audit action of every unsubscribe.
pub const AUDIT_ACTION: &str = "contact.unsubscribe";

/// The audit action of a change of preferences through the link.
pub const PREFERENCES_AUDIT_ACTION: &str = "contact.preferences";

#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    /// The tenant is gone (or may not change its contacts any more).
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Store(StoreError),
    #[error("the contact was changed meanwhile; try again")]
    Conflict,
    #[error("the contact cannot be changed: {0}")]
    Contact(ContactError),
}

impl From<StoreError> for UnsubscribeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<ContactError> for UnsubscribeError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Tenant(t) => Self::Tenant(t),
            ContactError::Store(s) => Self::Store(s),
            ContactError::Conflict => Self::Conflict,
            other => Self::Contact(other),
        }
    }
}

impl From<ListError> for UnsubscribeError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Tenant(t) => Self::Tenant(t),
            ListError::Store(s) => Self::Store(s),
            other => Self::Contact(ContactError::from(other)),
        }
    }
}

/// The MAC of a token's payload: a keyed hash with its own purpose, so no
/// other keyed hash of the platform can stand in for it.
fn mac(app: &App, tenant: &str, contact: &str) -> String {
    app.pseudonyms
        .hash(&format!("unsubscribe:{tenant}:{contact}"))
}

/// The token of a contact's unsubscribe link: tenant id, contact id and a
/// MAC over both, base64url. It does not expire: the link in a mail of
/// years ago must still work.
pub fn token(app: &App, tenant: &TenantId, contact: &ContactId) -> String {
    let mac = mac(app, tenant.as_str(), contact.as_str());
    URL_SAFE_NO_PAD.encode(format!("{tenant}:{contact}:{mac}"))
}

/// The public address of a contact's unsubscribe page, which also takes
/// the one-click POST of RFC 8058.
pub fn url(app: &App, tenant: &TenantId, contact: &ContactId) -> String {
    let path = format!("/abmelden/{}", token(app, tenant, contact));
    app.settings
        .public_url
        .join(&path)
        .map(String::from)
        .unwrap_or(path)
}

/// The tenant and contact a token names, if its MAC holds (compared in
/// constant time); a forged or altered token names nothing.
pub fn verify(app: &App, token: &str) -> Option<(TenantId, ContactId)> {
    if token.len() > 256 {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let mut parts = text.split(':');
    let (tenant, contact, presented) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expected = mac(app, tenant, contact);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes())
        .ok()?;
    Some((
        TenantId::parse(tenant).ok()?,
        ContactId::parse(contact).ok()?,
    ))
}

/// What the unsubscribe page shows of a contact.
#[derive(Debug, Clone)]
pub enum Standing {
    /// Still mailed (or waiting for the opt-in): the lists it is on.
    Receiving { contact: Contact, lists: Vec<List> },
    /// Unsubscribed, bounced or complained: nothing more to do.
    Ended(Contact),
    /// Erased or deleted since the mail went out: nothing more to do.
    Gone,
}

/// Where the contact of a verified token stands.
pub async fn standing(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Standing, UnsubscribeError> {
    let contact = match contacts::get(app, tenant, contact).await {
        Ok(contact) => contact,
        Err(ContactError::NotFound) => return Ok(Standing::Gone),
        Err(e) => return Err(e.into()),
    };
    if contact.status.is_final() {
        return Ok(Standing::Ended(contact));
    }
    let lists = lists_of(app, tenant, &contact.id).await?;
    Ok(Standing::Receiving { contact, lists })
}

/// The tenant's lists the contact is a member of, in the tenant's order.
pub(crate) async fn lists_of(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<List>, UnsubscribeError> {
    let all = lists::all(app, tenant).await?;
    let mut member_of = Vec::new();
    for chunk in all.chunks(MAX_BATCH_GET) {
        let member_keys: Vec<_> = chunk
            .iter()
            .map(|list| keys::list_member(tenant, &list.id, contact))
            .collect();
        let found = app.store.get_many(&member_keys).await?;
        member_of.extend(
            chunk
                .iter()
                .zip(found)
                .filter(|(_, membership)| membership.is_some())
                .map(|(list, _)| list.clone()),
        );
    }
    Ok(member_of)
}

/// Ends every mailing to the contact at once: the status becomes
/// `unsubscribed` and the address goes on the suppression list. A contact
/// that already left (or is gone) stays as it is. Answers whether anything
/// changed.
#[tracing::instrument(skip(app, ip))]
pub async fn leave_all(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
    ip: Option<IpAddr>,
) -> Result<bool, UnsubscribeError> {
    // A concurrent change (say, staff editing the name) must not make the
    // person's request fail: read again and retry.
    for _ in 0..3 {
        let current = match contacts::get(app, tenant, contact).await {
            Ok(current) => current,
            Err(ContactError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if current.status.is_final() {
            return Ok(false);
        }
        let change = ContactChange {
            status: Some(ContactStatus::Unsubscribed),
            ..ContactChange::default()
        };
        match contacts::update(app, tenant, contact, change).await {
            Ok(_) => {
                record(app, tenant, contact, ip, AUDIT_ACTION).await;
                tracing::info!(tenant = %tenant, contact = %contact, "contact unsubscribed from all mailings");
                return Ok(true);
            }
            Err(ContactError::Conflict) => continue,
            Err(ContactError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Err(UnsubscribeError::Conflict)
}

/// Takes the contact off the chosen lists, and only those; ids of lists
/// the tenant does not have (or the contact is not on) change nothing.
/// Answers how many of the chosen lists the contact was taken off.
#[tracing::instrument(skip(app, chosen, ip))]
pub async fn leave_lists(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
    chosen: &[ListId],
    ip: Option<IpAddr>,
) -> Result<usize, UnsubscribeError> {
    let on = lists_of(app, tenant, contact).await?;
    let leaving: Vec<&List> = on.iter().filter(|l| chosen.contains(&l.id)).collect();
    for list in &leaving {
        match lists::remove_member(app, tenant, &list.id, contact).await {
            // Deleted meanwhile: the membership went with it.
            Ok(()) | Err(ListError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !leaving.is_empty() {
        record(app, tenant, contact, ip, AUDIT_ACTION).await;
        tracing::info!(tenant = %tenant, contact = %contact, lists = leaving.len(), "contact left lists");
    }
    Ok(leaving.len())
}

/// What a person may set for themselves through the link: the language
/// of the mailings. Not the name or salutation: the link never expires and
/// goes with every forwarded mail, so it must not reveal or rewrite how
/// the person is addressed (staff change those on the person's request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub language: Language,
}

impl Preferences {
    /// The contact's preferences as they are.
    pub fn of(contact: &Contact) -> Self {
        Self {
            language: contact.language,
        }
    }
}

/// Sets the contact's preferences, at once, for every mailing from now on.
/// Nothing changes for a contact that left or is gone (there is nothing to
/// address any more), nor when the preferences are what they were; a
/// change is on the audit log (the contact's id, no address, no names).
/// Answers whether anything changed.
#[tracing::instrument(skip(app, wanted, ip))]
pub async fn change_preferences(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
    wanted: &Preferences,
    ip: Option<IpAddr>,
) -> Result<bool, UnsubscribeError> {
    for _ in 0..3 {
        let current = match contacts::get(app, tenant, contact).await {
            Ok(current) => current,
            Err(ContactError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if current.status.is_final() || Preferences::of(&current) == *wanted {
            return Ok(false);
        }
        let change = ContactChange {
            language: Some(wanted.language),
            ..ContactChange::default()
        };
        match contacts::update(app, tenant, contact, change).await {
            Ok(_) => {
                record(app, tenant, contact, ip, PREFERENCES_AUDIT_ACTION).await;
                tracing::info!(tenant = %tenant, contact = %contact, "contact changed its preferences");
                return Ok(true);
            }
            Err(ContactError::Conflict) => continue,
            Err(ContactError::NotFound) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Err(UnsubscribeError::Conflict)
}

/// The audit entry of a change through the link: no actor (the person
/// used the link), the contact as object, the request's network
/// pseudonymised.
async fn record(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
    ip: Option<IpAddr>,
    action: &str,
) {
    let mut entry = AuditEntry::new(app, Some(tenant.clone()), Actor::default(), action);
    entry.object = Some(contact.to_string());
    entry.ip = IpTrace::of_optional(app, ip);
    audit::record_or_log(app, &entry).await;
}

/// An address as the public page shows it: the first character of the
/// local part, then `***`, then the domain (`e***@example.de`).
pub fn masked(contact: &Contact) -> String {
    let address = contact.email.as_str();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactDraft, EmailAddress};

    fn contact(address: &str) -> Contact {
        let draft = ContactDraft::new(EmailAddress::parse(address).unwrap());
        Contact::new(
            ContactId::parse(&"a".repeat(32)).unwrap(),
            draft,
            chrono::Utc::now(),
        )
    }

    #[test]
    fn an_address_is_masked_to_its_first_character_and_its_domain() {
        assert_eq!(
            masked(&contact("erika.mustermann@example.de")),
            "e***@example.de"
        );
        assert_eq!(masked(&contact("e@example.de")), "e***@example.de");
    }
}
