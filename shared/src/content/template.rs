//! Newsletter templates: MJML (compiled to HTML once, by mrml) or HTML,
//! a plain-text part (written, or derived from the HTML), and a subject,
//! all three personalised by a sandboxed minijinja environment.
//!
//! The sandbox: no loader (no `include`, `import` or `extends` can reach
//! anything), no functions or filters beyond minijinja's own, a fuel limit
//! that ends endless loops, and lenient undefined values: a missing field
//! prints as nothing, and `default("…")` fills it. The HTML part escapes
//! every value it prints; the text part and the subject do not (they are
//! not HTML), and the subject is later refused if it holds a line break.
//!
//! Merge fields go through minijinja on the MJML source itself, so a
//! syntax error is reported at the line and column the editor wrote it.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

/// Instructions a single rendering may spend (loops, calls, prints): far
/// beyond any newsletter, far below a hang.
const FUEL: u64 = 200_000;

/// What a template's body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// MJML: responsive e-mail markup, compiled to HTML.
    Mjml,
    /// HTML as it is.
    Html,
}

/// A template as the editor writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSource {
    pub kind: TemplateKind,
    pub subject: String,
    pub body: String,
    /// The plain-text part; derived from the HTML when not written.
    pub text: Option<String>,
}

/// Which part of a template a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePart {
    Subject,
    Body,
    Text,
}

impl TemplatePart {
    /// The field of the API that holds the part (and the name of its
    /// template in the environment).
    pub fn field(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Body => "body",
            Self::Text => "text",
        }
    }
}

/// A template that does not compile, with where (1-based line and column,
/// counted in characters) when the compiler says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", part.field(), position(*line, *column))]
pub struct TemplateError {
    pub part: TemplatePart,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
        (Some(line), None) => format!(" (line {line})"),
        _ => String::new(),
    }
}

/// A rendering that failed (a runaway loop, a value of the wrong kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", part.field())]
pub struct RenderError {
    pub part: TemplatePart,
    pub message: String,
}

/// One message's worth of content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A template ready to render: compiled once, rendered per recipient.
pub struct Compiled {
    env: Environment<'static>,
    /// The HTML the body compiles to, merge fields still in it.
    html: String,
    /// The text part as written or derived, merge fields still in it.
    text: String,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").finish_non_exhaustive()
    }
}

/// Compiles a template: checks the merge-field syntax of every part,
/// compiles MJML to HTML, and derives the text part when none is written.
pub fn compile(source: &TemplateSource) -> Result<Compiled, TemplateError> {
    let mut env = sandbox();
    // The syntax as written, so that positions are the editor's.
    check(&env, TemplatePart::Subject, &source.subject)?;
    check(&env, TemplatePart::Body, &source.body)?;
    if let Some(text) = &source.text {
        check(&env, TemplatePart::Text, text)?;
    }
    let html = match source.kind {
        TemplateKind::Html => source.body.clone(),
        TemplateKind::Mjml => mjml_to_html(&source.body)?,
    };
    add(&mut env, TemplatePart::Subject, source.subject.clone())?;
    add(&mut env, TemplatePart::Body, html.clone())?;
    let text = match &source.text {
        Some(text) => {
            add(&mut env, TemplatePart::Text, text.clone())?;
            text.clone()
        }
        None => {
            // A tag the conversion had to drop (one inside an image's alt
            // text, say) can leave the derived text unbalanced: then the
            // editor is asked to write the text part.
            let derived = |message: String| TemplateError {
                part: TemplatePart::Text,
                line: None,
                column: None,
                message: format!(
                    "the text part derived from the HTML does not work ({message}); \
                     please write the text part"
                ),
            };
            let text = super::text::from_html(&html).map_err(derived)?;
            env.add_template_owned(TemplatePart::Text.field(), text.clone())
                .map_err(|e| derived(e.to_string()))?;
            text
        }
    };
    Ok(Compiled { env, html, text })
}

impl Compiled {
    /// The HTML the body compiles to, merge fields still in it.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The merge fields the template reads (`contact.first_name`, …), each
    /// once, in order.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = [
            TemplatePart::Subject,
            TemplatePart::Body,
            TemplatePart::Text,
        ]
        .into_iter()
        .filter_map(|part| self.env.get_template(part.field()).ok())
        .flat_map(|template| template.undeclared_variables(true))
        .collect();
        fields.sort();
        fields.dedup();
        fields
    }

    /// The merge fields one part reads, each once, in order.
    pub fn fields_of(&self, part: TemplatePart) -> Vec<String> {
        let mut fields: Vec<String> = self
            .env
            .get_template(part.field())
            .map(|template| template.undeclared_variables(true).into_iter().collect())
            .unwrap_or_default();
        fields.sort();
        fields
    }

    /// Whether a part reads the variable `name` (or a field of it).
    pub fn reads(&self, part: TemplatePart, name: &str) -> bool {
        self.env
            .get_template(part.field())
            .is_ok_and(|template| template.undeclared_variables(false).contains(name))
    }

    /// The text part as written or derived, merge fields still in it.
    pub fn text_source(&self) -> &str {
        &self.text
    }

    /// Renders all three parts for one recipient.
    pub fn render(&self, context: &Value) -> Result<Rendered, RenderError> {
        Ok(Rendered {
            subject: self.render_part(TemplatePart::Subject, context)?,
            html: self.render_part(TemplatePart::Body, context)?,
            text: self.render_part(TemplatePart::Text, context)?,
        })
    }

    fn render_part(&self, part: TemplatePart, context: &Value) -> Result<String, RenderError> {
        let failed = |e: minijinja::Error| RenderError {
            part,
            message: e.to_string(),
        };
        self.env
            .get_template(part.field())
            .map_err(failed)?
            .render(context)
            .map_err(failed)
    }

    /// One part's compiled template, for the campaign's message builder,
    /// which writes the output straight into MIME (`content::message`).
    pub(crate) fn template(
        &self,
        part: TemplatePart,
    ) -> Result<minijinja::Template<'_, '_>, RenderError> {
        self.env
            .get_template(part.field())
            .map_err(|e| RenderError {
                part,
                message: e.to_string(),
            })
    }
}

/// The environment every template renders in (see the module's text).
fn sandbox() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    // A field that is empty prints as nothing, never as "none"; the HTML
    // part escapes what could open markup or leave an attribute, and
    // leaves the rest (a `/` in a link) as it is.
    env.set_formatter(|out, state, value| {
        if value.is_none() || value.is_undefined() {
            return Ok(());
        }
        if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
            out.write_str(&crate::mime::escape_html(&value.to_string()))?;
            return Ok(());
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.set_auto_escape_callback(|name| {
        if name == TemplatePart::Body.field() {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

fn check(
    env: &Environment<'static>,
    part: TemplatePart,
    source: &str,
) -> Result<(), TemplateError> {
    env.template_from_str(source)
        .map(drop)
        .map_err(|e| syntax_error(part, source, &e))
}

fn add(
    env: &mut Environment<'static>,
    part: TemplatePart,
    source: String,
) -> Result<(), TemplateError> {
    env.add_template_owned(part.field(), source.clone())
        .map_err(|e| syntax_error(part, &source, &e))
}

fn syntax_error(part: TemplatePart, source: &str, e: &minijinja::Error) -> TemplateError {
    let (line, column) = match e.range() {
        Some(range) => {
            let (line, column) = line_and_column(source, range.start);
            (Some(line), Some(column))
        }
        None => (e.line(), None),
    };
    TemplateError {
        part,
        line,
        column,
        message: e.detail().unwrap_or("syntax error").to_owned(),
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..source.floor_char_boundary(offset.min(source.len()))];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// MJML to HTML, without comments; a parse error says where.
fn mjml_to_html(source: &str) -> Result<String, TemplateError> {
    let failed = |message: String, offset: Option<usize>| {
        let (line, column) = match offset {
            Some(offset) => {
                let (line, column) = line_and_column(source, offset);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        TemplateError {
            part: TemplatePart::Body,
            line,
            column,
            message,
        }
    };
    let parsed =
        mrml::parse(source).map_err(|e| failed(e.to_string(), mjml_offset(&e, source.len())))?;
    // No web fonts: a mail that loads fonts from a third party tells it
    // who opened the mail.
    let options = mrml::prelude::render::RenderOptions {
        disable_comments: true,
        fonts: Default::default(),
        ..Default::default()
    };
    parsed
        .element
        .render(&options)
        .map_err(|e| failed(e.to_string(), None))
}

/// Where in the MJML source mrml found the problem, when it says.
fn mjml_offset(e: &mrml::prelude::parser::Error, source_len: usize) -> Option<usize> {
    use mrml::prelude::parser::Error;
    match e {
        Error::UnexpectedElement { position, .. }
        | Error::UnexpectedToken { position, .. }
        | Error::MissingAttribute { position, .. }
        | Error::InvalidAttribute { position, .. }
        | Error::InvalidFormat { position, .. }
        | Error::IncludeLoaderError { position, .. } => Some(position.start),
        // The source ended where an element was still open.
        Error::EndOfStream { .. } => Some(source_len),
        _ => None,
    }
}

/// The template with a campaign's preheader: the preview text mail
/// programs show after the subject. MJML gets it as its `mj-preview` (in
/// place of one the template has); HTML as a hidden block at the start of
/// the body. The text is escaped as HTML; merge fields in it still work.
pub fn with_preheader(source: &TemplateSource, preheader: &str) -> TemplateSource {
    // Markup characters escaped, quotes kept: a merge field's quoted
    // argument (`default("Kunde")`) must stay as written.
    let text = preheader
        .trim()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let mut result = source.clone();
    if text.is_empty() {
        return result;
    }
    let body = &source.body;
    result.body = match source.kind {
        TemplateKind::Mjml => {
            let preview = format!("<mj-preview>{text}</mj-preview>");
            if let (Some(start), Some(end)) = (body.find("<mj-preview"), body.find("</mj-preview>"))
                && start < end
            {
                format!(
                    "{}{preview}{}",
                    &body[..start],
                    &body[end + "</mj-preview>".len()..]
                )
            } else if let Some(head) = body.find("<mj-head>") {
                let at = head + "<mj-head>".len();
                format!("{}{preview}{}", &body[..at], &body[at..])
            } else if let Some(at) = tag_end(body, "<mjml") {
                format!("{}<mj-head>{preview}</mj-head>{}", &body[..at], &body[at..])
            } else {
                body.clone()
            }
        }
        TemplateKind::Html => {
            let hidden = format!(
                "<div style=\"display:none;max-height:0;max-width:0;overflow:hidden;\
                 opacity:0;font-size:1px;line-height:1px;mso-hide:all\">{text}</div>"
            );
            match tag_end(body, "<body") {
                Some(at) => format!("{}{hidden}{}", &body[..at], &body[at..]),
                None => format!("{hidden}{body}"),
            }
        }
    };
    result
}

/// Where the opening tag that starts with `open` ends (after its `>`).
fn tag_end(body: &str, open: &str) -> Option<usize> {
    let start = body.find(open)?;
    body[start..].find('>').map(|end| start + end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWSLETTER: &str = r#"<mjml>
  <mj-head><mj-title>Neuigkeiten</mj-title></mj-head>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Guten Tag {{ contact.first_name | default("liebe Kundin, lieber Kunde") }},</mj-text>
        <mj-text>{% if contact.attributes.kundennummer %}Ihre Nummer: {{ contact.attributes.kundennummer }}{% endif %}</mj-text>
        <mj-button href="https://sparkasse.example/aktion">Zur Aktion</mj-button>
        <mj-text><a href="{{ unsubscribe_url }}">Abmelden</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"#;

    fn mjml(subject: &str, body: &str) -> TemplateSource {
        TemplateSource {
            kind: TemplateKind::Mjml,
            subject: subject.to_owned(),
            body: body.to_owned(),
            text: None,
        }
    }

    /// A recipient as the sender describes one: a field it does not
    /// know is left out.
    fn context(first_name: Option<&str>) -> Value {
        let mut contact = serde_json::json!({ "attributes": { "kundennummer": "4711" } });
        if let Some(name) = first_name {
            contact["first_name"] = name.into();
        }
        Value::from(minijinja::value::Serde(serde_json::json!({
            "contact": contact,
            "unsubscribe_url": "https://emma.example/abmelden/t0k3n",
        })))
    }

    #[test]
    fn mjml_compiles_to_responsive_html_and_renders_per_recipient() {
        let compiled = compile(&mjml("Hallo {{ contact.first_name }}", NEWSLETTER)).unwrap();
        assert!(compiled.html().contains("@media"), "responsive rules");
        let mail = compiled.render(&context(Some("Jürgen"))).unwrap();
        assert_eq!(mail.subject, "Hallo Jürgen");
        assert!(mail.html.contains("Guten Tag Jürgen,"), "{}", mail.html);
        assert!(mail.html.contains("Ihre Nummer: 4711"));
        assert!(mail.html.contains("https://emma.example/abmelden/t0k3n"));
        assert!(mail.text.contains("Guten Tag Jürgen,"), "{}", mail.text);
        assert!(mail.text.contains("https://emma.example/abmelden/t0k3n"));
        assert!(!mail.text.contains("<mj-"), "{}", mail.text);
    }

    #[test]
    fn a_missing_field_prints_nothing_or_its_default_and_never_fails() {
        let compiled = compile(&mjml(
            "Hallo {{ contact.first_name }}{{ contact.nickname.first }}!",
            NEWSLETTER,
        ))
        .unwrap();
        let mail = compiled.render(&context(None)).unwrap();
        assert_eq!(mail.subject, "Hallo !");
        assert!(mail.html.contains("Guten Tag liebe Kundin, lieber Kunde,"));
    }

    #[test]
    fn values_are_escaped_in_the_html_part_only() {
        let compiled = compile(&mjml("Für {{ contact.first_name }}", NEWSLETTER)).unwrap();
        let mail = compiled
            .render(&context(Some("<script>alert(1)</script> & Co")))
            .unwrap();
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co")
        );
        assert_eq!(mail.subject, "Für <script>alert(1)</script> & Co");
    }

    #[test]
    fn a_written_text_part_is_used_as_written() {
        let mut source = mjml("Betreff", NEWSLETTER);
        source.text = Some("Hallo {{ contact.first_name }}, nur Text.".into());
        let mail = compile(&source)
            .unwrap()
            .render(&context(Some("Anna")))
            .unwrap();
        assert_eq!(mail.text, "Hallo Anna, nur Text.");
    }

    #[test]
    fn a_merge_field_syntax_error_names_the_part_line_and_column_as_written() {
        let body = NEWSLETTER.replace(
            "Guten Tag {{ contact.first_name",
            "Guten Tag {{ contact.first_name }",
        );
        let error = compile(&mjml("Betreff", &body)).unwrap_err();
        assert_eq!(error.part, TemplatePart::Body);
        assert_eq!(error.line, Some(6), "{error}");
        assert!(error.column.is_some(), "{error}");
        assert!(
            error.to_string().starts_with("body (line 6, column "),
            "{error}"
        );

        let error = compile(&mjml("Hallo {% if %}", NEWSLETTER)).unwrap_err();
        assert_eq!(error.part, TemplatePart::Subject);
        assert_eq!(error.line, Some(1));
    }

    #[test]
    fn broken_mjml_is_refused_with_its_position() {
        let body = "<mjml>\n  <mj-body>\n    <mj-section>\n  </mj-body>\n</mjml>";
        let error = compile(&mjml("Betreff", body)).unwrap_err();
        assert_eq!(error.part, TemplatePart::Body);
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn a_runaway_loop_ends_with_an_error() {
        let source = TemplateSource {
            kind: TemplateKind::Html,
            subject: "Betreff".into(),
            body:
                "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
                    .into(),
            text: Some("Text".into()),
        };
        let error = compile(&source)
            .unwrap()
            .render(&context(None))
            .unwrap_err();
        assert_eq!(error.part, TemplatePart::Body);
    }

    #[test]
    fn the_fields_a_template_reads_are_listed_once() {
        let compiled = compile(&mjml("Hallo {{ contact.first_name }}", NEWSLETTER)).unwrap();
        let fields = compiled.fields();
        for field in [
            "contact.first_name",
            "contact.attributes.kundennummer",
            "unsubscribe_url",
        ] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        let mut sorted = fields.clone();
        sorted.dedup();
        assert_eq!(sorted, fields);
    }

    #[test]
    fn lines_and_columns_count_characters() {
        assert_eq!(line_and_column("ab\nüöx", 7), (2, 3));
        assert_eq!(line_and_column("abc", 0), (1, 1));
        assert_eq!(line_and_column("abc", 99), (1, 4));
    }

    #[test]
    fn a_preheader_becomes_the_mjml_preview_or_a_hidden_block_of_the_html() {
        let mjml = TemplateSource {
            kind: TemplateKind::Mjml,
            subject: "s".into(),
            body: "<mjml><mj-body><mj-section><mj-column><mj-text>Hallo</mj-text>\
                   </mj-column></mj-section></mj-body></mjml>"
                .into(),
            text: Some("t".into()),
        };
        let with = with_preheader(
            &mjml,
            "Zinsen & mehr für {{ contact.first_name | default(\"Sie\") }}",
        );
        let html = compile(&with)
            .unwrap()
            .render(&context(Some("Jana")))
            .unwrap()
            .html;
        assert!(html.contains("Zinsen &amp; mehr für Jana"), "{html}");
        // A template's own preview is replaced, not doubled.
        let own = TemplateSource {
            body: mjml.body.replace(
                "<mjml>",
                "<mjml><mj-head><mj-preview>Alt</mj-preview></mj-head>",
            ),
            ..mjml.clone()
        };
        let replaced = with_preheader(&own, "Neu");
        assert!(replaced.body.contains("<mj-preview>Neu</mj-preview>"));
        assert!(!replaced.body.contains("Alt"));

        let page = TemplateSource {
            kind: TemplateKind::Html,
            body: "<html><body class=\"x\"><p>Hallo</p></body></html>".into(),
            ..mjml
        };
        let hidden = with_preheader(&page, "<b>Vorschau</b>");
        assert!(
            hidden
                .body
                .starts_with("<html><body class=\"x\"><div style=\"display:none")
        );
        assert!(
            hidden.body.contains("&lt;b&gt;Vorschau&lt;/b&gt;"),
            "escaped"
        );
        assert_eq!(
            with_preheader(&page, "  ").body,
            page.body,
            "none: unchanged"
        );
    }
}
