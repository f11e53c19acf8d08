//! Newsletter templates (Vorlagen) of a tenant, with their versions.
//!
//! Every save writes a new numbered version next to the old ones and never
//! changes a version once written: a campaign names the exact version it
//! was sent with, and that version still reads the same years later. A
//! template is saved only when it compiles; a save based on a version that
//! is no longer the current one is refused, so two editors cannot silently
//! overwrite each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::content::checks::{self, Finding};
use crate::content::context;
use crate::content::template::{self as content, Rendered, TemplateKind, TemplateSource};
use crate::domain::{
    Contact, ContactDraft, ContactId, EmailAddress, PersonName, Salutation, TemplateId, TenantId,
    short_text,
};
use crate::ports::store::{Item, PutCondition, Query, StoreError, TxOp, keys, parse_all};
use crate::services::tenants::{self, TenantError};

/// The longest body accepted, in bytes (a stored version must fit one
/// store item of at most 400 KB together with its text part).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The longest written text part, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The longest subject, in characters (merge fields included).
pub const MAX_SUBJECT_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no template with this id")]
    NotFound,
    #[error("this template has no version {0}")]
    VersionNotFound(u32),
    #[error("no contact with this id")]
    ContactNotFound,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The template does not compile: where and why.
    #[error(transparent)]
    Compile(#[from] content::TemplateError),
    #[error("the template was saved meanwhile (now version {current}); reload it first")]
    Conflict { current: u32 },
    /// Campaigns send a version of the template: it stays.
    #[error("campaigns use this template: {}", .0.join(", "))]
    InUse(Vec<String>),
    /// A test message could not be made (a value with a line break in
    /// the subject, say).
    #[error(transparent)]
    Message(#[from] crate::content::message::MessageError),
    #[error(transparent)]
    Mail(#[from] crate::ports::MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TemplateError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// A template: its name and which version is current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub kind: TemplateKind,
    /// The newest saved version (1 for a new template).
    pub current: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One saved version, never changed once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub number: u32,
    pub source: TemplateSource,
    pub saved_at: DateTime<Utc>,
}

/// What the preview shows: the message as it would be sent to one contact,
/// and what the checks found.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rendered: Rendered,
    pub findings: Vec<Finding>,
}

fn template_name(raw: &str) -> Result<String, TemplateError> {
    let name = short_text(raw).map_err(|reason| TemplateError::invalid("name", reason))?;
    if name.is_empty() {
        return Err(TemplateError::invalid("name", "is empty"));
    }
    Ok(name)
}

/// Checks the sizes and the subject line, then compiles: a template that
/// does not compile is never stored.
fn validate(source: &TemplateSource) -> Result<content::Compiled, TemplateError> {
    if source.subject.contains(['\r', '\n']) {
        return Err(TemplateError::invalid(
            "subject",
            "contains a line break (a subject is one line)",
        ));
    }
    if source.subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(TemplateError::invalid(
            "subject",
            format!("is longer than {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    if source.body.len() > MAX_BODY_BYTES {
        return Err(TemplateError::invalid(
            "body",
            format!("is larger than {} KB", MAX_BODY_BYTES / 1024),
        ));
    }
    if source.body.trim().is_empty() {
        return Err(TemplateError::invalid("body", "is empty"));
    }
    if let Some(text) = &source.text
        && text.len() > MAX_TEXT_BYTES
    {
        return Err(TemplateError::invalid(
            "text",
            format!("is larger than {} KB", MAX_TEXT_BYTES / 1024),
        ));
    }
    Ok(content::compile(source)?)
}

/// An empty written text part counts as none: it is derived.
fn normalised(mut source: TemplateSource) -> TemplateSource {
    if source.text.as_deref().is_some_and(|t| t.trim().is_empty()) {
        source.text = None;
    }
    source
}

/// Creates a template with its first version.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    name: &str,
    source: TemplateSource,
) -> Result<(Template, Version), TemplateError> {
    tenants::get_active(app, tenant).await?;
    let name = template_name(name)?;
    let source = normalised(source);
    validate(&source)?;
    let now = app.clock.now();
    let template = Template {
        id: TemplateId::generate(),
        name,
        kind: source.kind,
        current: 1,
        created_at: now,
        updated_at: now,
    };
    let version = Version {
        number: 1,
        source,
        saved_at: now,
    };
    app.store
        .transact(vec![
            TxOp::Put {
                item: Item::new(keys::template(tenant, &template.id), &template)?,
                condition: PutCondition::NotExists,
            },
            TxOp::Put {
                item: Item::new(keys::template_version(tenant, &template.id, 1), &version)?,
                condition: PutCondition::NotExists,
            },
        ])
        .await?;
    Ok((template, version))
}

/// One template.
pub async fn get(app: &App, tenant: &TenantId, id: &TemplateId) -> Result<Template, TemplateError> {
    tenants::get(app, tenant).await?;
    let stored = app
        .store
        .get(&keys::template(tenant, id))
        .await?
        .ok_or(TemplateError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// One saved version of a template; `None` for the current one.
pub async fn version(
    app: &App,
    tenant: &TenantId,
    id: &TemplateId,
    number: Option<u32>,
) -> Result<(Template, Version), TemplateError> {
    let template = get(app, tenant, id).await?;
    let number = number.unwrap_or(template.current);
    let stored = app
        .store
        .get(&keys::template_version(tenant, id, number))
        .await?
        .ok_or(TemplateError::VersionNotFound(number))?;
    Ok((template, stored.item.parse()?))
}

/// Every template of the tenant, oldest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<Template>, TemplateError> {
    tenants::get(app, tenant).await?;
    Ok(parse_all(
        app.store.as_ref(),
        Query::table(keys::templates(tenant)).limit(500),
    )
    .await?)
}

/// The saved versions of a template, newest first.
pub async fn versions(
    app: &App,
    tenant: &TenantId,
    id: &TemplateId,
) -> Result<Vec<Version>, TemplateError> {
    get(app, tenant, id).await?;
    Ok(parse_all(
        app.store.as_ref(),
        Query::table(keys::template_versions(tenant, id))
            .descending()
            .limit(100),
    )
    .await?)
}

/// Saves a new version (and the name). `based_on`, when given, must be the
/// current version: otherwise someone else saved meanwhile, and nothing is
/// written.
pub async fn save(
    app: &App,
    tenant: &TenantId,
    id: &TemplateId,
    name: &str,
    source: TemplateSource,
    based_on: Option<u32>,
) -> Result<(Template, Version), TemplateError> {
    tenants::get_active(app, tenant).await?;
    let name = template_name(name)?;
    let source = normalised(source);
    validate(&source)?;
    let key = keys::template(tenant, id);
    let stored = app.store.get(&key).await?.ok_or(TemplateError::NotFound)?;
    let mut template: Template = stored.item.parse()?;
    if let Some(base) = based_on
        && base != template.current
    {
        return Err(TemplateError::Conflict {
            current: template.current,
        });
    }
    let now = app.clock.now();
    template.current += 1;
    template.name = name;
    template.kind = source.kind;
    template.updated_at = now;
    let version = Version {
        number: template.current,
        source,
        saved_at: now,
    };
    let written = app
        .store
        .transact(vec![
            TxOp::Put {
                item: Item::new(key, &template)?,
                condition: PutCondition::Version(stored.version),
            },
            TxOp::Put {
                item: Item::new(keys::template_version(tenant, id, version.number), &version)?,
                condition: PutCondition::NotExists,
            },
        ])
        .await;
    match written {
        Ok(()) => Ok((template, version)),
        Err(StoreError::ConditionFailed) => {
            let current = get(app, tenant, id).await?.current;
            Err(TemplateError::Conflict { current })
        }
        Err(other) => Err(other.into()),
    }
}

/// Deletes a template with all its versions, unless a campaign sends one
/// of them (a campaign keeps the exact version it was sent with).
pub async fn delete(app: &App, tenant: &TenantId, id: &TemplateId) -> Result<(), TemplateError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::template(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(TemplateError::NotFound);
    }
    let users: Vec<String> = crate::services::campaigns::all(app, tenant)
        .await
        .map_err(|e| match e {
            crate::services::campaigns::CampaignError::Store(s) => TemplateError::Store(s),
            other => TemplateError::invalid("template", other.to_string()),
        })?
        .into_iter()
        .filter(|c| c.template == *id)
        .map(|c| c.name)
        .collect();
    if !users.is_empty() {
        return Err(TemplateError::InUse(users));
    }
    // The template first: a half-finished delete leaves versions no one
    // can reach, never a template without its versions.
    app.store.delete(&key).await?;
    loop {
        let page = app
            .store
            .query(Query::table(keys::template_versions(tenant, id)).limit(100))
            .await?;
        for stored in &page.items {
            app.store.delete(&stored.item.key).await?;
        }
        if page.next.is_none() {
            return Ok(());
        }
    }
}

/// The most addresses one test send goes to.
pub const MAX_TEST_ADDRESSES: usize = 10;

/// One message of a test send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestSent {
    pub to: EmailAddress,
    /// The Message-ID header of the sent message.
    pub message_id: String,
}

/// The addresses of a test send: 1 to 10, each checked, each once.
pub fn test_addresses(raw: &[String]) -> Result<Vec<EmailAddress>, TemplateError> {
    let mut addresses: Vec<EmailAddress> = Vec::new();
    for (index, line) in raw.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let address = EmailAddress::parse(line).map_err(|e| {
            TemplateError::invalid("addresses", format!("address {}: {e}", index + 1))
        })?;
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    if addresses.is_empty() {
        return Err(TemplateError::invalid(
            "addresses",
            "name at least one address",
        ));
    }
    if addresses.len() > MAX_TEST_ADDRESSES {
        return Err(TemplateError::invalid(
            "addresses",
            format!("at most {MAX_TEST_ADDRESSES} addresses per test send"),
        ));
    }
    Ok(addresses)
}

/// Sends a version of a template (the current one when `number` is none)
/// as a test to up to ten addresses, rendered for a chosen contact or the
/// sample contact, through the mail port, exactly as a campaign's message
/// is made. A test is marked as one: "[Test]" before the subject, an
/// `X-EMMA-Test` header, a `kind=test` tag; its links are not tracked,
/// and its unsubscribe link names no contact, so clicking it changes
/// nothing.
pub async fn test_send(
    app: &App,
    tenant: &TenantId,
    id: &TemplateId,
    number: Option<u32>,
    addresses: &[EmailAddress],
    contact: Option<&ContactId>,
) -> Result<Vec<TestSent>, TemplateError> {
    let (template, version) = self::version(app, tenant, id, number).await?;
    let label = format!("{} v{}", template.id, version.number);
    test_send_source(app, tenant, &label, &version.source, addresses, contact).await
}

/// Sends `source` as a test (see [`test_send`]); `label` names what is
/// tested in the `X-EMMA-Template` header (a template version, or a
/// campaign with its own subject and preheader).
pub async fn test_send_source(
    app: &App,
    tenant: &TenantId,
    label: &str,
    source: &TemplateSource,
    addresses: &[EmailAddress],
    contact: Option<&ContactId>,
) -> Result<Vec<TestSent>, TemplateError> {
    use crate::content::links::LinkKey;
    use crate::content::message::{CampaignMail, Prepared, Recipient};

    let tenant_record = tenants::get_active(app, tenant).await?;
    if addresses.is_empty() || addresses.len() > MAX_TEST_ADDRESSES {
        return Err(TemplateError::invalid(
            "addresses",
            format!("name 1 to {MAX_TEST_ADDRESSES} addresses"),
        ));
    }
    let person = match contact {
        Some(id) => crate::services::contacts::get(app, tenant, id)
            .await
            .map_err(contact_failure)?,
        None => sample_contact(app),
    };
    let mut source = source.clone();
    source.subject = format!("[Test] {}", source.subject);
    // Checked when saved; the prefix may take a subject past its limit.
    let compiled = content::compile(&source)?;
    let from = app.settings.mail_from.clone();
    let mail = CampaignMail {
        tenant: tenant.clone(),
        campaign: uuid::Uuid::now_v7(),
        from_name: tenant_record
            .settings
            .default_from_name
            .clone()
            .unwrap_or_else(|| tenant_record.name.as_str().to_owned()),
        message_id_domain: from.domain().to_owned(),
        from: from.clone(),
        reply_to: None,
        tracking: crate::domain::TrackingMode::Off,
        public_url: app.settings.public_url.clone(),
        unsubscribe_mailto: from.clone(),
        headers: vec![
            ("X-EMMA-Test", "1".to_owned()),
            ("X-EMMA-Template", label.to_owned()),
        ],
    };
    let prepared = Prepared::new(compiled, &mail, &LinkKey::new(&app.pseudonyms))?;
    // Nobody's unsubscribe link: the sample contact does not exist.
    let nobody = nobody();
    let token = crate::services::unsubscribe::token(app, tenant, &nobody);
    let values = context::for_contact(&person, "", tenant_record.name.as_str());
    let mut sent = Vec::new();
    for to in addresses {
        let recipient = Recipient {
            contact: &nobody,
            to,
            name: None,
            unsubscribe_token: &token,
            context: &values,
        };
        let built = prepared.message(&recipient, app.clock.now().timestamp())?;
        let outgoing = crate::ports::OutgoingMail {
            tenant: tenant.clone(),
            from: from.clone(),
            recipients: vec![to.clone()],
            raw: built.raw,
            tags: vec![
                ("tenant".to_owned(), tenant.to_string()),
                ("kind".to_owned(), "test".to_owned()),
            ],
        };
        app.mailer.send(&outgoing).await?;
        tracing::info!(
            tenant = %tenant,
            tested = label,
            recipient = %app.pseudonyms.email(to),
            "template test sent"
        );
        sent.push(TestSent {
            to: to.clone(),
            message_id: built.message_id,
        });
    }
    Ok(sent)
}

/// A contact that could not be read: not found, or the store failing
/// (which must not look like a wrong id).
fn contact_failure(e: crate::services::contacts::ContactError) -> TemplateError {
    use crate::services::contacts::ContactError;
    match e {
        ContactError::Store(s) => TemplateError::Store(s),
        ContactError::Tenant(t) => TemplateError::Tenant(t),
        _ => TemplateError::ContactNotFound,
    }
}

/// The id no contact has (the sample contact's): unsubscribe links of
/// previews and test sends name it, so following them changes nothing.
fn nobody() -> ContactId {
    ContactId::parse(&"0".repeat(32)).expect("a valid id")
}

/// A contact who stands for "any recipient" in the preview when none is
/// chosen: every standard field filled.
fn sample_contact(app: &App) -> Contact {
    let mut draft = ContactDraft::new(
        EmailAddress::parse("erika.mustermann@example.de").expect("a valid sample address"),
    );
    draft.salutation = Some(Salutation::Female);
    draft.first_name = PersonName::parse("Erika").ok();
    draft.last_name = PersonName::parse("Mustermann").ok();
    Contact::new(nobody(), draft, app.clock.now())
}

/// Renders a template (saved or being edited) as it would be sent to one
/// contact of the tenant, or to a sample contact, and runs the content
/// checks on it.
pub async fn preview(
    app: &App,
    tenant: &TenantId,
    source: &TemplateSource,
    contact: Option<&ContactId>,
) -> Result<Preview, TemplateError> {
    let tenant_record = tenants::get(app, tenant).await?;
    let compiled = validate(source)?;
    let contact = match contact {
        Some(id) => crate::services::contacts::get(app, tenant, id)
            .await
            .map_err(contact_failure)?,
        None => sample_contact(app),
    };
    // Nobody's link, with the real shape: a preview shows a contact's mail
    // to readers who may not unsubscribe that contact.
    let unsubscribe_url = crate::services::unsubscribe::url(app, tenant, &nobody());
    let attributes = crate::services::attributes::list(app, tenant)
        .await
        .map_err(|e| match e {
            crate::services::attributes::AttributeError::Store(s) => TemplateError::Store(s),
            crate::services::attributes::AttributeError::Tenant(t) => TemplateError::Tenant(t),
            other => TemplateError::invalid("attributes", other.to_string()),
        })?;
    let names: Vec<&str> = attributes.iter().map(|a| a.name.as_str()).collect();
    let mut findings = checks::check(source, &compiled, &names);
    let values = context::for_contact(&contact, &unsubscribe_url, tenant_record.name.as_str());
    let rendered = compiled
        .render(&values)
        .map_err(|e| TemplateError::invalid(e.part.field(), e.message))?;
    checks::rendered(&rendered.html, &unsubscribe_url, &mut findings);
    Ok(Preview { rendered, findings })
}
