//! Building the AWS SDK configuration and clients, once per process. With an
//! endpoint set (moto, LocalStack) every client talks to it, and S3 uses
//! path-style addressing. Also the one place that sorts SDK failures into
//! throttled, transient and refused, for every adapter alike.

use aws_config::{BehaviorVersion, SdkConfig, meta::region::RegionProviderChain};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "eu-central-1";

/// Loads the SDK configuration from the environment (credentials, region),
/// pointing every client at `endpoint` when one is given.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(DEFAULT_REGION);
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// The S3 client; path-style addressing when an endpoint override is set,
/// since emulators do not serve bucket subdomains.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// The SES client makes every request once: `SendEmail` has no
/// idempotency key, so a retry after a timeout could deliver a message
/// twice. The send worker retries what was certainly not sent (throttling)
/// itself, and records the rest as "unknown".
pub fn sesv2_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::config::Builder::from(config)
        .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// What an SDK failure means to the caller, whichever service answered.
/// Each adapter maps it onto its port's error, looking at the service codes
/// it knows in [`Failure::Service`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The service asked us to slow down (a throttling code, or HTTP 429):
    /// the same request may succeed later.
    Throttled { code: String, message: String },
    /// No answer, a cut-off or unreadable answer, a timeout, or a server-side
    /// error (HTTP 5xx): the same request may succeed later.
    Transient(String),
    /// The service answered and refused the request.
    Service { code: String, message: String },
    /// The request was never sent (it could not be built): retrying it will
    /// not help.
    Local(String),
}

/// Error codes by which AWS services (and DynamoDB's transaction
/// cancellation reasons) say "slow down".
const THROTTLING_CODES: &[&str] = &[
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "Throttling",
    "ThrottlingError",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
];

/// Error codes of server-side trouble, for answers that come without a 5xx
/// status (some emulators, request timeouts).
const TRANSIENT_CODES: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
];

/// Whether an error code means "slow down".
pub(crate) fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Sorts an SDK failure: a throttling code or HTTP 429 is `Throttled`; no
/// answer, an unreadable answer, HTTP 5xx or a server-trouble code is
/// `Transient`; any other answer is `Service` with its code and message.
pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            let status = service.raw().status();
            if is_throttling_code(&code) || status.as_u16() == 429 {
                Failure::Throttled { code, message }
            } else if status.is_server_error() || TRANSIENT_CODES.contains(&code.as_str()) {
                Failure::Transient(format!("{code} (HTTP {}): {message}", status.as_u16()))
            } else {
                Failure::Service { code, message }
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient(DisplayErrorContext(err).to_string())
        }
        _ => Failure::Local(DisplayErrorContext(err).to_string()),
    }
}

/// Builders of SDK failures as the services answer them, for adapter tests.
#[cfg(test)]
pub(crate) mod test_support {
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::{ErrorMetadata, SdkError};
    use aws_sdk_s3::primitives::SdkBody;

    /// A service error of type `E` with this code and message, answered
    /// with this HTTP status.
    pub(crate) fn service_error<E>(
        status: u16,
        code: &str,
        message: &str,
        build: impl FnOnce(ErrorMetadata) -> E,
    ) -> SdkError<E, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let status = http::StatusCode::from_u16(status).expect("a valid HTTP status");
        SdkError::service_error(
            build(meta),
            HttpResponse::new(status.into(), SdkBody::empty()),
        )
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;

    use super::test_support::service_error;
    use super::*;

    fn answered(status: u16, code: &str) -> Failure {
        classify(&service_error(
            status,
            code,
            "details",
            GetObjectError::generic,
        ))
    }

    fn throttled(code: &str) -> Failure {
        Failure::Throttled {
            code: code.to_owned(),
            message: "details".to_owned(),
        }
    }

    #[test]
    fn throttling_codes_and_http_429_are_throttled_whatever_the_status() {
        assert_eq!(
            answered(400, "ThrottlingException"),
            throttled("ThrottlingException")
        );
        assert_eq!(answered(503, "SlowDown"), throttled("SlowDown"));
        assert_eq!(answered(429, "Whatever"), throttled("Whatever"));
    }

    #[test]
    fn server_errors_are_transient_by_status_or_by_code() {
        assert!(matches!(answered(500, "Odd"), Failure::Transient(_)));
        assert!(matches!(
            answered(503, "ServiceUnavailable"),
            Failure::Transient(_)
        ));
        assert!(matches!(
            answered(400, "InternalFailure"),
            Failure::Transient(_)
        ));
    }

    #[test]
    fn other_answers_are_service_refusals_with_their_code_and_message() {
        assert_eq!(
            answered(400, "ValidationException"),
            Failure::Service {
                code: "ValidationException".to_owned(),
                message: "details".to_owned(),
            }
        );
    }

    #[test]
    fn an_unsent_request_is_local_and_a_timeout_is_transient() {
        let unsent: SdkError<GetObjectError, HttpResponse> =
            SdkError::construction_failure(ErrorMetadata::builder().build());
        assert!(matches!(classify(&unsent), Failure::Local(_)));
        let timeout: SdkError<GetObjectError, HttpResponse> =
            SdkError::timeout_error(ErrorMetadata::builder().build());
        assert!(matches!(classify(&timeout), Failure::Transient(_)));
    }
}
