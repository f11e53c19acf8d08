//! MIME messages, built by mail-builder: multipart/alternative with a text
//! and an HTML part, UTF-8, RFC 2047 encoded headers, a Message-ID on the
//! sender's domain and, when asked, one-click unsubscribe headers
//! (RFC 2369, RFC 8058). Header values with CR or LF are refused, so no
//! input can inject a header.
//!
//! This builds one whole message per call (test mails, opt-in mails); a
//! campaign's many messages go through `content::message`, which encodes
//! the shared parts once.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::text::Text;
use mail_builder::headers::url::URL;

use crate::domain::EmailAddress;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("the header field {0} contains a line break")]
    LineBreakInHeader(&'static str),
    #[error("the header field {0} holds a character it may not")]
    InvalidHeader(&'static str),
    #[error("the message could not be written: {0}")]
    Write(String),
}

/// A message to build: one sender, one recipient, two bodies.
#[derive(Debug, Clone)]
pub struct Message {
    pub from_name: String,
    pub from: EmailAddress,
    pub to_name: Option<String>,
    pub to: EmailAddress,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Further header fields, e.g. ("X-EMMA-Test", "1").
    pub headers: Vec<(&'static str, String)>,
    /// `List-Unsubscribe` and `List-Unsubscribe-Post`, when given.
    pub list_unsubscribe: Option<ListUnsubscribe>,
}

/// The two ways out a mailing names in its header (RFC 2369): the
/// one-click page (RFC 8058: mail clients POST `List-Unsubscribe=One-Click`
/// to it) and a mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUnsubscribe {
    /// `https://…/abmelden/{token}`.
    pub https: String,
    /// `mailto:…?subject=…`.
    pub mailto: String,
}

/// The value of `List-Unsubscribe-Post` (RFC 8058, section 3.1).
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

impl ListUnsubscribe {
    /// The `List-Unsubscribe` header's value, written by mail-builder.
    pub fn header(&self) -> URL<'_> {
        URL::new_list([self.https.as_str(), self.mailto.as_str()].into_iter())
    }

    /// Refuses a URI that would break out of its angle brackets or line.
    pub fn check(&self) -> Result<(), MimeError> {
        for uri in [&self.https, &self.mailto] {
            no_line_break("List-Unsubscribe", uri)?;
            if uri.contains(['<', '>', ' ', ',']) {
                return Err(MimeError::InvalidHeader("List-Unsubscribe"));
            }
        }
        Ok(())
    }
}

/// A built message: its Message-ID (without angle brackets) and its bytes.
#[derive(Debug, Clone)]
pub struct Built {
    pub message_id: String,
    pub raw: Vec<u8>,
}

pub(crate) fn no_line_break(field: &'static str, value: &str) -> Result<(), MimeError> {
    if value.contains(['\r', '\n']) {
        Err(MimeError::LineBreakInHeader(field))
    } else {
        Ok(())
    }
}

/// Builds the message, dated `date` (seconds since the epoch).
pub fn build(message: &Message, date: i64) -> Result<Built, MimeError> {
    no_line_break("From", &message.from_name)?;
    no_line_break("To", message.to_name.as_deref().unwrap_or_default())?;
    no_line_break("Subject", &message.subject)?;
    for (name, value) in &message.headers {
        no_line_break(name, value)?;
    }
    if let Some(list) = &message.list_unsubscribe {
        list.check()?;
    }
    let message_id = format!(
        "{}@{}",
        uuid::Uuid::now_v7().simple(),
        message.from.domain()
    );
    let to = match &message.to_name {
        Some(name) if !name.is_empty() => {
            Address::new_address(Some(name.as_str()), message.to.as_str())
        }
        _ => Address::new_address(None::<&str>, message.to.as_str()),
    };
    let mut builder = MessageBuilder::new()
        .from(Address::new_address(
            Some(message.from_name.as_str()),
            message.from.as_str(),
        ))
        .to(to)
        .subject(message.subject.as_str())
        .message_id(message_id.as_str())
        .date(date)
        .text_body(message.text.as_str())
        .html_body(message.html.as_str());
    for (name, value) in &message.headers {
        builder = builder.header(*name, Text::new(value.as_str()));
    }
    if let Some(list) = &message.list_unsubscribe {
        builder = builder
            .header("List-Unsubscribe", list.header())
            .header("List-Unsubscribe-Post", Text::new(ONE_CLICK));
    }
    let raw = builder
        .write_to_vec()
        .map_err(|e| MimeError::Write(e.to_string()))?;
    Ok(Built { message_id, raw })
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            from_name: "Sparkasse Musterstadt".into(),
            from: EmailAddress::parse("newsletter@sparkasse-musterstadt.de").unwrap(),
            to_name: Some("Jürgen Müller".into()),
            to: EmailAddress::parse("juergen@example.de").unwrap(),
            subject: "Grüße aus der Filiale – Ihr Zinsangebot".into(),
            text: "Hallo Jürgen,\nviele Grüße".into(),
            html: "<p>Hallo J&uuml;rgen,</p>".into(),
            headers: vec![("X-EMMA-Test", "1".into())],
            list_unsubscribe: None,
        }
    }

    #[test]
    fn one_click_unsubscribe_headers_are_written_when_asked() {
        let mut m = message();
        m.list_unsubscribe = Some(ListUnsubscribe {
            https: "https://emma.example/abmelden/dG9rZW4".into(),
            mailto: "mailto:abmelden@emma.example?subject=unsubscribe-dG9rZW4".into(),
        });
        let built = build(&m, 1_795_000_000).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.raw)
            .expect("valid MIME");
        let urls = match parsed.header("List-Unsubscribe") {
            Some(mail_parser::HeaderValue::Address(list)) => list
                .iter()
                .filter_map(|a| a.address().map(str::to_owned))
                .collect::<Vec<_>>(),
            other => panic!("List-Unsubscribe: {other:?}"),
        };
        assert_eq!(
            urls,
            [
                "https://emma.example/abmelden/dG9rZW4",
                "mailto:abmelden@emma.example?subject=unsubscribe-dG9rZW4"
            ]
        );
        assert_eq!(
            parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some(ONE_CLICK)
        );
        assert!(
            build(&message(), 0)
                .unwrap()
                .raw
                .windows(16)
                .all(|w| w != b"List-Unsubscribe")
        );
    }

    #[test]
    fn an_unsubscribe_uri_that_could_leave_its_brackets_is_refused() {
        let mut m = message();
        m.list_unsubscribe = Some(ListUnsubscribe {
            https: "https://emma.example/a>, <https://evil.example/".into(),
            mailto: "mailto:abmelden@emma.example".into(),
        });
        assert_eq!(
            build(&m, 0).unwrap_err(),
            MimeError::InvalidHeader("List-Unsubscribe")
        );
    }

    #[test]
    fn a_message_parses_back_with_both_parts_and_encoded_headers() {
        let built = build(&message(), 1_795_000_000).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.raw)
            .expect("valid MIME");
        assert_eq!(
            parsed.subject(),
            Some("Grüße aus der Filiale – Ihr Zinsangebot")
        );
        assert_eq!(
            parsed.from().unwrap().first().unwrap().address(),
            Some("newsletter@sparkasse-musterstadt.de")
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().name(),
            Some("Jürgen Müller")
        );
        assert_eq!(parsed.message_id(), Some(built.message_id.as_str()));
        assert!(built.message_id.ends_with("@sparkasse-musterstadt.de"));
        // Lines end in CRLF on the wire.
        assert_eq!(
            parsed
                .body_text(0)
                .unwrap()
                .replace("\r\n", "\n")
                .trim_end(),
            "Hallo Jürgen,\nviele Grüße"
        );
        assert!(parsed.body_html(0).unwrap().contains("Hallo J&uuml;rgen"));
        assert_eq!(parsed.header_raw("X-EMMA-Test").map(str::trim), Some("1"));
        let raw = String::from_utf8_lossy(&built.raw);
        assert!(raw.contains("multipart/alternative"));
        assert!(
            !raw.contains("Subject: Grüße"),
            "the subject must be RFC 2047 encoded"
        );
    }

    #[test]
    fn a_line_break_in_any_header_is_refused() {
        let mut m = message();
        m.subject = "Hallo\r\nBcc: victim@example.de".into();
        assert_eq!(
            build(&m, 0).unwrap_err(),
            MimeError::LineBreakInHeader("Subject")
        );
        let mut m = message();
        m.from_name = "Bank\nX: y".into();
        assert_eq!(
            build(&m, 0).unwrap_err(),
            MimeError::LineBreakInHeader("From")
        );
        let mut m = message();
        m.headers = vec![("X-EMMA-Test", "1\r\nBcc: a@b.de".into())];
        assert_eq!(
            build(&m, 0).unwrap_err(),
            MimeError::LineBreakInHeader("X-EMMA-Test")
        );
    }

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
