//! The campaign pages (Kampagnen): the tenant's campaigns with their state;
//! the wizard that writes a campaign (template and subject, sender,
//! audience with its live count, tracking) on one page of steps; and one
//! campaign with its checks, a test send, scheduling at a Berlin time, and
//! pause, resume and cancel.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::admin::{date_time, tenant_failure};
use super::forms::{FormBody, Member, Visit, notice_param, redirect};
use super::lists::member_in_tenant;
use super::view;
use crate::content::checks::Severity;
use crate::domain::{
    CampaignId, ListId, Permission, SegmentId, TemplateId, TenantId, TrackingMode,
};
use crate::http::access::AUDIT_OBJECT;
use crate::services::campaigns::PauseReason;
use crate::services::campaigns::{
    self, Audience, Campaign, CampaignDraft, CampaignError, CampaignState, tracking_rank,
};
use crate::services::{lists, segments, sending, templates, tenants, tracking};

fn failure(visit: &Visit, e: CampaignError) -> Response {
    match e {
        CampaignError::Tenant(t) => tenant_failure(visit, t),
        CampaignError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        CampaignError::Store(s) => visit.store_failure(s),
        CampaignError::State { .. } | CampaignError::Conflict => visit.fail(StatusCode::CONFLICT),
        _ => visit.fail(StatusCode::BAD_REQUEST),
    }
}

fn redirect_naming(path: &str, id: &CampaignId) -> Response {
    let mut response = redirect(path, "/kampagnen");
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(AUDIT_OBJECT, value);
    }
    response
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("campaigns-notice-created"),
        "gespeichert" => Some("campaigns-notice-saved"),
        "geplant" => Some("campaigns-notice-scheduled"),
        "pausiert" => Some("campaigns-notice-paused"),
        "fortgesetzt" => Some("campaigns-notice-resumed"),
        "abgebrochen" => Some("campaigns-notice-cancelled"),
        "test-gesendet" => Some("templates-notice-test-sent"),
        _ => None,
    }
}

fn state_label(visit: &Visit, state: CampaignState) -> String {
    visit.tr(&format!("campaigns-state-{}", state.as_str()))
}

fn tracking_value(mode: TrackingMode) -> &'static str {
    match mode {
        TrackingMode::Off => "off",
        TrackingMode::Aggregate => "aggregate",
        TrackingMode::PerPerson => "per_person",
    }
}

fn tracking_of(raw: &str) -> Option<TrackingMode> {
    match raw {
        "off" => Some(TrackingMode::Off),
        "aggregate" => Some(TrackingMode::Aggregate),
        "per_person" => Some(TrackingMode::PerPerson),
        _ => None,
    }
}

// ---------------------------------------------------------------------
// Every campaign

#[derive(Debug, Serialize)]
struct CampaignRow {
    id: String,
    name: String,
    state: String,
    state_value: &'static str,
    scheduled_at: Option<String>,
    updated_at: String,
}

#[derive(Debug, Default, Serialize)]
struct CampaignsView {
    notice: Option<String>,
    may_write: bool,
    campaigns: Vec<CampaignRow>,
}

/// `GET /kampagnen`: the tenant's campaigns, newest first, with state.
pub(super) async fn all(visit: Visit, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let all = match campaigns::all(&visit.app, &tenant).await {
        Ok(all) => all,
        Err(e) => return failure(&visit, e),
    };
    let values = CampaignsView {
        notice: notice_id(&notice_param(&uri)).map(|id| visit.tr(id)),
        may_write: member.principal.role.may(Permission::WriteContent),
        campaigns: all
            .into_iter()
            .map(|c| CampaignRow {
                id: c.id.to_string(),
                state: state_label(&visit, c.state),
                state_value: c.state.as_str(),
                scheduled_at: c.scheduled_at.map(|at| date_time(visit.lang, at)),
                updated_at: date_time(visit.lang, c.updated_at),
                name: c.name,
            })
            .collect(),
    };
    let layout = visit.layout(&member, "/kampagnen");
    view::page(
        StatusCode::OK,
        "campaigns.html",
        &layout,
        &values,
        visit.https,
    )
}

// ---------------------------------------------------------------------
// The wizard (new and edit)

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

#[derive(Debug, Default, Serialize)]
struct FormView {
    alert: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    /// Set when editing.
    id: Option<String>,
    scheduled: bool,
    name: String,
    template_id: String,
    subject: String,
    preheader: String,
    from_name: String,
    from_local: String,
    from_domain: String,
    reply_to: String,
    tracking: &'static str,
    templates: Vec<Choice>,
    domains: Vec<Choice>,
    lists: Vec<Choice>,
    segments: Vec<Choice>,
    trackings: Vec<Choice>,
    /// The audience count, when asked for.
    count: Option<u64>,
}

/// The wizard's fields as the form sent them.
struct Sent {
    name: String,
    template_id: String,
    subject: String,
    preheader: String,
    from_name: String,
    from_local: String,
    from_domain: String,
    reply_to: String,
    tracking: String,
    lists: Vec<String>,
    segments: Vec<String>,
}

impl Sent {
    fn from(body: &FormBody) -> Self {
        Self {
            name: body.get("name").trim().to_owned(),
            template_id: body.get("template_id").to_owned(),
            subject: body.get("subject").to_owned(),
            preheader: body.get("preheader").to_owned(),
            from_name: body.get("from_name").to_owned(),
            from_local: body.get("from_local").trim().to_owned(),
            from_domain: body.get("from_domain").to_owned(),
            reply_to: body.get("reply_to").to_owned(),
            tracking: body.get("tracking").to_owned(),
            lists: body.all("listen").into_iter().map(str::to_owned).collect(),
            segments: body
                .all("segmente")
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    fn of(campaign: &Campaign) -> Self {
        let (local, domain) = campaign
            .from_email
            .as_str()
            .rsplit_once('@')
            .map(|(l, d)| (l.to_owned(), d.to_owned()))
            .unwrap_or_default();
        Self {
            name: campaign.name.clone(),
            template_id: campaign.template.to_string(),
            subject: campaign.subject.clone().unwrap_or_default(),
            preheader: campaign.preheader.clone().unwrap_or_default(),
            from_name: campaign.from_name.clone(),
            from_local: local,
            from_domain: domain,
            reply_to: campaign
                .reply_to
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            tracking: tracking_value(campaign.tracking).to_owned(),
            lists: campaign
                .audience
                .lists
                .iter()
                .map(ToString::to_string)
                .collect(),
            segments: campaign
                .audience
                .segments
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    fn audience(&self) -> Audience {
        Audience {
            lists: self
                .lists
                .iter()
                .filter_map(|id| ListId::parse(id).ok())
                .collect(),
            segments: self
                .segments
                .iter()
                .filter_map(|id| SegmentId::parse(id).ok())
                .collect(),
        }
    }

    fn draft(&self, tenant_mode: TrackingMode) -> Result<CampaignDraft, CampaignError> {
        let template =
            TemplateId::parse(&self.template_id).map_err(|_| CampaignError::Invalid {
                field: "template_id",
                reason: "no template with this id".to_owned(),
            })?;
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
        Ok(CampaignDraft {
            name: self.name.clone(),
            template,
            template_version: None,
            subject: optional(&self.subject),
            preheader: optional(&self.preheader),
            from_name: self.from_name.clone(),
            from_email: format!("{}@{}", self.from_local, self.from_domain),
            reply_to: optional(&self.reply_to),
            audience: self.audience(),
            tracking: tracking_of(&self.tracking).unwrap_or(tenant_mode),
        })
    }
}

async fn form_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    sent: &Sent,
    mut values: FormView,
    status: StatusCode,
) -> Response {
    let record = match tenants::get(&visit.app, tenant).await {
        Ok(record) => record,
        Err(e) => return tenant_failure(visit, e),
    };
    let all_templates = templates::all(&visit.app, tenant).await.unwrap_or_default();
    let all_lists = lists::all(&visit.app, tenant).await.unwrap_or_default();
    let all_segments = segments::all(&visit.app, tenant).await.unwrap_or_default();
    values.templates = all_templates
        .into_iter()
        .map(|t| Choice {
            chosen: t.id.to_string() == sent.template_id,
            value: t.id.to_string(),
            label: visit.tr_args(
                "campaigns-template-choice",
                &[("name", t.name), ("version", t.current.to_string())],
            ),
        })
        .collect();
    values.domains = record
        .settings
        .sender_domains
        .iter()
        .map(|d| Choice {
            chosen: *d == sent.from_domain,
            value: d.clone(),
            label: d.clone(),
        })
        .collect();
    values.lists = all_lists
        .into_iter()
        .map(|l| Choice {
            chosen: sent.lists.contains(&l.id.to_string()),
            value: l.id.to_string(),
            label: l.name,
        })
        .collect();
    values.segments = all_segments
        .into_iter()
        .map(|s| Choice {
            chosen: sent.segments.contains(&s.id.to_string()),
            value: s.id.to_string(),
            label: s.name,
        })
        .collect();
    let chosen = tracking_of(&sent.tracking).unwrap_or(record.settings.tracking);
    values.trackings = [
        TrackingMode::Off,
        TrackingMode::Aggregate,
        TrackingMode::PerPerson,
    ]
    .into_iter()
    .filter(|m| tracking_rank(*m) <= tracking_rank(record.settings.tracking))
    .map(|m| Choice {
        chosen: m == chosen,
        value: tracking_value(m).to_owned(),
        label: visit.tr(&format!("campaigns-tracking-{}", tracking_value(m))),
    })
    .collect();
    values.name = sent.name.clone();
    values.template_id = sent.template_id.clone();
    values.subject = sent.subject.clone();
    values.preheader = sent.preheader.clone();
    values.from_name = if sent.from_name.is_empty() {
        record
            .settings
            .default_from_name
            .clone()
            .unwrap_or_else(|| record.name.as_str().to_owned())
    } else {
        sent.from_name.clone()
    };
    values.from_local = sent.from_local.clone();
    values.from_domain = sent.from_domain.clone();
    values.reply_to = sent.reply_to.clone();
    let layout = visit.layout(member, "/kampagnen");
    view::page(status, "campaign_form.html", &layout, &values, visit.https)
}

fn empty_sent() -> Sent {
    Sent {
        name: String::new(),
        template_id: String::new(),
        subject: String::new(),
        preheader: String::new(),
        from_name: String::new(),
        from_local: "newsletter".to_owned(),
        from_domain: String::new(),
        reply_to: String::new(),
        tracking: String::new(),
        lists: Vec::new(),
        segments: Vec::new(),
    }
}

/// `GET /kampagnen/neu`: the wizard for a new campaign.
pub(super) async fn new(visit: Visit) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    form_page(
        &visit,
        &member,
        &tenant,
        &empty_sent(),
        FormView::default(),
        StatusCode::OK,
    )
    .await
}

/// Puts a refusal of the wizard's input beside its field.
fn refusal(visit: &Visit, values: &mut FormView, e: &CampaignError) {
    let (field, problem): (&'static str, String) = match e {
        CampaignError::Invalid { field, reason } => (
            field,
            visit.tr_args("templates-problem-invalid", &[("reason", reason.clone())]),
        ),
        other => ("name", other.to_string()),
    };
    let (field, label) = match field {
        "name" => ("name", "campaigns-field-name"),
        "template_id" | "template_version" => ("template_id", "campaigns-field-template"),
        "subject" => ("subject", "campaigns-field-subject"),
        "preheader" => ("preheader", "campaigns-field-preheader"),
        "from_name" => ("from_name", "campaigns-field-from-name"),
        "from_email" => ("from_local", "campaigns-field-from-email"),
        "reply_to" => ("reply_to", "campaigns-field-reply-to"),
        "tracking" => ("tracking", "campaigns-field-tracking"),
        _ => ("listen", "campaigns-field-audience"),
    };
    let invalid = visit.invalid(field, label, problem);
    values.alert = Some(invalid.alert);
    values.invalid = Some(invalid.field);
    values.field_error = Some(invalid.problem);
}

/// `POST /kampagnen`: saves the wizard as a new draft.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let sent = Sent::from(&body);
    let mode = match tenants::get(&visit.app, &tenant).await {
        Ok(record) => record.settings.tracking,
        Err(e) => return tenant_failure(&visit, e),
    };
    let result = match sent.draft(mode) {
        Ok(draft) => campaigns::create(&visit.app, &tenant, &draft).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(campaign) => redirect_naming(
            &format!("/kampagnen/{}?hinweis=angelegt", campaign.id),
            &campaign.id,
        ),
        Err(e @ CampaignError::Invalid { .. }) => {
            let mut values = FormView::default();
            refusal(&visit, &mut values, &e);
            form_page(
                &visit,
                &member,
                &tenant,
                &sent,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => failure(&visit, e),
    }
}

/// `POST /kampagnen/zaehlen`: the wizard again, as sent, with its
/// audience counted (nothing is saved).
pub(super) async fn count(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let editing = match body.get("kampagne") {
        "" => None,
        raw => match find(&visit, &tenant, raw).await {
            Ok(campaign) => Some(campaign),
            Err(response) => return response,
        },
    };
    let sent = Sent::from(&body);
    let mut values = FormView {
        id: editing.as_ref().map(|c| c.id.to_string()),
        scheduled: editing
            .as_ref()
            .is_some_and(|c| c.state == CampaignState::Scheduled),
        ..FormView::default()
    };
    match campaigns::audience_count(&visit.app, &tenant, &sent.audience()).await {
        Ok(count) => values.count = Some(count),
        Err(e) => refusal(&visit, &mut values, &e),
    }
    form_page(&visit, &member, &tenant, &sent, values, StatusCode::OK).await
}

async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<Campaign, Response> {
    let id = CampaignId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    campaigns::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| failure(visit, e))
}

/// For a user whose role holds `permission`: the campaign of their tenant
/// the path names.
async fn with_campaign(
    visit: &Visit,
    raw_id: &str,
    permission: Permission,
) -> Result<(Member, TenantId, Campaign), Response> {
    let (member, tenant) = member_in_tenant(visit, permission).await?;
    let campaign = find(visit, &tenant, raw_id).await?;
    Ok((member, tenant, campaign))
}

/// `GET /kampagnen/{campaign_id}/bearbeiten`: the wizard for a draft or a
/// scheduled campaign (saving takes it back to draft).
pub(super) async fn edit(visit: Visit, Path(raw_id): Path<String>) -> Response {
    let (member, tenant, campaign) =
        match with_campaign(&visit, &raw_id, Permission::WriteContent).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let values = FormView {
        id: Some(campaign.id.to_string()),
        scheduled: campaign.state == CampaignState::Scheduled,
        ..FormView::default()
    };
    form_page(
        &visit,
        &member,
        &tenant,
        &Sent::of(&campaign),
        values,
        StatusCode::OK,
    )
    .await
}

/// `POST /kampagnen/{campaign_id}/bearbeiten`: counts, or saves the change
/// (a scheduled campaign becomes a draft again).
pub(super) async fn update(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant, campaign) =
        match with_campaign(&visit, &raw_id, Permission::WriteContent).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let sent = Sent::from(&body);
    let mode = match tenants::get(&visit.app, &tenant).await {
        Ok(record) => record.settings.tracking,
        Err(e) => return tenant_failure(&visit, e),
    };
    let result = match sent.draft(mode) {
        Ok(draft) => campaigns::update(&visit.app, &tenant, &campaign.id, &draft).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) => redirect_naming(
            &format!("/kampagnen/{}?hinweis=gespeichert", saved.id),
            &saved.id,
        ),
        Err(e @ CampaignError::Invalid { .. }) => {
            let mut values = FormView {
                id: Some(campaign.id.to_string()),
                ..FormView::default()
            };
            refusal(&visit, &mut values, &e);
            form_page(
                &visit,
                &member,
                &tenant,
                &sent,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// One campaign

#[derive(Debug, Serialize)]
struct FindingRow {
    error: bool,
    text: String,
}

#[derive(Debug, Default, Serialize)]
struct CampaignView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    may_test: bool,
    id: String,
    name: String,
    state: String,
    state_value: &'static str,
    template_id: String,
    template_name: String,
    template_version: u32,
    subject: String,
    from: String,
    reply_to: String,
    tracking: String,
    scheduled_at: Option<String>,
    audience: Vec<String>,
    count: Option<u64>,
    findings: Vec<FindingRow>,
    blocking: bool,
    /// The schedule form's value (`YYYY-MM-DDTHH:MM`, Berlin).
    at: String,
    test_addresses: String,
    test_error: Option<String>,
    editable: bool,
    may_schedule: bool,
    may_pause: bool,
    may_resume: bool,
    may_cancel: bool,
    /// Why EMMA paused it, in words.
    pause_reason: Option<String>,
    sending: Option<SendingRows>,
}

/// The campaign's sending progress, for the page.
#[derive(Debug, Default, Serialize)]
struct SendingRows {
    started_at: String,
    exact: bool,
    snapshot_complete: bool,
    recipients: u64,
    queued: u64,
    sent: u64,
    failed: u64,
    skipped: u64,
    unknown: u64,
    problems: Vec<String>,
    opens: i64,
    unique_opens: i64,
    clicks: i64,
    unique_clicks: i64,
}

async fn campaign_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    campaign: Campaign,
    mut values: CampaignView,
    status: StatusCode,
) -> Response {
    let app = &visit.app;
    if let Ok((template_name, source)) = campaigns::content_of(app, tenant, &campaign).await {
        values.template_name = template_name;
        values.subject = source.subject.clone();
        if let Ok(preview) = templates::preview(app, tenant, &source, None).await {
            values.blocking = crate::content::checks::blocks(&preview.findings);
            values.findings = preview
                .findings
                .iter()
                .map(|f| FindingRow {
                    error: f.severity == Severity::Error,
                    text: visit.tr_args(
                        &format!("templates-check-{}", f.code.replace('_', "-")),
                        &[("subject", f.subject.clone())],
                    ),
                })
                .collect();
            values.findings.sort_by_key(|f| !f.error);
        }
    }
    let all_lists = lists::all(app, tenant).await.unwrap_or_default();
    let all_segments = segments::all(app, tenant).await.unwrap_or_default();
    values.audience = all_lists
        .into_iter()
        .filter(|l| campaign.audience.lists.contains(&l.id))
        .map(|l| visit.tr_args("campaigns-audience-list", &[("name", l.name)]))
        .chain(
            all_segments
                .into_iter()
                .filter(|s| campaign.audience.segments.contains(&s.id))
                .map(|s| visit.tr_args("campaigns-audience-segment", &[("name", s.name)])),
        )
        .collect();
    if values.count.is_none()
        && matches!(
            campaign.state,
            CampaignState::Draft | CampaignState::Scheduled
        )
    {
        values.count = campaigns::audience_count(app, tenant, &campaign.audience)
            .await
            .ok();
    }
    let may_write = member.principal.role.may(Permission::WriteContent);
    values.may_write = may_write;
    values.may_test = member.principal.role.may(Permission::SendTestMail);
    values.id = campaign.id.to_string();
    values.name = campaign.name.clone();
    values.state = state_label(visit, campaign.state);
    values.state_value = campaign.state.as_str();
    values.template_id = campaign.template.to_string();
    values.template_version = campaign.template_version;
    values.from = format!("{} <{}>", campaign.from_name, campaign.from_email);
    values.reply_to = campaign
        .reply_to
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    values.tracking = visit.tr(&format!(
        "campaigns-tracking-{}",
        tracking_value(campaign.tracking)
    ));
    values.scheduled_at = campaign.scheduled_at.map(|at| date_time(visit.lang, at));
    let state = campaign.state;
    values.editable = may_write
        && (matches!(state, CampaignState::Draft | CampaignState::Scheduled)
            || (state == CampaignState::Paused
                && campaign.paused_from != Some(CampaignState::Sending)));
    values.may_schedule = may_write && state == CampaignState::Draft;
    values.may_pause =
        may_write && matches!(state, CampaignState::Scheduled | CampaignState::Sending);
    values.may_resume = may_write && state == CampaignState::Paused;
    values.may_cancel = may_write
        && matches!(
            state,
            CampaignState::Draft
                | CampaignState::Scheduled
                | CampaignState::Sending
                | CampaignState::Paused
        );
    values.pause_reason = campaign.pause_reason.as_ref().map(|reason| match reason {
        PauseReason::QuotaExhausted { resume_at } => visit.tr_args(
            "campaigns-paused-quota",
            &[("at", date_time(visit.lang, *resume_at))],
        ),
        PauseReason::SenderNotVerified => visit.tr("campaigns-paused-sender"),
        PauseReason::TenantSuspended => visit.tr("campaigns-paused-suspended"),
        PauseReason::ContentInvalid => visit.tr("campaigns-paused-content"),
    });
    if let Ok(Some(progress)) = sending::progress(app, tenant, &campaign.id).await {
        let stats = tracking::stats(app, tenant, &campaign.id)
            .await
            .unwrap_or_default();
        let t = progress.totals;
        values.sending = Some(SendingRows {
            started_at: date_time(visit.lang, progress.started_at),
            exact: progress.exact,
            snapshot_complete: progress.snapshot_complete,
            recipients: t.recipients,
            queued: t.queued,
            sent: t.sent,
            failed: t.failed,
            skipped: t.skipped,
            unknown: t.unknown,
            problems: progress
                .problems
                .iter()
                .rev()
                .map(|p| format!("{}: {}", date_time(visit.lang, p.at), p.what))
                .collect(),
            opens: stats.opens,
            unique_opens: stats.unique_opens,
            clicks: stats.clicks,
            unique_clicks: stats.unique_clicks,
        });
    }
    let layout = visit.layout(member, "/kampagnen");
    view::page(status, "campaign.html", &layout, &values, visit.https)
}

/// `GET /kampagnen/{campaign_id}`: one campaign, its checks and actions.
pub(super) async fn page(visit: Visit, Path(raw_id): Path<String>, uri: Uri) -> Response {
    let (member, tenant, campaign) =
        match with_campaign(&visit, &raw_id, Permission::ReadContent).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let values = CampaignView {
        notice: notice_id(&notice_param(&uri)).map(|id| visit.tr(id)),
        ..CampaignView::default()
    };
    campaign_page(&visit, &member, &tenant, campaign, values, StatusCode::OK).await
}

/// `POST /kampagnen/{campaign_id}/planen`: schedules at the Berlin time sent.
pub(super) async fn schedule(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant, campaign) =
        match with_campaign(&visit, &raw_id, Permission::WriteContent).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let raw = body.get("zeitpunkt").to_owned();
    let result = match crate::http::campaigns::read_time(&raw) {
        Ok(at) => campaigns::schedule(&visit.app, &tenant, &campaign.id, at).await,
        Err(_) => Err(CampaignError::Invalid {
            field: "scheduled_at",
            reason: "is not a time".to_owned(),
        }),
    };
    let problem = match result {
        Ok(done) => {
            return redirect_naming(&format!("/kampagnen/{}?hinweis=geplant", done.id), &done.id);
        }
        Err(CampaignError::Invalid {
            field: "scheduled_at",
            reason,
        }) => {
            if reason.contains("past") {
                visit.tr("campaigns-problem-past")
            } else {
                visit.tr("campaigns-problem-time")
            }
        }
        Err(CampaignError::Invalid { reason, .. }) => {
            visit.tr_args("templates-problem-invalid", &[("reason", reason)])
        }
        Err(CampaignError::EmptyAudience) => visit.tr("campaigns-problem-empty-audience"),
        Err(CampaignError::Content(_)) => visit.tr("campaigns-problem-content"),
        Err(e) => return failure(&visit, e),
    };
    let invalid = visit.invalid("zeitpunkt", "campaigns-field-scheduled-at", problem);
    let values = CampaignView {
        alert: Some(invalid.alert),
        invalid: Some(invalid.field),
        field_error: Some(invalid.problem),
        at: raw,
        ..CampaignView::default()
    };
    campaign_page(
        &visit,
        &member,
        &tenant,
        campaign,
        values,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// A state change the campaign page offers.
#[derive(Clone, Copy)]
enum Action {
    Pause,
    Resume,
    Cancel,
}

async fn change(visit: Visit, raw_id: String, action: Action) -> Response {
    let (_, tenant, campaign) = match with_campaign(&visit, &raw_id, Permission::WriteContent).await
    {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (app, id) = (&visit.app, &campaign.id);
    let (result, notice) = match action {
        Action::Pause => (campaigns::pause(app, &tenant, id).await, "pausiert"),
        Action::Resume => (campaigns::resume(app, &tenant, id).await, "fortgesetzt"),
        Action::Cancel => (campaigns::cancel(app, &tenant, id).await, "abgebrochen"),
    };
    match result {
        Ok(done) => redirect_naming(
            &format!("/kampagnen/{}?hinweis={notice}", done.id),
            &done.id,
        ),
        Err(e) => failure(&visit, e),
    }
}

/// `POST /kampagnen/{campaign_id}/pausieren`.
pub(super) async fn pause(visit: Visit, Path(raw_id): Path<String>) -> Response {
    change(visit, raw_id, Action::Pause).await
}

/// `POST /kampagnen/{campaign_id}/fortsetzen`.
pub(super) async fn resume(visit: Visit, Path(raw_id): Path<String>) -> Response {
    change(visit, raw_id, Action::Resume).await
}

/// `POST /kampagnen/{campaign_id}/abbrechen`.
pub(super) async fn cancel(visit: Visit, Path(raw_id): Path<String>) -> Response {
    change(visit, raw_id, Action::Cancel).await
}

/// `POST /kampagnen/{campaign_id}/test`: sends the campaign's template
/// version as a test to the addresses typed.
pub(super) async fn test(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant, campaign) =
        match with_campaign(&visit, &raw_id, Permission::SendTestMail).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let typed = body.get("adressen").to_owned();
    let lines: Vec<String> = typed
        .split(['\n', ',', ';'])
        .map(|l| l.trim().to_owned())
        .collect();
    let sent = match templates::test_addresses(&lines) {
        Ok(addresses) => match campaigns::content_of(&visit.app, &tenant, &campaign).await {
            Ok((_, source)) => {
                let label = format!("campaign {}", campaign.id);
                templates::test_send_source(&visit.app, &tenant, &label, &source, &addresses, None)
                    .await
            }
            Err(e) => return failure(&visit, e),
        },
        Err(e) => Err(e),
    };
    let problem = match sent {
        Ok(_) => {
            return redirect_naming(
                &format!("/kampagnen/{}?hinweis=test-gesendet", campaign.id),
                &campaign.id,
            );
        }
        Err(templates::TemplateError::Invalid {
            field: "addresses", ..
        }) => super::templates::test_address_problem(&visit, &lines),
        Err(e) => {
            tracing::warn!(error = %e, "page: a campaign test send failed");
            visit.tr("templates-problem-test-send")
        }
    };
    let invalid = visit.invalid("adressen", "templates-test-addresses", problem);
    let values = CampaignView {
        alert: Some(invalid.alert),
        test_error: Some(invalid.problem),
        test_addresses: typed,
        ..CampaignView::default()
    };
    campaign_page(
        &visit,
        &member,
        &tenant,
        campaign,
        values,
        StatusCode::BAD_REQUEST,
    )
    .await
}
