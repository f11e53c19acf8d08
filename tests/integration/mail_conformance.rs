//! The mail port's conformance suite: the same cases run against the local
//! outbox (a temp folder) and SESv2 on the emulator, whose accepted raw
//! messages are read back from the emulator (`emma_tests::sent::emulator_ses_messages`).

use std::sync::Arc;

use emma::adapters::outbox::OutboxMailer;
use emma::adapters::ses::SesMailer;
use emma::domain::{EmailAddress, TenantId};
use emma::ports::mail::valid_tag_part;
use emma::ports::{MailError, Mailer, OutgoingMail};

/// A message the mail service accepted, as it holds it.
struct Accepted {
    raw: Vec<u8>,
    from: String,
    recipients: Vec<String>,
}

/// Where a mailer's accepted messages can be read back.
enum Sent {
    Outbox {
        outbox: Arc<OutboxMailer>,
        _dir: tempfile::TempDir,
    },
    Moto,
}

impl Sent {
    /// Every message accepted for the tenant (moto: for anyone).
    async fn all(&self, tenant: &TenantId) -> Vec<(String, Accepted)> {
        match self {
            Sent::Outbox { outbox, .. } => outbox
                .sent(tenant)
                .await
                .expect("the outbox reads back")
                .into_iter()
                .map(|entry| {
                    let accepted = Accepted {
                        raw: entry.raw,
                        from: entry.from.as_str().to_owned(),
                        recipients: entry
                            .recipients
                            .iter()
                            .map(|r| r.as_str().to_owned())
                            .collect(),
                    };
                    (entry.provider_message_id, accepted)
                })
                .collect(),
            Sent::Moto => {
                let data = emma_tests::sent::emulator_ses_messages().await;
                let messages = data["ses"]["RawMessage"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                messages
                    .iter()
                    .map(|m| {
                        let text =
                            |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
                        let accepted = Accepted {
                            raw: text(&m["raw_data"]).into_bytes(),
                            from: text(&m["source"]),
                            recipients: m["destinations"]
                                .as_array()
                                .map(|d| d.iter().map(text).collect())
                                .unwrap_or_default(),
                        };
                        (text(&m["id"]), accepted)
                    })
                    .collect()
            }
        }
    }

    async fn by_id(&self, tenant: &TenantId, provider_message_id: &str) -> Accepted {
        self.all(tenant)
            .await
            .into_iter()
            .find(|(id, _)| id == provider_message_id)
            .map(|(_, accepted)| accepted)
            .expect("the accepted message is held under its id")
    }

    async fn any_containing(&self, tenant: &TenantId, marker: &str) -> bool {
        self.all(tenant)
            .await
            .iter()
            .any(|(_, m)| String::from_utf8_lossy(&m.raw).contains(marker))
    }
}

struct Fixture {
    mailer: Arc<dyn Mailer>,
    sent: Sent,
}

async fn local() -> Fixture {
    let dir = tempfile::tempdir().expect("a temp folder");
    let outbox = Arc::new(OutboxMailer::new(dir.path().join("outbox")));
    Fixture {
        mailer: outbox.clone(),
        sent: Sent::Outbox { outbox, _dir: dir },
    }
}

async fn cloud() -> Fixture {
    let client = emma::adapters::aws::sesv2_client(&emma_tests::aws::config().await);
    Fixture {
        mailer: Arc::new(SesMailer::new(client, None)),
        sent: Sent::Moto,
    }
}

fn tenant() -> TenantId {
    TenantId::parse("spk-muensterland").expect("a valid tenant id")
}

/// A domain no other test (nor run) registers: moto's identities are shared.
fn fresh_domain() -> String {
    format!("{}.example", emma_tests::aws::unique_name("spk"))
}

fn address(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).expect("a valid address")
}

const RECIPIENT: &str = "joerg.mueller@example.org";

/// A multipart/alternative UTF-8 message as the renderer would produce it,
/// with a Message-ID that carries `marker`.
fn newsletter(from: &str, marker: &str) -> Vec<u8> {
    let boundary = format!("=_emma_{marker}");
    let lines = [
        format!("From: =?UTF-8?Q?Sparkasse_M=C3=BCnsterland?= <{from}>"),
        format!("To: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <{RECIPIENT}>"),
        "Subject: =?UTF-8?Q?Ihre_Zinsen_f=C3=BCr_M=C3=A4rz?=".to_owned(),
        "Date: Fri, 27 Nov 2026 14:30:00 +0100".to_owned(),
        format!("Message-ID: <{marker}@emma.test>"),
        "MIME-Version: 1.0".to_owned(),
        format!("Content-Type: multipart/alternative; boundary=\"{boundary}\""),
        String::new(),
        format!("--{boundary}"),
        "Content-Type: text/plain; charset=utf-8".to_owned(),
        "Content-Transfer-Encoding: quoted-printable".to_owned(),
        String::new(),
        "Guten Tag Herr M=C3=BCller,".to_owned(),
        String::new(),
        "Ihre Zinsen f=C3=BCr M=C3=A4rz sind gutgeschrieben.".to_owned(),
        format!("--{boundary}"),
        "Content-Type: text/html; charset=utf-8".to_owned(),
        "Content-Transfer-Encoding: quoted-printable".to_owned(),
        String::new(),
        "<p>Guten Tag Herr M=C3=BCller,</p><p>Ihre Zinsen f=C3=BCr M=C3=A4rz sind gut=".to_owned(),
        "geschrieben.</p>".to_owned(),
        format!("--{boundary}--"),
        String::new(),
    ];
    lines.join("\r\n").into_bytes()
}

fn marker() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn mail(from: &str, raw: Vec<u8>, tags: &[(&str, &str)]) -> OutgoingMail {
    OutgoingMail {
        tenant: tenant(),
        from: address(from),
        recipients: vec![address(RECIPIENT)],
        raw,
        tags: tags
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

async fn a_message_from_a_registered_address_is_accepted_exactly_as_given(fx: Fixture) {
    let from = format!("newsletter@{}", fresh_domain());
    fx.mailer.register_identity(&from).await.unwrap();
    let marker = marker();
    let raw = newsletter(&from, &marker);
    let sent = fx
        .mailer
        .send(&mail(
            &from,
            raw.clone(),
            &[("tenant", "spk-muensterland"), ("campaign", "c_2026-03")],
        ))
        .await
        .expect("a registered sender is accepted");
    assert!(!sent.provider_message_id.is_empty());

    let accepted = fx.sent.by_id(&tenant(), &sent.provider_message_id).await;
    assert_eq!(accepted.raw, raw, "the raw MIME arrives byte for byte");
    assert_eq!(accepted.from, from);
    assert!(
        accepted.recipients.iter().any(|r| r == RECIPIENT),
        "{:?}",
        accepted.recipients
    );

    let parsed = mail_parser::MessageParser::default()
        .parse(&accepted.raw)
        .expect("a parsable message");
    let sender = parsed.from().and_then(|a| a.first()).expect("a From");
    assert_eq!(sender.address(), Some(from.as_str()));
    assert_eq!(sender.name(), Some("Sparkasse Münsterland"));
    let to = parsed.to().and_then(|a| a.first()).expect("a To");
    assert_eq!(to.address(), Some(RECIPIENT));
    assert_eq!(to.name(), Some("Jörg Müller"));
    assert_eq!(parsed.subject(), Some("Ihre Zinsen für März"));
    assert_eq!(
        parsed.message_id(),
        Some(format!("{marker}@emma.test").as_str())
    );
    let text = parsed.body_text(0).expect("a text part");
    assert!(text.starts_with("Guten Tag Herr Müller,"), "{text:?}");
    assert!(
        text.contains("Ihre Zinsen für März sind gutgeschrieben."),
        "{text:?}"
    );
    let html = parsed.body_html(0).expect("an HTML part");
    assert!(
        html.contains("<p>Ihre Zinsen für März sind gutgeschrieben.</p>"),
        "{html:?}"
    );
}

async fn a_sender_whose_domain_is_registered_is_accepted(fx: Fixture) {
    let domain = fresh_domain();
    fx.mailer.register_identity(&domain).await.unwrap();
    for local_part in ["newsletter", "info"] {
        let from = format!("{local_part}@{domain}");
        let marker = marker();
        let sent = fx
            .mailer
            .send(&mail(&from, newsletter(&from, &marker), &[]))
            .await
            .expect("a sender in a registered domain is accepted");
        let accepted = fx.sent.by_id(&tenant(), &sent.provider_message_id).await;
        assert!(String::from_utf8_lossy(&accepted.raw).contains(&marker));
    }
}

async fn registering_an_identity_again_is_fine(fx: Fixture) {
    let domain = fresh_domain();
    fx.mailer.register_identity(&domain).await.unwrap();
    fx.mailer.register_identity(&domain).await.unwrap();
    let from = format!("info@{domain}");
    fx.mailer
        .send(&mail(&from, newsletter(&from, &marker()), &[]))
        .await
        .expect("the domain is still registered");
}

async fn an_unregistered_sender_is_refused_as_not_verified(fx: Fixture) {
    let domain = fresh_domain();
    // Another address in the same domain does not cover the sender.
    fx.mailer
        .register_identity(&format!("service@{domain}"))
        .await
        .unwrap();
    for from in [
        format!("newsletter@{domain}"),
        format!("newsletter@{}", fresh_domain()),
    ] {
        let marker = marker();
        let refused = fx
            .mailer
            .send(&mail(&from, newsletter(&from, &marker), &[]))
            .await;
        assert!(
            matches!(refused, Err(MailError::SenderNotVerified(_))),
            "{refused:?}"
        );
        assert!(!fx.sent.any_containing(&tenant(), &marker).await);
    }
}

async fn a_tag_with_invalid_characters_is_refused_before_sending(fx: Fixture) {
    let from = format!("newsletter@{}", fresh_domain());
    fx.mailer.register_identity(&from).await.unwrap();
    let bad_tags = [
        ("campaign", "März 2026"),
        ("campaign id", "c-1"),
        ("campaign", ""),
        ("recipient", "joerg.mueller@example.org"),
    ];
    for (name, value) in bad_tags {
        assert!(!(valid_tag_part(name) && valid_tag_part(value)));
        let marker = marker();
        let refused = fx
            .mailer
            .send(&mail(
                &from,
                newsletter(&from, &marker),
                &[("tenant", "spk-1"), (name, value)],
            ))
            .await;
        assert!(
            matches!(refused, Err(MailError::Rejected(_))),
            "{refused:?}"
        );
        assert!(!refused.unwrap_err().is_retryable());
        assert!(!fx.sent.any_containing(&tenant(), &marker).await);
    }
}

emma_tests::on_both!(
    local: super::local().await,
    cloud: super::cloud().await;
    a_message_from_a_registered_address_is_accepted_exactly_as_given,
    a_sender_whose_domain_is_registered_is_accepted,
    registering_an_identity_again_is_fine,
    an_unregistered_sender_is_refused_as_not_verified,
    a_tag_with_invalid_characters_is_refused_before_sending,
);

/// What only the outbox can show: where each message and its envelope land.
mod local_outbox {
    use super::*;

    #[tokio::test]
    async fn each_message_is_an_eml_file_with_its_envelope_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().to_owned());
        let domain = fresh_domain();
        outbox.register_identity(&domain).await.unwrap();
        let from = format!("newsletter@{domain}");
        let raw = newsletter(&from, &marker());
        let sent = outbox
            .send(&mail(&from, raw.clone(), &[("campaign", "c-1")]))
            .await
            .unwrap();

        let entries = outbox.sent(&tenant()).await.unwrap();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry.provider_message_id, sent.provider_message_id);
        assert_eq!(entry.tags, vec![("campaign".to_owned(), "c-1".to_owned())]);
        assert_eq!(entry.recipients, vec![address(RECIPIENT)]);
        assert_eq!(
            entry.path.parent(),
            Some(dir.path().join("spk-muensterland").as_path())
        );
        let name = entry.path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.ends_with(&format!("-{}.eml", sent.provider_message_id)),
            "{name}"
        );
        assert_eq!(std::fs::read(&entry.path).unwrap(), raw);
        let envelopes = std::fs::read_to_string(
            dir.path()
                .join("spk-muensterland")
                .join(emma::adapters::outbox::ENVELOPES_FILE),
        )
        .unwrap();
        let envelope: serde_json::Value =
            serde_json::from_str(envelopes.lines().next().unwrap()).unwrap();
        assert_eq!(envelope["message_id"], sent.provider_message_id.as_str());
        assert_eq!(envelope["from"], from.as_str());

        let registered: Vec<String> =
            serde_json::from_slice(&std::fs::read(dir.path().join("identities.json")).unwrap())
                .unwrap();
        assert_eq!(registered, vec![domain]);
        let other_tenant = TenantId::parse("spk-other").unwrap();
        assert!(outbox.sent(&other_tenant).await.unwrap().is_empty());
    }
}
