//! The API's error type: every failure a route can answer, mapped to a
//! status code and an RFC 9457 problem body. Internals (store or mail
//! failures) are logged and hidden behind a generic message.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ports::{MailError, StoreError};
use crate::services::api_keys::ApiKeyError;
use crate::services::assets::AssetError;
use crate::services::campaigns::CampaignError;
use crate::services::contacts::ContactError;
use crate::services::exports::ExportError;
use crate::services::imports::ImportError;
use crate::services::lists::ListError;
use crate::services::segments::SegmentError;
use crate::services::sign_in::SignInError;
use crate::services::suppressions::SuppressionError;
use crate::services::templates::TemplateError;
use crate::services::tenants::TenantError;
use crate::services::test_mail::TestMailError;
use crate::services::users::UserError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("you may not do this")]
    Forbidden,
    #[error("the request did not come from EMMA's own pages (CSRF check)")]
    CsrfRejected,
    #[error("choose your own password first")]
    PasswordChangeRequired,
    #[error("the institute requires a second factor: set it up first")]
    SecondFactorSetUpRequired,
    #[error("{0}")]
    SignInRefused(String),
    #[error("enter the code from your authenticator app")]
    SecondFactorRequired,
    #[error("too many failed attempts; try again later")]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error("the method is not allowed here: {0}")]
    MethodNotAllowed(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {detail}")]
    BadRequest { field: String, detail: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the tenant is suspended")]
    TenantSuspended,
    #[error("{0}")]
    Unprocessable(String),
    #[error("a service EMMA depends on is busy; try again shortly")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:emma:problem:not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, detail: impl ToString) -> Self {
        Self::BadRequest {
            field: field.into(),
            detail: detail.to_string(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::NoRoute(_) => (StatusCode::NOT_FOUND, "no-route", "No such route"),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "Not signed in"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::CsrfRejected => (StatusCode::FORBIDDEN, "csrf", "Forbidden"),
            Self::PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "password-change-required",
                "Password change required",
            ),
            Self::SecondFactorSetUpRequired => (
                StatusCode::FORBIDDEN,
                "second-factor-set-up-required",
                "Second factor required",
            ),
            Self::SignInRefused(_) => (
                StatusCode::UNAUTHORIZED,
                "sign-in-refused",
                "Sign-in refused",
            ),
            Self::SecondFactorRequired => (
                StatusCode::UNAUTHORIZED,
                "second-factor-required",
                "Second factor required",
            ),
            Self::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
            ),
            Self::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::BadRequest { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "Invalid request",
            ),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Self::TenantSuspended => (
                StatusCode::FORBIDDEN,
                "tenant-suspended",
                "Tenant suspended",
            ),
            Self::Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "Request cannot be carried out",
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let (detail, field) = match self {
            Self::BadRequest { field, detail } => (detail.clone(), Some(field.clone())),
            // What went wrong inside stays in the log.
            Self::Internal(_) => ("An internal error occurred.".to_owned(), None),
            other => (other.to_string(), None),
        };
        Problem {
            kind: format!("urn:emma:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(%cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            [(header::CONTENT_TYPE, PROBLEM_JSON)],
            Json(problem),
        )
            .into_response();
        if let Self::TooManyAttempts {
            retry_after_seconds,
        } = self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_seconds.max(1)),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::bad_request("cursor", e),
            e if e.is_retryable() => Self::Unavailable(e.to_string()),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<TenantError> for ApiError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::NotFound => Self::NotFound("tenant"),
            TenantError::Suspended => Self::TenantSuspended,
            TenantError::Store(s) => s.into(),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Tenant(t) => t.into(),
            ContactError::NotFound => Self::NotFound("contact"),
            ContactError::DuplicateEmail | ContactError::Conflict | ContactError::Suppressed => {
                Self::Conflict(e.to_string())
            }
            ContactError::StatusChange(reason) => Self::bad_request("status", reason),
            ContactError::Attribute(problem) => Self::bad_request(problem.field(), problem.reason),
            ContactError::InvalidCursor => Self::bad_request("cursor", e),
            ContactError::Evidence(c) => c.into(),
            ContactError::Store(s) => s.into(),
        }
    }
}

impl From<crate::services::attributes::AttributeError> for ApiError {
    fn from(e: crate::services::attributes::AttributeError) -> Self {
        use crate::services::attributes::AttributeError as A;
        match e {
            A::Tenant(t) => t.into(),
            A::NotFound => Self::NotFound("attribute"),
            A::Name(reason) => Self::bad_request("name", reason),
            A::Label(reason) => Self::bad_request("label", reason),
            A::Taken | A::Conflict => Self::Conflict(e.to_string()),
            A::TooMany => Self::Unprocessable(e.to_string()),
            A::Value(problem) => Self::bad_request(problem.field(), problem.reason),
            A::Store(s) => s.into(),
        }
    }
}

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Tenant(t) => t.into(),
            ListError::NotFound => Self::NotFound("list"),
            ListError::ContactNotFound => Self::NotFound("contact"),
            ListError::Name(reason) => Self::bad_request("name", reason),
            ListError::InvalidCursor => Self::bad_request("cursor", e),
            ListError::Store(s) => s.into(),
        }
    }
}

impl From<SuppressionError> for ApiError {
    fn from(e: SuppressionError) -> Self {
        match e {
            SuppressionError::Tenant(t) => t.into(),
            SuppressionError::NotFound => Self::NotFound("suppression"),
            SuppressionError::NotRemovable => Self::Conflict(e.to_string()),
            SuppressionError::InvalidCursor => Self::bad_request("cursor", e),
            SuppressionError::Store(s) => s.into(),
        }
    }
}

impl From<crate::services::suppressions::SuppressionTransferError> for ApiError {
    fn from(e: crate::services::suppressions::SuppressionTransferError) -> Self {
        use crate::services::suppressions::SuppressionTransferError as T;
        match e {
            T::List(l) => l.into(),
            T::TooLarge { limit } => Self::PayloadTooLarge { limit },
            T::EmptyFile | T::Unreadable(_) | T::TooManyEntries { .. } => {
                Self::Unprocessable(e.to_string())
            }
        }
    }
}

impl From<crate::services::gdpr::GdprError> for ApiError {
    fn from(e: crate::services::gdpr::GdprError) -> Self {
        use crate::services::gdpr::GdprError as G;
        match e {
            G::Tenant(t) => t.into(),
            G::NotFound => Self::NotFound("contact"),
            G::Store(s) => s.into(),
        }
    }
}

impl From<AssetError> for ApiError {
    fn from(e: AssetError) -> Self {
        match e {
            AssetError::Tenant(t) => t.into(),
            AssetError::NotFound => Self::NotFound("asset"),
            AssetError::Name(reason) => Self::bad_request("name", reason),
            AssetError::TooLarge { .. } | AssetError::Empty => Self::bad_request("size_bytes", e),
            AssetError::Refused(reason) => Self::bad_request("file", reason),
            AssetError::NotUploaded | AssetError::InUse(_) | AssetError::Conflict => {
                Self::Conflict(e.to_string())
            }
            AssetError::Blob(b) => {
                if matches!(b, crate::ports::BlobError::Unavailable(_)) {
                    Self::Unavailable(b.to_string())
                } else {
                    Self::Internal(b.to_string())
                }
            }
            AssetError::Store(s) => s.into(),
        }
    }
}

impl From<CampaignError> for ApiError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Tenant(t) => t.into(),
            CampaignError::NotFound => Self::NotFound("campaign"),
            CampaignError::Invalid { field, reason } => Self::bad_request(field, reason),
            CampaignError::State { .. } | CampaignError::Conflict => Self::Conflict(e.to_string()),
            CampaignError::Content(_) | CampaignError::EmptyAudience => {
                Self::Unprocessable(e.to_string())
            }
            CampaignError::Store(s) => s.into(),
        }
    }
}

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Tenant(t) => t.into(),
            TemplateError::NotFound => Self::NotFound("template"),
            TemplateError::VersionNotFound(_) => Self::NotFound("version"),
            TemplateError::ContactNotFound => Self::NotFound("contact"),
            TemplateError::Invalid { field, reason } => Self::bad_request(field, reason),
            TemplateError::Compile(c) => Self::bad_request(c.part.field(), c),
            TemplateError::Conflict { .. } | TemplateError::InUse(_) => {
                Self::Conflict(e.to_string())
            }
            TemplateError::Message(crate::content::message::MessageError::Render(r)) => {
                Self::bad_request(r.part.field(), r)
            }
            TemplateError::Message(m) => Self::Unprocessable(m.to_string()),
            TemplateError::Mail(m) => m.into(),
            TemplateError::Store(s) => s.into(),
        }
    }
}

impl From<SegmentError> for ApiError {
    fn from(e: SegmentError) -> Self {
        match e {
            SegmentError::Tenant(t) => t.into(),
            SegmentError::NotFound => Self::NotFound("segment"),
            SegmentError::Name(reason) => Self::bad_request("name", reason),
            SegmentError::Invalid { field, reason } => Self::bad_request(field, reason),
            SegmentError::InvalidCursor => Self::bad_request("cursor", e),
            SegmentError::Conflict => Self::Conflict(e.to_string()),
            SegmentError::Store(s) => s.into(),
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Tenant(t) => t.into(),
            ExportError::NotFound => Self::NotFound("export"),
            ExportError::Fields => Self::bad_request("fields", e),
            ExportError::Attributes(reason) => Self::bad_request("attributes", reason),
            ExportError::NoSuchList => Self::bad_request("list_id", "no list with this id"),
            ExportError::NoSuchSegment => {
                Self::bad_request("segment_id", "no segment with this id")
            }
            ExportError::Segment(s) => s.into(),
            ExportError::NotFinished => Self::Conflict(e.to_string()),
            ExportError::Run(reason) => Self::Internal(reason),
            ExportError::Blob(b) => Self::Internal(b.to_string()),
            ExportError::Store(s) => s.into(),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Tenant(t) => t.into(),
            ImportError::NotFound => Self::NotFound("import"),
            ImportError::FileName(reason) => Self::bad_request("file_name", reason),
            ImportError::Size => Self::bad_request("size_bytes", e),
            ImportError::Mapping(m) => Self::bad_request(m.field(), m),
            ImportError::NoSuchList => Self::bad_request("list_id", e),
            ImportError::NotUploaded | ImportError::NotStartable(_) | ImportError::Conflict => {
                Self::Conflict(e.to_string())
            }
            ImportError::EmptyFile | ImportError::NotCsv => Self::Unprocessable(e.to_string()),
            ImportError::Run(reason) => Self::Internal(reason),
            ImportError::Blob(b) => {
                if matches!(b, crate::ports::BlobError::Unavailable(_)) {
                    Self::Unavailable(b.to_string())
                } else {
                    Self::Internal(b.to_string())
                }
            }
            ImportError::Store(s) => s.into(),
        }
    }
}

impl From<MailError> for ApiError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::SenderNotVerified(_) | MailError::Rejected(_) => {
                Self::Unprocessable(e.to_string())
            }
            MailError::DailyQuotaExceeded | MailError::Throttled | MailError::Unavailable(_) => {
                Self::Unavailable(e.to_string())
            }
        }
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound => Self::NotFound("user"),
            UserError::DuplicateEmail => Self::Conflict(e.to_string()),
            UserError::RoleNotAllowed(_) => Self::bad_request("role", e),
            UserError::SelfChange => Self::Unprocessable(e.to_string()),
            UserError::Store(s) => s.into(),
        }
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Malformed
            | ApiKeyError::Unknown
            | ApiKeyError::Revoked
            | ApiKeyError::TenantInactive => Self::Unauthenticated,
            ApiKeyError::NotFound => Self::NotFound("API key"),
            ApiKeyError::RoleNotAllowed(_) => Self::bad_request("role", e),
            ApiKeyError::RoleNotGrantable(_) => Self::Forbidden,
            ApiKeyError::Tenant(t) => t.into(),
            ApiKeyError::Store(s) => s.into(),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Throttled { retry_after } => Self::TooManyAttempts {
                retry_after_seconds: retry_after.num_seconds(),
            },
            SignInError::Store(s) => s.into(),
            SignInError::SecondFactorRequired => Self::SecondFactorRequired,
            other => Self::SignInRefused(other.to_string()),
        }
    }
}

impl From<TestMailError> for ApiError {
    fn from(e: TestMailError) -> Self {
        match e {
            TestMailError::Contact(c) => c.into(),
            TestMailError::Mail(m) => m.into(),
            TestMailError::Mime(m) => Self::Unprocessable(m.to_string()),
        }
    }
}

impl From<crate::services::signup::SignupError> for ApiError {
    fn from(e: crate::services::signup::SignupError) -> Self {
        use crate::services::signup::SignupError as S;
        match e {
            S::Tenant(t) => t.into(),
            S::NotFound => Self::NotFound("sign-up form"),
            S::Invalid { field, problem } => Self::bad_request(field, problem),
            S::Conflict => Self::Conflict(e.to_string()),
            S::Throttled {
                retry_after_seconds,
            } => Self::TooManyAttempts {
                retry_after_seconds,
            },
            S::InvalidLink => Self::NotFound("confirmation link"),
            S::Mail(m) => m.into(),
            S::Mime(m) => Self::Unprocessable(m.to_string()),
            S::Blob(b) => Self::Internal(b.to_string()),
            S::Store(s) => s.into(),
        }
    }
}

impl From<crate::services::consent::ConsentError> for ApiError {
    fn from(e: crate::services::consent::ConsentError) -> Self {
        use crate::services::consent::ConsentError as C;
        match e {
            C::Store(s) => s.into(),
            C::Blob(b) => Self::Internal(b.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_hides_its_cause_from_the_client() {
        let problem = ApiError::Internal("sqlite: disk I/O error at /secret/path".into()).problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("sqlite"));
    }

    #[test]
    fn a_bad_request_names_the_field() {
        let problem =
            ApiError::bad_request("email", "this is not a valid e-mail address").problem();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.field.as_deref(), Some("email"));
        assert_eq!(problem.kind, "urn:emma:problem:invalid-request");
    }

    #[test]
    fn a_throttled_store_is_a_503_and_a_broken_one_a_500() {
        assert_eq!(ApiError::from(StoreError::Throttled).problem().status, 503);
        assert_eq!(
            ApiError::from(StoreError::Backend("x".into()))
                .problem()
                .status,
            500
        );
    }
}
