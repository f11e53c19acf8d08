//! Every key EMMA stores is built here, and only here. Tenant data lives in
//! partitions that start with the tenant id; the tenant registry and other
//! platform records live in the one platform partition, whose name cannot
//! be a tenant id (it contains '#').

use super::{IndexKey, Key, KeyPrefix};
use crate::domain::{
    AssetId, AttributeName, CampaignId, ContactId, ExportId, ImportId, ListId, SegmentId,
    SignupFormId, TemplateId, TenantId, UserId,
};

const PLATFORM: &str = "#platform";

fn tenant_key(tenant: &TenantId, sk: String) -> Key {
    Key {
        pk: tenant.to_string(),
        sk,
    }
}

fn tenant_prefix(tenant: &TenantId, sk_prefix: &str) -> KeyPrefix {
    KeyPrefix {
        pk: tenant.to_string(),
        sk_prefix: sk_prefix.to_owned(),
    }
}

fn platform_key(sk: String) -> Key {
    Key {
        pk: PLATFORM.to_owned(),
        sk,
    }
}

/// The registry entry of a tenant (platform partition).
pub fn tenant(id: &TenantId) -> Key {
    platform_key(format!("tenant#{id}"))
}

/// All tenants in the registry.
pub fn tenants() -> KeyPrefix {
    KeyPrefix {
        pk: PLATFORM.to_owned(),
        sk_prefix: "tenant#".to_owned(),
    }
}

/// The scheduler's last tick (platform partition).
pub fn scheduler_heartbeat() -> Key {
    platform_key("scheduler#heartbeat".to_owned())
}

pub fn contact(tenant: &TenantId, id: &ContactId) -> Key {
    tenant_key(tenant, format!("contact#{id}"))
}

pub fn contacts(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "contact#")
}

/// A contact import of the tenant.
pub fn import(tenant: &TenantId, id: &ImportId) -> Key {
    tenant_key(tenant, format!("import#{id}"))
}

/// The tenant's imports, oldest first (ids are time-ordered).
pub fn imports(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "import#")
}

/// A list of the tenant (its member count is a counter on it).
pub fn list(tenant: &TenantId, id: &ListId) -> Key {
    tenant_key(tenant, format!("list#{id}"))
}

/// The tenant's lists (not their memberships: those sort under
/// `list-member#`).
pub fn lists(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "list#")
}

/// A contact's membership of a list.
pub fn list_member(tenant: &TenantId, list: &ListId, contact: &ContactId) -> Key {
    tenant_key(tenant, format!("list-member#{list}#{contact}"))
}

/// The memberships of one list.
pub fn list_members(tenant: &TenantId, list: &ListId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("list-member#{list}#"))
}

/// A contact export of the tenant.
pub fn export(tenant: &TenantId, id: &ExportId) -> Key {
    tenant_key(tenant, format!("export#{id}"))
}

/// The tenant's exports, oldest first (ids are time-ordered).
pub fn exports(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "export#")
}

/// An address on the tenant's suppression list, by the contact id its
/// address has (a keyed hash: an erased person's address is not kept).
pub fn suppression(tenant: &TenantId, id: &ContactId) -> Key {
    tenant_key(tenant, format!("suppression#{id}"))
}

/// The tenant's suppression list.
pub fn suppressions(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "suppression#")
}

/// A custom attribute the tenant defined.
pub fn attribute(tenant: &TenantId, name: &AttributeName) -> Key {
    tenant_key(tenant, format!("attribute#{name}"))
}

/// The tenant's custom attributes, by name.
pub fn attributes(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "attribute#")
}

/// A segment (saved filter) of the tenant.
pub fn segment(tenant: &TenantId, id: &SegmentId) -> Key {
    tenant_key(tenant, format!("segment#{id}"))
}

/// The tenant's segments, oldest first (ids are time-ordered).
pub fn segments(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "segment#")
}

/// A short-lived count of the contacts a filter matches, by the filter's
/// hash (outside the `segment#` prefix).
pub fn segment_count(tenant: &TenantId, filter_hash: &str) -> Key {
    tenant_key(tenant, format!("segment-count#{filter_hash}"))
}

/// A campaign of the tenant.
pub fn campaign(tenant: &TenantId, id: &CampaignId) -> Key {
    tenant_key(tenant, format!("campaign#{id}"))
}

/// The tenant's campaigns, oldest first (ids are time-ordered).
pub fn campaigns(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "campaign#")
}

/// A campaign's run while it is sent: where dispatch stands, problems.
pub fn campaign_run(tenant: &TenantId, id: &CampaignId) -> Key {
    tenant_key(tenant, format!("campaign-run#{id}"))
}

/// A campaign's progress counters (queued, sent, failed, ...).
pub fn campaign_progress(tenant: &TenantId, id: &CampaignId) -> Key {
    tenant_key(tenant, format!("campaign-progress#{id}"))
}

/// One recipient of a campaign's snapshot: their send record.
pub fn campaign_recipient(tenant: &TenantId, id: &CampaignId, contact: &ContactId) -> Key {
    tenant_key(tenant, format!("campaign-recipient#{id}#{contact}"))
}

/// The marker of a campaign batch that finished (so a batch delivered
/// twice is counted once).
pub fn campaign_batch_done(tenant: &TenantId, id: &CampaignId, batch: &uuid::Uuid) -> Key {
    tenant_key(tenant, format!("campaign-batch#{id}#{}", batch.simple()))
}

/// Every recipient of a campaign's snapshot, by contact id.
pub fn campaign_recipients(tenant: &TenantId, id: &CampaignId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("campaign-recipient#{id}#"))
}

/// The index entry of a recipient not yet sent to (queued or sending).
pub fn campaign_pending_entry(tenant: &TenantId, id: &CampaignId, contact: &ContactId) -> IndexKey {
    IndexKey {
        pk: format!("{tenant}#campaign-pending#{id}"),
        sk: contact.to_string(),
    }
}

/// The recipients of a campaign not yet sent to, by contact id.
pub fn campaign_pending(tenant: &TenantId, id: &CampaignId) -> KeyPrefix {
    KeyPrefix {
        pk: format!("{tenant}#campaign-pending#{id}"),
        sk_prefix: String::new(),
    }
}

/// A scheduled campaign in the platform's due list, by time: what the
/// scheduler's tick reads (ids only, no content).
pub fn campaign_due(at: &chrono::DateTime<chrono::Utc>, tenant: &TenantId, id: &CampaignId) -> Key {
    platform_key(format!(
        "campaign-due#{}#{tenant}#{id}",
        at.format("%Y-%m-%dT%H:%M:%SZ")
    ))
}

/// The platform's due list.
pub fn campaigns_due() -> KeyPrefix {
    KeyPrefix {
        pk: PLATFORM.to_owned(),
        sk_prefix: "campaign-due#".to_owned(),
    }
}

/// A campaign being sent (or paused while sending), for the tick.
pub fn campaign_active(tenant: &TenantId, id: &CampaignId) -> Key {
    platform_key(format!("campaign-active#{tenant}#{id}"))
}

/// The campaigns being sent.
pub fn campaigns_active() -> KeyPrefix {
    KeyPrefix {
        pk: PLATFORM.to_owned(),
        sk_prefix: "campaign-active#".to_owned(),
    }
}

/// The messages granted in one window of the platform's sending rate
/// (windows numbered from the epoch, zero-padded so they sort by time).
pub fn send_rate_window(window: i64) -> Key {
    platform_key(format!("send-rate#{window:015}"))
}

/// Every window of the sending rate, oldest first.
pub fn send_rate_windows() -> KeyPrefix {
    KeyPrefix {
        pk: PLATFORM.to_owned(),
        sk_prefix: "send-rate#".to_owned(),
    }
}

/// An image of the tenant's asset library.
pub fn asset(tenant: &TenantId, id: &AssetId) -> Key {
    tenant_key(tenant, format!("asset#{id}"))
}

/// The tenant's images, oldest first (ids are time-ordered).
pub fn assets(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "asset#")
}

/// A newsletter template of the tenant: its name and current version.
pub fn template(tenant: &TenantId, id: &TemplateId) -> Key {
    tenant_key(tenant, format!("template#{id}"))
}

/// The tenant's templates, oldest first (ids are time-ordered).
pub fn templates(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "template#")
}

/// One saved version of a template (outside the `template#` prefix), never
/// changed once written; numbered from 1, zero-padded so they sort.
pub fn template_version(tenant: &TenantId, id: &TemplateId, version: u32) -> Key {
    tenant_key(tenant, format!("template-version#{id}#{version:010}"))
}

/// The saved versions of one template, oldest first.
pub fn template_versions(tenant: &TenantId, id: &TemplateId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("template-version#{id}#"))
}

/// A hosted sign-up form of the tenant (double opt-in into a list).
pub fn signup_form(tenant: &TenantId, id: &SignupFormId) -> Key {
    tenant_key(tenant, format!("signup-form#{id}"))
}

/// The tenant's sign-up forms.
pub fn signup_forms(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "signup-form#")
}

/// Everything the double opt-in keeps about one contact (its pending
/// sign-ups, its scheduled expiries, whether a sign-up created it), so an
/// erasure finds it all.
pub fn signup_state_of(tenant: &TenantId, contact: &ContactId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("signup-of#{contact}#"))
}

/// A contact's sign-up waiting for its confirmation, by the hash of the
/// token in the confirmation link (the token itself is never stored).
pub fn signup_pending(tenant: &TenantId, contact: &ContactId, token_hash: &str) -> Key {
    tenant_key(tenant, format!("signup-of#{contact}#pending#{token_hash}"))
}

/// A contact's sign-ups waiting for their confirmation.
pub fn signup_pendings(tenant: &TenantId, contact: &ContactId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("signup-of#{contact}#pending#"))
}

/// The expiry of a contact's unconfirmed sign-up, seen from the contact
/// (the entry the sweep reads is [`signup_expiry`]).
pub fn signup_expiry_of(tenant: &TenantId, contact: &ContactId, due: &str) -> Key {
    tenant_key(tenant, format!("signup-of#{contact}#expiry#{due}"))
}

/// The mark that a public sign-up created the contact (only such contacts
/// expire unconfirmed).
pub fn signup_created(tenant: &TenantId, contact: &ContactId) -> Key {
    tenant_key(tenant, format!("signup-of#{contact}#created"))
}

/// An unconfirmed sign-up due to expire, by its due time (RFC 3339 UTC,
/// so the keys sort by time) and contact.
pub fn signup_expiry(tenant: &TenantId, due: &str, contact: &ContactId) -> Key {
    tenant_key(tenant, format!("signup-expiry#{due}#{contact}"))
}

/// The tenant's unconfirmed sign-ups, soonest due first.
pub fn signup_expiries(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "signup-expiry#")
}

/// A counter of public sign-up attempts in one time window, per kind
/// (client, form, address) and keyed hash of its subject.
pub fn signup_attempts(tenant: &TenantId, kind: &str, subject_hash: &str, window: i64) -> Key {
    tenant_key(
        tenant,
        format!("signup-attempts#{kind}#{subject_hash}#{window}"),
    )
}

/// When the expiry of unconfirmed sign-ups last ran (platform partition).
pub fn signup_expiry_sweep() -> Key {
    platform_key("signup-expiry-sweep".to_owned())
}

/// One piece of consent evidence of a contact (a sign-up, a
/// confirmation, a consent by import), in time order.
pub fn consent_record(tenant: &TenantId, contact: &ContactId, at_and_id: &str) -> Key {
    tenant_key(tenant, format!("consent#{contact}#{at_and_id}"))
}

/// A contact's consent evidence, oldest first.
pub fn consent_records(tenant: &TenantId, contact: &ContactId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("consent#{contact}#"))
}

/// The index entry that lists a tenant's contacts by name
/// (`Contact::name_sort_key`).
pub fn contact_by_name(tenant: &TenantId, sort_key: &str) -> IndexKey {
    IndexKey {
        pk: format!("{tenant}#contact-by-name"),
        sk: sort_key.to_owned(),
    }
}

/// A tenant's contacts in name order, optionally from a folded name prefix.
pub fn contacts_by_name(tenant: &TenantId, name_prefix: &str) -> KeyPrefix {
    KeyPrefix {
        pk: format!("{tenant}#contact-by-name"),
        sk_prefix: name_prefix.to_owned(),
    }
}

/// A delivery event the mail service reported (bounce, complaint, ...),
/// filed under the contact its recipient address belongs to, so that a
/// person's events are read and erased with them. The same event
/// delivered twice lands on the same key.
pub fn delivery_event(
    tenant: &TenantId,
    contact: &ContactId,
    at: &chrono::DateTime<chrono::Utc>,
    provider_message_id: &str,
    kind: &str,
) -> Key {
    tenant_key(
        tenant,
        format!(
            "delivery-event#{contact}#{}#{provider_message_id}#{kind}",
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        ),
    )
}

/// The delivery events of one contact, oldest first.
pub fn contact_delivery_events(tenant: &TenantId, contact: &ContactId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("delivery-event#{contact}#"))
}

/// All of a tenant's delivery events, by contact and then by time.
pub fn delivery_events(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "delivery-event#")
}

/// The partition of a tenant's records, or the platform's (`None`).
fn scoped_key(scope: Option<&TenantId>, sk: String) -> Key {
    match scope {
        Some(tenant) => tenant_key(tenant, sk),
        None => platform_key(sk),
    }
}

fn scoped_prefix(scope: Option<&TenantId>, sk_prefix: &str) -> KeyPrefix {
    match scope {
        Some(tenant) => tenant_prefix(tenant, sk_prefix),
        None => KeyPrefix {
            pk: PLATFORM.to_owned(),
            sk_prefix: sk_prefix.to_owned(),
        },
    }
}

/// A user: in their tenant's partition, or the platform's for operators
/// and product admins.
pub fn user(scope: Option<&TenantId>, id: &UserId) -> Key {
    scoped_key(scope, format!("user#{id}"))
}

/// The users of a tenant (or the platform users).
pub fn users(scope: Option<&TenantId>) -> KeyPrefix {
    scoped_prefix(scope, "user#")
}

/// Where sign-in finds a user by the keyed hash of their address: one
/// account per address across the platform.
pub fn login(email_hash: &str) -> Key {
    platform_key(format!("login#{email_hash}"))
}

/// A browser session, by the hash of its token (the token itself is only
/// ever in the cookie).
pub fn session(token_hash: &str) -> Key {
    platform_key(format!("session#{token_hash}"))
}

/// An API key of a tenant, by its key id (the public part of the key; the
/// secret is stored only as a hash, inside the record).
pub fn api_key(tenant: &TenantId, key_id: &str) -> Key {
    tenant_key(tenant, format!("api-key#{key_id}"))
}

/// A tenant's API keys, revoked ones included.
pub fn api_keys(tenant: &TenantId) -> KeyPrefix {
    tenant_prefix(tenant, "api-key#")
}

/// Where an API key's tenant is found by its key id: the key names no
/// tenant, so this one platform record points to the tenant's partition.
pub fn api_key_lookup(key_id: &str) -> Key {
    platform_key(format!("api-key#{key_id}"))
}

/// A browser sign-in through the identity provider in progress, by the
/// hash of its `state`.
pub fn sso_sign_in(state_hash: &str) -> Key {
    platform_key(format!("sso-sign-in#{state_hash}"))
}

/// A password reset link, by the hash of its token.
pub fn password_reset(token_hash: &str) -> Key {
    platform_key(format!("password-reset#{token_hash}"))
}

/// Failed sign-ins for an account (keyed hash of the address) or from an
/// address (keyed hash of the IP).
pub fn sign_in_failures(kind: &str, subject_hash: &str) -> Key {
    platform_key(format!("sign-in-failures#{kind}#{subject_hash}"))
}

/// One audit log entry; ordered by time.
pub fn audit_entry(
    scope: Option<&TenantId>,
    at: &chrono::DateTime<chrono::Utc>,
    id: &uuid::Uuid,
) -> Key {
    scoped_key(
        scope,
        format!(
            "audit#{}#{}",
            at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            id.simple()
        ),
    )
}

/// A tenant's (or the platform's) audit log.
pub fn audit_log(scope: Option<&TenantId>) -> KeyPrefix {
    scoped_prefix(scope, "audit#")
}

/// Free-form keys inside a tenant's partition, for the port conformance
/// suite. Still tenant-first, so still isolated; not in production builds.
#[cfg(any(test, feature = "test-support"))]
pub mod scratch {
    use super::*;

    pub fn key(tenant: &TenantId, name: &str) -> Key {
        tenant_key(tenant, format!("scratch#{name}"))
    }

    pub fn prefix(tenant: &TenantId, name_prefix: &str) -> KeyPrefix {
        tenant_prefix(tenant, &format!("scratch#{name_prefix}"))
    }

    pub fn index(tenant: &TenantId, group: &str, sort: &str) -> IndexKey {
        IndexKey {
            pk: format!("{tenant}#scratch#{group}"),
            sk: sort.to_owned(),
        }
    }

    pub fn index_prefix(tenant: &TenantId, group: &str, sort_prefix: &str) -> KeyPrefix {
        KeyPrefix {
            pk: format!("{tenant}#scratch#{group}"),
            sk_prefix: sort_prefix.to_owned(),
        }
    }
}

// --- tracking ---

/// A campaign's link table: the destination of each tracked link, by the
/// index its tokens carry.
pub fn campaign_links(tenant: &TenantId, campaign: &CampaignId) -> Key {
    tenant_key(tenant, format!("campaign-links#{campaign}"))
}

/// A campaign's open and click counters.
pub fn tracking_stats(tenant: &TenantId, campaign: &CampaignId) -> Key {
    tenant_key(tenant, format!("tracking-stats#{campaign}"))
}

/// A recipient's first open of a campaign (per-person tracking), filed
/// under the contact so that a person's records are read and erased with
/// them.
pub fn tracking_open(tenant: &TenantId, contact: &ContactId, campaign: &CampaignId) -> Key {
    tenant_key(tenant, format!("tracking#{contact}#{campaign}#open"))
}

/// A recipient's first click of one link of a campaign, or (`None`) of any
/// of its links (per-person tracking), filed under the contact.
pub fn tracking_click(
    tenant: &TenantId,
    contact: &ContactId,
    campaign: &CampaignId,
    link: Option<u16>,
) -> Key {
    let sk = match link {
        Some(link) => format!("tracking#{contact}#{campaign}#click-{link:05}"),
        None => format!("tracking#{contact}#{campaign}#click"),
    };
    tenant_key(tenant, sk)
}

/// The per-person tracking records of one contact, by campaign.
pub fn contact_tracking_events(tenant: &TenantId, contact: &ContactId) -> KeyPrefix {
    tenant_prefix(tenant, &format!("tracking#{contact}#"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_key_is_in_the_tenants_own_partitions() {
        let t = TenantId::parse("sparkasse-a").unwrap();
        let c = ContactId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(contact(&t, &c).pk(), "sparkasse-a");
        assert_eq!(contacts(&t).pk(), "sparkasse-a");
        assert_eq!(suppression(&t, &c).pk(), "sparkasse-a");
        assert_eq!(suppressions(&t).pk(), "sparkasse-a");
        assert_eq!(
            contact_by_name(&t, "mustermann|erika|0123").pk(),
            "sparkasse-a#contact-by-name"
        );
        assert_eq!(contacts_by_name(&t, "").pk(), "sparkasse-a#contact-by-name");
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(
            delivery_event(&t, &c, &at, "m", "Bounce").pk(),
            "sparkasse-a"
        );
        assert_eq!(contact_delivery_events(&t, &c).pk(), "sparkasse-a");
        assert_eq!(scratch::key(&t, "x").pk(), "sparkasse-a");
        let u = UserId::generate();
        assert_eq!(user(Some(&t), &u).pk(), "sparkasse-a");
        assert_eq!(users(Some(&t)).pk(), "sparkasse-a");
        assert_eq!(
            audit_entry(Some(&t), &at, &uuid::Uuid::nil()).pk(),
            "sparkasse-a"
        );
        assert_eq!(audit_log(Some(&t)).pk(), "sparkasse-a");
        assert_eq!(user(None, &u).pk(), PLATFORM);
        assert_eq!(session("h").pk(), PLATFORM);
        assert_eq!(api_key(&t, "k3y").pk(), "sparkasse-a");
        assert_eq!(api_keys(&t).pk(), "sparkasse-a");
        assert!(
            api_key(&t, "k3y")
                .sk()
                .starts_with(api_keys(&t).sk_prefix())
        );
        assert_eq!(api_key_lookup("k3y").pk(), PLATFORM);
        assert_eq!(scratch::index(&t, "g", "s").pk(), "sparkasse-a#scratch#g");
    }

    #[test]
    fn the_platform_partition_cannot_be_named_by_a_tenant() {
        assert!(TenantId::parse(tenant(&TenantId::parse("abc").unwrap()).pk()).is_err());
    }
}
