//! Feedback from the e-mail service provider: SES events delivered by SNS.
//! `sns` checks that a message really comes from the deployment's SNS topic
//! (signature, certificate URL, topic); `ses_event` reads the SES event it
//! carries. Neither does I/O except through [`CertificateSource`].

mod ses_event;
mod sns;

pub use ses_event::{BounceType, SesEvent, SesEventKind};
pub use sns::{
    CertificateSource, HttpsCertificateSource, SnsEnvelope, SnsMessageType, SnsVerifier,
    StaticCertificateSource, VerifiedSnsMessage, string_to_sign, trusted_certificate_url,
};

/// Why an SNS message or the SES event in it was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    #[error("the SNS message is malformed: {0}")]
    MalformedEnvelope(String),
    #[error("unsupported SNS message type {0:?}")]
    UnsupportedMessageType(String),
    #[error("unsupported SNS signature version {0:?}")]
    UnsupportedSignatureVersion(String),
    #[error("untrusted signing certificate URL: {0}")]
    UntrustedCertificateUrl(String),
    #[error("untrusted subscribe URL: {0}")]
    UntrustedSubscribeUrl(String),
    #[error("the SNS topic {0} is not allowed")]
    TopicNotAllowed(String),
    #[error("the signing certificate could not be fetched: {0}")]
    CertificateUnavailable(String),
    #[error("the signing certificate is invalid: {0}")]
    InvalidCertificate(String),
    #[error("the SNS signature is not valid base64")]
    MalformedSignature,
    #[error("the SNS signature does not match the message")]
    SignatureMismatch,
    #[error("the SES event is malformed: {0}")]
    MalformedEvent(String),
    #[error("the SES notification has neither an eventType nor a notificationType")]
    MissingEventType,
}
