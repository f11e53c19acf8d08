//! Content checks before a mailing may be scheduled: what would make it
//! unlawful or broken blocks it (an error), what would make it worse is
//! shown (a warning).
//!
//! Errors: no unsubscribe link in the HTML, a merge field EMMA does not
//! fill, a link that is neither http(s) nor mailto, an empty subject or
//! text part. Warnings: HTML over 100 KB (Gmail clips the rest, and the
//! unsubscribe link with it), a text part derived rather than written, a
//! text part without the unsubscribe link, images without alt text or not
//! served over https, a very long subject.
//!
//! The HTML is read with html5ever's tokenizer (the same parser a browser
//! specification describes), with the merge-field tags still in it.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use serde::Serialize;

use super::context;
use super::template::{Compiled, TemplatePart, TemplateSource};

/// Gmail shows "[Message clipped]" beyond this many bytes of HTML.
pub const MAX_HTML_BYTES: usize = 100 * 1024;

/// Subjects beyond this many characters are cut off by most clients.
const LONG_SUBJECT_CHARS: usize = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks scheduling.
    Error,
    /// Shown; scheduling may go on.
    Warning,
}

/// One thing the checks found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name, e.g. `unsubscribe_missing`, `unknown_field`.
    pub code: &'static str,
    pub part: TemplatePart,
    /// What it is about: the field, the link, the image; empty when the
    /// code says it all.
    pub subject: String,
}

impl Finding {
    fn error(code: &'static str, part: TemplatePart, subject: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            part,
            subject: subject.into(),
        }
    }

    fn warning(code: &'static str, part: TemplatePart, subject: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            part,
            subject: subject.into(),
        }
    }
}

/// Whether any finding blocks scheduling.
pub fn blocks(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Checks a compiled template; `attributes` are the names of the tenant's
/// custom fields.
pub fn check(source: &TemplateSource, compiled: &Compiled, attributes: &[&str]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let subject = source.subject.trim();
    if subject.is_empty() {
        findings.push(Finding::error("subject_empty", TemplatePart::Subject, ""));
    } else if subject.chars().count() > LONG_SUBJECT_CHARS {
        findings.push(Finding::warning("subject_long", TemplatePart::Subject, ""));
    }
    for part in [
        TemplatePart::Subject,
        TemplatePart::Body,
        TemplatePart::Text,
    ] {
        for field in compiled.fields_of(part) {
            if !context::is_known(&field, attributes) {
                findings.push(Finding::error("unknown_field", part, field));
            }
        }
    }
    if !compiled.reads(TemplatePart::Body, "unsubscribe_url") {
        findings.push(Finding::error(
            "unsubscribe_missing",
            TemplatePart::Body,
            "",
        ));
    }
    if source.text.is_none() {
        findings.push(Finding::warning("text_derived", TemplatePart::Text, ""));
    }
    if compiled.text_source().trim().is_empty() {
        findings.push(Finding::error("text_empty", TemplatePart::Text, ""));
    } else if !compiled.reads(TemplatePart::Text, "unsubscribe_url") {
        findings.push(Finding::warning(
            "text_unsubscribe_missing",
            TemplatePart::Text,
            "",
        ));
    }
    let html = compiled.html();
    if html.len() > MAX_HTML_BYTES {
        findings.push(Finding::warning(
            "html_too_large",
            TemplatePart::Body,
            format!("{} KB", html.len().div_ceil(1024)),
        ));
    }
    findings.extend(markup(html));
    findings
}

/// What the tokenizer reports of the HTML: links and images.
#[derive(Default)]
struct Markup {
    findings: RefCell<Vec<Finding>>,
}

impl TokenSink for Markup {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let mut findings = self.findings.borrow_mut();
        match &*tag.name {
            "a" | "area" => {
                if let Some(href) = attr("href")
                    && let Some(finding) = link(&href)
                {
                    findings.push(finding);
                }
            }
            "img" => {
                let src = attr("src").unwrap_or_default();
                if attr("alt").is_none_or(|alt| alt.trim().is_empty()) {
                    findings.push(Finding::warning(
                        "image_alt_missing",
                        TemplatePart::Body,
                        src.clone(),
                    ));
                }
                let src = src.trim();
                if !src.starts_with("https://") && !src.starts_with("{{") {
                    findings.push(Finding::warning("image_not_https", TemplatePart::Body, src));
                }
            }
            // Their content is not markup: read it as text.
            "style" | "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rawtext),
            "script" => {
                findings.push(Finding::error("script", TemplatePart::Body, ""));
                return TokenSinkResult::RawData(RawKind::ScriptData);
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// A finding for a link that no mail client can follow safely, if it is
/// one. A link written as a merge field (`{{ unsubscribe_url }}`) is
/// EMMA's own; an anchor within the mail is allowed but warned of.
fn link(href: &str) -> Option<Finding> {
    let href = href.trim();
    if href.starts_with("{{") {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
    {
        return None;
    }
    if lower.starts_with('#') {
        return Some(Finding::warning("link_anchor", TemplatePart::Body, href));
    }
    Some(Finding::error("link_scheme", TemplatePart::Body, href))
}

/// What only the rendered message shows: links that merge fields made
/// (`href="{{ x }}javascript:…"`), and an unsubscribe link that is read
/// but never printed (`{% if false %}`). Findings already in `found` are
/// not repeated.
pub fn rendered(html: &str, unsubscribe_url: &str, found: &mut Vec<Finding>) {
    let mut more: Vec<Finding> = markup(html)
        .into_iter()
        .filter(|f| matches!(f.code, "link_scheme" | "script"))
        .collect();
    if !unsubscribe_url.is_empty() && !html.contains(unsubscribe_url) {
        more.push(Finding::error(
            "unsubscribe_missing",
            TemplatePart::Body,
            "",
        ));
    }
    for finding in more {
        if !found
            .iter()
            .any(|f| f.code == finding.code && f.subject == finding.subject)
        {
            found.push(finding);
        }
    }
}

fn markup(html: &str) -> Vec<Finding> {
    let tokenizer = Tokenizer::new(Markup::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.findings.take()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::template::{TemplateKind, compile};

    fn findings(body: &str, text: Option<&str>) -> Vec<Finding> {
        let source = TemplateSource {
            kind: TemplateKind::Html,
            subject: "Ihr Newsletter, {{ contact.first_name }}".into(),
            body: body.into(),
            text: text.map(str::to_owned),
        };
        let compiled = compile(&source).unwrap();
        check(&source, &compiled, &["kundennummer"])
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code).collect()
    }

    const GOOD: &str = r#"<p>{{ contact.greeting }},</p>
        <a href="https://sparkasse.example/zinsen">Zinsen</a>
        <img src="https://cdn.example/logo.png" alt="Logo">
        <a href="mailto:service@sparkasse.example">Service</a>
        <a href="{{ unsubscribe_url }}">Abmelden</a>"#;

    #[test]
    fn a_complete_newsletter_passes_without_findings() {
        let found = findings(GOOD, Some("Hallo\nAbmelden: {{ unsubscribe_url }}"));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_missing_unsubscribe_link_blocks() {
        let found = findings(
            r#"<a href="https://sparkasse.example">x</a>"#,
            Some("{{ unsubscribe_url }}"),
        );
        assert_eq!(codes(&found), ["unsubscribe_missing"]);
        assert!(blocks(&found));
    }

    #[test]
    fn an_unknown_merge_field_blocks_and_names_the_field() {
        let body =
            format!("{GOOD} {{{{ contact.vorname }}}} {{{{ contact.attributes.kundennummer }}}}");
        let found = findings(&body, Some("{{ unsubscribe_url }} {{ kontakt.name }}"));
        assert_eq!(
            found
                .iter()
                .map(|f| (f.code, f.part, f.subject.as_str()))
                .collect::<Vec<_>>(),
            [
                ("unknown_field", TemplatePart::Body, "contact.vorname"),
                ("unknown_field", TemplatePart::Text, "kontakt.name"),
            ]
        );
    }

    #[test]
    fn links_that_are_not_http_or_mailto_block() {
        let body = format!(
            r##"{GOOD}<a href="javascript:alert(1)">x</a><a href="/relativ">y</a>
            <a href="tel:+49301234">z</a><a href="#oben">oben</a>"##
        );
        let found = findings(&body, Some("{{ unsubscribe_url }}"));
        assert_eq!(
            found
                .iter()
                .map(|f| (f.severity, f.code, f.subject.as_str()))
                .collect::<Vec<_>>(),
            [
                (Severity::Error, "link_scheme", "javascript:alert(1)"),
                (Severity::Error, "link_scheme", "/relativ"),
                (Severity::Error, "link_scheme", "tel:+49301234"),
                (Severity::Warning, "link_anchor", "#oben"),
            ]
        );
    }

    #[test]
    fn images_without_alt_text_or_https_are_warned_of() {
        let body = format!(
            r#"{GOOD}<img src="https://cdn.example/a.png"><img src="http://cdn.example/b.png" alt=" ">"#
        );
        let found = findings(&body, Some("{{ unsubscribe_url }}"));
        assert_eq!(
            codes(&found),
            ["image_alt_missing", "image_alt_missing", "image_not_https"]
        );
        assert!(!blocks(&found));
    }

    #[test]
    fn markup_inside_a_style_block_is_not_read_as_tags() {
        let body = format!(r#"<style>/* <a href="javascript:x"> */</style>{GOOD}"#);
        assert!(findings(&body, Some("{{ unsubscribe_url }}")).is_empty());
    }

    #[test]
    fn a_derived_text_part_and_a_large_html_are_warned_of() {
        let padding = format!("<p>{}</p>", "Zinsen ".repeat(16_000));
        let found = findings(&format!("{GOOD}{padding}"), None);
        assert_eq!(codes(&found), ["text_derived", "html_too_large"]);
        assert!(!blocks(&found));
    }

    #[test]
    fn an_empty_subject_or_text_part_blocks() {
        let source = TemplateSource {
            kind: TemplateKind::Html,
            subject: "  ".into(),
            body: GOOD.into(),
            text: Some(" ".into()),
        };
        let compiled = compile(&source).unwrap();
        assert_eq!(
            codes(&check(&source, &compiled, &[])),
            ["subject_empty", "text_empty"]
        );
    }

    #[test]
    fn links_made_by_merge_fields_and_a_hidden_unsubscribe_link_are_found_once_rendered() {
        let body = r#"<a href="{{ '' }}javascript:alert(1)">x</a>
            {% if false %}<a href="{{ unsubscribe_url }}">Abmelden</a>{% endif %}"#;
        let source = TemplateSource {
            kind: TemplateKind::Html,
            subject: "s".into(),
            body: body.into(),
            text: Some("{{ unsubscribe_url }}".into()),
        };
        let compiled = compile(&source).unwrap();
        let mut found = check(&source, &compiled, &[]);
        assert!(!blocks(&found), "the template alone looks fine: {found:?}");
        let url = "https://emma.example/abmelden/t";
        let html = compiled
            .render(&minijinja::context! { unsubscribe_url => url })
            .unwrap()
            .html;
        rendered(&html, url, &mut found);
        assert_eq!(
            codes(&found)
                .into_iter()
                .filter(|c| *c != "text_derived")
                .collect::<Vec<_>>(),
            ["link_scheme", "unsubscribe_missing"]
        );
    }
}
