//! Amazon SNS message signatures: the envelope SNS signs, the string to sign
//! as AWS documents it, the checks on the signing-certificate URL and topic,
//! and RSA verification against the certificate a [`CertificateSource`] gives.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sns::SnsMessage;
use aws_lc_rs::signature::{self as lc, RsaParameters, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::SecondsFormat;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use serde::Deserialize;
use url::{Host, Url};

use super::FeedbackError;

/// The fields of an SNS message that matter for its signature, as SNS posts
/// them to an HTTPS endpoint or hands them to a Lambda function. Unverified:
/// pass it to [`SnsVerifier::verify`] before trusting any of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsEnvelope {
    #[serde(rename = "Type")]
    pub message_type: String,
    pub message_id: String,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    /// As sent (`2026-03-02T10:15:30.123Z`): it is part of the signed string.
    pub timestamp: String,
    /// Confirmations only.
    #[serde(default)]
    pub token: Option<String>,
    /// Confirmations only.
    #[serde(default, rename = "SubscribeURL", alias = "SubscribeUrl")]
    pub subscribe_url: Option<String>,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL", alias = "SigningCertUrl")]
    pub signing_cert_url: String,
}

impl SnsEnvelope {
    /// Reads the JSON body SNS posts to an HTTP/HTTPS subscriber.
    pub fn from_json(body: &str) -> Result<Self, FeedbackError> {
        serde_json::from_str(body).map_err(|e| FeedbackError::MalformedEnvelope(e.to_string()))
    }
}

impl From<SnsMessage> for SnsEnvelope {
    /// A record of a Lambda SNS event. Its timestamp was parsed on the way
    /// in; SNS always sends milliseconds and `Z`, which is what is rebuilt.
    fn from(record: SnsMessage) -> Self {
        Self {
            message_type: record.sns_message_type,
            message_id: record.message_id,
            topic_arn: record.topic_arn,
            subject: record.subject,
            message: record.message,
            timestamp: record
                .timestamp
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            token: None,
            subscribe_url: None,
            signature_version: record.signature_version,
            signature: record.signature,
            signing_cert_url: record.signing_cert_url,
        }
    }
}

/// The kinds of message SNS signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnsMessageType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl FromStr for SnsMessageType {
    type Err = FeedbackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Notification" => Ok(Self::Notification),
            "SubscriptionConfirmation" => Ok(Self::SubscriptionConfirmation),
            "UnsubscribeConfirmation" => Ok(Self::UnsubscribeConfirmation),
            other => Err(FeedbackError::UnsupportedMessageType(other.to_owned())),
        }
    }
}

/// The string SNS signs, exactly as AWS documents it: `Key\nvalue\n` pairs in
/// byte order of the keys. A notification signs Message, MessageId, Subject
/// (only when present), Timestamp, TopicArn and Type; a subscription or
/// unsubscribe confirmation signs Message, MessageId, SubscribeURL,
/// Timestamp, Token, TopicArn and Type.
pub fn string_to_sign(envelope: &SnsEnvelope) -> Result<String, FeedbackError> {
    let kind: SnsMessageType = envelope.message_type.parse()?;
    let e = envelope;
    let pairs: Vec<(&str, &str)> = match kind {
        SnsMessageType::Notification => {
            let mut pairs = vec![
                ("Message", e.message.as_str()),
                ("MessageId", &e.message_id),
            ];
            if let Some(subject) = &e.subject {
                pairs.push(("Subject", subject));
            }
            pairs.extend([
                ("Timestamp", e.timestamp.as_str()),
                ("TopicArn", &e.topic_arn),
                ("Type", &e.message_type),
            ]);
            pairs
        }
        SnsMessageType::SubscriptionConfirmation | SnsMessageType::UnsubscribeConfirmation => {
            let missing =
                |field: &str| FeedbackError::MalformedEnvelope(format!("{field} is missing"));
            vec![
                ("Message", e.message.as_str()),
                ("MessageId", &e.message_id),
                (
                    "SubscribeURL",
                    e.subscribe_url
                        .as_deref()
                        .ok_or_else(|| missing("SubscribeURL"))?,
                ),
                ("Timestamp", &e.timestamp),
                ("Token", e.token.as_deref().ok_or_else(|| missing("Token"))?),
                ("TopicArn", &e.topic_arn),
                ("Type", &e.message_type),
            ]
        }
    };
    Ok(pairs
        .into_iter()
        .map(|(key, value)| format!("{key}\n{value}\n"))
        .collect())
}

/// Checks that a SigningCertURL points at an SNS signing certificate:
/// `https://sns.<region>.amazonaws.com[.cn]/….pem`, without user info, port,
/// query or fragment.
pub fn trusted_certificate_url(raw: &str) -> Result<Url, FeedbackError> {
    let untrusted = || FeedbackError::UntrustedCertificateUrl(raw.to_owned());
    let url = Url::parse(raw).map_err(|_| untrusted())?;
    let trusted = is_sns_endpoint(&url)
        && url.path().ends_with(".pem")
        && url.query().is_none()
        && url.fragment().is_none();
    if trusted { Ok(url) } else { Err(untrusted()) }
}

/// `https` on an SNS regional host, with the default port and no user info.
fn is_sns_endpoint(url: &Url) -> bool {
    url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && matches!(url.host(), Some(Host::Domain(host)) if is_sns_host(host))
}

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, where a
/// region is lowercase letters, digits and dashes, from a letter to a digit
/// (`eu-central-1`, `us-gov-west-1`).
fn is_sns_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        ["sns", region, "amazonaws", "com"] | ["sns", region, "amazonaws", "com", "cn"] => region,
        _ => return false,
    };
    region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.ends_with(|c: char| c.is_ascii_digit())
}

/// Where the verifier gets the PEM certificate a SigningCertURL names. The
/// URL has been checked with [`trusted_certificate_url`] before it is asked.
#[async_trait]
pub trait CertificateSource: Send + Sync {
    async fn certificate(&self, url: &Url) -> Result<Vec<u8>, FeedbackError>;
}

/// Fixed certificates by URL: for tests and local runs.
#[derive(Debug, Clone, Default)]
pub struct StaticCertificateSource {
    certificates: HashMap<Url, Vec<u8>>,
}

impl StaticCertificateSource {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, url: Url, pem: impl Into<Vec<u8>>) -> Self {
        self.certificates.insert(url, pem.into());
        self
    }
}

#[async_trait]
impl CertificateSource for StaticCertificateSource {
    async fn certificate(&self, url: &Url) -> Result<Vec<u8>, FeedbackError> {
        self.certificates.get(url).cloned().ok_or_else(|| {
            FeedbackError::CertificateUnavailable(format!("no certificate at {url}"))
        })
    }
}

/// Fetches certificates over HTTPS (no redirects) and keeps them by URL for
/// the life of the process; SNS rotates them rarely.
#[derive(Debug)]
pub struct HttpsCertificateSource {
    client: reqwest::Client,
    cache: Mutex<HashMap<Url, Vec<u8>>>,
}

impl HttpsCertificateSource {
    const TIMEOUT: Duration = Duration::from_secs(5);
    const MAX_BYTES: usize = 64 * 1024;
    const MAX_CACHED: usize = 32;

    pub fn new() -> Result<Self, FeedbackError> {
        let client = crate::adapters::fetch::client(Self::TIMEOUT, true)
            .map_err(|e| FeedbackError::CertificateUnavailable(e.to_string()))?;
        Ok(Self {
            client,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, url: &Url) -> Option<Vec<u8>> {
        self.cache.lock().ok()?.get(url).cloned()
    }

    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, FeedbackError> {
        let unavailable = |e: String| FeedbackError::CertificateUnavailable(format!("{url}: {e}"));
        let body = crate::adapters::fetch::get_limited(
            &self.client,
            url,
            "application/x-pem-file, */*",
            Self::MAX_BYTES,
        )
        .await
        .map_err(|e| unavailable(e.to_string()))?;
        Ok(body)
    }
}

#[async_trait]
impl CertificateSource for HttpsCertificateSource {
    async fn certificate(&self, url: &Url) -> Result<Vec<u8>, FeedbackError> {
        if let Some(pem) = self.cached(url) {
            return Ok(pem);
        }
        let pem = self.fetch(url).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= Self::MAX_CACHED {
                cache.clear();
            }
            cache.insert(url.clone(), pem.clone());
        }
        Ok(pem)
    }
}

/// An SNS message whose signature, certificate URL and topic were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSnsMessage {
    kind: SnsMessageType,
    subscribe_url: Option<Url>,
    envelope: SnsEnvelope,
}

impl VerifiedSnsMessage {
    pub fn kind(&self) -> SnsMessageType {
        self.kind
    }

    /// The payload: for a notification from SES, the event JSON.
    pub fn message(&self) -> &str {
        &self.envelope.message
    }

    pub fn topic_arn(&self) -> &str {
        &self.envelope.topic_arn
    }

    /// For confirmations: the SNS URL to visit to confirm the subscription
    /// (checked to be `https` on an SNS host).
    pub fn subscribe_url(&self) -> Option<&Url> {
        self.subscribe_url.as_ref()
    }

    pub fn envelope(&self) -> &SnsEnvelope {
        &self.envelope
    }

    pub fn into_envelope(self) -> SnsEnvelope {
        self.envelope
    }
}

/// Verifies SNS messages: signature version 1 (SHA1withRSA) or 2
/// (SHA256withRSA), a trusted SigningCertURL, a topic on the allow-list
/// (an empty list allows none), and the signature over the documented string.
pub struct SnsVerifier {
    certificates: Arc<dyn CertificateSource>,
    allowed_topics: BTreeSet<String>,
}

impl SnsVerifier {
    pub fn new<I, S>(certificates: Arc<dyn CertificateSource>, allowed_topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            certificates,
            allowed_topics: allowed_topics.into_iter().map(Into::into).collect(),
        }
    }

    /// Checks everything that needs no certificate first, so forged requests
    /// cost no fetch.
    pub async fn verify(&self, envelope: SnsEnvelope) -> Result<VerifiedSnsMessage, FeedbackError> {
        let algorithm = match envelope.signature_version.as_str() {
            "1" => &SHA1_WITH_RSA,
            "2" => &SHA256_WITH_RSA,
            other => return Err(FeedbackError::UnsupportedSignatureVersion(other.to_owned())),
        };
        let cert_url = trusted_certificate_url(&envelope.signing_cert_url)?;
        if !self.allowed_topics.contains(&envelope.topic_arn) {
            return Err(FeedbackError::TopicNotAllowed(envelope.topic_arn));
        }
        let kind: SnsMessageType = envelope.message_type.parse()?;
        let signed = string_to_sign(&envelope)?;
        let subscribe_url = match (kind, envelope.subscribe_url.as_deref()) {
            (SnsMessageType::Notification, _) | (_, None) => None,
            (_, Some(raw)) => Some(
                Url::parse(raw)
                    .ok()
                    .filter(is_sns_endpoint)
                    .ok_or_else(|| FeedbackError::UntrustedSubscribeUrl(raw.to_owned()))?,
            ),
        };
        let signature = STANDARD
            .decode(envelope.signature.trim())
            .map_err(|_| FeedbackError::MalformedSignature)?;
        let pem = self.certificates.certificate(&cert_url).await?;
        verify_with_certificate(&pem, algorithm, signed.as_bytes(), &signature)?;
        Ok(VerifiedSnsMessage {
            kind,
            subscribe_url,
            envelope,
        })
    }
}

fn verify_with_certificate(
    pem: &[u8],
    algorithm: &RsaPkcs1,
    message: &[u8],
    signature: &[u8],
) -> Result<(), FeedbackError> {
    let invalid = |e: String| FeedbackError::InvalidCertificate(e);
    let der = CertificateDer::from_pem_slice(pem).map_err(|e| invalid(e.to_string()))?;
    let certificate = webpki::EndEntityCert::try_from(&der).map_err(|e| invalid(e.to_string()))?;
    certificate
        .verify_signature(algorithm, message, signature)
        .map_err(|e| match e {
            webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                invalid("the key is not an RSA key".to_owned())
            }
            _ => FeedbackError::SignatureMismatch,
        })
}

/// RSA PKCS#1 v1.5 with aws-lc-rs, shaped for webpki, which finds the
/// public key in the certificate and hands it over.
#[derive(Debug)]
struct RsaPkcs1 {
    signature_alg_id: AlgorithmIdentifier,
    parameters: &'static RsaParameters,
}

/// `sha1WithRSAEncryption` (1.2.840.113549.1.1.5) with NULL parameters, the
/// contents of the DER `AlgorithmIdentifier` as pki-types spells them.
const SHA1_WITH_RSA_ID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
];

static SHA1_WITH_RSA: RsaPkcs1 = RsaPkcs1 {
    signature_alg_id: AlgorithmIdentifier::from_slice(SHA1_WITH_RSA_ID),
    parameters: &lc::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
};

static SHA256_WITH_RSA: RsaPkcs1 = RsaPkcs1 {
    signature_alg_id: alg_id::RSA_PKCS1_SHA256,
    parameters: &lc::RSA_PKCS1_2048_8192_SHA256,
};

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(self.parameters, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::sns::SnsEvent;

    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-central-1:111122223333:emma-ses-events";
    const CERT_URL: &str = "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-00000000000000000000000000000000.pem";
    const CERT: &str = include_str!("testdata/signing-cert.pem");

    fn fixture(name: &str) -> SnsEnvelope {
        let body = match name {
            "notification-v1" => include_str!("testdata/notification-v1.json"),
            "notification-v2" => include_str!("testdata/notification-v2.json"),
            "notification-v2-no-subject" => {
                include_str!("testdata/notification-v2-no-subject.json")
            }
            "subscription-confirmation-v2" => {
                include_str!("testdata/subscription-confirmation-v2.json")
            }
            other => panic!("no fixture {other}"),
        };
        SnsEnvelope::from_json(body).expect("fixture parses")
    }

    fn verifier_for(topics: &[&str]) -> SnsVerifier {
        let source =
            StaticCertificateSource::new().with(Url::parse(CERT_URL).unwrap(), CERT.as_bytes());
        SnsVerifier::new(Arc::new(source), topics.iter().copied())
    }

    async fn verify(envelope: SnsEnvelope) -> Result<VerifiedSnsMessage, FeedbackError> {
        verifier_for(&[TOPIC]).verify(envelope).await
    }

    #[tokio::test]
    async fn a_notification_signed_with_sha1_version_1_passes() {
        let verified = verify(fixture("notification-v1")).await.unwrap();
        assert_eq!(verified.kind(), SnsMessageType::Notification);
        assert!(verified.message().starts_with(r#"{"eventType":"Bounce""#));
        assert_eq!(verified.topic_arn(), TOPIC);
    }

    #[tokio::test]
    async fn a_notification_signed_with_sha256_version_2_passes() {
        let verified = verify(fixture("notification-v2")).await.unwrap();
        assert_eq!(verified.kind(), SnsMessageType::Notification);
    }

    #[tokio::test]
    async fn a_notification_without_subject_leaves_it_out_of_the_signed_string() {
        let envelope = fixture("notification-v2-no-subject");
        assert!(!string_to_sign(&envelope).unwrap().contains("\nSubject\n"));
        verify(envelope).await.unwrap();
    }

    #[tokio::test]
    async fn a_subscription_confirmation_passes_and_yields_its_subscribe_url() {
        let verified = verify(fixture("subscription-confirmation-v2"))
            .await
            .unwrap();
        assert_eq!(verified.kind(), SnsMessageType::SubscriptionConfirmation);
        let url = verified.subscribe_url().unwrap();
        assert_eq!(url.host_str(), Some("sns.eu-central-1.amazonaws.com"));
        assert!(verified.message().contains(".\nTo confirm"));
    }

    #[tokio::test]
    async fn a_lambda_sns_record_verifies_with_its_timestamp_rebuilt() {
        let event: SnsEvent =
            serde_json::from_str(include_str!("testdata/lambda-event-v1.json")).unwrap();
        let record = event.records.into_iter().next().unwrap().sns;
        let envelope = SnsEnvelope::from(record);
        assert_eq!(envelope.timestamp, "2026-03-02T10:16:00.789Z");
        assert_eq!(envelope.subject, None);
        verify(envelope).await.unwrap();
    }

    #[test]
    fn the_signed_string_of_a_notification_follows_the_documented_order() {
        let envelope = SnsEnvelope {
            message_type: "Notification".into(),
            message_id: "id".into(),
            topic_arn: "topic".into(),
            subject: Some("subject".into()),
            message: "line 1\nline 2".into(),
            timestamp: "2026-03-02T10:15:30.123Z".into(),
            token: Some("ignored".into()),
            subscribe_url: Some("ignored".into()),
            signature_version: "2".into(),
            signature: String::new(),
            signing_cert_url: CERT_URL.into(),
        };
        assert_eq!(
            string_to_sign(&envelope).unwrap(),
            "Message\nline 1\nline 2\nMessageId\nid\nSubject\nsubject\n\
             Timestamp\n2026-03-02T10:15:30.123Z\nTopicArn\ntopic\nType\nNotification\n"
        );
    }

    #[test]
    fn the_signed_string_of_a_confirmation_follows_the_documented_order() {
        let envelope = SnsEnvelope {
            message_type: "UnsubscribeConfirmation".into(),
            subject: Some("not signed".into()),
            token: Some("token".into()),
            subscribe_url: Some("https://sns.eu-central-1.amazonaws.com/?x".into()),
            ..fixture("notification-v2")
        };
        let signed = string_to_sign(&envelope).unwrap();
        let keys: Vec<&str> = signed.lines().step_by(2).collect();
        assert_eq!(
            keys,
            [
                "Message",
                "MessageId",
                "SubscribeURL",
                "Timestamp",
                "Token",
                "TopicArn",
                "Type"
            ]
        );
    }

    #[tokio::test]
    async fn a_changed_message_is_refused() {
        let mut envelope = fixture("notification-v1");
        envelope.message = envelope.message.replace("Permanent", "Transient");
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_changed_subject_is_refused() {
        let mut envelope = fixture("notification-v2");
        envelope.subject = Some("Something else".into());
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_dropped_subject_is_refused() {
        let mut envelope = fixture("notification-v1");
        envelope.subject = None;
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_topic_outside_the_allow_list_is_refused() {
        let verifier = verifier_for(&["arn:aws:sns:eu-central-1:111122223333:other-topic"]);
        assert_eq!(
            verifier
                .verify(fixture("notification-v1"))
                .await
                .unwrap_err(),
            FeedbackError::TopicNotAllowed(TOPIC.to_owned())
        );
    }

    #[tokio::test]
    async fn an_empty_allow_list_refuses_every_topic() {
        let verifier = verifier_for(&[]);
        assert!(matches!(
            verifier.verify(fixture("notification-v2")).await,
            Err(FeedbackError::TopicNotAllowed(_))
        ));
    }

    #[tokio::test]
    async fn a_topic_changed_to_an_allowed_one_is_refused_by_the_signature() {
        let other = "arn:aws:sns:eu-central-1:111122223333:other-topic";
        let mut envelope = fixture("notification-v1");
        envelope.topic_arn = other.to_owned();
        let verifier = verifier_for(&[TOPIC, other]);
        assert_eq!(
            verifier.verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_certificate_url_over_http_is_refused() {
        let mut envelope = fixture("notification-v1");
        envelope.signing_cert_url = CERT_URL.replacen("https", "http", 1);
        assert!(matches!(
            verify(envelope).await,
            Err(FeedbackError::UntrustedCertificateUrl(_))
        ));
    }

    #[tokio::test]
    async fn a_certificate_url_on_another_host_is_refused() {
        let mut envelope = fixture("notification-v1");
        envelope.signing_cert_url = CERT_URL.replace(
            "sns.eu-central-1.amazonaws.com",
            "sns.eu-central-1.amazonaws.com.evil.example",
        );
        assert!(matches!(
            verify(envelope).await,
            Err(FeedbackError::UntrustedCertificateUrl(_))
        ));
    }

    #[test]
    fn only_sns_certificate_urls_are_trusted() {
        let trusted = [
            CERT_URL,
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
            "https://SNS.EU-CENTRAL-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
        ];
        for url in trusted {
            assert!(trusted_certificate_url(url).is_ok(), "{url}");
        }
        let untrusted = [
            "http://sns.eu-central-1.amazonaws.com/cert.pem",
            "https://sns.eu-central-1.amazonaws.com.evil.example/cert.pem",
            "https://evil.example/sns.eu-central-1.amazonaws.com/cert.pem",
            "https://sns.eu-central-1.amazonaws.com@evil.example/cert.pem",
            "https://user@sns.eu-central-1.amazonaws.com/cert.pem",
            "https://user:pw@sns.eu-central-1.amazonaws.com/cert.pem",
            "https://sns.eu-central-1.amazonaws.com:8443/cert.pem",
            "https://sns.eu-central-1.amazonaws.com./cert.pem",
            "https://sqs.eu-central-1.amazonaws.com/cert.pem",
            "https://sns.amazonaws.com/cert.pem",
            "https://sns.evil.amazonaws.com/cert.pem",
            "https://sns.eu-central-1.amazonaws.com/cert.txt",
            "https://sns.eu-central-1.amazonaws.com/cert.pem?x=.pem",
            "https://sns.eu-central-1.amazonaws.com/cert.pem#.pem",
            "https://52.94.0.1/cert.pem",
            "not a url",
        ];
        for url in untrusted {
            assert_eq!(
                trusted_certificate_url(url),
                Err(FeedbackError::UntrustedCertificateUrl(url.to_owned())),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn signature_version_3_is_refused() {
        let mut envelope = fixture("notification-v2");
        envelope.signature_version = "3".into();
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::UnsupportedSignatureVersion("3".into())
        );
    }

    #[tokio::test]
    async fn a_version_1_signature_claimed_as_version_2_is_refused() {
        let mut envelope = fixture("notification-v1");
        envelope.signature_version = "2".into();
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_garbage_signature_is_refused() {
        let mut envelope = fixture("notification-v2");
        envelope.signature = STANDARD.encode([0x5a; 256]);
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::SignatureMismatch
        );
    }

    #[tokio::test]
    async fn a_signature_that_is_not_base64_is_refused() {
        let mut envelope = fixture("notification-v2");
        envelope.signature = "not base64 at all!".into();
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::MalformedSignature
        );
    }

    #[tokio::test]
    async fn an_unknown_message_type_is_refused() {
        let mut envelope = fixture("notification-v2");
        envelope.message_type = "Telegram".into();
        assert_eq!(
            verify(envelope).await.unwrap_err(),
            FeedbackError::UnsupportedMessageType("Telegram".into())
        );
    }

    #[tokio::test]
    async fn a_confirmation_without_a_token_is_refused() {
        let mut envelope = fixture("subscription-confirmation-v2");
        envelope.token = None;
        assert!(matches!(
            verify(envelope).await,
            Err(FeedbackError::MalformedEnvelope(_))
        ));
    }

    #[tokio::test]
    async fn a_certificate_that_is_not_pem_is_refused() {
        let source = StaticCertificateSource::new().with(
            Url::parse(CERT_URL).unwrap(),
            b"not a certificate".as_slice(),
        );
        let verifier = SnsVerifier::new(Arc::new(source), [TOPIC]);
        assert!(matches!(
            verifier.verify(fixture("notification-v1")).await,
            Err(FeedbackError::InvalidCertificate(_))
        ));
    }

    #[tokio::test]
    async fn a_certificate_the_source_does_not_have_is_unavailable() {
        let verifier = SnsVerifier::new(Arc::new(StaticCertificateSource::new()), [TOPIC]);
        assert!(matches!(
            verifier.verify(fixture("notification-v1")).await,
            Err(FeedbackError::CertificateUnavailable(_))
        ));
    }

    #[test]
    fn a_body_that_is_not_an_sns_message_is_malformed() {
        assert!(matches!(
            SnsEnvelope::from_json(r#"{"Type":"Notification"}"#),
            Err(FeedbackError::MalformedEnvelope(_))
        ));
    }

    #[tokio::test]
    async fn the_https_source_refuses_plain_http() {
        let source = HttpsCertificateSource::new().unwrap();
        let url = Url::parse("http://127.0.0.1:9/cert.pem").unwrap();
        assert!(matches!(
            source.certificate(&url).await,
            Err(FeedbackError::CertificateUnavailable(_))
        ));
    }
}
