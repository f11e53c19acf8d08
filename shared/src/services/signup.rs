//! Double opt-in (Double-Opt-in): the tenant's hosted sign-up forms, each
//! into one list; the public sign-up that sends a confirmation mail with a
//! signed, expiring, single-use link; the confirmation that subscribes the
//! person; and the expiry of sign-ups nobody confirmed. Every step leaves
//! consent evidence (`services::consent`).
//!
//! The rules:
//!
//! - The public answer is the same whether the address is new, known,
//!   subscribed, unsubscribed or suppressed, and whether a bot was caught:
//!   nobody learns from it whether an address is in the audience. Only a
//!   malformed address (which names nobody) and a client over its rate
//!   limit get another answer.
//! - Abuse protection: a honeypot field (filled → the usual answer, nothing
//!   stored or sent), a minimum fill time through a signed timestamp the
//!   hosted page carries (optional for the embedded snippet; a forged or
//!   too quick one counts as a bot), and rate limits in fixed windows per
//!   pseudonymised client IP (IPv6 by /64), per form and per address (the
//!   last one silent: the victim of a mail bomb gets at most a few mails).
//! - A new address becomes an `unconfirmed` contact (never mailed). A
//!   subscribed contact stays subscribed and joins the list once it
//!   confirms. Names given in the form only fill names the contact lacks,
//!   and only on confirmation: a stranger cannot rename someone.
//! - Who unsubscribed, or was erased (Art. 17), may sign up again: that is
//!   a new opt-in. Confirming it subscribes the contact again and removes
//!   the suppression entry of reason `unsubscribed` or `erased`, and only
//!   those. An address that hard-bounced, complained or was blocked by
//!   staff (`manual`) is not mailed at all: a complaint or a block is not
//!   undone by anyone who can type the address into a form, and a
//!   hard-bounced mailbox would only bounce again.
//! - The link names tenant, form, contact, expiry and a random nonce under
//!   a keyed MAC; only its hash is stored (the pending sign-up, under the
//!   contact so an erasure finds it, expiring with the link). The live
//!   link is stored nowhere else either: the evidence keeps the mail with
//!   the link replaced by a placeholder, plus the SHA-256 of the bytes sent
//!   and of the link (`services::consent`), so nobody who reads evidence
//!   can confirm for the person. Opening the link shows a button — mail
//!   scanners that prefetch links confirm nothing — and the POST confirms
//!   once; again, it changes nothing.
//! - A link holds only while its form exists, and not for someone who
//!   unsubscribed or was erased after signing up: a link mailed before the
//!   person left does not bring them back. An erasure forgets the pending
//!   sign-ups ([`forget_contact`]).
//! - The confirmation is one store transaction: the pending sign-up is
//!   spent (guarded by its version), the contact subscribed, the
//!   confirmation record written and a reopenable suppression entry
//!   removed, all or nothing. Joining the list follows (idempotent).
//! - Contacts that a sign-up created, still unconfirmed when the form's
//!   period (default 30 days) after their latest sign-up has passed, are
//!   deleted with their evidence, by the scheduler's tick, at most once an
//!   hour. A contact that staff created (an import, say) never expires
//!   this way, whoever signs it up.
//! - The signed start time of the hosted page holds for two hours: an old
//!   one cannot be replayed by a bot.
//! - Timing: a blocked or known address reads the same items (suppression
//!   and contact) as a new one before the paths part, but it is answered
//!   without the writes and the mail a new address costs, so it answers
//!   measurably faster. Closing that fully would need the mail sent after
//!   the answer (a queue); the rate limits bound how much can be probed.
//! - The confirmation mail goes from the platform's configured sender
//!   address (`EMMA_MAIL_FROM`, a verified identity), under the form's
//!   sender name, else the tenant's default sender name, else the tenant's
//!   name: tenants configure sender domains but no sender address yet.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{
    Contact, ContactDraft, ContactId, ContactStatus, EmailAddress, EmailAddressError, ListId,
    PersonName, Salutation, SignupFormId, Tenant, TenantId, short_text,
};
use crate::mime::{self, MimeError};
use crate::ports::store::{Item, PutCondition, Query, StoreError, TxOp, keys};
use crate::ports::{BlobError, MailError, OutgoingMail};
use crate::services::audit::{self, Actor, AuditEntry, IpTrace};
use crate::services::consent::{self, ConsentError, ConsentKind, ConsentRecord};
use crate::services::contacts::{self, ContactError};
use crate::services::lists::{self, ListError};
use crate::services::suppressions::{self, Suppression, SuppressionError, SuppressionReason};
use crate::services::tenants::{self, TenantError};

/// How long a confirmation link holds when the form says nothing else.
pub const DEFAULT_LINK_VALIDITY_HOURS: u32 = 48;
/// How long an unconfirmed contact is kept when the form says nothing else.
pub const DEFAULT_EXPIRY_DAYS: u32 = 30;
/// A hosted form sent back quicker than this was not filled in by a person.
pub const MIN_FILL_SECONDS: i64 = 3;
/// A hosted form's signed start time holds this long (no replay forever).
pub const MAX_FILL_SECONDS: i64 = 2 * 3600;
/// Sign-up attempts per client IP address (IPv6: per /64) and hour.
pub const LIMIT_PER_CLIENT: i64 = 10;
/// Sign-up attempts per form and hour (bounds the mails a form can cause).
pub const LIMIT_PER_FORM: i64 = 300;
/// Confirmation mails per address and day.
pub const LIMIT_PER_ADDRESS: i64 = 3;

/// The placeholder for the confirmation link in the mail text.
pub const LINK_PLACEHOLDER: &str = "{link}";
/// What stands for the link in the mail kept as evidence.
pub const REDACTED_LINK: &str = "[Bestätigungslink entfernt]";

/// The audit actions of the public steps (no actor: the person acts).
pub const AUDIT_REQUEST: &str = "signup.request";
pub const AUDIT_CONFIRM: &str = "signup.confirm";
pub const AUDIT_EXPIRE: &str = "signup.expire";

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no sign-up form with this id")]
    NotFound,
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("the form was changed meanwhile; load it again")]
    Conflict,
    #[error("too many sign-ups; try again in {retry_after_seconds} seconds")]
    Throttled { retry_after_seconds: i64 },
    #[error("the confirmation link is not valid: altered, expired or no longer usable")]
    InvalidLink,
    #[error(transparent)]
    Mail(MailError),
    #[error("the confirmation mail could not be built: {0}")]
    Mime(MimeError),
    #[error(transparent)]
    Blob(BlobError),
    #[error(transparent)]
    Store(StoreError),
}

impl SignupError {
    fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            problem: problem.into(),
        }
    }
}

impl From<StoreError> for SignupError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<ConsentError> for SignupError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::Store(s) => Self::Store(s),
            ConsentError::Blob(b) => Self::Blob(b),
        }
    }
}

impl From<ContactError> for SignupError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Tenant(t) => Self::Tenant(t),
            ContactError::Store(s) => Self::Store(s),
            ContactError::Conflict => Self::Conflict,
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<ListError> for SignupError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Tenant(t) => Self::Tenant(t),
            ListError::Store(s) => Self::Store(s),
            ListError::NotFound => Self::invalid("list_id", "no list with this id"),
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<SuppressionError> for SignupError {
    fn from(e: SuppressionError) -> Self {
        match e {
            SuppressionError::Tenant(t) => Self::Tenant(t),
            SuppressionError::Store(s) => Self::Store(s),
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<MailError> for SignupError {
    fn from(e: MailError) -> Self {
        Self::Mail(e)
    }
}

impl From<MimeError> for SignupError {
    fn from(e: MimeError) -> Self {
        Self::Mime(e)
    }
}

// ---------------------------------------------------------------------
// Forms

/// A hosted sign-up form into one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupForm {
    pub id: SignupFormId,
    pub name: String,
    pub list_id: ListId,
    /// The consent text the form shows, exactly.
    pub consent_text: String,
    /// Counts up from 1 whenever the consent text changes; each evidence
    /// record keeps the text it showed, so old versions stay provable.
    pub consent_version: u32,
    pub ask_salutation: bool,
    pub ask_first_name: bool,
    pub ask_last_name: bool,
    /// The sender name of the confirmation mail (else the tenant's).
    pub from_name: Option<String>,
    pub mail_subject: String,
    /// The confirmation mail's text; `{link}` stands for the link.
    pub mail_text: String,
    /// What the person reads after signing up and after confirming.
    pub thank_you_text: String,
    pub link_validity_hours: u32,
    pub expiry_days: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What staff set on a form; `None` takes the default.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormSettings {
    #[schema(example = "Newsletter-Anmeldung Website")]
    pub name: String,
    /// The list the form signs people up to.
    pub list_id: String,
    #[schema(
        example = "Ja, ich möchte den Newsletter der Sparkasse per E-Mail erhalten. Die Einwilligung kann ich jederzeit widerrufen."
    )]
    pub consent_text: String,
    #[serde(default)]
    pub ask_salutation: bool,
    #[serde(default)]
    pub ask_first_name: bool,
    #[serde(default)]
    pub ask_last_name: bool,
    pub from_name: Option<String>,
    pub mail_subject: Option<String>,
    /// Must contain `{link}`.
    pub mail_text: Option<String>,
    pub thank_you_text: Option<String>,
    /// 1 to 168; 48 when absent.
    pub link_validity_hours: Option<u32>,
    /// 1 to 365; 30 when absent.
    pub expiry_days: Option<u32>,
}

pub const DEFAULT_SUBJECT: &str = "Bitte bestätigen Sie Ihre Anmeldung";

/// The German default text of the confirmation mail.
pub fn default_mail_text() -> String {
    "Guten Tag,\n\n\
     vielen Dank für Ihre Anmeldung zu unserem Newsletter. Bitte bestätigen Sie sie, \
     indem Sie diesen Link öffnen:\n\n\
     {link}\n\n\
     Erst mit Ihrer Bestätigung nehmen wir Ihre Adresse in den Verteiler auf. \
     Wenn Sie sich nicht angemeldet haben, beachten Sie diese E-Mail bitte nicht: \
     Sie bekommen dann keine weiteren E-Mails von uns.\n"
        .to_owned()
}

pub const DEFAULT_THANK_YOU: &str = "Vielen Dank! Wir haben Ihnen eine E-Mail geschickt. \
     Bitte bestätigen Sie Ihre Anmeldung mit dem Link darin.";

/// A longer text: trimmed, `min..=max` characters, no control characters
/// but line breaks and tabs.
fn long_text(field: &'static str, raw: &str, max: usize) -> Result<String, SignupError> {
    let text = raw.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(SignupError::invalid(field, "is empty"));
    }
    if text.chars().count() > max {
        return Err(SignupError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(SignupError::invalid(field, "contains control characters"));
    }
    Ok(text)
}

fn line(field: &'static str, raw: &str) -> Result<String, SignupError> {
    let text = short_text(raw).map_err(|p| SignupError::invalid(field, p))?;
    if text.is_empty() {
        return Err(SignupError::invalid(field, "is empty"));
    }
    Ok(text)
}

/// A checked form, ready to store (id and times set by the caller).
async fn checked(
    app: &App,
    tenant: &TenantId,
    settings: &FormSettings,
) -> Result<Checked, SignupError> {
    let name = line("name", &settings.name)?;
    let list_id = ListId::parse(settings.list_id.trim())
        .map_err(|_| SignupError::invalid("list_id", "no list with this id"))?;
    lists::get(app, tenant, &list_id).await?;
    let consent_text = long_text("consent_text", &settings.consent_text, 5000)?;
    let from_name = match settings.from_name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(line("from_name", raw)?),
    };
    let mail_subject = match settings.mail_subject.as_deref() {
        None => DEFAULT_SUBJECT.to_owned(),
        Some(raw) => {
            let subject = raw.trim();
            if subject.is_empty() {
                return Err(SignupError::invalid("mail_subject", "is empty"));
            }
            if subject.chars().count() > 200 {
                return Err(SignupError::invalid(
                    "mail_subject",
                    "is longer than 200 characters",
                ));
            }
            if subject.chars().any(char::is_control) {
                return Err(SignupError::invalid(
                    "mail_subject",
                    "contains control characters",
                ));
            }
            subject.to_owned()
        }
    };
    let mail_text = match settings.mail_text.as_deref() {
        None => default_mail_text(),
        Some(raw) => long_text("mail_text", raw, 5000)?,
    };
    if !mail_text.contains(LINK_PLACEHOLDER) {
        return Err(SignupError::invalid(
            "mail_text",
            "must contain {link}, where the confirmation link goes",
        ));
    }
    let thank_you_text = match settings.thank_you_text.as_deref() {
        None => DEFAULT_THANK_YOU.to_owned(),
        Some(raw) => long_text("thank_you_text", raw, 2000)?,
    };
    let link_validity_hours = settings
        .link_validity_hours
        .unwrap_or(DEFAULT_LINK_VALIDITY_HOURS);
    if !(1..=168).contains(&link_validity_hours) {
        return Err(SignupError::invalid(
            "link_validity_hours",
            "must be from 1 to 168 hours",
        ));
    }
    let expiry_days = settings.expiry_days.unwrap_or(DEFAULT_EXPIRY_DAYS);
    if !(1..=365).contains(&expiry_days) {
        return Err(SignupError::invalid(
            "expiry_days",
            "must be from 1 to 365 days",
        ));
    }
    if expiry_days * 24 < link_validity_hours {
        return Err(SignupError::invalid(
            "expiry_days",
            "must not end before the confirmation link does",
        ));
    }
    Ok(Checked {
        name,
        list_id,
        consent_text,
        from_name,
        mail_subject,
        mail_text,
        thank_you_text,
        link_validity_hours,
        expiry_days,
        ask: (
            settings.ask_salutation,
            settings.ask_first_name,
            settings.ask_last_name,
        ),
    })
}

struct Checked {
    name: String,
    list_id: ListId,
    consent_text: String,
    from_name: Option<String>,
    mail_subject: String,
    mail_text: String,
    thank_you_text: String,
    link_validity_hours: u32,
    expiry_days: u32,
    ask: (bool, bool, bool),
}

impl Checked {
    fn apply(self, form: &mut SignupForm) {
        if form.consent_text != self.consent_text {
            form.consent_version += 1;
        }
        form.name = self.name;
        form.list_id = self.list_id;
        form.consent_text = self.consent_text;
        form.from_name = self.from_name;
        form.mail_subject = self.mail_subject;
        form.mail_text = self.mail_text;
        form.thank_you_text = self.thank_you_text;
        form.link_validity_hours = self.link_validity_hours;
        form.expiry_days = self.expiry_days;
        (form.ask_salutation, form.ask_first_name, form.ask_last_name) = self.ask;
    }
}

/// Creates a form.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    settings: &FormSettings,
) -> Result<SignupForm, SignupError> {
    tenants::get_active(app, tenant).await?;
    let checked = checked(app, tenant, settings).await?;
    let now = app.clock.now();
    let mut form = SignupForm {
        id: SignupFormId::generate(),
        name: String::new(),
        list_id: checked.list_id,
        consent_text: String::new(),
        consent_version: 0,
        ask_salutation: false,
        ask_first_name: false,
        ask_last_name: false,
        from_name: None,
        mail_subject: String::new(),
        mail_text: String::new(),
        thank_you_text: String::new(),
        link_validity_hours: DEFAULT_LINK_VALIDITY_HOURS,
        expiry_days: DEFAULT_EXPIRY_DAYS,
        created_at: now,
        updated_at: now,
    };
    checked.apply(&mut form);
    app.store
        .put(
            Item::new(keys::signup_form(tenant, &form.id), &form)?,
            PutCondition::NotExists,
        )
        .await?;
    tracing::info!(tenant = %tenant, form = %form.id, "sign-up form created");
    Ok(form)
}

/// One form of the tenant.
pub async fn get(
    app: &App,
    tenant: &TenantId,
    id: &SignupFormId,
) -> Result<SignupForm, SignupError> {
    tenants::get(app, tenant).await?;
    let stored = app
        .store
        .get(&keys::signup_form(tenant, id))
        .await?
        .ok_or(SignupError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// Every form of the tenant, oldest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<SignupForm>, SignupError> {
    tenants::get(app, tenant).await?;
    let mut forms = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::signup_forms(tenant))
                    .limit(200)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            forms.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(forms),
        }
    }
}

/// Replaces a form's settings; a changed consent text gets a new version.
pub async fn update(
    app: &App,
    tenant: &TenantId,
    id: &SignupFormId,
    settings: &FormSettings,
) -> Result<SignupForm, SignupError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::signup_form(tenant, id);
    let stored = app.store.get(&key).await?.ok_or(SignupError::NotFound)?;
    let mut form: SignupForm = stored.item.parse()?;
    checked(app, tenant, settings).await?.apply(&mut form);
    form.updated_at = app.clock.now();
    match app
        .store
        .put(
            Item::new(key, &form)?,
            PutCondition::Version(stored.version),
        )
        .await
    {
        Ok(_) => Ok(form),
        Err(StoreError::ConditionFailed) => Err(SignupError::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a form. Links already sent stop working; the evidence stays.
pub async fn delete(app: &App, tenant: &TenantId, id: &SignupFormId) -> Result<(), SignupError> {
    tenants::get(app, tenant).await?;
    let key = keys::signup_form(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(SignupError::NotFound);
    }
    app.store.delete(&key).await?;
    Ok(())
}

/// A form as the public sees it: of an active tenant, or not found.
pub async fn public_form(
    app: &App,
    tenant: &TenantId,
    id: &SignupFormId,
) -> Result<(Tenant, SignupForm), SignupError> {
    let tenant_record = match tenants::get_active(app, tenant).await {
        Ok(t) => t,
        Err(TenantError::Store(s)) => return Err(s.into()),
        Err(_) => return Err(SignupError::NotFound),
    };
    let form = get(app, tenant, id).await?;
    Ok((tenant_record, form))
}

/// The URL the form posts to.
pub fn action_url(app: &App, tenant: &TenantId, id: &SignupFormId) -> String {
    let base = app.settings.public_url.as_str().trim_end_matches('/');
    format!("{base}/anmeldung/{tenant}/{id}")
}

/// The HTML snippet another site embeds: a plain form that posts to EMMA,
/// with the asked fields, the consent text and the honeypot, hidden by an
/// inline style.
pub fn embed_snippet(app: &App, tenant: &TenantId, form: &SignupForm) -> String {
    let e = mime::escape_html;
    let mut html = format!(
        "<form method=\"post\" action=\"{}\" accept-charset=\"utf-8\">\n",
        e(&action_url(app, tenant, &form.id))
    );
    if form.ask_salutation {
        html.push_str(
            "  <label>Anrede\n    <select name=\"salutation\">\n      \
             <option value=\"\">keine Angabe</option>\n      \
             <option value=\"female\">Frau</option>\n      \
             <option value=\"male\">Herr</option>\n      \
             <option value=\"diverse\">Divers</option>\n    </select>\n  </label>\n",
        );
    }
    if form.ask_first_name {
        html.push_str(
            "  <label>Vorname <input type=\"text\" name=\"first_name\" maxlength=\"100\" autocomplete=\"given-name\"></label>\n",
        );
    }
    if form.ask_last_name {
        html.push_str(
            "  <label>Nachname <input type=\"text\" name=\"last_name\" maxlength=\"100\" autocomplete=\"family-name\"></label>\n",
        );
    }
    html.push_str(
        "  <label>E-Mail-Adresse <input type=\"email\" name=\"email\" required maxlength=\"254\" autocomplete=\"email\"></label>\n",
    );
    html.push_str(&format!(
        "  <div style=\"position:absolute;left:-10000px\" aria-hidden=\"true\"><label>Bitte leer lassen <input type=\"text\" name=\"{HONEYPOT_FIELD}\" tabindex=\"-1\" autocomplete=\"off\"></label></div>\n"
    ));
    html.push_str(&format!(
        "  <p>{}</p>\n",
        e(&form.consent_text).replace('\n', "<br>")
    ));
    html.push_str("  <button type=\"submit\">Anmelden</button>\n</form>\n");
    html
}

/// The name of the honeypot field: people leave it empty, bots fill it.
pub const HONEYPOT_FIELD: &str = "website";
/// The name of the signed start-time field of the hosted page.
pub const STARTED_FIELD: &str = "t";

// ---------------------------------------------------------------------
// The public sign-up

/// The signed start time the hosted page puts in its form.
pub fn started_token(
    app: &App,
    tenant: &TenantId,
    form: &SignupFormId,
    now: DateTime<Utc>,
) -> String {
    let at = now.timestamp();
    let mac = app
        .pseudonyms
        .hash(&format!("signup-started:{tenant}:{form}:{at}"));
    format!("{at}.{mac}")
}

/// Whether a start time is ours and old enough.
fn started_long_enough(
    app: &App,
    tenant: &TenantId,
    form: &SignupFormId,
    token: &str,
    now: DateTime<Utc>,
) -> bool {
    let Some((at, presented)) = token.split_once('.') else {
        return false;
    };
    let Ok(at) = at.parse::<i64>() else {
        return false;
    };
    let expected = app
        .pseudonyms
        .hash(&format!("signup-started:{tenant}:{form}:{at}"));
    let genuine = aws_lc_rs::constant_time::verify_slices_are_equal(
        expected.as_bytes(),
        presented.as_bytes(),
    )
    .is_ok();
    genuine && (MIN_FILL_SECONDS..=MAX_FILL_SECONDS).contains(&(now.timestamp() - at))
}

/// What the public form sent, as given.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub email: String,
    /// `female`, `male`, `diverse` or empty.
    pub salutation: String,
    pub first_name: String,
    pub last_name: String,
    /// The honeypot field's value.
    pub honeypot: String,
    /// The signed start time, when the hosted page sent one.
    pub started: Option<String>,
    /// The page the form was on (a `page` field, else the Referer).
    pub page: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
}

/// A sign-up waiting for its confirmation (stored under the contact and
/// the token's hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    form: SignupFormId,
    list: ListId,
    contact: ContactId,
    email: EmailAddress,
    salutation: Option<Salutation>,
    first_name: Option<PersonName>,
    last_name: Option<PersonName>,
    signup_record: uuid::Uuid,
    signed_up_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// An unconfirmed sign-up due to expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Expiry {
    contact: ContactId,
    signed_up_at: DateTime<Utc>,
    token_hash: String,
}

/// The contact's pointer to one of its expiry entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExpiryRef {
    due: String,
}

/// The mark that a public sign-up created the contact: its creation time,
/// so a contact created again later (by staff) does not match.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CreatedBySignup {
    created_at: DateTime<Utc>,
}

/// Whether a public sign-up created this very contact.
async fn created_by_signup(
    app: &App,
    tenant: &TenantId,
    contact: &Contact,
) -> Result<bool, SignupError> {
    match app
        .store
        .get(&keys::signup_created(tenant, &contact.id))
        .await?
    {
        Some(stored) => {
            let mark: CreatedBySignup = stored.item.parse()?;
            Ok(mark.created_at == contact.created_at)
        }
        None => Ok(false),
    }
}

/// The address a client limit counts: IPv4 as it is, IPv6 by its /64.
fn client_subject(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Counts an attempt in the current fixed window of `window_seconds`;
/// answers the count so far and the seconds until the window ends.
async fn count_attempt(
    app: &App,
    tenant: &TenantId,
    kind: &str,
    subject: &str,
    window_seconds: i64,
) -> Result<(i64, i64), StoreError> {
    let now = app.clock.now().timestamp();
    let window = now.div_euclid(window_seconds);
    let ends = (window + 1) * window_seconds;
    let hash = app.pseudonyms.hash(&format!("signup-{kind}:{subject}"));
    let key = keys::signup_attempts(tenant, kind, &hash, window);
    let expires = DateTime::from_timestamp(ends + 60, 0).unwrap_or_else(Utc::now);
    let fresh = Item::new(key.clone(), &serde_json::json!({}))?
        .with_counter("n", 0)
        .expiring_at(expires);
    match app.store.put(fresh, PutCondition::NotExists).await {
        Ok(_) | Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(e),
    }
    let counts = app.store.add(&key, &[("n", 1)]).await?;
    Ok((counts.get("n").copied().unwrap_or(1), ends - now))
}

fn parse_salutation(raw: &str) -> Result<Option<Salutation>, SignupError> {
    match raw.trim() {
        "" => Ok(None),
        "female" => Ok(Some(Salutation::Female)),
        "male" => Ok(Some(Salutation::Male)),
        "diverse" => Ok(Some(Salutation::Diverse)),
        _ => Err(SignupError::invalid(
            "salutation",
            "choose one of the options",
        )),
    }
}

fn parse_name(field: &'static str, raw: &str) -> Result<Option<PersonName>, SignupError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    PersonName::parse(trimmed)
        .map(Some)
        .map_err(|p| SignupError::invalid(field, p))
}

/// Text from a request header or field kept as evidence: at most 1000
/// characters, control characters dropped.
fn evidence_text(raw: Option<&str>) -> Option<String> {
    raw.map(|s| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(1000)
            .collect::<String>()
    })
    .filter(|s| !s.trim().is_empty())
}

/// Why a sign-up was answered but not acted on (for the log; no address).
fn quietly(tenant: &TenantId, form: &SignupFormId, reason: &'static str) {
    tracing::info!(tenant = %tenant, form = %form, reason, "sign-up answered without a mail");
}

/// Takes a sign-up from the public form. `Ok` is the one answer for every
/// address (see the module documentation); `Invalid` names a field that
/// does not hold, `Throttled` a client or form over its limit.
#[tracing::instrument(skip(app, submission))]
pub async fn submit(
    app: &App,
    tenant_id: &TenantId,
    form_id: &SignupFormId,
    submission: Submission,
) -> Result<(), SignupError> {
    let (tenant, form) = public_form(app, tenant_id, form_id).await?;
    let now = app.clock.now();
    if !submission.honeypot.trim().is_empty() {
        quietly(tenant_id, form_id, "honeypot");
        return Ok(());
    }
    if let Some(started) = &submission.started
        && !started_long_enough(app, tenant_id, form_id, started, now)
    {
        quietly(
            tenant_id,
            form_id,
            "filled in too quickly or forged start time",
        );
        return Ok(());
    }
    if let Some(ip) = submission.ip {
        let (count, retry) =
            count_attempt(app, tenant_id, "client", &client_subject(ip), 3600).await?;
        if count > LIMIT_PER_CLIENT {
            return Err(SignupError::Throttled {
                retry_after_seconds: retry,
            });
        }
    }
    let (count, retry) = count_attempt(app, tenant_id, "form", &form_id.to_string(), 3600).await?;
    if count > LIMIT_PER_FORM {
        return Err(SignupError::Throttled {
            retry_after_seconds: retry,
        });
    }
    let email = EmailAddress::parse(submission.email.trim()).map_err(|e| match e {
        EmailAddressError::Empty => SignupError::invalid("email", "is empty"),
        other => SignupError::invalid("email", other.to_string()),
    })?;
    let salutation = if form.ask_salutation {
        parse_salutation(&submission.salutation)?
    } else {
        None
    };
    let first_name = if form.ask_first_name {
        parse_name("first_name", &submission.first_name)?
    } else {
        None
    };
    let last_name = if form.ask_last_name {
        parse_name("last_name", &submission.last_name)?
    } else {
        None
    };
    let contact_id = contacts::id_for(app, tenant_id, &email);
    let (count, _) = count_attempt(app, tenant_id, "address", contact_id.as_str(), 86_400).await?;
    if count > LIMIT_PER_ADDRESS {
        quietly(tenant_id, form_id, "address over its daily limit");
        return Ok(());
    }

    // Where the address stands: both reads happen for every address, so
    // a blocked one parts from the others only after the same reads.
    let (suppression, existing) = tokio::join!(
        suppressions::find(app, tenant_id, &email),
        contacts::get(app, tenant_id, &contact_id)
    );
    let suppression: Option<Suppression> = suppression?;
    let existing = match existing {
        Ok(contact) => Some(contact),
        Err(ContactError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    if suppression.as_ref().is_some_and(|s| !reopenable(s.reason)) {
        quietly(tenant_id, form_id, "address blocked");
        return Ok(());
    }
    if existing
        .as_ref()
        .is_some_and(|c| matches!(c.status, ContactStatus::Bounced | ContactStatus::Complained))
    {
        quietly(tenant_id, form_id, "address bounced or complained");
        return Ok(());
    }
    // Whether this sign-up may expire the contact: only one a sign-up
    // created and nobody confirmed.
    let expires = match &existing {
        Some(contact) => {
            contact.status == ContactStatus::Unconfirmed
                && created_by_signup(app, tenant_id, contact).await?
        }
        None if suppression.is_none() => {
            let draft = ContactDraft::new(email.clone());
            match contacts::create(app, tenant_id, draft).await {
                Ok(contact) => {
                    let mark = CreatedBySignup {
                        created_at: contact.created_at,
                    };
                    app.store
                        .put(
                            Item::new(keys::signup_created(tenant_id, &contact_id), &mark)?,
                            PutCondition::Always,
                        )
                        .await?;
                    true
                }
                // Created meanwhile, by another sign-up or by staff.
                Err(ContactError::DuplicateEmail) => {
                    match contacts::get(app, tenant_id, &contact_id).await {
                        Ok(contact) => {
                            contact.status == ContactStatus::Unconfirmed
                                && created_by_signup(app, tenant_id, &contact).await?
                        }
                        Err(ContactError::NotFound) => false,
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(ContactError::Suppressed) => false,
                Err(e) => return Err(e.into()),
            }
        }
        // Unsubscribed or erased: the contact comes (back) on confirmation.
        None => false,
    };

    // The link, the mail and the evidence.
    let expires_at = now + Duration::hours(i64::from(form.link_validity_hours));
    let token = link_token(app, tenant_id, form_id, &contact_id, expires_at);
    let token_hash = token_hash(app, &token);
    let link = format!(
        "{}/anmeldung/bestaetigen/{token}",
        app.settings.public_url.as_str().trim_end_matches('/')
    );
    let from_name = form
        .from_name
        .clone()
        .or_else(|| tenant.settings.default_from_name.clone())
        .unwrap_or_else(|| tenant.name.as_str().to_owned());
    let text = form.mail_text.replace(LINK_PLACEHOLDER, &link);
    let message = mime::Message {
        from_name,
        from: app.settings.mail_from.clone(),
        to_name: None,
        to: email.clone(),
        subject: form.mail_subject.clone(),
        html: mail_html(&text, Some(&link)),
        text,
        headers: vec![("X-EMMA-Kind", "double-opt-in".to_owned())],
        list_unsubscribe: None,
    };
    let built = mime::build(&message, now.timestamp())?;
    // The same message without the live link, to keep as evidence.
    let kept_text = form.mail_text.replace(LINK_PLACEHOLDER, REDACTED_LINK);
    let kept_message = mime::Message {
        html: mail_html(&kept_text, None),
        text: kept_text,
        ..message.clone()
    };
    let kept = mime::build(&kept_message, now.timestamp())?;
    let kept_raw = replace_bytes(
        &kept.raw,
        kept.message_id.as_bytes(),
        built.message_id.as_bytes(),
    );

    let mut record = ConsentRecord::new(ConsentKind::Signup, contact_id.clone(), now);
    record.ip = submission.ip.map(|ip| ip.to_canonical().to_string());
    record.user_agent = evidence_text(submission.user_agent.as_deref());
    record.form_id = Some(form.id);
    record.form_name = Some(form.name.clone());
    record.list_id = Some(form.list_id);
    record.page = evidence_text(submission.page.as_deref());
    record.consent_text = Some(form.consent_text.clone());
    record.consent_version = Some(form.consent_version);
    record.consent_text_sha256 = Some(consent::sha256_hex(form.consent_text.as_bytes()));
    record.mail = Some(
        consent::store_mail(
            app,
            tenant_id,
            &contact_id,
            &record.id,
            consent::MailToKeep {
                message_id: &built.message_id,
                text: &kept_message.text,
                kept: &kept_raw,
                sent: &built.raw,
                link: &link,
            },
        )
        .await?,
    );
    consent::write(app, tenant_id, &record).await?;

    let pending = Pending {
        form: form.id,
        list: form.list_id,
        contact: contact_id.clone(),
        email: email.clone(),
        salutation,
        first_name,
        last_name,
        signup_record: record.id,
        signed_up_at: now,
        expires_at,
    };
    let pending_key = keys::signup_pending(tenant_id, &contact_id, &token_hash);
    let mut writes = vec![TxOp::Put {
        item: Item::new(pending_key.clone(), &pending)?.expiring_at(expires_at),
        condition: PutCondition::NotExists,
    }];
    if expires {
        let due = due_key(now + Duration::days(i64::from(form.expiry_days)));
        let expiry = Expiry {
            contact: contact_id.clone(),
            signed_up_at: now,
            token_hash: token_hash.clone(),
        };
        writes.push(TxOp::Put {
            item: Item::new(keys::signup_expiry(tenant_id, &due, &contact_id), &expiry)?,
            condition: PutCondition::Always,
        });
        writes.push(TxOp::Put {
            item: Item::new(
                keys::signup_expiry_of(tenant_id, &contact_id, &due),
                &ExpiryRef { due: due.clone() },
            )?,
            condition: PutCondition::Always,
        });
    }
    app.store.transact(writes).await?;

    let mail = OutgoingMail {
        tenant: tenant_id.clone(),
        from: app.settings.mail_from.clone(),
        recipients: vec![email.clone()],
        raw: built.raw,
        tags: vec![
            ("tenant".to_owned(), tenant_id.to_string()),
            ("kind".to_owned(), "double-opt-in".to_owned()),
            ("contact".to_owned(), contact_id.to_string()),
        ],
    };
    if let Err(e) = app.mailer.send(&mail).await {
        // Nothing was sent: no evidence of a mail that never went, and no
        // link that nobody has.
        let cleanup = async {
            app.store.delete(&pending_key).await?;
            consent::delete(app, tenant_id, &record).await?;
            Ok::<(), SignupError>(())
        };
        if let Err(cleanup_error) = cleanup.await {
            tracing::error!(error = %cleanup_error, "a failed sign-up was not cleaned up");
        }
        return Err(e.into());
    }
    let mut entry = AuditEntry::new(
        app,
        Some(tenant_id.clone()),
        Actor::default(),
        AUDIT_REQUEST,
    );
    entry.object = Some(contact_id.to_string());
    entry.ip = IpTrace::of_optional(app, submission.ip);
    audit::record_or_log(app, &entry).await;
    tracing::info!(
        tenant = %tenant_id,
        form = %form_id,
        contact = %contact_id,
        recipient = %app.pseudonyms.email(&email),
        "confirmation mail sent"
    );
    Ok(())
}

/// Whether a suppression entry of this reason gives way to a confirmed new
/// opt-in.
fn reopenable(reason: SuppressionReason) -> bool {
    matches!(
        reason,
        SuppressionReason::Unsubscribed | SuppressionReason::Erased
    )
}

/// The HTML part of the confirmation mail: the text in paragraphs, the link
/// (if there is one) clickable.
fn mail_html(text: &str, link: Option<&str>) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let escaped = mime::escape_html(p.trim()).replace('\n', "<br>");
            let linked = match link {
                Some(link) => {
                    let shown = mime::escape_html(link);
                    escaped.replace(&shown, &format!("<a href=\"{shown}\">{shown}</a>"))
                }
                None => escaped,
            };
            format!("<p>{linked}</p>")
        })
        .collect();
    format!("<!doctype html><html lang=\"de\"><body>{paragraphs}</body></html>")
}

/// `haystack` with every occurrence of `from` replaced by `to`.
fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn due_key(due: DateTime<Utc>) -> String {
    due.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------
// The link

/// What a genuine confirmation link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub tenant: TenantId,
    pub form: SignupFormId,
    pub contact: ContactId,
    pub expires_at: DateTime<Utc>,
}

fn link_mac(app: &App, payload: &str) -> String {
    app.pseudonyms.hash(&format!("signup-confirm:{payload}"))
}

fn link_token(
    app: &App,
    tenant: &TenantId,
    form: &SignupFormId,
    contact: &ContactId,
    expires_at: DateTime<Utc>,
) -> String {
    let mut nonce = [0u8; 12];
    aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
    let payload = format!(
        "{tenant}:{}:{contact}:{}:{}",
        form.to_string().replace('-', ""),
        expires_at.timestamp(),
        hex::encode(nonce)
    );
    let mac = link_mac(app, &payload);
    URL_SAFE_NO_PAD.encode(format!("{payload}:{mac}"))
}

fn token_hash(app: &App, token: &str) -> String {
    app.pseudonyms.hash(&format!("signup-token:{token}"))
}

/// What a link names, if its MAC holds and it has not expired at `now`.
pub fn verify_link(app: &App, token: &str, now: DateTime<Utc>) -> Option<LinkClaims> {
    if token.len() > 400 {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (payload, presented) = text.rsplit_once(':')?;
    let expected = link_mac(app, payload);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes())
        .ok()?;
    let parts: Vec<&str> = payload.split(':').collect();
    let [tenant, form, contact, expires, _nonce] = parts.as_slice() else {
        return None;
    };
    let expires_at = DateTime::from_timestamp(expires.parse().ok()?, 0)?;
    if now >= expires_at {
        return None;
    }
    Some(LinkClaims {
        tenant: TenantId::parse(tenant).ok()?,
        form: SignupFormId::parse(form).ok()?,
        contact: ContactId::parse(contact).ok()?,
        expires_at,
    })
}

// ---------------------------------------------------------------------
// Confirmation

/// A confirmed sign-up: the form (for its thank-you text), and whether it
/// had been confirmed before.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub form: Option<SignupForm>,
    pub already: bool,
}

/// Confirms the sign-up of a link: in one transaction the pending sign-up
/// is spent, the contact subscribed, a reopenable suppression entry
/// removed and the confirmation record written; then the contact joins
/// the form's list and an audit entry is written. A link confirmed before
/// answers `already`. A link whose form is gone, or of a person who
/// unsubscribed or was erased after signing up, is invalid.
#[tracing::instrument(skip(app, token, ip, user_agent))]
pub async fn confirm(
    app: &App,
    token: &str,
    ip: Option<IpAddr>,
    user_agent: Option<&str>,
) -> Result<Confirmed, SignupError> {
    let now = app.clock.now();
    let claims = verify_link(app, token, now).ok_or(SignupError::InvalidLink)?;
    let tenant = &claims.tenant;
    match tenants::get_active(app, tenant).await {
        Ok(_) => {}
        Err(TenantError::Store(s)) => return Err(s.into()),
        Err(_) => return Err(SignupError::InvalidLink),
    }
    // A deleted form's links stop working.
    let form = match get(app, tenant, &claims.form).await {
        Ok(form) => form,
        Err(SignupError::NotFound) => return Err(SignupError::InvalidLink),
        Err(e) => return Err(e),
    };
    let pending_key = keys::signup_pending(tenant, &claims.contact, &token_hash(app, token));
    let suppression_key = keys::suppression(tenant, &claims.contact);
    for _ in 0..3 {
        let Some(stored) = app.store.get(&pending_key).await? else {
            return already_confirmed(app, &claims, form).await;
        };
        let pending: Pending = stored.item.parse()?;
        if pending.contact != claims.contact || pending.form != claims.form {
            return Err(SignupError::InvalidLink);
        }
        let mut ops = vec![TxOp::Delete {
            key: pending_key.clone(),
            condition: PutCondition::Version(stored.version),
        }];
        if let Some(entry) = app.store.get(&suppression_key).await? {
            let suppression: Suppression = entry.item.parse()?;
            // A complaint, bounce or block wins; and who left after signing
            // up is not brought back by a link mailed before.
            if !reopenable(suppression.reason) || suppression.added_at > pending.signed_up_at {
                app.store.delete(&pending_key).await?;
                return Err(SignupError::InvalidLink);
            }
            ops.push(TxOp::Delete {
                key: suppression_key.clone(),
                condition: PutCondition::Version(entry.version),
            });
        }
        let Some((contact, put_contact)) = subscribed(app, tenant, &pending, now).await? else {
            app.store.delete(&pending_key).await?;
            return Err(SignupError::InvalidLink);
        };
        ops.push(put_contact);
        let mut record = ConsentRecord::new(ConsentKind::Confirmation, contact.id.clone(), now);
        record.ip = ip.map(|ip| ip.to_canonical().to_string());
        record.user_agent = evidence_text(user_agent);
        record.form_id = Some(pending.form);
        record.form_name = Some(form.name.clone());
        record.list_id = Some(pending.list);
        record.confirms = Some(pending.signup_record);
        ops.push(TxOp::Put {
            item: consent::item(tenant, &record)?,
            condition: PutCondition::NotExists,
        });
        match app.store.transact(ops).await {
            Ok(()) => {}
            // The pending sign-up, the contact or the suppression entry
            // changed meanwhile: look again.
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
        match lists::add_member(app, tenant, &pending.list, &contact.id).await {
            Ok(()) => {}
            Err(ListError::NotFound) => {
                tracing::warn!(tenant = %tenant, "the sign-up's list was deleted; subscribed without it");
            }
            Err(e) => return Err(e.into()),
        }
        let mut entry = AuditEntry::new(app, Some(tenant.clone()), Actor::default(), AUDIT_CONFIRM);
        entry.object = Some(contact.id.to_string());
        entry.ip = IpTrace::of_optional(app, ip);
        audit::record_or_log(app, &entry).await;
        tracing::info!(tenant = %tenant, contact = %contact.id, "sign-up confirmed");
        return Ok(Confirmed {
            form: Some(form),
            already: false,
        });
    }
    Err(SignupError::Conflict)
}

/// A genuine link whose pending sign-up is gone: confirmed before if the
/// contact is subscribed, otherwise no longer usable.
async fn already_confirmed(
    app: &App,
    claims: &LinkClaims,
    form: SignupForm,
) -> Result<Confirmed, SignupError> {
    match contacts::get(app, &claims.tenant, &claims.contact).await {
        Ok(contact) if contact.status == ContactStatus::Subscribed => Ok(Confirmed {
            form: Some(form),
            already: true,
        }),
        Ok(_) | Err(ContactError::NotFound) => Err(SignupError::InvalidLink),
        Err(e) => Err(e.into()),
    }
}

/// The pending sign-up's contact, subscribed (created, or its status
/// changed and names it lacks filled), with the write that stores it
/// guarded by the version read; `None` for a contact that bounced or
/// complained.
async fn subscribed(
    app: &App,
    tenant: &TenantId,
    pending: &Pending,
    now: DateTime<Utc>,
) -> Result<Option<(Contact, TxOp)>, SignupError> {
    let key = keys::contact(tenant, &pending.contact);
    let (mut contact, condition) = match app.store.get(&key).await? {
        Some(stored) => (
            stored.item.parse::<Contact>()?,
            PutCondition::Version(stored.version),
        ),
        None => {
            let draft = ContactDraft {
                salutation: pending.salutation,
                first_name: pending.first_name.clone(),
                last_name: pending.last_name.clone(),
                status: ContactStatus::Subscribed,
                ..ContactDraft::new(pending.email.clone())
            };
            (
                Contact::new(pending.contact.clone(), draft, now),
                PutCondition::NotExists,
            )
        }
    };
    if matches!(
        contact.status,
        ContactStatus::Bounced | ContactStatus::Complained
    ) {
        return Ok(None);
    }
    if contact.salutation.is_none() {
        contact.salutation = pending.salutation;
    }
    if contact.first_name.is_none() {
        contact.first_name = pending.first_name.clone();
    }
    if contact.last_name.is_none() {
        contact.last_name = pending.last_name.clone();
    }
    contact.status = ContactStatus::Subscribed;
    contact.updated_at = now;
    // The contact's record as `services::contacts` writes it: indexed by
    // name.
    let item = Item::new(key, &contact)?
        .with_index(keys::contact_by_name(tenant, &contact.name_sort_key()));
    Ok(Some((contact, TxOp::Put { item, condition })))
}

// ---------------------------------------------------------------------
// What the double opt-in keeps about a contact

/// A sign-up waiting for its confirmation, as the Art. 15 document shows
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingSignup {
    pub form_id: String,
    pub list_id: String,
    /// The address the confirmation mail went to.
    pub email: String,
    pub salutation: Option<Salutation>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub signed_up_at: DateTime<Utc>,
    /// When the confirmation link stops working (and this record goes).
    pub link_expires_at: DateTime<Utc>,
}

/// The contact's sign-ups still waiting for their confirmation, oldest
/// first.
pub async fn pending_of(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<PendingSignup>, SignupError> {
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::signup_pendings(tenant, contact))
                    .limit(100)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            let pending: Pending = stored.item.parse()?;
            found.push(PendingSignup {
                form_id: pending.form.to_string(),
                list_id: pending.list.to_string(),
                email: pending.email.to_string(),
                salutation: pending.salutation,
                first_name: pending.first_name.map(|n| n.as_str().to_owned()),
                last_name: pending.last_name.map(|n| n.as_str().to_owned()),
                signed_up_at: pending.signed_up_at,
                link_expires_at: pending.expires_at,
            });
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    found.sort_by_key(|p| p.signed_up_at);
    Ok(found)
}

/// Forgets what the double opt-in keeps about the contact: its pending
/// sign-ups (so no link mailed before works any more), its scheduled
/// expiries and the mark that a sign-up created it. For an erasure (Art.
/// 17); the consent evidence goes by `consent::delete_all`.
#[tracing::instrument(skip(app))]
pub async fn forget_contact(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<(), SignupError> {
    let expiry_prefix = keys::signup_expiry_of(tenant, contact, "");
    loop {
        let page = app
            .store
            .query(Query::table(keys::signup_state_of(tenant, contact)).limit(100))
            .await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for stored in &page.items {
            if stored.item.key.sk().starts_with(expiry_prefix.sk()) {
                let pointer: ExpiryRef = stored.item.parse()?;
                app.store
                    .delete(&keys::signup_expiry(tenant, &pointer.due, contact))
                    .await?;
            }
            app.store.delete(&stored.item.key).await?;
        }
    }
}

// ---------------------------------------------------------------------
// Expiry

#[derive(Debug, Serialize, Deserialize)]
struct Sweep {
    at: DateTime<Utc>,
}

/// Deletes the tenant's contacts that a sign-up created and that are still
/// unconfirmed when their latest sign-up's period has passed at `now`,
/// with their evidence and pending sign-ups; each on the audit log.
/// Answers how many went.
#[tracing::instrument(skip(app))]
pub async fn expire_unconfirmed(
    app: &App,
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<usize, SignupError> {
    let prefix = keys::signup_expiries(tenant);
    let mut expired = 0;
    loop {
        let page = app
            .store
            .query(Query::table(prefix.clone()).limit(100))
            .await?;
        if page.items.is_empty() {
            return Ok(expired);
        }
        for stored in &page.items {
            let due_text = stored
                .item
                .key
                .sk()
                .strip_prefix(prefix.sk_prefix())
                .and_then(|rest| rest.split('#').next())
                .unwrap_or_default()
                .to_owned();
            let due = DateTime::parse_from_rfc3339(&due_text)
                .ok()
                .map(|due| due.with_timezone(&Utc));
            if due.is_some_and(|due| due > now) {
                return Ok(expired);
            }
            let expiry: Expiry = stored.item.parse()?;
            if expire_one(app, tenant, &expiry).await? {
                expired += 1;
            }
            app.store
                .delete(&keys::signup_expiry_of(tenant, &expiry.contact, &due_text))
                .await?;
            app.store.delete(&stored.item.key).await?;
        }
    }
}

/// Expires one sign-up, unless the contact confirmed, signed up again
/// since, or was not created by a sign-up.
async fn expire_one(app: &App, tenant: &TenantId, expiry: &Expiry) -> Result<bool, SignupError> {
    app.store
        .delete(&keys::signup_pending(
            tenant,
            &expiry.contact,
            &expiry.token_hash,
        ))
        .await?;
    let contact = match contacts::get(app, tenant, &expiry.contact).await {
        Ok(contact) => contact,
        Err(ContactError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if contact.status != ContactStatus::Unconfirmed {
        return Ok(false);
    }
    if !created_by_signup(app, tenant, &contact).await? {
        return Ok(false);
    }
    let records = consent::records(app, tenant, &contact.id).await?;
    let signed_up_again = records
        .iter()
        .any(|r| r.kind == ConsentKind::Signup && r.at > expiry.signed_up_at);
    if signed_up_again {
        return Ok(false);
    }
    match contacts::delete(app, tenant, &contact.id).await {
        Ok(()) | Err(ContactError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    consent::delete_all(app, tenant, &contact.id).await?;
    forget_contact(app, tenant, &contact.id).await?;
    let mut entry = AuditEntry::new(app, Some(tenant.clone()), Actor::default(), AUDIT_EXPIRE);
    entry.object = Some(contact.id.to_string());
    audit::record_or_log(app, &entry).await;
    tracing::info!(tenant = %tenant, contact = %contact.id, "unconfirmed sign-up expired");
    Ok(true)
}

/// The scheduler's hook: expires unconfirmed sign-ups of every tenant, at
/// most once an hour (the first tick of an hour wins; the others skip).
pub async fn expire_due(app: &App) -> Result<usize, SignupError> {
    let now = app.clock.now();
    let key = keys::signup_expiry_sweep();
    let condition = match app.store.get(&key).await? {
        Some(stored) => {
            let last: Sweep = stored.item.parse()?;
            if now - last.at < Duration::hours(1) {
                return Ok(0);
            }
            PutCondition::Version(stored.version)
        }
        None => PutCondition::NotExists,
    };
    match app
        .store
        .put(Item::new(key, &Sweep { at: now })?, condition)
        .await
    {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => return Ok(0),
        Err(e) => return Err(e.into()),
    }
    let mut expired = 0;
    for tenant in tenants::list(app).await? {
        match expire_unconfirmed(app, &tenant.id, now).await {
            Ok(n) => expired += n,
            Err(e) => {
                tracing::error!(tenant = %tenant.id, error = %e, "expiring unconfirmed sign-ups failed");
            }
        }
    }
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_makes_the_link_clickable_and_escapes_the_text() {
        let html = mail_html(
            "Hallo <Welt>,\n\nbitte hier: https://emma.example/x?a=1\n\nDanke",
            Some("https://emma.example/x?a=1"),
        );
        assert!(html.contains("Hallo &lt;Welt&gt;,"));
        assert!(
            html.contains("<a href=\"https://emma.example/x?a=1\">https://emma.example/x?a=1</a>")
        );
        assert_eq!(html.matches("<p>").count(), 3);
    }

    #[test]
    fn the_html_part_of_the_kept_mail_links_nothing() {
        let html = mail_html(&format!("Bitte hier:\n\n{REDACTED_LINK}"), None);
        assert!(html.contains(REDACTED_LINK));
        assert!(!html.contains("<a "));
    }

    #[test]
    fn replacing_bytes_swaps_every_occurrence_and_keeps_the_rest() {
        assert_eq!(
            replace_bytes(b"<aa>x<aa>", b"aa", b"bb"),
            b"<bb>x<bb>".to_vec()
        );
        assert_eq!(replace_bytes(b"nothing", b"aa", b"bb"), b"nothing".to_vec());
    }

    #[test]
    fn a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64() {
        assert_eq!(
            client_subject("203.0.113.9".parse().unwrap()),
            "203.0.113.9"
        );
        assert_eq!(
            client_subject("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            client_subject("2001:db8:1:2:ffff::1".parse().unwrap())
        );
        assert_eq!(
            client_subject("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9"
        );
    }

    #[test]
    fn the_default_mail_text_carries_the_link_placeholder() {
        assert!(default_mail_text().contains(LINK_PLACEHOLDER));
    }

    #[test]
    fn only_unsubscribed_and_erased_entries_give_way_to_a_new_opt_in() {
        assert!(reopenable(SuppressionReason::Unsubscribed));
        assert!(reopenable(SuppressionReason::Erased));
        assert!(!reopenable(SuppressionReason::Bounced));
        assert!(!reopenable(SuppressionReason::Complained));
        assert!(!reopenable(SuppressionReason::Manual));
    }
}
