//! Campaigns (Kampagnen): a template version sent from one of the tenant's
//! verified senders to an audience of lists and segments.
//!
//! The lifecycle: draft → scheduled → sending → sent, with pause, resume
//! and cancel. Only a draft is edited; editing a scheduled campaign takes it
//! back to draft (it has to be scheduled again, with its checks). Scheduling
//! checks everything a mailing needs: a time in the future, a sender whose
//! domain the tenant verified, a subject of one line, a template version
//! without content errors, and an audience with at least one contact who
//! may be mailed (subscribed, not suppressed; counted once however many
//! lists and segments name them). Every state change is a conditional
//! write on the version read, so two editors cannot both schedule, or
//! schedule what the other just cancelled. Times are stored in UTC.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::content::checks;
pub use crate::domain::CampaignId;
use crate::domain::{
    ContactId, EmailAddress, ListId, SegmentId, TemplateId, TenantId, TrackingMode, short_text,
};
use crate::ports::store::{
    Item, MAX_BATCH_GET, PutCondition, Query, StoreError, TxOp, Version, keys, parse_all,
};
use crate::services::tenants::{self, TenantError};
use crate::services::{lists, segments, templates};

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no campaign with this id")]
    NotFound,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The change does not fit the campaign's state.
    #[error("a campaign that is {state} cannot be {action}")]
    State {
        state: &'static str,
        action: &'static str,
    },
    /// The template version has content errors (the codes).
    #[error("the template has errors that block sending: {}", .0.join(", "))]
    Content(Vec<&'static str>),
    #[error("nobody in the audience may be mailed (subscribed and not suppressed)")]
    EmptyAudience,
    #[error("the campaign was changed meanwhile; reload it")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CampaignError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Paused => "paused",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Why EMMA paused a campaign by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PauseReason {
    /// The mail service's sending quota for the last 24 hours is used up;
    /// sending resumes by itself from `resume_at`.
    QuotaExhausted { resume_at: DateTime<Utc> },
    /// The mail service no longer accepts the campaign's sender.
    SenderNotVerified,
    /// The institute was suspended before or while sending.
    TenantSuspended,
    /// The template version no longer makes messages (see the problems).
    ContentInvalid,
}

/// Who gets a campaign: the union of lists and segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Audience {
    #[schema(value_type = Vec<String>)]
    pub lists: Vec<ListId>,
    #[schema(value_type = Vec<String>)]
    pub segments: Vec<SegmentId>,
}

/// What an editor sets on a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDraft {
    pub name: String,
    pub template: TemplateId,
    /// The template version; the current one when none is given.
    pub template_version: Option<u32>,
    /// The subject; the template's when none is given. Merge fields allowed.
    pub subject: Option<String>,
    /// The preview text mail programs show after the subject.
    pub preheader: Option<String>,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub audience: Audience,
    pub tracking: TrackingMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub state: CampaignState,
    pub template: TemplateId,
    pub template_version: u32,
    pub subject: Option<String>,
    pub preheader: Option<String>,
    pub from_name: String,
    pub from_email: EmailAddress,
    pub reply_to: Option<EmailAddress>,
    pub audience: Audience,
    pub tracking: TrackingMode,
    /// When it goes out (UTC); set while scheduled, kept after.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The state a paused campaign resumes to.
    #[serde(default)]
    pub paused_from: Option<CampaignState>,
    /// Why EMMA paused it (none when an editor did).
    #[serde(default)]
    pub pause_reason: Option<PauseReason>,
    /// When sending started and ended.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How much a tracking mode records, for "within the tenant's mode".
pub fn tracking_rank(mode: TrackingMode) -> u8 {
    match mode {
        TrackingMode::Off => 0,
        TrackingMode::Aggregate => 1,
        TrackingMode::PerPerson => 2,
    }
}

fn one_line(field: &'static str, value: &str, max: usize) -> Result<String, CampaignError> {
    let value = value.trim();
    if value.contains(['\r', '\n']) {
        return Err(CampaignError::invalid(field, "contains a line break"));
    }
    if value.chars().any(char::is_control) {
        return Err(CampaignError::invalid(field, "contains control characters"));
    }
    if value.chars().count() > max {
        return Err(CampaignError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Checks a draft against the tenant: a name, a sender on a verified
/// domain, a reply-to address, a template version that exists, lists and
/// segments of the tenant, tracking within the tenant's mode.
async fn checked(
    app: &App,
    tenant: &TenantId,
    draft: &CampaignDraft,
) -> Result<CheckedDraft, CampaignError> {
    let record = tenants::get_active(app, tenant).await?;
    let name = short_text(&draft.name).map_err(|r| CampaignError::invalid("name", r))?;
    if name.is_empty() {
        return Err(CampaignError::invalid("name", "is empty"));
    }
    let from_name = one_line("from_name", &draft.from_name, 100)?;
    if from_name.is_empty() {
        return Err(CampaignError::invalid("from_name", "is empty"));
    }
    let from_email = EmailAddress::parse(draft.from_email.trim())
        .map_err(|e| CampaignError::invalid("from_email", e.to_string()))?;
    let verified = record
        .settings
        .sender_domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(from_email.domain()));
    if !verified {
        return Err(CampaignError::invalid(
            "from_email",
            format!(
                "{} is not a verified sender domain of this institute",
                from_email.domain()
            ),
        ));
    }
    let reply_to = match draft.reply_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            EmailAddress::parse(raw)
                .map_err(|e| CampaignError::invalid("reply_to", e.to_string()))?,
        ),
    };
    let subject = match draft.subject.as_deref() {
        Some(s) if !s.trim().is_empty() => {
            Some(one_line("subject", s, templates::MAX_SUBJECT_CHARS)?)
        }
        _ => None,
    };
    let preheader = match draft.preheader.as_deref() {
        Some(p) if !p.trim().is_empty() => Some(one_line("preheader", p, 200)?),
        _ => None,
    };
    let (_, version) = templates::version(app, tenant, &draft.template, draft.template_version)
        .await
        .map_err(|e| match e {
            templates::TemplateError::NotFound => {
                CampaignError::invalid("template_id", "no template with this id")
            }
            templates::TemplateError::VersionNotFound(n) => CampaignError::invalid(
                "template_version",
                format!("the template has no version {n}"),
            ),
            templates::TemplateError::Store(s) => CampaignError::Store(s),
            other => CampaignError::invalid("template_id", other.to_string()),
        })?;
    // The subject and preheader as the campaign will send them must compile.
    let mut source = version.source.clone();
    if let Some(subject) = &subject {
        source.subject = subject.clone();
    }
    if let Some(preheader) = &preheader {
        source = crate::content::template::with_preheader(&source, preheader);
    }
    if let Err(e) = crate::content::template::compile(&source) {
        let field = match e.part {
            crate::content::template::TemplatePart::Subject => "subject",
            _ => "preheader",
        };
        return Err(CampaignError::invalid(field, e.message));
    }
    for list in &draft.audience.lists {
        lists::get(app, tenant, list)
            .await
            .map_err(|e| no_list(e, list))?;
    }
    for segment in &draft.audience.segments {
        segments::get(app, tenant, segment)
            .await
            .map_err(|e| no_segment(e, segment))?;
    }
    if tracking_rank(draft.tracking) > tracking_rank(record.settings.tracking) {
        return Err(CampaignError::invalid(
            "tracking",
            "records more than the institute's tracking mode allows",
        ));
    }
    Ok(CheckedDraft {
        name,
        template_version: version.number,
        subject,
        preheader,
        from_name,
        from_email,
        reply_to,
    })
}

/// A list of the audience that could not be read: not the tenant's, or
/// the store failing (which must not look like a wrong id).
fn no_list(e: lists::ListError, list: &ListId) -> CampaignError {
    match e {
        lists::ListError::Store(s) => CampaignError::Store(s),
        _ => CampaignError::invalid("audience.lists", format!("no list {list}")),
    }
}

/// The same for a segment.
fn no_segment(e: segments::SegmentError, segment: &SegmentId) -> CampaignError {
    match e {
        segments::SegmentError::Store(s) => CampaignError::Store(s),
        _ => CampaignError::invalid("audience.segments", format!("no segment {segment}")),
    }
}

struct CheckedDraft {
    name: String,
    template_version: u32,
    subject: Option<String>,
    preheader: Option<String>,
    from_name: String,
    from_email: EmailAddress,
    reply_to: Option<EmailAddress>,
}

pub(crate) async fn load(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
) -> Result<(Campaign, Version), CampaignError> {
    let stored = app
        .store
        .get(&keys::campaign(tenant, id))
        .await?
        .ok_or(CampaignError::NotFound)?;
    Ok((stored.item.parse()?, stored.version))
}

async fn store(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
    condition: PutCondition,
) -> Result<(), CampaignError> {
    let item = Item::new(keys::campaign(tenant, &campaign.id), campaign)?;
    app.store
        .put(item, condition)
        .await
        .map(drop)
        .map_err(|e| match e {
            StoreError::ConditionFailed => CampaignError::Conflict,
            other => other.into(),
        })
}

/// Writes a scheduled campaign and its entry in the platform's due list
/// together: the scheduler's tick finds it there. An entry left behind by
/// an edit or a cancel is dropped by the tick, which always reads the
/// campaign itself.
async fn store_with_due_entry(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
    version: Version,
) -> Result<(), CampaignError> {
    let at = campaign
        .scheduled_at
        .ok_or_else(|| CampaignError::invalid("scheduled_at", "is not set"))?;
    let entry = Item::new(
        keys::campaign_due(&at, tenant, &campaign.id),
        &DueEntry {
            tenant: tenant.clone(),
            campaign: campaign.id,
            at,
        },
    )?;
    let ops = vec![
        TxOp::Put {
            item: Item::new(keys::campaign(tenant, &campaign.id), campaign)?,
            condition: PutCondition::Version(version),
        },
        TxOp::Put {
            item: entry,
            condition: PutCondition::Always,
        },
    ];
    app.store.transact(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => CampaignError::Conflict,
        other => other.into(),
    })
}

/// A campaign in the platform's due list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueEntry {
    pub tenant: TenantId,
    pub campaign: CampaignId,
    pub at: DateTime<Utc>,
}

/// Creates a draft.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    draft: &CampaignDraft,
) -> Result<Campaign, CampaignError> {
    let checked = checked(app, tenant, draft).await?;
    let now = app.clock.now();
    let campaign = Campaign {
        id: CampaignId::generate(),
        name: checked.name,
        state: CampaignState::Draft,
        template: draft.template,
        template_version: checked.template_version,
        subject: checked.subject,
        preheader: checked.preheader,
        from_name: checked.from_name,
        from_email: checked.from_email,
        reply_to: checked.reply_to,
        audience: draft.audience.clone(),
        tracking: draft.tracking,
        scheduled_at: None,
        paused_from: None,
        pause_reason: None,
        started_at: None,
        finished_at: None,
        created_at: now,
        updated_at: now,
    };
    store(app, tenant, &campaign, PutCondition::NotExists).await?;
    Ok(campaign)
}

/// One campaign.
pub async fn get(app: &App, tenant: &TenantId, id: &CampaignId) -> Result<Campaign, CampaignError> {
    tenants::get(app, tenant).await?;
    Ok(load(app, tenant, id).await?.0)
}

/// Every campaign of the tenant, newest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<Campaign>, CampaignError> {
    tenants::get(app, tenant).await?;
    Ok(parse_all(
        app.store.as_ref(),
        Query::table(keys::campaigns(tenant))
            .descending()
            .limit(200),
    )
    .await?)
}

/// Changes a draft; a scheduled campaign goes back to draft with it.
pub async fn update(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    draft: &CampaignDraft,
) -> Result<Campaign, CampaignError> {
    let checked = checked(app, tenant, draft).await?;
    // A campaign paused while sending is not edited: part of it went out.
    let current = load(app, tenant, id).await?.0;
    if current.paused_from == Some(CampaignState::Sending) {
        return Err(CampaignError::State {
            state: "paused while sending",
            action: "edited",
        });
    }
    transition(
        app,
        tenant,
        id,
        &[
            CampaignState::Draft,
            CampaignState::Scheduled,
            CampaignState::Paused,
        ],
        "edited",
        |campaign| {
            campaign.name = checked.name;
            campaign.template = draft.template;
            campaign.template_version = checked.template_version;
            campaign.subject = checked.subject;
            campaign.preheader = checked.preheader;
            campaign.from_name = checked.from_name;
            campaign.from_email = checked.from_email;
            campaign.reply_to = checked.reply_to;
            campaign.audience = draft.audience.clone();
            campaign.tracking = draft.tracking;
            campaign.state = CampaignState::Draft;
            campaign.scheduled_at = None;
            campaign.paused_from = None;
        },
    )
    .await
}

/// How many contacts the audience reaches: each contact once, however many
/// lists and segments name it, and only those who may be mailed
/// (subscribed, not on the suppression list).
pub async fn audience_count(
    app: &App,
    tenant: &TenantId,
    audience: &Audience,
) -> Result<u64, CampaignError> {
    tenants::get(app, tenant).await?;
    let mut mailable: BTreeSet<ContactId> = BTreeSet::new();
    let mut seen: BTreeSet<ContactId> = BTreeSet::new();
    let mut candidates = Vec::new();
    for list in &audience.lists {
        let mut cursor = None;
        loop {
            let (page, next) = lists::members(app, tenant, list, MAX_BATCH_GET as u32, cursor)
                .await
                .map_err(|e| no_list(e, list))?;
            candidates.extend(page);
            if candidates.len() >= MAX_BATCH_GET {
                keep_mailable(app, tenant, &mut candidates, &mut seen, &mut mailable).await?;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    for segment in &audience.segments {
        let filter = segments::checked_filter_of(app, tenant, segment)
            .await
            .map_err(|e| no_segment(e, segment))?;
        let mut members = segments::members_of(app, tenant, filter);
        while let Some(batch) = members.next_batch().await.map_err(|e| match e {
            segments::SegmentError::Store(s) => CampaignError::Store(s),
            other => CampaignError::invalid("audience.segments", other.to_string()),
        })? {
            candidates.extend(batch);
            if candidates.len() >= MAX_BATCH_GET {
                keep_mailable(app, tenant, &mut candidates, &mut seen, &mut mailable).await?;
            }
        }
    }
    keep_mailable(app, tenant, &mut candidates, &mut seen, &mut mailable).await?;
    Ok(mailable.len() as u64)
}

/// Moves the candidates who may be mailed into `mailable`, each once.
async fn keep_mailable(
    app: &App,
    tenant: &TenantId,
    candidates: &mut Vec<crate::domain::Contact>,
    seen: &mut BTreeSet<ContactId>,
    mailable: &mut BTreeSet<ContactId>,
) -> Result<(), CampaignError> {
    let fresh: Vec<crate::domain::Contact> = candidates
        .drain(..)
        .filter(|c| c.status.is_mailable() && seen.insert(c.id.clone()))
        .collect();
    for chunk in fresh.chunks(MAX_BATCH_GET) {
        let suppression_keys: Vec<_> = chunk
            .iter()
            .map(|c| keys::suppression(tenant, &c.id))
            .collect();
        let suppressed = app.store.get_many(&suppression_keys).await?;
        for (contact, entry) in chunk.iter().zip(suppressed) {
            if entry.is_none() {
                mailable.insert(contact.id.clone());
            }
        }
    }
    Ok(())
}

/// Schedules a draft for `at` (UTC), after every check a mailing needs.
pub async fn schedule(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    at: DateTime<Utc>,
) -> Result<Campaign, CampaignError> {
    let record = tenants::get_active(app, tenant).await?;
    let (mut campaign, version) = load(app, tenant, id).await?;
    if campaign.state != CampaignState::Draft {
        return Err(CampaignError::State {
            state: campaign.state.as_str(),
            action: "scheduled",
        });
    }
    if at <= app.clock.now() {
        return Err(CampaignError::invalid(
            "scheduled_at",
            "lies in the past; choose a time in the future",
        ));
    }
    // The sender must still be verified, the tracking still allowed.
    let verified = record
        .settings
        .sender_domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(campaign.from_email.domain()));
    if !verified {
        return Err(CampaignError::invalid(
            "from_email",
            "is no longer on a verified sender domain",
        ));
    }
    if tracking_rank(campaign.tracking) > tracking_rank(record.settings.tracking) {
        return Err(CampaignError::invalid(
            "tracking",
            "records more than the institute's tracking mode allows",
        ));
    }
    let (_, source) = content_of(app, tenant, &campaign).await?;
    let preview = templates::preview(app, tenant, &source, None)
        .await
        .map_err(|e| CampaignError::invalid("template_id", e.to_string()))?;
    let errors: Vec<&'static str> = preview
        .findings
        .iter()
        .filter(|f| f.severity == checks::Severity::Error)
        .map(|f| f.code)
        .collect();
    if !errors.is_empty() {
        return Err(CampaignError::Content(errors));
    }
    if audience_count(app, tenant, &campaign.audience).await? == 0 {
        return Err(CampaignError::EmptyAudience);
    }
    campaign.state = CampaignState::Scheduled;
    campaign.scheduled_at = Some(at);
    campaign.updated_at = app.clock.now();
    store_with_due_entry(app, tenant, &campaign, version).await?;
    Ok(campaign)
}

/// The template as the campaign sends it: the version it names, with the
/// campaign's subject and preheader; and the template's name.
pub async fn content_of(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
) -> Result<(String, crate::content::template::TemplateSource), CampaignError> {
    let (template, version) = templates::version(
        app,
        tenant,
        &campaign.template,
        Some(campaign.template_version),
    )
    .await
    .map_err(|e| match e {
        templates::TemplateError::Store(s) => CampaignError::Store(s),
        _ => CampaignError::invalid("template_id", "the template version is gone"),
    })?;
    let mut source = version.source;
    if let Some(subject) = &campaign.subject {
        source.subject = subject.clone();
    }
    if let Some(preheader) = &campaign.preheader {
        source = crate::content::template::with_preheader(&source, preheader);
    }
    Ok((template.name, source))
}

/// Moves a campaign from one of `from` to `to`, or says why it cannot.
pub(crate) async fn transition(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    from: &[CampaignState],
    action: &'static str,
    change: impl FnOnce(&mut Campaign),
) -> Result<Campaign, CampaignError> {
    tenants::get_active(app, tenant).await?;
    move_state(app, tenant, id, from, action, change).await
}

/// [`transition`] without the look at the institute: for EMMA's own moves
/// (pausing a campaign because its institute was suspended must work
/// while it is suspended).
pub(crate) async fn move_state(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    from: &[CampaignState],
    action: &'static str,
    change: impl FnOnce(&mut Campaign),
) -> Result<Campaign, CampaignError> {
    let (mut campaign, version) = load(app, tenant, id).await?;
    if !from.contains(&campaign.state) {
        return Err(CampaignError::State {
            state: campaign.state.as_str(),
            action,
        });
    }
    change(&mut campaign);
    campaign.updated_at = app.clock.now();
    store(app, tenant, &campaign, PutCondition::Version(version)).await?;
    Ok(campaign)
}

/// Pauses a scheduled or sending campaign.
pub async fn pause(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
) -> Result<Campaign, CampaignError> {
    transition(
        app,
        tenant,
        id,
        &[CampaignState::Scheduled, CampaignState::Sending],
        "paused",
        |c| {
            c.paused_from = Some(c.state);
            c.state = CampaignState::Paused;
        },
    )
    .await
}

/// Resumes a paused campaign where it was; one whose time passed while
/// it was paused is not sent at once: it has to be edited and scheduled
/// again (with its checks).
pub async fn resume(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
) -> Result<Campaign, CampaignError> {
    let (current, _) = load(app, tenant, id).await?;
    let now = app.clock.now();
    if current.state == CampaignState::Paused
        && current.paused_from != Some(CampaignState::Sending)
        && current.scheduled_at.is_some_and(|at| at <= now)
    {
        return Err(CampaignError::invalid(
            "scheduled_at",
            "passed while the campaign was paused; edit and schedule it again",
        ));
    }
    let campaign = transition(app, tenant, id, &[CampaignState::Paused], "resumed", |c| {
        c.state = c.paused_from.take().unwrap_or(CampaignState::Scheduled);
        c.pause_reason = None;
    })
    .await?;
    match campaign.state {
        CampaignState::Scheduled => {
            // Back in the due list (an entry that is still there is kept).
            let (campaign, version) = load(app, tenant, id).await?;
            store_with_due_entry(app, tenant, &campaign, version).await?;
        }
        CampaignState::Sending => {
            crate::services::sending::resume_dispatch(app, tenant, id).await?;
        }
        _ => {}
    }
    Ok(campaign)
}

/// Cancels a campaign that has not been sent; nothing more goes out.
pub async fn cancel(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
) -> Result<Campaign, CampaignError> {
    transition(
        app,
        tenant,
        id,
        &[
            CampaignState::Draft,
            CampaignState::Scheduled,
            CampaignState::Sending,
            CampaignState::Paused,
        ],
        "cancelled",
        |c| {
            c.state = CampaignState::Cancelled;
            c.paused_from = None;
            c.pause_reason = None;
        },
    )
    .await
}
