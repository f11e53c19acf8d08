//! Campaign routes of a tenant (Kampagnen): create and change drafts, count
//! an audience, schedule (after every check), pause, resume and cancel.
//! Times are answered in UTC and, for people, in Europe/Berlin; a time
//! sent without an offset is read as Europe/Berlin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson};
use crate::App;
use crate::domain::{CampaignId, ListId, SegmentId, TemplateId, TrackingMode};
use crate::services::campaigns::{
    self, Audience, Campaign, CampaignDraft, CampaignState, PauseReason,
};
use crate::services::sending::{self, Progress};
use crate::services::tracking::{self, TrackingStats};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, all_campaigns))
        .routes(routes!(count_audience))
        .routes(routes!(get_campaign, update_campaign))
        .routes(routes!(schedule_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(cancel_campaign))
        .routes(routes!(campaign_progress))
}

fn campaign_id(raw: &str) -> Result<CampaignId, ApiError> {
    CampaignId::parse(raw).map_err(|_| ApiError::NotFound("campaign"))
}

/// Who gets the campaign: lists and segments, by id.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceBody {
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
}

impl AudienceBody {
    fn audience(&self) -> Result<Audience, ApiError> {
        let lists = self
            .lists
            .iter()
            .map(|id| {
                ListId::parse(id)
                    .map_err(|_| ApiError::bad_request("audience.lists", format!("no list {id}")))
            })
            .collect::<Result<_, _>>()?;
        let segments = self
            .segments
            .iter()
            .map(|id| {
                SegmentId::parse(id).map_err(|_| {
                    ApiError::bad_request("audience.segments", format!("no segment {id}"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Audience { lists, segments })
    }
}

/// A campaign as an editor sets it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    #[schema(example = "Dezember-Newsletter")]
    pub name: String,
    pub template_id: String,
    /// The template version; the current one when absent.
    pub template_version: Option<u32>,
    /// The subject; the template's when absent. Merge fields allowed.
    pub subject: Option<String>,
    pub preheader: Option<String>,
    #[schema(example = "Sparkasse Musterstadt")]
    pub from_name: String,
    /// On one of the institute's verified sender domains.
    #[schema(example = "newsletter@sparkasse-musterstadt.de")]
    pub from_email: String,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub audience: AudienceBody,
    /// Within the institute's tracking mode; the institute's when absent.
    pub tracking: Option<TrackingMode>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// RFC 3339 with an offset, or `YYYY-MM-DDTHH:MM` read as
    /// Europe/Berlin.
    #[schema(example = "2026-12-01T09:00")]
    pub scheduled_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    pub state: CampaignState,
    pub template_id: String,
    pub template_version: u32,
    pub subject: Option<String>,
    pub preheader: Option<String>,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub audience: AudienceBody,
    pub tracking: TrackingMode,
    /// In UTC.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The same time in Europe/Berlin, e.g. `2026-12-01T09:00:00+01:00`.
    pub scheduled_at_berlin: Option<String>,
    /// Why EMMA paused it by itself (none when an editor did).
    pub pause_reason: Option<PauseReason>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name,
            state: c.state,
            template_id: c.template.to_string(),
            template_version: c.template_version,
            subject: c.subject,
            preheader: c.preheader,
            from_name: c.from_name,
            from_email: c.from_email.to_string(),
            reply_to: c.reply_to.map(|r| r.to_string()),
            audience: AudienceBody {
                lists: c.audience.lists.iter().map(ToString::to_string).collect(),
                segments: c
                    .audience
                    .segments
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            tracking: c.tracking,
            scheduled_at_berlin: c
                .scheduled_at
                .map(|at| at.with_timezone(&Berlin).to_rfc3339()),
            scheduled_at: c.scheduled_at,
            pause_reason: c.pause_reason,
            started_at: c.started_at,
            finished_at: c.finished_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignsView {
    /// Newest first.
    pub campaigns: Vec<CampaignView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AudienceCount {
    /// Contacts who would get the campaign: subscribed, not suppressed,
    /// each once.
    pub count: u64,
}

/// A time as sent: with an offset as it is, without one in Europe/Berlin
/// (a time the clock skips when summer time starts is refused; one it
/// passes twice is the first).
pub fn read_time(raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            ApiError::bad_request(
                "scheduled_at",
                "is not a time (RFC 3339, or YYYY-MM-DDTHH:MM in Europe/Berlin)",
            )
        })?;
    Berlin
        .from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            ApiError::bad_request(
                "scheduled_at",
                "does not exist in Europe/Berlin (the clock skips it)",
            )
        })
}

async fn draft_of(
    app: &App,
    tenant: &crate::domain::TenantId,
    body: CampaignBody,
) -> Result<CampaignDraft, ApiError> {
    let template = TemplateId::parse(&body.template_id)
        .map_err(|_| ApiError::bad_request("template_id", "no template with this id"))?;
    let tracking = match body.tracking {
        Some(mode) => mode,
        None => {
            crate::services::tenants::get(app, tenant)
                .await?
                .settings
                .tracking
        }
    };
    Ok(CampaignDraft {
        name: body.name,
        template,
        template_version: body.template_version,
        subject: body.subject,
        preheader: body.preheader,
        from_name: body.from_name,
        from_email: body.from_email,
        reply_to: body.reply_to,
        audience: body.audience.audience()?,
        tracking,
    })
}

/// Creates a draft.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns", tag = "campaigns",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = CampaignBody,
    responses(
        (status = 201, description = "Created as a draft", body = CampaignView),
        (status = 400, description = "A field is invalid (named)", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_campaign(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<CampaignView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let draft = draft_of(&app, &tenant, body).await?;
    let campaign = campaigns::create(&app, &tenant, &draft).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, campaign.id.to_string())],
        Json(campaign.into()),
    ))
}

/// Every campaign of the tenant, newest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/campaigns", tag = "campaigns",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The campaigns", body = CampaignsView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_campaigns(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<CampaignsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(CampaignsView {
        campaigns: campaigns::all(&app, &tenant)
            .await?
            .into_iter()
            .map(CampaignView::from)
            .collect(),
    }))
}

/// Counts who an audience reaches (nothing is saved).
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns/audience-count", tag = "campaigns",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = AudienceBody,
    responses(
        (status = 200, description = "The count", body = AudienceCount),
        (status = 400, description = "A list or segment is not the tenant's", body = super::Problem),
    ))]
async fn count_audience(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<AudienceBody>,
) -> Result<Json<AudienceCount>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let count = campaigns::audience_count(&app, &tenant, &body.audience()?).await?;
    Ok(Json(AudienceCount { count }))
}

/// One campaign.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "The campaign", body = CampaignView),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
    ))]
async fn get_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    Ok(Json(campaigns::get(&app, &tenant, &id).await?.into()))
}

/// Changes a draft; a scheduled campaign goes back to draft.
#[utoipa::path(put, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    request_body = CampaignBody,
    responses(
        (status = 200, description = "Changed (a draft again)", body = CampaignView),
        (status = 400, description = "A field is invalid (named)", body = super::Problem),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
        (status = 409, description = "Sending, sent or cancelled: not editable", body = super::Problem),
    ))]
async fn update_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    let draft = draft_of(&app, &tenant, body).await?;
    Ok(Json(
        campaigns::update(&app, &tenant, &id, &draft).await?.into(),
    ))
}

/// Schedules a draft, after every check a mailing needs.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}/schedule", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "Scheduled", body = CampaignView),
        (status = 400, description = "A time in the past, an unverified sender", body = super::Problem),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
        (status = 409, description = "Not a draft", body = super::Problem),
        (status = 422, description = "Content errors, or nobody to mail", body = super::Problem),
    ))]
async fn schedule_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    let at = read_time(&body.scheduled_at)?;
    Ok(Json(
        campaigns::schedule(&app, &tenant, &id, at).await?.into(),
    ))
}

/// Pauses a scheduled or sending campaign.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}/pause", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "Paused", body = CampaignView),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
        (status = 409, description = "Neither scheduled nor sending", body = super::Problem),
    ))]
async fn pause_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    Ok(Json(campaigns::pause(&app, &tenant, &id).await?.into()))
}

/// Resumes a paused campaign where it was.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}/resume", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "Resumed", body = CampaignView),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
        (status = 409, description = "Not paused", body = super::Problem),
    ))]
async fn resume_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    Ok(Json(campaigns::resume(&app, &tenant, &id).await?.into()))
}

/// Cancels a campaign that has not been sent.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}/cancel", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = CampaignView),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
        (status = 409, description = "Already sent or cancelled", body = super::Problem),
    ))]
async fn cancel_campaign(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    Ok(Json(campaigns::cancel(&app, &tenant, &id).await?.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_without_an_offset_is_read_in_berlin_with_summer_time() {
        let winter = read_time("2026-12-01T09:00").unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        let summer = read_time("2026-07-01T09:00").unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-07-01T07:00:00+00:00");
        let explicit = read_time("2026-12-01T09:00:00Z").unwrap();
        assert_eq!(explicit.to_rfc3339(), "2026-12-01T09:00:00+00:00");
        // 02:30 does not exist on the morning summer time starts.
        assert!(read_time("2026-03-29T02:30").is_err());
        // 02:30 happens twice when it ends: the first one (summer time).
        let twice = read_time("2026-10-25T02:30").unwrap();
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert!(read_time("morgen früh").is_err());
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    pub state: CampaignState,
    pub pause_reason: Option<PauseReason>,
    /// None until the campaign started.
    pub sending: Option<Progress>,
    /// Opens and clicks, as far as the campaign's tracking records them.
    pub tracking: TrackingStats,
}

/// How far sending got: recipients queued, sent, failed, skipped (left or
/// suppressed after the start) and unknown (a worker stopped between the
/// mail service and its record: never resent), problems, opens and clicks.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/campaigns/{campaign_id}/progress", tag = "campaigns",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("campaign_id" = String, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "The campaign's progress", body = ProgressView),
        (status = 404, description = "No such tenant or campaign", body = super::Problem),
    ))]
async fn campaign_progress(
    State(app): State<App>,
    Path((tenant, campaign)): Path<(String, String)>,
) -> Result<Json<ProgressView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = campaign_id(&campaign)?;
    let campaign = campaigns::get(&app, &tenant, &id).await?;
    let sending = sending::progress(&app, &tenant, &id)
        .await
        .map_err(campaigns::CampaignError::from)?;
    let tracking = tracking::stats(&app, &tenant, &id)
        .await
        .map_err(campaigns::CampaignError::from)?;
    Ok(Json(ProgressView {
        state: campaign.state,
        pause_reason: campaign.pause_reason,
        sending,
        tracking,
    }))
}
