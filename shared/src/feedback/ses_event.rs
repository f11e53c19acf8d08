//! SES sending events as SES publishes them to SNS (the notification's
//! Message): event publishing (`eventType`) through a configuration set, and
//! the older identity notifications (`notificationType`). Unknown fields are
//! ignored; only what EMMA acts on is kept.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::FeedbackError;

/// What happened to a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SesEventKind {
    Send,
    Reject,
    Bounce,
    Complaint,
    Delivery,
    DeliveryDelay,
    Open,
    Click,
    RenderingFailure,
    Subscription,
    /// An event type this code does not know yet, as SES named it.
    Other(String),
}

impl SesEventKind {
    fn from_name(name: &str) -> Self {
        match name {
            "Send" => Self::Send,
            "Reject" => Self::Reject,
            "Bounce" => Self::Bounce,
            "Complaint" => Self::Complaint,
            "Delivery" => Self::Delivery,
            "DeliveryDelay" => Self::DeliveryDelay,
            "Open" => Self::Open,
            "Click" => Self::Click,
            "Rendering Failure" => Self::RenderingFailure,
            "Subscription" => Self::Subscription,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for SesEventKind {
    /// The name SES uses, e.g. "Bounce" or "Rendering Failure".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Send => "Send",
            Self::Reject => "Reject",
            Self::Bounce => "Bounce",
            Self::Complaint => "Complaint",
            Self::Delivery => "Delivery",
            Self::DeliveryDelay => "DeliveryDelay",
            Self::Open => "Open",
            Self::Click => "Click",
            Self::RenderingFailure => "Rendering Failure",
            Self::Subscription => "Subscription",
            Self::Other(name) => name,
        })
    }
}

/// SES's `bounceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum BounceType {
    /// Hard: the address should not be mailed again.
    Permanent,
    /// Soft: mailbox full, message too large, a temporary failure.
    Transient,
    /// SES could not tell (also any value it may add later).
    #[serde(other)]
    Undetermined,
}

/// One SES event, reduced to what EMMA stores and acts on.
#[derive(Clone, PartialEq, Eq)]
pub struct SesEvent {
    pub kind: SesEventKind,
    /// SES's message id, as the send call returned it.
    pub message_id: String,
    /// When the event happened: the event's own time where SES gives one,
    /// else when SES accepted the message.
    pub timestamp: DateTime<Utc>,
    /// When SES accepted the message.
    pub sent_at: DateTime<Utc>,
    /// The message tags (`tenant`, `campaign`, … and SES's own `ses:*`).
    pub tags: BTreeMap<String, Vec<String>>,
    /// The affected addresses: the bounced, complained-about, delivered or
    /// delayed ones; for other events every destination of the message.
    /// Personal data: never log these.
    pub recipients: Vec<String>,
    pub bounce_type: Option<BounceType>,
    /// SES's `bounceSubType` (`General`, `NoEmail`, `Suppressed`,
    /// `MailboxFull`, …).
    pub bounce_sub_type: Option<String>,
    /// The link a Click event is about.
    pub link: Option<String>,
}

impl SesEvent {
    /// Parses the JSON SES published (the SNS notification's Message).
    pub fn parse(json: &str) -> Result<Self, FeedbackError> {
        let raw: RawEvent =
            serde_json::from_str(json).map_err(|e| FeedbackError::MalformedEvent(e.to_string()))?;
        let name = raw
            .event_type
            .or(raw.notification_type)
            .ok_or(FeedbackError::MissingEventType)?;
        let kind = SesEventKind::from_name(&name);
        let mail = raw.mail.ok_or_else(|| missing("mail"))?;

        let mut event = Self {
            kind,
            message_id: mail.message_id,
            timestamp: mail.timestamp,
            sent_at: mail.timestamp,
            tags: mail.tags,
            recipients: mail.destination,
            bounce_type: None,
            bounce_sub_type: None,
            link: None,
        };
        match &event.kind {
            SesEventKind::Bounce => {
                let bounce = raw.bounce.ok_or_else(|| missing("bounce"))?;
                event.recipients = addresses(bounce.bounced_recipients);
                event.bounce_type = Some(bounce.bounce_type);
                event.bounce_sub_type = bounce.bounce_sub_type;
                event.timestamp = bounce.timestamp.unwrap_or(event.timestamp);
            }
            SesEventKind::Complaint => {
                let complaint = raw.complaint.ok_or_else(|| missing("complaint"))?;
                event.recipients = addresses(complaint.complained_recipients);
                event.timestamp = complaint.timestamp.unwrap_or(event.timestamp);
            }
            SesEventKind::Delivery => {
                let delivery = raw.delivery.ok_or_else(|| missing("delivery"))?;
                event.recipients = delivery.recipients;
                event.timestamp = delivery.timestamp.unwrap_or(event.timestamp);
            }
            SesEventKind::DeliveryDelay => {
                let delay = raw.delivery_delay.ok_or_else(|| missing("deliveryDelay"))?;
                event.recipients = addresses(delay.delayed_recipients);
                event.timestamp = delay.timestamp.unwrap_or(event.timestamp);
            }
            SesEventKind::Click => {
                let click = raw.click.ok_or_else(|| missing("click"))?;
                event.link = Some(click.link);
                event.timestamp = click.timestamp.unwrap_or(event.timestamp);
            }
            SesEventKind::Open => {
                event.timestamp = raw
                    .open
                    .and_then(|o| o.timestamp)
                    .unwrap_or(event.timestamp);
            }
            SesEventKind::Subscription => {
                event.timestamp = raw
                    .subscription
                    .and_then(|s| s.timestamp)
                    .unwrap_or(event.timestamp);
            }
            SesEventKind::Send
            | SesEventKind::Reject
            | SesEventKind::RenderingFailure
            | SesEventKind::Other(_) => {}
        }
        Ok(event)
    }

    /// A permanent bounce: the address does not take mail.
    pub fn is_hard_bounce(&self) -> bool {
        self.kind == SesEventKind::Bounce && self.bounce_type == Some(BounceType::Permanent)
    }

    /// Whether the recipients belong on the tenant's suppression list: after
    /// a permanent bounce or a complaint.
    pub fn should_suppress(&self) -> bool {
        self.is_hard_bounce() || self.kind == SesEventKind::Complaint
    }

    /// The first value of the `tenant` tag EMMA sends every message with.
    pub fn tenant_tag(&self) -> Option<&str> {
        self.tags.get("tenant")?.first().map(String::as_str)
    }
}

impl fmt::Debug for SesEvent {
    /// Recipients are counted, never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SesEvent")
            .field("kind", &self.kind)
            .field("message_id", &self.message_id)
            .field("timestamp", &self.timestamp)
            .field("sent_at", &self.sent_at)
            .field("tags", &self.tags)
            .field("recipients", &format_args!("<{}>", self.recipients.len()))
            .field("bounce_type", &self.bounce_type)
            .field("bounce_sub_type", &self.bounce_sub_type)
            .field("link", &self.link)
            .finish()
    }
}

fn missing(field: &str) -> FeedbackError {
    FeedbackError::MalformedEvent(format!("{field} is missing"))
}

fn addresses(recipients: Vec<RawRecipient>) -> Vec<String> {
    recipients.into_iter().map(|r| r.email_address).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    event_type: Option<String>,
    notification_type: Option<String>,
    mail: Option<RawMail>,
    bounce: Option<RawBounce>,
    complaint: Option<RawComplaint>,
    delivery: Option<RawDelivery>,
    delivery_delay: Option<RawDelay>,
    open: Option<RawTimed>,
    click: Option<RawClick>,
    subscription: Option<RawTimed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMail {
    message_id: String,
    timestamp: DateTime<Utc>,
    #[serde(default)]
    destination: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecipient {
    email_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBounce {
    bounce_type: BounceType,
    bounce_sub_type: Option<String>,
    #[serde(default)]
    bounced_recipients: Vec<RawRecipient>,
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawComplaint {
    #[serde(default)]
    complained_recipients: Vec<RawRecipient>,
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDelivery {
    #[serde(default)]
    recipients: Vec<String>,
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDelay {
    #[serde(default)]
    delayed_recipients: Vec<RawRecipient>,
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RawClick {
    link: String,
    timestamp: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RawTimed {
    timestamp: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE_ID: &str = "0107018e1f2a3b4c-5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f-000000";
    const ERIKA: &str = "erika.mustermann@kunde.example";

    fn parse(json: &str) -> SesEvent {
        SesEvent::parse(json).expect("sample parses")
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    #[test]
    fn a_permanent_bounce_is_hard_and_suppresses_the_bounced_address() {
        let event = parse(include_str!("testdata/ses-bounce.json"));
        assert_eq!(event.kind, SesEventKind::Bounce);
        assert_eq!(event.message_id, MESSAGE_ID);
        assert_eq!(event.bounce_type, Some(BounceType::Permanent));
        assert_eq!(event.bounce_sub_type.as_deref(), Some("General"));
        assert_eq!(event.recipients, [ERIKA]);
        assert_eq!(event.timestamp, at("2026-03-02T10:15:29.870Z"));
        assert_eq!(event.sent_at, at("2026-03-02T10:14:58.301Z"));
        assert!(event.is_hard_bounce());
        assert!(event.should_suppress());
    }

    #[test]
    fn the_tenant_tag_and_the_other_tags_are_kept() {
        let event = parse(include_str!("testdata/ses-bounce.json"));
        assert_eq!(event.tenant_tag(), Some("sk-musterstadt"));
        assert_eq!(
            event.tags["campaign"],
            ["0195f3a2-7b4c-7d1e-9f20-3a4b5c6d7e8f"]
        );
        assert_eq!(event.tags["ses:configuration-set"], ["emma-events"]);
    }

    #[test]
    fn a_complaint_suppresses_the_complaining_address() {
        let event = parse(include_str!("testdata/ses-complaint.json"));
        assert_eq!(event.kind, SesEventKind::Complaint);
        assert_eq!(event.recipients, [ERIKA]);
        assert_eq!(event.timestamp, at("2026-03-02T18:40:11Z"));
        assert!(!event.is_hard_bounce());
        assert!(event.should_suppress());
    }

    #[test]
    fn a_delivery_names_the_delivered_recipients_and_suppresses_nobody() {
        let event = parse(include_str!("testdata/ses-delivery.json"));
        assert_eq!(event.kind, SesEventKind::Delivery);
        assert_eq!(event.recipients, [ERIKA]);
        assert_eq!(event.timestamp, at("2026-03-02T10:15:01.552Z"));
        assert!(!event.should_suppress());
    }

    #[test]
    fn a_send_names_every_destination_at_the_time_ses_accepted_it() {
        let event = parse(include_str!("testdata/ses-send.json"));
        assert_eq!(event.kind, SesEventKind::Send);
        assert_eq!(event.recipients, [ERIKA, "max.mustermann@kunde.example"]);
        assert_eq!(event.timestamp, event.sent_at);
    }

    #[test]
    fn a_reject_is_read_and_suppresses_nobody() {
        let event = parse(include_str!("testdata/ses-reject.json"));
        assert_eq!(event.kind, SesEventKind::Reject);
        assert_eq!(event.recipients, [ERIKA]);
        assert!(!event.should_suppress());
    }

    #[test]
    fn an_open_carries_the_time_of_the_open() {
        let event = parse(include_str!("testdata/ses-open.json"));
        assert_eq!(event.kind, SesEventKind::Open);
        assert_eq!(event.timestamp, at("2026-03-02T11:02:45.117Z"));
        assert_eq!(event.tenant_tag(), Some("sk-musterstadt"));
    }

    #[test]
    fn a_click_carries_the_link() {
        let event = parse(include_str!("testdata/ses-click.json"));
        assert_eq!(event.kind, SesEventKind::Click);
        assert_eq!(
            event.link.as_deref(),
            Some("https://www.sk-musterstadt.example/baufinanzierung?utm_source=newsletter")
        );
        assert_eq!(event.timestamp, at("2026-03-02T11:03:12.905Z"));
    }

    #[test]
    fn a_rendering_failure_is_recognised_by_its_spaced_name() {
        let event = parse(include_str!("testdata/ses-rendering-failure.json"));
        assert_eq!(event.kind, SesEventKind::RenderingFailure);
    }

    #[test]
    fn a_delivery_delay_names_the_delayed_recipients() {
        let event = parse(include_str!("testdata/ses-delivery-delay.json"));
        assert_eq!(event.kind, SesEventKind::DeliveryDelay);
        assert_eq!(event.recipients, [ERIKA]);
        assert_eq!(event.timestamp, at("2026-03-02T10:45:02Z"));
        assert!(!event.should_suppress());
    }

    #[test]
    fn a_subscription_event_is_read() {
        let event = parse(include_str!("testdata/ses-subscription.json"));
        assert_eq!(event.kind, SesEventKind::Subscription);
        assert_eq!(event.timestamp, at("2026-03-02T12:00:00Z"));
    }

    #[test]
    fn an_identity_notification_is_read_through_its_notification_type() {
        let event = parse(include_str!("testdata/ses-identity-bounce.json"));
        assert_eq!(event.kind, SesEventKind::Bounce);
        assert_eq!(event.bounce_type, Some(BounceType::Transient));
        assert_eq!(event.bounce_sub_type.as_deref(), Some("MailboxFull"));
        assert_eq!(event.recipients, ["max.mustermann@kunde.example"]);
        assert_eq!(event.tenant_tag(), None);
        assert!(!event.is_hard_bounce());
        assert!(!event.should_suppress());
    }

    #[test]
    fn the_notification_inside_a_signed_sns_fixture_parses() {
        let envelope: serde_json::Value =
            serde_json::from_str(include_str!("testdata/notification-v1.json")).unwrap();
        let event = parse(envelope["Message"].as_str().unwrap());
        assert!(event.should_suppress());
    }

    #[test]
    fn an_undetermined_or_unknown_bounce_type_is_not_hard() {
        for bounce_type in ["Undetermined", "SomethingNew"] {
            let json = include_str!("testdata/ses-bounce.json").replace(
                r#""bounceType": "Permanent""#,
                &format!(r#""bounceType": "{bounce_type}""#),
            );
            let event = parse(&json);
            assert_eq!(event.bounce_type, Some(BounceType::Undetermined));
            assert!(!event.should_suppress());
        }
    }

    #[test]
    fn an_unknown_event_type_is_kept_by_name() {
        let json = include_str!("testdata/ses-send.json")
            .replace(r#""eventType": "Send""#, r#""eventType": "Teleport""#);
        assert_eq!(parse(&json).kind, SesEventKind::Other("Teleport".into()));
    }

    #[test]
    fn a_notification_without_an_event_type_is_refused() {
        let json = include_str!("testdata/ses-send.json").replace(r#""eventType": "Send","#, "");
        assert_eq!(SesEvent::parse(&json), Err(FeedbackError::MissingEventType));
    }

    #[test]
    fn a_bounce_without_its_bounce_object_is_refused() {
        let json =
            r#"{"eventType":"Bounce","mail":{"messageId":"m","timestamp":"2026-03-02T10:14:58Z"}}"#;
        assert_eq!(
            SesEvent::parse(json),
            Err(FeedbackError::MalformedEvent("bounce is missing".into()))
        );
    }

    #[test]
    fn text_that_is_not_json_is_refused() {
        assert!(matches!(
            SesEvent::parse("Hello from SNS"),
            Err(FeedbackError::MalformedEvent(_))
        ));
    }

    #[test]
    fn debug_output_hides_the_recipients() {
        let event = parse(include_str!("testdata/ses-bounce.json"));
        let shown = format!("{event:?}");
        assert!(!shown.contains(ERIKA));
        assert!(shown.contains("recipients: <1>"));
    }
}
